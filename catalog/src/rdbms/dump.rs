//! A whole catalog as data, to move it between stores (an embedded user growing into a shared
//! PostgreSQL catalog) or back it up: every row of every table, read in one snapshot and
//! written in one transaction. Rows are copied as they are — ids, table versions, the file
//! index, the batch log, write intents and the catalog id in write ids — so the lake reads the
//! same through the new store; only `part_keys.value` changes form between dialects.

use serde::{Deserialize, Serialize};

use super::conn::{Conn, Dialect, Value};
use crate::error::{CatalogError, Result};

/// The dump's format name and version.
pub const DUMP_FORMAT: &str = "tarn-catalog-dump";
pub const DUMP_VERSION: u32 = 1;

/// Tables in dependency order (parents first), with their columns.
const TABLES: &[(&str, &[&str])] = &[
    (
        "dbs",
        &[
            "id",
            "name",
            "description",
            "location",
            "owner",
            "params",
            "create_time",
        ],
    ),
    (
        "tbls",
        &[
            "id", "db_id", "name", "tbl_type", "location", "version", "spec",
        ],
    ),
    (
        "parts",
        &[
            "id",
            "tbl_id",
            "name",
            "vals",
            "location",
            "params",
            "create_time",
            "version",
            "indexed",
            "batch_id",
        ],
    ),
    ("part_keys", &["part_id", "tbl_id", "key_idx", "value"]),
    (
        "part_files",
        &["part_id", "path", "size", "rows", "stats", "batch_id"],
    ),
    (
        "tbl_col_stats",
        &["tbl_id", "col", "col_type", "stats", "analyzed"],
    ),
    (
        "part_col_stats",
        &["part_id", "col", "col_type", "stats", "analyzed"],
    ),
    (
        "batches",
        &[
            "id",
            "tbl_id",
            "batch_id",
            "statement",
            "user_name",
            "time",
            "partitions",
            "rows",
            "live",
            "write_id",
        ],
    ),
    ("retired_locations", &["location", "retired_at"]),
    (
        "users",
        &[
            "name",
            "verifier",
            "superuser",
            "create_time",
            "can_login",
            "create_role",
            "inherit",
        ],
    ),
    (
        "role_members",
        &["role", "member", "admin_option", "grantor"],
    ),
    (
        "grants",
        &[
            "db",
            "tbl",
            "col",
            "kind",
            "grantee",
            "privilege",
            "grantor",
            "grantable",
        ],
    ),
    (
        "default_privileges",
        &["owner", "db", "grantee", "privilege", "grantable"],
    ),
    (
        "pending_writes",
        &[
            "write_id",
            "db",
            "tbl",
            "started_at",
            "user_name",
            "statement",
            "failed",
            "location",
        ],
    ),
    ("write_sequence", &["id", "last", "catalog_id"]),
    ("secrets", &["name", "value"]),
];

/// Tables added after the dump format's first version: a dump from an older tarn has none.
const LATER_TABLES: &[&str] = &["tbl_col_stats", "part_col_stats"];

/// Tables whose `id` is generated: their counters continue after the copied ids.
const GENERATED_IDS: &[&str] = &["dbs", "tbls", "parts", "batches"];

/// A catalog's rows (`null`, integers and strings).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CatalogDump {
    pub format: String,
    pub version: u32,
    pub tables: Vec<TableDump>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableDump {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl CatalogDump {
    /// Tables and partitions in the dump (for messages).
    pub fn counts(&self) -> (usize, usize) {
        let rows = |name: &str| {
            self.tables
                .iter()
                .find(|t| t.name == name)
                .map_or(0, |t| t.rows.len())
        };
        (rows("tbls"), rows("parts"))
    }
}

fn to_json(v: Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Int(i) => i.into(),
        Value::Text(t) => t.into(),
    }
}

fn from_json(v: &serde_json::Value) -> Result<Value> {
    Ok(match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Number(n) => Value::Int(n.as_i64().ok_or_else(|| {
            CatalogError::InvalidArgument(format!("catalog dump: {n} is not a 64-bit integer"))
        })?),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => {
            return Err(CatalogError::InvalidArgument(format!(
                "catalog dump: unexpected value {other}"
            )));
        }
    })
}

