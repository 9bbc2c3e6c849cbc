//! Write intents: the writes that began and have not committed. A listing reader must skip
//! their files; the commit ends the intent in its own transaction.

use rusqlite::{Connection, Transaction, params};

use crate::error::{CatalogError, Result};
use crate::write::PendingWrite;

pub(super) fn begin(tx: &Transaction, mut w: PendingWrite) -> Result<String> {
    let (sequence, catalog_id): (i64, String) = tx.query_row(
        "UPDATE write_sequence SET last = last + 1 WHERE id = 0 RETURNING last, catalog_id",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    w.write_id = format!(
        "{}{catalog_id}{}",
        crate::write::write_sequence_prefix(sequence as u64),
        w.write_id
    );
    tx.execute(
        "INSERT INTO pending_writes
           (write_id, db, tbl, started_at, user_name, statement, failed, location)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
        params![
            w.write_id,
            w.database.to_lowercase(),
            w.table.to_lowercase(),
            w.started_at,
            w.user,
            w.statement,
            w.location.trim_end_matches('/'),
        ],
    )?;
    Ok(w.write_id)
}

pub(super) fn abandon(tx: &Transaction, write_id: &str, files_deleted: bool) -> Result<bool> {
    let sql = if files_deleted {
        "DELETE FROM pending_writes WHERE write_id = ?1"
    } else {
        "UPDATE pending_writes SET failed = 1 WHERE write_id = ?1"
    };
    Ok(tx.execute(sql, [write_id])? > 0)
}

/// Ends the intent of a committing write; a write whose intent is gone was abandoned (VACUUM
/// deleted, or is deleting, its files) and must not publish them.
pub(super) fn finish(tx: &Transaction, write_id: &str) -> Result<()> {
    let removed = tx.execute(
        "DELETE FROM pending_writes WHERE write_id = ?1 AND failed = 0",
        [write_id],
    )?;
    if removed > 0 {
        return Ok(());
    }
    Err(CatalogError::Conflict(format!(
        "write {write_id} was abandoned before it committed (VACUUM reclaimed it); retry"
    )))
}

/// A table's pending writes and the last write number, in the caller's (one) transaction.
pub(super) fn state(
    conn: &Connection,
    db: &str,
    table: &str,
    location: &str,
) -> Result<crate::write::WriteState> {
    let (last, catalog_id): (i64, String) = conn.query_row(
        "SELECT last, catalog_id FROM write_sequence WHERE id = 0",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(crate::write::WriteState {
        pending: list(conn, db, table, location)?,
        last_sequence: last as u64,
        catalog_id,
    })
}

/// The intents of the table, and of any write whose table's location overlaps `location`
/// (whole path components, as [`super::rows::locations_overlapping`]).
fn list(conn: &Connection, db: &str, table: &str, location: &str) -> Result<Vec<PendingWrite>> {
    let mut stmt = conn.prepare_cached(
        "SELECT write_id, db, tbl, started_at, user_name, statement, failed, location
         FROM pending_writes
         WHERE (db = ?1 AND tbl = ?2)
            OR (location <> '' AND ?3 <> '' AND (location = ?3
                OR substr(location, 1, length(?3) + 1) = ?3 || '/'
                OR substr(?3, 1, length(location) + 1) = location || '/'))
         ORDER BY started_at, write_id",
    )?;
    let location = location.trim_end_matches('/');
    let rows = stmt.query_map(
        params![db.to_lowercase(), table.to_lowercase(), location],
        |r| {
            Ok(PendingWrite {
                write_id: r.get(0)?,
                database: r.get(1)?,
                table: r.get(2)?,
                started_at: r.get(3)?,
                user: r.get(4)?,
                statement: r.get(5)?,
                failed: r.get(6)?,
                location: r.get(7)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A managed table being dropped: each write its file index holds becomes a failed intent at
/// the table's location, so if the files outlive the metadata (a crash before DROP deleted
/// them) no table declared over the directory reads them, and its VACUUM reclaims them.
pub(super) fn bury_table(tx: &Transaction, table: &crate::Table, tbl_id: i64) -> Result<()> {
    let mut stmt = tx.prepare(
        "SELECT DISTINCT pf.path FROM part_files pf JOIN parts p ON p.id = pf.part_id
         WHERE p.tbl_id = ?1",
    )?;
    let paths: Vec<String> = stmt
        .query_map([tbl_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut ids: Vec<&str> = paths
        .iter()
        .filter_map(|p| crate::paths::tarn_write_id(p.rsplit('/').next().unwrap_or(p)))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut insert = tx.prepare(
        "INSERT OR IGNORE INTO pending_writes
           (write_id, db, tbl, started_at, user_name, statement, failed, location)
         VALUES (?1, ?2, ?3, CAST(strftime('%s', 'now') AS INTEGER), '', 'DROP TABLE', 1, ?4)",
    )?;
    for id in ids {
        insert.execute(params![
            id,
            table.database.to_lowercase(),
            table.name.to_lowercase(),
            table.location.trim_end_matches('/'),
        ])?;
    }
    Ok(())
}
