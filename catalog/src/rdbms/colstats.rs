//! Column statistics rows (see [`crate::colstats`]): `tbl_col_stats` per (table, column) and
//! `part_col_stats` per (partition, column), each removed with its table or partition by the
//! foreign key, and by a commit that changes the data they describe.

use std::collections::HashSet;

use super::conn::{Conn, Row, Value, args};
use super::partitions::{key_names, load_table};
use crate::colstats::{ColumnStatistics, ColumnStatsData, StatsUpdate, StoredColumnStats, combine};
use crate::error::{CatalogError, Result};
use crate::model::{PartitionSpec, Table};
use crate::paths::partition_name;

/// Partition names per lookup statement.
const NAMES_PER_QUERY: usize = 500;

/// Where statistics of a table or one of its partitions live: the table and the row's id.
enum Owner {
    Table(i64),
    Partition(i64),
}

impl Owner {
    fn table_and_column(&self) -> (&'static str, &'static str, i64) {
        match self {
            Owner::Table(id) => ("tbl_col_stats", "tbl_id", *id),
            Owner::Partition(id) => ("part_col_stats", "part_id", *id),
        }
    }
}

fn owner(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    partition: Option<&PartitionSpec>,
) -> Result<Owner> {
    let (tbl_id, t) = load_table(conn, db, table)?;
    let Some(spec) = partition else {
        return Ok(Owner::Table(tbl_id));
    };
    let name = partition_name(&key_names(&t), spec);
    let id = conn.query_opt(
        "SELECT id FROM parts WHERE tbl_id = ?1 AND name = ?2",
        args![tbl_id, &name],
    )?;
    match id {
        Some(row) => Ok(Owner::Partition(row.int(0)?)),
        None => Err(not_found(&t, name)),
    }
}

fn not_found(t: &Table, partition: String) -> CatalogError {
    CatalogError::PartitionNotFound {
        table: t.qualified_name(),
        partition,
    }
}

/// Records statistics, replacing those of the same columns or, with `merge`, combined with
/// them (in order, so a column named twice in one request is combined twice).
pub(super) fn set(
    tx: &dyn Conn,
    db: &str,
    table: &str,
    updates: &[StatsUpdate],
    merge: bool,
    now: i64,
) -> Result<()> {
    for u in updates {
        set_one(tx, db, table, u.partition.as_ref(), &u.stats, merge, now)?;
    }
    Ok(())
}

fn set_one(
    tx: &dyn Conn,
    db: &str,
    table: &str,
    partition: Option<&PartitionSpec>,
    stats: &[ColumnStatistics],
    merge: bool,
    now: i64,
) -> Result<()> {
    let (rows, key, id) = owner(tx, db, table, partition)?.table_and_column();
    for s in stats {
        let column = s.column.to_lowercase();
        let mut data = s.data.clone();
        if merge {
            let stored = tx.query_opt(
                &format!("SELECT stats FROM {rows} WHERE {key} = ?1 AND col = ?2"),
                args![id, &column],
            )?;
            if let Some(r) = stored {
                let old: ColumnStatsData = serde_json::from_str(&r.text(0)?)?;
                if let Some(combined) = combine(&old, &data) {
                    data = combined;
                }
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO {rows} ({key}, col, col_type, stats, analyzed)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT ({key}, col) DO UPDATE SET col_type = excluded.col_type,
                     stats = excluded.stats, analyzed = excluded.analyzed"
            ),
            args![
                id,
                &column,
                &s.column_type,
                serde_json::to_string(&data)?,
                now
            ],
        )?;
    }
    Ok(())
}

/// Removes the statistics of one column (all without one); how many there were.
pub(super) fn delete(
    tx: &dyn Conn,
    db: &str,
    table: &str,
    partition: Option<&PartitionSpec>,
    column: Option<&str>,
) -> Result<u64> {
    let (rows, key, id) = owner(tx, db, table, partition)?.table_and_column();
    match column {
        Some(c) => tx.execute(
            &format!("DELETE FROM {rows} WHERE {key} = ?1 AND col = ?2"),
            args![id, c.to_lowercase()],
        ),
        None => tx.execute(&format!("DELETE FROM {rows} WHERE {key} = ?1"), args![id]),
    }
}

