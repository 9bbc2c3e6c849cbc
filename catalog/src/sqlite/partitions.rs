//! Partition rows and the indexed partition lookup.
//!
//! Each partition has one `part_keys` row per key holding a typed value. A [`PartitionFilter`]
//! compiles to a compound SELECT of partition ids (INTERSECT for AND, UNION for OR) in which every
//! leaf is a range scan of the `(tbl_id, key_idx, value)` index, so a point query on a table with
//! 100,000 partitions reads a handful of index pages.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params_from_iter};

use super::table_id;
use crate::error::{CatalogError, Result};
use crate::filter::{IndexKind, KeyValue, PartitionFilter, indexed_kind};
use crate::model::{Partition, PartitionSpec, Table};
use crate::paths::partition_name;
use crate::write::DataFile;

/// The typed index value of one partition key value.
pub(super) fn index_value(kind: Option<IndexKind>, value: Option<&str>) -> Value {
    let Some(v) = value else { return Value::Null };
    match kind {
        Some(IndexKind::Int) => match v.trim().parse::<i64>() {
            Ok(i) => Value::Integer(i),
            Err(_) => Value::Text(v.to_string()),
        },
        Some(IndexKind::Text) => match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            // Dates are indexed in canonical ISO form so text order is date order.
            Ok(d) => Value::Text(d.format("%Y-%m-%d").to_string()),
            Err(_) => Value::Text(v.to_string()),
        },
        None => Value::Text(v.to_string()),
    }
}

fn key_value(v: &KeyValue) -> Value {
    match v {
        KeyValue::Int(i) => Value::Integer(*i),
        KeyValue::Text(s) => Value::Text(s.clone()),
    }
}

pub(super) fn load_table(conn: &Connection, db: &str, table: &str) -> Result<(i64, Table)> {
    let id = table_id(conn, db, table)?;
    let t =
        super::rows::get_table(conn, db, table)?.ok_or_else(|| CatalogError::TableNotFound {
            db: db.into(),
            table: table.into(),
        })?;
    Ok((id, t))
}

pub(super) fn key_names(t: &Table) -> Vec<String> {
    t.partition_keys.iter().map(|k| k.name.clone()).collect()
}

pub(super) fn add(
    tx: &Transaction,
    db: &str,
    table: &str,
    partitions: &[Partition],
    if_not_exists: bool,
) -> Result<usize> {
    let (tbl_id, t) = load_table(tx, db, table)?;
    let keys = key_names(&t);
    let kinds: Vec<_> = t
        .partition_keys
        .iter()
        .map(|k| indexed_kind(&k.hive_type))
        .collect();
    let mut exists = tx.prepare_cached("SELECT 1 FROM parts WHERE tbl_id = ?1 AND name = ?2")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO parts (tbl_id, name, vals, location, params, create_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut insert_key = tx.prepare_cached(
        "INSERT INTO part_keys (part_id, tbl_id, key_idx, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut added = 0;
    for p in partitions {
        if p.values.len() != keys.len() {
            return Err(CatalogError::invalid(format!(
                "table '{table}' has {} partition keys but {} values were given",
                keys.len(),
                p.values.len()
            )));
        }
        let name = partition_name(&keys, &p.values);
        if exists
            .query_row(rusqlite::params![tbl_id, name], |_| Ok(()))
            .optional()?
            .is_some()
        {
            if if_not_exists {
                continue;
            }
            return Err(CatalogError::PartitionExists {
                table: t.qualified_name(),
                partition: name,
            });
        }
        insert.execute(rusqlite::params![
            tbl_id,
            name,
            serde_json::to_string(&p.values)?,
            p.location,
            serde_json::to_string(&p.parameters)?,
            p.create_time
        ])?;
        let part_id = tx.last_insert_rowid();
        for (i, (value, kind)) in p.values.iter().zip(&kinds).enumerate() {
            let v = index_value(*kind, value.as_deref());
            insert_key.execute(rusqlite::params![part_id, tbl_id, i as i64, v])?;
        }
        added += 1;
    }
    bump_version(tx, tbl_id)?;
    Ok(added)
}

pub(super) fn bump_version(tx: &Transaction, tbl_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE tbls SET version = version + 1 WHERE id = ?1",
        [tbl_id],
    )?;
    Ok(())
}

pub(super) fn drop(
    tx: &Transaction,
    db: &str,
    table: &str,
    specs: &[PartitionSpec],
    if_exists: bool,
) -> Result<Vec<Partition>> {
    let (tbl_id, t) = load_table(tx, db, table)?;
    let keys = key_names(&t);
    let mut dropped = Vec::new();
    for spec in specs {
        let name = partition_name(&keys, spec);
        let found = tx
            .query_row(
                &format!("SELECT {PART_COLUMNS} FROM parts WHERE tbl_id = ?1 AND name = ?2"),
                rusqlite::params![tbl_id, name],
                partition_from_row,
            )
            .optional()?;
        match found {
            Some(row) => {
                tx.execute(
                    "DELETE FROM parts WHERE tbl_id = ?1 AND name = ?2",
                    rusqlite::params![tbl_id, name],
                )?;
                dropped.push(finish_partition(row)?);
            }
            None if if_exists => {}
            None => {
                return Err(CatalogError::PartitionNotFound {
                    table: t.qualified_name(),
                    partition: name,
                });
            }
        }
    }
    bump_version(tx, tbl_id)?;
    Ok(dropped)
}

pub(super) fn alter(tx: &Transaction, db: &str, table: &str, partition: &Partition) -> Result<()> {
    let (tbl_id, t) = load_table(tx, db, table)?;
    let name = partition_name(&key_names(&t), &partition.values);
    let changed = tx.execute(
        "UPDATE parts SET location = ?3, params = ?4, indexed = 0, version = version + 1
         WHERE tbl_id = ?1 AND name = ?2",
        rusqlite::params![
            tbl_id,
            name,
            partition.location,
            serde_json::to_string(&partition.parameters)?
        ],
    )?;
    if changed == 0 {
        return Err(CatalogError::PartitionNotFound {
            table: t.qualified_name(),
            partition: name,
        });
    }
    // The files at the new location are unknown: the partition is read by listing from now on.
    tx.execute(
        "DELETE FROM part_files WHERE part_id = (SELECT id FROM parts WHERE tbl_id = ?1 AND name = ?2)",
        rusqlite::params![tbl_id, name],
    )?;
    bump_version(tx, tbl_id)
}

pub(super) const PART_COLUMNS: &str = "vals, location, params, create_time, version, indexed, id";

pub(super) struct PartRow {
    vals: String,
    location: String,
    params: String,
    create_time: i64,
    version: i64,
    indexed: bool,
    pub id: i64,
}

pub(super) fn partition_from_row(r: &rusqlite::Row) -> rusqlite::Result<PartRow> {
    Ok(PartRow {
        vals: r.get(0)?,
        location: r.get(1)?,
        params: r.get(2)?,
        create_time: r.get(3)?,
        version: r.get(4)?,
        indexed: r.get(5)?,
        id: r.get(6)?,
    })
}

fn finish_partition(row: PartRow) -> Result<Partition> {
    Ok(Partition {
        values: serde_json::from_str(&row.vals)?,
        location: row.location,
        parameters: serde_json::from_str(&row.params)?,
        create_time: row.create_time,
        version: row.version,
        files: row.indexed.then(Vec::new),
        written_files: vec![],
    })
}

/// Fills in the file lists (of indexed partitions; of tarn's commits into listed ones), a
/// chunk of partitions per query.
fn load_files(conn: &Connection, rows: Vec<PartRow>) -> Result<Vec<Partition>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut files: std::collections::HashMap<i64, Vec<DataFile>> = Default::default();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let mut stmt = conn.prepare(&format!(
            "SELECT part_id, path, size, rows, stats FROM part_files WHERE part_id IN ({marks}) ORDER BY path"
        ))?;
        let mut found = stmt.query(params_from_iter(chunk))?;
        while let Some(r) = found.next()? {
            let stats: String = r.get(4)?;
            files.entry(r.get(0)?).or_default().push(DataFile {
                path: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                rows: r.get::<_, i64>(3)? as u64,
                columns: serde_json::from_str(&stats)?,
            });
        }
    }
    rows.into_iter()
        .map(|row| {
            let id = row.id;
            let mut p = finish_partition(row)?;
            let found = files.remove(&id).unwrap_or_default();
            match p.files.as_mut() {
                Some(list) => *list = found,
                None => p.written_files = found.into_iter().map(|f| f.path).collect(),
            }
            Ok(p)
        })
        .collect()
}

