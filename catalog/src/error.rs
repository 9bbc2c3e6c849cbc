//! The catalog's one error type. Variants name the object involved so callers can classify them
//! (undefined / duplicate / invalid) without parsing messages.

/// Result alias for catalog operations.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// Everything that can go wrong in the metastore.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("database '{0}' does not exist")]
    DatabaseNotFound(String),
    #[error("database '{0}' already exists")]
    DatabaseExists(String),
    #[error("database '{0}' is not empty; use DROP DATABASE ... CASCADE")]
    DatabaseNotEmpty(String),
    #[error("table '{db}.{table}' does not exist")]
    TableNotFound { db: String, table: String },
    #[error("table '{db}.{table}' already exists")]
    TableExists { db: String, table: String },
    #[error("partition {partition} of table '{table}' does not exist")]
    PartitionNotFound { table: String, partition: String },
    #[error("partition {partition} of table '{table}' already exists")]
    PartitionExists { table: String, partition: String },
    #[error("role \"{0}\" does not exist")]
    UserNotFound(String),
    #[error("role \"{0}\" already exists")]
    UserExists(String),
    /// Something still refers to the object (PostgreSQL's 2BP01).
    #[error("{0}")]
    DependentObjects(String),
    #[error("invalid type '{type_name}': {reason}")]
    InvalidType { type_name: String, reason: String },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("the default database cannot be dropped")]
    DropDefaultDatabase,
    /// The store refused or failed a statement (no driver types: the crate is store-neutral).
    #[error("metastore storage error: {0}")]
    Storage(String),
    /// The store cannot be reached (connection refused or lost); the call may be retried, and
    /// the pool reconnects by itself. A write whose commit was in flight may or may not have
    /// landed.
    #[error("metastore unavailable: {0}")]
    Unavailable(String),
    /// The connection failed while a write's COMMIT was in flight: it may or may not have
    /// landed.
    #[error(
        "the catalog connection failed during COMMIT; the change may or may not have been \
         applied: {0}"
    )]
    CommitOutcomeUnknown(String),
    #[error("metastore record is corrupt: {0}")]
    Corrupt(String),
    #[error("metastore I/O error at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not serialize access due to a concurrent write: {0}")]
    Conflict(String),
    #[error("metastore background task failed: {0}")]
    TaskFailed(String),
}

impl CatalogError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Self::InvalidArgument(msg.into())
    }
}

impl From<serde_json::Error> for CatalogError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