/// The statistics of `columns` (lower case) of the table, or of each named partition that has
/// any; partitions that do not exist are skipped, as Hive does.
pub(super) fn get(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    partitions: Option<&[PartitionSpec]>,
    columns: &[String],
) -> Result<Vec<StoredColumnStats>> {
    let (tbl_id, t) = load_table(conn, db, table)?;
    let wanted: HashSet<String> = columns.iter().map(|c| c.to_lowercase()).collect();
    let keep = |r: &Row| -> Result<bool> { Ok(wanted.contains(&r.text(1)?)) };
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    // The columns asked for, in the query when they are few (a wide table's other columns,
    // bit vectors included, are not read); `keep` checks again either way.
    let few: Vec<&String> = wanted.iter().collect();
    let few = (few.len() <= COLUMNS_IN_QUERY).then_some(few);
    let mut out = Vec::new();
    let Some(specs) = partitions else {
        let mut params = vec![Value::Int(tbl_id)];
        let cols = column_condition(few.as_deref(), "col", &mut params);
        let rows = conn.query(
            &format!(
                "SELECT NULL, col, col_type, stats, analyzed FROM tbl_col_stats
                 WHERE tbl_id = ?1{cols} ORDER BY col"
            ),
            &params,
        )?;
        for r in rows {
            if keep(&r)? {
                out.push(stored(&r)?);
            }
        }
        return Ok(out);
    };
    let keys = key_names(&t);
    let names: Vec<String> = specs.iter().map(|s| partition_name(&keys, s)).collect();
    for chunk in names.chunks(NAMES_PER_QUERY) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 2)).collect();
        let mut params = vec![Value::Int(tbl_id)];
        params.extend(chunk.iter().map(|n| Value::Text(n.clone())));
        let cols = column_condition(few.as_deref(), "s.col", &mut params);
        let rows = conn.query(
            &format!(
                "SELECT p.vals, s.col, s.col_type, s.stats, s.analyzed
                 FROM part_col_stats s JOIN parts p ON p.id = s.part_id
                 WHERE p.tbl_id = ?1 AND p.name IN ({}){cols} ORDER BY p.name, s.col",
                marks.join(", ")
            ),
            &params,
        )?;
        for r in rows {
            if keep(&r)? {
                out.push(stored(&r)?);
            }
        }
    }
    Ok(out)
}

/// Columns per query at most (with the partition names, well under the stores' parameter
/// limits); more are filtered after reading.
const COLUMNS_IN_QUERY: usize = 200;

/// ` AND <column> IN (…)` for the given columns (nothing when `None`), parameters appended.
fn column_condition(columns: Option<&[&String]>, column: &str, params: &mut Vec<Value>) -> String {
    let Some(columns) = columns else {
        return String::new();
    };
    let mut marks = Vec::with_capacity(columns.len());
    for c in columns {
        params.push(Value::Text(c.to_string()));
        marks.push(format!("?{}", params.len()));
    }
    format!(" AND {column} IN ({})", marks.join(", "))
}

/// Forgets the statistics of columns a table no longer has as they were (dropped, or of
/// another type now).
pub(super) fn forget_columns(tx: &dyn Conn, tbl_id: i64, columns: &[String]) -> Result<()> {
    for c in columns {
        tx.execute(
            "DELETE FROM tbl_col_stats WHERE tbl_id = ?1 AND col = ?2",
            args![tbl_id, c],
        )?;
        tx.execute(
            "DELETE FROM part_col_stats WHERE col = ?2 AND part_id IN
                 (SELECT id FROM parts WHERE tbl_id = ?1)",
            args![tbl_id, c],
        )?;
    }
    Ok(())
}

fn stored(r: &Row) -> Result<StoredColumnStats> {
    let partition = match r.opt_text(0)? {
        Some(vals) => Some(serde_json::from_str(&vals)?),
        None => None,
    };
    Ok(StoredColumnStats {
        partition,
        last_analyzed: r.int(4)?,
        stats: ColumnStatistics {
            column: r.text(1)?,
            column_type: r.text(2)?,
            data: serde_json::from_str(&r.text(3)?)?,
        },
    })
}

/// The data of a partition changed: its column statistics no longer describe it.
pub(super) fn forget_partition(tx: &dyn Conn, part_id: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM part_col_stats WHERE part_id = ?1",
        args![part_id],
    )?;
    Ok(())
}

/// The data of a table changed: its table-level column statistics no longer describe it.
pub(super) fn forget_table(tx: &dyn Conn, tbl_id: i64) -> Result<()> {
    tx.execute("DELETE FROM tbl_col_stats WHERE tbl_id = ?1", args![tbl_id])?;
    Ok(())
}
