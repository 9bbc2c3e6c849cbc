//! Arrow -> Postgres DataRow encoding, the server's per-row hot path, on a lineitem-shaped
//! batch (ints, decimals, dates, short and long strings): rows/s in text and binary format.
//!
//! `cargo bench --bench pg_encode` (rows: `TARN_BENCH_ROWS=1000000`, best of `TARN_BENCH_ITERS=5`).
//! The 6M-row lineitem transfer in shared/bench/transfer_compare.py is the end-to-end measure;
//! this isolates the encoder from Parquet decoding and the socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tarn::datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use tarn::datafusion::arrow::datatypes::{Field, Schema};
use tarn::server::pg::encode::{BatchEncoder, Format, TextContext};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn lineitem_like(rows: usize) -> RecordBatch {
    let i = || 0..rows as i64;
    let decimal = |scale_mul: i64| -> ArrayRef {
        Arc::new(
            Decimal128Array::from_iter_values(i().map(|v| (v * scale_mul % 10_000_000) as i128))
                .with_precision_and_scale(15, 2)
                .expect("decimal"),
        )
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "l_orderkey",
            Arc::new(Int64Array::from_iter_values(i().map(|v| v * 4 + 1))),
        ),
        (
            "l_linenumber",
            Arc::new(Int32Array::from_iter_values(i().map(|v| (v % 7) as i32))),
        ),
        ("l_quantity", decimal(100)),
        ("l_extendedprice", decimal(7919)),
        (
            "l_shipdate",
            Arc::new(Date32Array::from_iter_values(
                i().map(|v| 8000 + (v % 2500) as i32),
            )),
        ),
        (
            "l_returnflag",
            Arc::new(StringArray::from_iter_values(
                i().map(|v| ["A", "N", "R"][v as usize % 3]),
            )),
        ),
        (
            "l_comment",
            Arc::new(StringArray::from_iter_values(
                i().map(|v| format!("carefully final deposits {v} wake")),
            )),
        ),
    ];
    let schema = Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("batch")
}

fn measure(batch: &RecordBatch, format: Format, iters: usize) -> (Duration, usize) {
    let context = TextContext::new("UTC");
    let formats = vec![format; batch.num_columns()];
    let mut best = Duration::MAX;
    let mut bytes = 0;
    let mut out = Vec::with_capacity(256 * 1024);
    for _ in 0..iters {
        let started = Instant::now();
        bytes = 0;
        for chunk in (0..batch.num_rows()).step_by(8192) {
            let slice = batch.slice(chunk, 8192.min(batch.num_rows() - chunk));
            let encoder = BatchEncoder::new(&slice, &formats, &context).expect("encoder");
            for rows in (0..slice.num_rows()).step_by(1024) {
                encoder.write_rows(rows..(rows + 1024).min(slice.num_rows()), &mut out);
                bytes += out.len();
                out.clear();
            }
        }
        best = best.min(started.elapsed());
    }
    (best, bytes)
}

fn main() {
    let rows = env("TARN_BENCH_ROWS", 1_000_000);
    let iters = env("TARN_BENCH_ITERS", 5);
    let batch = lineitem_like(rows);
    println!("DataRow encoding of {rows} lineitem-like rows (7 columns), best of {iters}:");
    for (name, format) in [("text", Format::Text), ("binary", Format::Binary)] {
        let (time, bytes) = measure(&batch, format, iters);
        let secs = time.as_secs_f64();
        println!(
            "  {name:6} {:8.1} ms  {:6.2} M rows/s  {:7.1} MB/s  ({:.0} ns/row)",
            secs * 1e3,
            rows as f64 / secs / 1e6,
            bytes as f64 / secs / 1e6,
            secs * 1e9 / rows as f64
        );
    }
}
