//! Database and table rows. A table's full definition is kept as JSON in `spec` (columns,
//! partition keys, format, parameters); name, type, location and version are also columns so
//! they can be queried and indexed.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{CatalogError, Result};
use crate::model::{Database, Table};

pub(super) fn database_id(conn: &Connection, name: &str) -> Result<i64> {
    conn.query_row(
        "SELECT id FROM dbs WHERE name = ?1",
        [name.to_lowercase()],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| CatalogError::DatabaseNotFound(name.to_string()))
}

pub(super) fn insert_database(
    tx: &Transaction,
    db: &Database,
    if_not_exists: bool,
) -> Result<bool> {
    let name = db.name.to_lowercase();
    let exists: bool = tx.query_row(
        "SELECT count(*) > 0 FROM dbs WHERE name = ?1",
        [&name],
        |r| r.get(0),
    )?;
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
        params![
            name,
            db.description,
            db.location,
            db.owner,
            serde_json::to_string(&db.parameters)?,
            db.create_time
        ],
    )?;
    Ok(true)
}

fn database_from_row(r: &rusqlite::Row) -> rusqlite::Result<(Database, String)> {
    Ok((
        Database {
            name: r.get(0)?,
            description: r.get(1)?,
            location: r.get(2)?,
            owner: r.get(3)?,
            parameters: Default::default(),
            create_time: r.get(5)?,
        },
        r.get(4)?,
    ))
}

fn finish_database((mut db, params): (Database, String)) -> Result<Database> {
    db.parameters = serde_json::from_str(&params)?;
    Ok(db)
}

const DB_COLUMNS: &str = "name, description, location, owner, params, create_time";

pub(super) fn get_database(conn: &Connection, name: &str) -> Result<Option<Database>> {
    conn.query_row(
        &format!("SELECT {DB_COLUMNS} FROM dbs WHERE name = ?1"),
        [name],
        database_from_row,
    )
    .optional()?
    .map(finish_database)
    .transpose()
}

pub(super) fn list_databases(conn: &Connection) -> Result<Vec<Database>> {
    let mut stmt = conn.prepare(&format!("SELECT {DB_COLUMNS} FROM dbs ORDER BY name"))?;
    let rows = stmt.query_map([], database_from_row)?;
    rows.map(|r| finish_database(r?)).collect()
}

pub(super) fn drop_database(
    tx: &Transaction,
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
    tx.execute("DELETE FROM dbs WHERE id = ?1", [id])?;
    super::acl::forget_database(tx, &name.to_lowercase())?;
    // Writes into the dropped tables stay as failed tombstones (see drop_table).
    tx.execute(
        "UPDATE pending_writes SET failed = 1 WHERE db = ?1",
        [name.to_lowercase()],
    )?;
    Ok(tables)
}

/// Replaces a database's description, location, owner and parameters.
pub(super) fn update_database(tx: &Transaction, db: &Database) -> Result<()> {
    let changed = tx.execute(
        "UPDATE dbs SET description = ?2, location = ?3, owner = ?4, params = ?5 WHERE name = ?1",
        params![
            db.name.to_lowercase(),
            db.description,
            db.location,
            db.owner,
            serde_json::to_string(&db.parameters)?
        ],
    )?;
    if changed == 0 {
        return Err(CatalogError::DatabaseNotFound(db.name.clone()));
    }
    Ok(())
}

pub(super) fn insert_table(tx: &Transaction, table: &Table, if_not_exists: bool) -> Result<bool> {
    let db_id = database_id(tx, &table.database)?;
    let name = table.name.to_lowercase();
    let exists: bool = tx.query_row(
        "SELECT count(*) > 0 FROM tbls WHERE db_id = ?1 AND name = ?2",
        params![db_id, name],
        |r| r.get(0),
    )?;
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
        params![
            db_id,
            name,
            table.table_type.hive_name(),
            table.location,
            stored.version,
            serde_json::to_string(&stored)?
        ],
    )?;
    if let Some(owner) = &table.owner {
        super::acl::apply_defaults(tx, &stored.database, &name, owner)?;
    }
    Ok(true)
}

