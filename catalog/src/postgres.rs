//! The shared PostgreSQL store: any number of tarn servers (and, through them, other engines)
//! use one catalog. The metastore logic is the SQLite store's ([`crate::rdbms`]); this module
//! supplies connections and the transactions that give the same guarantees as one SQLite file:
//!
//! - a read runs in one `REPEATABLE READ READ ONLY` transaction (one snapshot for all its
//!   statements), its `BEGIN` pipelined with the first statement and its `COMMIT` not waited
//!   for, so a one-statement read is one round trip;
//! - a write runs in one transaction that first takes a transaction-scoped advisory lock of the
//!   catalog schema: writers on every server are serialized like SQLite's IMMEDIATE writers, so
//!   a commit's optimistic checks and its changes are atomic with respect to every other write.
//!   No lock outlives a metadata transaction (data files are written before it starts).
//!
//! Connections are pooled; a closed connection is dropped from the pool and the next call
//! connects again, so a restarted PostgreSQL is used again without restarting tarn.

mod conn;
mod schema;
mod tls;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Config};

use crate::error::{CatalogError, Result};
use crate::rdbms::conn::Conn;
use crate::rdbms::{Backend, SqlMetastore};
use conn::PgConn;

/// The metastore in a PostgreSQL schema.
pub type PostgresMetastore = SqlMetastore<PostgresStore>;

/// Where and how to reach the catalog database.
#[derive(Clone)]
pub struct PostgresOptions {
    /// `postgresql://user@host:port/db` (libpq URL or key=value form).
    pub url: String,
    /// Used when the URL has none (from `TARN_CATALOG_PASSWORD` or a password file), so the
    /// password need not appear in a config file or a process list.
    pub password: Option<String>,
    /// The PostgreSQL schema holding tarn's tables (created if missing).
    pub schema: String,
    /// Connections kept at most.
    pub max_connections: usize,
    /// Certificates (PEM) trusted besides the system's when the connection uses TLS
    /// (`sslmode=prefer`, the default, or `require` in the URL).
    pub ssl_root_cert: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &redact(&self.url))
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl PostgresOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            password: None,
            schema: "tarn".into(),
            max_connections: 16,
            ssl_root_cert: None,
        }
    }
}

/// A catalog URL without its password, for messages and logs: the user info loses its
/// password, query parameters (`?password=…`, `?sslpassword=…`) are dropped, and a key=value
/// connection string that mentions a password is not shown at all.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.to_ascii_lowercase().contains("password") {
            "<connection string>".to_string()
        } else {
            url.to_string()
        };
    };
    let rest = rest.split('?').next().unwrap_or_default();
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => format!("{scheme}://{rest}"),
    }
}

/// How long connecting (TCP, TLS, startup, authentication) may take.
const CONNECT_DEADLINE: Duration = Duration::from_secs(15);

/// A pool of connections to one catalog schema.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    tls: tls::MakeRustls,
    /// `redact(url)`, for messages.
    name: String,
    schema: String,
    /// The advisory lock every writer of this schema takes.
    lock_key: i64,
    idle: Mutex<Vec<(Client, conn::Prepared)>>,
    permits: Arc<Semaphore>,
    round_trips: AtomicU64,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.inner.name)
            .field("schema", &self.inner.schema)
            .finish()
    }
}

impl SqlMetastore<PostgresStore> {
    /// Connects, creates or migrates tarn's schema (refusing one newer than this tarn), and
    /// makes sure the `default` database exists with `default_location`.
    pub async fn connect(options: &PostgresOptions, default_location: &str) -> Result<Self> {
        let store = PostgresStore::new(options)?;
        let client = store.acquire().await?;
        let migrate = schema::migrate(client.parts()?.0, &store.inner.schema, store.inner.lock_key);
        tokio::time::timeout(conn::STATEMENT_DEADLINE, migrate)
            .await
            .map_err(|_| {
                CatalogError::Unavailable(format!(
                    "the catalog at {} did not finish checking its schema within {:?}",
                    store.inner.name,
                    conn::STATEMENT_DEADLINE
                ))
            })??;
        client.release(true);
        SqlMetastore::init(store, default_location).await
    }
}

/// Schema names are plain lower-case identifiers (always quoted in SQL, so reserved words are
/// fine), not PostgreSQL's own schemas nor `public` (whose other tables tarn must not share).
fn check_schema_name(name: &str) -> Result<()> {
    let reserved = name == "public" || name == "information_schema" || name.starts_with("pg_");
    let ok = !reserved
        && !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::InvalidArgument(format!(
            "catalog schema name '{name}' must be a lower-case identifier ([a-z_][a-z0-9_]*), \
             not public, information_schema or pg_*"
        )))
    }
}

