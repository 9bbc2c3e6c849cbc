//! The largest and smallest values of every date/time type encode without overflow, in both
//! formats (binary shifts to PostgreSQL's epoch; text adds the session's time zone offset).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, IntervalMonthDayNanoArray, RecordBatch, Time64MicrosecondArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::IntervalMonthDayNano;

use super::{BatchEncoder, Format, TextContext};

fn extremes() -> RecordBatch {
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "d",
            Arc::new(Date32Array::from(vec![i32::MIN, i32::MAX, 0])),
        ),
        (
            "t",
            Arc::new(Time64MicrosecondArray::from(vec![i64::MIN, i64::MAX, -1])),
        ),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(vec![i64::MIN, i64::MAX, 0])),
        ),
        (
            "tstz",
            Arc::new(
                TimestampMicrosecondArray::from(vec![i64::MIN, i64::MAX, 0])
                    .with_timezone("America/New_York"),
            ),
        ),
        (
            "i",
            Arc::new(IntervalMonthDayNanoArray::from(vec![
                IntervalMonthDayNano::new(i32::MIN, i32::MIN, i64::MIN),
                IntervalMonthDayNano::new(i32::MAX, i32::MAX, i64::MAX),
                IntervalMonthDayNano::new(0, 0, 0),
            ])),
        ),
    ];
    RecordBatch::try_from_iter(columns).unwrap()
}

#[test]
fn extreme_datetimes_encode_without_overflow() {
    let batch = extremes();
    for tz in ["UTC", "America/New_York", "Asia/Kolkata"] {
        let context = TextContext::new(tz);
        for format in [Format::Text, Format::Binary] {
            let formats = vec![format; batch.num_columns()];
            let encoder = BatchEncoder::new(&batch, &formats, &context).unwrap();
            let mut out = Vec::new();
            encoder.write_rows(0..batch.num_rows(), &mut out);
            assert!(!out.is_empty());
        }
    }
}
