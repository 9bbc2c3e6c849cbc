//! The opening of a connection: SSL/GSS negotiation, then a startup packet or a cancel request.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::messages::Reader;
use super::sqlstate::PgError;
use super::wire::{Io, MAX_STARTUP_LEN};

const SSL_REQUEST: i32 = 80877103;
const GSSENC_REQUEST: i32 = 80877104;
const CANCEL_REQUEST: i32 = 80877102;

/// What a new connection asked for.
pub enum Opening {
    Startup {
        io: Box<dyn Io>,
        params: BTreeMap<String, String>,
        /// Protocol options (`_pq_.*`) and the minor version the client asked for, to be
        /// answered with NegotiateProtocolVersion.
        unsupported_minor: Option<(i32, Vec<String>)>,
        tls: bool,
    },
    Cancel {
        pid: i32,
        secret: i32,
    },
}

/// A failed opening: the error to send (if the stream is still usable) before closing.
pub struct OpeningError {
    pub io: Option<Box<dyn Io>>,
    pub error: PgError,
}

fn fail(io: Option<Box<dyn Io>>, error: PgError) -> OpeningError {
    OpeningError { io, error }
}

/// Reads one length-prefixed startup-phase packet, exactly (TLS may follow on the socket).
async fn read_packet(io: &mut (dyn Io + '_)) -> Result<Reader, PgError> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len)
        .await
        .map_err(|_| PgError::protocol("incomplete startup packet"))?;
    let len = i32::from_be_bytes(len);
    if !(8..=MAX_STARTUP_LEN as i32).contains(&len) {
        return Err(PgError::protocol(format!(
            "invalid length of startup packet: {len}"
        )));
    }
    let mut body = vec![0u8; len as usize - 4];
    io.read_exact(&mut body)
        .await
        .map_err(|_| PgError::protocol("incomplete startup packet"))?;
    Ok(Reader::new(body.into()))
}

pub async fn negotiate(
    tcp: TcpStream,
    tls: Option<Arc<TlsAcceptor>>,
) -> Result<Opening, OpeningError> {
    let _ = tcp.set_nodelay(true);
    let mut io: Box<dyn Io> = Box::new(tcp);
    let mut is_tls = false;
    loop {
        let mut packet = match read_packet(io.as_mut()).await {
            Ok(p) => p,
            Err(e) => return Err(fail(Some(io), e)),
        };
        let code = packet.i32().map_err(|e| fail(None, e))?;
        match code {
            SSL_REQUEST | GSSENC_REQUEST => {
                let accept_tls = code == SSL_REQUEST && !is_tls && tls.is_some();
                if io
                    .write_all(if accept_tls { b"S" } else { b"N" })
                    .await
                    .is_err()
                {
                    return Err(fail(None, PgError::protocol("connection lost")));
                }
                if let (true, Some(acceptor)) = (accept_tls, tls.as_ref()) {
                    match acceptor.accept(io).await {
                        Ok(stream) => io = Box::new(stream),
                        Err(e) => {
                            tracing::debug!("TLS handshake failed: {e}");
                            return Err(fail(None, PgError::protocol("TLS handshake failed")));
                        }
                    }
                    is_tls = true;
                }
            }
            CANCEL_REQUEST => {
                let pid = packet.i32().map_err(|e| fail(None, e))?;
                let secret = packet.i32().map_err(|e| fail(None, e))?;
                return Ok(Opening::Cancel { pid, secret });
            }
            version if version >> 16 == 3 => {
                let (params, options) = match read_params(&mut packet) {
                    Ok(p) => p,
                    Err(e) => return Err(fail(Some(io), e)),
                };
                let minor = version & 0xffff;
                let unsupported_minor =
                    (minor > 0 || !options.is_empty()).then_some((minor, options));
                return Ok(Opening::Startup {
                    io,
                    params,
                    unsupported_minor,
                    tls: is_tls,
                });
            }
            other => {
                let (major, minor) = (other >> 16, other & 0xffff);
                return Err(fail(
                    Some(io),
                    PgError::protocol(format!(
                        "unsupported frontend protocol {major}.{minor}: server supports 3.0"
                    )),
                ));
            }
        }
    }
}

/// `name\0value\0 ... \0`; `_pq_.*` protocol options are returned separately.
fn read_params(packet: &mut Reader) -> Result<(BTreeMap<String, String>, Vec<String>), PgError> {
    let mut params = BTreeMap::new();
    let mut options = Vec::new();
    loop {
        let name = packet.cstring()?;
        if name.is_empty() {
            break;
        }
        let value = packet.cstring()?;
        if name.starts_with("_pq_.") {
            options.push(name);
        } else {
            params.insert(name, value);
        }
    }
    Ok((params, options))
}
