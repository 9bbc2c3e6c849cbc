//! Session statements: settings (SET / SHOW / RESET) and transaction control.
//!
//! tarn has no multi-statement transactions: every statement commits on its own (writes are atomic
//! per statement). Transaction blocks are still tracked exactly as PostgreSQL reports them,
//! because drivers (psycopg, SQLAlchemy, JDBC) wrap work in BEGIN/COMMIT and depend on the
//! transaction status and on "current transaction is aborted" after an error.

use tarn_sql::{Statement, TransactionStatement};

use crate::error::{EngineError, ErrorKind, Result};
use crate::output::Output;
use crate::session::Session;
use crate::settings::Settings;

/// Where a session is with respect to transaction blocks (ReadyForQuery's status byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// Not in a block.
    Idle,
    /// Inside BEGIN ... COMMIT.
    InBlock,
    /// Inside a block where a statement failed: everything but ROLLBACK fails.
    Failed,
}

#[derive(Debug)]
pub(crate) struct Transaction {
    pub state: TransactionState,
    pub savepoints: Vec<String>,
}

impl Default for Transaction {
    fn default() -> Self {
        Self {
            state: TransactionState::Idle,
            savepoints: vec![],
        }
    }
}

/// Statements still allowed in a failed transaction block.
pub(crate) fn allowed_when_failed(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Transaction(
            TransactionStatement::Rollback
                | TransactionStatement::Commit
                | TransactionStatement::RollbackTo(_)
        )
    )
}

pub(crate) fn in_failed_transaction() -> EngineError {
    EngineError::Session {
        kind: ErrorKind::InFailedTransaction,
        message: "current transaction is aborted, commands ignored until end of transaction block"
            .into(),
    }
}

pub(crate) fn transaction(session: &Session, statement: TransactionStatement) -> Result<Output> {
    let mut tx = session.transaction.lock().map_err(|_| poisoned())?;
    let no_block = |what: &str| EngineError::Session {
        kind: ErrorKind::InvalidStatement,
        message: format!("{what} can only be used in transaction blocks"),
    };
    let releasing = matches!(statement, TransactionStatement::Release(_));
    let tag = match statement {
        TransactionStatement::Begin { read_only } => {
            if tx.state == TransactionState::Idle {
                tx.state = TransactionState::InBlock;
                begin_access_mode(session, read_only)?;
            }
            "BEGIN"
        }
        TransactionStatement::Commit | TransactionStatement::Rollback => {
            let failed = tx.state == TransactionState::Failed;
            *tx = Transaction::default();
            session.with_settings(|s| s.set(TRANSACTION_READ_ONLY, None))?;
            session.end_of_block();
            if failed || matches!(statement, TransactionStatement::Rollback) {
                "ROLLBACK"
            } else {
                "COMMIT"
            }
        }
        TransactionStatement::Savepoint(name) => {
            if tx.state == TransactionState::Idle {
                return Err(no_block("SAVEPOINT"));
            }
            tx.savepoints.push(name);
            "SAVEPOINT"
        }
        TransactionStatement::Release(name) | TransactionStatement::RollbackTo(name) => {
            if tx.state == TransactionState::Idle {
                return Err(no_block(if releasing {
                    "RELEASE SAVEPOINT"
                } else {
                    "ROLLBACK TO SAVEPOINT"
                }));
            }
            let Some(at) = tx.savepoints.iter().rposition(|s| *s == name) else {
                return Err(EngineError::Session {
                    kind: ErrorKind::InvalidStatement,
                    message: format!("savepoint \"{name}\" does not exist"),
                });
            };
            if releasing {
                tx.savepoints.truncate(at);
                "RELEASE"
            } else {
                tx.savepoints.truncate(at + 1);
                tx.state = TransactionState::InBlock;
                "ROLLBACK"
            }
        }
    };
    Ok(Output::command(tag))
}

