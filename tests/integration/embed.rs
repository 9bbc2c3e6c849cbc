//! The embedding API: open, query, stream, reopen.

use tarn::datafusion::arrow::array::{Array, AsArray, RecordBatch};
use tarn::datafusion::arrow::datatypes::Int64Type;
use tarn::{ErrorKind, Output};

use crate::support::{SALES_COLUMNS, TestLake};

fn first_i64(batches: &[RecordBatch]) -> i64 {
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn query_a_partitioned_table_and_reopen() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    lake.declare_sales(&session, SALES_COLUMNS).await;
    let rows = session.query("SELECT count(*) FROM sales").await.unwrap();
    assert_eq!(first_i64(&rows), 20);

    // The catalog survives a restart of the engine on the same data dir.
    let data_dir = lake.data_dir();
    let mut config = tarn::EngineConfig::new(&data_dir);
    config.allowed_roots = vec![lake.lake().display().to_string()];
    let reopened = tarn::Tarn::open(config).unwrap();
    let rows = reopened
        .session("bob")
        .query("SELECT count(*) FROM default.sales WHERE month IS NULL")
        .await
        .unwrap();
    assert_eq!(first_i64(&rows), 2);
}

#[tokio::test]
async fn query_stream_yields_batches_lazily() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    let out = session
        .query_stream("SELECT * FROM (VALUES (1), (2), (3)) AS t(x)")
        .await
        .unwrap();
    let Output::Stream(stream) = out else {
        panic!("expected rows")
    };
    let batches = tarn::collect(stream).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    let err = session
        .query_stream("SELECT 1; SELECT 2")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
}

#[tokio::test]
async fn errors_are_classified() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    let cases = [
        ("SELECT * FROM nope", ErrorKind::UndefinedTable),
        ("SELECT * FROM nodb.t", ErrorKind::UndefinedSchema),
        ("SELEC 1", ErrorKind::Syntax),
        (
            "SELECT nope FROM (VALUES (1)) t(x)",
            ErrorKind::UndefinedColumn,
        ),
        ("SELECT 1/0", ErrorKind::DivisionByZero),
        (
            "CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET LOCATION '/etc'",
            ErrorKind::PermissionDenied,
        ),
        ("DROP FUNCTION IF EXISTS f", ErrorKind::FeatureNotSupported),
        ("CREATE DATABASE default", ErrorKind::DuplicateSchema),
    ];
    for (sql, kind) in cases {
        let err = session.query(sql).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{sql}: {err}");
    }
}

fn strings(batches: &[RecordBatch], col: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(col).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| a.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn show_create_table_round_trips() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    session
        .query(&format!(
            "CREATE EXTERNAL TABLE t (a bigint COMMENT 'it''s a', m map<string,array<int>>)
             COMMENT 'round trip' PARTITIONED BY (dt date, k varchar(5))
             ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' STORED AS CSV
             LOCATION '{}/people' TBLPROPERTIES ('skip.header.line.count'='1', 'x'='y')",
            lake.lake().display()
        ))
        .await
        .unwrap();
    let ddl = strings(&session.query("SHOW CREATE TABLE t").await.unwrap(), 0).remove(0);
    session.query("DROP TABLE t").await.unwrap();
    session.query(&ddl).await.unwrap();
    let again = strings(&session.query("SHOW CREATE TABLE t").await.unwrap(), 0).remove(0);
    assert_eq!(ddl, again);
    assert!(ddl.contains("COMMENT 'it''s a'"), "{ddl}");
}

