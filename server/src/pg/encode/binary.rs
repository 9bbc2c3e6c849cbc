//! Binary format (the `*send` functions of PostgreSQL): big-endian integers and floats,
//! numeric in base-10000 digit groups, dates/timestamps relative to 2000-01-01, arrays with
//! their element OID and dimensions.

use bytes::BufMut;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericListArray, IntervalMonthDayNanoArray,
    PrimitiveArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, IntervalUnit, Time64MicrosecondType, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::error::ArrowError;

use super::text::{TextContext, write_decimal};
use super::{CellWriter, text};
use crate::pg::types::pg_type;

/// Days from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_DAYS: i32 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS as i64 * super::datetime::MICROS_PER_DAY;

pub(crate) fn writer<'a>(
    column: ArrayRef,
    field: &Field,
    ctx: &'a TextContext,
) -> Result<Box<dyn CellWriter + 'a>, ArrowError> {
    Ok(match column.data_type().clone() {
        DataType::Boolean => Box::new(Bool(column.as_boolean().clone())),
        DataType::Int16 => Box::new(I16(column.as_primitive().clone())),
        DataType::Int32 => Box::new(I32(column.as_primitive().clone())),
        DataType::Int64 => Box::new(I64(column.as_primitive().clone())),
        DataType::Float32 => Box::new(F32(column.as_primitive().clone())),
        DataType::Float64 => Box::new(F64(column.as_primitive().clone())),
        DataType::Decimal128(_, scale) => Box::new(Numeric(column.as_primitive().clone(), scale)),
        DataType::Binary => Box::new(Bytes(column)),
        DataType::FixedSizeBinary(_) => Box::new(Fixed(column)),
        DataType::Date32 => Box::new(Date(column.as_primitive().clone())),
        DataType::Time64(TimeUnit::Microsecond) => Box::new(Time(column.as_primitive().clone())),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            Box::new(Timestamp(column.as_primitive().clone()))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            Box::new(Interval(column.as_primitive().clone()))
        }
        DataType::List(child) => {
            let list = column.as_list::<i32>().clone();
            let element_oid = pg_type(&child);
            let values = writer(list.values().clone(), &child, ctx)?;
            Box::new(List {
                list,
                element_oid,
                values,
            })
        }
        DataType::Decimal256(..) => Box::new(TextNumeric(text::writer(column, field, ctx)?)),
        // Text, and everything sent as text: the binary form of text is its UTF-8 bytes.
        _ => text::writer(column, field, ctx)?,
    })
}

struct Bool(BooleanArray);
impl CellWriter for Bool {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_u8(self.0.value(row) as u8);
    }
}

struct I16(PrimitiveArray<Int16Type>);
impl CellWriter for I16 {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_i16(self.0.value(row));
    }
}

struct I32(PrimitiveArray<Int32Type>);
impl CellWriter for I32 {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_i32(self.0.value(row));
    }
}

struct I64(PrimitiveArray<Int64Type>);
impl CellWriter for I64 {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_i64(self.0.value(row));
    }
}

struct F32(PrimitiveArray<Float32Type>);
impl CellWriter for F32 {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_f32(self.0.value(row));
    }
}

struct F64(PrimitiveArray<Float64Type>);
impl CellWriter for F64 {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_f64(self.0.value(row));
    }
}

struct Numeric(PrimitiveArray<Decimal128Type>, i8);
impl CellWriter for Numeric {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        // Formatted on the stack: no allocation per value.
        let mut text = [0u8; 96];
        let len = {
            let mut cursor: &mut [u8] = &mut text;
            write_decimal(&mut cursor, self.0.value(row), self.1);
            96 - cursor.len()
        };
        write_numeric(out, &text[..len]);
    }
}

/// Decimal256: through its text form.
struct TextNumeric<'a>(Box<dyn CellWriter + 'a>);
impl CellWriter for TextNumeric<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let mut text = Vec::with_capacity(96);
        self.0.write(row, &mut text);
        write_numeric(out, &text);
    }
}

