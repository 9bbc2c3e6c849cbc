//! The write path's guarantees: concurrent appends all land, racing overwrites resolve with a
//! serialization failure and a consistent table, a killed writer publishes nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

use tarn::datafusion::arrow::array::{Array, AsArray};
use tarn::datafusion::arrow::datatypes::Int64Type;
use tarn::{ErrorKind, Tarn};

use crate::support::TestLake;

async fn scalar(tarn: &Tarn, sql: &str) -> i64 {
    let rows = tarn.session("check").query(sql).await.unwrap();
    let col = rows[0].column(0);
    if col.is_null(0) {
        0
    } else {
        col.as_primitive::<Int64Type>().value(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_all_land() {
    let lake = TestLake::new();
    lake.tarn
        .session("setup")
        .query("CREATE TABLE t (writer int, i int)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let tarn = lake.tarn.clone();
        tasks.push(tokio::spawn(async move {
            let session = tarn.session(&format!("writer{w}"));
            for i in 0..25 {
                session
                    .query(&format!("INSERT INTO t VALUES ({w}, {i})"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(scalar(&lake.tarn, "SELECT count(*) FROM t").await, 200);
    assert_eq!(
        scalar(&lake.tarn, "SELECT count(DISTINCT writer * 100 + i) FROM t").await,
        200
    );
    assert_eq!(
        scalar(
            &lake.tarn,
            "SELECT count(*) FROM tarn.batches WHERE table_name = 't'"
        )
        .await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_overwrites_serialize() {
    let lake = TestLake::new();
    lake.tarn
        .session("setup")
        .query("CREATE TABLE p (v bigint, w int) PARTITIONED BY (k string)")
        .await
        .unwrap();
    let mut conflicts = 0;
    for round in 0..6 {
        let mut tasks = Vec::new();
        for w in 0..2 {
            let tarn = lake.tarn.clone();
            tasks.push(tokio::spawn(async move {
                let sql = format!(
                    "INSERT OVERWRITE TABLE p PARTITION (k='a') SELECT value, {w} FROM generate_series(1, 200000)"
                );
                tarn.session("racer").query(&sql).await.map(|_| w)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(w) => winners.push(w),
                Err(e) => {
                    assert_eq!(
                        e.kind(),
                        ErrorKind::SerializationFailure,
                        "round {round}: {e}"
                    );
                    conflicts += 1;
                }
            }
        }
        assert!(!winners.is_empty(), "someone must win");
        // Whatever happened, the partition holds exactly one writer's complete result.
        assert_eq!(scalar(&lake.tarn, "SELECT count(*) FROM p").await, 200000);
        assert_eq!(
            scalar(&lake.tarn, "SELECT count(DISTINCT w) FROM p").await,
            1
        );
    }
    assert!(
        conflicts > 0,
        "overlapping overwrites should have conflicted at least once"
    );
}

/// A small deterministic generator for kill points.
fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

#[test]
fn killed_writers_publish_nothing_partial() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let tarn_bin = env!("CARGO_BIN_EXE_tarn");
    let run = |sql: &str| {
        Command::new(tarn_bin)
            .arg("--data-dir")
            .arg(data)
            .args(["sql", "-q", "-e", sql])
            .output()
            .unwrap()
    };
    assert!(
        run("CREATE TABLE c (v bigint) PARTITIONED BY (k int)")
            .status
            .success()
    );
    let script = data.join("writes.sql");
    let inserts: String = (0..40)
        .map(|i| {
            format!(
                "INSERT INTO c SELECT value, value % 3 FROM generate_series(1, {});\n",
                500 + i
            )
        })
        .collect();
    std::fs::write(&script, inserts).unwrap();
    let mut seed = 0x5eed_u64;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut total = 0;
    for round in 0..12 {
        let mut child = Command::new(tarn_bin)
            .arg("--data-dir")
            .arg(data)
            .args(["sql", "-q", "-f"])
            .arg(&script)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + next(&mut seed) % 400));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // After the kill: the table opens, and holds exactly what was committed.
        let tarn = runtime.block_on(async { Tarn::open_dir(data) }).unwrap();
        let (rows, committed) = runtime.block_on(async {
            (
                scalar(&tarn, "SELECT count(*) FROM c").await,
                scalar(&tarn, "SELECT coalesce(sum(rows_written), 0) FROM tarn.batches WHERE table_name = 'c'").await,
            )
        });
        assert_eq!(rows, committed, "round {round}");
        total = committed;
    }
    assert!(
        total > 0,
        "some writes should have committed before the kills"
    );
}

#[tokio::test]
async fn file_index_statistics_answer_count_without_reading() {
    let lake = TestLake::new();
    let session = lake.tarn.session("stats");
    session
        .query(
            "CREATE TABLE s PARTITIONED BY (k) AS
             SELECT value AS v, CASE WHEN value % 3 = 0 THEN NULL ELSE value % 3 END AS k
             FROM generate_series(1, 3000)",
        )
        .await
        .unwrap();
    let plan = session
        .query("EXPLAIN SELECT count(*) FROM s")
        .await
        .unwrap();
    let text = tarn::pretty(&plan).unwrap();
    assert!(
        !text.contains("DataSourceExec"),
        "count(*) should come from the file index:\n{text}"
    );
    assert_eq!(scalar(&lake.tarn, "SELECT count(*) FROM s").await, 3000);
    assert_eq!(
        scalar(&lake.tarn, "SELECT count(*) FROM s WHERE k IS NULL").await,
        1000
    );
    assert_eq!(
        scalar(&lake.tarn, "SELECT count(*) FROM s WHERE v > 2990").await,
        10
    );
    assert_eq!(
        scalar(&lake.tarn, "SELECT max(v) FROM s WHERE k = 1").await,
        2998
    );
}
