//! Flight SQL logins: HTTP Basic credentials checked against the catalog's users (the same
//! SCRAM verifiers the pg front end uses) open a session, named by a random bearer token that
//! every later call presents. Sessions expire after a period of idleness.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use tarn_engine::activity::NewBackend;
use tarn_engine::{CancelHandle, Engine, ErrorKind, Session};
use tonic::Status;

use super::prepared::PreparedStatements;
use super::status::status;

/// One logged-in client.
pub(crate) struct FlightSession {
    /// Stable id tickets are bound to (not the token, which is a secret).
    pub id: u64,
    /// The client's session: SET/USE and planning happen here; queries run on forks of it.
    pub session: Session,
    pub prepared: PreparedStatements,
    last_used: Mutex<Instant>,
    /// The session's row in pg_stat_activity (gone when the session is dropped).
    backend: tarn_engine::activity::Registration,
    /// Statements running now (a Flight session may run several at once): the row is `active`
    /// while any runs.
    running: AtomicUsize,
}

/// A statement's stay in pg_stat_activity: `active` with its text from creation, `idle` once
/// the last running statement of the session drops its guard.
pub(crate) struct ActiveStatement {
    session: Arc<FlightSession>,
}

impl Drop for ActiveStatement {
    fn drop(&mut self) {
        if self.session.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.session.backend.idle();
        }
    }
}

/// Flight sessions' pids in pg_stat_activity: above the pg front end's, so the two never meet.
const FLIGHT_PID_BASE: i32 = 1 << 30;

impl FlightSession {
    /// Shows `query` as this session's running statement until the guard drops.
    pub fn run_statement(self: &Arc<Self>, query: &str) -> ActiveStatement {
        self.running.fetch_add(1, Ordering::AcqRel);
        self.backend.start_query(query);
        ActiveStatement {
            session: self.clone(),
        }
    }

    fn touch(&self) {
        if let Ok(mut t) = self.last_used.lock() {
            *t = Instant::now();
        }
    }

    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default()
    }
}

/// All sessions, by token, and the statements running in them.
pub(crate) struct Sessions {
    by_token: Mutex<HashMap<String, Arc<FlightSession>>>,
    /// Running queries by query id (from the ticket), for CancelFlightInfo.
    running: Mutex<HashMap<String, CancelHandle>>,
    /// Queries canceled before (or while) their DoGet ran; bounded.
    canceled: Mutex<Vec<String>>,
    next_id: AtomicU64,
    pub max_sessions: usize,
    /// Sessions one user may hold at once: one client opening sessions in a loop must not
    /// take every slot of `max_sessions`.
    pub max_sessions_per_user: usize,
    pub idle_timeout: Duration,
}

/// Unauthenticated, with the same message whatever was wrong (user or password).
pub(crate) fn unauthenticated(message: &str) -> Status {
    status(ErrorKind::AuthenticationFailed, message)
}

/// `user:password` from an `Authorization: Basic …` value; padded or unpadded base64.
pub(crate) fn parse_basic(header: &str) -> Result<(String, String), Status> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
        .ok_or_else(|| {
            unauthenticated("expected HTTP Basic credentials in the authorization header")
        })?
        .trim();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded.trim_end_matches('=')))
        .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')))
        .map_err(|_| unauthenticated("malformed Basic credentials"))?;
    let text =
        String::from_utf8(decoded).map_err(|_| unauthenticated("malformed Basic credentials"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| unauthenticated("malformed Basic credentials"))?;
    Ok((user.to_string(), password.to_string()))
}

