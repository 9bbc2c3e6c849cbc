//! PostgreSQL's text forms as functions: arrays (`{a,"b c",NULL}`, in both directions),
//! `format`, `parse_ident`, `pg_size_pretty`, and `array_upper`/`array_lower`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, ScalarValue};

use super::{arg_text, quote_ident, text};

/// PostgreSQL's text form of a value: arrays as `{a,b,"c d",NULL}`, everything else as
/// `::text` prints it. Lets `array_column = '{0}'` compare (DataFusion has no text → array
/// cast); `pg_rewrite` wraps the array side in it.
pub(crate) fn array_text(value: &ScalarValue) -> datafusion::common::Result<ScalarValue> {
    if value.is_null() {
        return Ok(ScalarValue::Utf8(None));
    }
    let list: ArrayRef = match value {
        ScalarValue::List(a) => a.value(0),
        ScalarValue::LargeList(a) => a.value(0),
        ScalarValue::FixedSizeList(a) => a.value(0),
        ScalarValue::Utf8(s) | ScalarValue::Utf8View(s) | ScalarValue::LargeUtf8(s) => {
            return Ok(ScalarValue::Utf8(s.clone()));
        }
        other => return Ok(text(other.to_string())),
    };
    let mut out = String::from("{");
    for i in 0..list.len() {
        if i > 0 {
            out.push(',');
        }
        if list.is_null(i) {
            out.push_str("NULL");
            continue;
        }
        let element = datafusion::arrow::util::display::array_value_to_string(&list, i)?;
        let plain = !element.is_empty()
            && !element.eq_ignore_ascii_case("null")
            && !element
                .chars()
                .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
        if plain {
            out.push_str(&element);
        } else {
            out.push('"');
            out.push_str(&element.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
    }
    out.push('}');
    Ok(text(out))
}

/// `array_upper(a, 1)` / `array_lower(a, 1)`: PostgreSQL arrays here are one-dimensional and
/// 1-based; empty or NULL arrays and other dimensions have no bounds (NULL).
pub(super) fn array_bound(args: &[ScalarValue], upper: bool) -> ScalarValue {
    let length = match args.first() {
        Some(ScalarValue::List(a)) if !a.is_null(0) => a.value(0).len(),
        Some(ScalarValue::LargeList(a)) if !a.is_null(0) => a.value(0).len(),
        Some(ScalarValue::FixedSizeList(a)) if !a.is_null(0) => a.value(0).len(),
        _ => 0,
    };
    let first_dimension = matches!(
        args.get(1),
        Some(ScalarValue::Int64(Some(1)) | ScalarValue::Int32(Some(1)))
    );
    // int8 rather than PostgreSQL's int4: DataFusion's generate_series takes int8 bounds
    // (pgjdbc: `generate_series(1, array_upper(current_schemas(false), 1))`).
    if length == 0 || !first_dimension {
        return ScalarValue::Int64(None);
    }
    ScalarValue::Int64(Some(if upper {
        i64::try_from(length).unwrap_or(i64::MAX)
    } else {
        1
    }))
}

/// The elements of an array's text form (without braces): unquoted `NULL` is NULL, double
/// quotes and backslashes escape. `None` when the text is malformed or nested.
pub(crate) fn array_elements(body: &str) -> Option<Vec<Option<String>>> {
    let mut items = Vec::new();
    if body.trim().is_empty() {
        return Some(items);
    }
    let mut chars = body.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => item.push(chars.next()?),
                    '"' => break,
                    c => item.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(c) = chars.peek().filter(|c| **c != ',') {
                if matches!(c, '{' | '}' | '"') {
                    return None;
                }
                if *c == '\\' {
                    chars.next();
                }
                item.push(chars.next()?);
            }
            item = item.trim().to_string();
        }
        items.push((quoted || !item.eq_ignore_ascii_case("null")).then_some(item));
        match chars.next() {
            Some(',') => continue,
            None => return Some(items),
            Some(_) => return None,
        }
    }
}

/// `format(fmt, args…)`: `%s` (text, NULL as empty), `%I` (identifier, quoted when needed), `%L`
/// (literal, NULL as `NULL`), `%%`; positional `%n$s` too.
pub(crate) fn format(args: &[ScalarValue]) -> datafusion::common::Result<ScalarValue> {
    let Some(template) = arg_text(args, 0) else {
        return Ok(ScalarValue::Utf8(None));
    };
    let values = &args[1..];
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        if !digits.is_empty() {
            if chars.next() != Some('$') {
                return Err(invalid_format("positions are written %n$s"));
            }
            next = digits.parse::<usize>().unwrap_or(0).saturating_sub(1);
        }
        let kind = chars
            .next()
            .ok_or_else(|| invalid_format("unterminated format() type specifier"))?;
        if kind == '%' {
            out.push('%');
            continue;
        }
        let value = values
            .get(next)
            .ok_or_else(|| invalid_format("too few arguments for format()"))?;
        next += 1;
        let shown = match array_text(value)? {
            ScalarValue::Utf8(s) => s,
            _ => None,
        };
        match (kind, shown) {
            ('s', s) => out.push_str(&s.unwrap_or_default()),
            ('I', Some(s)) => {
                if let ScalarValue::Utf8(Some(q)) = quote_ident(&[text(s)]) {
                    out.push_str(&q)
                }
            }
            ('I', None) => {
                return Err(invalid_format(
                    "null values cannot be formatted as an SQL identifier",
                ));
            }
            ('L', Some(s)) => {
                out.push('\'');
                out.push_str(&s.replace('\'', "''"));
                out.push('\'');
            }
            ('L', None) => out.push_str("NULL"),
            (other, _) => {
                return Err(invalid_format(&format!(
                    "unrecognized format() type specifier \"{other}\""
                )));
            }
        }
    }
    Ok(text(out))
}

