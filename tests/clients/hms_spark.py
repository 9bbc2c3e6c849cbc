"""A Spark session using tarn as its Hive metastore (pyspark's built-in Hive 2.3 client).
Usage: hms_spark.py HMS_PORT WAREHOUSE
tarn created sales.events (id bigint, note string) partitioned by (dt string) with 3 rows
before this runs. Prints one `key=value` line per observation; the Rust test checks them and
then checks over pg what Spark wrote."""
import os
import shutil
import sys

from pyspark.sql import SparkSession

port, warehouse = sys.argv[1], sys.argv[2]
spark = (
    SparkSession.builder.master("local[1]")
    .appName("tarn-hms")
    .config("spark.sql.catalogImplementation", "hive")
    .config("spark.hadoop.hive.metastore.uris", f"thrift://127.0.0.1:{port}")
    .config("spark.sql.warehouse.dir", warehouse)
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "1")
    .config("spark.driver.memory", "512m")
    .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")


def show(key, value):
    print(f"{key}={value}", flush=True)


show("databases", ",".join(sorted(r[0] for r in spark.sql("SHOW DATABASES").collect())))
show("tables", ",".join(sorted(r.tableName for r in spark.sql("SHOW TABLES IN sales").collect())))
rows = spark.sql("SELECT id, dt FROM sales.events ORDER BY id").collect()
show("read", ";".join(f"{r.id}:{r.dt}" for r in rows))
rows = spark.sql("SELECT id FROM sales.events WHERE dt = '2024-01-02' ORDER BY id").collect()
show("pruned", ",".join(str(r.id) for r in rows))
tarn_stats = [r.data_type for r in spark.sql("DESCRIBE TABLE EXTENDED sales.events").collect() if r.col_name == "Statistics"]
show("tarn_stats", tarn_stats[0] if tarn_stats else "none")
show("partitions", ",".join(r[0] for r in spark.sql("SHOW PARTITIONS sales.events").collect()))

spark.sql(
    "CREATE TABLE sales.by_day USING parquet PARTITIONED BY (dt) AS "
    "SELECT id * 10 AS id, note, dt FROM sales.events"
)
spark.sql("INSERT INTO sales.by_day VALUES (99, 'z', '2024-02-01')")
spark.sql("INSERT OVERWRITE TABLE sales.by_day PARTITION (dt) SELECT 77 AS id, 'o' AS note, '2024-01-01' AS dt")
spark.sql("ALTER TABLE sales.by_day ADD IF NOT EXISTS PARTITION (dt='2030-01-01')")
spark.sql("ANALYZE TABLE sales.by_day COMPUTE STATISTICS")
# Spark stores its statistics in the table's parameters through alter_table and reads them back.
stats = [r.data_type for r in spark.sql("DESCRIBE TABLE EXTENDED sales.by_day").collect() if r.col_name == "Statistics"]
show("stats", stats[0] if stats else "none")
show("spark_by_day", ";".join(f"{r.id}:{r.dt}" for r in spark.sql("SELECT id, dt FROM sales.by_day ORDER BY id").collect()))
spark.sql("CREATE VIEW sales.big AS SELECT id FROM sales.events WHERE id > 1")
show("view", ",".join(str(r.id) for r in spark.sql("SELECT id FROM sales.big ORDER BY id").collect()))
spark.sql("ALTER TABLE sales.by_day DROP PARTITION (dt='2030-01-01')")
# A partition directory another tool wrote, found by MSCK REPAIR (Spark lists, then registers).
location = spark.sql("DESCRIBE TABLE EXTENDED sales.by_day").where("col_name = 'Location'").collect()[0].data_type
source = [f for f in os.listdir(os.path.join(location.removeprefix("file:"), "dt=2024-02-01")) if f.endswith(".parquet")][0]
os.makedirs(os.path.join(location.removeprefix("file:"), "dt=2024-03-01"))
shutil.copy(os.path.join(location.removeprefix("file:"), "dt=2024-02-01", source),
            os.path.join(location.removeprefix("file:"), "dt=2024-03-01", "part-00000-msck.snappy.parquet"))
spark.sql("MSCK REPAIR TABLE sales.by_day")
show("after_msck", ",".join(r[0] for r in spark.sql("SHOW PARTITIONS sales.by_day").collect()))
spark.sql("CREATE TABLE sales.analyzed USING parquet AS SELECT 1 AS x UNION ALL SELECT 2")
spark.sql("ANALYZE TABLE sales.analyzed COMPUTE STATISTICS")
spark.sql("CREATE TABLE sales.tmp (x int) USING parquet")
spark.sql("DROP TABLE sales.tmp")
show("done", "yes")
spark.stop()
