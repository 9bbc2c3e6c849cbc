//! Session settings in PostgreSQL's style (SET / SHOW / RESET), plus tarn's own `tarn.*`.
//!
//! Each setting has a canonical name, a default, a validator that normalises values the way
//! PostgreSQL displays them, and whether clients are told about changes (ParameterStatus).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{EngineError, ErrorKind, Result};

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

/// Parses a duration the way PostgreSQL reads statement_timeout: a number of milliseconds, or a
/// number with a unit (ms, s, min, h).
pub fn parse_timeout(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: u64 = n.parse().ok()?;
    let ms = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => n,
        "s" => n * 1000,
        "min" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

fn timeout(v: &str) -> Result<String> {
    let d = parse_timeout(v).ok_or_else(|| {
        invalid(
            "statement_timeout",
            v,
            "milliseconds, or a number with ms, s, min or h",
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

const SPECS: &[Spec] = &[
    Spec {
        name: "application_name",
        default: "",
        report: true,
        read_only: false,
        normalize: any,
        description: "Sets the application name to be reported in statistics and logs.",
    },
    Spec {
        name: "client_encoding",
        default: "UTF8",
        report: true,
        read_only: false,
        normalize: encoding,
        description: "Sets the client's character set encoding.",
    },
    Spec {
        name: "DateStyle",
        default: "ISO, MDY",
        report: true,
        read_only: false,
        normalize: date_style,
        description: "Sets the display format for date and time values.",
    },
    Spec {
        name: "default_transaction_isolation",
        default: "read committed",
        report: false,
        read_only: false,
        normalize: isolation,
        description: "Sets the transaction isolation level of each new transaction.",
    },
    Spec {
        name: "extra_float_digits",
        default: "1",
        report: false,
        read_only: false,
        normalize: float_digits,
        description: "Sets the number of digits displayed for floating-point values.",
    },
    Spec {
        name: "integer_datetimes",
        default: "on",
        report: true,
        read_only: true,
        normalize: any,
        description: "Shows whether datetimes are integer based.",
    },
    Spec {
        name: "IntervalStyle",
        default: "postgres",
        report: true,
        read_only: false,
        normalize: interval_style,
        description: "Sets the display format for interval values.",
    },
    Spec {
        name: "max_identifier_length",
        default: "63",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows the maximum identifier length.",
    },
    Spec {
        name: "search_path",
        default: "\"$user\", public",
        report: false,
        read_only: false,
        normalize: any,
        description: "Sets the schema (tarn database) search order for names that are not schema-qualified.",
    },
    Spec {
        name: "server_encoding",
        default: "UTF8",
        report: true,
        read_only: true,
        normalize: any,
        description: "Shows the server (database) character set encoding.",
    },
    Spec {
        name: "server_version",
        default: SERVER_VERSION,
        report: true,
        read_only: true,
        normalize: any,
        description: "Shows the server version.",
    },
    Spec {
        name: "server_version_num",
        default: "160004",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows the server version as an integer.",
    },
    Spec {
        name: "standard_conforming_strings",
        default: "on",
        report: true,
        read_only: false,
        normalize: on_only,
        description: "Causes '...' strings to treat backslashes literally.",
    },
    Spec {
        name: "statement_timeout",
        default: "0",
        report: false,
        read_only: false,
        normalize: timeout,
        description: "Sets the maximum allowed duration of any statement.",
    },
    Spec {
        name: "tarn.batch_id",
        default: "",
        report: false,
        read_only: false,
        normalize: any,
        description: "The batch id recorded by writes (empty: each write gets its own).",
    },
    Spec {
        name: "TimeZone",
        default: "UTC",
        report: true,
        read_only: false,
        normalize: time_zone,
        description: "Sets the time zone for displaying and interpreting time stamps.",
    },
    Spec {
        name: "transaction_isolation",
        default: "read committed",
        report: false,
        read_only: false,
        normalize: isolation,
        description: "Sets the current transaction's isolation level.",
    },
    // Read by drivers and BI tools (SHOW, current_setting, pg_settings); most are fixed facts
    // of a tarn server, the rest are accepted and remembered without changing behaviour.
    Spec {
        name: "default_table_access_method",
        default: "heap",
        report: false,
        read_only: true,
        normalize: any,
        description: "Sets the default table access method for new tables.",
    },
    Spec {
        name: "lc_collate",
        default: "C.UTF-8",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows the collation order locale.",
    },
    Spec {
        name: "lc_ctype",
        default: "C.UTF-8",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows the character classification and case conversion locale.",
    },
    Spec {
        name: "lc_messages",
        default: "C.UTF-8",
        report: false,
        read_only: true,
        normalize: any,
        description: "Sets the language in which messages are displayed.",
    },
    Spec {
        name: "lc_monetary",
        default: "C",
        report: false,
        read_only: true,
        normalize: any,
        description: "Sets the locale for formatting monetary amounts.",
    },
    Spec {
        name: "lc_numeric",
        default: "C",
        report: false,
        read_only: true,
        normalize: any,
        description: "Sets the locale for formatting numbers.",
    },
    Spec {
        name: "lc_time",
        default: "C",
        report: false,
        read_only: true,
        normalize: any,
        description: "Sets the locale for formatting date and time values.",
    },
    Spec {
        name: "max_index_keys",
        default: "32",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows the maximum number of index keys.",
    },
    Spec {
        name: "max_function_args",
        default: "100",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows the maximum number of function arguments.",
    },
    Spec {
        name: "block_size",
        default: "8192",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows the size of a disk block.",
    },
    Spec {
        name: "max_connections",
        default: "100",
        report: false,
        read_only: true,
        normalize: any,
        description: "Sets the maximum number of concurrent connections.",
    },
    Spec {
        name: "default_tablespace",
        default: "",
        report: false,
        read_only: true,
        normalize: any,
        description: "Sets the default tablespace to create tables and indexes in.",
    },
    Spec {
        name: "in_hot_standby",
        default: "off",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows whether hot standby is currently active.",
    },
    Spec {
        name: "transaction_read_only",
        default: "off",
        report: false,
        read_only: true,
        normalize: any,
        description: "Shows whether the current transaction is read-only.",
    },
    Spec {
        name: "client_min_messages",
        default: "notice",
        report: false,
        read_only: false,
        normalize: any,
        description: "Sets the message levels that are sent to the client.",
    },
    Spec {
        name: "bytea_output",
        default: "hex",
        report: false,
        read_only: false,
        normalize: any,
        description: "Sets the output format for bytea.",
    },
    Spec {
        name: "lock_timeout",
        default: "0",
        report: false,
        read_only: false,
        normalize: timeout,
        description: "Sets the maximum allowed duration of any wait for a lock.",
    },
    Spec {
        name: "idle_in_transaction_session_timeout",
        default: "0",
        report: false,
        read_only: false,
        normalize: timeout,
        description: "Sets the maximum allowed idle time between queries, when in a transaction.",
    },
    Spec {
        name: "default_transaction_read_only",
        default: "off",
        report: false,
        read_only: false,
        normalize: any,
        description: "Sets the default read-only status of new transactions.",
    },
    Spec {
        name: "row_security",
        default: "on",
        report: false,
        read_only: false,
        normalize: any,
        description: "Enable row security.",
    },
    Spec {
        name: "xmloption",
        default: "content",
        report: false,
        read_only: false,
        normalize: any,
        description: "Sets whether XML data in implicit parsing and serialization operations is to be considered as documents or content fragments.",
    },
    Spec {
        name: "escape_string_warning",
        default: "on",
        report: false,
        read_only: false,
        normalize: any,
        description: "Warn about backslash escapes in ordinary string literals.",
    },
    Spec {
        name: "check_function_bodies",
        default: "on",
        report: false,
        read_only: false,
        normalize: any,
        description: "Check routine bodies during CREATE FUNCTION and CREATE PROCEDURE.",
    },
    Spec {
        name: "synchronous_commit",
        default: "on",
        report: false,
        read_only: false,
        normalize: any,
        description: "Sets the current transaction's synchronization level.",
    },
    Spec {
        name: "jit",
        default: "off",
        report: false,
        read_only: false,
        normalize: any,
        description: "Allow JIT compilation.",
    },
    Spec {
        name: "work_mem",
        default: "4MB",
        report: false,
        read_only: false,
        normalize: any,
        description: "Sets the maximum memory to be used for query workspaces.",
    },
];

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
