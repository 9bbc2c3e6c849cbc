//! The live sessions of a server, as `pg_stat_activity` lists them, and the administrator's
//! handles on them: `pg_cancel_backend(pid)` cancels a session's running statement,
//! `pg_terminate_backend(pid)` ends its connection.
//!
//! A front end registers each connection it serves (its process id, user, client address,
//! application) and reports what it runs; the registration is removed when the returned
//! [`Registration`] is dropped, so a connection that ends by any path leaves no entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio_util::sync::CancellationToken;

use crate::cancel::CancelHandle;
use crate::error::{EngineError, Result};

/// One registered connection.
pub struct Backend {
    pub pid: i32,
    pub user: String,
    pub database: String,
    pub client_addr: Option<String>,
    /// Microseconds since the epoch.
    pub backend_start: i64,
    state: Mutex<BackendState>,
    cancel: CancelHandle,
    /// Canceled by pg_terminate_backend: the front end closes the connection.
    terminate: CancellationToken,
}

#[derive(Clone, Default)]
struct BackendState {
    application_name: String,
    /// `active` while a statement runs, `idle` between statements.
    active: bool,
    query: String,
    query_start: Option<i64>,
}

/// A row of pg_stat_activity.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub pid: i32,
    pub user: String,
    pub database: String,
    pub application_name: String,
    pub client_addr: Option<String>,
    pub state: &'static str,
    pub query: String,
    pub query_start: Option<i64>,
    pub backend_start: i64,
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Backend {
    /// A statement starts (`query` is its text as the client sent it).
    pub fn start_query(&self, query: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.active = true;
            state.query = query.to_string();
            state.query_start = Some(now_micros());
        }
    }

    /// The statement finished; the last query stays shown, as in PostgreSQL.
    pub fn idle(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.active = false;
        }
    }

    pub fn set_application_name(&self, name: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.application_name = name.to_string();
        }
    }

    /// Whether pg_terminate_backend asked this connection to end (for front ends without a
    /// connection task to wake, such as Flight SQL's sessions).
    pub fn is_terminated(&self) -> bool {
        self.terminate.is_cancelled()
    }

    /// Completes when pg_terminate_backend asked this connection to end.
    pub fn terminated(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.terminate.cancelled()
    }

    fn row(&self) -> ActivityRow {
        let state = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        ActivityRow {
            pid: self.pid,
            user: self.user.clone(),
            database: self.database.clone(),
            application_name: state.application_name,
            client_addr: self.client_addr.clone(),
            state: if state.active { "active" } else { "idle" },
            query: state.query,
            query_start: state.query_start,
            backend_start: self.backend_start,
        }
    }
}

/// Every registered connection, by pid.
#[derive(Default)]
pub struct Activity {
    backends: Mutex<HashMap<i32, Arc<Backend>>>,
}

/// A connection's entry; dropping it removes the entry.
pub struct Registration {
    backend: Arc<Backend>,
    activity: Weak<Activity>,
}

impl std::ops::Deref for Registration {
    type Target = Backend;
    fn deref(&self) -> &Backend {
        &self.backend
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(activity) = self.activity.upgrade()
            && let Ok(mut backends) = activity.backends.lock()
        {
            backends.remove(&self.backend.pid);
        }
    }
}

/// What a front end tells the registry about a new connection.
pub struct NewBackend<'a> {
    pub pid: i32,
    pub user: &'a str,
    pub database: &'a str,
    pub client_addr: Option<String>,
    pub application_name: &'a str,
    pub cancel: CancelHandle,
}

impl Activity {
    pub fn register(self: &Arc<Self>, new: NewBackend<'_>) -> Registration {
        let backend = Arc::new(Backend {
            pid: new.pid,
            user: new.user.to_string(),
            database: new.database.to_string(),
            client_addr: new.client_addr,
            backend_start: now_micros(),
            state: Mutex::new(BackendState {
                application_name: new.application_name.to_string(),
                ..Default::default()
            }),
            cancel: new.cancel,
            terminate: CancellationToken::new(),
        });
        if let Ok(mut backends) = self.backends.lock() {
            backends.insert(new.pid, backend.clone());
        }
        Registration {
            backend,
            activity: Arc::downgrade(self),
        }
    }

    /// The rows of pg_stat_activity, by pid.
    pub fn rows(&self) -> Vec<ActivityRow> {
        let mut rows: Vec<ActivityRow> = self
            .backends
            .lock()
            .map(|b| b.values().map(|b| b.row()).collect())
            .unwrap_or_default();
        rows.sort_by_key(|r| r.pid);
        rows
    }

    /// The backend `pid`, if `caller` may signal it: superusers any, others their own (as in
    /// PostgreSQL, same role). `Ok(None)` when there is no such backend.
    fn target(&self, pid: i32, caller: &str, superuser: bool) -> Result<Option<Arc<Backend>>> {
        let backend = self.backends.lock().ok().and_then(|b| b.get(&pid).cloned());
        match backend {
            Some(b) if !superuser && b.user != caller => {
                Err(EngineError::PermissionDenied(format!(
                    "only superusers may signal backend {pid} of role \"{}\" (you are \"{caller}\")",
                    b.user
                )))
            }
            other => Ok(other),
        }
    }

    /// pg_cancel_backend: cancels the backend's running statement; `false` if no such pid.
    pub fn cancel(&self, pid: i32, caller: &str, superuser: bool) -> Result<bool> {
        let backend = self.target(pid, caller, superuser)?;
        Ok(backend.map(|b| b.cancel.cancel()).is_some())
    }

    /// pg_terminate_backend: cancels the backend's statement and ends its connection.
    pub fn terminate(&self, pid: i32, caller: &str, superuser: bool) -> Result<bool> {
        let backend = self.target(pid, caller, superuser)?;
        Ok(backend
            .map(|b| {
                b.cancel.cancel();
                b.terminate.cancel();
            })
            .is_some())
    }
}
