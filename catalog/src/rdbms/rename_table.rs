//! Renaming a table or view (ALTER TABLE … RENAME TO). The row keeps its id, so partitions,
//! files, batches and statistics follow; grants, which name their object, are renamed with it.
//! The data stays where it is: tarn never moves files, and a managed table's recorded directory
//! goes with the table (DROP still deletes exactly that directory).
//!
//! A write commits by table name, so a rename while writes are running could land them in
//! whatever table has the name by then (dbt's swap puts a new table there): such a rename is
//! refused until they end. The renamed table gets a fresh version (the current time in µs, as
//! a new table): versions already seen under its new name never come back.

use super::conn::{Conn, args};
use super::rows::{database_id, get_table};
use crate::error::{CatalogError, Result};

/// Renames `db.name` to `to_db.to_name`, optimistically against `expected_version` when given.
pub(super) fn rename_table(
    tx: &dyn Conn,
    (db, name): (&str, &str),
    (to_db, to_name): (&str, &str),
    expected_version: Option<i64>,
) -> Result<()> {
    let mut table = get_table(tx, db, name)?.ok_or_else(|| CatalogError::TableNotFound {
        db: db.to_string(),
        table: name.to_string(),
    })?;
    if let Some(v) = expected_version
        && v != table.version
    {
        return Err(CatalogError::Conflict(format!(
            "table {db}.{name} changed (version {v} -> {}) since it was read; retry",
            table.version
        )));
    }
    let running = tx.query_opt(
        "SELECT write_id FROM pending_writes WHERE db = ?1 AND tbl = ?2 AND failed = 0",
        args![db, name],
    )?;
    if let Some(write) = running {
        return Err(CatalogError::Conflict(format!(
            "table {db}.{name} has a write in progress ({}); retry the rename when it ends",
            write.text(0)?
        )));
    }
    let to_db_id = database_id(tx, to_db)?;
    if get_table(tx, to_db, to_name)?.is_some() {
        return Err(CatalogError::TableExists {
            db: to_db.to_string(),
            table: to_name.to_string(),
        });
    }
    table.database = to_db.to_string();
    table.name = to_name.to_string();
    let version = (table.version + 1).max(chrono::Utc::now().timestamp_micros());
    let changed = tx.execute(
        "UPDATE tbls SET db_id = ?3, name = ?4, version = ?6, spec = ?5
         WHERE db_id = ?1 AND name = ?2",
        args![
            database_id(tx, db)?,
            name,
            to_db_id,
            to_name,
            serde_json::to_string(&table)?,
            version
        ],
    )?;
    if changed != 1 {
        return Err(CatalogError::Conflict(format!(
            "table {db}.{name} changed while it was renamed; retry"
        )));
    }
    // Grants left under the new name (a GRANT that raced a DROP) must not pass to this table.
    super::acl::forget_table(tx, to_db, to_name)?;
    tx.execute(
        "UPDATE grants SET db = ?3, tbl = ?4
         WHERE db = ?1 AND tbl = ?2 AND kind IN ('table', 'column')",
        args![db, name, to_db, to_name],
    )?;
    Ok(())
}