/// numeric_send from decimal text (`-123.4500`): ndigits, weight, sign, dscale, then base-10000
/// digit groups aligned on the decimal point.
pub(crate) fn write_numeric(out: &mut Vec<u8>, text: &[u8]) {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (int_part, frac_part) = match text.iter().position(|b| *b == b'.') {
        Some(p) => (&text[..p], &text[p + 1..]),
        None => (text, &text[..0]),
    };
    let dscale = frac_part.len() as i16;
    let int_part: &[u8] = {
        let zeros = int_part.iter().take_while(|b| **b == b'0').count();
        &int_part[zeros..]
    };
    // Enough base-10000 groups for any Decimal256 (76 digits + scale).
    let mut groups: Vec<i16> =
        Vec::with_capacity(int_part.len().div_ceil(4) + frac_part.len().div_ceil(4));
    let lead = (4 - int_part.len() % 4) % 4;
    let digit = |bytes: &[u8], i: isize| -> i16 {
        if i < 0 || i as usize >= bytes.len() {
            0
        } else {
            (bytes[i as usize] - b'0') as i16
        }
    };
    let int_groups = int_part.len().div_ceil(4);
    for g in 0..int_groups {
        let start = (g * 4) as isize - lead as isize;
        groups.push((0..4).fold(0, |acc, k| acc * 10 + digit(int_part, start + k)));
    }
    for g in 0..frac_part.len().div_ceil(4) {
        let start = (g * 4) as isize;
        groups.push((0..4).fold(0, |acc, k| acc * 10 + digit(frac_part, start + k)));
    }
    let mut weight = int_groups as i16 - 1;
    // Leading zero groups (a value below 1) shift the weight; trailing ones are dropped.
    let leading = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..leading);
    weight -= leading as i16;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    out.put_i16(groups.len() as i16);
    out.put_i16(weight);
    out.put_u16(if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    });
    out.put_i16(dscale);
    for g in groups {
        out.put_i16(g);
    }
}

struct Bytes(ArrayRef);
impl CellWriter for Bytes {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_slice(self.0.as_binary::<i32>().value(row));
    }
}

struct Fixed(ArrayRef);
impl CellWriter for Fixed {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_slice(self.0.as_fixed_size_binary().value(row));
    }
}

struct Date(PrimitiveArray<Date32Type>);
impl CellWriter for Date {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        // Saturating: Arrow dates beyond PostgreSQL's range become its ±infinity
        // (i32::MIN / i32::MAX), never an overflow.
        out.put_i32(self.0.value(row).saturating_sub(PG_EPOCH_DAYS));
    }
}

struct Time(PrimitiveArray<Time64MicrosecondType>);
impl CellWriter for Time {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_i64(self.0.value(row));
    }
}

struct Timestamp(PrimitiveArray<TimestampMicrosecondType>);
impl CellWriter for Timestamp {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        // Saturating, as for dates: the extremes are PostgreSQL's ±infinity.
        out.put_i64(self.0.value(row).saturating_sub(PG_EPOCH_MICROS));
    }
}

struct Interval(IntervalMonthDayNanoArray);
impl CellWriter for Interval {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let v = self.0.value(row);
        out.put_i64(v.nanoseconds / 1000);
        out.put_i32(v.days);
        out.put_i32(v.months);
    }
}

struct List<'a> {
    list: GenericListArray<i32>,
    element_oid: u32,
    values: Box<dyn CellWriter + 'a>,
}
impl CellWriter for List<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let (start, end) = super::list_range(&self.list, row);
        let values = self.list.values();
        let has_null = (start..end).any(|i| values.is_null(i));
        out.put_i32(if end > start { 1 } else { 0 });
        out.put_i32(has_null as i32);
        out.put_u32(self.element_oid);
        if end == start {
            return;
        }
        out.put_i32((end - start) as i32);
        out.put_i32(1);
        for i in start..end {
            if values.is_null(i) {
                out.put_i32(-1);
                continue;
            }
            let at = out.len();
            out.put_i32(0);
            self.values.write(i, out);
            let len = (out.len() - at - 4) as i32;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(text: &str) -> Vec<i16> {
        let mut out = Vec::new();
        write_numeric(&mut out, text.as_bytes());
        out.chunks(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn numeric_send_matches_postgres() {
        // [ndigits, weight, sign, dscale, digits...] as numeric_send produces them.
        assert_eq!(numeric("0"), vec![0, 0, 0, 0]);
        assert_eq!(numeric("10.50"), vec![2, 0, 0, 2, 10, 5000]);
        assert_eq!(numeric("-12345.6"), vec![3, 1, 0x4000, 1, 1, 2345, 6000]);
        assert_eq!(numeric("0.0001"), vec![1, -1, 0, 4, 1]);
        assert_eq!(numeric("100000000"), vec![1, 2, 0, 0, 1]);
        assert_eq!(numeric("0.00"), vec![0, 0, 0, 2]);
    }
}