/// Every row, in one snapshot (the caller's read transaction).
pub(super) fn export(conn: &dyn Conn) -> Result<CatalogDump> {
    let dialect = conn.dialect();
    let mut tables = Vec::with_capacity(TABLES.len());
    for (name, columns) in TABLES {
        let rows = conn.query(
            &format!("SELECT {} FROM {name} ORDER BY 1, 2", columns.join(", ")),
            &[],
        )?;
        let value_col = columns.iter().position(|c| *c == "value");
        let rows = rows
            .into_iter()
            .map(|row| {
                row.0
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| match (Some(i) == value_col, *name) {
                        (true, "part_keys") => to_json(dialect.typed_key_value(v)),
                        _ => to_json(v),
                    })
                    .collect()
            })
            .collect();
        tables.push(TableDump {
            name: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        });
    }
    Ok(CatalogDump {
        format: DUMP_FORMAT.into(),
        version: DUMP_VERSION,
        tables,
    })
}

/// Whether the catalog holds nothing a new one does not: no table, no database but `default`,
/// no role but the predefined ones, no write history.
pub(super) fn is_fresh(conn: &dyn Conn) -> Result<bool> {
    let checks = [
        "SELECT count(*) FROM tbls",
        "SELECT count(*) FROM dbs WHERE name <> 'default'",
        "SELECT count(*) FROM users WHERE can_login = 1 OR name NOT LIKE 'pg\\_%' ESCAPE '\\'",
        "SELECT count(*) FROM batches",
        "SELECT count(*) FROM retired_locations",
        "SELECT count(*) FROM pending_writes",
    ];
    for sql in checks {
        if conn.query_int(sql, &[])? > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Replaces every row with the dump's (the caller's write transaction).
pub(super) fn import(tx: &dyn Conn, dump: &CatalogDump) -> Result<()> {
    if dump.format != DUMP_FORMAT || dump.version != DUMP_VERSION {
        return Err(CatalogError::InvalidArgument(format!(
            "not a {DUMP_FORMAT} version {DUMP_VERSION} file (found {} {})",
            dump.format, dump.version
        )));
    }
    for (name, _) in TABLES.iter().rev() {
        tx.execute(&format!("DELETE FROM {name}"), &[])?;
    }
    for (name, columns) in TABLES {
        let Some(table) = dump.tables.iter().find(|t| t.name == *name) else {
            if LATER_TABLES.contains(name) {
                continue;
            }
            return Err(CatalogError::InvalidArgument(format!(
                "catalog dump has no table {name}"
            )));
        };
        if table.columns != *columns {
            return Err(CatalogError::InvalidArgument(format!(
                "catalog dump table {name} has columns {:?}, expected {columns:?}",
                table.columns
            )));
        }
        // Many rows per statement: a million partitions are thousands of statements.
        for chunk in table.rows.chunks((4_000 / columns.len()).max(1)) {
            let mut args = Vec::with_capacity(chunk.len() * columns.len());
            let mut rows = Vec::with_capacity(chunk.len());
            for row in chunk {
                if row.len() != columns.len() {
                    return Err(CatalogError::InvalidArgument(format!(
                        "catalog dump table {name}: a row has {} values for {} columns",
                        row.len(),
                        columns.len()
                    )));
                }
                let marks: Vec<String> = (args.len() + 1..=args.len() + columns.len())
                    .map(|i| format!("?{i}"))
                    .collect();
                rows.push(format!("({})", marks.join(", ")));
                let mut values = row.iter().map(from_json).collect::<Result<Vec<_>>>()?;
                if *name == "part_keys" {
                    values[3] = tx.dialect().key_value(values[3].clone());
                }
                args.extend(values);
            }
            tx.execute(
                &format!(
                    "INSERT INTO {name} ({}) VALUES {}",
                    columns.join(", "),
                    rows.join(", ")
                ),
                &args,
            )?;
        }
    }
    if tx.dialect() == Dialect::Postgres {
        for name in GENERATED_IDS {
            tx.query(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{name}', 'id'),
                                   coalesce(max(id), 0) + 1, false) FROM {name}"
                ),
                &[],
            )?;
        }
    }
    Ok(())
}
