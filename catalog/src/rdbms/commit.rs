//! Publishing writes: the optimistic-concurrency checks, the file index, Hive statistics and the
//! batch log, all in the caller's transaction.

use std::collections::BTreeMap;

use super::conn::{Conn, args};
use super::partitions::{bump_version, insert_keys, key_names, load_table};
use super::rows::database_id;
use crate::error::{CatalogError, Result};
use crate::filter::indexed_kind;
use crate::model::{Table, TableType, stats_keys};
use crate::paths::partition_name;
use crate::write::{
    BatchRecord, Change, CommitOutcome, Expected, PartitionWrite, RetiredLocation, WriteCommit,
};

struct Current {
    id: i64,
    location: String,
    version: i64,
    indexed: bool,
}

fn current(tx: &dyn Conn, tbl_id: i64, name: &str) -> Result<Option<Current>> {
    tx.query_opt(
        "SELECT id, location, version, indexed FROM parts WHERE tbl_id = ?1 AND name = ?2",
        args![tbl_id, name],
    )?
    .map(|r| {
        Ok(Current {
            id: r.int(0)?,
            location: r.text(1)?,
            version: r.int(2)?,
            indexed: r.bool(3)?,
        })
    })
    .transpose()
}

fn check(expected: &Expected, found: Option<&Current>, what: &str) -> Result<()> {
    let ok = match (expected, found) {
        (Expected::Absent, None) => true,
        (Expected::Absent, Some(_)) => false,
        // A partition dropped meanwhile is simply recreated by an append.
        (Expected::AtLocation(_), None) => true,
        (Expected::AtLocation(l), Some(c)) => c.location == *l,
        (Expected::AtVersion(v), Some(c)) => c.version == *v,
        (Expected::AtVersion(_), None) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(CatalogError::Conflict(format!(
            "{what} changed since the write started"
        )))
    }
}

pub(super) fn commit(tx: &dyn Conn, c: &WriteCommit) -> Result<CommitOutcome> {
    if let Some(table) = &c.create_table {
        if let Some(version) = c.replace_table {
            super::rows::drop_table(tx, &c.database, &c.table, false, Some(version))?;
        }
        super::rows::insert_table(tx, table, false)?;
    }
    let (tbl_id, mut table) = load_table(tx, &c.database, &c.table)?;
    let keys = key_names(&table);
    let now = super::now();
    // Every check first, against what the writer saw; only then does anything change.
    let mut checked = Vec::with_capacity(c.writes.len());
    for w in &c.writes {
        let name = if keys.is_empty() {
            String::new()
        } else {
            partition_name(&keys, &w.values)
        };
        let what = if name.is_empty() {
            table.qualified_name()
        } else {
            format!("partition {name}")
        };
        let found = current(tx, tbl_id, &name)?;
        check(&w.expected, found.as_ref(), &what)?;
        checked.push((w, name, found));
    }
    if c.replaces_batch {
        supersede_batch(tx, tbl_id, (&c.database, &c.table), &c.batch_id, now)?;
    }
    let mut outcome = CommitOutcome::default();
    let mut names = Vec::new();
    for (w, name, found) in checked {
        let part_id = apply(
            tx,
            tbl_id,
            &table,
            &name,
            w,
            found,
            &c.batch_id,
            now,
            &mut outcome,
        )?;
        insert_files(tx, part_id, w, &c.batch_id)?;
        refresh_partition_stats(tx, part_id)?;
        outcome.rows += w.files.iter().map(|f| f.rows).sum::<u64>();
        names.push(name);
    }
    for location in &outcome.retired_locations {
        tx.execute(
            "INSERT INTO retired_locations (location, retired_at) VALUES (?1, ?2)
             ON CONFLICT (location) DO UPDATE SET retired_at = excluded.retired_at",
            args![location, now],
        )?;
    }
    tx.execute(
        "INSERT INTO batches (tbl_id, batch_id, statement, user_name, time, partitions, rows,
                              write_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        args![
            tbl_id,
            &c.batch_id,
            &c.statement,
            &c.user,
            now,
            serde_json::to_string(&names)?,
            outcome.rows as i64,
            &c.write_id
        ],
    )?;
    refresh_table_stats(tx, tbl_id, &mut table)?;
    bump_version(tx, tbl_id)?;
    Ok(outcome)
}

