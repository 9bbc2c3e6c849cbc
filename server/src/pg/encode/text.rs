//! Text format, as PostgreSQL prints values (DateStyle ISO, IntervalStyle postgres,
//! extra_float_digits >= 1: shortest exact floats).

use bytes::BufMut;
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericListArray, LargeStringArray, PrimitiveArray,
    StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Decimal128Type, Field, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, IntervalUnit, TimeUnit,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::CellWriter;
use super::datetime::{Date, Interval, Time, Timestamp, TimestampTz};

/// Session settings that change how values print.
#[derive(Debug, Clone)]
pub struct TextContext {
    /// `None` is UTC (also used when the setting does not parse; the engine validates it).
    pub time_zone: Option<Tz>,
}

impl TextContext {
    /// For a session TimeZone setting (falls back to UTC if it does not parse).
    pub fn new(time_zone: &str) -> Self {
        Self {
            time_zone: time_zone.parse().ok(),
        }
    }
}

pub(crate) fn writer<'a>(
    column: ArrayRef,
    field: &Field,
    ctx: &'a TextContext,
) -> Result<Box<dyn CellWriter + 'a>, ArrowError> {
    let is_uuid = field
        .metadata()
        .get("ARROW:extension:name")
        .map(String::as_str)
        == Some("arrow.uuid");
    Ok(match column.data_type().clone() {
        DataType::Boolean => Box::new(Bool(column.as_boolean().clone())),
        DataType::Int16 => Box::new(Int(column.as_primitive::<Int16Type>().clone())),
        DataType::Int32 => Box::new(Int(column.as_primitive::<Int32Type>().clone())),
        DataType::Int64 => Box::new(Int(column.as_primitive::<Int64Type>().clone())),
        DataType::Float32 => Box::new(Float(column.as_primitive::<Float32Type>().clone(), 6)),
        DataType::Float64 => Box::new(Float(column.as_primitive::<Float64Type>().clone(), 15)),
        DataType::Decimal128(_, scale) => Box::new(Decimal(column.as_primitive().clone(), scale)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Box::new(Text::new(&column)),
        DataType::Binary => Box::new(Bytea(column)),
        DataType::FixedSizeBinary(16) if is_uuid => Box::new(Uuid(column)),
        DataType::Date32 => Box::new(Date(column.as_primitive().clone())),
        DataType::Time64(TimeUnit::Microsecond) => Box::new(Time(column.as_primitive().clone())),
        DataType::Timestamp(TimeUnit::Microsecond, None) => {
            Box::new(Timestamp(column.as_primitive().clone()))
        }
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => {
            Box::new(TimestampTz(column.as_primitive().clone(), ctx))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            Box::new(Interval(column.as_primitive().clone()))
        }
        DataType::List(child) => {
            let list = column.as_list::<i32>().clone();
            let values = writer(list.values().clone(), &child, ctx)?;
            Box::new(List { list, values })
        }
        _ => Box::new(Display::new(column)?),
    })
}

struct Bool(BooleanArray);
impl CellWriter for Bool {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        out.put_u8(if self.0.value(row) { b't' } else { b'f' });
    }
}

struct Int<T: ArrowPrimitiveType>(PrimitiveArray<T>);
impl<T: ArrowPrimitiveType> CellWriter for Int<T>
where
    T::Native: itoa::Integer,
{
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let v = self.0.value(row);
        out.put_slice(itoa::Buffer::new().format(v).as_bytes());
    }
}

/// float4 / float8: shortest exact digits, plain notation below 10^`max_exp`.
struct Float<T: ArrowPrimitiveType>(PrimitiveArray<T>, i32);
impl<T: ArrowPrimitiveType> CellWriter for Float<T>
where
    T::Native: ryu::Float + num_traits_float::Sign,
{
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let v = self.0.value(row);
        let (nan, inf, negative) = num_traits_float::Sign::classify(v);
        write_float(
            out,
            nan,
            inf,
            negative,
            ryu::Buffer::new().format_finite(v),
            self.1,
        );
    }
}

mod num_traits_float {
    //! f32 and f64 alike for [`super::Float`].
    /// What the float writer needs to know about a value besides its digits.
    pub trait Sign: Copy {
        fn classify(self) -> (bool, bool, bool);
    }
    impl Sign for f32 {
        fn classify(self) -> (bool, bool, bool) {
            (self.is_nan(), self.is_infinite(), self < 0.0)
        }
    }
    impl Sign for f64 {
        fn classify(self) -> (bool, bool, bool) {
            (self.is_nan(), self.is_infinite(), self < 0.0)
        }
    }
}

