//! The Hive Metastore Thrift API: Spark, Trino, Hive and pyiceberg use tarn's catalog as their
//! metastore. Thrift's binary protocol over a plain socket (buffered or framed, detected per
//! connection; strict or old-style headers), optionally TLS with the pg certificate.
//!
//! Trust model: the Hive protocol has no password authentication in Spark's default setup
//! (`set_ugi` names a user the server cannot verify), so tarn never believes it. Every
//! connection acts as a role chosen by the server's configuration — per client network
//! (`[[hms.clients]]`) or the default `[hms] role` — and that role's privileges apply to every
//! call. The default role does not exist and so has only what PUBLIC has; the listener binds
//! to loopback unless configured otherwise.
//!
//! Connections are served one thread each (as Hive's own server does) over blocking sockets,
//! which lets a message of either transport be decoded as it arrives; catalog calls run on the
//! tokio runtime.

mod colstats;
mod connection;
mod convert;
mod errors;
mod idl;
mod names_cache;
mod reads;
mod thrift;
mod writes;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tarn_engine::{Engine, Session};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use errors::CallError;
use thrift::{Struct, Value};

use crate::pg::{ServerError, TlsConfig};

/// `[hms]` settings.
#[derive(Debug, Clone)]
pub struct HmsConfig {
    pub listen: SocketAddr,
    /// The role connections act as when no client rule matches.
    pub role: String,
    /// Roles by client network, first match wins.
    pub clients: Vec<ClientRole>,
    pub tls: Option<TlsConfig>,
    pub max_connections: usize,
    /// The most a call's arguments may take (wire bytes plus a fixed cost per decoded value:
    /// a bound on the memory one call holds; 64 MiB ≈ 200k partitions in one add).
    pub max_message: usize,
}

/// The role of the default `[hms] role`: it does not exist, so it holds only PUBLIC's grants.
pub const DEFAULT_ROLE: &str = "hms_anonymous";

impl HmsConfig {
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            role: DEFAULT_ROLE.into(),
            clients: vec![],
            tls: None,
            max_connections: 128,
            max_message: 64 << 20,
        }
    }

    /// The role a client at `ip` acts as.
    pub fn role_for(&self, ip: IpAddr) -> &str {
        self.clients
            .iter()
            .find(|c| c.cidr.contains(ip))
            .map_or(self.role.as_str(), |c| c.role.as_str())
    }
}

/// `[[hms.clients]] cidr = "10.0.0.0/8" role = "etl"`.
#[derive(Debug, Clone)]
pub struct ClientRole {
    pub cidr: Cidr,
    pub role: String,
}

/// An IP network (`10.0.0.0/8`, `::1/128`; a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not a CIDR"))?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => bits,
            p => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("'{s}': bad prefix"))?,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        let shift = bits - self.prefix as u32;
        shift >= bits || (a >> shift) == (b >> shift)
    }
}

struct Shared {
    engine: Engine,
    config: HmsConfig,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    started: i64,
    names: names_cache::NamesCache,
}

/// A bound metastore listener.
pub struct HmsServer {
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
}

impl HmsServer {
    /// Binds the listener; a TLS misconfiguration fails here, never falling back to plaintext.
    pub async fn bind(engine: Engine, config: HmsConfig) -> Result<Self, ServerError> {
        let tls = config
            .tls
            .as_ref()
            .map(crate::pg::tls_server_config)
            .transpose()?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let connections = Arc::new(Semaphore::new(config.max_connections));
        let started = chrono::Utc::now().timestamp();
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                engine,
                config,
                tls,
                started,
                names: Default::default(),
            }),
            connections,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.shared.config.listen)
    }

    /// Accepts connections until `shutdown` completes.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                _ = &mut shutdown => return,
                a = self.listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("hms accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = self.connections.clone().try_acquire_owned() else {
                tracing::warn!("hms: too many connections, refusing {peer}");
                continue;
            };
            let shared = self.shared.clone();
            let handle = tokio::runtime::Handle::current();
            let spawned = stream.into_std().and_then(|stream| {
                std::thread::Builder::new()
                    .name("tarn-hms".into())
                    .spawn(move || {
                        let _permit = permit;
                        connection::run(&shared, &handle, stream, peer);
                    })
            });
            if let Err(e) = spawned {
                tracing::warn!("hms: cannot serve {peer}: {e}");
            }
        }
    }
}

