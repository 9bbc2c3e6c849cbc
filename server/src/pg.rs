//! The Postgres wire protocol front end: `tarn serve`'s listener.
//!
//! One task per connection: negotiate (TLS), authenticate, then serve a [`Session`]. The accept
//! loop enforces the connection limit; shutdown stops accepting, lets running statements finish
//! up to a timeout, then cancels them and closes.

mod auth;
mod connection;
mod copy;
pub mod encode;
mod extended;
mod messages;
pub mod params;
mod results;
pub mod sqlstate;
mod startup;
pub mod types;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::startup::{Authentication, BackendKeyData, ParameterStatus, SecretKey};
use tarn_engine::activity::NewBackend;
use tarn_engine::{CancelHandle, Engine, ErrorKind, Session};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use auth::AuthMethod;
use connection::{Connection, Ended};
use sqlstate::PgError;
use startup::{Opening, OpeningError};
use wire::{Wire, WireError};

/// Settings of the pg listener.
#[derive(Debug, Clone)]
pub struct PgConfig {
    pub listen: SocketAddr,
    /// The database name clients connect to (tarn's catalog).
    pub database: String,
    pub auth: AuthMethod,
    pub tls: Option<TlsConfig>,
    /// Refuse connections that do not use TLS.
    pub tls_required: bool,
    pub max_connections: usize,
    /// Of `max_connections`, slots only superusers may take (PostgreSQL's
    /// `superuser_reserved_connections`), so idle clients cannot lock the administrator out.
    pub superuser_reserved_connections: usize,
    /// Time allowed from connect to the end of authentication.
    pub auth_timeout: Duration,
    /// How long shutdown waits for running statements.
    pub shutdown_timeout: Duration,
    /// The longest line `COPY … FROM STDIN` accepts, in bytes (at most [`MAX_COPY_LINE`]).
    pub copy_max_line: usize,
}

/// The default longest COPY line: generous for wide rows, small enough that one client
/// cannot make the server buffer gigabytes.
pub const DEFAULT_COPY_MAX_LINE: usize = 256 << 20;
/// The hard upper bound on the COPY line limit (PostgreSQL's 1 GiB allocation limit).
pub const MAX_COPY_LINE: usize = 1 << 30;

impl Default for PgConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5432)),
            database: "tarn".into(),
            auth: AuthMethod::ScramSha256,
            tls: None,
            tls_required: false,
            max_connections: 100,
            superuser_reserved_connections: 3,
            auth_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
            copy_max_line: DEFAULT_COPY_MAX_LINE,
        }
    }
}

/// PEM files of the server certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// State shared by all connections.
struct Shared {
    engine: Engine,
    config: PgConfig,
    tls: Option<Arc<TlsAcceptor>>,
    /// Running sessions by backend pid: (secret, cancel handle).
    sessions: Mutex<HashMap<i32, (i32, CancelHandle)>>,
    next_pid: AtomicI32,
    connections: Arc<Semaphore>,
    shutdown: CancellationToken,
}

/// A bound pg listener.
pub struct PgServer {
    listener: TcpListener,
    shared: Arc<Shared>,
}

fn load_tls(config: &TlsConfig) -> Result<TlsAcceptor, ServerError> {
    Ok(TlsAcceptor::from(tls_server_config(config)?))
}

/// The rustls configuration for a certificate and key (every listener loads them this way).
pub(crate) fn tls_server_config(
    config: &TlsConfig,
) -> Result<Arc<tokio_rustls::rustls::ServerConfig>, ServerError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&config.cert)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| ServerError::Tls(format!("{}: {e}", config.cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "{}: no certificates",
            config.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&config.key)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", config.key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    Ok(Arc::new(server))
}

/// Loads the certificate and key as the pg listener would (the Flight listener checks its
/// files with this too, so both accept exactly the same configuration).
pub(crate) fn check_tls(config: &TlsConfig) -> Result<(), ServerError> {
    load_tls(config).map(|_| ())
}

