//! tarn-catalog: a Hive-model metastore.
//!
//! The model ([`Database`], [`Table`], [`Partition`]) follows the Hive Metastore so that the same
//! catalog can later be served to Spark and Trino over the Thrift and Glue APIs. Storage sits behind
//! the async [`Metastore`] trait; [`SqliteMetastore`] is the embedded default.

pub mod acl;
mod colstats;
mod error;
mod filter;
pub mod hive_types;
mod like;
pub mod locks;
mod model;
pub mod paths;
mod postgres;
mod rdbms;
mod sqlite;
mod store;
pub mod testing;
pub mod users;
mod write;

pub use acl::{
    DefaultPrivilege, Grant, GrantScope, ObjectKind, PUBLIC, Privilege, RoleChanges,
    RoleMembership, Securable,
};
pub use colstats::{
    ColumnStatistics, ColumnStatsData, HiveDecimal, StatsUpdate, StoredColumnStats, combine,
    decimal_cmp,
};
pub use error::{CatalogError, Result};
pub use filter::{CmpOp, IndexKind, KeyValue, PartitionFilter, indexed_kind};
pub use like::{LikePattern, LikeSyntax};
pub use locks::{LockMode, LockState, LockTarget};
pub use model::{
    Column, Database, HiveStorage, LocationUse, Partition, PartitionSpec, StorageFormat, Table,
    TableType, stats_keys,
};
pub use postgres::{
    PostgresMetastore, PostgresOptions, PostgresStore, redact as redact_catalog_url,
};
pub use rdbms::{Backend, CatalogDump, SqlMetastore, TableDump};
pub use sqlite::{SqliteMetastore, SqliteStore};
pub use store::{DEFAULT_DATABASE, Metastore, TableSnapshot, like_to_matcher};
pub use users::{SCRAM_ITERATIONS, ScramVerifier, User};
pub use write::{
    BatchRecord, Change, ColumnStats, CommitOutcome, DataFile, Expected, PartitionWrite,
    PendingWrite, RetiredLocation, WriteCommit, WriteState, write_sequence_prefix,
};
