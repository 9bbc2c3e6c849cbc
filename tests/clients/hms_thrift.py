"""Thrift-level checks of tarn's Hive Metastore API with hmsclient (Hive 2.3's generated
Python code, independent of tarn's codec). Usage: hms_thrift.py PORT LAKE_DIR

The server (started by tests/integration/hms.rs) already holds `sales.events`, partitioned by
(dt string, n int), created over pg with partitions (2024-01-01, 1), (2024-01-02, 2) and a
NULL n; the connection acts as a role that may read and create in `sales`.
Every check raises on a mismatch; the last line printed is `ok`.
"""
import os
import sys

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport
from thrift.Thrift import TApplicationException
from hmsclient.genthrift.hive_metastore import ThriftHiveMetastore as H
from hmsclient.genthrift.hive_metastore.ttypes import (
    AddPartitionsRequest, AlreadyExistsException, Database, FieldSchema, InvalidObjectException,
    InvalidOperationException, MetaException, NoSuchObjectException, Partition, SerDeInfo,
    StorageDescriptor, Table, DropPartitionsRequest, RequestPartsSpec, ConfigValSecurityException,
    LockComponent, LockRequest, CheckLockRequest, UnlockRequest, NoSuchLockException,
    ColumnStatistics, ColumnStatisticsDesc, ColumnStatisticsObj, ColumnStatisticsData,
    LongColumnStatsData, StringColumnStatsData, DecimalColumnStatsData, Decimal, DateColumnStatsData,
    Date, BooleanColumnStatsData, TableStatsRequest, PartitionsStatsRequest, SetPartitionsStatsRequest,
)

port, lake = int(sys.argv[1]), sys.argv[2]


def connect(framed=False):
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(30000)
    trans = TTransport.TFramedTransport(sock) if framed else TTransport.TBufferedTransport(sock)
    trans.open()
    return H.Client(TBinaryProtocol.TBinaryProtocol(trans)), trans


def expect(exc, fn, *args):
    try:
        fn(*args)
    except exc as e:
        return e
    raise AssertionError(f"{fn.__name__}{args} did not raise {exc.__name__}")


def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


c, trans = connect()
eq(c.set_ugi("spark", ["spark"]), ["spark"], "set_ugi echoes groups")

# Databases: listing, patterns, not found.
dbs = c.get_all_databases()
assert "sales" in dbs and "default" in dbs, dbs
eq(c.get_databases("sal*|nope*"), ["sales"], "hive pattern")
db = c.get_database("SALES")
eq(db.name, "sales", "database name")
assert db.locationUri, db
expect(NoSuchObjectException, c.get_database, "nope")

# Tables.
assert "events" in c.get_all_tables("sales")
eq(c.get_tables("sales", "ev*"), ["events"], "get_tables pattern")
eq(c.get_tables("sales", "events"), ["events"], "exact pattern")
eq(c.get_tables("sales", "e_ents"), [], "_ is a literal in Hive patterns")
assert "events" in c.get_tables_by_type("sales", ".*", "MANAGED_TABLE"), "Trino's .* pattern"
t = c.get_table("sales", "events")
eq([k.name for k in t.partitionKeys], ["dt", "n"], "partition keys")
eq([(k.name, k.type) for k in t.sd.cols], [("id", "bigint"), ("note", "string")], "columns")
assert t.sd.serdeInfo.serializationLib.endswith("ParquetHiveSerDe"), t.sd.serdeInfo
assert t.sd.bucketCols == [] and t.sd.sortCols == [] and t.sd.skewedInfo is not None
eq(t.tableType, "MANAGED_TABLE", "table type")
assert "tarn.managed_location" not in t.parameters, t.parameters
expect(NoSuchObjectException, c.get_table, "sales", "nope")
eq([x.tableName for x in c.get_table_objects_by_name("sales", ["events", "nope"])], ["events"], "by name")
eq([f.name for f in c.get_schema("sales", "events")], ["id", "note", "dt", "n"], "get_schema")

