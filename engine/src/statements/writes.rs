//! INSERT, CREATE TABLE (managed) and CTAS, COPY … FROM, VACUUM.

use std::collections::HashSet;

use datafusion::common::Column as DFColumn;
use datafusion::logical_expr::Expr;
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions};
use tarn_catalog::{Column, Table, TableType, hive_types, paths};
use tarn_sql::{InsertStatement, ObjectName, TableDefinition};

use super::load_table;
use super::table::{definition_name, new_table, register, split_columns};
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;
use crate::write::{self, InputSpec, Mode, WriteJob, plan_input, plan_query};

pub(super) async fn insert(session: &Session, i: InsertStatement) -> Result<Output> {
    let table = load_table(session, &i.table).await?;
    let statics = static_values(&table, &i.partition)?;
    let spec = InputSpec {
        table: &table,
        columns: &i.columns,
        statics: &statics,
    };
    let input = plan_input(session, spec, &i.query).await?;
    let mode = if i.overwrite {
        Mode::Overwrite
    } else {
        Mode::Append
    };
    let verb = if i.overwrite {
        "INSERT OVERWRITE"
    } else {
        "INSERT INTO"
    };
    let statement = format!("{verb} {} {}", table.qualified_name(), i.query.sql);
    let job = WriteJob {
        table,
        mode,
        static_values: statics,
        statement,
        create: false,
        replaces: None,
        columns: i.columns.iter().map(|c| c.to_lowercase()).collect(),
    };
    let rows = write::run(session, job, input).await?;
    Ok(Output::Command {
        tag: "INSERT".into(),
        rows: Some(rows),
    })
}

/// Per key: `Some(value)` if the PARTITION clause gives it a value, `None` if dynamic.
fn static_values(
    table: &Table,
    clause: &[(String, Option<Option<String>>)],
) -> Result<Vec<Option<Option<String>>>> {
    if !clause.is_empty() && table.partition_keys.is_empty() {
        return Err(EngineError::InvalidParameter(format!(
            "table '{}' is not partitioned",
            table.qualified_name()
        )));
    }
    for (name, _) in clause {
        if !table
            .partition_keys
            .iter()
            .any(|k| k.name.eq_ignore_ascii_case(name))
        {
            return Err(EngineError::InvalidParameter(format!(
                "'{name}' is not a partition column of '{}'",
                table.qualified_name()
            )));
        }
    }
    Ok(table
        .partition_keys
        .iter()
        .map(|k| {
            clause
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&k.name))
                .and_then(|(_, v)| v.clone())
                .map(|v| paths::normalize_value(v.as_deref()))
        })
        .collect())
}

/// Hive's managed location: `<warehouse>/<table>` in `default`, `<db location>/<table>` elsewhere.
async fn managed_location(session: &Session, db: &str, table: &str) -> Result<String> {
    let database = session
        .engine
        .metastore()
        .get_database(db)
        .await?
        .ok_or_else(|| tarn_catalog::CatalogError::DatabaseNotFound(db.to_string()))?;
    Ok(paths::join(&database.location, table))
}

/// A managed table at Hive's default location (`replacing`: the table it replaces, whose
/// location does not count as taken).
async fn managed_table(
    session: &Session,
    t: &TableDefinition,
    (db, name): (String, String),
    columns: (Vec<Column>, Vec<Column>),
    replacing: Option<&Table>,
) -> Result<Table> {
    let default = managed_location(session, &db, &name).await?;
    let location = super::locations::managed_directory(session, &default, replacing).await?;
    let mut table = new_table(
        session,
        t,
        (db, name),
        TableType::Managed,
        columns,
        location.clone(),
    )?;
    table
        .parameters
        .insert(super::locations::MANAGED_LOCATION.into(), location);
    Ok(table)
}