/// PostgreSQL's shortest-exact float output: plain notation for decimal exponents in
/// `-4..max_exp`, otherwise `d.ddde+XX` with at least two exponent digits.
fn write_float(out: &mut Vec<u8>, nan: bool, inf: bool, negative: bool, ryu: &str, max_exp: i32) {
    if nan {
        return out.put_slice(b"NaN");
    }
    if inf {
        return out.put_slice(if negative { b"-Infinity" } else { b"Infinity" });
    }
    let (mantissa, exp) = match ryu.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (ryu, 0),
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int_part}{frac_part}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0');
    if digits.is_empty() {
        out.put_slice(sign.as_bytes());
        return out.put_u8(b'0');
    }
    // Decimal exponent of the first significant digit.
    let exp10 = int_part.len() as i32 - 1 - leading as i32 + exp;
    out.put_slice(sign.as_bytes());
    if (-4..max_exp).contains(&exp10) {
        if exp10 < 0 {
            out.put_slice(b"0.");
            for _ in 0..(-exp10 - 1) {
                out.put_u8(b'0');
            }
            out.put_slice(digits.as_bytes());
        } else {
            let int_len = exp10 as usize + 1;
            if digits.len() <= int_len {
                out.put_slice(digits.as_bytes());
                for _ in digits.len()..int_len {
                    out.put_u8(b'0');
                }
            } else {
                out.put_slice(&digits.as_bytes()[..int_len]);
                out.put_u8(b'.');
                out.put_slice(&digits.as_bytes()[int_len..]);
            }
        }
    } else {
        out.put_slice(&digits.as_bytes()[..1]);
        if digits.len() > 1 {
            out.put_u8(b'.');
            out.put_slice(&digits.as_bytes()[1..]);
        }
        out.put_u8(b'e');
        out.put_u8(if exp10 < 0 { b'-' } else { b'+' });
        let e = exp10.unsigned_abs();
        if e < 10 {
            out.put_u8(b'0');
        }
        out.put_slice(itoa::Buffer::new().format(e).as_bytes());
    }
}

struct Decimal(PrimitiveArray<Decimal128Type>, i8);
impl CellWriter for Decimal {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let v = self.0.value(row);
        write_decimal(out, v, self.1);
    }
}

/// An i128 with `scale` decimal places, all of them printed (as numeric does).
pub(super) fn write_decimal(out: &mut impl BufMut, v: i128, scale: i8) {
    if v < 0 {
        out.put_u8(b'-');
    }
    let mut buf = itoa::Buffer::new();
    let abs = v.unsigned_abs();
    // Most values fit 64 bits, whose formatting is much cheaper than 128-bit.
    let digits = match u64::try_from(abs) {
        Ok(small) => buf.format(small).as_bytes(),
        Err(_) => buf.format(abs).as_bytes(),
    };
    if scale <= 0 {
        out.put_slice(digits);
        for _ in 0..(-scale) {
            out.put_u8(b'0');
        }
        return;
    }
    let scale = scale as usize;
    if digits.len() > scale {
        out.put_slice(&digits[..digits.len() - scale]);
        out.put_u8(b'.');
        out.put_slice(&digits[digits.len() - scale..]);
    } else {
        out.put_slice(b"0.");
        for _ in digits.len()..scale {
            out.put_u8(b'0');
        }
        out.put_slice(digits);
    }
}

/// Strings, typed once per batch (not per cell).
enum Text {
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
}
impl Text {
    fn new(column: &ArrayRef) -> Self {
        match column.data_type() {
            DataType::Utf8 => Text::Utf8(column.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Text::Large(column.as_string::<i64>().clone()),
            _ => Text::View(column.as_string_view().clone()),
        }
    }
}
impl CellWriter for Text {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let s = match self {
            Text::Utf8(a) => a.value(row),
            Text::Large(a) => a.value(row),
            Text::View(a) => a.value(row),
        };
        out.put_slice(s.as_bytes());
    }
}

struct Bytea(ArrayRef);
impl CellWriter for Bytea {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.put_slice(b"\\x");
        for b in self.0.as_binary::<i32>().value(row) {
            out.put_u8(HEX[(b >> 4) as usize]);
            out.put_u8(HEX[(b & 15) as usize]);
        }
    }
}

struct Uuid(ArrayRef);
impl CellWriter for Uuid {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in self.0.as_fixed_size_binary().value(row).iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out.put_u8(b'-');
            }
            out.put_u8(HEX[(b >> 4) as usize]);
            out.put_u8(HEX[(b & 15) as usize]);
        }
    }
}

