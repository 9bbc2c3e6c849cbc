//! Authentication: SCRAM-SHA-256 (RFC 5802/7677, as PostgreSQL implements it, without channel
//! binding) by default; cleartext passwords or `trust` (loopback only) when configured.
//!
//! Unknown users, wrong passwords and empty passwords all fail the same way (28P01), after the
//! same exchange: an unknown user gets a made-up but stable salt.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::startup::Authentication;
use tarn_engine::catalog::users::hmac_sha256;
use tarn_engine::catalog::{SCRAM_ITERATIONS, ScramVerifier, User};
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

fn failed(user: &str) -> WireError {
    WireError::Protocol(PgError::new(
        ErrorKind::AuthenticationFailed,
        format!("password authentication failed for user \"{user}\""),
    ))
}

fn protocol(message: &str) -> WireError {
    WireError::Protocol(PgError::protocol(message))
}

/// Runs the exchange; returns the authenticated user.
pub async fn authenticate(
    wire: &mut Wire,
    engine: &Engine,
    user: &str,
    method: AuthMethod,
    loopback: bool,
    server_secret: &[u8; 32],
) -> Result<User, WireError> {
    let stored = engine
        .metastore()
        .get_user(user)
        .await
        .map_err(|e| WireError::Protocol(PgError::from_engine(&e.into(), None)))?
        // A role that may not log in (NOLOGIN, no password) is treated as an unknown user.
        .filter(|u| u.login_verifier().is_some());
    match method {
        AuthMethod::Trust if loopback => stored.ok_or_else(|| failed(user)),
        AuthMethod::Trust => Err(WireError::Protocol(PgError::new(
            ErrorKind::AuthenticationFailed,
            format!(
                "trust authentication is only allowed from loopback addresses (user \"{user}\")"
            ),
        ))),
        AuthMethod::Cleartext => cleartext(wire, user, stored).await,
        AuthMethod::ScramSha256 => {
            let verifier = stored
                .as_ref()
                .and_then(|u| u.login_verifier().cloned())
                .unwrap_or_else(|| decoy_verifier(user, server_secret));
            scram(wire, &verifier).await.map_err(|e| match e {
                WireError::Protocol(p) if p.code == "28P01" => failed(user),
                other => other,
            })?;
            stored.ok_or_else(|| failed(user))
        }
    }
}

/// A verifier no password matches, with a salt that is stable per user name.
fn decoy_verifier(user: &str, secret: &[u8; 32]) -> ScramVerifier {
    let salt = hmac_sha256(secret, user.as_bytes())[..16].to_vec();
    ScramVerifier {
        iterations: SCRAM_ITERATIONS,
        salt,
        stored_key: hmac_sha256(secret, b"stored"),
        server_key: hmac_sha256(secret, b"server"),
    }
}

async fn read_password_message(wire: &mut Wire) -> Result<Bytes, WireError> {
    wire.flush().await?;
    match wire.read_message().await? {
        Frontend::Password(body) => Ok(body),
        _ => Err(protocol("expected a password response")),
    }
}

async fn cleartext(wire: &mut Wire, user: &str, stored: Option<User>) -> Result<User, WireError> {
    wire.send(PgWireBackendMessage::Authentication(
        Authentication::CleartextPassword,
    ));
    let body = read_password_message(wire).await?;
    let password = Reader::new(body).cstring().map_err(WireError::Protocol)?;
    let Some(stored) = stored else {
        return Err(failed(user));
    };
    if stored
        .login_verifier()
        .is_some_and(|v| v.verify_password(&password))
    {
        Ok(stored)
    } else {
        Err(failed(user))
    }
}

fn attribute<'a>(message: &'a str, key: char) -> Option<&'a str> {
    message
        .split(',')
        .find_map(|part| part.strip_prefix(key).and_then(|p| p.strip_prefix('=')))
}

async fn scram(wire: &mut Wire, verifier: &ScramVerifier) -> Result<(), WireError> {
    wire.send(PgWireBackendMessage::Authentication(Authentication::SASL(
        vec!["SCRAM-SHA-256".into()],
    )));
    // SASLInitialResponse: mechanism, length, client-first-message.
    let mut r = Reader::new(read_password_message(wire).await?);
    let mechanism = r.cstring().map_err(WireError::Protocol)?;
    if mechanism != "SCRAM-SHA-256" {
        return Err(protocol(
            "client selected an invalid SASL authentication mechanism",
        ));
    }
    let len = r.i32().map_err(WireError::Protocol)?;
    let client_first = r.rest();
    if len < 0 || len as usize != client_first.len() {
        return Err(protocol("malformed SASLInitialResponse"));
    }
    let client_first =
        std::str::from_utf8(&client_first).map_err(|_| protocol("malformed SCRAM message"))?;
    // gs2 header: channel binding flag, optional authzid.
    let (gs2_flag, rest) = client_first
        .split_once(',')
        .ok_or_else(|| protocol("malformed SCRAM message"))?;
    let (_authzid, client_first_bare) = rest
        .split_once(',')
        .ok_or_else(|| protocol("malformed SCRAM message"))?;
    if !(gs2_flag == "n" || gs2_flag == "y") {
        return Err(protocol("SCRAM channel binding is not supported"));
    }
    let gs2_header = &client_first[..client_first.len() - client_first_bare.len()];
    let client_nonce = attribute(client_first_bare, 'r')
        .filter(|n| !n.is_empty())
        .ok_or_else(|| protocol("SCRAM message has no nonce"))?;

    let mut random = [0u8; 18];
    getrandom::fill(&mut random).map_err(|_| protocol("no randomness"))?;
    let nonce = format!("{client_nonce}{}", B64.encode(random));
    let server_first = format!(
        "r={nonce},s={},i={}",
        B64.encode(&verifier.salt),
        verifier.iterations
    );
    wire.send(PgWireBackendMessage::Authentication(
        Authentication::SASLContinue(Bytes::from(server_first.clone())),
    ));

    let client_final = read_password_message(wire).await?;
    let client_final =
        std::str::from_utf8(&client_final).map_err(|_| protocol("malformed SCRAM message"))?;
    let (without_proof, proof) = client_final
        .rsplit_once(",p=")
        .ok_or_else(|| protocol("SCRAM message has no proof"))?;
    let binding = attribute(without_proof, 'c').and_then(|c| B64.decode(c).ok());
    if binding.as_deref() != Some(gs2_header.as_bytes()) {
        return Err(protocol("SCRAM channel binding check failed"));
    }
    if attribute(without_proof, 'r') != Some(nonce.as_str()) {
        return Err(protocol("SCRAM nonce mismatch"));
    }
    let proof = B64
        .decode(proof)
        .map_err(|_| protocol("malformed SCRAM proof"))?;
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    if !verifier.verify_proof(auth_message.as_bytes(), &proof) {
        return Err(WireError::Protocol(PgError::new(
            ErrorKind::AuthenticationFailed,
            "",
        )));
    }
    let signature = verifier.server_signature(auth_message.as_bytes());
    wire.send(PgWireBackendMessage::Authentication(
        Authentication::SASLFinal(Bytes::from(format!("v={}", B64.encode(signature)))),
    ));
    Ok(())
}
