//! CREATE EXTERNAL TABLE, DROP TABLE, COMMENT ON.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::SchemaRef;
use object_store::ObjectStoreExt;
use tarn_catalog::{Column, StorageFormat, Table, TableType, hive_types, stats_keys};
use tarn_sql::{ColumnDef, CommentTarget, ObjectName, TableDefinition};

use super::{load_table, now, resolve};
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::provider::file_format;
use crate::session::Session;

/// How many files schema inference reads at most.
const INFER_FILES: usize = 16;

/// The `(database, table)` a CREATE TABLE names.
pub(super) fn definition_name(session: &Session, t: &TableDefinition) -> Result<(String, String)> {
    let name = t
        .name
        .as_ref()
        .ok_or_else(|| EngineError::InvalidParameter("CREATE TABLE needs a name".into()))?;
    Ok(resolve(session, name))
}

/// A new table from its definition (shared by external, managed and CTAS tables).
pub(super) fn new_table(
    session: &Session,
    t: &TableDefinition,
    (database, name): (String, String),
    table_type: TableType,
    (columns, partition_keys): (Vec<Column>, Vec<Column>),
    location: String,
) -> Result<Table> {
    check_unique(&columns, &partition_keys)?;
    super::locations::check_properties(t.properties.iter().map(|(k, _)| k))?;
    let mut parameters: BTreeMap<String, String> = t.properties.iter().cloned().collect();
    if table_type == TableType::External {
        parameters.insert(stats_keys::EXTERNAL.into(), "TRUE".into());
    }
    parameters.insert(stats_keys::LAST_DDL_TIME.into(), now().to_string());
    if let Some(comment) = &t.comment {
        parameters.insert(stats_keys::COMMENT.into(), comment.clone());
    }
    Ok(Table {
        database,
        name,
        table_type,
        columns,
        partition_keys,
        location,
        format: storage_format(t)?,
        parameters,
        owner: Some(session.current_role()),
        create_time: now(),
        version: 0,
        view_text: None,
        hive: None,
    })
}

/// Records a new table in the metastore (a no-op with IF NOT EXISTS when it is there).
pub(super) async fn register(
    session: &Session,
    table: Table,
    if_not_exists: bool,
) -> Result<Output> {
    session.require_create_in(&table.database).await?;
    session
        .engine
        .metastore()
        .create_table(table, if_not_exists)
        .await?;
    Ok(Output::command("CREATE TABLE"))
}

pub(super) async fn create_external(session: &Session, t: TableDefinition) -> Result<Output> {
    let name = definition_name(session, &t)?;
    session.require_create_in(&name.0).await?;
    if exists(session, &name, t.if_not_exists).await? {
        return Ok(Output::command("CREATE TABLE"));
    }
    let location =
        super::locations::table_location(session, t.location.as_deref().unwrap_or_default(), None)
            .await?;
    let format = storage_format(&t)?;
    let (mut columns, partition_keys) = split_columns(&t)?;
    if columns.is_empty() {
        columns = infer_columns(session, &location, &format, &partition_keys).await?;
    }
    let table = new_table(
        session,
        &t,
        name,
        TableType::External,
        (columns, partition_keys),
        location,
    )?;
    register(session, table, t.if_not_exists).await
}

/// Existence before anything else: with IF NOT EXISTS an existing table makes CREATE a no-op
/// (`true`), without it a duplicate is a duplicate, whatever its location or columns say.
pub(super) async fn exists(
    session: &Session,
    (db, table): &(String, String),
    if_not_exists: bool,
) -> Result<bool> {
    if session
        .engine
        .metastore()
        .get_table(db, table)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    if if_not_exists {
        return Ok(true);
    }
    Err(tarn_catalog::CatalogError::TableExists {
        db: db.clone(),
        table: table.clone(),
    }
    .into())
}

fn property<'a>(t: &'a TableDefinition, keys: &[&str]) -> Option<&'a str> {
    t.properties
        .iter()
        .rev()
        .find(|(k, _)| keys.iter().any(|key| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v.as_str())
}

pub(super) fn storage_format(t: &TableDefinition) -> Result<StorageFormat> {
    let stored_as = t.stored_as.as_deref().unwrap_or("PARQUET");
    let header = t.header.unwrap_or(false)
        || property(t, &["skip.header.line.count"]).is_some_and(|v| v.trim() == "1")
        || property(t, &["format.has_header"]).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let delimiter = t
        .field_delimiter
        .as_deref()
        .or_else(|| property(t, &["field.delim", "separatorChar", "format.delimiter"]));
    match stored_as {
        "PARQUET" => Ok(StorageFormat::Parquet),
        "CSV" => Ok(StorageFormat::Csv {
            delimiter: parse_delimiter(delimiter.unwrap_or(","))?,
            header,
        }),
        // Hive's text files default to the ^A field separator.
        "TEXTFILE" => Ok(StorageFormat::Csv {
            delimiter: parse_delimiter(delimiter.unwrap_or("\u{1}"))?,
            header,
        }),
        "JSON" | "JSONFILE" | "NDJSON" => Ok(StorageFormat::Json),
        other => Err(EngineError::NotSupported(format!(
            "STORED AS {other} (supported: PARQUET, CSV, TEXTFILE, JSON)"
        ))),
    }
}

