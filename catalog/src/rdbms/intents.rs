//! Write intents: the writes that began and have not committed. A listing reader must skip
//! their files; the commit ends the intent in its own transaction.

use super::conn::{Conn, Row, Value, args};

use crate::error::{CatalogError, Result};
use crate::write::PendingWrite;

pub(super) fn begin(tx: &dyn Conn, mut w: PendingWrite) -> Result<String> {
    let r = tx.query_one(
        "UPDATE write_sequence SET last = last + 1 WHERE id = 0 RETURNING last, catalog_id",
        &[],
    )?;
    let (sequence, catalog_id) = (r.int(0)?, r.text(1)?);
    w.write_id = format!(
        "{}{catalog_id}{}",
        crate::write::write_sequence_prefix(sequence as u64),
        w.write_id
    );
    tx.execute(
        "INSERT INTO pending_writes
           (write_id, db, tbl, started_at, user_name, statement, failed, location)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
        args![
            &w.write_id,
            w.database.to_lowercase(),
            w.table.to_lowercase(),
            w.started_at,
            &w.user,
            &w.statement,
            w.location.trim_end_matches('/'),
        ],
    )?;
    Ok(w.write_id)
}

pub(super) fn abandon(tx: &dyn Conn, write_id: &str, files_deleted: bool) -> Result<bool> {
    let sql = if files_deleted {
        "DELETE FROM pending_writes WHERE write_id = ?1"
    } else {
        "UPDATE pending_writes SET failed = 1 WHERE write_id = ?1"
    };
    Ok(tx.execute(sql, args![write_id])? > 0)
}

/// Ends the intent of a committing write; a write whose intent is gone was abandoned (VACUUM
/// deleted, or is deleting, its files) and must not publish them.
pub(super) fn finish(tx: &dyn Conn, write_id: &str) -> Result<()> {
    let removed = tx.execute(
        "DELETE FROM pending_writes WHERE write_id = ?1 AND failed = 0",
        args![write_id],
    )?;
    if removed > 0 {
        return Ok(());
    }
    Err(CatalogError::Conflict(format!(
        "write {write_id} was abandoned before it committed (VACUUM reclaimed it); retry"
    )))
}

/// The statements of [`state`]: the write sequence, the intents.
pub(super) fn state_statements(db: &str, table: &str, location: &str) -> Vec<(String, Vec<Value>)> {
    let location = location.trim_end_matches('/');
    vec![
        (
            "SELECT last, catalog_id FROM write_sequence WHERE id = 0".to_string(),
            vec![],
        ),
        (
            PENDING.to_string(),
            args![db.to_lowercase(), table.to_lowercase(), location].to_vec(),
        ),
    ]
}

/// A table's pending writes and the last write number, read together (one round trip).
pub(super) fn state(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    location: &str,
) -> Result<crate::write::WriteState> {
    let statements = state_statements(db, table, location);
    state_results(conn.query_many(&super::conn::borrowed(&statements))?)
}

/// Decodes the results of [`state_statements`].
pub(super) fn state_results(results: Vec<Vec<Row>>) -> Result<crate::write::WriteState> {
    let mut results = results.into_iter();
    let sequence = results.next().unwrap_or_default();
    let r = sequence
        .first()
        .ok_or_else(|| CatalogError::Corrupt("the write sequence row is missing".into()))?;
    let pending = results
        .next()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            Ok(PendingWrite {
                write_id: r.text(0)?,
                database: r.text(1)?,
                table: r.text(2)?,
                started_at: r.int(3)?,
                user: r.text(4)?,
                statement: r.text(5)?,
                failed: r.bool(6)?,
                location: r.text(7)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(crate::write::WriteState {
        pending,
        last_sequence: r.int(0)? as u64,
        catalog_id: r.text(1)?,
    })
}

/// The intents of the table, and of any write whose table's location overlaps `?3` (whole
/// path components, as [`super::rows::locations_overlapping`]).
const PENDING: &str = "SELECT write_id, db, tbl, started_at, user_name, statement, failed, location
     FROM pending_writes
     WHERE (db = ?1 AND tbl = ?2)
        OR (location <> '' AND CAST(?3 AS TEXT) <> '' AND (location = CAST(?3 AS TEXT)
            OR substr(location, 1, length(CAST(?3 AS TEXT)) + 1) = CAST(?3 AS TEXT) || '/'
            OR substr(CAST(?3 AS TEXT), 1, length(location) + 1) = location || '/'))
     ORDER BY started_at, write_id";

/// A managed table being dropped: each write its file index holds becomes a failed intent at
/// the table's location, so if the files outlive the metadata (a crash before DROP deleted
/// them) no table declared over the directory reads them, and its VACUUM reclaims them.
pub(super) fn bury_table(tx: &dyn Conn, table: &crate::Table, tbl_id: i64) -> Result<()> {
    let paths: Vec<String> = tx
        .query(
            "SELECT DISTINCT pf.path FROM part_files pf JOIN parts p ON p.id = pf.part_id
             WHERE p.tbl_id = ?1",
            args![tbl_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    let mut ids: Vec<&str> = paths
        .iter()
        .filter_map(|p| crate::paths::tarn_write_id(p.rsplit('/').next().unwrap_or(p)))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        tx.execute(
            "INSERT INTO pending_writes
               (write_id, db, tbl, started_at, user_name, statement, failed, location)
             VALUES (?1, ?2, ?3, ?4, '', 'DROP TABLE', 1, ?5)
             ON CONFLICT (write_id) DO NOTHING",
            args![
                id,
                table.database.to_lowercase(),
                table.name.to_lowercase(),
                super::now(),
                table.location.trim_end_matches('/'),
            ],
        )?;
    }
    Ok(())
}
