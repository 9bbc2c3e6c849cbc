//! The embedded SQLite store: one file in the data dir, WAL mode (readers never block the
//! writer), versioned migrations, every write in one IMMEDIATE transaction.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool; a small pool of reader
//! connections lets catalog lookups proceed while a write holds the writer connection.

mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::{CatalogError, Result};
use crate::rdbms::conn::{Conn, Dialect, Row, Value};
use crate::rdbms::{Backend, SqlMetastore};

/// How many idle reader connections are kept.
const MAX_IDLE_READERS: usize = 8;

/// The metastore in one SQLite file.
pub type SqliteMetastore = SqlMetastore<SqliteStore>;

/// One SQLite file's connections.
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl From<rusqlite::Error> for CatalogError {
    fn from(e: rusqlite::Error) -> Self {
        CatalogError::Storage(e.to_string())
    }
}

impl SqlMetastore<SqliteStore> {
    /// Opens (creating and migrating if needed) the metastore at `path`, and makes sure the
    /// `default` database exists with `default_location`. Blocks on file I/O: call it where
    /// blocking is fine (startup), not on a runtime worker in the middle of serving.
    pub fn open(path: impl AsRef<Path>, default_location: &str) -> Result<Self> {
        let store = SqliteStore::open(path.as_ref().to_path_buf())?;
        let db = crate::rdbms::default_database(default_location);
        store.write_sync(|tx| crate::rdbms::insert_default_database(tx, &db))?;
        Ok(SqlMetastore::from_backend(store))
    }

    pub fn path(&self) -> &Path {
        &self.backend().path
    }
}

impl SqliteStore {
    fn open(path: PathBuf) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| CatalogError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            path,
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    fn write_sync<T>(&self, f: impl FnOnce(&dyn Conn) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().map_err(|_| poisoned())?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process with a newer tarn may have migrated the file since this one opened
        // it: its writes would not know the new schema's rules.
        schema::check_version(&tx)?;
        let out = f(&*tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Reads run in one transaction so a call's statements see one state of the file.
    fn read_sync<T>(&self, f: impl FnOnce(&dyn Conn) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open(&self.path)?;
                schema::configure(&c)?;
                c
            }
        };
        let out = {
            let tx = conn.transaction()?;
            let out = f(&*tx);
            tx.finish()?;
            out
        };
        let mut idle = self.readers.lock().map_err(|_| poisoned())?;
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}

impl Backend for SqliteStore {
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        run_blocking(move || this.read_sync(f)).await
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        run_blocking(move || this.write_sync(f)).await
    }
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CatalogError::TaskFailed(e.to_string()))?
}

fn poisoned() -> CatalogError {
    CatalogError::TaskFailed("a metastore connection lock was poisoned".into())
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Int(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

fn column(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => Value::Text(
            String::from_utf8(t.to_vec()).map_err(|e| CatalogError::Corrupt(e.to_string()))?,
        ),
        ValueRef::Real(f) => {
            return Err(CatalogError::Corrupt(format!("unexpected REAL value {f}")));
        }
        ValueRef::Blob(_) => return Err(CatalogError::Corrupt("unexpected BLOB value".into())),
    })
}

impl Conn for Connection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64> {
        let mut stmt = self.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(args))? as u64)
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        let mut stmt = self.prepare_cached(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let values = (0..width)
                .map(|i| column(r.get_ref(i)?))
                .collect::<Result<Vec<_>>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }
}
