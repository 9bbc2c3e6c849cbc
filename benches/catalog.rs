//! The two catalog stores side by side in one run: the embedded SQLite catalog and a PostgreSQL
//! one (a local cluster started by `tarn_catalog::testing`, loopback, asynchronous commits).
//!
//! For each size: a point query (one partition of a `(dt date, h int)` table) as p50 latency,
//! DESCRIBE, and the time to register the partitions (ALTER TABLE ADD PARTITION, 5,000 per
//! statement); then MSCK REPAIR of a directory tree and SHOW PARTITIONS of it.
//!
//! `cargo bench --bench catalog` (sizes: `TARN_BENCH_PARTITIONS=100000,1000000`, iterations:
//! `TARN_BENCH_ITERS=50`, MSCK tree: `TARN_BENCH_MSCK=100000`). Only the partitions the point
//! queries read have files: what is measured is the catalog.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use tarn::datafusion::arrow::array::{Int64Array, RecordBatch};
use tarn::{EngineConfig, Tarn, TarnSession};
use tarn_catalog::testing::PostgresServer;

use common::{day, p50, tiny_parquet};

fn partition_dir(root: &Path, i: usize) -> std::path::PathBuf {
    root.join(format!("dt={}/h={}", day(i), i % 24))
}

fn write_dirs(root: &Path, which: impl Iterator<Item = usize>) {
    let bytes = tiny_parquet();
    for i in which {
        let dir = partition_dir(root, i);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("part-0.parquet"), &bytes).expect("write");
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The partitions the point queries read.
fn probes(n: usize, iters: usize) -> Vec<usize> {
    (0..iters).map(|k| (k * 7919 + 13) % n).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Store {
    Sqlite,
    Postgres,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Sqlite => "SQLite",
            Store::Postgres => "PostgreSQL",
        }
    }
}

async fn open(store: Store, data: &Path, root: &Path, pg: &PostgresServer) -> Tarn {
    let mut config = EngineConfig::new(data);
    let lake = root.parent().expect("a lake directory");
    config.allowed_roots = vec![lake.display().to_string()];
    if store == Store::Postgres {
        config.catalog = Some(pg.options("bench"));
    }
    Tarn::connect(config).await.expect("open")
}

async fn timed(session: &TarnSession, sql: &str) -> (Duration, Vec<RecordBatch>) {
    let t = Instant::now();
    let rows = session.query(sql).await.expect(sql);
    (t.elapsed(), rows)
}

struct PointResult {
    register: Duration,
    point: Duration,
    describe: Duration,
    trips: Option<u64>,
}

async fn bench_points(
    session: &TarnSession,
    tarn: &Tarn,
    root: &Path,
    n: usize,
    iters: usize,
) -> PointResult {
    session
        .query(&format!(
            "CREATE EXTERNAL TABLE parts (v bigint) PARTITIONED BY (dt date, h int) \
             STORED AS PARQUET LOCATION '{}'",
            root.display()
        ))
        .await
        .expect("create");
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let specs: String = chunk
            .iter()
            .map(|i| format!(" PARTITION (dt='{}', h={})", day(*i), i % 24))
            .collect();
        session
            .query(&format!("ALTER TABLE parts ADD{specs}"))
            .await
            .expect("add");
    }
    let register = started.elapsed();
    let mut samples = Vec::new();
    let trips_before = tarn.engine().catalog_round_trips();
    for i in probes(n, iters) {
        let sql = format!(
            "SELECT count(*), sum(v) FROM parts WHERE dt = DATE '{}' AND h = {}",
            day(i),
            i % 24
        );
        let (took, rows) = timed(session, &sql).await;
        let count = rows[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("count")
            .value(0);
        assert_eq!(count, 3, "{sql}");
        samples.push(took);
    }
    let trips = tarn
        .engine()
        .catalog_round_trips()
        .zip(trips_before)
        .map(|(after, before)| (after - before) / iters as u64);
    let mut describes = Vec::new();
    for _ in 0..iters.min(20) {
        describes.push(timed(session, "DESCRIBE parts").await.0);
    }
    PointResult {
        register,
        point: p50(samples),
        describe: p50(describes),
        trips,
    }
}

async fn bench_msck(session: &TarnSession, tree: &Path, m: usize) -> (Duration, Duration) {
    session
        .query(&format!(
            "CREATE EXTERNAL TABLE tree (v bigint) PARTITIONED BY (dt date, h int) \
             STORED AS PARQUET LOCATION '{}'",
            tree.display()
        ))
        .await
        .expect("create");
    let (msck, _) = timed(session, "MSCK REPAIR TABLE tree").await;
    let (show, rows) = timed(session, "SHOW PARTITIONS tree").await;
    let shown: usize = rows.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(shown, m);
    (msck, show)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("TARN_BENCH_PARTITIONS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let iters: usize = std::env::var("TARN_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let msck: usize = std::env::var("TARN_BENCH_MSCK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("rt");
    let pg = PostgresServer::start();
    let stores = [Store::Sqlite, Store::Postgres];
    println!("store      | partitions | point p50 | DESCRIBE p50 | catalog trips/query | register");
    for &n in &sizes {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("lake/parts");
        write_dirs(&root, probes(n, iters).into_iter());
        let mut points = Vec::new();
        for store in stores {
            let data = dir.path().join(store.name());
            let r = runtime.block_on(async {
                let tarn = open(store, &data, &root, &pg).await;
                let session = tarn.session("bench");
                bench_points(&session, &tarn, &root, n, iters).await
            });
            println!(
                "{:<10} | {n:>10} | {:>6.2} ms | {:>9.2} ms | {:>19} | {:.1} s",
                store.name(),
                ms(r.point),
                ms(r.describe),
                r.trips.map_or("-".into(), |t| t.to_string()),
                r.register.as_secs_f64()
            );
            points.push(r.point);
        }
        println!(
            "PostgreSQL / SQLite point p50 at {n}: {:.2}x",
            points[1].as_secs_f64() / points[0].as_secs_f64()
        );
    }
    if msck > 0 {
        let dir = tempfile::tempdir().expect("tmp");
        let tree = dir.path().join("lake/tree");
        write_dirs(&tree, 0..msck);
        println!("store      | MSCK REPAIR of {msck} | SHOW PARTITIONS");
        for store in stores {
            let data = dir.path().join(store.name());
            let (repair, show) = runtime.block_on(async {
                let tarn = open(store, &data, &tree, &pg).await;
                bench_msck(&tarn.session("bench"), &tree, msck).await
            });
            println!(
                "{:<10} | {:>9.2} s | {:>9.1} ms",
                store.name(),
                repair.as_secs_f64(),
                ms(show)
            );
        }
    }
}
