//! The engine's memory pool: a sort many times larger than the limit completes by spilling
//! into `<data_dir>/tmp`; a query that cannot spill fails with "resources exhausted" (53200).

use tarn::datafusion::arrow::array::AsArray;
use tarn::datafusion::arrow::datatypes::Int64Type;
use tarn::{EngineConfig, ErrorKind, Tarn};

const LIMIT: usize = 8 << 20;

fn tiny_pool() -> (tempfile::TempDir, Tarn) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.memory_limit = Some(LIMIT);
    config.target_partitions = Some(2);
    let tarn = Tarn::open(config).expect("open");
    (dir, tarn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sort_larger_than_the_pool_spills_and_is_correct() {
    let (dir, tarn) = tiny_pool();
    let session = tarn.session("alice");
    // 3M bigints: 24 MB of values, three times the pool.
    let rows = 3_000_000i64;
    let batches = session
        .query(&format!(
            "SELECT value FROM generate_series(1, {rows}) ORDER BY value DESC"
        ))
        .await
        .expect("the sort spills instead of failing");
    let mut expected = rows;
    for batch in &batches {
        let column = batch.column(0).as_primitive::<Int64Type>();
        for i in 0..column.len() {
            assert_eq!(column.value(i), expected);
            expected -= 1;
        }
    }
    assert_eq!(expected, 0, "every row came back");
    assert!(
        dir.path().join("data/tmp").is_dir(),
        "spills go to the data dir"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_cannot_spill_fails_cleanly() {
    let (_dir, tarn) = tiny_pool();
    let session = tarn.session("alice");
    let err = session
        .query("SELECT array_agg(value) FROM generate_series(1, 5000000)")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourcesExhausted, "{err}");
    // The engine goes on.
    let ok = session
        .query("SELECT count(*) FROM generate_series(1, 10)")
        .await;
    assert!(ok.is_ok());
}
