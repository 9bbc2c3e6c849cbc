//! COPY over a client connection: `TO STDOUT` is a query whose rows the front end frames;
//! `FROM STDIN` loads a CSV file the front end spooled from the client, through the same atomic
//! append as INSERT.

use std::path::Path;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{Column as DFColumn, TableReference};
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::{Expr, lit};
use datafusion::prelude::CsvReadOptions;
use tarn_sql::{CopySource, ObjectName};

use super::{load_table, writes};
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::provider::CATALOG_NAME;
use crate::session::Session;
use crate::write;

/// How the spooled CSV file is laid out.
#[derive(Debug, Clone)]
pub struct CsvSpec {
    pub header: bool,
    pub delimiter: u8,
    pub quote: u8,
    /// Values equal to this are NULL. (Applied after reading: DataFusion 55's CSV scan ignores
    /// `null_regex`, and arrow's reader treats empty values as NULL anyway.)
    pub null: String,
}

/// The rows of `COPY … TO STDOUT`.
pub(crate) async fn copy_out(session: &Session, source: CopySource) -> Result<Output> {
    match source {
        CopySource::Table { name, columns } => {
            let table = load_table(session, &name).await?;
            let reference =
                TableReference::full(CATALOG_NAME, table.database.clone(), table.name.clone());
            let mut frame = session.ctx.table(reference).await?;
            if !columns.is_empty() {
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                frame = frame.select_columns(&names)?;
            }
            session.execute_plan(frame.into_unoptimized_plan()).await
        }
        CopySource::Query(query) => {
            let plan = session
                .plan_datafusion(&query.sql, (query.line, query.column))
                .await?;
            if crate::session::command_tag(&plan).is_some() {
                return Err(EngineError::InvalidParameter(
                    "COPY (…) TO STDOUT needs a query".into(),
                ));
            }
            session.execute_plan(plan).await
        }
    }
}

/// See [`Session::check_copy_in`].
pub(crate) async fn check_copy_in(
    session: &Session,
    name: &ObjectName,
    columns: &[String],
) -> Result<()> {
    let table = load_table(session, name).await?;
    let mut named: Vec<String> = columns.iter().map(|c| c.to_lowercase()).collect();
    if !named.is_empty() {
        named.extend(table.partition_keys.iter().map(|k| k.name.clone()));
    }
    session
        .require_columns(&table, tarn_catalog::Privilege::Insert, &named)
        .await
}

/// Appends the rows of a CSV file to a table: `columns` in file order (empty = all columns,
/// partition keys last); other columns are NULL.
pub(crate) async fn copy_in(
    session: &Session,
    name: &ObjectName,
    columns: &[String],
    file: &Path,
    spec: &CsvSpec,
) -> Result<Output> {
    session.check_writable("COPY FROM")?;
    let table = load_table(session, name).await?;
    let all: Vec<&tarn_catalog::Column> =
        table.columns.iter().chain(&table.partition_keys).collect();
    let listed: Vec<String> = if columns.is_empty() {
        all.iter().map(|c| c.name.clone()).collect()
    } else {
        columns.iter().map(|c| c.to_lowercase()).collect()
    };
    for c in &listed {
        if !all.iter().any(|t| &t.name == c) {
            return Err(EngineError::DataFusion(
                datafusion::error::DataFusionError::SchemaError(
                    Box::new(datafusion::common::SchemaError::FieldNotFound {
                        field: Box::new(DFColumn::new_unqualified(c)),
                        valid_fields: vec![],
                    }),
                    Box::new(None),
                ),
            ));
        }
    }
    // Read every field as text, then cast: parse errors name the column and value.
    let schema = Schema::new(
        listed
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let options = CsvReadOptions::new()
        .schema(&schema)
        .has_header(spec.header)
        .delimiter(spec.delimiter)
        .quote(spec.quote)
        .file_extension("");
    let path = file.display().to_string();
    let frame = session.ctx.read_csv(&path, options).await?;
    let mut exprs = Vec::new();
    for c in &all {
        let target = c.data_type()?;
        let expr = if listed.contains(&c.name) {
            let column = Expr::Column(DFColumn::new_unqualified(c.name.as_str()));
            let source = nullif(column, lit(spec.null.as_str()));
            write::to_column_type(source, &DataType::Utf8, target)
        } else {
            datafusion::logical_expr::cast(lit(datafusion::common::ScalarValue::Null), target)
        };
        exprs.push(expr.alias(c.name.as_str()));
    }
    let input = frame.select(exprs)?;
    let statement = format!("COPY {} FROM STDIN", table.qualified_name());
    let named = if columns.is_empty() { vec![] } else { listed };
    writes::append_all(session, table, statement, input, (false, named), "COPY").await
}