/// Appends `input` (shaped like the table, keys dynamic) and reports rows under `tag`;
/// with `create`, the table itself is created in the same commit. `columns` are the columns
/// the statement supplies (empty = all): INSERT is checked on exactly those, as PostgreSQL
/// does for `COPY t (a, b)`, so a column-level grant suffices.
pub(super) async fn append_all(
    session: &Session,
    table: Table,
    statement: String,
    input: datafusion::prelude::DataFrame,
    (create, columns): (bool, Vec<String>),
    tag: &str,
) -> Result<Output> {
    let static_values = vec![None; table.partition_keys.len()];
    let job = WriteJob {
        table,
        mode: Mode::Append,
        static_values,
        statement,
        create,
        replaces: None,
        columns,
    };
    let rows = write::run(session, job, input).await?;
    Ok(Output::Command {
        tag: tag.into(),
        rows: Some(rows),
    })
}

/// CREATE TABLE without AS: a managed table in the warehouse.
pub(super) async fn create_managed(session: &Session, t: TableDefinition) -> Result<Output> {
    let (db, table_name) = definition_name(session, &t)?;
    if super::table::exists(session, &(db.clone(), table_name.clone()), t.if_not_exists).await? {
        return Ok(Output::command("CREATE TABLE"));
    }
    if t.columns.is_empty() {
        return Err(EngineError::InvalidParameter(format!(
            "CREATE TABLE {table_name} needs columns (or AS <query>)"
        )));
    }
    let columns = split_columns(&t)?;
    let table = managed_table(session, &t, (db, table_name), columns, None).await?;
    write::FileOptions::from_table(&table.format, &table.parameters)?;
    register(session, table, t.if_not_exists).await
}

/// CREATE TABLE … [PARTITIONED BY (k, …)] AS <query>: table and data appear in one commit.
pub(super) async fn create_as(session: &Session, t: TableDefinition) -> Result<Output> {
    let (db, table_name) = definition_name(session, &t)?;
    if session
        .engine
        .metastore()
        .get_table(&db, &table_name)
        .await?
        .is_some()
    {
        if t.if_not_exists {
            return Ok(Output::command("CREATE TABLE"));
        }
        return Err(tarn_catalog::CatalogError::TableExists {
            db,
            table: table_name,
        }
        .into());
    }
    let query = t
        .query
        .clone()
        .ok_or_else(|| EngineError::Internal("CTAS without a query".into()))?;
    let frame = plan_query(session, &query).await?;
    let (db, table_name) = (db, table_name);
    let statement = format!("CREATE TABLE {db}.{table_name} AS {}", query.sql);
    create_from_frame(session, &t, (db, table_name), frame, (statement, None)).await
}

/// Creates a managed table shaped like `frame` and fills it, in one commit (CTAS, ingest);
/// with `replacing`, that table is dropped in the same commit.
pub(super) async fn create_from_frame(
    session: &Session,
    t: &TableDefinition,
    (db, table_name): (String, String),
    frame: datafusion::prelude::DataFrame,
    (statement, replacing): (String, Option<&Table>),
) -> Result<Output> {
    let key_names: Vec<String> = t
        .partition_keys
        .iter()
        .map(|k| k.name.to_lowercase())
        .collect();
    let mut data = Vec::new();
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    for (qualifier, field) in frame.schema().iter() {
        let name = field.name().to_lowercase();
        if !seen.insert(name.clone()) {
            return Err(EngineError::InvalidParameter(format!(
                "the query returns column '{name}' twice; alias it"
            )));
        }
        let column = Column::new(&name, &hive_types::from_arrow(field.data_type())?, None)?;
        let expr = Expr::Column(DFColumn::new(qualifier.cloned(), field.name()));
        let target = (column, (expr, field.data_type().clone()));
        if key_names.contains(&name) {
            keys.push(target)
        } else {
            data.push(target)
        }
    }
    keys.sort_by_key(|(c, _)| key_names.iter().position(|k| *k == c.name));
    if keys.len() != key_names.len() {
        return Err(EngineError::InvalidParameter(format!(
            "PARTITIONED BY names columns the query does not return ({})",
            key_names.join(", ")
        )));
    }
    if data.is_empty() {
        return Err(EngineError::InvalidParameter(
            "a table needs at least one data column".into(),
        ));
    }
    let columns = (
        data.iter().map(|(c, _)| c.clone()).collect(),
        keys.iter().map(|(c, _)| c.clone()).collect(),
    );
    let table = managed_table(session, t, (db, table_name), columns, replacing).await?;
    let exprs = data
        .into_iter()
        .chain(keys)
        .map(|(c, (e, from))| {
            Ok(write::to_column_type(e, &from, c.data_type()?).alias(c.name.as_str()))
        })
        .collect::<Result<Vec<_>>>()?;
    let input = frame.select(exprs)?;
    let Some(old) = replacing else {
        return append_all(session, table, statement, input, (true, vec![]), "SELECT").await;
    };
    let job = WriteJob {
        static_values: vec![None; table.partition_keys.len()],
        table,
        mode: Mode::Append,
        statement,
        create: true,
        replaces: Some(old.version),
        columns: vec![],
    };
    // The old table's files, read before the commit drops it: deleted after (the new table may
    // share its directory, and reads only its own files).
    let old_files = session
        .engine
        .metastore()
        .referenced_files(&old.database, &old.name)
        .await?;
    let rows = write::run(session, job, input).await?;
    super::table::delete_replaced_data(session, old, &old_files).await;
    Ok(Output::Command {
        tag: "INSERT".into(),
        rows: Some(rows),
    })
}

