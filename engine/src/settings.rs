//! Session settings in PostgreSQL's style (SET / SHOW / RESET), plus tarn's own `tarn.*`.
//!
//! Each setting has a canonical name, a default, a validator that normalises values the way
//! PostgreSQL displays them, and whether clients are told about changes (ParameterStatus).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{EngineError, ErrorKind, Result};

mod specs;
use specs::SPECS;

/// The PostgreSQL version tarn reports, so clients choose their modern catalog queries.
pub const SERVER_VERSION: &str = "16.4";

type Normalize = fn(&str) -> Result<String>;

struct Spec {
    name: &'static str,
    default: &'static str,
    /// Sent to clients in ParameterStatus at startup and on change.
    report: bool,
    read_only: bool,
    normalize: Normalize,
    description: &'static str,
}

fn any(v: &str) -> Result<String> {
    Ok(v.to_string())
}

fn invalid(name: &str, value: &str, allowed: &str) -> EngineError {
    EngineError::InvalidParameter(format!(
        "invalid value for parameter \"{name}\": \"{value}\" ({allowed})"
    ))
}

fn encoding(v: &str) -> Result<String> {
    match v.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
        "UTF8" | "UNICODE" => Ok("UTF8".into()),
        _ => Err(invalid("client_encoding", v, "tarn speaks UTF8 only")),
    }
}

fn date_style(v: &str) -> Result<String> {
    let parts: Vec<String> = v
        .split(',')
        .map(|p| p.trim().to_ascii_uppercase())
        .collect();
    let mut order = "MDY";
    for p in &parts {
        match p.as_str() {
            "ISO" => {}
            "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY",
            "DMY" => order = "DMY",
            "YMD" => order = "YMD",
            "EURO" | "EUROPEAN" => order = "DMY",
            _ => return Err(invalid("DateStyle", v, "tarn formats dates as ISO")),
        }
    }
    Ok(format!("ISO, {order}"))
}

fn interval_style(v: &str) -> Result<String> {
    match v.to_ascii_lowercase().as_str() {
        "postgres" => Ok("postgres".into()),
        _ => Err(invalid("IntervalStyle", v, "only postgres")),
    }
}

fn on_only(v: &str) -> Result<String> {
    match v.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok("on".into()),
        _ => Err(invalid("standard_conforming_strings", v, "only on")),
    }
}

/// A boolean setting, shown as PostgreSQL shows them (`on` / `off`).
fn on_off(v: &str) -> Result<String> {
    match v.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" | "t" | "y" => Ok("on".into()),
        "off" | "false" | "0" | "no" | "f" | "n" => Ok("off".into()),
        _ => Err(EngineError::InvalidParameter(format!(
            "invalid value for a boolean parameter: \"{v}\" (on or off)"
        ))),
    }
}

fn float_digits(v: &str) -> Result<String> {
    match v.parse::<i32>() {
        Ok(n) if (-15..=3).contains(&n) => Ok(n.to_string()),
        _ => Err(invalid("extra_float_digits", v, "an integer from -15 to 3")),
    }
}

fn isolation(v: &str) -> Result<String> {
    let v = v.to_ascii_lowercase();
    match v.as_str() {
        "serializable" | "repeatable read" | "read committed" | "read uncommitted" => Ok(v),
        _ => Err(invalid("transaction_isolation", &v, "an isolation level")),
    }
}

fn time_zone(v: &str) -> Result<String> {
    let canonical = if v.eq_ignore_ascii_case("utc") || v.eq_ignore_ascii_case("gmt") {
        "UTC".to_string()
    } else {
        v.to_string()
    };
    canonical
        .parse::<datafusion::arrow::array::timezone::Tz>()
        .map(|_| canonical.clone())
        .map_err(|_| {
            invalid(
                "TimeZone",
                v,
                "a time zone name like UTC or Europe/Paris, or +02:00",
            )
        })
}

/// The longest timeout PostgreSQL accepts: its timeouts are `int` milliseconds (~24.8 days).
const MAX_TIMEOUT_MS: u64 = i32::MAX as u64;

/// Parses a duration the way PostgreSQL reads statement_timeout: a number of milliseconds, or a
/// number with a unit (ms, s, min, h), at most [`MAX_TIMEOUT_MS`]. Out-of-range values are
/// `None` (refused), never wrapped around.
pub fn parse_timeout(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: u64 = n.parse().ok()?;
    let per_unit: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    let ms = n.checked_mul(per_unit).filter(|ms| *ms <= MAX_TIMEOUT_MS)?;
    Some(Duration::from_millis(ms))
}

