//! Database and table rows. A table's full definition is kept as JSON in `spec` (columns,
//! partition keys, format, parameters); name, type, location and version are also columns so
//! they can be queried and indexed.

use super::conn::{Conn, Row, args};

use crate::error::{CatalogError, Result};
use crate::model::{Database, Table};

pub(super) fn database_id(conn: &dyn Conn, name: &str) -> Result<i64> {
    conn.query_opt(
        "SELECT id FROM dbs WHERE name = ?1",
        args![name.to_lowercase()],
    )?
    .ok_or_else(|| CatalogError::DatabaseNotFound(name.to_string()))?
    .int(0)
}

pub(super) fn insert_database(tx: &dyn Conn, db: &Database, if_not_exists: bool) -> Result<bool> {
    let name = db.name.to_lowercase();
    let exists = tx
        .query_opt("SELECT 1 FROM dbs WHERE name = ?1", args![&name])?
        .is_some();
    if exists {
        return if if_not_exists {
            Ok(false)
        } else {
            Err(CatalogError::DatabaseExists(name))
        };
    }
    tx.execute(
        "INSERT INTO dbs (name, description, location, owner, params, create_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            name,
            &db.description,
            &db.location,
            &db.owner,
            serde_json::to_string(&db.parameters)?,
            db.create_time
        ],
    )?;
    Ok(true)
}

pub(super) fn database_from_row(r: &Row) -> Result<Database> {
    Ok(Database {
        name: r.text(0)?,
        description: r.opt_text(1)?,
        location: r.text(2)?,
        owner: r.opt_text(3)?,
        parameters: serde_json::from_str(&r.text(4)?)?,
        create_time: r.int(5)?,
    })
}

const DB_COLUMNS: &str = "name, description, location, owner, params, create_time";

pub(super) fn get_database(conn: &dyn Conn, name: &str) -> Result<Option<Database>> {
    conn.query_opt(
        &format!("SELECT {DB_COLUMNS} FROM dbs WHERE name = ?1"),
        args![name],
    )?
    .as_ref()
    .map(database_from_row)
    .transpose()
}

pub(super) fn list_databases(conn: &dyn Conn) -> Result<Vec<Database>> {
    conn.query(&format!("SELECT {DB_COLUMNS} FROM dbs ORDER BY name"), &[])?
        .iter()
        .map(database_from_row)
        .collect()
}

