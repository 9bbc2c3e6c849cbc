//! Writes on a store that fails (and is slow): a failed write leaves nothing any reader sees,
//! and VACUUM removes what it left; the store's own listing is the oracle.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use object_store::ObjectStore;
use tarn::{EngineConfig, ErrorKind, Tarn};

use crate::s3::{count, objects};
use crate::support::faulty::FaultyStore;

/// Every object in the store, read from the store itself.
async fn all_objects(store: &Arc<FaultyStore>) -> Vec<String> {
    let store: Arc<dyn ObjectStore> = store.clone();
    objects(&store, "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_writes_leave_nothing_visible_and_vacuum_removes_them() {
    let store = Arc::new(FaultyStore::new(Duration::from_millis(5)));
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.warehouse = "s3://faulty/wh".into();
    config.allowed_roots = vec!["s3://faulty/raw".into()];
    let tarn = Tarn::open(config).unwrap();
    tarn.register_object_store(&url::Url::parse("s3://faulty").unwrap(), store.clone());
    let s = tarn.session("t");
    s.query(
        "CREATE TABLE m (id bigint) PARTITIONED BY (k int);
         INSERT INTO m SELECT value, value % 4 FROM generate_series(1, 400);
         CREATE EXTERNAL TABLE x (id bigint) PARTITIONED BY (k int) STORED AS PARQUET
           LOCATION 's3://faulty/raw/x';
         ALTER TABLE x ADD PARTITION (k=0); ALTER TABLE x ADD PARTITION (k=1);
         ALTER TABLE x ADD PARTITION (k=2); ALTER TABLE x ADD PARTITION (k=3);
         INSERT INTO x SELECT value, value % 4 FROM generate_series(1, 400)",
    )
    .await
    .unwrap();
    let before = all_objects(&store).await;
    // Each of the next writes gets one file through, then the store fails.
    for table in ["m", "x"] {
        store.fail_writes_after(Some(1));
        let e = s
            .query(&format!(
                "INSERT INTO {table} SELECT value, value % 4 FROM generate_series(1, 400)"
            ))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::StorageIo, "{e}");
        store.fail_writes_after(None);
        assert_eq!(
            count(&tarn, &format!("SELECT count(*) FROM {table}")).await,
            400
        );
    }
    let after = all_objects(&store).await;
    let leftovers: Vec<&String> = after.iter().filter(|o| !before.contains(o)).collect();
    assert!(
        !leftovers.is_empty(),
        "the failed writes got files through (that readers must skip)"
    );
    // A file of a failed write in a listed directory is skipped, not just absent.
    assert!(
        leftovers.iter().any(|o| o.starts_with("raw/x/")),
        "{leftovers:?}"
    );
    // Also by a table created again over the same directories.
    s.query(
        "DROP TABLE x;
         CREATE EXTERNAL TABLE x (id bigint) PARTITIONED BY (k int) STORED AS PARQUET
           LOCATION 's3://faulty/raw/x';
         MSCK REPAIR TABLE x",
    )
    .await
    .unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM x").await, 400);
    s.query(
        "SET tarn.vacuum_retention_check = off; VACUUM m RETAIN 0 HOURS; VACUUM x RETAIN 0 HOURS",
    )
    .await
    .unwrap();
    assert_eq!(all_objects(&store).await, before);
    assert_eq!(count(&tarn, "SELECT count(*) FROM m").await, 400);
    assert_eq!(count(&tarn, "SELECT count(*) FROM x").await, 400);
    assert!(store.failed_writes.load(Ordering::SeqCst) >= 2);
}
