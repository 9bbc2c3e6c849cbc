//! Turning the source query of a write into rows shaped like the table: data columns then
//! partition keys, each cast to its declared type, static partition values filled in.

use datafusion::common::{Column, DataFusionError, ScalarValue};
use datafusion::logical_expr::{Expr, LogicalPlan, lit};
use datafusion::prelude::DataFrame;
use tarn_catalog::Table;
use tarn_sql::QueryText;

use crate::error::{EngineError, Result};
use crate::session::Session;

/// How the query's columns map onto the table.
pub(crate) struct InputSpec<'a> {
    pub table: &'a Table,
    /// INSERT's column list (empty: by position, as Hive does).
    pub columns: &'a [String],
    /// Per partition key: `Some(value)` when static.
    pub statics: &'a [Option<Option<String>>],
}

fn plan_error(msg: String) -> EngineError {
    EngineError::DataFusion(DataFusionError::Plan(msg))
}

/// Plans `query` (a SELECT / VALUES / WITH) without running it.
pub(crate) async fn plan_query(session: &Session, query: &QueryText) -> Result<DataFrame> {
    let state = session.ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state
        .sql_to_statement(&query.sql, &dialect)
        .map_err(|e| crate::error::shift_position(e, (query.line, query.column)))?;
    let plan = state.statement_to_plan(statement).await?;
    if matches!(
        plan,
        LogicalPlan::Ddl(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Statement(_)
    ) {
        return Err(plan_error("the source of a write must be a query".into()));
    }
    // The analyzer's type coercion gives the columns their real types: before it, a CASE is
    // typed by its first branch (`CASE … THEN 0 ELSE amount END` would be an integer), and a
    // table created from the query would truncate what the query computes.
    let plan = state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?;
    Ok(DataFrame::new(state, plan))
}

/// The query's rows as the table's columns (data then keys).
pub(crate) async fn plan_input(
    session: &Session,
    spec: InputSpec<'_>,
    query: &QueryText,
) -> Result<DataFrame> {
    let frame = plan_query(session, query).await?;
    let source: Vec<(Expr, datafusion::arrow::datatypes::DataType)> = frame
        .schema()
        .iter()
        .map(|(q, f)| {
            (
                Expr::Column(Column::new(q.cloned(), f.name())),
                f.data_type().clone(),
            )
        })
        .collect();
    let targets = target_columns(spec.table, spec.statics);
    let sources = assign(&spec, &targets, source)?;
    let mut exprs = Vec::with_capacity(targets.len());
    for ((name, hive_type, is_static), source) in targets.iter().zip(sources) {
        let data_type = tarn_catalog::hive_types::to_arrow(hive_type)?;
        let expr = match (is_static, source) {
            (Some(value), _) => lit(static_value(name, value.as_deref(), &data_type)?),
            (None, Some((e, from))) => super::to_column_type(e, &from, data_type),
            (None, None) => lit(ScalarValue::try_from(&data_type)?),
        };
        exprs.push(expr.alias(name.as_str()));
    }
    Ok(frame.select(exprs)?)
}

type Target = (String, String, Option<Option<String>>);

/// (name, Hive type, static value) for data columns then partition keys.
fn target_columns(table: &Table, statics: &[Option<Option<String>>]) -> Vec<Target> {
    let data = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.hive_type.clone(), None));
    let keys = table.partition_keys.iter().enumerate().map(|(i, k)| {
        (
            k.name.clone(),
            k.hive_type.clone(),
            statics.get(i).cloned().flatten(),
        )
    });
    data.chain(keys).collect()
}

/// Which source expression feeds each target (None: NULL, or a static key).
type Source = (Expr, datafusion::arrow::datatypes::DataType);

fn assign(
    spec: &InputSpec,
    targets: &[Target],
    source: Vec<Source>,
) -> Result<Vec<Option<Source>>> {
    let fillable: Vec<usize> = (0..targets.len())
        .filter(|i| targets[*i].2.is_none())
        .collect();
    if spec.columns.is_empty() {
        if source.len() != fillable.len() {
            return Err(plan_error(format!(
                "table '{}' expects {} columns from the query ({}), got {}",
                spec.table.qualified_name(),
                fillable.len(),
                fillable
                    .iter()
                    .map(|i| targets[*i].0.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                source.len()
            )));
        }
        let mut out: Vec<Option<Source>> = vec![None; targets.len()];
        for (slot, expr) in fillable.into_iter().zip(source) {
            out[slot] = Some(expr);
        }
        return Ok(out);
    }
    if source.len() != spec.columns.len() {
        return Err(plan_error(format!(
            "INSERT names {} columns but the query returns {}",
            spec.columns.len(),
            source.len()
        )));
    }
    let mut out: Vec<Option<Source>> = vec![None; targets.len()];
    for (name, expr) in spec.columns.iter().zip(source) {
        let slot = fillable
            .iter()
            .copied()
            .find(|i| targets[*i].0.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                plan_error(format!(
                    "column '{name}' is not a writable column of '{}'",
                    spec.table.qualified_name()
                ))
            })?;
        if out[slot].is_some() {
            return Err(plan_error(format!("column '{name}' is named twice")));
        }
        out[slot] = Some(expr);
    }
    let n_data = spec.table.columns.len();
    if let Some(missing) = fillable
        .iter()
        .find(|i| **i >= n_data && out[**i].is_none())
    {
        return Err(plan_error(format!(
            "dynamic partition column '{}' needs a value",
            targets[*missing].0
        )));
    }
    Ok(out)
}

fn static_value(
    name: &str,
    value: Option<&str>,
    data_type: &datafusion::arrow::datatypes::DataType,
) -> Result<ScalarValue> {
    match value {
        None => Ok(ScalarValue::try_from(data_type)?),
        Some(v) => ScalarValue::try_from_string(v.to_string(), data_type).map_err(|_| {
            EngineError::InvalidParameter(format!(
                "partition value '{v}' is not a valid {data_type} for '{name}'"
            ))
        }),
    }
}
