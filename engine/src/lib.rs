//! tarn-engine: the one seam every front end uses.
//!
//! An [`Engine`] owns the metastore, the object stores and the shared DataFusion runtime; a
//! [`Session`] (one per client connection or embedding handle) parses SQL with tarn-sql, runs
//! catalog statements against the metastore and plans everything else with DataFusion over
//! [`provider::HiveTable`]s resolved from the metastore. Results are [`Output`]s: record-batch
//! streams or command completions, never collected vectors.

pub mod activity;
pub mod auth;
mod authz;
mod cancel;
mod cpu;
mod engine;
mod error;
pub mod introspect;
pub mod locations;
pub mod memory;
pub mod metadata;
mod output;
pub mod pgcompat;
pub mod provider;
mod session;
pub mod settings;
mod statements;
pub mod storage;
mod write;

pub use cancel::CancelHandle;
pub use engine::{Engine, EngineConfig};
pub use error::{EngineError, ErrorKind, Result};
pub use output::{Output, Progress, ProgressFn};
pub use pgcompat::types as pg_types;
pub use session::{Prepared, PreparedKind, Session, SessionSnapshot, TransactionState};
pub use statements::copy_stdio::CsvSpec;
pub use statements::ingest::IngestMode;
pub use tarn_catalog as catalog;
pub use tarn_sql as sql;