impl PgServer {
    /// Binds the listener. A TLS misconfiguration fails here: never fall back to plaintext.
    pub async fn bind(engine: Engine, config: PgConfig) -> Result<Self, ServerError> {
        if config.tls_required && config.tls.is_none() {
            return Err(ServerError::Config(
                "TLS is required but no certificate is configured".into(),
            ));
        }
        if config.superuser_reserved_connections >= config.max_connections {
            return Err(ServerError::Config(format!(
                "superuser_reserved_connections ({}) must be less than max_connections ({})",
                config.superuser_reserved_connections, config.max_connections
            )));
        }
        let tls = config.tls.as_ref().map(load_tls).transpose()?.map(Arc::new);
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                engine,
                connections: Arc::new(Semaphore::new(config.max_connections)),
                config,
                tls,
                sessions: Mutex::new(HashMap::new()),
                next_pid: AtomicI32::new(1000),
                shutdown: CancellationToken::new(),
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.shared.config.listen)
    }

    /// Serves until `shutdown` completes; then stops accepting, waits for running statements up
    /// to the shutdown timeout, cancels what remains and returns.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let tracker = TaskTracker::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = &mut shutdown => break,
            };
            match accepted {
                Ok((tcp, peer)) => {
                    let shared = self.shared.clone();
                    tracker.spawn(async move { handle(shared, tcp, peer).await });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        drop(self.listener);
        tracker.close();
        self.shared.shutdown.cancel();
        if tokio::time::timeout(self.shared.config.shutdown_timeout, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutdown timeout: canceling running statements");
            for (_, handle) in self
                .shared
                .sessions
                .lock()
                .map(|s| s.values().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                handle.cancel();
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await;
        }
    }
}

async fn handle(shared: Arc<Shared>, tcp: TcpStream, peer: SocketAddr) {
    let opened = tokio::time::timeout(
        shared.config.auth_timeout,
        startup::negotiate(tcp, shared.tls.clone()),
    )
    .await;
    let opening = match opened {
        Err(_) => return,
        Ok(Err(OpeningError { io, error })) => {
            if let Some(io) = io {
                let mut wire = Wire::new(io, Default::default());
                wire.send_error(&error);
                wire.shutdown().await;
            }
            return;
        }
        Ok(Ok(o)) => o,
    };
    match opening {
        Opening::Cancel { pid, secret } => cancel(&shared, pid, secret),
        Opening::Startup {
            io,
            params,
            unsupported_minor,
            tls,
        } => {
            let mut wire = Wire::new(io, Default::default());
            let Ok(_permit) = shared.connections.clone().try_acquire_owned() else {
                wire.send_error(&PgError::new(
                    ErrorKind::TooManyConnections,
                    "sorry, too many clients already",
                ));
                wire.shutdown().await;
                return;
            };
            if let Some((minor, options)) = unsupported_minor {
                negotiate_version(&mut wire, minor, options);
            }
            if shared.config.tls_required && !tls {
                wire.send_error(&PgError::tls_required());
                wire.shutdown().await;
                return;
            }
            let started = tokio::time::timeout(
                shared.config.auth_timeout,
                start_session(&shared, &mut wire, &params, peer),
            )
            .await;
            let session = match started {
                Ok(Ok(s)) => s,
                Ok(Err(WireError::Protocol(e))) => {
                    wire.send_error(&e);
                    wire.shutdown().await;
                    return;
                }
                _ => return,
            };
            serve_session(&shared, wire, session, peer).await;
        }
    }
}

/// Answers a client asking for protocol 3.x (x > 0) or `_pq_` options: we speak 3.0.
fn negotiate_version(wire: &mut Wire, _minor: i32, options: Vec<String>) {
    use bytes::BufMut;
    let mut body = bytes::BytesMut::new();
    body.put_i32(3 << 16);
    body.put_i32(options.len() as i32);
    for o in &options {
        body.put_slice(o.as_bytes());
        body.put_u8(0);
    }
    wire.out.put_u8(b'v');
    wire.out.put_i32(body.len() as i32 + 4);
    wire.out.put_slice(&body);
}

fn cancel(shared: &Shared, pid: i32, secret: i32) {
    let sessions = shared.sessions.lock();
    if let Ok(sessions) = sessions
        && let Some((expected, handle)) = sessions.get(&pid)
        && *expected == secret
    {
        handle.cancel();
    }
}

/// Once only the reserved slots are left (this connection holds one of them), only superusers
/// may stay; checked after authentication, as PostgreSQL does, since only then is it known who
/// the user is.
fn check_reserved_slots(shared: &Shared, superuser: bool) -> Result<(), WireError> {
    let free = shared.connections.available_permits();
    if superuser || free >= shared.config.superuser_reserved_connections {
        return Ok(());
    }
    Err(WireError::Protocol(PgError::new(
        ErrorKind::TooManyConnections,
        "remaining connection slots are reserved for roles with the SUPERUSER attribute",
    )))
}

/// Authenticates, opens the session, applies startup options and greets the client.
async fn start_session(
    shared: &Shared,
    wire: &mut Wire,
    params: &std::collections::BTreeMap<String, String>,
    peer: SocketAddr,
) -> Result<Session, WireError> {
    let user = params
        .get("user")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            WireError::Protocol(PgError::new(
                ErrorKind::AuthenticationFailed,
                "no PostgreSQL user name specified in startup packet",
            ))
        })?;
    let user = auth::authenticate(
        wire,
        &shared.engine,
        user,
        shared.config.auth,
        peer.ip().is_loopback(),
    )
    .await?;
    check_reserved_slots(shared, user.superuser)?;
    let database = params.get("database").unwrap_or(&user.name);
    if database != &shared.config.database {
        return Err(WireError::Protocol(PgError::new(
            ErrorKind::UndefinedDatabase,
            format!(
                "database \"{database}\" does not exist (this server's database is \"{}\")",
                shared.config.database
            ),
        )));
    }
    let session = shared
        .engine
        .connect(&user)
        .await
        .map_err(|e| WireError::Protocol(PgError::from_engine(&e, None)))?;
    for (name, value) in params {
        if matches!(
            name.as_str(),
            "user" | "database" | "replication" | "options"
        ) {
            continue;
        }
        let statement = tarn_engine::sql::Statement::SetVariable {
            name: name.clone(),
            value: Some(value.clone()),
        };
        if let Err(e) = session.execute(statement).await {
            if e.kind() == ErrorKind::UndefinedObject {
                tracing::debug!("ignoring unknown startup parameter {name}");
                continue;
            }
            return Err(WireError::Protocol(PgError {
                severity: "FATAL",
                ..PgError::from_engine(&e, None)
            }));
        }
    }
    wire.send(PgWireBackendMessage::Authentication(Authentication::Ok));
    let mut reported = session.settings().reported();
    reported.push(("session_authorization", user.name.clone()));
    reported.push((
        "is_superuser",
        if user.superuser { "on" } else { "off" }.into(),
    ));
    for (name, value) in reported {
        wire.send(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
            name.to_string(),
            value,
        )));
    }
    Ok(session)
}

