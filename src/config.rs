//! tarn's configuration: a TOML file (unknown keys rejected) with environment overrides.
//!
//! Precedence, lowest to highest: defaults, `<data_dir>/tarn.toml` or `--config FILE`,
//! `TARN_*` environment variables, command-line flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tarn_engine::{EngineConfig, EngineError, Result};

/// The file format of `tarn.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Root of managed tables and of the `default` database (default `<data_dir>/warehouse`).
    pub warehouse_dir: Option<PathBuf>,
    /// The same as a directory or an object-store URL (`s3://bucket/lake`); wins over
    /// `warehouse_dir`.
    pub warehouse: Option<String>,
    /// Object stores, one entry per bucket: `[[storage]] url = "s3://bucket/prefix"`, endpoint,
    /// region, path_style, allow_http, conditional_put, credentials, options.
    #[serde(default)]
    pub storage: Vec<tarn_engine::storage::StorageConfig>,
    /// Further directories or object-store prefixes table locations may use.
    #[serde(default)]
    pub allowed_roots: Vec<String>,
    /// Seconds a partition directory listing is reused (default 30).
    pub listing_cache_ttl_secs: Option<u64>,
    /// Query parallelism (default: number of cores).
    pub target_partitions: Option<usize>,
    /// Threads of the query execution runtime (default: number of cores; 0 = run queries on
    /// the I/O runtime).
    pub cpu_threads: Option<usize>,
    /// MiB of decoded Parquet columns kept in memory for repeated scans (default: a quarter
    /// of physical memory; 0 = off).
    pub scan_cache_mb: Option<usize>,
    /// VACUUM refuses a shorter RETAIN unless a superuser turns `tarn.vacuum_retention_check`
    /// off (default 1).
    pub vacuum_min_retention_hours: Option<u64>,
    /// MiB all running queries may hold together; sorts, joins and aggregates spill to
    /// `<data_dir>/tmp` beyond it (default: half of physical memory minus the scan cache).
    pub memory_limit_mb: Option<usize>,
    /// Failed password logins a user name may have in a burst before its logins fail fast
    /// with 53300, on every front end (default 10).
    pub login_failure_burst: Option<u32>,
    /// Failed logins a user name regains per minute (default 30, at least 1).
    pub login_failures_per_minute: Option<u32>,
    /// The catalog: embedded SQLite in the data dir (default), or a shared PostgreSQL one.
    #[serde(default)]
    pub catalog: CatalogFileConfig,
    /// The Postgres wire listener (`tarn serve`).
    #[serde(default)]
    pub pg: PgFileConfig,
    /// The Arrow Flight SQL listener (`tarn serve`).
    #[serde(default)]
    pub flight: FlightFileConfig,
    /// The Hive Metastore Thrift listener (`tarn serve`; off by default).
    #[serde(default)]
    pub hms: HmsFileConfig,
}

/// `[hms]` in tarn.toml: Spark, Trino, Hive and pyiceberg use tarn as their metastore. TLS
/// uses the `[pg]` certificate and key.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HmsFileConfig {
    /// Address to listen on (env `TARN_HMS_LISTEN`, flag `--hms-listen`); absent or "off":
    /// no listener.
    pub listen: Option<String>,
    /// The role every connection acts as unless a `[[hms.clients]]` rule matches (default
    /// `hms_anonymous`, a role that does not exist and so has only PUBLIC's privileges).
    pub role: Option<String>,
    /// Roles by client network: `[[hms.clients]] cidr = "10.0.0.0/8" role = "etl"`.
    #[serde(default)]
    pub clients: Vec<HmsClientConfig>,
    /// Connections served at once (default 128).
    pub max_connections: Option<usize>,
}

/// One `[[hms.clients]]` rule.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HmsClientConfig {
    pub cidr: String,
    pub role: String,
}

/// `[catalog]` in tarn.toml: where the metastore lives. Several servers with the same
/// PostgreSQL catalog and warehouse serve one lake.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogFileConfig {
    /// `postgresql://user@host:port/db` (env `TARN_CATALOG`, flag `--catalog`); absent: the
    /// embedded SQLite catalog in the data dir.
    pub url: Option<String>,
    /// The PostgreSQL schema of tarn's tables (default `tarn`; env `TARN_CATALOG_SCHEMA`).
    pub schema: Option<String>,
    /// A file holding the password (its first line), when the URL has none.
    pub password_file: Option<PathBuf>,
    /// The password itself: only from the environment (`TARN_CATALOG_PASSWORD`), never the file.
    #[serde(skip)]
    pub password: Option<String>,
    /// Connections each server keeps at most (default 16).
    pub max_connections: Option<usize>,
    /// Certificates (PEM) trusted for the catalog's TLS besides the system's (`sslmode=require`
    /// in the URL insists on TLS; the certificate must name the host).
    pub ssl_root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for CatalogFileConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogFileConfig")
            .field(
                "url",
                &self.url.as_deref().map(tarn_catalog::redact_catalog_url),
            )
            .field("schema", &self.schema)
            .field("password_file", &self.password_file)
            .field("max_connections", &self.max_connections)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .finish_non_exhaustive()
    }
}

