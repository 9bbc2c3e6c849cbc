//! TPC-H on an object store with injected latency vs the same files on local disk, cold and
//! warm, measured side by side in one run; then CTAS of lineitem partitioned by year/month into
//! the store vs into a local warehouse.
//!
//! `cargo bench --bench object_store` with the SF1 Parquet files of `../shared/bench/gen_data.py`
//! in `TARN_BENCH_TPCH` (default `~/.cache/tarn/bench/data/sf1`), queries from
//! `TARN_BENCH_QUERIES` (default `../shared/bench/tpch_queries`), `TARN_BENCH_LATENCY_MS`
//! (default 20) per request, `TARN_BENCH_REPS` (default 3, best of), `TARN_BENCH_ONLY`
//! (`tpch` or `ctas`). Cold is a fresh engine's first run, warm its third (the second fills the
//! scan cache). The "remote" store is the
//! local files behind a wrapper that sleeps before every request and counts GETs, LISTs and
//! bytes (tests/support/faulty.rs); 2 execution threads.

#[path = "../tests/support/faulty.rs"]
#[allow(dead_code)]
mod faulty;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faulty::FaultyStore;
use tarn::{EngineConfig, Tarn};

const TABLES: [&str; 8] = [
    "lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region",
];

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// `<scratch>/tables/<t>/data.parquet`, hard links to the generated files (no copy).
fn table_dirs(tpch: &Path, scratch: &Path) -> PathBuf {
    let root = scratch.join("tables");
    for t in TABLES {
        let dir = root.join(t);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let link = dir.join("data.parquet");
        if !link.exists() {
            std::fs::hard_link(tpch.join(format!("{t}.parquet")), &link).expect("link");
        }
    }
    root
}

struct Setup {
    tables: PathBuf,
    scratch: PathBuf,
    latency: Duration,
}

/// A fresh engine (cold caches) with the TPC-H tables local or behind the slow store.
fn open(setup: &Setup, remote: bool, tag: &str) -> (Tarn, Option<Arc<FaultyStore>>) {
    let data = setup.scratch.join(format!("data-{tag}"));
    let _ = std::fs::remove_dir_all(&data);
    let mut config = EngineConfig::new(&data);
    config.target_partitions = Some(2);
    config.cpu_threads = Some(2);
    config.allowed_roots = vec![setup.tables.display().to_string(), "s3://bench".into()];
    let tarn = Tarn::open(config).expect("open");
    let store = remote.then(|| {
        let local = object_store::local::LocalFileSystem::new_with_prefix(&setup.tables)
            .expect("local store");
        let store = Arc::new(FaultyStore::wrapping(Arc::new(local), setup.latency));
        tarn.register_object_store(&url::Url::parse("s3://bench").expect("url"), store.clone());
        store
    });
    (tarn, store)
}

async fn declare(tarn: &Tarn, setup: &Setup, remote: bool) {
    let session = tarn.session("bench");
    for t in TABLES {
        let location = if remote {
            format!("s3://bench/{t}")
        } else {
            setup.tables.join(t).display().to_string()
        };
        session
            .query(&format!(
                "CREATE EXTERNAL TABLE {t} STORED AS PARQUET LOCATION '{location}'"
            ))
            .await
            .expect("declare");
    }
}

async fn timed(tarn: &Tarn, sql: &str) -> Duration {
    let session = tarn.session("bench");
    let started = Instant::now();
    session.query(sql).await.expect("query");
    started.elapsed()
}

#[derive(Default, Clone, Copy)]
struct Best {
    local_cold: Option<Duration>,
    remote_cold: Option<Duration>,
    local_warm: Option<Duration>,
    remote_warm: Option<Duration>,
    cold_counts: (u64, u64, u64),
    warm_counts: (u64, u64, u64),
}

fn keep_min(slot: &mut Option<Duration>, d: Duration) {
    *slot = Some(slot.map_or(d, |s| s.min(d)));
}

async fn one_query(setup: &Setup, sql: &str, reps: usize) -> Best {
    let mut best = Best::default();
    for rep in 0..reps {
        // Engine order alternates per rep.
        let order = if rep % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for remote in order {
            let (tarn, store) = open(setup, remote, if remote { "remote" } else { "local" });
            declare(&tarn, setup, remote).await;
            if let Some(s) = &store {
                s.take_counts();
            }
            let cold = timed(&tarn, sql).await;
            let cold_counts = store.as_ref().map(|s| s.take_counts());
            // The second run fills the scan cache (files read whole); the third is warm.
            timed(&tarn, sql).await;
            let _ = store.as_ref().map(|s| s.take_counts());
            let warm = timed(&tarn, sql).await;
            let warm_counts = store.as_ref().map(|s| s.take_counts());
            if remote {
                keep_min(&mut best.remote_cold, cold);
                keep_min(&mut best.remote_warm, warm);
                best.cold_counts = cold_counts.unwrap_or_default();
                best.warm_counts = warm_counts.unwrap_or_default();
            } else {
                keep_min(&mut best.local_cold, cold);
                keep_min(&mut best.local_warm, warm);
            }
        }
    }
    best
}

