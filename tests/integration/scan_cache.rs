//! The decoded-column cache: repeated scans are served from memory and return exactly what a
//! scan of the files returns; rewritten data is never served stale.

use tarn::datafusion::arrow::array::{AsArray, RecordBatch};
use tarn::datafusion::arrow::datatypes::Int64Type;

use crate::support::{SALES_COLUMNS, TestLake};

async fn text(session: &tarn::TarnSession, sql: &str) -> String {
    tarn::pretty(&session.query(sql).await.unwrap()).unwrap()
}

async fn plan(session: &tarn::TarnSession, sql: &str) -> String {
    text(session, &format!("EXPLAIN {sql}")).await
}

fn first_i64(batches: &[RecordBatch]) -> i64 {
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

const QUERIES: [&str; 5] = [
    "SELECT * FROM sales ORDER BY id",
    "SELECT note, year, id FROM sales ORDER BY id",
    "SELECT id, amount FROM sales WHERE amount > 3 AND month IS NOT NULL ORDER BY id",
    "SELECT year, month, count(*), sum(amount), max(note) FROM sales GROUP BY year, month ORDER BY 1, 2",
    "SELECT * FROM sales WHERE year = 2024 ORDER BY id LIMIT 3",
];

#[tokio::test]
async fn repeated_scans_come_from_the_cache_with_the_same_results() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    lake.declare_sales(&session, SALES_COLUMNS).await;
    // The same data dir without a cache gives the reference answers.
    let mut config = tarn::EngineConfig::new(lake.data_dir());
    config.allowed_roots = vec![lake.lake().display().to_string()];
    config.scan_cache_bytes = 0;
    let plain = tarn::Tarn::open(config).unwrap().session("bob");
    assert!(plan(&plain, QUERIES[0]).await.contains("DataSourceExec"));

    // A LIMIT reads little: no cache.
    assert!(
        plan(&session, "SELECT id FROM sales LIMIT 2")
            .await
            .contains("DataSourceExec")
    );
    // A first scan is a plain one (one-off scans do not pay for filling, and Parquet may
    // prune by the filter); asked again, the parts are read whole and kept.
    let sql = "SELECT note FROM sales WHERE amount > 3";
    assert!(plan(&session, sql).await.contains("DataSourceExec"));
    let again = plan(&session, sql).await;
    assert!(
        again.contains("CachedScanExec") && !again.contains("parts_to_read=0"),
        "{again}"
    );
    let cold = plan(&session, QUERIES[0]).await;
    assert!(
        cold.contains("CachedScanExec") && !cold.contains("parts_to_read=0"),
        "{cold}"
    );
    for sql in QUERIES {
        assert_eq!(text(&session, sql).await, text(&plain, sql).await, "{sql}");
    }
    let warm = plan(&session, QUERIES[2]).await;
    assert!(
        warm.contains("CachedScanExec") && warm.contains("parts_to_read=0"),
        "{warm}"
    );
    for sql in QUERIES {
        assert_eq!(
            text(&session, sql).await,
            text(&plain, sql).await,
            "{sql} (warm)"
        );
    }
    let usage = session
        .query("SELECT files, bytes, budget_bytes FROM tarn.scan_cache")
        .await
        .unwrap();
    assert!(first_i64(&usage) > 0, "{}", tarn::pretty(&usage).unwrap());
}

#[tokio::test]
async fn rewritten_tables_are_read_anew() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    session
        .query(
            "CREATE TABLE t (k int, v string) PARTITIONED BY (p int);
             INSERT INTO t VALUES (1, 'one', 1), (2, 'two', 1), (3, 'three', 2)",
        )
        .await
        .unwrap();
    let all = "SELECT * FROM t ORDER BY k";
    assert!(plan(&session, all).await.contains("DataSourceExec"));
    let before = text(&session, all).await;
    assert_eq!(text(&session, all).await, before);
    assert!(plan(&session, all).await.contains("parts_to_read=0"));
    session
        .query("INSERT OVERWRITE TABLE t PARTITION (p = 1) SELECT 10, 'ten'")
        .await
        .unwrap();
    let after = text(&session, all).await;
    assert!(after.contains("ten") && !after.contains("one"), "{after}");
    assert!(after.contains("three"));
    session
        .query("INSERT INTO t VALUES (4, 'four', 2)")
        .await
        .unwrap();
    assert!(text(&session, all).await.contains("four"));
}

#[tokio::test]
async fn a_table_declared_anew_over_the_same_files_reads_them_anew() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    lake.declare_sales(&session, SALES_COLUMNS).await;
    let sql = "SELECT * FROM sales ORDER BY id";
    for _ in 0..3 {
        session.query(sql).await.unwrap();
    }
    assert!(plan(&session, sql).await.contains("parts_to_read=0"));
    let before = text(&session, "SELECT id, amount, note FROM sales ORDER BY id").await;
    // The same files, the columns declared in another order: Parquet matches them by name.
    session.query("DROP TABLE sales").await.unwrap();
    lake.declare_sales(&session, "note string, id bigint, amount double")
        .await;
    for _ in 0..3 {
        let after = text(&session, "SELECT id, amount, note FROM sales ORDER BY id").await;
        assert_eq!(after, before);
    }
}
