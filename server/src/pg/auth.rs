//! Authentication: SCRAM-SHA-256 (RFC 5802/7677, as PostgreSQL implements it, without channel
//! binding) by default; cleartext passwords or `trust` (loopback only) when configured.
//!
//! Unknown users, wrong passwords and empty passwords all fail the same way (28P01), after the
//! same exchange: the engine's authenticator gives an unknown user a made-up salt that is
//! stable across restarts.

use bytes::Bytes;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::startup::Authentication;
use tarn_engine::auth::{Authenticator, MECHANISM, ScramServer};
use tarn_engine::catalog::User;
use tarn_engine::{Engine, ErrorKind};

use super::messages::{Frontend, Reader};
use super::sqlstate::PgError;
use super::wire::{Wire, WireError};

/// How clients prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    #[default]
    ScramSha256,
    /// The password in clear (only sensible over TLS).
    Cleartext,
    /// No password, for connections from loopback addresses only.
    Trust,
}

impl std::str::FromStr for AuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "scram-sha-256" | "scram" => Ok(AuthMethod::ScramSha256),
            "password" | "cleartext" => Ok(AuthMethod::Cleartext),
            "trust" => Ok(AuthMethod::Trust),
            other => Err(format!(
                "unknown auth method '{other}' (scram-sha-256, password, trust)"
            )),
        }
    }
}

fn protocol(message: &str) -> WireError {
    WireError::Protocol(PgError::protocol(message))
}

fn engine_error(e: tarn_engine::EngineError) -> WireError {
    WireError::Protocol(PgError::from_engine(&e, None))
}

/// Runs the exchange; returns the authenticated user. The checks themselves (verifier lookup,
/// decoys for unknown users, constant work for cleartext passwords) are the engine's
/// [`Authenticator`]'s, shared with every front end.
pub async fn authenticate(
    wire: &mut Wire,
    engine: &Engine,
    user: &str,
    method: AuthMethod,
    loopback: bool,
) -> Result<User, WireError> {
    let auth = engine.authenticator();
    match method {
        AuthMethod::Trust if loopback => auth.trust(user).await.map_err(engine_error),
        AuthMethod::Trust => Err(WireError::Protocol(PgError::new(
            ErrorKind::AuthenticationFailed,
            format!(
                "trust authentication is only allowed from loopback addresses (user \"{user}\")"
            ),
        ))),
        AuthMethod::Cleartext => cleartext(wire, auth, user).await,
        AuthMethod::ScramSha256 => {
            let login = auth.login(user).await.map_err(engine_error)?;
            scram(wire, auth.scram(login)).await
        }
    }
}

async fn read_password_message(wire: &mut Wire) -> Result<Bytes, WireError> {
    wire.flush().await?;
    match wire.read_auth_message().await? {
        Frontend::Password(body) => Ok(body),
        _ => Err(protocol("expected a password response")),
    }
}

async fn cleartext(wire: &mut Wire, auth: &Authenticator, user: &str) -> Result<User, WireError> {
    wire.send(PgWireBackendMessage::Authentication(
        Authentication::CleartextPassword,
    ));
    let body = read_password_message(wire).await?;
    let password = Reader::new(body).cstring().map_err(WireError::Protocol)?;
    auth.verify_password(user, &password)
        .await
        .map_err(engine_error)
}

async fn scram(wire: &mut Wire, mut server: ScramServer) -> Result<User, WireError> {
    wire.send(PgWireBackendMessage::Authentication(Authentication::SASL(
        vec![MECHANISM.into()],
    )));
    // SASLInitialResponse: mechanism, length, client-first-message.
    let mut r = Reader::new(read_password_message(wire).await?);
    let mechanism = r.cstring().map_err(WireError::Protocol)?;
    if mechanism != MECHANISM {
        return Err(protocol(
            "client selected an invalid SASL authentication mechanism",
        ));
    }
    let len = r.i32().map_err(WireError::Protocol)?;
    let client_first = r.rest();
    if len < 0 || len as usize != client_first.len() {
        return Err(protocol("malformed SASLInitialResponse"));
    }
    let server_first = server.first(&client_first).map_err(engine_error)?;
    wire.send(PgWireBackendMessage::Authentication(
        Authentication::SASLContinue(Bytes::from(server_first)),
    ));
    let client_final = read_password_message(wire).await?;
    let (user, server_final) = server.finish(&client_final).map_err(engine_error)?;
    wire.send(PgWireBackendMessage::Authentication(
        Authentication::SASLFinal(Bytes::from(server_final)),
    ));
    Ok(user)
}