/// A one-byte delimiter, written literally or as `\t`, `\001`-style octal or `\u0001`.
fn parse_delimiter(d: &str) -> Result<u8> {
    let decoded = match d {
        "\\t" => Some(b'\t'),
        s if s.len() == 1 => Some(s.as_bytes()[0]),
        s if s.starts_with("\\u") => u8::from_str_radix(&s[2..], 16).ok(),
        s if s.starts_with('\\') => u8::from_str_radix(&s[1..], 8).ok(),
        _ => None,
    };
    decoded.ok_or_else(|| {
        EngineError::InvalidParameter(format!("field delimiter must be a single byte, got '{d}'"))
    })
}

fn to_column(def: &ColumnDef, default_type: &str) -> Result<Column> {
    let ty = def.data_type.as_deref().unwrap_or(default_type);
    Ok(Column::new(&def.name, ty, def.comment.clone())?)
}

/// Data columns and partition keys. In DataFusion's form a partition key may name a listed
/// column (which then moves to the keys) or be untyped (a string key).
pub(super) fn split_columns(t: &TableDefinition) -> Result<(Vec<Column>, Vec<Column>)> {
    let mut columns = Vec::new();
    for def in &t.columns {
        let moved = t
            .partition_keys
            .iter()
            .any(|k| k.data_type.is_none() && k.name.eq_ignore_ascii_case(&def.name));
        if !moved {
            columns.push(to_column(def, "string")?);
        }
    }
    let mut keys = Vec::new();
    for key in &t.partition_keys {
        let listed = t
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&key.name));
        match (&key.data_type, listed) {
            (None, Some(def)) => keys.push(to_column(def, "string")?),
            (None, None) => keys.push(to_column(key, "string")?),
            (Some(_), Some(_)) => {
                return Err(EngineError::InvalidParameter(format!(
                    "column '{}' is repeated in the partitioning columns",
                    key.name
                )));
            }
            (Some(_), None) => keys.push(to_column(key, "string")?),
        }
    }
    Ok((columns, keys))
}

fn check_unique(columns: &[Column], keys: &[Column]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for c in columns.iter().chain(keys) {
        if !seen.insert(c.name.to_lowercase()) {
            return Err(EngineError::InvalidParameter(format!(
                "duplicate column name '{}'",
                c.name
            )));
        }
    }
    Ok(())
}

/// Reads the schema from the files under the location (DataFusion's form without columns).
async fn infer_columns(
    session: &Session,
    location: &str,
    format: &StorageFormat,
    keys: &[Column],
) -> Result<Vec<Column>> {
    let state = session.ctx.state();
    let (store_url, dir) = crate::provider::parse_location(location)?;
    let store = state.runtime_env().object_store(&store_url)?;
    let mut files = crate::provider::list_recursive(&store, &dir, false).await?;
    files.retain(|f| f.size > 0);
    files.truncate(INFER_FILES);
    if files.is_empty() {
        return Err(EngineError::InvalidParameter(format!(
            "cannot infer the columns of '{location}': it holds no data files; declare the columns"
        )));
    }
    let schema: SchemaRef = file_format(format, &state)?
        .infer_schema(&state, &store, &files)
        .await?;
    schema
        .fields()
        .iter()
        .filter(|f| !keys.iter().any(|k| k.name.eq_ignore_ascii_case(f.name())))
        .map(|f| {
            Ok(Column::new(
                f.name(),
                &hive_types::from_arrow(f.data_type())?,
                None,
            )?)
        })
        .collect()
}

pub(super) async fn drop(session: &Session, name: &ObjectName, if_exists: bool) -> Result<Output> {
    let (db, table) = resolve(session, name);
    let Some(existing) = session.engine.metastore().get_table(&db, &table).await? else {
        if if_exists {
            return Ok(Output::command("DROP TABLE"));
        }
        return Err(tarn_catalog::CatalogError::TableNotFound { db, table }.into());
    };
    session.require_owner(&existing).await?;
    let dropped = session
        .engine
        .metastore()
        .drop_table(&db, &table, if_exists, Some(existing.version))
        .await?;
    if let Some(table) = dropped {
        delete_managed_data(session, &table).await?;
    }
    Ok(Output::command("DROP TABLE"))
}

