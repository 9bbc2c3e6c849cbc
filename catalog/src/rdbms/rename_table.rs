//! Renaming a table or view (ALTER TABLE … RENAME TO, Hive's alter_table with a new name).
//! The row keeps its id, so partitions, files, batches and statistics follow; grants, which
//! name their object, are renamed with it. The data stays where it is: tarn never moves
//! files, and a managed table's recorded directory goes with the table (DROP still deletes
//! exactly that directory).

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
    let to_db_id = database_id(tx, to_db)?;
    if get_table(tx, to_db, to_name)?.is_some() {
        return Err(CatalogError::TableExists {
            db: to_db.to_string(),
            table: to_name.to_string(),
        });
    }
    table.database = to_db.to_string();
    table.name = to_name.to_string();
    let changed = tx.execute(
        "UPDATE tbls SET db_id = ?3, name = ?4, version = version + 1, spec = ?5
         WHERE db_id = ?1 AND name = ?2",
        args![
            database_id(tx, db)?,
            name,
            to_db_id,
            to_name,
            serde_json::to_string(&table)?
        ],
    )?;
    if changed != 1 {
        return Err(CatalogError::Conflict(format!(
            "table {db}.{name} changed while it was renamed; retry"
        )));
    }
    tx.execute(
        "UPDATE grants SET db = ?3, tbl = ?4
         WHERE db = ?1 AND tbl = ?2 AND kind IN ('table', 'column')",
        args![db, name, to_db, to_name],
    )?;
    tx.execute(
        "UPDATE pending_writes SET db = ?3, tbl = ?4 WHERE db = ?1 AND tbl = ?2",
        args![db, name, to_db, to_name],
    )?;
    Ok(())
}
