//! Partition rows and the indexed partition lookup.
//!
//! Each partition has one `part_keys` row per key holding a typed value. A [`PartitionFilter`]
//! compiles to a compound SELECT of partition ids (INTERSECT for AND, UNION for OR) in which every
//! leaf is a range scan of the `(tbl_id, key_idx, value)` index, so a point query on a table with
//! 100,000 partitions reads a handful of index pages.

use super::conn::{Conn, Row, Value, args};
use super::table_id;
use crate::error::{CatalogError, Result};
use crate::filter::{CmpOp, IndexKind, KeyValue, PartitionFilter, indexed_kind};
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

/// Parameters per multi-row INSERT (well under both stores' limits: SQLite 32,766,
/// PostgreSQL 65,535).
const PARAMS_PER_INSERT: usize = 8_000;

/// Adds partitions a few hundred per statement (a 100,000-partition MSCK is hundreds of
/// statements, not hundreds of thousands of round trips).
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
    let mut named = Vec::with_capacity(partitions.len());
    for p in partitions {
        if p.values.len() != keys.len() {
            return Err(CatalogError::invalid(format!(
                "table '{table}' has {} partition keys but {} values were given",
                keys.len(),
                p.values.len()
            )));
        }
        named.push((partition_name(&keys, &p.values), p));
    }
    let mut taken = existing_names(tx, tbl_id, named.iter().map(|(n, _)| n.as_str()))?;
    let mut new = Vec::with_capacity(named.len());
    for (name, p) in named {
        if !taken.insert(name.clone()) {
            if if_not_exists {
                continue;
            }
            return Err(CatalogError::PartitionExists {
                table: t.qualified_name(),
                partition: name,
            });
        }
        new.push((name, p));
    }
    let dirs: Vec<(&str, &str)> = new
        .iter()
        .map(|(n, p)| (n.as_str(), p.location.as_str()))
        .collect();
    directories_free(tx, tbl_id, &t, &dirs)?;
    // Each partition takes 5 parameters in `parts` and 2 per key in `part_keys`.
    let per_partition = 5 + 2 * keys.len();
    for chunk in new.chunks((PARAMS_PER_INSERT / per_partition).max(1)) {
        let mut args = vec![Value::Int(tbl_id)];
        let mut rows = Vec::with_capacity(chunk.len());
        for (name, p) in chunk {
            let n = args.len();
            rows.push(format!(
                "(?1, ?{}, ?{}, ?{}, ?{}, ?{})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            ));
            args.extend([
                Value::from(name),
                Value::from(serde_json::to_string(&p.values)?),
                Value::from(&p.location),
                Value::from(serde_json::to_string(&p.parameters)?),
                Value::Int(p.create_time),
            ]);
        }
        let ids = tx.query(
            &format!(
                "INSERT INTO parts (tbl_id, name, vals, location, params, create_time) VALUES {} \
                 RETURNING id, name",
                rows.join(", ")
            ),
            &args,
        )?;
        let mut by_name = std::collections::HashMap::with_capacity(ids.len());
        for r in &ids {
            by_name.insert(r.text(1)?, r.int(0)?);
        }
        let mut key_rows = Vec::new();
        for (name, p) in chunk {
            let id = *by_name
                .get(name)
                .ok_or_else(|| CatalogError::Corrupt(format!("partition {name} got no id")))?;
            key_rows.push((id, p.values.as_slice()));
        }
        insert_key_rows(tx, tbl_id, &kinds, &key_rows)?;
    }
    bump_version(tx, tbl_id)?;
    Ok(new.len())
}

/// Refuses partitions (name, location) whose directory another partition of the table
/// already has, or that share one among themselves: two partitions over one directory would
/// each list the other's files (a renamed partition keeps its directory, which a new partition
/// with the old values would otherwise take again).
pub(super) fn directories_free(
    tx: &dyn Conn,
    tbl_id: i64,
    t: &Table,
    new: &[(&str, &str)],
) -> Result<()> {
    let bare = |l: &str| l.trim_end_matches('/').to_string();
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    for (name, location) in new {
        if let Some(other) = seen.insert(bare(location), name.to_string())
            && other != *name
        {
            return Err(shared_directory(t, location, &other));
        }
    }
    for chunk in new.chunks(400) {
        let mut args = vec![Value::Int(tbl_id)];
        for (_, location) in chunk {
            args.push(Value::from(bare(location)));
            args.push(Value::from(format!("{}/", bare(location))));
        }
        let marks: Vec<String> = (2..=args.len()).map(|i| format!("?{i}")).collect();
        let taken = tx.query(
            &format!(
                "SELECT name, location FROM parts WHERE tbl_id = ?1 AND location IN ({})",
                marks.join(", ")
            ),
            &args,
        )?;
        for r in taken {
            let (holder, location) = (r.text(0)?, r.text(1)?);
            if seen.get(&bare(&location)).is_some_and(|n| *n != holder) {
                return Err(shared_directory(t, &location, &holder));
            }
        }
    }
    Ok(())
}

fn shared_directory(t: &Table, location: &str, holder: &str) -> CatalogError {
    CatalogError::invalid(format!(
        "directory {location} already holds partition {holder} of {}: give the new partition \
         another location",
        t.qualified_name()
    ))
}

/// Which of `names` the table already has.
fn existing_names<'a>(
    tx: &dyn Conn,
    tbl_id: i64,
    names: impl Iterator<Item = &'a str>,
) -> Result<std::collections::HashSet<String>> {
    let names: Vec<&str> = names.collect();
    let mut found = std::collections::HashSet::new();
    for chunk in names.chunks(500) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("?{i}")).collect();
        let mut args = vec![Value::Int(tbl_id)];
        args.extend(chunk.iter().map(|n| Value::from(*n)));
        let rows = tx.query(
            &format!(
                "SELECT name FROM parts WHERE tbl_id = ?1 AND name IN ({})",
                marks.join(", ")
            ),
            &args,
        )?;
        for r in rows {
            found.insert(r.text(0)?);
        }
    }
    Ok(found)
}