pub(super) fn list(
    conn: &Connection,
    db: &str,
    table: &str,
    filter: &PartitionFilter,
) -> Result<Vec<Partition>> {
    let tbl_id = table_id(conn, db, table)?;
    let mut args: Vec<Value> = vec![Value::Integer(tbl_id)];
    let sql = match filter {
        PartitionFilter::All => {
            format!("SELECT {PART_COLUMNS} FROM parts WHERE tbl_id = ?1 ORDER BY name")
        }
        f => format!(
            "SELECT {PART_COLUMNS} FROM parts WHERE tbl_id = ?1 AND id IN ({}) ORDER BY name",
            compile(f, &mut args)
        ),
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args), partition_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    load_files(conn, rows)
}

/// Compiles a filter to a SELECT of partition ids; `?1` is the table id.
fn compile(filter: &PartitionFilter, args: &mut Vec<Value>) -> String {
    let leaf = |key: &usize, cond: String| {
        format!("SELECT part_id FROM part_keys WHERE tbl_id = ?1 AND key_idx = {key} AND {cond}")
    };
    match filter {
        PartitionFilter::All => "SELECT id FROM parts WHERE tbl_id = ?1".to_string(),
        PartitionFilter::Cmp { key, op, value } => {
            args.push(key_value(value));
            leaf(key, format!("value {} ?{}", op.sql(), args.len()))
        }
        PartitionFilter::In { key, values } => {
            let mut marks = Vec::with_capacity(values.len());
            for v in values {
                args.push(key_value(v));
                marks.push(format!("?{}", args.len()));
            }
            leaf(key, format!("value IN ({})", marks.join(", ")))
        }
        PartitionFilter::IsNull { key } => leaf(key, "value IS NULL".into()),
        PartitionFilter::IsNotNull { key } => leaf(key, "value IS NOT NULL".into()),
        PartitionFilter::And(terms) => compound(terms, "INTERSECT", args),
        PartitionFilter::Or(terms) => compound(terms, "UNION", args),
    }
}

fn compound(terms: &[PartitionFilter], op: &str, args: &mut Vec<Value>) -> String {
    terms
        .iter()
        .map(|t| format!("SELECT * FROM ({})", compile(t, args)))
        .collect::<Vec<_>>()
        .join(&format!(" {op} "))
}
