//! A session: one client's current database, DataFusion settings and statement execution.

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{DdlStatement, DmlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{CopyToStatement, Statement as DFStatement};
use tarn_sql::Statement;

mod authorize;
mod cursors;
mod fork;
mod plan_cache;
mod planning;
mod prepared;
mod state;

pub use fork::SessionSnapshot;
pub use prepared::{Prepared, PreparedKind};
pub use state::TransactionState;

use crate::cancel::CancelHandle;
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::output::{Output, ProgressFn};
use crate::provider::{CATALOG_NAME, TarnCatalogList};
use crate::settings::Settings;
use crate::statements;

/// One client's session. Statements run one at a time, in order.
pub struct Session {
    pub(crate) engine: Engine,
    pub(crate) ctx: SessionContext,
    /// Who the session acts as; shared with its DataFusion catalog provider.
    pub(crate) identity: Arc<crate::authz::Identity>,
    /// Superuser when the session started (the front ends' `is_superuser` report); checks use
    /// the catalog's current answer.
    superuser: bool,
    pub(crate) progress: Option<ProgressFn>,
    /// SET / SHOW settings (PostgreSQL's and tarn's own `tarn.*`).
    settings: Arc<std::sync::Mutex<Settings>>,
    /// What the Postgres functions read (user, settings, a per-statement catalog snapshot).
    facts: Arc<crate::pgcompat::functions::SessionFacts>,
    pub(crate) transaction: std::sync::Mutex<state::Transaction>,
    cancel: CancelHandle,
    /// Open SQL cursors (DECLARE … CURSOR).
    cursors: std::sync::Mutex<cursors::Cursors>,
    /// The DataFusion state kept between statements (see `planning`).
    planning: planning::PlanningCache,
    /// Plans of repeated constant statements (see `plan_cache`).
    plans: plan_cache::PlanCache,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.identity.session_user())
            .finish()
    }
}

fn session_config(engine: &Engine) -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_default_catalog_and_schema(CATALOG_NAME, tarn_catalog::DEFAULT_DATABASE)
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(true)
        // Row-level filter pushdown into the Parquet decoder stays off (DataFusion's default): on
        // TPC-H it costs ~25% (Q6: 100 vs 80 ms in datafusion-python); statistics and page-index
        // pruning still skip row groups and pages.
        .set_bool("datafusion.execution.parquet.enable_page_index", true)
        // Planning a scan waits on the store (listing, footers): plan a join's tables at once.
        .set_usize("datafusion.execution.planning_concurrency", 16)
        .set_str("datafusion.execution.time_zone", "UTC");
    if let Some(n) = engine.inner.config.target_partitions {
        config = config.with_target_partitions(n);
    }
    crate::memory::fit_to_pool(config, engine.inner.config.memory_limit)
}

impl Session {
    /// A session of `user`; `trusted` sessions (the local CLI, an embedding program) are
    /// superusers without a catalog role.
    pub(crate) fn new(engine: Engine, user: &str, trusted: bool, superuser: bool) -> Self {
        let identity = crate::authz::Identity::new(user, trusted);
        let state = SessionStateBuilder::new()
            .with_config(session_config(&engine))
            .with_runtime_env(engine.inner.runtime.clone())
            .with_default_features()
            .build();
        Self::with_state(engine, identity, superuser, state)
    }

    /// A session over an existing DataFusion state (a fork clones its parent's: the function
    /// registries are shared, not built again). The catalog list is the identity's own.
    pub(crate) fn with_state(
        engine: Engine,
        identity: Arc<crate::authz::Identity>,
        superuser: bool,
        state: datafusion::execution::SessionState,
    ) -> Self {
        let catalogs = TarnCatalogList::new(engine.inner.clone(), identity.clone());
        let state = SessionStateBuilder::new_from_existing(state)
            .with_catalog_list(Arc::new(catalogs))
            .build();
        let ctx = SessionContext::new_with_state(state);
        let settings: Arc<std::sync::Mutex<Settings>> = Default::default();
        let facts = Arc::new(crate::pgcompat::functions::SessionFacts {
            identity: identity.clone(),
            superuser,
            backend_pid: Default::default(),
            activity: engine.inner.activity.clone(),
            settings: settings.clone(),
            catalog: Default::default(),
            acl: Default::default(),
        });
        crate::pgcompat::functions::register(&ctx, facts.clone());
        Self {
            engine,
            ctx,
            identity,
            superuser,
            progress: None,
            settings,
            facts,
            transaction: Default::default(),
            cancel: CancelHandle::default(),
            cursors: Default::default(),
            planning: Default::default(),
            plans: Default::default(),
        }
    }

