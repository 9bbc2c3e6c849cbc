//! Hive's partition directory conventions: `k=v/` levels, Hive's path escaping, and the default
//! partition name used for NULL (and empty) values.

use crate::error::{CatalogError, Result};
use crate::model::PartitionSpec;

/// The directory name Hive writes for a NULL or empty partition value.
pub const DEFAULT_PARTITION_NAME: &str = "__HIVE_DEFAULT_PARTITION__";

/// Whether Hive escapes this character in a path component (`FileUtils.charToEscape`):
/// control characters 0x01-0x1F, `"#%'*/:=?\{[]^` and DEL. Space is not escaped.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{01}'..='\u{1F}' | '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?'
    ) || matches!(c, '\\' | '\u{7F}' | '{' | '[' | ']' | '^')
}

/// Escapes one path component as Hive does (uppercase `%XX`).
pub fn escape_path_name(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if needs_escape(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`escape_path_name`]; a `%` not followed by two hex digits is kept literally, as Hive does.
pub fn unescape_path_name(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(code) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(code);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Normalises a value for storage: empty strings become the NULL partition, as in Hive.
pub fn normalize_value(value: Option<&str>) -> Option<String> {
    match value {
        None | Some("") | Some(DEFAULT_PARTITION_NAME) => None,
        Some(v) => Some(v.to_string()),
    }
}

/// Hive's partition name, `k1=v1/k2=v2`, with keys and values escaped.
pub fn partition_name(keys: &[String], values: &PartitionSpec) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| {
            let v = normalize_value(v.as_deref()).map(|v| escape_path_name(&v));
            format!(
                "{}={}",
                escape_path_name(k),
                v.as_deref().unwrap_or(DEFAULT_PARTITION_NAME)
            )
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses a relative partition path (`k1=v1/k2=v2`) for the given keys, in order.
/// Returns `None` when the path does not name exactly these keys.
pub fn parse_partition_path(keys: &[String], path: &str) -> Option<PartitionSpec> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts.len() != keys.len() {
        return None;
    }
    keys.iter()
        .zip(parts)
        .map(|(key, part)| {
            let (k, v) = part.split_once('=')?;
            if !unescape_path_name(k).eq_ignore_ascii_case(key) {
                return None;
            }
            Some(normalize_value(Some(&unescape_path_name(v))))
        })
        .collect()
}

/// Joins a location and a relative path with exactly one `/`.
pub fn join(location: &str, relative: &str) -> String {
    format!(
        "{}/{}",
        location.trim_end_matches('/'),
        relative.trim_start_matches('/')
    )
}

/// Orders a user-given `k=v` list by the table's partition keys, rejecting unknown or missing keys.
pub fn spec_from_pairs(
    table: &str,
    keys: &[String],
    pairs: &[(String, Option<String>)],
) -> Result<PartitionSpec> {
    for (k, _) in pairs {
        if !keys.iter().any(|key| key.eq_ignore_ascii_case(k)) {
            return Err(CatalogError::invalid(format!(
                "'{k}' is not a partition column of '{table}' (partition columns: {})",
                keys.join(", ")
            )));
        }
    }
    keys.iter()
        .map(|key| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| normalize_value(v.as_deref()))
                .ok_or_else(|| {
                    CatalogError::invalid(format!(
                        "partition spec for '{table}' must name every partition column; missing '{key}'"
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_hive() {
        let cases = [
            ("plain", "plain"),
            ("with space", "with space"),
            ("a/b", "a%2Fb"),
            ("k=v", "k%3Dv"),
            ("100%", "100%25"),
            ("2024-01-01 10:00:00", "2024-01-01 10%3A00%3A00"),
            ("\"#'*?\\{[]^", "%22%23%27%2A%3F%5C%7B%5B%5D%5E"),
            ("tab\there", "tab%09here"),
            ("del\u{7f}", "del%7F"),
            ("ünïcode", "ünïcode"),
        ];
        for (raw, escaped) in cases {
            assert_eq!(escape_path_name(raw), escaped, "{raw:?}");
            assert_eq!(unescape_path_name(escaped), raw, "{escaped:?}");
        }
        // Lower-case hex is accepted when reading; a stray % is kept.
        assert_eq!(unescape_path_name("a%2fb"), "a/b");
        assert_eq!(unescape_path_name("50%"), "50%");
        assert_eq!(unescape_path_name("%zz"), "%zz");
    }

    #[test]
    fn partition_names_round_trip_with_null_partition() {
        let keys = vec!["dt".to_string(), "src".to_string()];
        let spec = vec![Some("2024-01-01".to_string()), None];
        let name = partition_name(&keys, &spec);
        assert_eq!(name, "dt=2024-01-01/src=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(parse_partition_path(&keys, &name), Some(spec));
        assert_eq!(parse_partition_path(&keys, "dt=x"), None);
        assert_eq!(parse_partition_path(&keys, "dt=x/other=y"), None);
        let escaped = partition_name(&keys, &vec![Some("a/b".into()), Some("".into())]);
        assert_eq!(escaped, "dt=a%2Fb/src=__HIVE_DEFAULT_PARTITION__");
    }

    #[test]
    fn specs_are_ordered_by_key_and_checked() {
        let keys = vec!["y".to_string(), "m".to_string()];
        let pairs = vec![
            ("M".to_string(), Some("1".to_string())),
            ("y".into(), Some("2".into())),
        ];
        assert_eq!(
            spec_from_pairs("t", &keys, &pairs).unwrap(),
            vec![Some("2".to_string()), Some("1".to_string())]
        );
        assert!(spec_from_pairs("t", &keys, &pairs[..1]).is_err());
        let bad = vec![("z".to_string(), None)];
        assert!(spec_from_pairs("t", &keys, &bad).is_err());
    }
}

/// Data files tarn writes are named `tarn-<write id>-<sequence><extension>`: a name no other
/// engine produces, so a listing reader can tell tarn's files (readable only once a commit
/// recorded them) from files other engines put in a directory (always readable).
pub const TARN_FILE_PREFIX: &str = "tarn-";

/// The name of a data file tarn writes.
pub fn tarn_file_name(write_id: &str, sequence: usize, extension: &str) -> String {
    format!("{TARN_FILE_PREFIX}{write_id}-{sequence:05}{extension}")
}

/// The write id in a file name tarn gave (`tarn-<hex id>-…`), else `None`.
pub fn tarn_write_id(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix(TARN_FILE_PREFIX)?;
    let (id, _) = rest.split_once('-')?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

#[cfg(test)]
mod tarn_names {
    use super::*;

    #[test]
    fn tarn_file_names_round_trip_and_others_are_not_tarns() {
        let name = tarn_file_name("19a2b3c4d5e6f0a1b2", 7, ".parquet");
        assert_eq!(name, "tarn-19a2b3c4d5e6f0a1b2-00007.parquet");
        assert_eq!(tarn_write_id(&name), Some("19a2b3c4d5e6f0a1b2"));
        for other in [
            "part-00000-5f0c-c000.snappy.parquet",
            "part-00000.parquet",
            "tarn-.parquet",
            "tarn-xyz-00001.parquet",
            "data.csv",
        ] {
            assert_eq!(tarn_write_id(other), None, "{other}");
        }
    }
}