#[allow(clippy::too_many_arguments)]
fn apply(
    tx: &dyn Conn,
    tbl_id: i64,
    table: &Table,
    name: &str,
    w: &PartitionWrite,
    found: Option<Current>,
    batch_id: &str,
    now: i64,
    outcome: &mut CommitOutcome,
) -> Result<i64> {
    match found {
        Some(cur) => {
            let (location, indexed) = match w.change {
                Change::Append => (cur.location.clone(), cur.indexed),
                Change::Replace => {
                    outcome.retired_locations.push(cur.location.clone());
                    tx.execute("DELETE FROM part_files WHERE part_id = ?1", args![cur.id])?;
                    (w.location.clone(), true)
                }
            };
            tx.execute(
                "UPDATE parts SET location = ?2, indexed = ?3, version = version + 1, batch_id = ?4 WHERE id = ?1",
                args![cur.id, location, indexed, batch_id],
            )?;
            Ok(cur.id)
        }
        None => {
            // An append into an external table's directory may meet files tarn did not write:
            // that partition stays listed. Overwrites write a fresh directory, exactly indexed.
            let indexed = w.change == Change::Replace || table.table_type != TableType::External;
            super::partitions::directories_free(tx, tbl_id, table, &[(name, &w.location)])?;
            let part_id = tx.query_int(
                "INSERT INTO parts (tbl_id, name, vals, location, params, create_time, version, indexed, batch_id)
                 VALUES (?1, ?2, ?3, ?4, '{}', ?5, 1, ?6, ?7) RETURNING id",
                args![tbl_id, name, serde_json::to_string(&w.values)?, &w.location, now, indexed, batch_id],
            )?;
            let kinds: Vec<_> = table
                .partition_keys
                .iter()
                .map(|k| indexed_kind(&k.hive_type))
                .collect();
            insert_keys(tx, tbl_id, part_id, &kinds, &w.values)?;
            Ok(part_id)
        }
    }
}

