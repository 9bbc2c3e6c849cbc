//! Lock rows (see [`crate::locks`]): one row per target of a lock request, all with the
//! request's lock id. Every call runs in one write transaction, so two servers never grant
//! conflicting locks.

use super::conn::{Conn, args};
use crate::error::Result;
use crate::locks::{LOCK_TIMEOUT_SECS, LockMode, LockState, LockTarget};

/// Records a request and grants it if nothing conflicts.
pub(super) fn lock(
    tx: &dyn Conn,
    targets: &[LockTarget],
    owner: &str,
    now: i64,
) -> Result<(i64, LockState)> {
    expire(tx, now)?;
    let id = tx
        .query_one("SELECT COALESCE(MAX(lock_id), 0) + 1 FROM locks", args![])?
        .int(0)?;
    for t in targets {
        let exclusive = t.mode == LockMode::Exclusive;
        tx.execute(
            "INSERT INTO locks (lock_id, db, tbl, exclusive, owner, acquired, heartbeat) \
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
            args![
                id,
                t.database.to_lowercase(),
                t.table.as_ref().map(|t| t.to_lowercase()),
                exclusive,
                owner,
                now
            ],
        )?;
    }
    Ok((id, try_acquire(tx, id)?))
}

/// The state of a lock, refreshing it and granting it if it is now free; `None` when there is
/// no such lock (released or expired).
pub(super) fn check(tx: &dyn Conn, id: i64, now: i64) -> Result<Option<LockState>> {
    expire(tx, now)?;
    if tx.execute(
        "UPDATE locks SET heartbeat = ?2 WHERE lock_id = ?1",
        args![id, now],
    )? == 0
    {
        return Ok(None);
    }
    Ok(Some(try_acquire(tx, id)?))
}

/// Releases a lock; whether it existed.
pub(super) fn unlock(tx: &dyn Conn, id: i64) -> Result<bool> {
    Ok(tx.execute("DELETE FROM locks WHERE lock_id = ?1", args![id])? > 0)
}

fn expire(tx: &dyn Conn, now: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM locks WHERE heartbeat < ?1",
        args![now - LOCK_TIMEOUT_SECS],
    )?;
    Ok(())
}

/// Grants every row of lock `id` when no granted row of another lock conflicts with any of
/// them: same database and same table (or either is the whole database), and either exclusive.
fn try_acquire(tx: &dyn Conn, id: i64) -> Result<LockState> {
    let conflict = tx.query_opt(
        "SELECT 1 FROM locks mine JOIN locks other \
           ON other.lock_id <> mine.lock_id AND other.acquired = 1 AND other.db = mine.db \
          AND (other.tbl IS NULL OR mine.tbl IS NULL OR other.tbl = mine.tbl) \
          AND (other.exclusive = 1 OR mine.exclusive = 1) \
         WHERE mine.lock_id = ?1 LIMIT 1",
        args![id],
    )?;
    if conflict.is_some() {
        return Ok(LockState::Waiting);
    }
    tx.execute(
        "UPDATE locks SET acquired = 1 WHERE lock_id = ?1",
        args![id],
    )?;
    Ok(LockState::Acquired)
}

pub(super) fn targets(c: &dyn Conn, id: i64) -> Result<Vec<LockTarget>> {
    c.query(
        "SELECT db, tbl, exclusive FROM locks WHERE lock_id = ?1",
        args![id],
    )?
    .iter()
    .map(|r| {
        Ok(LockTarget {
            database: r.text(0)?,
            table: r.opt_text(1)?,
            mode: if r.int(2)? == 1 {
                LockMode::Exclusive
            } else {
                LockMode::Shared
            },
        })
    })
    .collect()
}
