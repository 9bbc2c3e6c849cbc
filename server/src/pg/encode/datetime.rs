//! Dates, times, timestamps and intervals in PostgreSQL's text format (DateStyle ISO,
//! IntervalStyle postgres), computed arithmetically per value.

use std::sync::Arc;

use bytes::BufMut;
use chrono::{Offset, TimeZone};
use datafusion::arrow::array::{ArrayRef, AsArray, IntervalMonthDayNanoArray, PrimitiveArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Int64Type, IntervalMonthDayNano, Time64MicrosecondType, TimeUnit,
    TimestampMicrosecondType,
};
use datafusion::arrow::error::ArrowError;

use super::CellWriter;
use super::text::TextContext;

pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

pub(super) fn put_padded(out: &mut Vec<u8>, v: u32, width: usize) {
    if width == 2 && v < 100 {
        return out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
    }
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v);
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`: plain arithmetic, no table or validity checks per value).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` of every day from 1970-01-01 to 2149-06-06 (65,536 days, 640 KiB, built on first
/// use): most dates in data fall there, and a lookup beats the calendar arithmetic per value.
fn recent_dates() -> &'static [[u8; 10]] {
    static TABLE: std::sync::OnceLock<Vec<[u8; 10]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..65_536i64)
            .map(|days| {
                let (year, month, day) = civil_from_days(days);
                iso_date(year as u32, month, day)
            })
            .collect()
    })
}

/// `YYYY-MM-DD` of a four-digit year.
fn iso_date(year: u32, month: u32, day: u32) -> [u8; 10] {
    let digit = |v: u32| b'0' + (v % 10) as u8;
    [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
        b'-',
        digit(day / 10),
        digit(day),
    ]
}

/// `YYYY-MM-DD`; returns whether the date is BC (the caller appends " BC" after any time).
pub(super) fn put_date(out: &mut Vec<u8>, days_since_epoch: i32) -> bool {
    if let Some(text) = usize::try_from(days_since_epoch)
        .ok()
        .and_then(|d| recent_dates().get(d))
    {
        out.extend_from_slice(text);
        return false;
    }
    let (year, month, day) = civil_from_days(i64::from(days_since_epoch));
    if (1..=9999).contains(&year) {
        out.extend_from_slice(&iso_date(year as u32, month, day));
        return false;
    }
    let bc = year <= 0;
    let year = if bc { 1 - year } else { year } as u32;
    put_padded(out, year, 4);
    out.push(b'-');
    put_padded(out, month, 2);
    out.push(b'-');
    put_padded(out, day, 2);
    bc
}

/// `HH:MM:SS[.ffffff]` without trailing zeros in the fraction.
pub(super) fn put_time(out: &mut Vec<u8>, micros: i64) {
    let secs = micros / 1_000_000;
    put_padded(out, (secs / 3600) as u32, 2);
    out.put_u8(b':');
    put_padded(out, (secs / 60 % 60) as u32, 2);
    out.put_u8(b':');
    put_padded(out, (secs % 60) as u32, 2);
    let mut frac = (micros % 1_000_000) as u32;
    if frac != 0 {
        let mut width = 6;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        out.put_u8(b'.');
        put_padded(out, frac, width);
    }
}

pub(super) struct Date(pub(super) PrimitiveArray<Date32Type>);
impl CellWriter for Date {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        if put_date(out, self.0.value(row)) {
            out.put_slice(b" BC");
        }
    }
}

pub(super) struct Time(pub(super) PrimitiveArray<Time64MicrosecondType>);
impl CellWriter for Time {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        put_time(out, self.0.value(row));
    }
}

pub(super) fn put_timestamp(out: &mut Vec<u8>, micros: i64) -> bool {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let bc = put_date(out, days as i32);
    out.put_u8(b' ');
    put_time(out, micros.rem_euclid(MICROS_PER_DAY));
    bc
}

pub(super) struct Timestamp(pub(super) PrimitiveArray<TimestampMicrosecondType>);
impl CellWriter for Timestamp {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        if put_timestamp(out, self.0.value(row)) {
            out.put_slice(b" BC");
        }
    }
}

pub(super) struct TimestampTz<'a>(
    pub(super) PrimitiveArray<TimestampMicrosecondType>,
    pub(super) &'a TextContext,
);
impl CellWriter for TimestampTz<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let micros = self.0.value(row);
        let offset = match (
            &self.1.time_zone,
            chrono::DateTime::from_timestamp_micros(micros),
        ) {
            (Some(tz), Some(utc)) => tz
                .offset_from_utc_datetime(&utc.naive_utc())
                .fix()
                .local_minus_utc(),
            _ => 0,
        };
        let bc = put_timestamp(out, micros.saturating_add(offset as i64 * 1_000_000));
        out.put_u8(if offset < 0 { b'-' } else { b'+' });
        let abs = offset.unsigned_abs();
        put_padded(out, abs / 3600, 2);
        if abs % 3600 != 0 {
            out.put_u8(b':');
            put_padded(out, abs / 60 % 60, 2);
        }
        if abs % 60 != 0 {
            out.put_u8(b':');
            put_padded(out, abs % 60, 2);
        }
        if bc {
            out.put_slice(b" BC");
        }
    }
}

pub(super) struct Interval(pub(super) IntervalMonthDayNanoArray);
impl CellWriter for Interval {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let v = self.0.value(row);
        write_interval(out, v);
    }
}

/// IntervalStyle postgres: `1 year 2 mons 3 days 04:05:06.5`.
pub(super) fn write_interval(out: &mut Vec<u8>, v: IntervalMonthDayNano) {
    let mut parts: Vec<String> = Vec::new();
    let unit = |n: i64, name: &str| format!("{n} {name}{}", if n == 1 { "" } else { "s" });
    let (years, months) = (v.months / 12, v.months % 12);
    if years != 0 {
        parts.push(unit(years as i64, "year"));
    }
    if months != 0 {
        parts.push(unit(months as i64, "mon"));
    }
    if v.days != 0 {
        parts.push(unit(v.days as i64, "day"));
    }
    let micros = v.nanoseconds / 1000;
    out.put_slice(parts.join(" ").as_bytes());
    if micros != 0 || parts.is_empty() {
        if !parts.is_empty() {
            out.put_u8(b' ');
        }
        if micros < 0 {
            out.put_u8(b'-');
        }
        let abs = micros.unsigned_abs() as i64;
        let hours = abs / 3_600_000_000;
        out.put_slice(format!("{hours:02}").as_bytes());
        let mut rest = Vec::new();
        put_time(&mut rest, abs % 3_600_000_000);
        out.put_slice(&rest[2..]);
    }
}

/// Durations (no calendar) as intervals of microseconds.
pub(super) fn duration_to_interval(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let DataType::Duration(unit) = column.data_type() else {
        return Err(ArrowError::CastError("not a duration".into()));
    };
    let nanos_per = match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    };
    let values = datafusion::arrow::compute::cast(column, &DataType::Int64)?;
    let values = values.as_primitive::<Int64Type>();
    let out: IntervalMonthDayNanoArray =
        values.unary(|v| IntervalMonthDayNano::new(0, 0, v.saturating_mul(nanos_per)));
    Ok(Arc::new(out))
}