    /// The user that logged in (`session_user`).
    pub fn user(&self) -> &str {
        self.identity.session_user()
    }

    /// The role privileges are checked for (`current_user`: the session user unless SET ROLE).
    pub fn current_role(&self) -> String {
        self.identity.current_role()
    }

    /// Whether the session started as a superuser.
    pub fn is_superuser(&self) -> bool {
        self.superuser
    }

    /// The privileges the running statement has (read from the catalog once per statement).
    pub(crate) async fn access(&self) -> Result<Arc<crate::authz::Access>> {
        self.identity.access(self.engine.metastore().as_ref()).await
    }

    /// Cancels the running statement from elsewhere (another connection, a signal handler).
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// A snapshot of the session's settings.
    pub fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub(crate) fn with_settings<T>(&self, f: impl FnOnce(&mut Settings) -> Result<T>) -> Result<T> {
        let mut settings = self
            .settings
            .lock()
            .map_err(|_| EngineError::Internal("settings lock poisoned".into()))?;
        f(&mut settings)
    }

    /// The transaction block state (for ReadyForQuery).
    pub fn transaction_state(&self) -> TransactionState {
        self.transaction
            .lock()
            .map(|t| t.state)
            .unwrap_or(TransactionState::Failed)
    }

    /// Records that a statement failed; inside a transaction block the block is now aborted.
    /// Front ends call this for errors that surface while a result stream is drained.
    pub fn statement_failed(&self) {
        if let Ok(mut tx) = self.transaction.lock()
            && tx.state == TransactionState::InBlock
        {
            tx.state = TransactionState::Failed;
        }
    }

    /// The database unqualified table names resolve in.
    pub fn current_database(&self) -> String {
        self.ctx
            .state_ref()
            .read()
            .config()
            .options()
            .catalog
            .default_schema
            .clone()
    }

    /// `TIMESTAMP WITH TIME ZONE` and now() follow the session's TimeZone setting.
    pub(crate) fn sync_time_zone(&self) {
        let tz = self
            .settings()
            .get("TimeZone")
            .unwrap_or_else(|_| "UTC".into());
        let state = self.ctx.state_ref();
        state.write().config_mut().options_mut().execution.time_zone = Some(tz);
        self.replan();
    }

    pub(crate) fn set_current_database(&self, name: &str) {
        let state = self.ctx.state_ref();
        state
            .write()
            .config_mut()
            .options_mut()
            .catalog
            .default_schema = name.to_string();
        self.replan();
    }

    /// The batch id for a write: `SET tarn.batch_id`, or the write's own id.
    pub(crate) fn batch_id(&self, write_id: &str) -> String {
        self.explicit_batch_id()
            .unwrap_or_else(|| write_id.to_string())
    }

    /// The batch id the client set (`SET tarn.batch_id`): an idempotency key, so a re-run of
    /// the batch replaces its earlier rows instead of adding to them.
    pub(crate) fn explicit_batch_id(&self) -> Option<String> {
        self.settings()
            .get("tarn.batch_id")
            .ok()
            .filter(|id| !id.is_empty())
    }

    /// Receives progress of long catalog operations (MSCK REPAIR).
    pub fn set_progress(&mut self, progress: Option<ProgressFn>) {
        self.progress = progress;
    }

    /// The DataFusion context (for advanced embedding: registering UDFs, reading settings).
    /// The session plans with a copy of its state kept between statements; handing the context
    /// out forgets that copy, so changes made through it apply to the next statement.
    pub fn context(&self) -> &SessionContext {
        self.replan();
        &self.ctx
    }

    /// Splits and classifies `sql`.
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>> {
        Ok(tarn_sql::parse_statements(sql)?)
    }

    /// Runs one statement. Queries return a stream that is produced as it is pulled; the
    /// statement (planning and the stream) stops on cancel or statement_timeout.
    pub async fn execute(&self, statement: Statement) -> Result<Output> {
        let allowed = state::allowed_when_failed(&statement);
        self.guarded(allowed, self.execute_unguarded(statement))
            .await
    }

    /// Runs a statement's work under the transaction-block rules, cancel and statement_timeout.
    pub(crate) async fn guarded(
        &self,
        allowed_when_failed: bool,
        work: impl std::future::Future<Output = Result<Output>>,
    ) -> Result<Output> {
        if self.transaction_state() == TransactionState::Failed && !allowed_when_failed {
            return Err(state::in_failed_transaction());
        }
        self.identity.new_statement();
        let mut guard = self
            .cancel
            .next_statement(self.settings().statement_timeout());
        let result = guard.run(work).await;
        match result {
            Ok(Output::Stream(stream)) => Ok(Output::Stream(guard.guard_stream(stream))),
            Ok(command) => Ok(command),
            Err(e) => {
                self.statement_failed();
                Err(e)
            }
        }
    }