impl CatalogFileConfig {
    /// The PostgreSQL catalog's options, reading the password file; `None` for the embedded one.
    pub fn options(&self) -> Result<Option<tarn_catalog::PostgresOptions>> {
        let Some(url) = self.url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
            return Err(EngineError::InvalidParameter(format!(
                "catalog URL {} is not a postgresql:// URL (leave it out for the embedded catalog)",
                tarn_catalog::redact_catalog_url(url)
            )));
        }
        let mut options = tarn_catalog::PostgresOptions::new(url);
        if let Some(schema) = &self.schema {
            options.schema = schema.clone();
        }
        if let Some(n) = self.max_connections {
            options.max_connections = n.max(1);
        }
        options.ssl_root_cert = self.ssl_root_cert.clone();
        options.password = match (&self.password, &self.password_file) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(file)) => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    EngineError::InvalidParameter(format!(
                        "cannot read the catalog password file {}: {e}",
                        file.display()
                    ))
                })?;
                Some(text.lines().next().unwrap_or_default().to_string())
            }
            (None, None) => None,
        };
        Ok(Some(options))
    }
}

/// `[flight]` in tarn.toml. TLS uses the `[pg]` certificate and key.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FlightFileConfig {
    /// Address to listen on (default 127.0.0.1:32010), or "off".
    pub listen: Option<String>,
    /// Open sessions (logins) at most (default 1000).
    pub max_sessions: Option<usize>,
    /// Open sessions one user may hold at most (default 64).
    pub max_sessions_per_user: Option<usize>,
    /// Seconds an unused session stays open (default 8 hours).
    pub session_idle_timeout_secs: Option<u64>,
}

/// `[pg]` in tarn.toml.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PgFileConfig {
    /// Address to listen on (default 127.0.0.1:5432).
    pub listen: Option<String>,
    /// The database name clients connect to (default "tarn").
    pub database: Option<String>,
    /// scram-sha-256 (default), password (cleartext) or trust (loopback only).
    pub auth: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    #[serde(default)]
    pub tls_required: bool,
    /// Connections beyond this are refused with 53300 (default 100).
    pub max_connections: Option<usize>,
    /// Of max_connections, slots only superusers may use (default 3).
    pub superuser_reserved_connections: Option<usize>,
    /// MiB a line of `COPY … FROM STDIN` may hold at most (default 256, at most 1024).
    pub copy_max_line_mb: Option<usize>,
    /// The bootstrap admin created on first start when no user exists (default "tarn").
    pub admin_user: Option<String>,
    /// Its password (else TARN_PASSWORD, else generated and printed once).
    pub admin_password: Option<String>,
}

