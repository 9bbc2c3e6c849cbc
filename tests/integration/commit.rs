//! The commit protocol where directories are listed (external tables, registered partitions)
//! and in the warehouse, on local disk and on S3 (moto): writers killed at random points while
//! they append, overwrite and re-run batches, checked against a model fed only by the
//! client-side log of acknowledged statements and, after VACUUM, against a plain Parquet
//! reader listing the same directories.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use tarn::datafusion::arrow::array::AsArray;
use tarn::datafusion::arrow::datatypes::{Int32Type, Int64Type};
use tarn::datafusion::prelude::{ParquetReadOptions, SessionContext};
use tarn::{EngineConfig, Tarn};

use crate::support::moto::Moto;

/// Rows per batch tag `b`, from a query returning (b int, count bigint).
fn counts(batches: &[tarn::datafusion::arrow::array::RecordBatch]) -> BTreeMap<i32, i64> {
    let mut out = BTreeMap::new();
    for batch in batches {
        let b = batch.column(0).as_primitive::<Int32Type>();
        let n = batch.column(1).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            *out.entry(b.value(i)).or_insert(0) += n.value(i);
        }
    }
    out
}

fn rows_of(i: usize) -> i64 {
    2000 + 37 * i as i64
}

/// One statement of a round: its SQL, and the scope whose earlier rows it replaces (an
/// overwritten partition, a re-run batch id), if any.
fn statement(i: usize, b: i32) -> (String, Option<String>) {
    let n = rows_of(i);
    let rows = format!("SELECT value, {b} FROM generate_series(1, {n})");
    match i % 5 {
        // Appends to the unpartitioned external table.
        0 => (format!("INSERT INTO plain {rows};\n"), None),
        // A re-run of one of three batch ids.
        1 => {
            let id = format!("r{}", (i / 5) % 3);
            let sql = format!(
                "SET tarn.batch_id = '{id}';\nINSERT INTO plain {rows};\nSET tarn.batch_id = '';\n"
            );
            (sql, Some(id))
        }
        // Overwrites of a registered (listed) partition.
        2 => (
            format!("INSERT OVERWRITE TABLE parts PARTITION (k=0) {rows};\n"),
            Some("k=0".into()),
        ),
        // Appends to another registered partition.
        3 => (format!("INSERT INTO parts PARTITION (k=1) {rows};\n"), None),
        // Appends to a managed table in the warehouse, partitions chosen by the rows.
        _ => (
            format!(
                "INSERT INTO managed SELECT value, {b}, value % 3 FROM generate_series(1, {n});\n"
            ),
            None,
        ),
    }
}

/// What the tables must hold: rows per batch tag, and the tags of each replaceable scope.
#[derive(Clone, Default, PartialEq, Debug)]
struct Model {
    rows: BTreeMap<i32, i64>,
    scopes: BTreeMap<String, Vec<i32>>,
}

impl Model {
    fn commit(&mut self, b: i32, rows: i64, scope: Option<&str>) {
        if let Some(scope) = scope {
            for old in self.scopes.remove(scope).unwrap_or_default() {
                self.rows.remove(&old);
            }
            self.scopes.insert(scope.to_string(), vec![b]);
        }
        self.rows.insert(b, rows);
    }
}

/// Where the lake and the warehouse live: a local directory, or a bucket on moto.
struct Lake {
    /// Root of the external tables' directories (a path or an `s3://` URL).
    root: String,
    /// The warehouse, when not the data directory's default.
    warehouse: Option<String>,
    storage: Vec<tarn::storage::StorageConfig>,
}

impl Lake {
    /// `tarn.toml` for the child processes.
    fn toml(&self) -> String {
        let mut out = String::new();
        if let Some(w) = &self.warehouse {
            out.push_str(&format!("warehouse = \"{w}\"\n"));
        }
        for s in &self.storage {
            out.push_str(&format!(
                "[[storage]]\nurl = \"{}\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n\
                 allow_http = true\npath_style = true\nconditional_put = \"etag\"\n\
                 access_key_id = \"testing\"\nsecret_access_key = \"testing\"\n\
                 request_timeout_secs = 10\nmax_retries = 1\n",
                s.url,
                s.endpoint.as_deref().unwrap_or_default()
            ));
        }
        out
    }

    /// An in-process engine over the same catalog and stores.
    fn open(&self, data: &std::path::Path) -> Tarn {
        let mut config = EngineConfig::new(data);
        if let Some(w) = &self.warehouse {
            config.warehouse = w.clone();
        }
        config.storage = self.storage.clone();
        Tarn::open(config).unwrap()
    }

    /// A plain DataFusion context that reads the lake's store.
    fn plain_reader(&self) -> SessionContext {
        let ctx = SessionContext::new();
        for s in &self.storage {
            let url = url::Url::parse(&s.url).unwrap();
            ctx.register_object_store(&url, s.build().unwrap());
        }
        ctx
    }
}

#[test]
fn killed_writes_are_never_read_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for d in ["plain", "parts/k=0", "parts/k=1"] {
        std::fs::create_dir_all(lake.join(d)).unwrap();
    }
    let lake = Lake {
        root: lake.display().to_string(),
        warehouse: None,
        storage: vec![],
    };
    killed_writes_are_never_read(&dir.path().join("data"), &lake);
}