const TRANSACTION_READ_ONLY: &str = "transaction_read_only";
const DEFAULT_READ_ONLY: &str = "default_transaction_read_only";

/// A new block is read-only as BEGIN says, else as default_transaction_read_only says.
fn begin_access_mode(session: &Session, read_only: Option<bool>) -> Result<()> {
    let read_only = read_only.unwrap_or_else(|| session.settings().is_on(DEFAULT_READ_ONLY));
    let value = if read_only { "on" } else { "off" };
    session.with_settings(|s| s.set(TRANSACTION_READ_ONLY, Some(value)))
}

pub(crate) fn read_only_transaction(what: &str) -> EngineError {
    EngineError::Session {
        kind: ErrorKind::ReadOnlyTransaction,
        message: format!("cannot execute {what} in a read-only transaction"),
    }
}

impl Session {
    /// Records the pid a front end announced for this session (pg_backend_pid()).
    pub fn set_backend_pid(&self, pid: i32) {
        self.facts
            .backend_pid
            .store(pid, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether writes are refused: inside a block, its access mode (BEGIN READ ONLY, SET
    /// TRANSACTION READ ONLY, or the default when it began); outside, the session's
    /// default_transaction_read_only.
    pub fn is_read_only(&self) -> bool {
        let settings = self.settings();
        match self.transaction_state() {
            TransactionState::Idle => settings.is_on(DEFAULT_READ_ONLY),
            _ => settings.is_on(TRANSACTION_READ_ONLY),
        }
    }

    /// Refuses `what` (a statement's name, for the message) in a read-only transaction
    /// (25006). Every write path calls this before touching the catalog or storage.
    pub fn check_writable(&self, what: &str) -> Result<()> {
        if self.is_read_only() {
            return Err(read_only_transaction(what));
        }
        Ok(())
    }
}

/// SET transaction_read_only: outside a block it has nothing to apply to (PostgreSQL's
/// implicit transaction ends with the SET); inside a read-only block it cannot be turned off.
fn set_access_mode(session: &Session, value: Option<&str>) -> Result<bool> {
    if session.transaction_state() == TransactionState::Idle {
        return Ok(false);
    }
    let off = value.is_none_or(|v| {
        !matches!(
            v.to_ascii_lowercase().trim_matches('\''),
            "on" | "true" | "1" | "yes" | "t" | "y"
        )
    });
    if off && session.is_read_only() {
        return Err(EngineError::Session {
            kind: ErrorKind::ReadOnlyTransaction,
            message: "transaction read-write mode cannot be set inside a read-only transaction"
                .into(),
        });
    }
    Ok(true)
}

/// Turning the VACUUM retention check off lets VACUUM delete files a running query may still
/// read: superusers only.
fn check_setting_privilege(session: &Session, canonical: &str) -> Result<()> {
    if canonical == crate::statements::VACUUM_RETENTION_CHECK && !session.is_superuser() {
        return Err(EngineError::PermissionDenied(format!(
            "only superusers may change {canonical}"
        )));
    }
    Ok(())
}

pub(crate) async fn set_variable(
    session: &Session,
    name: &str,
    value: Option<String>,
) -> Result<Output> {
    if name.eq_ignore_ascii_case("role") {
        return crate::statements::roles::set_role(session, value).await;
    }
    let canonical = Settings::canonical_name(name)?;
    check_setting_privilege(session, canonical)?;
    if canonical == TRANSACTION_READ_ONLY && !set_access_mode(session, value.as_deref())? {
        return Ok(Output::command("SET"));
    }
    if canonical == "search_path" {
        let path = value.clone().unwrap_or_else(|| "public".into());
        apply_search_path(session, &path).await?;
    }
    session.with_settings(|s| s.set(canonical, value.as_deref()))?;
    if canonical == "TimeZone" {
        session.sync_time_zone();
    }
    Ok(Output::command(if value.is_some() {
        "SET"
    } else {
        "RESET"
    }))
}

/// The first schema of the path that is a tarn database becomes the current database.
async fn apply_search_path(session: &Session, path: &str) -> Result<()> {
    for entry in path.split(',') {
        let entry = entry.trim().trim_matches('"').trim_matches('\'');
        if entry.is_empty() || entry == "$user" || entry.eq_ignore_ascii_case("pg_catalog") {
            continue;
        }
        let database = crate::provider::database_for_schema(entry);
        if session
            .engine
            .metastore()
            .get_database(&database)
            .await?
            .is_some()
        {
            session.set_current_database(&database);
            return Ok(());
        }
    }
    Ok(())
}

pub(crate) fn reset_all(session: &Session) -> Result<Output> {
    session.with_settings(|s| {
        // The block's access mode is not a session setting to reset.
        let access_mode = s.get(TRANSACTION_READ_ONLY)?;
        s.reset_all();
        s.set(TRANSACTION_READ_ONLY, Some(&access_mode))
    })?;
    session.sync_time_zone();
    session.set_current_database(tarn_catalog::DEFAULT_DATABASE);
    session.identity.set_role(None);
    Ok(Output::command("RESET"))
}

pub(crate) fn show_variable(session: &Session, name: Option<&str>) -> Result<Output> {
    let settings = session.settings();
    match name {
        Some(name) if name.eq_ignore_ascii_case("role") => {
            let role = session.current_role();
            let shown = if role == session.user() {
                "none".to_string()
            } else {
                role
            };
            crate::statements::string_rows(&["role"], vec![vec![Some(shown)]])
        }
        Some(name) => {
            let value = settings.get(name)?;
            // PostgreSQL names the column after the setting's canonical name (TimeZone).
            let column = Settings::canonical_name(name)?;
            crate::statements::string_rows(&[column], vec![vec![Some(value)]])
        }
        None => {
            let rows = settings
                .all()
                .into_iter()
                .map(|(n, v, d)| vec![Some(n.to_string()), Some(v), Some(d.to_string())])
                .collect();
            crate::statements::string_rows(&["name", "setting", "description"], rows)
        }
    }
}

/// DataFusion options a non-superuser may SET: planning and execution behaviour. The runtime
/// (`datafusion.runtime.*`: memory pool, spill directory, caches) is the server's to configure
/// and refused to everyone (a session-level pool would escape the engine's memory limit and
/// RESET would remove it); anything else (`datafusion.catalog.*` reads a location) is for
/// superusers.
const USER_DATAFUSION_OPTIONS: &[&str] = &[
    "datafusion.execution.",
    "datafusion.optimizer.",
    "datafusion.explain.",
    "datafusion.sql_parser.",
    "datafusion.format.",
];

/// Refuses `SET` / `RESET` of DataFusion options the session may not change (42501).
pub(crate) fn check_datafusion_setting(
    session: &Session,
    plan: &datafusion::logical_expr::LogicalPlan,
) -> Result<()> {
    use datafusion::logical_expr::{LogicalPlan, Statement as S};
    let variable = match plan {
        LogicalPlan::Statement(S::SetVariable(set)) => &set.variable,
        LogicalPlan::Statement(S::ResetVariable(reset)) => &reset.variable,
        _ => return Ok(()),
    };
    let variable = variable.to_ascii_lowercase();
    if variable.starts_with("datafusion.runtime.") {
        return Err(EngineError::PermissionDenied(format!(
            "{variable} is set in the server's configuration (memory_limit_mb, data directory), \
             not per session"
        )));
    }
    let allowed = USER_DATAFUSION_OPTIONS
        .iter()
        .any(|p| variable.starts_with(p));
    if !allowed && !session.is_superuser() {
        return Err(EngineError::PermissionDenied(format!(
            "only superusers may set {variable}"
        )));
    }
    Ok(())
}

fn poisoned() -> EngineError {
    EngineError::Internal("session state lock poisoned".into())
}