/// The index rows of new partitions (one per key), many per statement.
fn insert_key_rows(
    tx: &dyn Conn,
    tbl_id: i64,
    kinds: &[Option<IndexKind>],
    partitions: &[(i64, &[Option<String>])],
) -> Result<()> {
    let mut rows = Vec::new();
    let mut args = vec![Value::Int(tbl_id)];
    for (part_id, values) in partitions {
        for (i, (value, kind)) in values.iter().zip(kinds).enumerate() {
            let n = args.len();
            rows.push(format!("(?{}, ?1, {i}, ?{})", n + 1, n + 2));
            args.push(Value::Int(*part_id));
            args.push(index_value(tx, *kind, value.as_deref()));
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    tx.execute(
        &format!(
            "INSERT INTO part_keys (part_id, tbl_id, key_idx, value) VALUES {}",
            rows.join(", ")
        ),
        &args,
    )?;
    Ok(())
}

/// The index rows of a new partition: one per key.
pub(super) fn insert_keys(
    tx: &dyn Conn,
    tbl_id: i64,
    part_id: i64,
    kinds: &[Option<IndexKind>],
    values: &[Option<String>],
) -> Result<()> {
    insert_key_rows(tx, tbl_id, kinds, &[(part_id, values)])
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
    directories_free(tx, tbl_id, &t, &[(&name, &partition.location)])?;
    // Data elsewhere now: the column statistics described the old directory's.
    let moved = tx.query_opt(
        "SELECT id FROM parts WHERE tbl_id = ?1 AND name = ?2 AND location <> ?3",
        args![tbl_id, &name, &partition.location],
    )?;
    if let Some(r) = moved {
        super::colstats::forget_partition(tx, r.int(0)?)?;
    }
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

/// How the listing queries name their table (`tbl`, after the `prefix`, with `args` first):
/// SQLite (with no round trips to save) looks the id up first and binds it, so its planner sees
/// a constant; PostgreSQL resolves it inside each query (the CTE `tb`, `?1` the database, `?2`
/// the table) so the queries go out together without waiting for it.
struct TableRef {
    prefix: &'static str,
    tbl: &'static str,
    args: Vec<Value>,
}

fn table_ref(conn: &dyn Conn, db: &str, table: &str) -> Result<TableRef> {
    Ok(match conn.dialect() {
        super::conn::Dialect::Sqlite => TableRef {
            prefix: "",
            tbl: "?1",
            args: vec![Value::Int(table_id(conn, db, table)?)],
        },
        super::conn::Dialect::Postgres => TableRef {
            prefix: "WITH tb AS (SELECT t.id FROM tbls t JOIN dbs d ON d.id = t.db_id \
                     WHERE d.name = ?1 AND t.name = ?2) ",
            tbl: "(SELECT id FROM tb)",
            args: vec![
                Value::from(db.to_lowercase()),
                Value::from(table.to_lowercase()),
            ],
        },
    })
}

/// The statements of [`list`]: the table check, the partitions, their files.
pub(super) fn list_statements(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    filter: &PartitionFilter,
) -> Result<Vec<(String, Vec<Value>)>> {
    let columns = PART_COLUMNS
        .split(", ")
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    list_statements_selecting(conn, db, table, filter, &columns)
}

/// [`list_statements`] with the partitions' `columns` chosen by the caller.
pub(super) fn list_statements_selecting(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    filter: &PartitionFilter,
    columns: &str,
) -> Result<Vec<(String, Vec<Value>)>> {
    let names = vec![
        Value::from(db.to_lowercase()),
        Value::from(table.to_lowercase()),
    ];
    let TableRef {
        prefix,
        tbl,
        mut args,
    } = table_ref(conn, db, table)?;
    let chosen = match filter {
        PartitionFilter::All => format!("p.tbl_id = {tbl}"),
        // The ids first, then one lookup each: PostgreSQL through an array (its planner,
        // without statistics, may otherwise hash-join all of a table's partitions), SQLite
        // through an IN over the rowid.
        f => match conn.dialect() {
            // `+` keeps the planners off the (tbl_id, name) index, which would walk every
            // partition of the table checking each against the id list.
            super::conn::Dialect::Sqlite => format!(
                "+p.tbl_id = {tbl} AND p.id IN ({})",
                compile(conn, tbl, f, &mut args)
            ),
            super::conn::Dialect::Postgres => format!(
                "+p.tbl_id = {tbl} AND p.id = ANY(ARRAY({}))",
                compile(conn, tbl, f, &mut args)
            ),
        },
    };
    let check = "SELECT d.id, t.id FROM dbs d LEFT JOIN tbls t ON t.db_id = d.id AND t.name = ?2 \
                 WHERE d.name = ?1";
    let parts = format!("{prefix}SELECT {columns} FROM parts p WHERE {chosen} ORDER BY p.name");
    let files = format!(
        "{prefix}SELECT f.part_id, f.path, f.size, f.rows, f.stats FROM part_files f \
         JOIN parts p ON p.id = f.part_id WHERE {chosen} ORDER BY f.path"
    );
    Ok(vec![
        (check.to_string(), names),
        (parts, args.clone()),
        (files, args),
    ])
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
    let statements = list_statements(conn, db, table, filter)?;
    let results = conn.query_many(&super::conn::borrowed(&statements))?;
    list_results(db, table, results)
}

/// As [`list`] without the file lists (the files query is not sent): partition definitions for
/// the metastore protocols, which never read data.
pub(super) fn list_definitions(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    filter: &PartitionFilter,
) -> Result<Vec<Partition>> {
    let mut statements = list_statements(conn, db, table, filter)?;
    statements.truncate(2);
    let results = conn.query_many(&super::conn::borrowed(&statements))?;
    list_results(db, table, results)
}

/// The names (`k=v/…`, escaped) of the partitions the filter may accept, in name order: no
/// values, locations or parameters are read or decoded (Trino lists all names of a table).
pub(super) fn list_names(
    conn: &dyn Conn,
    db: &str,
    table: &str,
    filter: &PartitionFilter,
) -> Result<Vec<String>> {
    let mut statements = list_statements_selecting(conn, db, table, filter, "p.name")?;
    statements.truncate(2);
    let mut results = conn
        .query_many(&super::conn::borrowed(&statements))?
        .into_iter();
    table_found(db, table, &results.next().unwrap_or_default())?;
    results
        .next()
        .unwrap_or_default()
        .iter()
        .map(|r| r.text(0))
        .collect()
}

/// The table check's answer: the database and the table exist.
fn table_found(db: &str, table: &str, found: &[Row]) -> Result<()> {
    match found.first() {
        None => Err(CatalogError::DatabaseNotFound(db.to_string())),
        Some(r) if r.opt_int(1)?.is_none() => Err(CatalogError::TableNotFound {
            db: db.into(),
            table: table.into(),
        }),
        Some(_) => Ok(()),
    }
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
    table_found(db, table, &found)?;
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

/// Compiles a filter to a SELECT of partition ids (column `part_id`) of the table `tbl` (see
/// [`TableRef`]). A leaf is a range scan of the `(tbl_id, key_idx, value)` index. An AND is
/// driven by its most selective-looking term, whose scan also takes the AND's other leaves on
/// the same key (one range for `dt >= a AND dt <= b`); its other leaves are checked per candidate by a
/// lookup of the `(part_id, key_idx)` key (a correlated subquery, which neither store turns into
/// a scan), so `dt = X AND h = Y` on a million partitions reads the 24 rows of `dt = X`, not the
/// 41,000 of `h = Y`.
fn compile(conn: &dyn Conn, tbl: &str, filter: &PartitionFilter, args: &mut Vec<Value>) -> String {
    let all = format!("SELECT id AS part_id FROM parts WHERE tbl_id = {tbl}");
    match filter {
        PartitionFilter::All => all,
        PartitionFilter::And(terms) => conjunction(conn, tbl, terms, args),
        PartitionFilter::Or(terms) => terms
            .iter()
            .enumerate()
            .map(|(i, t)| format!("SELECT * FROM ({}) AS t{i}", compile(conn, tbl, t, args)))
            .collect::<Vec<_>>()
            .join(" UNION "),
        leaf => match leaf_condition(conn, leaf, |_| "value".to_string(), args) {
            Some((key, cond)) => format!(
                "SELECT part_id FROM part_keys WHERE tbl_id = {tbl} AND key_idx = {key} AND {cond}"
            ),
            // Not a leaf after all: every partition (a superset is allowed).
            None => all,
        },
    }
}

/// A leaf's key and its condition on the value `column(key)` names; `None` for a compound.
fn leaf_condition(
    conn: &dyn Conn,
    leaf: &PartitionFilter,
    column: impl Fn(usize) -> String,
    args: &mut Vec<Value>,
) -> Option<(usize, String)> {
    Some(match leaf {
        PartitionFilter::Cmp { key, op, value } => {
            args.push(key_value(conn, value));
            (
                *key,
                format!("{} {} ?{}", column(*key), op.sql(), args.len()),
            )
        }
        PartitionFilter::In { key, values } => {
            let mut marks = Vec::with_capacity(values.len());
            for v in values {
                args.push(key_value(conn, v));
                marks.push(format!("?{}", args.len()));
            }
            (*key, format!("{} IN ({})", column(*key), marks.join(", ")))
        }
        PartitionFilter::IsNull { key } => (*key, format!("{} IS NULL", column(*key))),
        PartitionFilter::IsNotNull { key } => (*key, format!("{} IS NOT NULL", column(*key))),
        PartitionFilter::All | PartitionFilter::And(_) | PartitionFilter::Or(_) => return None,
    })
}

/// The key a leaf tests; `None` for a compound or `All`.
fn leaf_key(f: &PartitionFilter) -> Option<usize> {
    match f {
        PartitionFilter::Cmp { key, .. }
        | PartitionFilter::In { key, .. }
        | PartitionFilter::IsNull { key }
        | PartitionFilter::IsNotNull { key } => Some(*key),
        PartitionFilter::All | PartitionFilter::And(_) | PartitionFilter::Or(_) => None,
    }
}

/// How promising a term is as the driver of an AND (lower first): an equality or IN list on an
/// early key, then other leaves, then compound terms.
fn driver_rank(f: &PartitionFilter) -> (u8, usize) {
    match f {
        PartitionFilter::Cmp {
            key, op: CmpOp::Eq, ..
        }
        | PartitionFilter::In { key, .. } => (0, *key),
        PartitionFilter::IsNull { key } => (1, *key),
        PartitionFilter::Cmp { key, .. } => (2, *key),
        PartitionFilter::IsNotNull { key } => (3, *key),
        _ => (4, 0),
    }
}

fn conjunction(
    conn: &dyn Conn,
    tbl: &str,
    terms: &[PartitionFilter],
    args: &mut Vec<Value>,
) -> String {
    let Some(driver) = (0..terms.len()).min_by_key(|i| driver_rank(&terms[*i])) else {
        return compile(conn, tbl, &PartitionFilter::All, args);
    };
    // Every leaf on the driver's key narrows the driver's own index scan (`dt >= a AND dt <= b`
    // is one range, not half the table checked row by row).
    let key = leaf_key(&terms[driver]);
    let scanned: Vec<usize> = (0..terms.len())
        .filter(|i| *i == driver || (key.is_some() && leaf_key(&terms[*i]) == key))
        .collect();
    let driver_sql = match key {
        Some(key) => {
            let conds: Vec<String> = scanned
                .iter()
                .filter_map(|i| leaf_condition(conn, &terms[*i], |_| "value".into(), args))
                .map(|(_, cond)| cond)
                .collect();
            format!(
                "SELECT part_id FROM part_keys WHERE tbl_id = {tbl} AND key_idx = {key} AND {}",
                conds.join(" AND ")
            )
        }
        None => compile(conn, tbl, &terms[driver], args),
    };
    let mut sql = format!("SELECT d.part_id FROM ({driver_sql}) AS d WHERE 1 = 1");
    for (i, term) in terms
        .iter()
        .enumerate()
        .filter(|(i, _)| !scanned.contains(i))
    {
        let lookup = |key: usize| {
            format!(
                "(SELECT k{i}.value FROM part_keys k{i} \
                 WHERE k{i}.part_id = d.part_id AND k{i}.key_idx = {key})"
            )
        };
        match leaf_condition(conn, term, lookup, args) {
            Some((_, cond)) => sql.push_str(&format!(" AND {cond}")),
            None => sql.push_str(&format!(
                " AND d.part_id IN ({})",
                compile(conn, tbl, term, args)
            )),
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use crate::rdbms::Backend;
    use crate::{
        CmpOp, Column, KeyValue, Metastore, PartitionFilter, SqliteMetastore, StorageFormat, Table,
        TableType,
    };

    /// The plan of a pruned listing on SQLite looks partitions up by id: it never walks the
    /// table's partitions (which made a point query on a million partitions take 240 ms).
    #[tokio::test]
    async fn sqlite_pruned_listings_look_partitions_up_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteMetastore::open(dir.path().join("m.db"), "/w").unwrap();
        let t = Table {
            database: "default".into(),
            name: "t".into(),
            table_type: TableType::External,
            columns: vec![Column::new("x", "bigint", None).unwrap()],
            partition_keys: vec![
                Column::new("dt", "date", None).unwrap(),
                Column::new("h", "int", None).unwrap(),
            ],
            location: "/w/t".into(),
            format: StorageFormat::Parquet,
            parameters: Default::default(),
            owner: None,
            create_time: 0,
            version: 0,
            view_text: None,
            hive: None,
        };
        s.create_table(t, false).await.unwrap();
        let filter = PartitionFilter::and(vec![
            PartitionFilter::Cmp {
                key: 0,
                op: CmpOp::Eq,
                value: KeyValue::Text("2024-01-01".into()),
            },
            PartitionFilter::Cmp {
                key: 1,
                op: CmpOp::Eq,
                value: KeyValue::Int(3),
            },
        ]);
        let plans = s
            .backend()
            .read(move |c| {
                let statements = super::list_statements(c, "default", "t", &filter)?;
                let mut plans = Vec::new();
                for (sql, args) in &statements[1..] {
                    let rows = c.query(&format!("EXPLAIN QUERY PLAN {sql}"), args)?;
                    for r in rows {
                        plans.push(r.text(3)?);
                    }
                }
                Ok(plans)
            })
            .await
            .unwrap();
        assert!(
            plans.iter().any(|p| p.contains("INTEGER PRIMARY KEY")),
            "{plans:#?}"
        );
        assert!(
            !plans.iter().any(|p| p.contains("SEARCH p USING INDEX")),
            "{plans:#?}"
        );
    }
}