#[test]
fn killed_writes_are_never_read_on_s3() {
    let moto = Moto::start();
    moto.create_bucket("lake");
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake {
        root: "s3://lake/ext".into(),
        warehouse: Some("s3://lake/wh".into()),
        storage: vec![moto.storage("lake")],
    };
    killed_writes_are_never_read(&dir.path().join("data"), &lake);
}

/// Rows per batch tag of every table, as tarn reads them.
async fn tarn_counts(engine: &Tarn) -> BTreeMap<i32, i64> {
    let s = engine.session("check");
    let mut seen = BTreeMap::new();
    for table in ["plain", "parts", "managed"] {
        let sql = format!("SELECT b, count(*) FROM {table} GROUP BY b");
        for (b, n) in counts(&s.query(&sql).await.unwrap()) {
            *seen.entry(b).or_insert(0) += n;
        }
    }
    seen
}

fn killed_writes_are_never_read(data: &std::path::Path, lake: &Lake) {
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(data.join("tarn.toml"), lake.toml()).unwrap();
    let tarn_bin = env!("CARGO_BIN_EXE_tarn");
    let tarn = |args: &[&str]| {
        let mut c = Command::new(tarn_bin);
        c.env("TARN_ALLOWED_ROOTS", &lake.root)
            .arg("--data-dir")
            .arg(data)
            .arg("sql")
            .args(args);
        c
    };
    let setup = format!(
        "CREATE EXTERNAL TABLE plain (v bigint, b int) STORED AS PARQUET LOCATION '{root}/plain';
         CREATE EXTERNAL TABLE parts (v bigint, b int) PARTITIONED BY (k int)
           STORED AS PARQUET LOCATION '{root}/parts';
         ALTER TABLE parts ADD PARTITION (k=0); ALTER TABLE parts ADD PARTITION (k=1);
         CREATE TABLE managed (v bigint, b int) PARTITIONED BY (k bigint)",
        root = lake.root
    );
    let out = tarn(&["-q", "-e", &setup]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut model = Model::default();
    let mut seed = 0x7a11_u64;
    let mut interrupted = 0;
    let mut mid_script = 0;
    for round in 0..20 {
        let b = |i: usize| (round * 100 + i) as i32;
        let statements: Vec<(String, Option<String>)> =
            (0..40).map(|i| statement(i, b(i))).collect();
        let script = data.join("round.sql");
        std::fs::write(
            &script,
            statements
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<String>(),
        )
        .unwrap();
        let log = data.join("round.log");
        let mut child = tarn(&["-f", script.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Kill points spread over the first statements (a remote store is slower).
        let window = if lake.storage.is_empty() { 600 } else { 1500 };
        std::thread::sleep(Duration::from_millis(50 + (seed >> 33) % window));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Every acknowledged INSERT committed; the next one may or may not have.
        let acked = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("INSERT "))
            .count();
        for (i, (_, scope)) in statements.iter().enumerate().take(acked) {
            model.commit(b(i), rows_of(i), scope.as_deref());
        }
        let seen = runtime.block_on(async { tarn_counts(&lake.open(data)).await });
        if acked > 0 && acked < 40 {
            mid_script += 1;
        }
        if acked < 40 {
            interrupted += 1;
            let mut landed = model.clone();
            landed.commit(b(acked), rows_of(acked), statements[acked].1.as_deref());
            if seen == landed.rows {
                model = landed;
            }
        }
        assert_eq!(seen, model.rows, "round {round}: {acked} acknowledged");
    }
    assert!(
        interrupted >= 5 && mid_script >= 3,
        "only {interrupted} rounds were killed before the end, {mid_script} after a commit"
    );

    // VACUUM reclaims killed, failed and superseded writes' files: a plain Parquet reader
    // listing the directories of the appended table and partition then sees what tarn sees.
    std::thread::sleep(Duration::from_millis(1100));
    let vacuum = "SET tarn.vacuum_retention_check = off;
                  VACUUM plain RETAIN 0 HOURS; VACUUM parts RETAIN 0 HOURS;
                  VACUUM managed RETAIN 0 HOURS";
    let out = tarn(&["-q", "-e", vacuum]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (plain_reader, tarn_view) = runtime.block_on(async {
        let ctx = lake.plain_reader();
        let mut seen = BTreeMap::new();
        for table in ["plain", "parts/k=1"] {
            let path = format!("{}/{table}/", lake.root);
            let frame = ctx
                .read_parquet(path, ParquetReadOptions::default())
                .await
                .unwrap();
            let batches = frame
                .aggregate(
                    vec![tarn::datafusion::prelude::col("b")],
                    vec![tarn::datafusion::functions_aggregate::expr_fn::count(
                        tarn::datafusion::prelude::lit(1),
                    )],
                )
                .unwrap()
                .collect()
                .await
                .unwrap();
            for (b, n) in counts(&batches) {
                *seen.entry(b).or_insert(0) += n;
            }
        }
        let engine = lake.open(data);
        let s = engine.session("check");
        let mut view = counts(
            &s.query("SELECT b, count(*) FROM plain GROUP BY b")
                .await
                .unwrap(),
        );
        view.extend(counts(
            &s.query("SELECT b, count(*) FROM parts WHERE k = 1 GROUP BY b")
                .await
                .unwrap(),
        ));
        (seen, view)
    });
    assert_eq!(plain_reader, tarn_view);
}
