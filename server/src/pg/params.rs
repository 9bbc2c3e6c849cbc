//! Bind parameters: bytes in text or binary format become typed scalar values.
//!
//! The type a value is read as is the one the client declared in Parse, else the one DataFusion
//! inferred for the placeholder, else text; the value is then cast to the inferred type.

use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::common::ScalarValue;
use tarn_engine::{EngineError, ErrorKind};

use super::encode::Format;
use super::types::{arrow_type, oid};

fn bad(index: usize, why: impl std::fmt::Display) -> EngineError {
    invalid(index, Invalid::from(why.to_string()))
}

fn invalid(index: usize, why: Invalid) -> EngineError {
    EngineError::Session {
        kind: why.kind,
        message: format!(
            "invalid value for parameter ${}: {}",
            index + 1,
            why.message
        ),
    }
}

/// Why a parameter value could not be read: malformed (22P02) unless a range check says more
/// precisely that it is out of range (22003 numbers, 22008 dates and times).
#[derive(Debug)]
struct Invalid {
    kind: ErrorKind,
    message: String,
}

impl From<String> for Invalid {
    fn from(message: String) -> Self {
        Self {
            kind: ErrorKind::InvalidTextRepresentation,
            message,
        }
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

fn datetime_overflow(what: &str) -> Invalid {
    Invalid {
        kind: ErrorKind::DatetimeOverflow,
        message: format!("{what} out of range"),
    }
}

fn numeric_overflow() -> Invalid {
    Invalid {
        kind: ErrorKind::NumericOverflow,
        message: "numeric field overflow".into(),
    }
}

/// Decodes parameter `index` (0-based).
pub fn decode(
    index: usize,
    value: Option<&[u8]>,
    format: Format,
    declared_oid: u32,
    inferred: Option<&DataType>,
) -> Result<ScalarValue, EngineError> {
    let read_as = match arrow_type(declared_oid)
        .or_else(|| inferred.cloned())
        .unwrap_or(DataType::Utf8)
    {
        // Read as the plain type; the cast below gives the view (or large) type inferred.
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        other => other,
    };
    let scalar = match value {
        None => ScalarValue::try_from(&read_as).map_err(|e| bad(index, e))?,
        Some(bytes) => match format {
            Format::Text => {
                let text = std::str::from_utf8(bytes).map_err(|e| bad(index, e))?;
                from_text(text, &read_as).map_err(|e| bad(index, e))?
            }
            Format::Binary => match super::types::element_of(declared_oid) {
                // Arrays bind as their text form, which the engine's array parameters read.
                Some(element) => ScalarValue::Utf8(Some(
                    binary_array_as_text(bytes, element).map_err(|e| invalid(index, e))?,
                )),
                None => {
                    from_binary(bytes, &read_as, declared_oid).map_err(|e| invalid(index, e))?
                }
            },
        },
    };
    match inferred {
        Some(t) if t != &scalar.data_type() => scalar.cast_to(t).map_err(|e| bad(index, e)),
        _ => Ok(scalar),
    }
}

fn from_text(text: &str, read_as: &DataType) -> Result<ScalarValue, String> {
    match read_as {
        DataType::Utf8 => Ok(ScalarValue::Utf8(Some(text.to_string()))),
        DataType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "yes" | "y" | "on" | "1" => Ok(ScalarValue::Boolean(Some(true))),
            "f" | "false" | "no" | "n" | "off" | "0" => Ok(ScalarValue::Boolean(Some(false))),
            other => Err(format!(
                "invalid input syntax for type boolean: \"{other}\""
            )),
        },
        DataType::Binary => Ok(ScalarValue::Binary(Some(bytea_from_text(text)?))),
        other => ScalarValue::try_from_string(text.to_string(), other).map_err(|e| e.to_string()),
    }
}

/// A one-dimensional array in PostgreSQL's binary format (ndim, has-null flag, element OID,
/// then size and lower bound, then length-prefixed elements) as its text form `{a,"b c",NULL}`.
fn binary_array_as_text(bytes: &[u8], element: u32) -> Result<String, Invalid> {
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if rest.len() < n {
            return Err("array data ends early".into());
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head)
    }
    fn int(rest: &mut &[u8]) -> Result<i32, String> {
        Ok(i32::from_be_bytes(fixed(take(rest, 4)?)?))
    }
    let mut rest = bytes;
    let dimensions = int(&mut rest)?;
    let _has_nulls = int(&mut rest)?;
    let _element_oid = int(&mut rest)?;
    if dimensions == 0 {
        return Ok("{}".into());
    }
    if dimensions != 1 {
        return Err("only one-dimensional arrays are supported".into());
    }
    let count = int(&mut rest)?;
    let _lower_bound = int(&mut rest)?;
    let read_as = super::types::arrow_type(element).unwrap_or(DataType::Utf8);
    let mut items = Vec::new();
    for _ in 0..count {
        let length = int(&mut rest)?;
        let Ok(length) = usize::try_from(length) else {
            items.push("NULL".to_string());
            continue;
        };
        let value = from_binary(take(&mut rest, length)?, &read_as, element)?;
        let text = match value {
            ScalarValue::Utf8(Some(s)) => s,
            other => other.to_string(),
        };
        items.push(format!(
            "\"{}\"",
            text.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    Ok(format!("{{{}}}", items.join(",")))
}

/// bytea text input: `\x` hex, or the raw bytes. Hex is read byte-wise: a multi-byte
/// character among the digits is an error, never a slice inside a character.
fn bytea_from_text(text: &str) -> Result<Vec<u8>, String> {
    let Some(hex) = text.strip_prefix("\\x") else {
        return Ok(text.as_bytes().to_vec());
    };
    let hex = hex.as_bytes();
    if hex.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    let digit = |b: u8| {
        (b as char)
            .to_digit(16)
            .ok_or_else(|| format!("invalid hexadecimal digit: \"{}\"", b.escape_ascii()))
    };
    hex.chunks_exact(2)
        .map(|pair| Ok((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect()
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", bytes.len()))
}

fn from_binary(
    bytes: &[u8],
    read_as: &DataType,
    declared_oid: u32,
) -> Result<ScalarValue, Invalid> {
    const PG_EPOCH_DAYS: i32 = 10_957;
    const PG_EPOCH_MICROS: i64 = 10_957 * 86_400_000_000;
    Ok(match read_as {
        DataType::Boolean => ScalarValue::Boolean(Some(fixed::<1>(bytes)?[0] != 0)),
        DataType::Int16 => ScalarValue::Int16(Some(i16::from_be_bytes(fixed(bytes)?))),
        DataType::Int32 => ScalarValue::Int32(Some(i32::from_be_bytes(fixed(bytes)?))),
        DataType::Int64 => ScalarValue::Int64(Some(i64::from_be_bytes(fixed(bytes)?))),
        DataType::Float32 => ScalarValue::Float32(Some(f32::from_be_bytes(fixed(bytes)?))),
        DataType::Float64 => ScalarValue::Float64(Some(f64::from_be_bytes(fixed(bytes)?))),
        DataType::Utf8 if declared_oid == oid::UUID => {
            let b: [u8; 16] = fixed(bytes)?;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            let uuid = format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            );
            ScalarValue::Utf8(Some(uuid))
        }
        DataType::Utf8 => ScalarValue::Utf8(Some(
            String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())?,
        )),
        DataType::Binary => ScalarValue::Binary(Some(bytes.to_vec())),
        DataType::Date32 => ScalarValue::Date32(Some(
            i32::from_be_bytes(fixed(bytes)?)
                .checked_add(PG_EPOCH_DAYS)
                .ok_or_else(|| datetime_overflow("date"))?,
        )),
        DataType::Time64(TimeUnit::Microsecond) => {
            ScalarValue::Time64Microsecond(Some(i64::from_be_bytes(fixed(bytes)?)))
        }
        DataType::Timestamp(TimeUnit::Microsecond, tz) => ScalarValue::TimestampMicrosecond(
            Some(
                i64::from_be_bytes(fixed(bytes)?)
                    .checked_add(PG_EPOCH_MICROS)
                    .ok_or_else(|| datetime_overflow("timestamp"))?,
            ),
            tz.clone(),
        ),
        DataType::Interval(_) => {
            let b: [u8; 16] = fixed(bytes)?;
            let micros = i64::from_be_bytes(fixed(&b[..8])?);
            let days = i32::from_be_bytes(fixed(&b[8..12])?);
            let months = i32::from_be_bytes(fixed(&b[12..])?);
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(
                months,
                days,
                micros.saturating_mul(1000),
            )))
        }
        DataType::Decimal128(..) | DataType::Decimal256(..) => {
            let (text, scale) = numeric_text(bytes)?;
            ScalarValue::try_from_string(text, &DataType::Decimal128(38, scale))
                .map_err(|_| numeric_overflow())?
        }
        other => {
            return Err(
                format!("binary parameters of type {other} are not supported; send text").into(),
            );
        }
    })
}

/// The most base-10000 digit groups before the point a Decimal128(38) can hold.
const MAX_NUMERIC_WEIGHT: i16 = 10;

/// numeric_recv: the decimal text and scale of a binary numeric.
fn numeric_text(bytes: &[u8]) -> Result<(String, i8), Invalid> {
    let word = |i: usize| -> Result<i16, String> {
        bytes
            .get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".to_string())
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Err("NaN cannot be bound as a decimal".into());
    }
    if ndigits < 0 || !(0..=38).contains(&dscale) || weight > MAX_NUMERIC_WEIGHT {
        return Err(numeric_overflow());
    }
    let digits: Vec<i16> = (0..ndigits as usize)
        .map(|i| word(4 + i))
        .collect::<Result<_, _>>()?;
    let mut int_part = String::new();
    for g in 0..=weight.max(-1) {
        let d = digits.get(g as usize).copied().unwrap_or(0);
        int_part.push_str(&if int_part.is_empty() {
            d.to_string()
        } else {
            format!("{d:04}")
        });
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut g = i32::from(weight) + 1;
    while (frac.len() as i16) < dscale {
        let d = if g < 0 {
            0
        } else {
            digits.get(g as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        g += 1;
    }
    frac.truncate(dscale as usize);
    let sign = if sign == 0x4000 { "-" } else { "" };
    let text = if frac.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac}")
    };
    Ok((text, dscale as i8))
}

#[cfg(test)]
mod array_tests {
    #[test]
    fn binary_arrays_become_their_text_form() {
        let mut bytes = Vec::new();
        for v in [1i32, 0, 25, 2, 1] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        for item in ["r", "a \"b\""] {
            bytes.extend_from_slice(&(item.len() as i32).to_be_bytes());
            bytes.extend_from_slice(item.as_bytes());
        }
        assert_eq!(
            super::binary_array_as_text(&bytes, 25).unwrap(),
            r#"{"r","a \"b\""}"#
        );
        assert!(super::binary_array_as_text(&bytes[..10], 25).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_decode_in_both_formats() {
        let t = |s: &str, oid: u32, inferred: Option<&DataType>| {
            decode(0, Some(s.as_bytes()), Format::Text, oid, inferred).unwrap()
        };
        assert_eq!(
            t("42", 0, Some(&DataType::Int64)),
            ScalarValue::Int64(Some(42))
        );
        assert_eq!(
            t("42", oid::INT4, Some(&DataType::Int64)),
            ScalarValue::Int64(Some(42))
        );
        assert_eq!(t("on", oid::BOOL, None), ScalarValue::Boolean(Some(true)));
        assert_eq!(t("x", 0, None), ScalarValue::Utf8(Some("x".into())));
        assert_eq!(
            t("\\x0aff", oid::BYTEA, None),
            ScalarValue::Binary(Some(vec![10, 255]))
        );
        assert!(decode(0, Some(b"abc"), Format::Text, oid::INT4, None).is_err());
        let b = |bytes: &[u8], oid: u32| decode(0, Some(bytes), Format::Binary, oid, None).unwrap();
        assert_eq!(
            b(&7i32.to_be_bytes(), oid::INT4),
            ScalarValue::Int32(Some(7))
        );
        assert_eq!(
            b(&0i32.to_be_bytes(), oid::DATE),
            ScalarValue::Date32(Some(10_957))
        );
        let numeric = [0, 2, 0, 0, 0, 0, 0, 2, 0, 10, 0x13, 0x88];
        assert_eq!(
            b(&numeric, oid::NUMERIC),
            ScalarValue::Decimal128(Some(1050), 38, 2)
        );
        assert!(decode(0, Some(&[1, 2]), Format::Binary, oid::INT4, None).is_err());
        assert_eq!(
            decode(0, None, Format::Binary, oid::INT8, None).unwrap(),
            ScalarValue::Int64(None)
        );
    }

    #[test]
    fn numeric_binary_round_trips() {
        for text in [
            "0",
            "10.50",
            "-12345.6",
            "0.0001",
            "100000000",
            "123456789.123456789",
        ] {
            let mut out = Vec::new();
            super::super::encode::write_numeric_for_tests(&mut out, text.as_bytes());
            let (back, _) = numeric_text(&out).unwrap();
            assert_eq!(back, text);
        }
    }
}

#[cfg(test)]
mod fuzz;
