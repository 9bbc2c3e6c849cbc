//! # tarn — an embedded SQL lakehouse
//!
//! A Hive-compatible metastore (SQLite by default) and Apache DataFusion over partitioned
//! Parquet, CSV and JSON, in one process. The catalog, not directory listing, decides which
//! files a query reads.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tarn::Error> {
//! let tarn = tarn::Tarn::open_dir("./tarn-data")?;
//! let session = tarn.session("alice");
//! let batches = session.query("SHOW DATABASES").await?;
//! println!("{}", tarn::pretty(&batches)?);
//! # Ok(()) }
//! ```

pub mod config;
pub mod demo;
pub mod serve;

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
pub use tarn_engine::{
    Engine, EngineConfig, EngineError as Error, ErrorKind, Output, Progress, ProgressFn, Result,
    Session,
};
pub use tarn_engine::{catalog, sql, storage};

pub use datafusion;
pub use datafusion::physical_plan::SendableRecordBatchStream;
pub use object_store::ObjectStore;
pub use tarn_server as server;

/// An open tarn: engine + metastore on a data dir.
#[derive(Clone, Debug)]
pub struct Tarn {
    engine: Engine,
}

impl Tarn {
    /// Opens (creating on first use) the data dir with default settings.
    /// Must be called within a tokio runtime.
    pub fn open_dir(data_dir: impl AsRef<Path>) -> Result<Self> {
        Self::open(EngineConfig::new(data_dir.as_ref()))
    }

    /// Opens with explicit settings and the embedded catalog.
    pub fn open(config: EngineConfig) -> Result<Self> {
        Ok(Self {
            engine: Engine::open(config)?,
        })
    }

    /// Opens with explicit settings on the catalog they name (embedded or PostgreSQL).
    pub async fn connect(config: EngineConfig) -> Result<Self> {
        Ok(Self {
            engine: Engine::open_catalog(config).await?,
        })
    }

    /// A session: current database, settings, statement execution.
    pub fn session(&self, user: &str) -> TarnSession {
        TarnSession {
            inner: self.engine.session(user),
        }
    }

    /// Makes an object store available for locations under `url` (e.g. `s3://bucket`).
    pub fn register_object_store(&self, url: &url::Url, store: Arc<dyn ObjectStore>) {
        self.engine.register_object_store(url, store);
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// A session with conveniences for embedding.
#[derive(Debug)]
pub struct TarnSession {
    inner: Session,
}

impl TarnSession {
    /// Runs every statement in `sql`; returns the rows of the last one that produced rows.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let mut last = Vec::new();
        for statement in self.inner.parse(sql)? {
            if let Output::Stream(stream) = self.inner.execute(statement).await? {
                last = collect(stream).await?;
            }
        }
        Ok(last)
    }

    /// Runs one statement and returns its rows as a stream (or a command completion).
    pub async fn query_stream(&self, sql: &str) -> Result<Output> {
        let mut statements = self.inner.parse(sql)?;
        if statements.len() != 1 {
            return Err(Error::InvalidParameter(format!(
                "query_stream takes exactly one statement, got {}",
                statements.len()
            )));
        }
        self.inner.execute(statements.remove(0)).await
    }

    /// The underlying engine session (parse + execute, progress, DataFusion context).
    pub fn session(&mut self) -> &mut Session {
        &mut self.inner
    }
}

/// Drains a stream into batches.
pub async fn collect(mut stream: SendableRecordBatchStream) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        batches.push(batch?);
    }
    Ok(batches)
}

/// Renders batches as a text table.
pub fn pretty(batches: &[RecordBatch]) -> Result<String> {
    let options = datafusion::arrow::util::display::FormatOptions::default().with_null("NULL");
    Ok(
        datafusion::arrow::util::pretty::pretty_format_batches_with_options(batches, &options)?
            .to_string(),
    )
}
