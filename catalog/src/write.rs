//! The write model: data files recorded by the catalog, and the one-transaction commit that
//! publishes a write.
//!
//! A writer first writes its files, then calls [`crate::Metastore::commit_write`], which checks
//! what the writer saw (optimistic concurrency) and publishes every touched partition at once.
//! Readers see the old state or the new one, never a mix; a write that never commits publishes
//! nothing (its files are orphans for VACUUM).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::PartitionSpec;

/// Statistics of one column in one data file, rendered as text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    pub min: Option<String>,
    pub max: Option<String>,
    pub null_count: u64,
}

/// A data file written by tarn, as the catalog records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// Absolute location (path or URL).
    pub path: String,
    pub size: u64,
    pub rows: u64,
    /// Per-column statistics, by column name.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnStats>,
}

/// What the writer saw of a partition when it started; checked at commit.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// The partition did not exist.
    Absent,
    /// The partition lived at this location (appends only conflict with a move or overwrite).
    AtLocation(String),
    /// The partition was at this version (overwrites conflict with any change).
    AtVersion(i64),
}

/// How one partition changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Add files; the partition is created at `location` if it is absent.
    Append,
    /// Replace the partition's location and files (the old location is retired).
    Replace,
}

/// One partition's part of a write. Unpartitioned tables use an empty `values`.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionWrite {
    pub values: PartitionSpec,
    pub location: String,
    pub change: Change,
    pub expected: Expected,
    pub files: Vec<DataFile>,
}

/// A write that has started and not yet committed or been abandoned: its files (named
/// `tarn-<write_id>-…`) must not be read, even where a directory is listed.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingWrite {
    /// `<sequence, 14 hex digits><catalog id, 8 hex digits><writer's random suffix>`: the
    /// catalog numbers writes as they begin (see [`crate::Metastore::begin_write`]).
    pub write_id: String,
    pub database: String,
    pub table: String,
    /// Seconds since the epoch.
    pub started_at: i64,
    pub user: String,
    pub statement: String,
    /// The writer gave up without removing everything it wrote: nothing will commit it, so
    /// VACUUM may reclaim it regardless of age.
    pub failed: bool,
    /// The table's location when the write began: a table declared later over the same
    /// directories (under any name) skips the write's files too.
    pub location: String,
}

/// A table's writes in progress, read in one catalog transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteState {
    pub pending: Vec<PendingWrite>,
    /// The number of the last write that began (any table): writes numbered above it began
    /// after this was read.
    pub last_sequence: u64,
    /// This catalog's id, the second part of its write ids.
    pub catalog_id: String,
}

/// The sequence prefix of write ids ([`PendingWrite::write_id`]).
pub fn write_sequence_prefix(sequence: u64) -> String {
    format!("{sequence:014x}")
}

/// A whole write, committed in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteCommit {
    /// The write's id, registered by [`crate::Metastore::begin_write`]; the commit ends that
    /// intent, and fails if it was abandoned meanwhile (VACUUM may have deleted its files).
    pub write_id: String,
    pub database: String,
    pub table: String,
    pub batch_id: String,
    /// The batch id is the writer's idempotency key (`SET tarn.batch_id`): this run replaces
    /// the rows of earlier runs of the same batch on the table, in the same transaction.
    pub replaces_batch: bool,
    pub statement: String,
    pub user: String,
    pub writes: Vec<PartitionWrite>,
    /// CTAS: the table is created in the same transaction as its first write.
    pub create_table: Option<crate::model::Table>,
    /// With `create_table`: the table of that name is dropped first, in the same transaction,
    /// if it is still at this version (else [`crate::CatalogError::Conflict`]).
    pub replace_table: Option<i64>,
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitOutcome {
    /// Locations no longer referenced (replaced partitions): VACUUM deletes them later.
    pub retired_locations: Vec<String>,
    pub rows: u64,
}

/// One committed write, for `tarn.batches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRecord {
    pub database: String,
    pub table: String,
    pub batch_id: String,
    pub statement: String,
    pub user: String,
    pub time: i64,
    /// Partition names written.
    pub partitions: Vec<String>,
    pub rows: u64,
    /// Whether this run's rows are in the table (a later run of the same batch id supersedes
    /// it).
    #[serde(default = "live_by_default")]
    pub live: bool,
}

fn live_by_default() -> bool {
    true
}

/// A location retired by a commit, for VACUUM.
#[derive(Debug, Clone, PartialEq)]
pub struct RetiredLocation {
    pub location: String,
    pub retired_at: i64,
}
