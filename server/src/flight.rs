//! The Arrow Flight SQL front end: `tarn serve`'s second listener. Results leave as Arrow IPC
//! straight from the engine's record-batch streams; users, sessions' settings and the catalog
//! are the same as over the Postgres wire.

mod coalesce;
mod execute;
mod ingest;
mod metadata;
mod plain;
mod prepared;
mod service;
mod sessions;
pub mod status;
pub mod stream;
mod ticket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use tarn_engine::Engine;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

pub use service::TarnFlight;
use sessions::Sessions;

use crate::{ServerError, TlsConfig};

/// Settings of the Flight SQL listener.
#[derive(Debug, Clone)]
pub struct FlightConfig {
    pub listen: SocketAddr,
    pub tls: Option<TlsConfig>,
    /// Open sessions (logins) at most.
    pub max_sessions: usize,
    /// Open sessions one user may hold at most.
    pub max_sessions_per_user: usize,
    /// A session unused this long is closed (its token stops working).
    pub session_idle_timeout: Duration,
    /// The largest gRPC message accepted or sent (DoPut batches, FlightData).
    pub max_message_size: usize,
    /// How long shutdown waits for running calls before canceling them.
    pub shutdown_timeout: Duration,
}

impl Default for FlightConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 32010)),
            tls: None,
            max_sessions: 1000,
            max_sessions_per_user: 64,
            session_idle_timeout: Duration::from_secs(8 * 3600),
            max_message_size: 256 * 1024 * 1024,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// A bound Flight SQL listener.
pub struct FlightServer {
    listener: TcpListener,
    service: TarnFlight,
    config: FlightConfig,
    tls: Option<ServerTlsConfig>,
}

fn load_tls(config: &TlsConfig) -> Result<ServerTlsConfig, ServerError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| ServerError::Tls(format!("{}: {e}", path.display())))
    };
    // Validate with the same loader as pg so both listeners accept the same files.
    crate::pg::check_tls(config)?;
    let identity = Identity::from_pem(read(&config.cert)?, read(&config.key)?);
    Ok(ServerTlsConfig::new().identity(identity))
}

impl FlightServer {
    /// Binds the listener. A TLS misconfiguration fails here: never fall back to plaintext.
    pub async fn bind(engine: Engine, config: FlightConfig) -> Result<Self, ServerError> {
        let tls = config.tls.as_ref().map(load_tls).transpose()?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let sessions = Arc::new(Sessions::new(
            config.max_sessions,
            config.max_sessions_per_user,
            config.session_idle_timeout,
        ));
        Ok(Self {
            listener,
            service: TarnFlight { engine, sessions },
            config,
            tls,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.config.listen)
    }

    /// The URI clients use: `grpc+tls://…` with TLS, `grpc://…` without.
    pub fn uri(&self) -> String {
        let scheme = if self.tls.is_some() {
            "grpc+tls"
        } else {
            "grpc"
        };
        format!("{scheme}://{}", self.local_addr())
    }

    /// Serves until `shutdown` completes; then stops accepting, lets running calls finish up
    /// to the shutdown timeout, cancels the queries still running and returns.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) {
        let sessions = self.service.sessions.clone();
        let limit = self.config.max_message_size;
        let service = FlightServiceServer::new(self.service)
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        let mut builder = Server::builder()
            .tcp_nodelay(true)
            // Large windows: one stream can fill a fast link without waiting for acks.
            .initial_stream_window_size(Some(8 * 1024 * 1024))
            .initial_connection_window_size(Some(16 * 1024 * 1024))
            .http2_keepalive_interval(Some(Duration::from_secs(30)));
        let tls = self.tls.is_some();
        if let Some(tls) = self.tls {
            builder = match builder.tls_config(tls) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!("Flight TLS setup failed: {e}");
                    return;
                }
            };
        }
        // Frames gathered into large socket writes (see flight/coalesce.rs).
        let defer_flushes = !tls;
        let incoming = futures::TryStreamExt::map_ok(
            TcpIncoming::from(self.listener).with_nodelay(Some(true)),
            move |stream| coalesce::Coalescing::new(stream, defer_flushes),
        );
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let timeout = self.config.shutdown_timeout;
        let watchdog = tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(());
            tokio::time::sleep(timeout).await;
            tracing::warn!("Flight shutdown timeout: canceling running queries");
            sessions.cancel_all();
        });
        let served = builder
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            })
            .await;
        watchdog.abort();
        if let Err(e) = served {
            tracing::error!("Flight server stopped: {e}");
        }
    }
}