/// A managed table's data goes with it, after the metadata commit; external data stays. Only
/// the directory tarn created for the table is deleted, and only while no other table's
/// metadata points inside it.
pub(crate) async fn delete_managed_data(session: &Session, table: &Table) -> Result<()> {
    if let Some(location) =
        super::locations::deletable(session, table, &table.location, None).await?
    {
        delete_location(session, &location).await?;
        // The DROP's tombstones (see `Metastore::drop_table`) hid files now gone.
        if location.trim_end_matches('/') == table.location.trim_end_matches('/') {
            session
                .engine
                .metastore()
                .forget_failed_writes(&table.location)
                .await?;
        }
    }
    Ok(())
}

/// After a table was replaced in one commit (Flight ingest): the old table's own files go —
/// only those its index listed and only for a managed table (best effort; VACUUM of the new
/// table catches what is left in a shared directory).
pub(super) async fn delete_replaced_data(session: &Session, old: &Table, files: &[String]) {
    if old.table_type != tarn_catalog::TableType::Managed || files.is_empty() {
        return;
    }
    // As DROP: only inside the directory tarn made for the table, and only while nothing else
    // uses it.
    let Ok(Some(own)) = super::locations::deletable(session, old, &old.location, None).await else {
        return;
    };
    let files: Vec<String> = files
        .iter()
        .filter(|f| super::locations::within(f, &own))
        .cloned()
        .collect();
    let Ok((store_url, _)) = crate::provider::parse_location(&old.location) else {
        return;
    };
    if let Ok(store) = session.ctx.state().runtime_env().object_store(&store_url) {
        crate::write::delete_quietly(&store, &files).await;
    }
}

/// Deletes everything under a location, through its object store (local or remote).
pub(crate) async fn delete_location(session: &Session, location: &str) -> Result<()> {
    let state = session.ctx.state();
    let (store_url, dir) = crate::provider::parse_location(location)?;
    let store = state.runtime_env().object_store(&store_url)?;
    let objects = crate::provider::list_recursive(&store, &dir, true).await?;
    for object in objects {
        match store.delete(&object.location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => {
                return Err(EngineError::Storage {
                    location: object.location.to_string(),
                    message: e.to_string(),
                });
            }
        }
    }
    if location.starts_with('/') {
        // Local stores leave empty directories behind.
        let _ = tokio::fs::remove_dir_all(location).await;
    }
    Ok(())
}

pub(super) async fn comment_on(
    session: &Session,
    target: CommentTarget,
    comment: Option<String>,
) -> Result<Output> {
    let (name, column) = match target {
        CommentTarget::Table(name) => (name, None),
        CommentTarget::Column { table, column } => (table, Some(column)),
    };
    let mut table = load_table(session, &name).await?;
    session.require_owner(&table).await?;
    match column {
        None => match comment {
            Some(c) => {
                table.parameters.insert(stats_keys::COMMENT.into(), c);
            }
            None => {
                table.parameters.remove(stats_keys::COMMENT);
            }
        },
        Some(col) => {
            let target = table
                .columns
                .iter_mut()
                .chain(table.partition_keys.iter_mut())
                .find(|c| c.name.eq_ignore_ascii_case(&col))
                .ok_or_else(|| column_missing(&name, &col))?;
            target.comment = comment;
        }
    }
    table
        .parameters
        .insert(stats_keys::LAST_DDL_TIME.into(), now().to_string());
    session.engine.metastore().alter_table(table).await?;
    Ok(Output::command("COMMENT"))
}

fn column_missing(table: &ObjectName, column: &str) -> EngineError {
    EngineError::DataFusion(datafusion::common::DataFusionError::SchemaError(
        Box::new(datafusion::common::SchemaError::FieldNotFound {
            field: Box::new(datafusion::common::Column::new(
                Some(table.to_string()),
                column,
            )),
            valid_fields: vec![],
        }),
        Box::new(None),
    ))
}

/// CREATE INDEX: tarn keeps no indexes (its files are pruned by partitions and file
/// statistics), so an ordinary index is accepted as the no-op it would be for lookups here —
/// tools such as dbt create them as a hint. A UNIQUE index would be a constraint tarn does not
/// enforce, so it is refused rather than silently not kept.
pub(super) async fn create_index(
    session: &Session,
    name: &ObjectName,
    unique: bool,
) -> Result<Output> {
    let table = load_table(session, name).await?;
    session.require_owner(&table).await?;
    if unique {
        return Err(EngineError::NotSupported(format!(
            "unique indexes: tarn does not enforce uniqueness on {} (test it with a query, e.g. dbt's unique test)",
            table.qualified_name()
        )));
    }
    tracing::debug!(table = %table.qualified_name(), "CREATE INDEX accepted; tarn keeps no indexes");
    Ok(Output::command("CREATE INDEX"))
}