fn timeout(v: &str) -> Result<String> {
    let d = parse_timeout(v).ok_or_else(|| {
        invalid(
            "statement_timeout",
            v,
            "milliseconds, or a number with ms, s, min or h, at most 2147483647ms",
        )
    })?;
    let ms = d.as_millis();
    Ok(match ms {
        0 => "0".into(),
        ms if ms % 60_000 == 0 => format!("{}min", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    })
}

fn spec(name: &str) -> Result<&'static Spec> {
    SPECS
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| EngineError::Session {
            kind: ErrorKind::UndefinedObject,
            message: format!("unrecognized configuration parameter \"{name}\""),
        })
}

/// One session's settings. Values not set are the defaults.
#[derive(Debug, Default, Clone)]
pub struct Settings {
    values: BTreeMap<&'static str, String>,
}

impl Settings {
    /// The current value, by any capitalisation of the name.
    pub fn get(&self, name: &str) -> Result<String> {
        let spec = spec(name)?;
        Ok(self.value(spec))
    }

    fn value(&self, spec: &Spec) -> String {
        self.values
            .get(spec.name)
            .cloned()
            .unwrap_or_else(|| spec.default.to_string())
    }

    /// The canonical name of a setting (`datestyle` -> `DateStyle`).
    pub fn canonical_name(name: &str) -> Result<&'static str> {
        spec(name).map(|s| s.name)
    }

    /// Sets a value (normalised), or resets it to the default with `None`.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        let spec = spec(name)?;
        if spec.read_only {
            return Err(EngineError::Session {
                kind: ErrorKind::InvalidParameter,
                message: format!("parameter \"{}\" cannot be changed", spec.name),
            });
        }
        match value {
            Some(v) => {
                let v = (spec.normalize)(v.trim_matches('\''))?;
                self.values.insert(spec.name, v);
            }
            None => {
                self.values.remove(spec.name);
            }
        }
        Ok(())
    }

    /// `(name, value)` of every setting changed from its default.
    pub fn changed(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    /// Resets every changeable setting.
    pub fn reset_all(&mut self) {
        self.values.clear();
    }

    /// `(name, value, description)` of every setting, by name.
    pub fn all(&self) -> Vec<(&'static str, String, &'static str)> {
        let mut all: Vec<_> = SPECS
            .iter()
            .map(|s| (s.name, self.value(s), s.description))
            .collect();
        all.sort_by_key(|(n, _, _)| n.to_ascii_lowercase());
        all
    }

    /// The settings clients are told about (ParameterStatus), with their values.
    pub fn reported(&self) -> Vec<(&'static str, String)> {
        SPECS
            .iter()
            .filter(|s| s.report)
            .map(|s| (s.name, self.value(s)))
            .collect()
    }

    /// Whether a boolean setting is on.
    pub fn is_on(&self, name: &str) -> bool {
        self.get(name).is_ok_and(|v| v == "on")
    }

    /// The statement timeout; `None` when disabled.
    pub fn statement_timeout(&self) -> Option<Duration> {
        parse_timeout(&self.get("statement_timeout").unwrap_or_default()).filter(|d| !d.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated_and_normalised() {
        let mut s = Settings::default();
        let cases = [
            ("datestyle", "iso, dmy", "ISO, DMY"),
            ("DateStyle", "ISO", "ISO, MDY"),
            ("client_encoding", "utf-8", "UTF8"),
            ("statement_timeout", "5000", "5s"),
            ("statement_timeout", "250ms", "250ms"),
            ("statement_timeout", "2min", "2min"),
            ("timezone", "utc", "UTC"),
            ("timezone", "Europe/Paris", "Europe/Paris"),
            ("timezone", "+02:00", "+02:00"),
            ("extra_float_digits", "3", "3"),
            ("transaction_isolation", "SERIALIZABLE", "serializable"),
        ];
        for (name, value, shown) in cases {
            s.set(name, Some(value)).unwrap();
            assert_eq!(s.get(name).unwrap(), shown, "{name} = {value}");
        }
        assert_eq!(s.statement_timeout(), Some(Duration::from_secs(120)));
        for (name, value) in [
            ("client_encoding", "LATIN1"),
            ("DateStyle", "SQL"),
            ("extra_float_digits", "9"),
            ("statement_timeout", "soon"),
            ("TimeZone", "Mars/Olympus"),
            ("standard_conforming_strings", "off"),
            // Unit conversions that overflow are refused, not wrapped (nor a panic).
            ("statement_timeout", "9223372036854775807 h"),
            ("statement_timeout", "18446744073709551615 min"),
            ("statement_timeout", "99999999999999999999999"),
            ("statement_timeout", "2147483648"),
        ] {
            let err = s.set(name, Some(value)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{name} = {value}");
        }
        assert_eq!(
            s.set("server_version", Some("9")).unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            s.get("nope").unwrap_err().kind(),
            ErrorKind::UndefinedObject
        );
        s.reset_all();
        assert_eq!(s.get("TimeZone").unwrap(), "UTC");
        assert!(
            s.reported()
                .iter()
                .any(|(n, v)| *n == "server_version" && v == SERVER_VERSION)
        );
    }
}
