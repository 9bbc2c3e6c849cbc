//! Parquet read-ahead on a slow object store: row groups fetched while others decode, every
//! scan of a statement starting at once, nothing fetched by planning alone, prefetches of a
//! finished scan aborted; the store's own request counts are the oracle.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use object_store::ObjectStoreExt;
use tarn::{EngineConfig, ErrorKind, Tarn};

use crate::s3::count;
use crate::support::faulty::FaultyStore;

/// A Parquet file of `groups` row groups of 1000 ids each, from 0.
fn row_groups(groups: i64) -> bytes::Bytes {
    use tarn::datafusion::arrow::array::{Int64Array, RecordBatch};
    use tarn::datafusion::arrow::datatypes::{DataType, Field, Schema};
    use tarn::datafusion::parquet::arrow::ArrowWriter;
    use tarn::datafusion::parquet::file::properties::WriterProperties;
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(props)).unwrap();
    let ids = Int64Array::from_iter_values(0..groups * 1000);
    writer
        .write(&RecordBatch::try_new(schema, vec![Arc::new(ids)]).unwrap())
        .unwrap();
    writer.close().unwrap();
    out.into()
}

/// On a slow store a scan fetches the next row groups while it decodes one (more than one GET
/// in flight for a single-partition scan, which reads row groups one after another), returns
/// exactly the file's rows, stops fetching when a LIMIT is met, and a store failing reads
/// fails the query cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_read_ahead_on_a_slow_store() {
    let store = Arc::new(FaultyStore::new(Duration::from_millis(10)));
    store
        .put(&"t/data.parquet".into(), row_groups(24).into())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.allowed_roots = vec!["s3://slow".into()];
    config.target_partitions = Some(1);
    let tarn = Tarn::open(config).unwrap();
    tarn.register_object_store(&url::Url::parse("s3://slow").unwrap(), store.clone());
    tarn.session("t")
        .query("CREATE EXTERNAL TABLE t (id bigint) STORED AS PARQUET LOCATION 's3://slow/t'")
        .await
        .unwrap();
    store.take_counts();
    store.max_in_flight.store(0, Ordering::SeqCst);
    let n = 24_000i64;
    assert_eq!(
        count(&tarn, "SELECT sum(id) FROM t").await,
        n * (n - 1) / 2,
        "every row once"
    );
    let (gets, _, _) = store.take_counts();
    assert!(gets >= 24, "one GET per row group at least: {gets}");
    assert!(
        store.max_in_flight.load(Ordering::SeqCst) >= 4,
        "row groups fetched ahead: at most {} GETs at once",
        store.max_in_flight.load(Ordering::SeqCst)
    );
    // A LIMIT met after two row groups: the reader is dropped with the next row groups being
    // fetched ahead (slowly now); they are aborted, so none of them completes afterwards.
    store.set_latency(Duration::from_millis(300));
    // (A sum: count(*) over a LIMIT is answered from the footer statistics.)
    let first = count(&tarn, "SELECT sum(id) FROM (SELECT id FROM t LIMIT 1500)").await;
    assert_eq!(
        first,
        1499 * 1500 / 2,
        "the first rows, one partition in order"
    );
    let (gets, _, _) = store.take_counts();
    assert!(gets >= 2, "the LIMIT read data: {gets} GETs");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        store.take_counts().0,
        0,
        "prefetches of a finished scan stop"
    );
    assert_eq!(store.in_flight(), 0);
    store.set_latency(Duration::from_millis(10));
    // Reads failing: the error is the store's, not a hang or a wrong answer.
    store.fail_reads(true);
    let e = tarn
        .session("t")
        .query("SELECT sum(id) FROM t WHERE id > 5")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StorageIo, "{e}");
}

/// Three tables of one row group each behind a slow store, the scan cache off (it would read
/// the second run's files whole) and one partition.
async fn three_tables(store: &Arc<FaultyStore>, dir: &std::path::Path) -> Tarn {
    let mut config = EngineConfig::new(dir.join("data"));
    config.allowed_roots = vec!["s3://slow".into()];
    config.target_partitions = Some(1);
    config.scan_cache_bytes = 0;
    let tarn = Tarn::open(config).unwrap();
    tarn.register_object_store(&url::Url::parse("s3://slow").unwrap(), store.clone());
    for t in ["a", "b", "c"] {
        store
            .put(&format!("{t}/data.parquet").into(), row_groups(1).into())
            .await
            .unwrap();
        tarn.session("t")
            .query(&format!(
                "CREATE EXTERNAL TABLE {t} (id bigint) STORED AS PARQUET LOCATION 's3://slow/{t}'"
            ))
            .await
            .unwrap();
    }
    tarn
}

