//! Partition rows and the indexed partition lookup.
//!
//! Each partition has one `part_keys` row per key holding a typed value. A [`PartitionFilter`]
//! compiles to a compound SELECT of partition ids (INTERSECT for AND, UNION for OR) in which every
//! leaf is a range scan of the `(tbl_id, key_idx, value)` index, so a point query on a table with
//! 100,000 partitions reads a handful of index pages.

use super::conn::{Conn, Row, Value, args};
use super::table_id;
use crate::error::{CatalogError, Result};
use crate::filter::{IndexKind, KeyValue, PartitionFilter, indexed_kind};
use crate::model::{Partition, PartitionSpec, Table};
use crate::paths::partition_name;
use crate::write::DataFile;

/// The typed index value of one partition key value, as the store keeps it.
pub(super) fn index_value(conn: &dyn Conn, kind: Option<IndexKind>, value: Option<&str>) -> Value {
    conn.dialect().key_value(typed_value(kind, value))
}

fn typed_value(kind: Option<IndexKind>, value: Option<&str>) -> Value {
    let Some(v) = value else { return Value::Null };
    match kind {
        Some(IndexKind::Int) => match v.trim().parse::<i64>() {
            Ok(i) => Value::Int(i),
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

fn key_value(conn: &dyn Conn, v: &KeyValue) -> Value {
    conn.dialect().key_value(match v {
        KeyValue::Int(i) => Value::Int(*i),
        KeyValue::Text(s) => Value::Text(s.clone()),
    })
}

pub(super) fn load_table(conn: &dyn Conn, db: &str, table: &str) -> Result<(i64, Table)> {
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
    tx: &dyn Conn,
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
        if tx
            .query_opt(
                "SELECT 1 FROM parts WHERE tbl_id = ?1 AND name = ?2",
                args![tbl_id, &name],
            )?
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
        let part_id = tx.query_int(
            "INSERT INTO parts (tbl_id, name, vals, location, params, create_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            args![
                tbl_id,
                name,
                serde_json::to_string(&p.values)?,
                &p.location,
                serde_json::to_string(&p.parameters)?,
                p.create_time
            ],
        )?;
        insert_keys(tx, tbl_id, part_id, &kinds, &p.values)?;
        added += 1;
    }
    bump_version(tx, tbl_id)?;
    Ok(added)
}

/// The index rows of a new partition: one per key.
pub(super) fn insert_keys(
    tx: &dyn Conn,
    tbl_id: i64,
    part_id: i64,
    kinds: &[Option<IndexKind>],
    values: &[Option<String>],
) -> Result<()> {
    for (i, (value, kind)) in values.iter().zip(kinds).enumerate() {
        let v = index_value(tx, *kind, value.as_deref());
        tx.execute(
            "INSERT INTO part_keys (part_id, tbl_id, key_idx, value) VALUES (?1, ?2, ?3, ?4)",
            &[part_id.into(), tbl_id.into(), (i as i64).into(), v],
        )?;
    }
    Ok(())
}

pub(super) fn bump_version(tx: &dyn Conn, tbl_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE tbls SET version = version + 1 WHERE id = ?1",
        args![tbl_id],
    )?;
    Ok(())
}