pub(super) fn drop_database(
    tx: &dyn Conn,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<Vec<Table>> {
    let id = match database_id(tx, name) {
        Ok(id) => id,
        Err(CatalogError::DatabaseNotFound(_)) if if_exists => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let tables = list_tables(tx, name)?;
    if !tables.is_empty() && !cascade {
        return Err(CatalogError::DatabaseNotEmpty(name.to_string()));
    }
    for table in &tables {
        bury_if_managed(tx, table, id)?;
    }
    // Partitions and keys go by ON DELETE CASCADE.
    tx.execute("DELETE FROM dbs WHERE id = ?1", args![id])?;
    super::acl::forget_database(tx, &name.to_lowercase())?;
    // Writes into the dropped tables stay as failed tombstones (see drop_table).
    tx.execute(
        "UPDATE pending_writes SET failed = 1 WHERE db = ?1",
        args![name.to_lowercase()],
    )?;
    Ok(tables)
}

/// Replaces a database's description, location, owner and parameters.
pub(super) fn update_database(tx: &dyn Conn, db: &Database) -> Result<()> {
    let changed = tx.execute(
        "UPDATE dbs SET description = ?2, location = ?3, owner = ?4, params = ?5 WHERE name = ?1",
        args![
            db.name.to_lowercase(),
            &db.description,
            &db.location,
            &db.owner,
            serde_json::to_string(&db.parameters)?
        ],
    )?;
    if changed == 0 {
        return Err(CatalogError::DatabaseNotFound(db.name.clone()));
    }
    Ok(())
}

pub(super) fn insert_table(tx: &dyn Conn, table: &Table, if_not_exists: bool) -> Result<bool> {
    let db_id = database_id(tx, &table.database)?;
    let name = table.name.to_lowercase();
    let exists = tx
        .query_opt(
            "SELECT 1 FROM tbls WHERE db_id = ?1 AND name = ?2",
            args![db_id, &name],
        )?
        .is_some();
    if exists {
        return if if_not_exists {
            Ok(false)
        } else {
            Err(CatalogError::TableExists {
                db: table.database.clone(),
                table: name,
            })
        };
    }
    let mut stored = table.clone();
    stored.name = name.clone();
    stored.database = table.database.to_lowercase();
    // A table's versions start at its creation time in microseconds, not 0: a table dropped
    // and created again under the same name must not match a version read of its predecessor
    // (an optimistic DROP or ALTER checked against the old one would hit the new one).
    stored.version = chrono::Utc::now().timestamp_micros();
    tx.execute(
        "INSERT INTO tbls (db_id, name, tbl_type, location, version, spec)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            db_id,
            &name,
            table.table_type.hive_name(),
            &table.location,
            stored.version,
            serde_json::to_string(&stored)?
        ],
    )?;
    if let Some(owner) = &table.owner {
        super::acl::apply_defaults(tx, &stored.database, &name, owner)?;
    }
    Ok(true)
}

pub(super) fn update_table(tx: &dyn Conn, table: &Table) -> Result<()> {
    let db_id = database_id(tx, &table.database)?;
    let name = table.name.to_lowercase();
    let mut stored = table.clone();
    stored.name = name.clone();
    let before = get_table(tx, &table.database, &name)?;
    let changed = tx.execute(
        "UPDATE tbls SET tbl_type = ?3, location = ?4, version = version + 1, spec = ?5
         WHERE db_id = ?1 AND name = ?2 AND version = ?6",
        args![
            db_id,
            &name,
            table.table_type.hive_name(),
            &table.location,
            serde_json::to_string(&stored)?,
            table.version
        ],
    )?;
    if changed == 0 {
        // Gone, or changed since the caller read it: a check made on the old definition
        // (ownership, say) must not be applied to the new one.
        return Err(match get_table(tx, &table.database, &name)? {
            Some(now) => CatalogError::Conflict(format!(
                "table {}.{name} changed (version {} -> {}) since it was read; retry",
                table.database, table.version, now.version
            )),
            None => CatalogError::TableNotFound {
                db: table.database.clone(),
                table: name,
            },
        });
    }
    if let Some(before) = before {
        let gone: Vec<String> = before
            .columns
            .iter()
            .filter(|old| {
                !table
                    .columns
                    .iter()
                    .any(|c| c.name.eq_ignore_ascii_case(&old.name) && c.hive_type == old.hive_type)
            })
            .map(|c| c.name.to_lowercase())
            .collect();
        let tbl_id = super::table_id(tx, &table.database, &name)?;
        super::colstats::forget_columns(tx, tbl_id, &gone)?;
    }
    Ok(())
}

pub(super) fn table_from_row(r: &Row) -> Result<Table> {
    let mut table: Table = serde_json::from_str(&r.text(0)?)?;
    table.version = r.int(1)?;
    Ok(table)
}

/// The queries of a table snapshot: the database by name (`?1`), the table by database and
/// name (`?1`, `?2`).
pub(super) fn snapshot_statements() -> (&'static str, &'static str) {
    (
        "SELECT name, description, location, owner, params, create_time FROM dbs WHERE name = ?1",
        "SELECT t.spec, t.version FROM tbls t JOIN dbs d ON d.id = t.db_id
         WHERE d.name = ?1 AND t.name = ?2",
    )
}

/// One round trip: a missing database is told apart from a missing table by the outer join.
pub(super) fn get_table(conn: &dyn Conn, db: &str, name: &str) -> Result<Option<Table>> {
    let row = conn.query_opt(
        "SELECT t.spec, t.version FROM dbs d LEFT JOIN tbls t ON t.db_id = d.id AND t.name = ?2
         WHERE d.name = ?1",
        args![db.to_lowercase(), name],
    )?;
    match row {
        None => Err(CatalogError::DatabaseNotFound(db.to_string())),
        Some(r) if r.opt_text(0)?.is_none() => Ok(None),
        Some(r) => table_from_row(&r).map(Some),
    }
}

pub(super) fn list_tables(conn: &dyn Conn, db: &str) -> Result<Vec<Table>> {
    let db_id = database_id(conn, db)?;
    conn.query(
        "SELECT spec, version FROM tbls WHERE db_id = ?1 ORDER BY name",
        args![db_id],
    )?
    .iter()
    .map(table_from_row)
    .collect()
}

/// See [`super::intents::bury_table`].
fn bury_if_managed(tx: &dyn Conn, table: &Table, db_id: i64) -> Result<()> {
    if table.table_type != crate::TableType::Managed {
        return Ok(());
    }
    let tbl_id = tx.query_int(
        "SELECT id FROM tbls WHERE db_id = ?1 AND name = ?2",
        args![db_id, &table.name],
    )?;
    super::intents::bury_table(tx, table, tbl_id)
}

pub(super) fn drop_table(
    tx: &dyn Conn,
    db: &str,
    name: &str,
    if_exists: bool,
    expected_version: Option<i64>,
) -> Result<Option<Table>> {
    let Some(table) = get_table(tx, db, name)? else {
        return if if_exists {
            Ok(None)
        } else {
            Err(CatalogError::TableNotFound {
                db: db.into(),
                table: name.into(),
            })
        };
    };
    if let Some(expected) = expected_version
        && expected != table.version
    {
        return Err(CatalogError::Conflict(format!(
            "table {db}.{name} changed (version {expected} -> {}) since it was read; retry",
            table.version
        )));
    }
    let db_id = database_id(tx, db)?;
    bury_if_managed(tx, &table, db_id)?;
    tx.execute(
        "DELETE FROM tbls WHERE db_id = ?1 AND name = ?2",
        args![db_id, name],
    )?;
    super::acl::forget_table(tx, &db.to_lowercase(), &name.to_lowercase())?;
    // Writes still running into the dropped table can no longer commit (into it, or into a
    // table created later under the same name), and their intents — and tombstones — stay,
    // failed: a table created again over the same location must not read what they left.
    tx.execute(
        "UPDATE pending_writes SET failed = 1 WHERE db = ?1 AND tbl = ?2",
        args![db.to_lowercase(), name.to_lowercase()],
    )?;
    Ok(Some(table))
}

/// Tables and partitions whose location overlaps `location` (already without a trailing `/`).
/// Compared on whole path components: `/w/ab` does not lie in `/w/a`.
pub(super) fn locations_overlapping(
    conn: &dyn Conn,
    location: &str,
) -> Result<Vec<crate::model::LocationUse>> {
    const OVERLAPS: &str = "l <> '' AND (l = CAST(?1 AS TEXT) \
        OR substr(l, 1, length(CAST(?1 AS TEXT)) + 1) = CAST(?1 AS TEXT) || '/' \
        OR substr(CAST(?1 AS TEXT), 1, length(l) + 1) = l || '/')";
    let sql = format!(
        "SELECT db, tbl, part, l FROM ( \
           SELECT d.name AS db, t.name AS tbl, NULL AS part, rtrim(t.location, '/') AS l \
             FROM tbls t JOIN dbs d ON d.id = t.db_id \
           UNION ALL \
           SELECT d.name, t.name, p.name, rtrim(p.location, '/') \
             FROM parts p JOIN tbls t ON t.id = p.tbl_id JOIN dbs d ON d.id = t.db_id \
         ) AS uses WHERE {OVERLAPS} ORDER BY db, tbl, part IS NOT NULL, part"
    );
    conn.query(&sql, args![location])?
        .iter()
        .map(|r| {
            Ok(crate::model::LocationUse {
                database: r.text(0)?,
                table: r.text(1)?,
                partition: r.opt_text(2)?,
                location: r.text(3)?,
            })
        })
        .collect()
}