fn new_token() -> Result<String, Status> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| status(ErrorKind::Internal, e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl Sessions {
    pub fn new(max_sessions: usize, max_sessions_per_user: usize, idle_timeout: Duration) -> Self {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        Self {
            by_token: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            canceled: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(u64::from_le_bytes(seed) >> 16),
            max_sessions,
            max_sessions_per_user,
            idle_timeout,
        }
    }

    /// Checks `user`'s password (the engine's authenticator: constant work, rate-limited
    /// failures) and opens a session; returns its bearer token.
    pub async fn login(
        &self,
        engine: &Engine,
        user: &str,
        password: &str,
    ) -> Result<String, Status> {
        let user = engine
            .authenticator()
            .verify_password(user, password)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::AuthenticationFailed => {
                    unauthenticated("authentication failed: wrong user name or password")
                }
                _ => super::status::from_engine(&e),
            })?;
        let connected = engine
            .connect(&user)
            .await
            .map_err(|e| super::status::from_engine(&e))?;
        self.expire_idle();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let pid = FLIGHT_PID_BASE + (id % (FLIGHT_PID_BASE as u64)) as i32;
        connected.set_backend_pid(pid);
        let backend = engine.activity().register(NewBackend {
            pid,
            user: connected.user(),
            database: tarn_engine::provider::CATALOG_NAME,
            client_addr: None,
            application_name: "Flight SQL",
            cancel: connected.cancel_handle(),
        });
        let session = Arc::new(FlightSession {
            id,
            session: connected,
            prepared: PreparedStatements::default(),
            last_used: Mutex::new(Instant::now()),
            backend,
            running: AtomicUsize::new(0),
        });
        let token = new_token()?;
        let mut sessions = self.lock()?;
        if sessions.len() >= self.max_sessions {
            return Err(status(
                ErrorKind::TooManyConnections,
                "too many Flight SQL sessions; close idle clients or raise max_sessions",
            ));
        }
        let own = sessions
            .values()
            .filter(|s| s.session.user() == user.name)
            .count();
        if own >= self.max_sessions_per_user {
            return Err(status(
                ErrorKind::TooManyConnections,
                format!(
                    "user \"{}\" has {own} open Flight SQL sessions (the most allowed); \
                     close some with CloseSession",
                    user.name
                ),
            ));
        }
        sessions.insert(token.clone(), session);
        Ok(token)
    }

    /// Ends the session of a bearer token (Flight's CloseSession); `false` if there was none.
    pub fn close(&self, token: &str) -> bool {
        self.by_token
            .lock()
            .map(|mut s| s.remove(token).is_some())
            .unwrap_or(false)
    }

    /// The session of a bearer token.
    pub fn get(&self, token: &str) -> Result<Arc<FlightSession>, Status> {
        let session = self.lock()?.get(token).cloned().ok_or_else(|| {
            unauthenticated("invalid or expired session token; authenticate again")
        })?;
        if session.backend.is_terminated() {
            self.close(token);
            return Err(unauthenticated(
                "the session was terminated by an administrator (pg_terminate_backend)",
            ));
        }
        session.touch();
        Ok(session)
    }

    fn lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<String, Arc<FlightSession>>>, Status> {
        self.by_token
            .lock()
            .map_err(|_| status(ErrorKind::Internal, "session table poisoned"))
    }

    fn expire_idle(&self) {
        if let Ok(mut sessions) = self.by_token.lock() {
            sessions.retain(|_, s| s.idle_for() < self.idle_timeout);
        }
    }

    /// Records a running query so CancelFlightInfo can stop it; `false` if it was canceled
    /// already (the query must not start).
    pub fn start_query(&self, query_id: &str, handle: CancelHandle) -> bool {
        if self
            .canceled
            .lock()
            .map(|c| c.iter().any(|q| q == query_id))
            .unwrap_or(false)
        {
            return false;
        }
        if let Ok(mut running) = self.running.lock() {
            running.insert(query_id.to_string(), handle);
        }
        true
    }

    pub fn finish_query(&self, query_id: &str) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(query_id);
        }
    }

    /// Cancels a query, running or not yet started.
    pub fn cancel_query(&self, query_id: &str) {
        if let Ok(running) = self.running.lock()
            && let Some(handle) = running.get(query_id)
        {
            handle.cancel();
        }
        if let Ok(mut canceled) = self.canceled.lock() {
            if canceled.len() >= 1024 {
                canceled.remove(0);
            }
            canceled.push(query_id.to_string());
        }
    }

    /// Cancels every running query (shutdown).
    pub fn cancel_all(&self) {
        if let Ok(running) = self.running.lock() {
            running.values().for_each(CancelHandle::cancel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_padded_or_not() {
        let padded = format!("Basic {}", STANDARD.encode("alice:pw"));
        let unpadded = format!("Basic {}", STANDARD_NO_PAD.encode("alice:pw"));
        assert!(padded.ends_with('='));
        for header in [padded, unpadded] {
            assert_eq!(
                parse_basic(&header).unwrap(),
                ("alice".to_string(), "pw".to_string())
            );
        }
        let colon = format!("Basic {}", STANDARD.encode("bob:a:b"));
        assert_eq!(parse_basic(&colon).unwrap().1, "a:b");
        for bad in [
            "Bearer x",
            "Basic !!!",
            &format!("Basic {}", STANDARD.encode("nocolon")),
        ] {
            assert_eq!(
                parse_basic(bad).unwrap_err().code(),
                tonic::Code::Unauthenticated
            );
        }
    }
}
