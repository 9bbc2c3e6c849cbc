//! Helpers the partition benchmarks share: a tiny Parquet file, the partition of an index,
//! the median.

use std::sync::Arc;
use std::time::Duration;

use tarn::datafusion::arrow::array::{Int64Array, RecordBatch};
use tarn::datafusion::arrow::datatypes::{DataType, Field, Schema};
use tarn::datafusion::parquet::arrow::ArrowWriter;

/// A Parquet file of one column `v` holding 1, 2, 3.
pub fn tiny_parquet() -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
    )
    .expect("batch");
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    buf
}

/// The `dt` of partition `i` (24 hours a day from 2000-01-01).
pub fn day(i: usize) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("date");
    (base + chrono::Days::new((i / 24) as u64)).to_string()
}

pub fn p50(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
