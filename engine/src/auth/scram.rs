//! The server side of SCRAM-SHA-256 (RFC 5802 / RFC 7677, as PostgreSQL implements it, without
//! channel binding), independent of any wire protocol: a front end passes the client's
//! messages in and sends back what this returns.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::{Login, failed};
use crate::error::{EngineError, ErrorKind, Result};
use tarn_catalog::User;

/// The mechanism name clients select.
pub const MECHANISM: &str = "SCRAM-SHA-256";

/// A SCRAM exchange in progress.
pub struct ScramServer {
    login: Login,
    /// Set by [`ScramServer::first`]: what the final message is checked against.
    state: Option<FirstExchange>,
}

struct FirstExchange {
    nonce: String,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
}

/// A malformed exchange: the client broke the protocol (08P01).
fn malformed(message: &str) -> EngineError {
    EngineError::Session {
        kind: ErrorKind::ProtocolViolation,
        message: message.to_string(),
    }
}

fn attribute(message: &str, key: char) -> Option<&str> {
    message
        .split(',')
        .find_map(|part| part.strip_prefix(key).and_then(|p| p.strip_prefix('=')))
}

impl ScramServer {
    pub(super) fn new(login: Login) -> Self {
        Self { login, state: None }
    }

    /// Takes the client-first message (`n,,n=…,r=…`); returns the server-first message
    /// (`r=<nonce>,s=<salt>,i=<iterations>`), the same for real and decoy users.
    pub fn first(&mut self, client_first: &[u8]) -> Result<String> {
        let client_first =
            std::str::from_utf8(client_first).map_err(|_| malformed("malformed SCRAM message"))?;
        // gs2 header: channel binding flag, optional authzid.
        let (gs2_flag, rest) = client_first
            .split_once(',')
            .ok_or_else(|| malformed("malformed SCRAM message"))?;
        let (_authzid, client_first_bare) = rest
            .split_once(',')
            .ok_or_else(|| malformed("malformed SCRAM message"))?;
        if !(gs2_flag == "n" || gs2_flag == "y") {
            return Err(malformed("SCRAM channel binding is not supported"));
        }
        let gs2_header = &client_first[..client_first.len() - client_first_bare.len()];
        let client_nonce = attribute(client_first_bare, 'r')
            .filter(|n| !n.is_empty())
            .ok_or_else(|| malformed("SCRAM message has no nonce"))?;
        let mut random = [0u8; 18];
        getrandom::fill(&mut random)
            .map_err(|e| EngineError::Internal(format!("no randomness for a SCRAM nonce: {e}")))?;
        let nonce = format!("{client_nonce}{}", B64.encode(random));
        let verifier = self.login.verifier();
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&verifier.salt),
            verifier.iterations
        );
        self.state = Some(FirstExchange {
            nonce,
            gs2_header: gs2_header.to_string(),
            client_first_bare: client_first_bare.to_string(),
            server_first: server_first.clone(),
        });
        Ok(server_first)
    }

    /// Takes the client-final message; returns the user and the server-final message
    /// (`v=<signature>`) when the proof holds, 28P01 otherwise (also for decoys).
    pub fn finish(self, client_final: &[u8]) -> Result<(User, String)> {
        let state = self
            .state
            .ok_or_else(|| malformed("SCRAM final message before the first"))?;
        let client_final =
            std::str::from_utf8(client_final).map_err(|_| malformed("malformed SCRAM message"))?;
        let (without_proof, proof) = client_final
            .rsplit_once(",p=")
            .ok_or_else(|| malformed("SCRAM message has no proof"))?;
        let binding = attribute(without_proof, 'c').and_then(|c| B64.decode(c).ok());
        if binding.as_deref() != Some(state.gs2_header.as_bytes()) {
            return Err(malformed("SCRAM channel binding check failed"));
        }
        if attribute(without_proof, 'r') != Some(state.nonce.as_str()) {
            return Err(malformed("SCRAM nonce mismatch"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| malformed("malformed SCRAM proof"))?;
        let auth_message = format!(
            "{},{},{without_proof}",
            state.client_first_bare, state.server_first
        );
        let verifier = self.login.verifier().clone();
        let proved = verifier.verify_proof(auth_message.as_bytes(), &proof);
        let name = self.login.name().to_string();
        let user = self.login.accept(proved).map_err(|_| failed(&name))?;
        let signature = verifier.server_signature(auth_message.as_bytes());
        Ok((user, format!("v={}", B64.encode(signature))))
    }
}
