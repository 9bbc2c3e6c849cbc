//! The commit protocol where directories are listed (external tables, registered partitions):
//! writers killed at random points, checked against a client-side log of acknowledged
//! statements and, after VACUUM, against a plain Parquet reader listing the same directories.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use tarn::Tarn;
use tarn::datafusion::arrow::array::AsArray;
use tarn::datafusion::arrow::datatypes::{Int32Type, Int64Type};
use tarn::datafusion::prelude::{ParquetReadOptions, SessionContext};

/// Rows per batch number `b`, from a query returning (b int, count bigint).
fn counts(batches: &[tarn::datafusion::arrow::array::RecordBatch]) -> BTreeMap<i32, i64> {
    let mut out = BTreeMap::new();
    for batch in batches {
        let b = batch.column(0).as_primitive::<Int32Type>();
        let n = batch.column(1).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            out.insert(b.value(i), n.value(i));
        }
    }
    out
}

fn rows_of(i: usize) -> i64 {
    2000 + 37 * i as i64
}

/// Statement `i` of a round: even ones append to the unpartitioned external table, odd ones to
/// the registered (listed) partitions of the partitioned one; `b` tags the batch.
fn statement(i: usize, b: i32) -> String {
    let n = rows_of(i);
    if i.is_multiple_of(2) {
        format!("INSERT INTO plain SELECT value, {b} FROM generate_series(1, {n});\n")
    } else {
        format!("INSERT INTO parts SELECT value, {b}, value % 2 FROM generate_series(1, {n});\n")
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
    // b -> rows: what must be there (acknowledged) and what may be (in flight at the kill).
    let mut must: BTreeMap<i32, i64> = BTreeMap::new();
    let mut may: BTreeMap<i32, i64> = BTreeMap::new();
    let mut seed = 0x7a11_u64;
    let mut interrupted = 0;
    for round in 0..20 {
        let script = data.join("round.sql");
        let b = |i: usize| (round * 100 + i) as i32;
        std::fs::write(
            &script,
            (0..40).map(|i| statement(i, b(i))).collect::<String>(),
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
        let acked = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("INSERT "))
            .count();
        for i in 0..acked {
            must.insert(b(i), rows_of(i));
        }
        if acked < 40 {
            may.insert(b(acked), rows_of(acked));
            interrupted += 1;
        }
        let engine = runtime.block_on(async { Tarn::open_dir(&data) }).unwrap();
        let seen = runtime.block_on(async {
            let s = engine.session("check");
            let mut seen = counts(
                &s.query("SELECT b, count(*) FROM plain GROUP BY b")
                    .await
                    .unwrap(),
            );
            seen.extend(counts(
                &s.query("SELECT b, count(*) FROM parts GROUP BY b")
                    .await
                    .unwrap(),
            ));
            seen
        });
        for (b, n) in &seen {
            let expected = must.get(b).or(may.get(b));
            assert_eq!(expected, Some(n), "round {round}: batch {b} has {n} rows");
        }
        for (b, n) in &must {
            assert_eq!(
                seen.get(b),
                Some(n),
                "round {round}: acknowledged batch {b} lost"
            );
        }
        // What was in flight is now decided: keep it only if it landed.
        may.retain(|b, _| seen.contains_key(b));
        must.extend(std::mem::take(&mut may));
    }

    assert!(
        interrupted >= 5,
        "only {interrupted} rounds were killed mid-script"
    );
    // VACUUM reclaims the killed writes' files: a plain Parquet reader listing the directories
    // then sees exactly what tarn sees.
    std::thread::sleep(Duration::from_millis(1100));
    let vacuum = "SET tarn.vacuum_retention_check = off;
                  VACUUM plain RETAIN 0 HOURS; VACUUM parts RETAIN 0 HOURS";
    let out = tarn(&["-q", "-e", vacuum]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain_reader = runtime.block_on(async {
        let ctx = SessionContext::new();
        let mut seen = BTreeMap::new();
        for table in ["plain", "parts/k=0", "parts/k=1"] {
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
        seen
    });
    assert_eq!(plain_reader, must);
}
