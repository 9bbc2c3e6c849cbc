//! Users of tarn's network front ends and their SCRAM-SHA-256 verifiers.
//!
//! Only the verifier is stored, in PostgreSQL's `pg_authid` format
//! (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802 / RFC 7677), so a stolen
//! catalog yields no password and a client proves knowledge of the password without sending it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::{CatalogError, Result};

/// PostgreSQL's default iteration count for SCRAM-SHA-256.
pub const SCRAM_ITERATIONS: u32 = 4096;

/// A role (PostgreSQL's model: a user is a role that may log in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// `None`: no password; the role cannot authenticate.
    pub verifier: Option<ScramVerifier>,
    /// Bypasses every privilege check.
    pub superuser: bool,
    /// LOGIN: may open sessions.
    pub can_login: bool,
    /// CREATEROLE: may create, alter and drop non-superuser roles and grant their membership.
    pub create_role: bool,
    /// INHERIT: uses the privileges of the roles it is a member of without SET ROLE.
    pub inherit: bool,
    /// Seconds since the Unix epoch.
    pub create_time: i64,
}

impl User {
    /// A role that may log in with `verifier` (CREATE USER's defaults).
    pub fn login(name: impl Into<String>, verifier: ScramVerifier, superuser: bool) -> Self {
        Self {
            name: name.into(),
            verifier: Some(verifier),
            superuser,
            can_login: true,
            create_role: false,
            inherit: true,
            create_time: chrono::Utc::now().timestamp(),
        }
    }

    /// The verifier to authenticate against: none for roles that may not log in.
    pub fn login_verifier(&self) -> Option<&ScramVerifier> {
        self.verifier.as_ref().filter(|_| self.can_login)
    }
}

/// What the server keeps of a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail; should it ever, an all-zero MAC
    // matches no stored key and authentication fails closed instead of panicking.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

impl ScramVerifier {
    /// A verifier for `password` with a fresh random salt. Empty passwords are refused: an
    /// account without a password could never log in through SCRAM anyway.
    pub fn new(password: &str) -> Result<Self> {
        if password.is_empty() {
            return Err(CatalogError::invalid("empty passwords are not allowed"));
        }
        let mut salt = vec![0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| CatalogError::TaskFailed(e.to_string()))?;
        Ok(Self::with_salt(password, salt, SCRAM_ITERATIONS))
    }

    /// A verifier for `password` with the given salt (deterministic, for tests and clients).
    pub fn with_salt(password: &str, salt: Vec<u8>, iterations: u32) -> Self {
        let salted = salted_password(password, &salt, iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        Self {
            iterations,
            stored_key: sha256(&client_key),
            server_key: hmac_sha256(&salted, b"Server Key"),
            salt,
        }
    }

    /// Checks a client's proof over `auth_message` (RFC 5802 section 3): recovers the client key
    /// from the proof and compares its hash with the stored key, in constant time.
    pub fn verify_proof(&self, auth_message: &[u8], proof: &[u8]) -> bool {
        if proof.len() != 32 {
            return false;
        }
        let signature = hmac_sha256(&self.stored_key, auth_message);
        let client_key: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
        let hashed = sha256(&client_key);
        hashed
            .iter()
            .zip(self.stored_key)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Checks a password sent in the clear (pg cleartext auth, Flight SQL Basic auth): derives
    /// the client key as SCRAM would and compares its hash with the stored key in constant time.
    pub fn verify_password(&self, password: &str) -> bool {
        if password.is_empty() {
            return false;
        }
        let salted = salted_password(password, &self.salt, self.iterations);
        let hashed = sha256(&hmac_sha256(&salted, b"Client Key"));
        hashed
            .iter()
            .zip(self.stored_key)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// The server's signature over `auth_message`, proving to the client that the server knows
    /// the verifier.
    pub fn server_signature(&self, auth_message: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.server_key, auth_message)
    }

    /// Parses the `pg_authid` text form.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || CatalogError::Corrupt("malformed SCRAM verifier".into());
        let rest = text.strip_prefix("SCRAM-SHA-256$").ok_or_else(bad)?;
        let (params, keys) = rest.split_once('$').ok_or_else(bad)?;
        let (iterations, salt) = params.split_once(':').ok_or_else(bad)?;
        let (stored, server) = keys.split_once(':').ok_or_else(bad)?;
        let key = |s: &str| -> Result<[u8; 32]> {
            B64.decode(s)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(bad)
        };
        Ok(Self {
            iterations: iterations.parse().map_err(|_| bad())?,
            salt: B64.decode(salt).map_err(|_| bad())?,
            stored_key: key(stored)?,
            server_key: key(server)?,
        })
    }
}

impl std::fmt::Display for ScramVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }
}

/// `Hi()` of RFC 5802 (PBKDF2-HMAC-SHA-256, one block) over the SASLprep'd password.
pub fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    // PostgreSQL falls back to the raw bytes when SASLprep rejects the password.
    let prepared = stringprep::saslprep(password)
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| password.to_string());
    // Hi(): one 32-byte block of PBKDF2-HMAC-SHA-256.
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha256(prepared.as_bytes(), &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac_sha256(prepared.as_bytes(), &u);
        out.iter_mut().zip(u).for_each(|(o, x)| *o ^= x);
    }
    out
}

/// Checks a user name: non-empty, printable, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1).
pub fn validate_user_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 63 || name.chars().any(char::is_control) {
        return Err(CatalogError::invalid(format!(
            "invalid user name '{name}': 1 to 63 printable characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_round_trips_through_text() {
        let v = ScramVerifier::new("s3cret").unwrap();
        let text = v.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"));
        assert_eq!(ScramVerifier::parse(&text).unwrap(), v);
        assert!(!text.contains("s3cret"));
    }

    /// The SCRAM-SHA-256 example exchange of RFC 7677 section 3.
    #[test]
    fn rfc7677_exchange_verifies() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let v = ScramVerifier::with_salt("pencil", salt, 4096);
        let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let auth = format!(
            "n=user,r=rOprNGfwEbeRWgbNEkqO,r={nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r={nonce}"
        );
        let proof = B64
            .decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap();
        assert!(v.verify_proof(auth.as_bytes(), &proof));
        assert_eq!(
            B64.encode(v.server_signature(auth.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        let mut wrong = proof.clone();
        wrong[0] ^= 1;
        assert!(!v.verify_proof(auth.as_bytes(), &wrong));
    }

    #[test]
    fn passwords_verify_against_the_stored_key() {
        let v = ScramVerifier::with_salt("pencil", b"saltsalt".to_vec(), 4096);
        assert!(v.verify_password("pencil"));
        assert!(!v.verify_password("pencil2"));
        assert!(!v.verify_password(""));
    }

    #[test]
    fn malformed_verifiers_and_names_are_refused() {
        assert!(ScramVerifier::parse("md5abc").is_err());
        assert!(ScramVerifier::parse("SCRAM-SHA-256$x:AAAA$AA:AA").is_err());
        assert!(ScramVerifier::new("").is_err());
        assert!(validate_user_name("").is_err());
        assert!(validate_user_name(&"a".repeat(64)).is_err());
        assert!(validate_user_name("alice").is_ok());
    }
}