async fn serve_session(shared: &Shared, wire: Wire, session: Session, peer: SocketAddr) {
    let pid = shared.next_pid.fetch_add(1, Ordering::Relaxed);
    let mut secret = [0u8; 4];
    if let Err(e) = getrandom::fill(&mut secret) {
        // A predictable cancel key would let anyone cancel this session's queries.
        tracing::error!("no randomness for the cancel key ({e}); closing the connection");
        return;
    }
    let secret = i32::from_be_bytes(secret);
    if let Ok(mut sessions) = shared.sessions.lock() {
        sessions.insert(pid, (secret, session.cancel_handle()));
    }
    session.set_backend_pid(pid);
    let backend = shared.engine.activity().register(NewBackend {
        pid,
        user: session.user(),
        database: &shared.config.database,
        client_addr: Some(peer.ip().to_string()),
        application_name: &session
            .settings()
            .get("application_name")
            .unwrap_or_default(),
        cancel: session.cancel_handle(),
    });
    let mut connection = Connection::new(wire, session, shared.shutdown.clone());
    connection.copy_max_line = shared.config.copy_max_line.min(MAX_COPY_LINE);
    connection.backend = Some(backend);
    connection
        .wire
        .send(PgWireBackendMessage::BackendKeyData(BackendKeyData::new(
            pid,
            SecretKey::I32(secret),
        )));
    let ended = match connection.ready().await {
        Ok(()) => connection.run().await,
        Err(e) => Err(e),
    };
    if let Ok(mut sessions) = shared.sessions.lock() {
        sessions.remove(&pid);
    }
    match ended {
        Ok(Ended::Client) | Err(WireError::Closed) => {}
        Ok(Ended::Shutdown) => {
            connection.wire.send_error(&PgError::shutting_down());
            connection.wire.shutdown().await;
        }
        Err(WireError::Protocol(e)) => {
            connection.wire.send_error(&e);
            connection.wire.shutdown().await;
        }
        Err(WireError::Io(e)) => tracing::debug!("connection {pid}: {e}"),
    }
}
