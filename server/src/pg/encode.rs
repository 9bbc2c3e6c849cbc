//! Result rows on the wire: Arrow record batches become DataRow messages, batch by batch,
//! written straight into the connection's output buffer (no per-row allocation).
//!
//! Each batch is first normalised to the few Arrow types that have a Postgres equivalent
//! ([`pg_data_type`]): narrower or unsigned integers widen, dictionaries unpack, timestamps become
//! microseconds. Then one cell writer per column encodes values in text or binary format.

mod binary;
mod datetime;
mod text;

#[cfg(test)]
mod extremes;

use std::sync::Arc;

use bytes::BufMut;
use datafusion::arrow::array::{Array, ArrayRef, GenericListArray, RecordBatch};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, IntervalUnit, Schema, TimeUnit};
use datafusion::arrow::error::ArrowError;

pub use text::TextContext;

/// Wire format of a column or parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Binary,
}

impl Format {
    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(Format::Text),
            1 => Some(Format::Binary),
            _ => None,
        }
    }

    pub fn code(self) -> i16 {
        match self {
            Format::Text => 0,
            Format::Binary => 1,
        }
    }
}

/// The format of each of `n` columns from Bind's result format codes (none = all text, one =
/// all that one, else one per column).
pub fn column_formats(codes: &[i16], n: usize) -> Result<Vec<Format>, String> {
    let parse = |c: i16| Format::from_code(c).ok_or_else(|| format!("invalid format code: {c}"));
    match codes.len() {
        0 => Ok(vec![Format::Text; n]),
        1 => Ok(vec![parse(codes[0])?; n]),
        len if len == n => codes.iter().map(|c| parse(*c)).collect(),
        len => Err(format!(
            "result format codes given for {len} columns, but the result has {n}"
        )),
    }
}

/// The Arrow type a column is sent as: one with a Postgres equivalent.
pub fn pg_data_type(data_type: &DataType) -> DataType {
    use DataType::*;
    let list_of = |f: &FieldRef| {
        Arc::new(
            Field::new(f.name(), pg_data_type(f.data_type()), true)
                .with_metadata(f.metadata().clone()),
        )
    };
    match data_type {
        Int8 | UInt8 => Int16,
        UInt16 => Int32,
        UInt32 => Int64,
        UInt64 => Decimal128(20, 0),
        Float16 => Float32,
        Decimal32(p, s) | Decimal64(p, s) => Decimal128(*p, *s),
        LargeBinary | BinaryView => Binary,
        FixedSizeBinary(16) => data_type.clone(),
        FixedSizeBinary(_) => Binary,
        Date64 => Date32,
        Time32(_) | Time64(_) => Time64(TimeUnit::Microsecond),
        Timestamp(_, tz) => Timestamp(TimeUnit::Microsecond, tz.clone()),
        Interval(_) | Duration(_) => Interval(IntervalUnit::MonthDayNano),
        Dictionary(_, value) => pg_data_type(value),
        RunEndEncoded(_, values) => pg_data_type(values.data_type()),
        List(f) | ListView(f) | FixedSizeList(f, _) => List(list_of(f)),
        LargeList(f) | LargeListView(f) => List(list_of(f)),
        other => other.clone(),
    }
}

/// The schema as sent: every field of its pg-equivalent type.
pub fn pg_schema(schema: &Schema) -> Vec<Field> {
    schema
        .fields()
        .iter()
        .map(|f| {
            Field::new(f.name(), pg_data_type(f.data_type()), true)
                .with_metadata(f.metadata().clone())
        })
        .collect()
}

/// Casts a column to its pg-equivalent type (no copy when it already is).
fn normalise(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let target = pg_data_type(column.data_type());
    if &target == column.data_type() {
        return Ok(column.clone());
    }
    if let DataType::Duration(_) = column.data_type() {
        return datetime::duration_to_interval(column);
    }
    cast_with_options(column, &target, &CastOptions::default())
}

/// The element index range of one list value.
pub(crate) fn list_range(list: &GenericListArray<i32>, row: usize) -> (usize, usize) {
    let offsets = list.value_offsets();
    (offsets[row] as usize, offsets[row + 1] as usize)
}

/// Writes one column's non-null value at a row.
pub(crate) trait CellWriter: Send + Sync {
    fn write(&self, row: usize, out: &mut Vec<u8>);
}

/// Encodes the rows `rows` of a batch as DataRow messages into `out`.
pub struct BatchEncoder<'a> {
    columns: Vec<ArrayRef>,
    /// Validity of each column, read once per batch (not through `dyn Array` per cell).
    nulls: Vec<Option<NullBuffer>>,
    writers: Vec<Box<dyn CellWriter + 'a>>,
}

impl<'a> BatchEncoder<'a> {
    pub fn new(
        batch: &RecordBatch,
        formats: &[Format],
        context: &'a TextContext,
    ) -> Result<BatchEncoder<'a>, ArrowError> {
        let columns: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(normalise)
            .collect::<Result<_, _>>()?;
        let fields = pg_schema(batch.schema_ref());
        let writers = columns
            .iter()
            .zip(fields.iter())
            .zip(formats)
            .map(|((column, field), format)| match format {
                Format::Text => text::writer(column.clone(), field, context),
                Format::Binary => binary::writer(column.clone(), field, context),
            })
            .collect::<Result<_, _>>()?;
        let nulls = columns.iter().map(|c| c.logical_nulls()).collect();
        Ok(BatchEncoder {
            columns,
            nulls,
            writers,
        })
    }

    /// Appends one DataRow per row in `rows`.
    pub fn write_rows(&self, rows: std::ops::Range<usize>, out: &mut Vec<u8>) {
        let ncols = self.columns.len() as i16;
        for row in rows {
            let start = out.len();
            out.put_u8(b'D');
            out.put_i32(0);
            out.put_i16(ncols);
            for (nulls, writer) in self.nulls.iter().zip(&self.writers) {
                if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    out.put_i32(-1);
                    continue;
                }
                let at = out.len();
                out.put_i32(0);
                writer.write(row, out);
                let len = (out.len() - at - 4) as i32;
                out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
            let len = (out.len() - start - 1) as i32;
            out[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
        }
    }

    /// One cell's value (for COPY, which frames rows itself); `None` for NULL.
    pub fn write_cell(&self, column: usize, row: usize, out: &mut Vec<u8>) -> bool {
        if self.nulls[column].as_ref().is_some_and(|n| n.is_null(row)) {
            return false;
        }
        self.writers[column].write(row, out);
        true
    }

    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }

    /// Whether column `column`'s text form only uses digits, signs, `.`, `-`, `:`, `+`, `e`
    /// and spaces (numbers, dates, times, booleans): COPY need not scan such values for
    /// delimiters and escapes unless the delimiter is one of those characters.
    pub fn is_plain_text(&self, column: usize) -> bool {
        use datafusion::arrow::datatypes::DataType as D;
        matches!(
            self.columns[column].data_type(),
            D::Int8
                | D::Int16
                | D::Int32
                | D::Int64
                | D::UInt8
                | D::UInt16
                | D::UInt32
                | D::UInt64
                | D::Float32
                | D::Float64
                | D::Decimal128(..)
                | D::Decimal256(..)
                | D::Date32
                | D::Date64
                | D::Boolean
        )
    }
}

#[cfg(test)]
pub(crate) fn write_numeric_for_tests(out: &mut Vec<u8>, text: &[u8]) {
    binary::write_numeric(out, text)
}
