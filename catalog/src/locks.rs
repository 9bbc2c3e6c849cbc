//! Table locks for metastore clients that commit by swapping a pointer under a lock (Iceberg on
//! a Hive metastore: pyiceberg, Spark's and Trino's Iceberg catalogs). A lock is granted when no
//! other granted lock conflicts with it; it lives while its holder checks or heartbeats it and
//! expires [`LOCK_TIMEOUT_SECS`] after the last sign of life, so a crashed committer does not
//! block a table forever. Kept in the catalog, so servers sharing it share the locks.

/// Seconds a lock outlives its holder's last check or heartbeat (Hive's `hive.txn.timeout`).
pub const LOCK_TIMEOUT_SECS: i64 = 300;

/// How a lock may share its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Compatible with other shared locks.
    Shared,
    /// Compatible with nothing.
    Exclusive,
}

/// One object a lock request covers: a database, or one of its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTarget {
    pub database: String,
    pub table: Option<String>,
    pub mode: LockMode,
}

/// Whether a lock was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    Acquired,
    /// Another lock conflicts; check again later.
    Waiting,
}