fn invalid_format(message: &str) -> DataFusionError {
    DataFusionError::Execution(message.to_string())
}

/// An array parameter in PostgreSQL's text form (`{r,v}`) as a list of text.
pub(super) fn pg_array(args: &[ScalarValue]) -> datafusion::common::Result<ScalarValue> {
    let Some(text) = arg_text(args, 0) else {
        return Ok(ScalarValue::List(ScalarValue::new_list_nullable(
            &[],
            &DataType::Utf8,
        )));
    };
    let body = text
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(|| {
            DataFusionError::Execution(format!("malformed array literal: \"{text}\""))
        })?;
    let items = array_elements(body).ok_or_else(|| {
        DataFusionError::Execution(format!("malformed array literal: \"{text}\""))
    })?;
    let values: Vec<ScalarValue> = items.into_iter().map(ScalarValue::Utf8).collect();
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(
        &values,
        &DataType::Utf8,
    )))
}

/// `parse_ident('a."B c".d')` as `{a,"B c",d}`: unquoted parts fold to lower case.
pub(crate) fn parse_ident(args: &[ScalarValue]) -> datafusion::common::Result<ScalarValue> {
    let Some(name) = arg_text(args, 0) else {
        return Ok(ScalarValue::List(ScalarValue::new_list_nullable(
            &[],
            &DataType::Utf8,
        )));
    };
    let mut parts = Vec::new();
    let mut chars = name.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(bad_ident(&name)),
                }
            }
        } else {
            while let Some(c) = chars.peek().filter(|c| **c != '.') {
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            part = part.trim().to_string();
        }
        if part.is_empty() {
            return Err(bad_ident(&name));
        }
        parts.push(part);
        match chars.next() {
            Some('.') => continue,
            None => break,
            Some(_) => return Err(bad_ident(&name)),
        }
    }
    let mut builder = ListBuilder::new(StringBuilder::new());
    for p in parts {
        builder.values().append_value(p);
    }
    builder.append(true);
    let array: ArrayRef = Arc::new(builder.finish());
    ScalarValue::try_from_array(&array, 0)
}

fn bad_ident(name: &str) -> DataFusionError {
    DataFusionError::Execution(format!("string is not a valid identifier: \"{name}\""))
}

/// `pg_size_pretty(bytes)`: bytes below 10 kB, then kB, MB, GB, TB, PB, rounded half up.
pub(super) fn size_pretty(args: &[ScalarValue]) -> ScalarValue {
    let size = match args.first() {
        Some(ScalarValue::Int64(Some(n))) => *n,
        Some(ScalarValue::Int32(Some(n))) => i64::from(*n),
        Some(ScalarValue::UInt64(Some(n))) => i64::try_from(*n).unwrap_or(i64::MAX),
        Some(ScalarValue::Float64(Some(n))) => *n as i64,
        _ => return ScalarValue::Utf8(None),
    };
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut value = size;
    for (i, unit) in units.iter().enumerate() {
        if value.abs() < 10 * 1024 || i == units.len() - 1 {
            return text(format!("{value} {unit}"));
        }
        // Halve with rounding after shifting by 9 bits: PostgreSQL's half_rounded(size >> 9).
        let shifted = value >> 9;
        value = (shifted + if shifted < 0 { -1 } else { 1 }) / 2;
    }
    text(format!("{value} PB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_quotes_identifiers_and_literals() {
        let f = |args: Vec<ScalarValue>| format(&args).unwrap();
        assert_eq!(
            f(vec![text("%I.%I"), text("public"), text("My Table")]),
            text("public.\"My Table\"")
        );
        assert_eq!(
            f(vec![
                text("%L and %s and %%"),
                text("it's"),
                ScalarValue::Utf8(None)
            ]),
            text("'it''s' and  and %")
        );
        assert_eq!(
            f(vec![text("%2$s %1$s"), text("a"), text("b")]),
            text("b a")
        );
        assert!(format(&[text("%I"), ScalarValue::Utf8(None)]).is_err());
        assert!(format(&[text("%s %s"), text("a")]).is_err());
    }

    #[test]
    fn sizes_print_like_postgres() {
        let pretty = |n: i64| size_pretty(&[ScalarValue::Int64(Some(n))]);
        assert_eq!(pretty(10239), text("10239 bytes"));
        assert_eq!(pretty(10240), text("10 kB"));
        assert_eq!(pretty(123_456_789), text("118 MB"));
    }

    #[test]
    fn parse_ident_folds_and_unquotes() {
        let parsed = parse_ident(&[text("Sales.\"Big \"\"T\"\"\"")]).unwrap();
        assert_eq!(
            array_text(&parsed).unwrap(),
            text("{sales,\"Big \\\"T\\\"\"}")
        );
        assert!(parse_ident(&[text("a..b")]).is_err());
    }

    #[test]
    fn arrays_print_in_postgres_text_form() {
        let list = ScalarValue::List(ScalarValue::new_list_nullable(
            &[ScalarValue::UInt32(Some(0)), ScalarValue::UInt32(None)],
            &DataType::UInt32,
        ));
        assert_eq!(array_text(&list).unwrap(), text("{0,NULL}"));
        assert_eq!(array_text(&text("{0}")).unwrap(), text("{0}"));
    }
}