# Partitions: names are escaped, values are not; NULL is the default partition.
names = c.get_partition_names("sales", "events", -1)
eq(names, ["dt=2024-01-01/n=1", "dt=2024-01-02/n=2", "dt=2024-01-02/n=__HIVE_DEFAULT_PARTITION__"], "names")
parts = c.get_partitions("sales", "events", -1)
eq([p.values for p in parts], [["2024-01-01", "1"], ["2024-01-02", "2"], ["2024-01-02", "__HIVE_DEFAULT_PARTITION__"]], "values")
eq(len(c.get_partitions("sales", "events", 1)), 1, "max_parts")
f = c.get_partitions_by_filter("sales", "events", 'dt = "2024-01-02"', -1)
eq(sorted(p.values[1] for p in f), ["2", "__HIVE_DEFAULT_PARTITION__"], "filter on dt")
f = c.get_partitions_by_filter("sales", "events", "n > 1", -1)
eq([p.values for p in f], [["2024-01-02", "2"]], "numeric filter")
f = c.get_partitions_by_filter("sales", "events", '(n) in (1, 2) and dt like "2024-01-0.*"', -1)
eq(len(f), 2, "in + like")
expect(MetaException, c.get_partitions_by_filter, "sales", "events", "nope = 1", -1)
eq(c.get_num_partitions_by_filter("sales", "events", 'dt >= "2024-01-02"'), 2, "count")
eq(c.get_partition_names_ps("sales", "events", ["2024-01-02", ""], -1),
   ["dt=2024-01-02/n=2", "dt=2024-01-02/n=__HIVE_DEFAULT_PARTITION__"], "names_ps wildcard")
eq(len(c.get_partition_names_ps("sales", "events", ["2024-01-02"], -1)), 2, "names_ps short")
eq(len(c.get_partitions_ps_with_auth("sales", "events", [""], -1, "spark", [])), 3, "ps_with_auth")
p = c.get_partition("sales", "events", ["2024-01-01", "1"])
eq(p.values, ["2024-01-01", "1"], "get_partition")
assert p.sd.location.endswith("/dt=2024-01-01/n=1"), p.sd.location
expect(NoSuchObjectException, c.get_partition, "sales", "events", ["2030-01-01", "1"])
eq([p.values for p in c.get_partitions_by_names("sales", "events", ["dt=2024-01-01/n=1"])], [["2024-01-01", "1"]], "by names")
eq([p.values for p in c.get_partitions_by_names(
    "sales", "events", ["dt=2024-01-02/n=__HIVE_DEFAULT_PARTITION__", "dt=2024-01-02/n=2", "dt=1999-01-01/n=1", "garbage"])],
   [["2024-01-02", "2"], ["2024-01-02", "__HIVE_DEFAULT_PARTITION__"]], "by names: NULL, unknown skipped")
eq(c.get_partition_by_name("sales", "events", "dt=2024-01-02/n=2").values, ["2024-01-02", "2"], "by name")
eq(c.partition_name_to_vals("dt=a%2Fb/n=1"), ["a/b", "1"], "name_to_vals unescapes")
eq(c.partition_name_to_spec("dt=a%3Db/n=1"), {"dt": "a=b", "n": "1"}, "name_to_spec")

# Config whitelist, fb303, empty answers.
eq(c.get_config_value("hive.exec.default.partition.name", ""), "__HIVE_DEFAULT_PARTITION__", "config")
eq(c.get_config_value("hive.some.unknown.key", "dflt"), "dflt", "config default")
expect(ConfigValSecurityException, c.get_config_value, "javax.jdo.option.ConnectionPassword", "")
eq(c.getName(), "tarn", "fb303 getName")
eq(c.get_functions("sales", "*"), [], "functions")
eq(c.get_all_functions().functions, [], "all functions")
# A method of the IDL tarn does not implement: a declared MetaException, connection kept.
expect(MetaException, c.get_type, "x")
eq(c.get_database("sales").name, "sales", "connection usable after MetaException")