#[tokio::test]
async fn describe_formatted_shows_hive_details() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    session
        .query(&format!(
            "CREATE EXTERNAL TABLE s (id bigint) PARTITIONED BY (year int) STORED AS PARQUET LOCATION '{}/sales'",
            lake.lake().display()
        ))
        .await
        .unwrap();
    let rows = session.query("DESCRIBE FORMATTED s").await.unwrap();
    let labels = strings(&rows, 0);
    let values: Vec<String> = rows
        .iter()
        .flat_map(|b| {
            let a = b.column(1).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| {
                    if a.is_valid(i) {
                        a.value(i).to_string()
                    } else {
                        String::new()
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let value_of = |label: &str| values[labels.iter().position(|l| l == label).unwrap()].clone();
    assert_eq!(value_of("Table Type:"), "EXTERNAL_TABLE");
    assert_eq!(value_of("Owner:"), "alice");
    assert!(value_of("Location:").ends_with("/lake/sales"));
    assert_eq!(
        value_of("SerDe Library:"),
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    );
    assert!(labels.contains(&"# Partition Information".to_string()));
    assert!(
        values.contains(&"EXTERNAL".to_string()),
        "parameters list EXTERNAL=TRUE"
    );
}

/// Queries that scan files execute on the engine's CPU runtime, not on the caller's.
#[tokio::test]
async fn queries_execute_on_the_cpu_runtime() {
    use std::sync::{Arc, Mutex};
    use tarn::datafusion::arrow::datatypes::DataType;
    use tarn::datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};

    let lake = TestLake::new();
    let mut session = lake.tarn.session("alice");
    let threads: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = threads.clone();
    let udf = create_udf(
        "thread_probe",
        vec![DataType::Int64],
        DataType::Int64,
        Volatility::Volatile,
        Arc::new(move |args: &[ColumnarValue]| {
            let name = std::thread::current().name().unwrap_or("").to_string();
            seen.lock().unwrap().push(name);
            Ok(args[0].clone())
        }),
    );
    session.session().context().register_udf(udf);
    let sql = format!(
        "CREATE EXTERNAL TABLE people (id int, name string, age int)
         ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS CSV LOCATION '{}/people'
         TBLPROPERTIES ('skip.header.line.count'='1')",
        lake.lake().display()
    );
    session.query(&sql).await.unwrap();
    let rows = session
        .query("SELECT thread_probe(1) FROM people")
        .await
        .unwrap();
    assert!(rows.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
    let threads = threads.lock().unwrap();
    assert!(!threads.is_empty());
    assert!(
        threads.iter().all(|t| t.starts_with("tarn-cpu")),
        "{threads:?}"
    );
}

/// The session keeps its DataFusion state between statements (planning cost), but each
/// statement still gets its own start time for now(), and SET/USE reach the next statement.
#[tokio::test]
async fn kept_planning_state_follows_time_and_settings() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    let text = |batches: &[RecordBatch]| {
        tarn::datafusion::arrow::util::display::array_value_to_string(batches[0].column(0), 0)
            .unwrap()
    };
    let now = |batches: Vec<RecordBatch>| text(&batches);
    let first = now(session
        .query("SELECT CAST(now() AS VARCHAR)")
        .await
        .unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = now(session
        .query("SELECT CAST(now() AS VARCHAR)")
        .await
        .unwrap());
    assert_ne!(first, second, "now() is the statement's start time");

    session
        .query("CREATE DATABASE sales; CREATE TABLE sales.t (x int); USE sales")
        .await
        .unwrap();
    let rows = session.query("SELECT count(*) FROM t").await.unwrap();
    assert_eq!(first_i64(&rows), 0, "USE moves unqualified names");
    session.query("SET TimeZone = 'Asia/Tokyo'").await.unwrap();
    let shown = session
        .query("SELECT CAST(CAST(TIMESTAMP '2024-01-01 00:00:00' AS TIMESTAMPTZ) AS VARCHAR)")
        .await
        .unwrap();
    assert!(text(&shown).contains("+09:00"), "{}", text(&shown));
}

/// Listed Parquet files are described by their footers (read once, kept with the listing):
/// count(*) is answered from their row counts, and joins see table sizes.
#[tokio::test]
async fn listed_parquet_files_carry_footer_statistics() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    lake.declare_sales(&session, SALES_COLUMNS).await;
    let plan = session
        .query("EXPLAIN SELECT count(*) FROM sales")
        .await
        .unwrap();
    let text: String = (0..plan[0].num_rows())
        .map(|i| {
            tarn::datafusion::arrow::util::display::array_value_to_string(plan[0].column(1), i)
                .unwrap()
        })
        .collect();
    assert!(!text.contains("DataSourceExec"), "{text}");
    let rows = session.query("SELECT count(*) FROM sales").await.unwrap();
    assert_eq!(first_i64(&rows), 20);
}
