//! Prepared statements: plan once with placeholders (`$1`, `$2`, ...), report parameter and
//! result types before execution, run many times with different values.

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use datafusion::sql::unparser::Unparser;
use tarn_sql::Statement;

use super::{Session, state};
use crate::error::{EngineError, ErrorKind, Result};
use crate::output::Output;

/// What a prepared statement runs.
#[derive(Debug, Clone)]
pub enum PreparedKind {
    /// A DataFusion plan, possibly with placeholders.
    Plan(LogicalPlan),
    /// A statement tarn runs itself (DDL, SHOW, SET, ...) without parameters.
    Statement(Statement),
    /// A statement tarn runs itself, with placeholders: at execution each `$n` is replaced by
    /// its value as a SQL literal and the text is parsed again.
    Template(String),
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
        self.identity.new_statement();
        match statement {
            Statement::DataFusion { sql, line, column } => {
                let plan = self.plan_datafusion(&sql, (line, column)).await?;
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
            _ if placeholder_count(sql)? > 0 => {
                let param_types = self
                    .infer_template_types(sql, placeholder_count(sql)?)
                    .await;
                Ok(Prepared {
                    kind: PreparedKind::Template(sql.to_string()),
                    param_types,
                    schema: None,
                })
            }
            statement => {
                let schema = if is_catalog_read(&statement) {
                    match self.execute_unguarded(statement.clone()).await? {
                        Output::Stream(s) => Some(s.schema()),
                        Output::Command { .. } => None,
                    }
                } else if matches!(statement, Statement::MsckRepair { .. }) {
                    Some(crate::statements::msck::result_schema())
                } else if let Statement::Fetch {
                    name,
                    move_only: false,
                    ..
                } = &statement
                {
                    Some(self.cursor_schema(name)?)
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
                self.identity.new_statement();
                self.reauthorize(plan).await?;
                let plan = if params.is_empty() {
                    plan.clone()
                } else {
                    plan.clone().with_param_values(params)?
                };
                self.guarded(false, self.execute_plan(plan)).await
            }
            PreparedKind::Statement(statement) => self.execute(statement.clone()).await,
            PreparedKind::Template(sql) => {
                let statement = bind_template(sql, &params)?;
                self.execute(statement).await
            }
            PreparedKind::Empty => Ok(Output::command("")),
        }
    }
}

impl Session {
    /// Parameter types of a tarn statement with placeholders: DataFusion infers them for an
    /// INSERT … VALUES from the target columns; otherwise they are unknown (sent as text).
    async fn infer_template_types(&self, sql: &str, count: usize) -> Vec<Option<DataType>> {
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let inferred = async {
            let statement = state.sql_to_statement(sql, &dialect).ok()?;
            let plan = state.statement_to_plan(statement).await.ok()?;
            parameter_types(&plan).ok()
        }
        .await
        .unwrap_or_default();
        (0..count)
            .map(|i| inferred.get(i).cloned().flatten())
            .collect()
    }
}

fn tokens(sql: &str) -> Result<Vec<Token>> {
    Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| {
            EngineError::Sql(tarn_sql::SqlError::Syntax {
                message: e.message,
                line: e.location.line,
                column: e.location.column,
            })
        })
}

/// The highest `$n` in the statement.
fn placeholder_count(sql: &str) -> Result<usize> {
    Ok(tokens(sql)?
        .iter()
        .filter_map(|t| match t {
            Token::Placeholder(p) => p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        })
        .max()
        .unwrap_or(0))
}

/// The statement with each `$n` replaced by its value as a SQL literal.
fn bind_template(sql: &str, params: &[ScalarValue]) -> Result<Statement> {
    let unparser = Unparser::default();
    let mut text = String::with_capacity(sql.len());
    for token in tokens(sql)? {
        let index = match &token {
            Token::Placeholder(p) => p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        };
        match index.and_then(|i| params.get(i.wrapping_sub(1))) {
            Some(value) => {
                let literal = unparser.expr_to_sql(&Expr::Literal(value.clone(), None))?;
                text.push_str(&literal.to_string());
            }
            None => text.push_str(&token.to_string()),
        }
    }
    let mut statements = tarn_sql::parse_statements(&text)?;
    match (statements.pop(), statements.is_empty()) {
        (Some(statement), true) => Ok(statement),
        _ => Err(EngineError::Internal(
            "a bound statement must stay one statement".into(),
        )),
    }
}

/// Types of placeholders DataFusion left untyped but the statement casts (`$1::int`), as
/// PostgreSQL infers them.
fn cast_placeholder_types(plan: &LogicalPlan) -> Vec<(String, DataType)> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::Expr;
    let mut found = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::Cast(cast) = e
                    && let Expr::Placeholder(p) = cast.expr.as_ref()
                    && p.field.is_none()
                {
                    found.push((p.id.clone(), cast.field.data_type().clone()));
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    found
}

/// `$1..$n` in order; a gap (`$1`, `$3`) leaves `$2` untyped.
fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>> {
    let mut types = plan.get_parameter_types()?;
    if types.values().any(Option::is_none) {
        for (name, cast) in cast_placeholder_types(plan) {
            if let Some(slot @ None) = types.get_mut(&name) {
                *slot = Some(cast);
            }
        }
    }
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
