//! Prepared statements: plan once with placeholders (`$1`, `$2`, ...), report parameter and
//! result types before execution, run many times with different values.

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::LogicalPlan;
use tarn_sql::Statement;

use super::{Session, state};
use crate::error::{EngineError, ErrorKind, Result};
use crate::output::Output;

/// What a prepared statement runs.
#[derive(Debug, Clone)]
pub enum PreparedKind {
    /// A DataFusion plan, possibly with placeholders.
    Plan(LogicalPlan),
    /// A statement tarn runs itself (DDL, SHOW, SET, ...); it takes no parameters.
    Statement(Statement),
    /// An empty query string.
    Empty,
}

/// A statement prepared for execution.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub kind: PreparedKind,
    /// The type of each parameter `$1..$n`; `None` where the statement does not determine it.
    pub param_types: Vec<Option<DataType>>,
    /// The result columns, when the statement returns rows.
    pub schema: Option<SchemaRef>,
}

/// Statements tarn runs itself that return rows and read nothing but the catalog, so running
/// them to learn their columns is harmless.
fn is_catalog_read(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::ShowDatabases { .. }
            | Statement::ShowTables { .. }
            | Statement::ShowPartitions { .. }
            | Statement::ShowCreateTable { .. }
            | Statement::ShowColumns { .. }
            | Statement::Describe { .. }
            | Statement::ShowVariable { .. }
    )
}

impl Session {
    /// Prepares `sql`, which must hold at most one statement.
    pub async fn prepare(&self, sql: &str) -> Result<Prepared> {
        let mut statements = self.parse(sql)?;
        if statements.len() > 1 {
            return Err(EngineError::Session {
                kind: ErrorKind::Syntax,
                message: "cannot insert multiple commands into a prepared statement".into(),
            });
        }
        let Some(statement) = statements.pop() else {
            return Ok(Prepared {
                kind: PreparedKind::Empty,
                param_types: vec![],
                schema: None,
            });
        };
        if self.transaction_state() == super::TransactionState::Failed
            && !state::allowed_when_failed(&statement)
        {
            return Err(state::in_failed_transaction());
        }
        match statement {
            Statement::DataFusion { sql, line, column } => {
                let padding = "\n".repeat(line.saturating_sub(1) as usize)
                    + &" ".repeat(column.saturating_sub(1) as usize);
                let plan = self.plan_datafusion(&format!("{padding}{sql}")).await?;
                let param_types = parameter_types(&plan)?;
                let schema = super::command_tag(&plan)
                    .is_none()
                    .then(|| SchemaRef::new(plan.schema().as_arrow().clone()));
                Ok(Prepared {
                    kind: PreparedKind::Plan(plan),
                    param_types,
                    schema,
                })
            }
            statement => {
                let schema = if is_catalog_read(&statement) {
                    match self.execute_unguarded(statement.clone()).await? {
                        Output::Stream(s) => Some(s.schema()),
                        Output::Command { .. } => None,
                    }
                } else {
                    None
                };
                Ok(Prepared {
                    kind: PreparedKind::Statement(statement),
                    param_types: vec![],
                    schema,
                })
            }
        }
    }

    /// Runs a prepared statement with one value per parameter (already of the parameter's type
    /// where the statement determines it).
    pub async fn execute_prepared(
        &self,
        prepared: &Prepared,
        params: Vec<ScalarValue>,
    ) -> Result<Output> {
        if params.len() != prepared.param_types.len() {
            return Err(EngineError::Session {
                kind: ErrorKind::ProtocolViolation,
                message: format!(
                    "bind message supplies {} parameters, but prepared statement requires {}",
                    params.len(),
                    prepared.param_types.len()
                ),
            });
        }
        match &prepared.kind {
            PreparedKind::Plan(plan) => {
                let plan = if params.is_empty() {
                    plan.clone()
                } else {
                    plan.clone().with_param_values(params)?
                };
                self.guarded(false, self.execute_plan(plan)).await
            }
            PreparedKind::Statement(statement) => self.execute(statement.clone()).await,
            PreparedKind::Empty => Ok(Output::command("")),
        }
    }
}

/// `$1..$n` in order; a gap (`$1`, `$3`) leaves `$2` untyped.
fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>> {
    let types = plan.get_parameter_types()?;
    let mut out = Vec::new();
    for (name, ty) in types {
        let index: usize = name
            .strip_prefix('$')
            .and_then(|n| n.parse().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                EngineError::InvalidParameter(format!(
                    "named placeholder {name}: use positional parameters $1, $2, ..."
                ))
            })?;
        if out.len() < index {
            out.resize(index, None);
        }
        out[index - 1] = ty;
    }
    Ok(out)
}