impl FileConfig {
    /// Reads `path`; a missing file at the default location is not an error.
    pub fn load(path: &Path, required: bool) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Self::default());
            }
            Err(e) => {
                return Err(EngineError::InvalidParameter(format!(
                    "cannot read config {}: {e}",
                    path.display()
                )));
            }
        };
        Self::parse(&text).map_err(|e| {
            EngineError::InvalidParameter(format!("invalid config {}: {e}", path.display()))
        })
    }

    pub fn parse(text: &str) -> std::result::Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Applies `TARN_*` overrides from `env`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = env("TARN_WAREHOUSE_DIR") {
            self.warehouse_dir = Some(v.into());
        }
        if let Some(v) = env("TARN_WAREHOUSE") {
            self.warehouse = Some(v);
        }
        if let Some(v) = env("TARN_ALLOWED_ROOTS") {
            self.allowed_roots = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = env("TARN_LISTING_CACHE_TTL_SECS") {
            self.listing_cache_ttl_secs = Some(parse_env("TARN_LISTING_CACHE_TTL_SECS", &v)?);
        }
        if let Some(v) = env("TARN_CATALOG") {
            self.catalog.url = Some(v);
        }
        if let Some(v) = env("TARN_CATALOG_SCHEMA") {
            self.catalog.schema = Some(v);
        }
        if let Some(v) = env("TARN_CATALOG_PASSWORD") {
            self.catalog.password = Some(v);
        }
        if let Some(v) = env("TARN_PG_LISTEN") {
            self.pg.listen = Some(v);
        }
        if let Some(v) = env("TARN_FLIGHT_LISTEN") {
            self.flight.listen = Some(v);
        }
        if let Some(v) = env("TARN_HMS_LISTEN") {
            self.hms.listen = Some(v);
        }
        if let Some(v) = env("TARN_USER") {
            self.pg.admin_user = Some(v);
        }
        if let Some(v) = env("TARN_PASSWORD") {
            self.pg.admin_password = Some(v);
        }
        if let Some(v) = env("TARN_CPU_THREADS") {
            self.cpu_threads = Some(parse_env("TARN_CPU_THREADS", &v)?);
        }
        if let Some(v) = env("TARN_SCAN_CACHE_MB") {
            self.scan_cache_mb = Some(parse_env("TARN_SCAN_CACHE_MB", &v)?);
        }
        if let Some(v) = env("TARN_MEMORY_LIMIT_MB") {
            self.memory_limit_mb = Some(parse_env("TARN_MEMORY_LIMIT_MB", &v)?);
        }
        if let Some(v) = env("TARN_TARGET_PARTITIONS") {
            self.target_partitions = Some(parse_env("TARN_TARGET_PARTITIONS", &v)?);
        }
        Ok(())
    }

    /// The engine settings for `data_dir` (the catalog password file is read here).
    pub fn engine_config(&self, data_dir: &Path) -> Result<EngineConfig> {
        let mut config = EngineConfig::new(data_dir);
        config.catalog = self.catalog.options()?;
        if let Some(w) = &self.warehouse_dir {
            config.warehouse = w.display().to_string();
        }
        if let Some(w) = &self.warehouse {
            config.warehouse = w.clone();
        }
        config.storage = self.storage.clone();
        config.allowed_roots = self.allowed_roots.clone();
        if let Some(ttl) = self.listing_cache_ttl_secs {
            config.listing_cache_ttl = Duration::from_secs(ttl);
        }
        config.target_partitions = self.target_partitions;
        config.cpu_threads = self.cpu_threads;
        if let Some(mb) = self.scan_cache_mb {
            config.scan_cache_bytes = mb.saturating_mul(1 << 20);
        }
        if let Some(mb) = self.memory_limit_mb {
            config.memory_limit = Some(mb.saturating_mul(1 << 20));
        }
        if let Some(hours) = self.vacuum_min_retention_hours {
            config.vacuum_min_retention_hours = hours;
        }
        if let Some(burst) = self.login_failure_burst {
            config.login_failures.burst = burst.max(1);
        }
        if let Some(n) = self.login_failures_per_minute {
            // 0 would lock a name out for good after one burst: anyone could lock out the admin.
            config.login_failures.per_minute = n.max(1);
        }
        Ok(config)
    }
}

fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| EngineError::InvalidParameter(format!("{name}={value} is not a valid number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_keys_and_rejects_unknown() {
        let c = FileConfig::parse(
            "allowed_roots = ['/data', 's3://lake/raw']\nlisting_cache_ttl_secs = 5",
        )
        .unwrap();
        assert_eq!(c.allowed_roots.len(), 2);
        assert_eq!(c.listing_cache_ttl_secs, Some(5));
        let c =
            FileConfig::parse("login_failure_burst = 3\nlogin_failures_per_minute = 6").unwrap();
        let limit = c.engine_config(Path::new("/d")).unwrap().login_failures;
        assert_eq!((limit.burst, limit.per_minute), (3, 6));
        let c = FileConfig::parse("[pg]\nlisten = '127.0.0.1:6543'\nauth = 'trust'").unwrap();
        assert_eq!(c.pg.listen.as_deref(), Some("127.0.0.1:6543"));
        assert!(FileConfig::parse("[pg]\nport = 1").is_err());
        let err = FileConfig::parse("allowed_root = ['/x']").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn environment_overrides_file() {
        let mut c = FileConfig::parse("allowed_roots = ['/a']").unwrap();
        c.apply_env(|k| match k {
            "TARN_ALLOWED_ROOTS" => Some("/b, /c".into()),
            "TARN_TARGET_PARTITIONS" => Some("3".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.allowed_roots, vec!["/b", "/c"]);
        assert_eq!(c.target_partitions, Some(3));
        c.apply_env(|k| (k == "TARN_MEMORY_LIMIT_MB").then(|| "64".into()))
            .unwrap();
        assert_eq!(
            c.engine_config(Path::new("/tmp/d")).unwrap().memory_limit,
            Some(64 << 20)
        );
        assert!(
            c.apply_env(|k| (k == "TARN_TARGET_PARTITIONS").then(|| "x".into()))
                .is_err()
        );
        let engine = c.engine_config(Path::new("/tmp/d")).unwrap();
        assert_eq!(engine.warehouse, "/tmp/d/warehouse");
        let c = FileConfig::parse(
            "warehouse = 's3://lake/wh'\n[[storage]]\nurl = 's3://lake'\nendpoint = 'http://127.0.0.1:9'\n\
             allow_http = true\npath_style = true\n[storage.options]\naws_sse_kms_key_id = 'k'",
        )
        .unwrap();
        let engine = c.engine_config(Path::new("/tmp/d")).unwrap();
        assert_eq!(engine.warehouse, "s3://lake/wh");
        assert_eq!(engine.storage.len(), 1);
        assert!(FileConfig::parse("[[storage]]\nurl = 's3://x'\npassword = 'p'").is_err());
    }
}