struct List<'a> {
    list: GenericListArray<i32>,
    values: Box<dyn CellWriter + 'a>,
}
impl CellWriter for List<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let (start, end) = super::list_range(&self.list, row);
        let values = self.list.values();
        out.put_u8(b'{');
        let mut element = Vec::new();
        for i in start..end {
            if i > start {
                out.put_u8(b',');
            }
            if values.is_null(i) {
                out.put_slice(b"NULL");
                continue;
            }
            element.clear();
            self.values.write(i, &mut element);
            put_array_element(out, &element);
        }
        out.put_u8(b'}');
    }
}

/// An array element, double-quoted when PostgreSQL would quote it.
fn put_array_element(out: &mut Vec<u8>, element: &[u8]) {
    let needs_quotes = element.is_empty()
        || element.eq_ignore_ascii_case(b"null")
        || element.iter().any(|b| {
            matches!(
                b,
                b'{' | b'}' | b',' | b'"' | b'\\' | b' ' | b'\t' | b'\n' | b'\r'
            )
        });
    if !needs_quotes {
        return out.put_slice(element);
    }
    out.put_u8(b'"');
    for &b in element {
        if b == b'"' || b == b'\\' {
            out.put_u8(b'\\');
        }
        out.put_u8(b);
    }
    out.put_u8(b'"');
}

/// Anything else (structs, maps, Decimal256, ...) as Arrow displays it.
struct Display {
    column: ArrayRef,
}
impl Display {
    fn new(column: ArrayRef) -> Result<Self, ArrowError> {
        ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
        Ok(Self { column })
    }
}
impl CellWriter for Display {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let options = FormatOptions::default();
        if let Ok(f) = ArrayFormatter::try_new(self.column.as_ref(), &options) {
            out.put_slice(f.value(row).to_string().as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::datetime::{put_date, put_timestamp, write_interval};
    use super::*;
    use datafusion::arrow::datatypes::IntervalMonthDayNano;

    /// Days from 0001-01-01 (CE day 1) to 1970-01-01.
    const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

    #[test]
    fn dates_match_chrono() {
        for days in [-719_162, -1, 0, 59, 11_016, 19_782, 2_932_896] {
            let expected = chrono::NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_CE_DAYS)
                .unwrap()
                .format("%Y-%m-%d")
                .to_string();
            let mut out = Vec::new();
            put_date(&mut out, days);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{days}");
        }
        // The four-digit fast path agrees with chrono across its whole range.
        for days in (-719_162..=2_932_896).step_by(997) {
            let expected = chrono::NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_CE_DAYS)
                .unwrap()
                .format("%Y-%m-%d")
                .to_string();
            let mut out = Vec::new();
            assert!(!put_date(&mut out, days));
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{days}");
        }
        let mut out = Vec::new();
        assert!(put_date(&mut out, -719_163 - 366));
        assert_eq!(String::from_utf8(out).unwrap(), "0002-12-31"); // 2 BC
    }

    fn float(v: f64) -> String {
        let mut out = Vec::new();
        write_float(
            &mut out,
            v.is_nan(),
            v.is_infinite(),
            v < 0.0,
            ryu::Buffer::new().format_finite(v),
            15,
        );
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn floats_print_like_postgres() {
        for (v, s) in [
            (0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e15, "1e+15"),
            (1e14, "100000000000000"),
            (1.2345e300, "1.2345e+300"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(float(v), s, "{v}");
        }
    }

    #[test]
    fn decimals_dates_intervals() {
        let s = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut out = Vec::new();
            f(&mut out);
            String::from_utf8(out.to_vec()).unwrap()
        };
        assert_eq!(s(&|o| write_decimal(o, 1050, 2)), "10.50");
        assert_eq!(s(&|o| write_decimal(o, -5, 3)), "-0.005");
        assert_eq!(s(&|o| write_decimal(o, 12, 0)), "12");
        assert_eq!(
            s(&|o| {
                put_date(o, 19723);
            }),
            "2024-01-01"
        );
        assert_eq!(
            s(&|o| {
                put_timestamp(o, 1_704_067_200_000_000 + 1_500_000);
            }),
            "2024-01-01 00:00:01.5"
        );
        assert_eq!(
            s(&|o| {
                put_timestamp(o, -1);
            }),
            "1969-12-31 23:59:59.999999"
        );
        assert_eq!(
            s(&|o| write_interval(o, IntervalMonthDayNano::new(14, 3, 14_706_000_000_000))),
            "1 year 2 mons 3 days 04:05:06"
        );
        assert_eq!(
            s(&|o| write_interval(o, IntervalMonthDayNano::new(0, -1, 0))),
            "-1 days"
        );
        assert_eq!(
            s(&|o| write_interval(o, IntervalMonthDayNano::new(0, 0, 0))),
            "00:00:00"
        );
        assert_eq!(s(&|o| put_array_element(o, b"a b")), "\"a b\"");
        assert_eq!(s(&|o| put_array_element(o, b"NULL")), "\"NULL\"");
    }
}
