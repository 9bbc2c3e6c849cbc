//! Point-query latency against the number of registered partitions, tarn vs DataFusion's
//! ListingTable over the same directories, measured in one run.
//!
//! `cargo bench --bench partitions` (sizes: `TARN_BENCH_PARTITIONS=10000,100000`,
//! iterations: `TARN_BENCH_ITERS=30`). Each partition holds one tiny Parquet file.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use tarn::datafusion::prelude::SessionContext;
use tarn::{EngineConfig, Tarn};

use common::{day, p50, tiny_parquet};

fn write_dirs(root: &Path, n: usize) {
    let bytes = tiny_parquet();
    for i in 0..n {
        let dir = root.join(format!("dt={}/h={}", day(i), i % 24));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("part-0.parquet"), &bytes).expect("write");
    }
}

fn point_sql(table: &str, i: usize) -> String {
    format!(
        "SELECT count(*), sum(v) FROM {table} WHERE dt = DATE '{}' AND h = {}",
        day(i),
        i % 24
    )
}

async fn bench_tarn(root: &Path, data: &Path, n: usize, iters: usize) -> (Duration, Duration) {
    let mut config = EngineConfig::new(data);
    config.allowed_roots = vec![root.display().to_string()];
    let tarn = Tarn::open(config).expect("open");
    let session = tarn.session("bench");
    session
        .query(&format!(
            "CREATE EXTERNAL TABLE parts (v bigint) PARTITIONED BY (dt date, h int) STORED AS PARQUET LOCATION '{}'",
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
    for k in 0..iters {
        let i = (k * 7919) % n;
        let t = Instant::now();
        let rows = session.query(&point_sql("parts", i)).await.expect("query");
        samples.push(t.elapsed());
        assert_eq!(rows[0].num_rows(), 1);
    }
    (p50(samples), register)
}

async fn bench_listing(root: &Path, n: usize, iters: usize) -> Duration {
    let ctx = SessionContext::new();
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE parts (v bigint, dt date, h int) STORED AS PARQUET PARTITIONED BY (dt, h) LOCATION '{}/'",
        root.display()
    ))
    .await
    .expect("create")
    .collect()
    .await
    .expect("create");
    let mut samples = Vec::new();
    for k in 0..iters {
        let i = (k * 7919) % n;
        let t = Instant::now();
        ctx.sql(&point_sql("parts", i))
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        samples.push(t.elapsed());
    }
    p50(samples)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("TARN_BENCH_PARTITIONS")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let iters: usize = std::env::var("TARN_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("rt");
    println!("partitions | tarn p50 | ListingTable p50 | ratio | tarn register");
    for n in sizes {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("parts");
        write_dirs(&root, n);
        let (tarn_p50, register) =
            runtime.block_on(bench_tarn(&root, &dir.path().join("data"), n, iters));
        let listing_iters = (iters / 6).max(3);
        let df_p50 = runtime.block_on(bench_listing(&root, n, listing_iters));
        println!(
            "{n:>10} | {:>8.2} ms | {:>13.1} ms | {:>6.0}x | {:.1} s",
            tarn_p50.as_secs_f64() * 1e3,
            df_p50.as_secs_f64() * 1e3,
            df_p50.as_secs_f64() / tarn_p50.as_secs_f64(),
            register.as_secs_f64()
        );
    }
}