/// COPY t FROM 'location': loads files (under the allowed roots) through the write path.
pub(super) async fn copy_from(
    session: &Session,
    name: &ObjectName,
    location: &str,
    stored_as: Option<&str>,
    header: bool,
    delimiter: Option<&str>,
) -> Result<Output> {
    let table = load_table(session, name).await?;
    session
        .require_location_role(
            tarn_catalog::acl::predefined::READ_SERVER_FILES,
            "COPY from a file",
        )
        .await?;
    let location = session.engine.inner.roots.check(location)?;
    let format = stored_as
        .map(str::to_uppercase)
        .unwrap_or_else(|| table.format.name().to_string());
    let ctx = &session.ctx;
    let frame = match format.as_str() {
        "PARQUET" => {
            ctx.read_parquet(&location, ParquetReadOptions::default())
                .await?
        }
        "CSV" => {
            let delimiter = match delimiter {
                Some(d) if d.len() == 1 => d.as_bytes()[0],
                Some(d) => {
                    return Err(EngineError::InvalidParameter(format!(
                        "delimiter '{d}' must be one byte"
                    )));
                }
                None => b',',
            };
            let options = CsvReadOptions::new()
                .has_header(header)
                .delimiter(delimiter)
                .file_extension("");
            ctx.read_csv(&location, options).await?
        }
        "JSON" => {
            ctx.read_json(&location, JsonReadOptions::default().file_extension(""))
                .await?
        }
        other => {
            return Err(EngineError::NotSupported(format!(
                "COPY … FROM … STORED AS {other}"
            )));
        }
    };
    // Columns are matched by name, so files may order them differently or carry extra ones.
    let available: Vec<String> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().to_lowercase())
        .collect();
    let mut exprs = Vec::new();
    for c in table.columns.iter().chain(&table.partition_keys) {
        let Some(pos) = available.iter().position(|a| *a == c.name) else {
            return Err(EngineError::InvalidParameter(format!(
                "the files at '{location}' have no column '{}' (they have: {})",
                c.name,
                available.join(", ")
            )));
        };
        let (qualifier, field) = frame.schema().qualified_field(pos);
        let source = Expr::Column(DFColumn::new(qualifier.cloned(), field.name()));
        exprs.push(
            write::to_column_type(source, field.data_type(), c.data_type()?).alias(c.name.as_str()),
        );
    }
    let input = frame.select(exprs)?;
    let statement = format!("COPY {} FROM '{location}'", table.qualified_name());
    append_all(session, table, statement, input, (false, vec![]), "COPY").await
}

pub(super) async fn vacuum(
    session: &Session,
    name: &ObjectName,
    retain_hours: Option<u64>,
) -> Result<Output> {
    let table = load_table(session, name).await?;
    session.require_owner(&table).await?;
    let retain = retain_hours.unwrap_or(super::vacuum::DEFAULT_RETENTION_HOURS);
    super::vacuum::check_retention(session, retain)?;
    let deleted = super::vacuum::run(session, &table, retain).await?;
    Ok(Output::Command {
        tag: "VACUUM".into(),
        rows: Some(deleted),
    })
}