/// Takes the rows of earlier runs of `batch_id` out of the table: their files leave the index
/// (and the record of listed partitions), their writes become pending tombstones so no listing
/// reader takes their files either, and VACUUM reclaims them after the retention (a query
/// already running may still read them). Their batch log entries stay, no longer live.
fn supersede_batch(
    tx: &dyn Conn,
    tbl_id: i64,
    (db, table): (&str, &str),
    batch_id: &str,
    now: i64,
) -> Result<()> {
    let files: Vec<(i64, String)> = tx
        .query(
            "SELECT f.part_id, f.path FROM part_files f JOIN parts p ON p.id = f.part_id
             WHERE p.tbl_id = ?1 AND f.batch_id = ?2",
            args![tbl_id, batch_id],
        )?
        .iter()
        .map(|r| Ok((r.int(0)?, r.text(1)?)))
        .collect::<Result<_>>()?;
    let mut parts: Vec<i64> = files.iter().map(|(p, _)| *p).collect();
    parts.sort_unstable();
    parts.dedup();
    // The earlier runs' writes, from the batch log (their recorded files may be gone from
    // the index after DDL, their files not from the directories) and from their files.
    let mut write_ids: Vec<String> = tx
        .query(
            "SELECT write_id FROM batches
             WHERE tbl_id = ?1 AND batch_id = ?2 AND live = 1 AND write_id IS NOT NULL",
            args![tbl_id, batch_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    write_ids.extend(files.iter().filter_map(|(_, path)| {
        crate::paths::tarn_write_id(path.rsplit('/').next()?).map(String::from)
    }));
    write_ids.sort_unstable();
    write_ids.dedup();
    for id in write_ids {
        tx.execute(
            "INSERT INTO pending_writes
               (write_id, db, tbl, started_at, user_name, statement, failed)
             VALUES (?1, ?2, ?3, ?4, '', ?5, 0)
             ON CONFLICT (write_id) DO NOTHING",
            args![
                id,
                db.to_lowercase(),
                table.to_lowercase(),
                now,
                format!("superseded by a re-run of batch {batch_id}")
            ],
        )?;
    }
    for part_id in parts {
        tx.execute(
            "DELETE FROM part_files WHERE part_id = ?1 AND batch_id = ?2",
            args![part_id, batch_id],
        )?;
        tx.execute(
            "UPDATE parts SET version = version + 1 WHERE id = ?1",
            args![part_id],
        )?;
        refresh_partition_stats(tx, part_id)?;
    }
    tx.execute(
        "UPDATE batches SET live = 0 WHERE tbl_id = ?1 AND batch_id = ?2",
        args![tbl_id, batch_id],
    )?;
    Ok(())
}

/// Whether the partition's files are in the index (written by tarn) rather than listed.
fn is_indexed(tx: &dyn Conn, part_id: i64) -> Result<bool> {
    Ok(tx.query_int("SELECT indexed FROM parts WHERE id = ?1", args![part_id])? != 0)
}

/// Records the write's files: the whole file index of an indexed partition; for a listed one,
/// the files tarn added, which is what makes them readable there (a listing reader skips
/// tarn-named files no commit recorded).
fn insert_files(tx: &dyn Conn, part_id: i64, w: &PartitionWrite, batch_id: &str) -> Result<()> {
    for f in &w.files {
        tx.execute(
            "INSERT INTO part_files (part_id, path, size, rows, stats, batch_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (part_id, path) DO UPDATE SET size = excluded.size,
               rows = excluded.rows, stats = excluded.stats, batch_id = excluded.batch_id",
            args![
                part_id,
                &f.path,
                f.size as i64,
                f.rows as i64,
                serde_json::to_string(&f.columns)?,
                batch_id
            ],
        )?;
    }
    Ok(())
}

/// Hive's basic statistics from the file index.
fn basic_stats(conn: &dyn Conn, filter: &str, id: i64) -> Result<BTreeMap<String, String>> {
    // sum() of a bigint is numeric in PostgreSQL: cast back.
    let r = conn.query_one(
        &format!(
            "SELECT count(*), CAST(coalesce(sum(rows), 0) AS BIGINT),
                    CAST(coalesce(sum(size), 0) AS BIGINT) FROM part_files WHERE {filter}"
        ),
        args![id],
    )?;
    let (files, rows, size) = (r.int(0)?, r.int(1)?, r.int(2)?);
    Ok(BTreeMap::from([
        (stats_keys::NUM_FILES.to_string(), files.to_string()),
        (stats_keys::NUM_ROWS.to_string(), rows.to_string()),
        (stats_keys::TOTAL_SIZE.to_string(), size.to_string()),
        (stats_keys::RAW_DATA_SIZE.to_string(), size.to_string()),
        (
            stats_keys::COLUMN_STATS_ACCURATE.to_string(),
            r#"{"BASIC_STATS":"true"}"#.to_string(),
        ),
    ]))
}

fn refresh_partition_stats(tx: &dyn Conn, part_id: i64) -> Result<()> {
    super::colstats::forget_partition(tx, part_id)?;
    if !is_indexed(tx, part_id)? {
        return Ok(());
    }
    let stats = basic_stats(tx, "part_id = ?1", part_id)?;
    let params = tx
        .query_one("SELECT params FROM parts WHERE id = ?1", args![part_id])?
        .text(0)?;
    let mut merged: BTreeMap<String, String> = serde_json::from_str(&params)?;
    merged.extend(stats);
    tx.execute(
        "UPDATE parts SET params = ?2 WHERE id = ?1",
        args![part_id, serde_json::to_string(&merged)?],
    )?;
    Ok(())
}

fn refresh_table_stats(tx: &dyn Conn, tbl_id: i64, table: &mut Table) -> Result<()> {
    super::colstats::forget_table(tx, tbl_id)?;
    let all_indexed = tx
        .query_opt(
            "SELECT 1 FROM parts WHERE tbl_id = ?1 AND indexed = 0",
            args![tbl_id],
        )?
        .is_none();
    if !all_indexed {
        // Some partitions are only listed: table totals are unknown.
        table.parameters.remove(stats_keys::COLUMN_STATS_ACCURATE);
        table.parameters.remove(stats_keys::NUM_ROWS);
    } else {
        let stats = basic_stats(
            tx,
            "part_id IN (SELECT id FROM parts WHERE tbl_id = ?1)",
            tbl_id,
        )?;
        table.parameters.extend(stats);
    }
    tx.execute(
        "UPDATE tbls SET spec = ?2 WHERE id = ?1",
        args![tbl_id, serde_json::to_string(&table)?],
    )?;
    Ok(())
}

pub(super) fn list_batches(conn: &dyn Conn, db: Option<&str>) -> Result<Vec<BatchRecord>> {
    let db_filter = match db {
        Some(name) => format!("WHERE d.id = {}", database_id(conn, name)?),
        None => String::new(),
    };
    let rows = conn.query(
        &format!(
            "SELECT d.name, t.name, b.batch_id, b.statement, b.user_name, b.time, b.partitions,
                    b.rows, b.live
             FROM batches b JOIN tbls t ON t.id = b.tbl_id JOIN dbs d ON d.id = t.db_id {db_filter}
             ORDER BY b.id DESC"
        ),
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(BatchRecord {
                database: r.text(0)?,
                table: r.text(1)?,
                batch_id: r.text(2)?,
                statement: r.text(3)?,
                user: r.text(4)?,
                time: r.int(5)?,
                partitions: serde_json::from_str(&r.text(6)?)?,
                rows: r.int(7)? as u64,
                live: r.bool(8)?,
            })
        })
        .collect()
}

pub(super) fn retired(conn: &dyn Conn) -> Result<Vec<RetiredLocation>> {
    conn.query(
        "SELECT location, retired_at FROM retired_locations ORDER BY retired_at, location",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(RetiredLocation {
            location: r.text(0)?,
            retired_at: r.int(1)?,
        })
    })
    .collect()
}

pub(super) fn forget_retired(tx: &dyn Conn, locations: &[String]) -> Result<()> {
    for l in locations {
        tx.execute(
            "DELETE FROM retired_locations WHERE location = ?1",
            args![l],
        )?;
    }
    Ok(())
}

pub(super) fn referenced_files(conn: &dyn Conn, tbl_id: i64) -> Result<Vec<String>> {
    conn.query(
        "SELECT f.path FROM part_files f JOIN parts p ON p.id = f.part_id WHERE p.tbl_id = ?1 ORDER BY f.path",
        args![tbl_id],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}