fn secs(d: Option<Duration>) -> f64 {
    d.map_or(f64::NAN, |d| d.as_secs_f64())
}

async fn tpch_queries(setup: &Setup, queries: &Path, reps: usize) {
    println!(
        "query  local_cold remote_cold ratio | local_warm remote_warm ratio | cold GET LIST MB | warm GET"
    );
    let (mut cold_log, mut warm_log, mut n) = (0.0, 0.0, 0.0);
    for q in 1..=22 {
        let path = queries.join(format!("q{q}.sql"));
        let Ok(sql) = std::fs::read_to_string(&path) else {
            continue;
        };
        let b = one_query(setup, &sql, reps).await;
        let cold = secs(b.remote_cold) / secs(b.local_cold);
        let warm = secs(b.remote_warm) / secs(b.local_warm);
        cold_log += cold.ln();
        warm_log += warm.ln();
        n += 1.0;
        println!(
            "q{q:<4} {:>10.3} {:>11.3} {:>5.2} | {:>10.3} {:>11.3} {:>5.2} | {:>8} {:>4} {:>6.1} | {:>8}",
            secs(b.local_cold),
            secs(b.remote_cold),
            cold,
            secs(b.local_warm),
            secs(b.remote_warm),
            warm,
            b.cold_counts.0,
            b.cold_counts.2,
            b.cold_counts.1 as f64 / 1e6,
            b.warm_counts.0,
        );
    }
    println!(
        "geomean remote/local: cold {:.3}, warm {:.3}",
        (cold_log / n).exp(),
        (warm_log / n).exp()
    );
}

/// CTAS of lineitem partitioned by ship year/month (the source on local disk) into a warehouse
/// on the slow store vs a local warehouse.
async fn ctas(setup: &Setup, reps: usize) {
    let sql = "CREATE TABLE li_part PARTITIONED BY (y, m) AS \
               SELECT *, CAST(date_part('year', l_shipdate) AS int) AS y, \
               CAST(date_part('month', l_shipdate) AS int) AS m FROM lineitem";
    let (mut local, mut remote) = (None, None);
    let mut writes = 0;
    for rep in 0..reps {
        let order = if rep % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for into_store in order {
            let data = setup.scratch.join("data-ctas");
            let _ = std::fs::remove_dir_all(&data);
            let mut config = EngineConfig::new(&data);
            config.target_partitions = Some(2);
            config.cpu_threads = Some(2);
            config.allowed_roots = vec![setup.tables.display().to_string()];
            if into_store {
                config.warehouse = "s3://out/wh".into();
            }
            let tarn = Tarn::open(config).expect("open");
            let out = Arc::new(FaultyStore::new(setup.latency));
            if into_store {
                tarn.register_object_store(&url::Url::parse("s3://out").expect("url"), out.clone());
            }
            declare(&tarn, setup, false).await;
            let elapsed = timed(&tarn, sql).await;
            if into_store {
                keep_min(&mut remote, elapsed);
                writes = out.writes.load(std::sync::atomic::Ordering::SeqCst);
            } else {
                keep_min(&mut local, elapsed);
            }
        }
    }
    println!(
        "CTAS lineitem by year/month: local {:.3}s, store {:.3}s, ratio {:.2}, store writes {writes}",
        secs(local),
        secs(remote),
        secs(remote) / secs(local)
    );
}

fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let tpch = PathBuf::from(env_or(
        "TARN_BENCH_TPCH",
        &format!("{home}/.cache/tarn/bench/data/sf1"),
    ));
    let queries = PathBuf::from(env_or(
        "TARN_BENCH_QUERIES",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench/tpch_queries"),
    ));
    let latency = Duration::from_millis(env_or("TARN_BENCH_LATENCY_MS", "20").parse().expect("ms"));
    let reps: usize = env_or("TARN_BENCH_REPS", "3").parse().expect("reps");
    let scratch = tempfile::tempdir().expect("scratch");
    let setup = Setup {
        tables: table_dirs(&tpch, scratch.path()),
        scratch: scratch.path().to_path_buf(),
        latency,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "TPC-H from {} with {} ms per request on the store, best of {reps}",
        tpch.display(),
        latency.as_millis()
    );
    // TARN_BENCH_ONLY=tpch|ctas runs one part.
    let only = env_or("TARN_BENCH_ONLY", "");
    runtime.block_on(async {
        if only != "ctas" {
            tpch_queries(&setup, &queries, reps).await;
        }
        if only != "tpch" {
            ctas(&setup, reps).await;
        }
    });
}