# Writes: a database and an external table at a location under the lake, partitions added
# with Spark's request (ifNotExists, needResult), escaped directory names, dropped again.
expect(AlreadyExistsException, c.create_database, Database(name="sales", description="", locationUri=None, parameters={}))
cols = [FieldSchema("id", "bigint", None), FieldSchema("v", "string", None)]
serde = SerDeInfo(None, "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", {"serialization.format": "1"})
sd = StorageDescriptor(cols, None, "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                       "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat", False, -1, serde, [], [], {})
tbl = Table(tableName="From_Spark", dbName="sales", owner="spark", createTime=0, lastAccessTime=0, retention=0, sd=sd,
            partitionKeys=[FieldSchema("dt", "string", None), FieldSchema("c", "string", None)],
            parameters={"spark.sql.create.version": "4.3.0"}, viewOriginalText=None, viewExpandedText=None,
            tableType="MANAGED_TABLE")
c.create_table(tbl)
expect(AlreadyExistsException, c.create_table, tbl)
got = c.get_table("sales", "from_spark")
assert got.sd.location.rstrip("/").endswith("sales.db/from_spark"), got.sd.location
eq(got.parameters.get("spark.sql.create.version"), "4.3.0", "parameters kept")
bad = Table(**{**tbl.__dict__, "tableName": "bad", "sd": StorageDescriptor([FieldSchema("x", "notatype", None)], None, None, None, False, -1, serde, [], [], {})})
expect(InvalidObjectException, c.create_table, bad)
# Names become path components: anything but letters, digits and _ is refused.
for evil in ["x/../../default/victim", "..", "a b", ""]:
    expect(InvalidObjectException, c.create_table, Table(**{**tbl.__dict__, "tableName": evil}))
expect(InvalidObjectException, c.create_database, Database(name="../escape", description="", locationUri=None, parameters={}))
# A view has no directory: no partitions can be put "inside" it.
view = Table(**{**tbl.__dict__, "tableName": "v", "tableType": "VIRTUAL_VIEW",
                "viewOriginalText": "SELECT 1 AS id", "viewExpandedText": "SELECT 1 AS id"})
c.create_table(view)
expect(InvalidObjectException, c.add_partitions_req, AddPartitionsRequest("sales", "v", [
    Partition(values=["a", "b"], dbName="sales", tableName="v", createTime=0, lastAccessTime=0,
              sd=StorageDescriptor(cols, "file:/tmp/anywhere", None, None, False, -1, serde, [], [], {}), parameters={})], True, True))
c.drop_table("sales", "v", False)
# A location outside the lake's allowed roots is refused for this role.
outside = Table(**{**tbl.__dict__, "tableName": "outside", "sd": StorageDescriptor(cols, "file:/etc", None, None, False, -1, serde, [], [], {})})
expect(MetaException, c.create_table, outside)

def part(values):
    return Partition(values=values, dbName="sales", tableName="from_spark", createTime=0, lastAccessTime=0,
                     sd=StorageDescriptor(cols, None, None, None, False, -1, serde, [], [], {}), parameters={"numFiles": "0"})

# Listed before and after each change: a kept listing must never outlive the change.
eq(c.get_partition_names("sales", "from_spark", -1), [], "no partitions yet")
req = AddPartitionsRequest("sales", "from_spark", [part(["2024-01-03", "a/b c:d=e%f#g"]), part(["", "FR"])], True, True)
added = c.add_partitions_req(req)
eq(sorted(p.values[1] for p in added.partitions), ["FR", "a/b c:d=e%f#g"], "added values unescaped")
again = c.add_partitions_req(AddPartitionsRequest("sales", "from_spark", [part(["2024-01-03", "a/b c:d=e%f#g"])], True, True))
eq(again.partitions, [], "ifNotExists skips existing")
expect(AlreadyExistsException, c.add_partitions_req,
       AddPartitionsRequest("sales", "from_spark", [part(["2024-01-03", "a/b c:d=e%f#g"])], False, True))
eq(c.get_partition_names("sales", "from_spark", -1),
   ["dt=2024-01-03/c=a%2Fb c%3Ad%3De%25f%23g", "dt=__HIVE_DEFAULT_PARTITION__/c=FR"], "escaped names")
loc = c.get_partition("sales", "from_spark", ["2024-01-03", "a/b c:d=e%f#g"]).sd.location
assert loc.endswith("/dt=2024-01-03/c=a%2Fb c%3Ad%3De%25f%23g"), loc
expect(InvalidObjectException, c.add_partitions_req,
       AddPartitionsRequest("sales", "from_spark", [part(["only-one"])], True, True))
# Locations that leave the table's directory: percent-encoded dots, plain dots, elsewhere.
table_dir = got.sd.location
for escape in [table_dir + "/%2E%2E/%2E%2E/elsewhere", table_dir + "/../../elsewhere", "file:/tmp"]:
    p = part(["2024-09-09", "z"])
    p.sd.location = escape
    expect(MetaException, c.add_partitions_req, AddPartitionsRequest("sales", "from_spark", [p], True, True))
# A symlink planted in the table's directory does not make another directory the table's.
local_dir = table_dir.removeprefix("file:")
os.makedirs(os.path.join(lake, "elsewhere"), exist_ok=True)
os.symlink(os.path.join(lake, "elsewhere"), os.path.join(local_dir, "dt=2024-09-10"))
p = part(["2024-09-10", "z"])
p.sd.location = table_dir + "/dt=2024-09-10/c=z"
expect(MetaException, c.add_partitions_req, AddPartitionsRequest("sales", "from_spark", [p], True, True))
# Two of the same partition in one request: refused, nothing added.
expect(AlreadyExistsException, c.add_partitions_req,
       AddPartitionsRequest("sales", "from_spark", [part(["2024-09-11", "z"]), part(["2024-09-11", "z"])], False, True))
expect(NoSuchObjectException, c.get_partition, "sales", "from_spark", ["2024-09-11", "z"])

# alter_table as Spark does it (whole struct back, a property added).
got.parameters["spark.sql.partitionProvider"] = "catalog"
c.alter_table_with_environment_context("sales", "from_spark", got, None)
eq(c.get_table("sales", "from_spark").parameters.get("spark.sql.partitionProvider"), "catalog", "alter")
renamed = Table(**{**got.__dict__, "tableName": "renamed"})
expect(InvalidOperationException, c.alter_table, "sales", "from_spark", renamed)

eq(len(c.get_partition_names("sales", "from_spark", -1)), 2, "names before the drops")
eq(c.get_partition_names("sales", "from_spark", -1), c.get_partition_names("sales", "from_spark", -1),
   "a kept listing is the listing")
eq(c.get_partition_names("sales", "from_spark", 1), ["dt=2024-01-03/c=a%2Fb c%3Ad%3De%25f%23g"], "names max_parts")
eq(c.drop_partition("sales", "from_spark", ["", "FR"], True), True, "drop_partition")
eq(c.get_partition_names("sales", "from_spark", -1), ["dt=2024-01-03/c=a%2Fb c%3Ad%3De%25f%23g"], "names after drop")
expect(NoSuchObjectException, c.drop_partition, "sales", "from_spark", ["", "FR"], True)
dropped = c.drop_partitions_req(DropPartitionsRequest("sales", "from_spark",
                                RequestPartsSpec(names=["dt=2024-01-03/c=a%2Fb c%3Ad%3De%25f%23g"]), True, True))
eq([p.values for p in dropped.partitions], [["2024-01-03", "a/b c:d=e%f#g"]], "drop_partitions_req")
eq(c.get_partition_names("sales", "from_spark", -1), [], "names after drop_partitions_req")

# Framed transport on a new connection.
cf, tf = connect(framed=True)
eq(cf.get_database("sales").name, "sales", "framed")
tf.close()

# An unknown method: TApplicationException(UNKNOWN_METHOD) and the connection stays usable.
trans.close()
c, trans = connect()
c._oprot.writeMessageBegin("get_valid_write_ids", 1, 7)
c._oprot.writeStructBegin("args")
c._oprot.writeFieldStop()
c._oprot.writeStructEnd()
c._oprot.writeMessageEnd()
c._oprot.trans.flush()
_, mtype, _ = c._iprot.readMessageBegin()
eq(mtype, 3, "exception message")
x = TApplicationException()
x.read(c._iprot)
c._iprot.readMessageEnd()
eq(x.type, TApplicationException.UNKNOWN_METHOD, "unknown method type")
eq(c.get_database("sales").name, "sales", "connection kept after unknown method")
c.shutdown()  # fb303 oneway: no reply expected

# Not readable: a table the role may read one column of does not exist for it (partition values
# and the definition are data of every column).
expect(NoSuchObjectException, c.get_table, "sales", "secret")
expect(NoSuchObjectException, c.get_partitions, "sales", "secret", -1)
expect(MetaException, c.drop_table, "sales", "events", True)

# Locks as pyiceberg commits with them: exclusive on a table this role owns, a second request
# waits until the first is released; none on a table it may only read.
def lock_req(table, kind=3):
    return LockRequest([LockComponent(kind, 2, "sales", table)], None, "spark", "host")

first = c.lock(lock_req("from_spark"))
eq(first.state, 1, "first lock acquired")
c2, t2 = connect()
second = c2.lock(lock_req("from_spark"))
eq(second.state, 2, "second lock waits")
eq(c2.check_lock(CheckLockRequest(second.lockid)).state, 2, "still waiting")
c.unlock(UnlockRequest(first.lockid))
eq(c2.check_lock(CheckLockRequest(second.lockid)).state, 1, "granted after release")
c2.unlock(UnlockRequest(second.lockid))
expect(NoSuchLockException, c2.unlock, UnlockRequest(second.lockid))
expect(NoSuchLockException, c2.check_lock, CheckLockRequest(second.lockid))
t2.close()
# `lock` declares no MetaException: the refusal is an application exception with the reason.
denied = expect(TApplicationException, c.lock, lock_req("events"))
assert "owner" in str(denied), denied
shared = c.lock(lock_req("events", kind=1))
eq(shared.state, 1, "shared read lock on a readable table")
c.unlock(UnlockRequest(shared.lockid))

# Column statistics as Trino writes and reads them: per partition and per table, replaced per
# column, aggregated over partitions, merged on request, deleted; numbers checked by hand.
c.add_partitions_req(AddPartitionsRequest("sales", "from_spark", [part(["2024-05-01", "a/b"]), part(["2024-05-02", "x"])], True, True))
P1, P2 = "dt=2024-05-01/c=a%2Fb", "dt=2024-05-02/c=x"


def long_obj(low, high, nulls, dvs):
    return ColumnStatisticsObj("id", "bigint", ColumnStatisticsData(longStats=LongColumnStatsData(low, high, nulls, dvs)))


def str_obj(maxlen, avg, nulls, dvs):
    return ColumnStatisticsObj("v", "string", ColumnStatisticsData(stringStats=StringColumnStatsData(maxlen, avg, nulls, dvs)))


def part_stats(name, objs):
    return ColumnStatistics(ColumnStatisticsDesc(False, "sales", "from_spark", name, 1700000000), objs)


eq(c.update_partition_column_statistics(part_stats(P1, [long_obj(-3, 10, 1, 4), str_obj(9, 2.5, 0, 3)])), True, "update")
eq(c.update_partition_column_statistics(part_stats(P2, [long_obj(5, 40, 2, 7)])), True, "update p2")
table_stats = ColumnStatistics(ColumnStatisticsDesc(True, "sales", "from_spark", None, None),
                               [ColumnStatisticsObj("id", "bigint", ColumnStatisticsData(
                                   decimalStats=DecimalColumnStatsData(Decimal(unscaled=b"\xff\x38", scale=2), None, 0, 1)))])
eq(c.update_table_column_statistics(table_stats), True, "table stats")
got = c.get_partition_column_statistics("sales", "from_spark", P1, "ID")
eq(got.statsObj[0].statsData.longStats, LongColumnStatsData(-3, 10, 1, 4), "partition stats round trip")
eq((got.statsDesc.isTblLevel, got.statsDesc.partName), (False, P1), "desc")
dec = c.get_table_column_statistics("sales", "from_spark", "id").statsObj[0].statsData.decimalStats
eq((dec.lowValue.unscaled, dec.lowValue.scale, dec.highValue), (b"\xff\x38", 2, None), "decimal bytes kept")
expect(NoSuchObjectException, c.get_table_column_statistics, "sales", "from_spark", "v")
res = c.get_partitions_statistics_req(PartitionsStatsRequest("sales", "from_spark", ["id", "v"], [P1, P2, "dt=1999-01-01/c=q"]))
eq(sorted(res.partStats), [P1, P2], "stats by partition name (escaped)")
eq(sorted(o.colName for o in res.partStats[P1]), ["id", "v"], "both columns of p1")
eq(c.get_table_statistics_req(TableStatsRequest("sales", "from_spark", ["id"])).tableStats[0].colName, "id", "table req")
agg = c.get_aggr_stats_for(PartitionsStatsRequest("sales", "from_spark", ["id"], [P1, P2]))
eq((agg.partsFound, agg.colStats[0].statsData.longStats), (2, LongColumnStatsData(-3, 40, 3, 7)), "aggregate id")
agg = c.get_aggr_stats_for(PartitionsStatsRequest("sales", "from_spark", ["id", "v"], [P1, P2]))
eq(agg.partsFound, 1, "only p1 has both columns")
# needMerge combines with what is stored (an append); without it, a column is replaced.
c.set_aggr_stats_for(SetPartitionsStatsRequest([part_stats(P2, [long_obj(-100, 0, 5, 3)])], True))
eq(c.get_partition_column_statistics("sales", "from_spark", P2, "id").statsObj[0].statsData.longStats,
   LongColumnStatsData(-100, 40, 7, 7), "merged")
c.set_aggr_stats_for(SetPartitionsStatsRequest([part_stats(P2, [long_obj(1, 2, 0, 1)])], False))
eq(c.get_partition_column_statistics("sales", "from_spark", P2, "id").statsObj[0].statsData.longStats,
   LongColumnStatsData(1, 2, 0, 1), "replaced")
# Bad statistics: unknown or partition column, negative counts, two kinds, missing partition.
for bad in [[ColumnStatisticsObj("nope", "bigint", long_obj(1, 2, 0, 1).statsData)],
            [ColumnStatisticsObj("dt", "string", str_obj(1, 1.0, 0, 1).statsData)],
            [long_obj(1, 2, -1, 1)],
            [ColumnStatisticsObj("id", "bigint", ColumnStatisticsData(longStats=LongColumnStatsData(1, 2, 0, 1),
                                                                     booleanStats=BooleanColumnStatsData(1, 1, 0)))]]:
    expect(InvalidObjectException, c.update_partition_column_statistics, part_stats(P1, bad))
expect(NoSuchObjectException, c.update_partition_column_statistics, part_stats("dt=1999-01-01/c=q", [long_obj(1, 2, 0, 1)]))
eq(c.get_partition_column_statistics("sales", "from_spark", P1, "id").statsObj[0].statsData.longStats,
   LongColumnStatsData(-3, 10, 1, 4), "refused updates changed nothing")
# A role that may only read a table may not write its statistics; a hidden table has none.
denied = expect(MetaException, c.update_table_column_statistics,
                ColumnStatistics(ColumnStatisticsDesc(True, "sales", "events", None, None), [long_obj(1, 2, 0, 1)]))
assert "permission denied" in str(denied), denied
expect(NoSuchObjectException, c.get_table_statistics_req, TableStatsRequest("sales", "secret", ["id"]))
eq(c.delete_partition_column_statistics("sales", "from_spark", P1, "v"), True, "delete one column")
expect(NoSuchObjectException, c.delete_partition_column_statistics, "sales", "from_spark", P1, "v")
eq(c.delete_table_column_statistics("sales", "from_spark", "id"), True, "delete table stats")
eq(c.delete_table_column_statistics("sales", "from_spark", None), True, "delete all: true even when none (as Hive)")
# set_aggr_stats_for is all or nothing: a bad second entry leaves the first unapplied.
expect(NoSuchObjectException, c.set_aggr_stats_for, SetPartitionsStatsRequest(
    [part_stats(P2, [long_obj(0, 0, 0, 1)]), part_stats("dt=1999-01-01/c=q", [long_obj(0, 0, 0, 1)])], False))
eq(c.get_partition_column_statistics("sales", "from_spark", P2, "id").statsObj[0].statsData.longStats,
   LongColumnStatsData(1, 2, 0, 1), "nothing of a refused request applied")

# rename_partition: new values, same directory and data, statistics follow; onto an existing
# partition refused.
loc1 = c.get_partition("sales", "from_spark", ["2024-05-01", "a/b"]).sd.location
c.rename_partition("sales", "from_spark", ["2024-05-01", "a/b"], part(["2024-06-01", "n=1"]))
moved = c.get_partition("sales", "from_spark", ["2024-06-01", "n=1"])
eq(moved.sd.location, loc1, "renamed partition keeps its directory")
expect(NoSuchObjectException, c.get_partition, "sales", "from_spark", ["2024-05-01", "a/b"])
eq(c.get_partition_names("sales", "from_spark", -1), ["dt=2024-05-02/c=x", "dt=2024-06-01/c=n%3D1"], "renamed names")
eq(c.get_partition_column_statistics("sales", "from_spark", "dt=2024-06-01/c=n%3D1", "id").statsObj[0].statsData.longStats,
   LongColumnStatsData(-3, 10, 1, 4), "statistics follow the rename")
expect(InvalidOperationException, c.rename_partition, "sales", "from_spark", ["2024-06-01", "n=1"], part(["2024-05-02", "x"]))
expect(InvalidOperationException, c.rename_partition, "sales", "from_spark", ["1999-01-01", "q"], part(["2024-05-09", "x"]))
denied = expect(MetaException, c.rename_partition, "sales", "events", ["2024-01-01", "1"], part(["2024-01-09", "1"]))
assert "permission denied" in str(denied), denied
# The old values again at their default directory, which the renamed partition kept: refused
# (each would list the other's files).
shared = expect(InvalidObjectException, c.add_partitions_req,
                AddPartitionsRequest("sales", "from_spark", [part(["2024-05-01", "a/b"])], True, True))
assert "already holds" in str(shared), shared

c.drop_table("sales", "from_spark", True)
expect(NoSuchObjectException, c.get_table, "sales", "from_spark")
trans.close()
print("ok")