pub(super) fn update_table(tx: &Transaction, table: &Table) -> Result<()> {
    let db_id = database_id(tx, &table.database)?;
    let name = table.name.to_lowercase();
    let mut stored = table.clone();
    stored.name = name.clone();
    let changed = tx.execute(
        "UPDATE tbls SET tbl_type = ?3, location = ?4, version = version + 1, spec = ?5
         WHERE db_id = ?1 AND name = ?2 AND version = ?6",
        params![
            db_id,
            name,
            table.table_type.hive_name(),
            table.location,
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
    Ok(())
}

fn table_from_row(r: &rusqlite::Row) -> rusqlite::Result<(String, i64)> {
    Ok((r.get(0)?, r.get(1)?))
}

fn finish_table((spec, version): (String, i64)) -> Result<Table> {
    let mut table: Table = serde_json::from_str(&spec)?;
    table.version = version;
    Ok(table)
}

pub(super) fn get_table(conn: &Connection, db: &str, name: &str) -> Result<Option<Table>> {
    let db_id = database_id(conn, db)?;
    conn.query_row(
        "SELECT spec, version FROM tbls WHERE db_id = ?1 AND name = ?2",
        params![db_id, name],
        table_from_row,
    )
    .optional()?
    .map(finish_table)
    .transpose()
}

pub(super) fn list_tables(conn: &Connection, db: &str) -> Result<Vec<Table>> {
    let db_id = database_id(conn, db)?;
    let mut stmt = conn.prepare("SELECT spec, version FROM tbls WHERE db_id = ?1 ORDER BY name")?;
    let rows = stmt.query_map([db_id], table_from_row)?;
    rows.map(|r| finish_table(r?)).collect()
}

/// See [`super::intents::bury_table`].
fn bury_if_managed(tx: &Transaction, table: &Table, db_id: i64) -> Result<()> {
    if table.table_type != crate::TableType::Managed {
        return Ok(());
    }
    let tbl_id: i64 = tx.query_row(
        "SELECT id FROM tbls WHERE db_id = ?1 AND name = ?2",
        params![db_id, table.name],
        |r| r.get(0),
    )?;
    super::intents::bury_table(tx, table, tbl_id)
}

pub(super) fn drop_table(
    tx: &Transaction,
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
        params![db_id, name],
    )?;
    super::acl::forget_table(tx, &db.to_lowercase(), &name.to_lowercase())?;
    // Writes still running into the dropped table can no longer commit (into it, or into a
    // table created later under the same name), and their intents — and tombstones — stay,
    // failed: a table created again over the same location must not read what they left.
    tx.execute(
        "UPDATE pending_writes SET failed = 1 WHERE db = ?1 AND tbl = ?2",
        params![db.to_lowercase(), name.to_lowercase()],
    )?;
    Ok(Some(table))
}

/// Tables and partitions whose location overlaps `location` (already without a trailing `/`).
/// Compared on whole path components: `/w/ab` does not lie in `/w/a`.
pub(super) fn locations_overlapping(
    conn: &Connection,
    location: &str,
) -> Result<Vec<crate::model::LocationUse>> {
    const OVERLAPS: &str = "l <> '' AND (l = ?1 \
        OR substr(l, 1, length(?1) + 1) = ?1 || '/' \
        OR substr(?1, 1, length(l) + 1) = l || '/')";
    let sql = format!(
        "SELECT db, tbl, part, l FROM ( \
           SELECT d.name AS db, t.name AS tbl, NULL AS part, rtrim(t.location, '/') AS l \
             FROM tbls t JOIN dbs d ON d.id = t.db_id \
           UNION ALL \
           SELECT d.name, t.name, p.name, rtrim(p.location, '/') \
             FROM parts p JOIN tbls t ON t.id = p.tbl_id JOIN dbs d ON d.id = t.db_id \
         ) WHERE {OVERLAPS} ORDER BY db, tbl, part"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([location], |r| {
        Ok(crate::model::LocationUse {
            database: r.get(0)?,
            table: r.get(1)?,
            partition: r.get(2)?,
            location: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