/// A call's arguments, with errors for missing required ones.
pub struct Args(pub Struct);

impl Args {
    fn str(&self, id: i16) -> Result<String, CallError> {
        self.0
            .str(id)
            .ok_or_else(|| CallError::invalid(&format!("argument {id} is required")))
    }

    fn opt_str(&self, id: i16) -> Option<String> {
        self.0.str(id)
    }

    fn strings(&self, id: i16) -> Vec<String> {
        self.0.strings(id)
    }

    fn strct(&self, id: i16) -> Result<&Struct, CallError> {
        self.0
            .strct(id)
            .ok_or_else(|| CallError::invalid(&format!("argument {id} is required")))
    }

    fn structs(&self, id: i16) -> Vec<&Struct> {
        self.0.structs(id)
    }

    fn bool(&self, id: i16) -> bool {
        self.0.bool(id).unwrap_or(false)
    }

    /// Hive's `max_parts` (i16 in the IDL, i32 from some clients): negative means all.
    fn max_parts(&self, id: i16) -> Option<usize> {
        let n = self
            .0
            .i16(id)
            .map(i64::from)
            .or_else(|| self.0.i32(id).map(i64::from))?;
        usize::try_from(n).ok()
    }
}

/// A call's outcome: a value (field 0), nothing (void), or an exception.
pub type Reply = Result<Option<Value>, CallError>;

/// Runs one call of an IDL method.
async fn dispatch(shared: &Shared, session: &Session, name: &str, a: &Args) -> Reply {
    if let Some(reply) = session_call(shared, name, a) {
        return reply;
    }
    match reads::call(session, &shared.names, name, a).await {
        Err(CallError::Unimplemented) => {}
        other => return other,
    }
    match colstats::call(session, name, a).await {
        Err(CallError::Unimplemented) => {}
        other => return other,
    }
    match writes::call(session, name, a).await {
        Err(CallError::Unimplemented) => Err(CallError::meta(format!(
            "tarn does not implement the metastore method '{name}'"
        ))),
        other => other,
    }
}

/// Session and fb303 calls, answered without the catalog.
fn session_call(shared: &Shared, name: &str, a: &Args) -> Option<Reply> {
    let value = match name {
        // The user a client claims is not believed (see the module docs); the groups are
        // echoed as Hive does.
        "set_ugi" => Value::strings(a.strings(2)),
        "get_config_value" => return Some(config_value(a)),
        "getMetaConf" => Value::string(""),
        "getName" => Value::string("tarn"),
        "getVersion" => Value::string(env!("CARGO_PKG_VERSION")),
        // fb_status.ALIVE
        "getStatus" => Value::I32(2),
        "getStatusDetails" => Value::string("tarn metastore"),
        "aliveSince" => Value::I64(shared.started),
        _ => return None,
    };
    Some(Ok(Some(value)))
}

/// `get_config_value` as Hive answers it: keys under `hive.`, `hdfs.` and `mapred.` get their
/// value (the client's default when tarn has none), others `ConfigValSecurityException`.
fn config_value(a: &Args) -> Reply {
    let key = a.str(1)?;
    if !["hive.", "hdfs.", "mapred."]
        .iter()
        .any(|p| key.starts_with(p))
    {
        return Err(CallError::Exception(
            idl::Exc::ConfigValSecurity,
            format!("for security reasons the config key {key} cannot be accessed"),
        ));
    }
    let value = match key.as_str() {
        "hive.exec.default.partition.name" => {
            tarn_engine::catalog::paths::DEFAULT_PARTITION_NAME.to_string()
        }
        "hive.metastore.try.direct.sql" | "hive.metastore.try.direct.sql.ddl" => "true".into(),
        _ => a.opt_str(2).unwrap_or_default(),
    };
    Ok(Some(Value::string(value)))
}

#[cfg(test)]
mod tests {
    use super::Cidr;

    #[test]
    fn cidr_matching() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.1.2.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        let any: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains("1.2.3.4".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
    }
}
