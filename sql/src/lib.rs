//! tarn-sql: splits SQL text into statements and classifies each one.
//!
//! Statements about the catalog (Hive DDL, SHOW, DESCRIBE, MSCK, ...) are parsed into [`Statement`]
//! variants that the engine runs against the metastore. Everything else is passed through, as
//! text, to DataFusion's own parser. No I/O happens here.

mod ast;
mod copy;
mod cursor;
mod ddl;
mod error;
mod insert;
mod parse;
mod portal;
mod privileges;
mod session;

pub use ast::{
    AlterTableAction, ColumnDef, CommentTarget, CopyFormat, CopyOptions, CopySource,
    CreateDatabase, FetchCount, GrantObject, InsertStatement, ObjectName, OwnedObject,
    PartitionSpecPairs, PrivilegeList, QueryText, RepairMode, RoleSpec, Statement, TableDefinition,
    TransactionStatement, UserOption,
};
pub use error::{Result, SqlError};

/// The one catalog (Postgres database) tarn serves: `tarn.<schema>.<table>` names a table
/// in it, as dbt and other Postgres tools write every relation.
pub const CATALOG: &str = "tarn";
pub use parse::parse_statements;
