//! A session: one client's current database, DataFusion settings and statement execution.

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{DdlStatement, DmlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{CopyToStatement, Statement as DFStatement};
use tarn_sql::Statement;

use crate::ddl;
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::output::{Output, ProgressFn};
use crate::provider::{CATALOG_NAME, TarnCatalogList};

/// One client's session. Statements run one at a time, in order.
pub struct Session {
    pub(crate) engine: Engine,
    pub(crate) ctx: SessionContext,
    user: String,
    pub(crate) progress: Option<ProgressFn>,
    /// tarn's own settings (`SET tarn.batch_id = …`).
    settings: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("user", &self.user).finish()
    }
}

fn session_config(engine: &Engine) -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_default_catalog_and_schema(CATALOG_NAME, tarn_catalog::DEFAULT_DATABASE)
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(true)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true)
        .set_bool("datafusion.execution.parquet.enable_page_index", true);
    if let Some(n) = engine.inner.config.target_partitions {
        config = config.with_target_partitions(n);
    }
    config
}

impl Session {
    pub(crate) fn new(engine: Engine, user: &str) -> Self {
        let state = SessionStateBuilder::new()
            .with_config(session_config(&engine))
            .with_runtime_env(engine.inner.runtime.clone())
            .with_default_features()
            .with_catalog_list(Arc::new(TarnCatalogList::new(engine.inner.clone())))
            .build();
        Self {
            engine,
            ctx: SessionContext::new_with_state(state),
            user: user.to_string(),
            progress: None,
            settings: Default::default(),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The database unqualified table names resolve in.
    pub fn current_database(&self) -> String {
        self.ctx
            .state()
            .config()
            .options()
            .catalog
            .default_schema
            .clone()
    }

    pub(crate) fn set_current_database(&self, name: &str) {
        let state = self.ctx.state_ref();
        let mut state = state.write();
        state.config_mut().options_mut().catalog.default_schema = name.to_string();
    }

    /// Sets (or with `None` resets) one of tarn's settings.
    pub(crate) fn set_setting(&self, name: &str, value: Option<String>) -> Result<()> {
        const KNOWN: &[&str] = &["tarn.batch_id"];
        if !KNOWN.contains(&name) {
            return Err(EngineError::InvalidParameter(format!(
                "unknown setting '{name}' (tarn settings: {})",
                KNOWN.join(", ")
            )));
        }
        let mut settings = self
            .settings
            .lock()
            .map_err(|_| EngineError::Internal("settings lock".into()))?;
        match value {
            Some(v) => settings.insert(name.to_string(), v),
            None => settings.remove(name),
        };
        Ok(())
    }

    /// The batch id for a write: `SET tarn.batch_id`, or the write's own id.
    pub(crate) fn batch_id(&self, write_id: &str) -> String {
        let settings = self.settings.lock().ok();
        settings
            .and_then(|s| s.get("tarn.batch_id").cloned())
            .unwrap_or_else(|| write_id.to_string())
    }

    /// Receives progress of long catalog operations (MSCK REPAIR).
    pub fn set_progress(&mut self, progress: Option<ProgressFn>) {
        self.progress = progress;
    }

    /// The DataFusion context (for advanced embedding: registering UDFs, reading settings).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Splits and classifies `sql`.
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>> {
        Ok(tarn_sql::parse_statements(sql)?)
    }

    /// Runs one statement. Queries return a stream that is produced as it is pulled.
    pub async fn execute(&self, statement: Statement) -> Result<Output> {
        match statement {
            Statement::DataFusion { sql, line, column } => {
                // Pad so DataFusion's error positions are relative to the submitted text.
                let padding = "\n".repeat(line.saturating_sub(1) as usize)
                    + &" ".repeat(column.saturating_sub(1) as usize);
                self.run_datafusion(&format!("{padding}{sql}")).await
            }
            other => ddl::execute(self, other).await,
        }
    }

    /// Runs every statement of `sql` in order, draining each result before the next statement
    /// starts, and returns the outputs with results collected. For scripts and tests; servers use
    /// [`Session::parse`] + [`Session::execute`] and stream.
    pub async fn run_script(
        &self,
        sql: &str,
    ) -> Result<
        Vec<(
            Option<datafusion::arrow::datatypes::SchemaRef>,
            Vec<datafusion::arrow::array::RecordBatch>,
            Output,
        )>,
    > {
        let mut results = Vec::new();
        for statement in self.parse(sql)? {
            match self.execute(statement).await? {
                Output::Stream(stream) => {
                    let schema = stream.schema();
                    let batches = datafusion::physical_plan::common::collect(stream).await?;
                    results.push((Some(schema), batches, Output::command("SELECT")));
                }
                command => results.push((None, vec![], command)),
            }
        }
        Ok(results)
    }

    async fn run_datafusion(&self, sql: &str) -> Result<Output> {
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(sql, &dialect)?;
        self.check_paths(&statement)?;
        let plan = state.statement_to_plan(statement).await?;
        reject_unsupported(&plan)?;
        let tag = command_tag(&plan);
        let frame = self.ctx.execute_logical_plan(plan).await?;
        match tag {
            Some(tag) => {
                let rows = count_rows(frame.collect().await?);
                Ok(Output::Command {
                    tag: tag.to_string(),
                    rows,
                })
            }
            None => Ok(Output::Stream(frame.execute_stream().await?)),
        }
    }

    /// DataFusion statements that write files (COPY … TO) obey the allowed roots too.
    fn check_paths(&self, statement: &DFStatement) -> Result<()> {
        match statement {
            DFStatement::CopyTo(CopyToStatement { target, .. }) => {
                self.engine.inner.roots.check(target).map(|_| ())
            }
            DFStatement::Explain(explain) => self.check_paths(&explain.statement),
            DFStatement::CreateExternalTable(_) => Err(EngineError::Internal(
                "CREATE EXTERNAL TABLE must be handled by tarn".into(),
            )),
            DFStatement::Statement(_) | DFStatement::Reset(_) => Ok(()),
        }
    }
}

fn reject_unsupported(plan: &LogicalPlan) -> Result<()> {
    match plan {
        LogicalPlan::Ddl(ddl) => Err(EngineError::NotSupported(format!(
            "{} (tables are created with Hive DDL: CREATE EXTERNAL TABLE; managed tables, CTAS and views arrive with the writes work)",
            ddl_name(ddl)
        ))),
        LogicalPlan::Dml(DmlStatement {
            op: WriteOp::Ctas, ..
        })
        | LogicalPlan::Dml(DmlStatement {
            op: WriteOp::Insert(_),
            ..
        })
        | LogicalPlan::Dml(DmlStatement {
            op: WriteOp::Update,
            ..
        })
        | LogicalPlan::Dml(DmlStatement {
            op: WriteOp::Delete,
            ..
        })
        | LogicalPlan::Dml(DmlStatement {
            op: WriteOp::Truncate,
            ..
        }) => Err(EngineError::NotSupported(
            "writing to tables (INSERT, UPDATE, DELETE) is not available yet".into(),
        )),
        _ => Ok(()),
    }
}

fn ddl_name(ddl: &DdlStatement) -> &str {
    ddl.name()
}

/// Plans that complete as a command rather than returning rows.
fn command_tag(plan: &LogicalPlan) -> Option<&'static str> {
    match plan {
        LogicalPlan::Statement(datafusion::logical_expr::Statement::SetVariable(_)) => Some("SET"),
        LogicalPlan::Statement(datafusion::logical_expr::Statement::ResetVariable(_)) => {
            Some("RESET")
        }
        LogicalPlan::Copy(_) => Some("COPY"),
        _ => None,
    }
}

/// The row count a COPY reports (its single `count` column), if any.
fn count_rows(batches: Vec<datafusion::arrow::array::RecordBatch>) -> Option<u64> {
    use datafusion::arrow::array::{Array, UInt64Array};
    let batch = batches.first()?;
    let col = batch
        .columns()
        .first()?
        .as_any()
        .downcast_ref::<UInt64Array>()?;
    (!col.is_empty()).then(|| col.value(0))
}