pub(super) fn drop(
    tx: &dyn Conn,
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
        let found = tx.query_opt(
            &format!("SELECT {PART_COLUMNS} FROM parts WHERE tbl_id = ?1 AND name = ?2"),
            args![tbl_id, &name],
        )?;
        match found {
            Some(row) => {
                tx.execute(
                    "DELETE FROM parts WHERE tbl_id = ?1 AND name = ?2",
                    args![tbl_id, &name],
                )?;
                dropped.push(finish_partition(partition_from_row(&row)?)?);
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

pub(super) fn alter(tx: &dyn Conn, db: &str, table: &str, partition: &Partition) -> Result<()> {
    let (tbl_id, t) = load_table(tx, db, table)?;
    let name = partition_name(&key_names(&t), &partition.values);
    let changed = tx.execute(
        "UPDATE parts SET location = ?3, params = ?4, indexed = 0, version = version + 1
         WHERE tbl_id = ?1 AND name = ?2",
        args![
            tbl_id,
            &name,
            &partition.location,
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
        args![tbl_id, &name],
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

pub(super) fn partition_from_row(r: &Row) -> Result<PartRow> {
    Ok(PartRow {
        vals: r.text(0)?,
        location: r.text(1)?,
        params: r.text(2)?,
        create_time: r.int(3)?,
        version: r.int(4)?,
        indexed: r.bool(5)?,
        id: r.int(6)?,
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

/// The table a listing is for, as SQL: `?1` is the database, `?2` the table name (the CTE
/// `tb` lets the partition and file queries go out together, before the table id is known).
const TABLE_CTE: &str = "WITH tb AS (SELECT t.id FROM tbls t JOIN dbs d ON d.id = t.db_id \
                         WHERE d.name = ?1 AND t.name = ?2)";
const TBL: &str = "(SELECT id FROM tb)";

/// The statements of [`list`]: the table check, the partitions, their files.
pub(super) fn list_statements(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    filter: &PartitionFilter,
) -> Vec<(String, Vec<Value>)> {
    let names = vec![
        Value::from(db.to_lowercase()),
        Value::from(table.to_lowercase()),
    ];
    let mut args = names.clone();
    let chosen = match filter {
        PartitionFilter::All => format!("p.tbl_id = {TBL}"),
        f => format!(
            "p.tbl_id = {TBL} AND p.id IN ({})",
            compile(conn, f, &mut args)
        ),
    };
    let columns = PART_COLUMNS
        .split(", ")
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let check = "SELECT d.id, t.id FROM dbs d LEFT JOIN tbls t ON t.db_id = d.id AND t.name = ?2 \
                 WHERE d.name = ?1";
    let parts = format!("{TABLE_CTE} SELECT {columns} FROM parts p WHERE {chosen} ORDER BY p.name");
    let files = format!(
        "{TABLE_CTE} SELECT f.part_id, f.path, f.size, f.rows, f.stats FROM part_files f \
         JOIN parts p ON p.id = f.part_id WHERE {chosen} ORDER BY f.path"
    );
    vec![
        (check.to_string(), names),
        (parts, args.clone()),
        (files, args),
    ]
}

/// The partitions the filter may accept, with their file lists (of indexed partitions; of
/// tarn's commits into listed ones): the table check, the partitions and their files go in one
/// round trip.
pub(super) fn list(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    filter: &PartitionFilter,
) -> Result<Vec<Partition>> {
    let statements = list_statements(conn, db, table, filter);
    let results = conn.query_many(&super::conn::borrowed(&statements))?;
    list_results(db, table, results)
}

/// Decodes the results of [`list_statements`].
pub(super) fn list_results(
    db: &str,
    table: &str,
    results: Vec<Vec<Row>>,
) -> Result<Vec<Partition>> {
    let mut results = results.into_iter();
    let (found, parts, files) = (
        results.next().unwrap_or_default(),
        results.next().unwrap_or_default(),
        results.next().unwrap_or_default(),
    );
    match found.first() {
        None => return Err(CatalogError::DatabaseNotFound(db.to_string())),
        Some(r) if r.opt_int(1)?.is_none() => {
            return Err(CatalogError::TableNotFound {
                db: db.into(),
                table: table.into(),
            });
        }
        Some(_) => {}
    }
    let mut by_part: std::collections::HashMap<i64, Vec<DataFile>> = Default::default();
    for r in files {
        by_part.entry(r.int(0)?).or_default().push(DataFile {
            path: r.text(1)?,
            size: r.int(2)? as u64,
            rows: r.int(3)? as u64,
            columns: serde_json::from_str(&r.text(4)?)?,
        });
    }
    parts
        .iter()
        .map(|r| {
            let row = partition_from_row(r)?;
            let id = row.id;
            let mut p = finish_partition(row)?;
            let found = by_part.remove(&id).unwrap_or_default();
            match p.files.as_mut() {
                Some(list) => *list = found,
                None => p.written_files = found.into_iter().map(|f| f.path).collect(),
            }
            Ok(p)
        })
        .collect()
}

/// Compiles a filter to a SELECT of partition ids of the table [`TBL`].
fn compile(conn: &dyn Conn, filter: &PartitionFilter, args: &mut Vec<Value>) -> String {
    let leaf = |key: &usize, cond: String| {
        format!("SELECT part_id FROM part_keys WHERE tbl_id = {TBL} AND key_idx = {key} AND {cond}")
    };
    match filter {
        PartitionFilter::All => format!("SELECT id FROM parts WHERE tbl_id = {TBL}"),
        PartitionFilter::Cmp { key, op, value } => {
            args.push(key_value(conn, value));
            leaf(key, format!("value {} ?{}", op.sql(), args.len()))
        }
        PartitionFilter::In { key, values } => {
            let mut marks = Vec::with_capacity(values.len());
            for v in values {
                args.push(key_value(conn, v));
                marks.push(format!("?{}", args.len()));
            }
            leaf(key, format!("value IN ({})", marks.join(", ")))
        }
        PartitionFilter::IsNull { key } => leaf(key, "value IS NULL".into()),
        PartitionFilter::IsNotNull { key } => leaf(key, "value IS NOT NULL".into()),
        PartitionFilter::And(terms) => compound(conn, terms, "INTERSECT", args),
        PartitionFilter::Or(terms) => compound(conn, terms, "UNION", args),
    }
}

fn compound(conn: &dyn Conn, terms: &[PartitionFilter], op: &str, args: &mut Vec<Value>) -> String {
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| format!("SELECT * FROM ({}) AS t{i}", compile(conn, t, args)))
        .collect::<Vec<_>>()
        .join(&format!(" {op} "))
}
