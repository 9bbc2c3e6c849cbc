//! Tables on object storage — S3 (a real S3-compatible server, moto) and Azure Blob Storage
//! (Azurite): the warehouse as a URL and external tables over objects written straight to the
//! bucket, checked against what the bucket itself holds.

use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt};
use tarn::datafusion::arrow::array::{AsArray, Int64Array, RecordBatch};
use tarn::datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use tarn::datafusion::parquet::arrow::ArrowWriter;
use tarn::{EngineConfig, ErrorKind, Tarn};

use crate::support::moto::Moto;

fn parquet(ids: std::ops::Range<i64>) -> bytes::Bytes {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from_iter_values(ids))],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out.into()
}

pub(crate) async fn count(tarn: &Tarn, sql: &str) -> i64 {
    let rows = tarn.session("check").query(sql).await.unwrap();
    rows[0].column(0).as_primitive::<Int64Type>().value(0)
}

/// Object names under `prefix` in the bucket, read from the store itself.
pub(crate) async fn objects(store: &Arc<dyn ObjectStore>, prefix: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let prefix = object_store::path::Path::from(prefix);
    let mut names: Vec<String> = store
        .list(Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warehouse_and_external_tables_live_on_s3() {
    let moto = Moto::start();
    moto.create_bucket("lake");
    let storage = moto.storage("lake");
    let store = storage.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.warehouse = "s3://lake/warehouse".into();
    config.storage = vec![storage];
    config.allowed_roots = vec!["s3://lake/raw".into()];
    let tarn = Tarn::open(config).unwrap();
    let s = tarn.session("t");

    // Managed tables: the warehouse is on S3.
    s.query("CREATE TABLE t (id bigint, v string) PARTITIONED BY (k int)")
        .await
        .unwrap();
    s.query("INSERT INTO t SELECT value, 'x', value % 3 FROM generate_series(1, 1000)")
        .await
        .unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM t").await, 1000);
    assert_eq!(
        count(&tarn, "SELECT count(*) FROM t WHERE k = 1").await,
        334
    );
    s.query(
        "INSERT OVERWRITE TABLE t PARTITION (k=1) SELECT value, 'y' FROM generate_series(1, 10)",
    )
    .await
    .unwrap();
    assert_eq!(
        count(&tarn, "SELECT count(*) FROM t").await,
        1000 - 334 + 10
    );
    s.query("CREATE TABLE c AS SELECT k, count(*) AS n FROM t GROUP BY k")
        .await
        .unwrap();
    assert_eq!(count(&tarn, "SELECT sum(n) FROM c").await, 676);
    let written = objects(&store, "warehouse/t").await;
    assert!(
        written
            .iter()
            .any(|o| o.contains("k=0/tarn-") && o.ends_with(".parquet")),
        "{written:?}"
    );

    // External data written straight to the bucket: Hive partitions, the default partition,
    // a marker file.
    for (key, ids) in [
        ("raw/events/day=2024-01-01/a.parquet", 0..5),
        ("raw/events/day=2024-01-02/b.parquet", 5..12),
        (
            "raw/events/day=__HIVE_DEFAULT_PARTITION__/c.parquet",
            12..15,
        ),
    ] {
        store
            .put(&object_store::path::Path::from(key), parquet(ids).into())
            .await
            .unwrap();
    }
    store
        .put(
            &object_store::path::Path::from("raw/events/day=2024-01-01/_SUCCESS"),
            bytes::Bytes::new().into(),
        )
        .await
        .unwrap();
    s.query(
        "CREATE EXTERNAL TABLE ev (id bigint) PARTITIONED BY (day date) STORED AS PARQUET
         LOCATION 's3://lake/raw/events'",
    )
    .await
    .unwrap();
    s.query("MSCK REPAIR TABLE ev").await.unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM ev").await, 15);
    assert_eq!(
        count(&tarn, "SELECT count(*) FROM ev WHERE day IS NULL").await,
        3
    );
    assert_eq!(
        count(
            &tarn,
            "SELECT count(*) FROM ev WHERE day = DATE '2024-01-02'"
        )
        .await,
        7
    );
    // Appending into a listed partition on S3, then reading it back.
    s.query("INSERT INTO ev SELECT value, DATE '2024-01-02' FROM generate_series(100, 104)")
        .await
        .unwrap();
    assert_eq!(
        count(
            &tarn,
            "SELECT count(*) FROM ev WHERE day = DATE '2024-01-02'"
        )
        .await,
        12
    );
    s.query("ALTER TABLE ev DROP PARTITION (day='2024-01-01')")
        .await
        .unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM ev").await, 15);
    // External data stays in the bucket; a managed table's goes with it.
    assert!(
        !objects(&store, "raw/events/day=2024-01-01")
            .await
            .is_empty()
    );
    s.query("DROP TABLE t").await.unwrap();
    assert_eq!(objects(&store, "warehouse/t").await, Vec::<String>::new());
    assert_eq!(count(&tarn, "SELECT sum(n) FROM c").await, 676);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_is_a_clear_error_not_a_hang() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    let mut storage = tarn::storage::StorageConfig::from_url("s3://gone");
    storage.endpoint = Some(format!("http://127.0.0.1:{port}"));
    storage.allow_http = true;
    storage.path_style = true;
    storage.region = Some("us-east-1".into());
    storage.access_key_id = Some("k".into());
    storage.secret_access_key = Some("s".into());
    storage.request_timeout_secs = Some(2);
    storage.max_retries = Some(1);
    config.storage = vec![storage];
    config.allowed_roots = vec!["s3://gone/x".into()];
    let tarn = Tarn::open(config).unwrap();
    let s = tarn.session("t");
    s.query("CREATE EXTERNAL TABLE x (a bigint) STORED AS PARQUET LOCATION 's3://gone/x/t'")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let e = s.query("SELECT count(*) FROM x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StorageIo, "{e}");
    assert!(e.to_string().contains("gone"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// The same lake on Azure Blob Storage (the Azurite emulator): managed tables, an overwrite,
/// DROP deleting the data, read back through the store itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warehouse_lives_on_azure_blob_storage() {
    let azurite = crate::support::azurite::Azurite::start();
    azurite.create_container("lake");
    let storage = azurite.storage("lake");
    let store = storage.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.warehouse = "az://lake/warehouse".into();
    config.storage = vec![storage];
    let tarn = Tarn::open(config).unwrap();
    let s = tarn.session("t");
    s.query(
        "CREATE TABLE t (id bigint) PARTITIONED BY (k int);
         INSERT INTO t SELECT value, value % 2 FROM generate_series(1, 100);
         INSERT OVERWRITE TABLE t PARTITION (k=0) SELECT value FROM generate_series(1, 5)",
    )
    .await
    .unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM t").await, 55);
    assert!(!objects(&store, "warehouse/t").await.is_empty());
    s.query("DROP TABLE t").await.unwrap();
    assert_eq!(objects(&store, "warehouse/t").await, Vec::<String>::new());
}
