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
        TransactionStatement::Begin => {
            if tx.state == TransactionState::Idle {
                tx.state = TransactionState::InBlock;
            }
            "BEGIN"
        }
        TransactionStatement::Commit | TransactionStatement::Rollback => {
            let failed = tx.state == TransactionState::Failed;
            *tx = Transaction::default();
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

pub(crate) async fn set_variable(
    session: &Session,
    name: &str,
    value: Option<String>,
) -> Result<Output> {
    if name.eq_ignore_ascii_case("role") {
        return crate::ddl::roles::set_role(session, value).await;
    }
    let canonical = Settings::canonical_name(name)?;
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
        s.reset_all();
        Ok(())
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
            crate::ddl::string_rows(&["role"], vec![vec![Some(shown)]])
        }
        Some(name) => {
            let value = settings.get(name)?;
            // PostgreSQL names the column after the setting's canonical name (TimeZone).
            let column = Settings::canonical_name(name)?;
            crate::ddl::string_rows(&[column], vec![vec![Some(value)]])
        }
        None => {
            let rows = settings
                .all()
                .into_iter()
                .map(|(n, v, d)| vec![Some(n.to_string()), Some(v), Some(d.to_string())])
                .collect();
            crate::ddl::string_rows(&["name", "setting", "description"], rows)
        }
    }
}

fn poisoned() -> EngineError {
    EngineError::Internal("session state lock poisoned".into())
}
