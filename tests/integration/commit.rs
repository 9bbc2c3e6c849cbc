//! The commit protocol where directories are listed (external tables, registered partitions):
//! writers killed at random points while they append, overwrite and re-run batches, checked
//! against a model fed only by the client-side log of acknowledged statements and, after
//! VACUUM, against a plain Parquet reader listing the same directories.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use tarn::Tarn;
use tarn::datafusion::arrow::array::AsArray;
use tarn::datafusion::arrow::datatypes::{Int32Type, Int64Type};
use tarn::datafusion::prelude::{ParquetReadOptions, SessionContext};

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
    match i % 4 {
        // Appends to the unpartitioned external table.
        0 => (format!("INSERT INTO plain {rows};\n"), None),
        // A re-run of one of three batch ids.
        1 => {
            let id = format!("r{}", (i / 4) % 3);
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
        _ => (format!("INSERT INTO parts PARTITION (k=1) {rows};\n"), None),
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

#[test]
fn killed_writes_into_listed_directories_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lake = dir.path().join("lake");
    for d in ["plain", "parts/k=0", "parts/k=1"] {
        std::fs::create_dir_all(lake.join(d)).unwrap();
    }
    let tarn_bin = env!("CARGO_BIN_EXE_tarn");
    let tarn = |args: &[&str]| {
        let mut c = Command::new(tarn_bin);
        c.env("TARN_ALLOWED_ROOTS", &lake)
            .arg("--data-dir")
            .arg(&data)
            .arg("sql")
            .args(args);
        c
    };
    let setup = format!(
        "CREATE EXTERNAL TABLE plain (v bigint, b int) STORED AS PARQUET LOCATION '{lake}/plain';
         CREATE EXTERNAL TABLE parts (v bigint, b int) PARTITIONED BY (k int)
           STORED AS PARQUET LOCATION '{lake}/parts';
         ALTER TABLE parts ADD PARTITION (k=0); ALTER TABLE parts ADD PARTITION (k=1)",
        lake = lake.display()
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
        std::thread::sleep(Duration::from_millis(50 + (seed >> 33) % 600));
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
        let engine = runtime.block_on(async { Tarn::open_dir(&data) }).unwrap();
        let seen = runtime.block_on(async {
            let s = engine.session("check");
            let mut seen = counts(
                &s.query("SELECT b, count(*) FROM plain GROUP BY b")
                    .await
                    .unwrap(),
            );
            for (b, n) in counts(
                &s.query("SELECT b, count(*) FROM parts GROUP BY b")
                    .await
                    .unwrap(),
            ) {
                *seen.entry(b).or_insert(0) += n;
            }
            seen
        });
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
                  VACUUM plain RETAIN 0 HOURS; VACUUM parts RETAIN 0 HOURS";
    let out = tarn(&["-q", "-e", vacuum]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (plain_reader, tarn_view) = runtime.block_on(async {
        let ctx = SessionContext::new();
        let mut seen = BTreeMap::new();
        for table in ["plain", "parts/k=1"] {
            let path = format!("{}/{table}/", lake.display());
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
        let engine = Tarn::open_dir(&data).unwrap();
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