    /// Whether `COPY name (columns) FROM STDIN` may start: the table exists and the role may
    /// INSERT into those columns. Checked before the client sends any data, so a role without
    /// the privilege cannot make the server spool an upload (the load checks again).
    pub async fn check_copy_in(
        &self,
        name: &tarn_sql::ObjectName,
        columns: &[String],
    ) -> Result<()> {
        statements::copy_stdio::check_copy_in(self, name, columns).await
    }

    /// Loads a CSV file spooled from a client's `COPY … FROM STDIN` into a table, atomically.
    pub async fn copy_in(
        &self,
        name: &tarn_sql::ObjectName,
        columns: &[String],
        file: &std::path::Path,
        spec: &crate::CsvSpec,
    ) -> Result<Output> {
        self.guarded(
            false,
            statements::copy_stdio::copy_in(self, name, columns, file, spec),
        )
        .await
    }

    /// Writes a stream of record batches into a table (bulk ingest), atomically.
    pub async fn ingest(
        &self,
        name: &tarn_sql::ObjectName,
        mode: crate::IngestMode,
        input: datafusion::physical_plan::SendableRecordBatchStream,
    ) -> Result<Output> {
        self.guarded(false, statements::ingest::ingest(self, name, mode, input))
            .await
    }

    async fn execute_unguarded(&self, statement: Statement) -> Result<Output> {
        match statement {
            Statement::DataFusion { sql, line, column } => {
                if let Some((name, value)) = crate::pgcompat::rewrite::bare_set_config(&sql) {
                    // pg_dump scripts start with `SELECT pg_catalog.set_config('search_path', …)`:
                    // run as SET, which also moves the current database.
                    state::set_variable(self, &name, Some(value)).await?;
                    let now = self.settings().get(&name)?;
                    return crate::statements::string_rows(&["set_config"], vec![vec![Some(now)]]);
                }
                let plan = self.plan_datafusion(&sql, (line, column)).await?;
                self.execute_plan(plan).await
            }
            Statement::Transaction(t) => state::transaction(self, t),
            Statement::SetVariable { name, value } => state::set_variable(self, &name, value).await,
            Statement::SetTarn { name, value } => state::set_variable(self, &name, value).await,
            Statement::ResetAll => state::reset_all(self),
            Statement::ShowVariable { name } => state::show_variable(self, name.as_deref()),
            Statement::DeclareCursor {
                name, hold, query, ..
            } => self.declare_cursor(name, hold, query).await,
            Statement::Fetch {
                name,
                count,
                move_only,
            } => self.fetch(&name, count, move_only).await,
            Statement::CloseCursor { name } => self.close_cursor(name.as_deref()),
            Statement::Discard { all } => self.discard(all),
            other => statements::execute(self, other).await,
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

    /// Plans a DataFusion statement, refusing what tarn handles itself or forbids. `origin` is
    /// where `sql` starts in the submitted text (1-based line, column), so syntax error
    /// positions point into the original text.
    pub(crate) async fn plan_datafusion(
        &self,
        sql: &str,
        origin: (u64, u64),
    ) -> Result<LogicalPlan> {
        if let Some(plan) = self.plans.logical(sql) {
            return Ok(plan);
        }
        let planning = self.planning();
        let planned = self.plan_with(&planning.state, sql, origin).await;
        self.keep_planning(planning);
        let plan = planned?;
        reject_unsupported(&plan)?;
        self.plans.keep_logical(sql, &plan);
        Ok(plan)
    }

    async fn plan_with(
        &self,
        state: &datafusion::execution::SessionState,
        sql: &str,
        origin: (u64, u64),
    ) -> Result<LogicalPlan> {
        let dialect = state.config().options().sql_parser.dialect;
        let mut statement = state
            .sql_to_statement(sql, &dialect)
            .map_err(|e| crate::error::shift_position(e, origin))?;
        crate::pgcompat::rewrite::rewrite(&mut statement);
        self.check_paths(&statement).await?;
        crate::pgcompat::functions::prepare_catalog(
            &self.facts,
            self.engine.metastore().as_ref(),
            sql,
        )
        .await?;
        if sql.to_ascii_lowercase().contains("information_schema") {
            self.identity
                .load_names(self.engine.metastore().as_ref())
                .await?;
        }
        let empty = crate::pgcompat::rewrite::empty_result(&statement);
        let plan = match (state.statement_to_plan(statement).await, empty) {
            // It has no rows: answered without executing what is below the filter (its
            // correlated subqueries over the empty catalogs may not have physical plans). The
            // optimizer replaces `WHERE false` and its input by an empty relation; parameters
            // stay declared.
            (Ok(plan), Some(_)) => datafusion::logical_expr::LogicalPlanBuilder::from(plan)
                .filter(datafusion::logical_expr::lit(false))?
                .build()?,
            (Ok(plan), None) => plan,
            (Err(_), Some(empty)) => state.statement_to_plan(empty).await?,
            (Err(e), None) => return Err(e.into()),
        };
        Ok(plan)
    }

    /// Runs a planned DataFusion statement.
    pub(crate) async fn execute_plan(&self, plan: LogicalPlan) -> Result<Output> {
        state::check_datafusion_setting(self, &plan)?;
        match plan {
            LogicalPlan::Ddl(DdlStatement::CreateView(view)) => {
                return statements::views::create(self, view).await;
            }
            LogicalPlan::Ddl(DdlStatement::DropView(view)) => {
                return statements::views::drop(self, view).await;
            }
            _ => {}
        }
        let tag = command_tag(&plan);
        if let Some(tag) = tag {
            // Commands may write the context's state (DataFusion's SET): plan afresh after.
            let frame = self.ctx.execute_logical_plan(plan).await;
            self.replan();
            let rows = count_rows(frame?.collect().await?);
            return Ok(Output::Command {
                tag: tag.to_string(),
                rows,
            });
        }
        // Physical planning (which reads the catalog: partitions, files) stays here; plans
        // that scan files execute on the CPU runtime. Plans that read no files (SELECT 1,
        // catalog-free expressions) run inline: the hop between runtimes would cost more than
        // they do (~80 µs per statement).
        let constant = plan_cache::is_constant(&plan);
        let kept = if constant {
            self.plans.physical(&plan)
        } else {
            None
        };
        let planning = self.planning();
        let physical = match kept {
            Some(physical) => Ok(physical),
            None => planning.state.create_physical_plan(&plan).await,
        };
        let context = planning.task.clone();
        self.keep_planning(planning);
        let physical = physical?;
        if constant {
            self.plans.keep_physical(plan, &physical);
        }
        // Scans of object stores start fetching their first row groups now, all at once.
        let physical = crate::provider::arm_read_ahead(
            physical,
            &context.runtime_env(),
            context.session_config().options(),
        )?;
        let stream = match &self.engine.inner.cpu {
            Some(cpu) if crate::cpu::reads_files(&physical) => cpu.execute(physical, context)?,
            _ => datafusion::physical_plan::execute_stream(physical, context)?,
        };
        Ok(Output::Stream(stream))
    }

    /// DataFusion statements that write server files (COPY … TO 'path') need a superuser or
    /// pg_write_server_files, and obey the allowed roots.
    async fn check_paths(&self, statement: &DFStatement) -> Result<()> {
        match statement {
            DFStatement::CopyTo(CopyToStatement { target, .. }) => {
                self.require_location_role(
                    tarn_catalog::acl::predefined::WRITE_SERVER_FILES,
                    "COPY to a file",
                )
                .await?;
                self.engine.inner.roots.check(target).map(|_| ())
            }
            DFStatement::Explain(explain) => Box::pin(self.check_paths(&explain.statement)).await,
            DFStatement::CreateExternalTable(_) => Err(EngineError::Internal(
                "CREATE EXTERNAL TABLE must be handled by tarn".into(),
            )),
            DFStatement::Statement(_) | DFStatement::Reset(_) => Ok(()),
        }
    }
}

fn reject_unsupported(plan: &LogicalPlan) -> Result<()> {
    match plan {
        LogicalPlan::Ddl(DdlStatement::CreateView(_) | DdlStatement::DropView(_)) => Ok(()),
        LogicalPlan::Ddl(ddl) => Err(EngineError::NotSupported(format!(
            "{} through DataFusion (tables are created with CREATE TABLE / CREATE EXTERNAL TABLE, which tarn runs against its metastore)",
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
pub(crate) fn command_tag(plan: &LogicalPlan) -> Option<&'static str> {
    match plan {
        LogicalPlan::Statement(datafusion::logical_expr::Statement::SetVariable(_)) => Some("SET"),
        LogicalPlan::Statement(datafusion::logical_expr::Statement::ResetVariable(_)) => {
            Some("RESET")
        }
        LogicalPlan::Copy(_) => Some("COPY"),
        // Their plan schema is the view's columns, but they return no rows.
        LogicalPlan::Ddl(DdlStatement::CreateView(_)) => Some("CREATE VIEW"),
        LogicalPlan::Ddl(DdlStatement::DropView(_)) => Some("DROP VIEW"),
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