/// FNV-1a: a lock key that is the same in every tarn build.
fn lock_key(schema: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "tarn-catalog:".bytes().chain(schema.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

impl PostgresStore {
    fn new(options: &PostgresOptions) -> Result<Self> {
        check_schema_name(&options.schema)?;
        let name = redact(&options.url);
        let mut config: Config = options.url.parse().map_err(|e| {
            CatalogError::InvalidArgument(format!("invalid catalog URL {name}: {e}"))
        })?;
        if config.get_password().is_none()
            && let Some(password) = &options.password
        {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // A server machine that vanishes mid-transaction must not hold the write lock for the
        // hours TCP takes to notice: dead peers are found in about a minute, and an idle
        // transaction is ended by the server.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        config.tcp_user_timeout(Duration::from_secs(60));
        config.application_name("tarn");
        config.options(format!(
            "-c search_path=\"{}\" -c idle_in_transaction_session_timeout=120000",
            options.schema
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                tls: tls::MakeRustls::new(options.ssl_root_cert.as_deref())?,
                name,
                schema: options.schema.clone(),
                lock_key: lock_key(&options.schema),
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(options.max_connections.max(1))),
                round_trips: AtomicU64::new(0),
            }),
        })
    }

    /// A pooled connection, or a new one (idle connections that were closed are dropped).
    async fn acquire(&self) -> Result<Pooled> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| CatalogError::TaskFailed(e.to_string()))?;
        loop {
            let idle = self.inner.idle.lock().map_err(|_| poisoned())?.pop();
            match idle {
                Some((c, _)) if c.is_closed() => continue,
                Some(client) => {
                    return Ok(Pooled {
                        client: Some(client),
                        clean: false,
                        store: self.clone(),
                        _permit: permit,
                    });
                }
                None => break,
            }
        }
        // connect_timeout bounds the TCP connect only: the startup and authentication
        // exchange is bounded here.
        let connect = self.inner.config.connect(self.inner.tls.clone());
        let (client, connection) = tokio::time::timeout(CONNECT_DEADLINE, connect)
            .await
            .map_err(|_| format!("no answer within {CONNECT_DEADLINE:?}"))
            .and_then(|r| r.map_err(|e| with_causes(&e)))
            .map_err(|e| {
                CatalogError::Unavailable(format!(
                    "cannot connect to the catalog at {}: {e}",
                    self.inner.name
                ))
            })?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("catalog connection closed: {e}");
            }
        });
        Ok(Pooled {
            client: Some((client, conn::Prepared::default())),
            clean: false,
            store: self.clone(),
            _permit: permit,
        })
    }

    async fn run<T, F>(&self, begin: String, commit: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static,
    {
        let pooled = self.acquire().await?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let out = this.run_on(&pooled, begin, commit, f);
            // Back into the pool only after its transaction ended (a panic above skips this,
            // so a connection left inside a transaction is dropped); after a lost or timed-out
            // connection its state is unknown: never reused.
            pooled.release(!matches!(
                out,
                Err(CatalogError::Unavailable(_) | CatalogError::CommitOutcomeUnknown(_))
            ));
            out
        })
        .await
        .map_err(|e| CatalogError::TaskFailed(e.to_string()))?
    }

    fn run_on<T>(
        &self,
        pooled: &Pooled,
        begin: String,
        write: bool,
        f: impl FnOnce(&dyn Conn) -> Result<T>,
    ) -> Result<T> {
        let (client, prepared) = pooled.parts()?;
        let conn = PgConn {
            client,
            handle: tokio::runtime::Handle::current(),
            begin: RefCell::new(Some(begin)),
            round_trips: &self.inner.round_trips,
            tls: &self.inner.tls,
            prepared,
        };
        let out = f(&conn);
        conn.finish(write, out.is_ok())?;
        out
    }
}

/// A connection taken from the pool; back into it when dropped if it was closed cleanly (no
/// transaction left open) and is still connected.
struct Pooled {
    client: Option<(Client, conn::Prepared)>,
    clean: bool,
    store: PostgresStore,
    _permit: OwnedSemaphorePermit,
}

impl Pooled {
    /// Gives the connection back: into the pool when `clean`, else closed.
    fn release(mut self, clean: bool) {
        self.clean = clean;
    }

    /// The connection and its prepared statements (only `Drop` takes them out).
    fn parts(&self) -> Result<(&Client, &conn::Prepared)> {
        self.client
            .as_ref()
            .map(|(client, prepared)| (client, prepared))
            .ok_or_else(|| {
                CatalogError::TaskFailed("a pooled connection was used after release".into())
            })
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && self.clean
            && !std::thread::panicking()
            && !client.0.is_closed()
            && let Ok(mut idle) = self.store.inner.idle.lock()
        {
            idle.push(client);
        }
    }
}

/// An error and its causes ("error performing TLS handshake: invalid peer certificate: …").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn poisoned() -> CatalogError {
    CatalogError::TaskFailed("the catalog connection pool lock was poisoned".into())
}

impl Backend for PostgresStore {
    /// Statements sent together count once; a read's unawaited COMMIT not at all.
    fn round_trips(&self) -> Option<u64> {
        Some(self.inner.round_trips.load(Ordering::Relaxed))
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static,
    {
        let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string();
        self.run(begin, false, f).await
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static,
    {
        // The lock wait is bounded (a conflict the writer retries, not a hang), and a schema
        // migrated by a newer tarn since this one connected stops its writes.
        let begin = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SET LOCAL lock_timeout = '30s';
             SELECT pg_advisory_xact_lock({key});
             DO $$ BEGIN IF (SELECT version FROM \"{schema}\".tarn_schema_version) <> {version} THEN
               RAISE EXCEPTION 'the catalog schema was migrated by a newer tarn; upgrade this server'
                 USING ERRCODE = 'TN001'; END IF; END $$",
            key = self.inner.lock_key,
            schema = self.inner.schema,
            version = schema::VERSION,
        );
        self.run(begin, true, f).await
    }
}