/// A join's probe side is read only once its build side is, a nested join's only once the
/// outer one's build side is: without fetching every scan's first row groups when execution
/// starts, the three scans below would each wait for the one before (one GET in flight at a
/// time). Planning alone (EXPLAIN; a prepared statement's Describe) fetches nothing, and what
/// a finished statement never read is aborted, not fetched to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scan_of_a_statement_starts_at_once() {
    let store = Arc::new(FaultyStore::new(Duration::from_millis(10)));
    let dir = tempfile::tempdir().unwrap();
    let tarn = three_tables(&store, dir.path()).await;
    let join = "SELECT sum(a.id + b.id + c.id) FROM a JOIN b ON a.id = b.id JOIN c ON b.id = c.id";
    let expected = 3 * 999 * 1000 / 2;
    // The first run reads the footers into the cache.
    assert_eq!(count(&tarn, join).await, expected);
    store.set_latency(Duration::from_millis(200));
    store.take_counts();
    store.get_starts.store(0, Ordering::SeqCst);
    tarn.session("t")
        .query(&format!("EXPLAIN {join}"))
        .await
        .unwrap();
    assert_eq!(
        store.get_starts.load(Ordering::SeqCst),
        0,
        "planning fetched data"
    );
    store.max_in_flight.store(0, Ordering::SeqCst);
    assert_eq!(count(&tarn, join).await, expected);
    assert!(
        store.max_in_flight.load(Ordering::SeqCst) >= 3,
        "the scans waited for each other: at most {} GETs at once",
        store.max_in_flight.load(Ordering::SeqCst)
    );
    assert_eq!(store.take_counts().0, 3, "one GET per table");
    // The build side is empty (its row group pruned by statistics), so neither scan reads data:
    // the first row groups fetched when execution started are aborted, long before the store
    // would answer (the scans' start at once is shown above, by the GETs in flight together).
    store.set_latency(Duration::from_millis(1000));
    store.get_starts.store(0, Ordering::SeqCst);
    let empty = "SELECT count(*) FROM a JOIN b ON a.id = b.id WHERE a.id < 0";
    assert_eq!(count(&tarn, empty).await, 0);
    // Each scan's early fetch may have reached the store or not (a loaded machine may not
    // run the fetch task before the empty statement ends and aborts it): at most one each.
    let started = store.get_starts.load(Ordering::SeqCst);
    assert!(started <= 2, "{started} fetches for two scans");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        store.take_counts().0,
        0,
        "fetches of a finished statement go on"
    );
    assert_eq!(store.in_flight(), 0);
    // Failing reads under early fetches: the query reports the store's error.
    store.set_latency(Duration::from_millis(10));
    store.fail_reads(true);
    let e = tarn.session("t").query(join).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StorageIo, "{e}");
}

/// A partition's next files are fetched while it reads one (DataFusion opens them one after
/// another, and its partitions take files from one shared queue): more GETs in flight than
/// partitions, and every file's first row group fetched exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitions_next_files_are_fetched_ahead() {
    let store = Arc::new(FaultyStore::new(Duration::from_millis(10)));
    for i in 0..12 {
        store
            .put(&format!("m/f{i:02}.parquet").into(), row_groups(1).into())
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.allowed_roots = vec!["s3://slow".into()];
    config.target_partitions = Some(2);
    config.scan_cache_bytes = 0;
    let tarn = Tarn::open(config).unwrap();
    tarn.register_object_store(&url::Url::parse("s3://slow").unwrap(), store.clone());
    tarn.session("t")
        .query("CREATE EXTERNAL TABLE m (id bigint) STORED AS PARQUET LOCATION 's3://slow/m'")
        .await
        .unwrap();
    let sum = "SELECT sum(id) FROM m";
    assert_eq!(count(&tarn, sum).await, 12 * 999 * 1000 / 2);
    store.set_latency(Duration::from_millis(100));
    store.take_counts();
    store.max_in_flight.store(0, Ordering::SeqCst);
    assert_eq!(count(&tarn, sum).await, 12 * 999 * 1000 / 2);
    assert_eq!(store.take_counts().0, 12, "one GET per file");
    assert!(
        store.max_in_flight.load(Ordering::SeqCst) >= 4,
        "files read one after another per partition: at most {} GETs at once",
        store.max_in_flight.load(Ordering::SeqCst)
    );
    assert_eq!(store.in_flight(), 0);
}
