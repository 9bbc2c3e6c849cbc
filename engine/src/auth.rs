//! Authentication: the one door every front end (pg wire, Flight SQL, those to come) uses.
//!
//! A login attempt first becomes a [`Login`]: the user's SCRAM verifier, or, for a user that
//! does not exist (or cannot log in), a decoy verifier derived from a per-data-dir secret, so
//! the exchange looks the same either way: same salt length and iteration count, a salt that
//! is stable for a name across restarts, and a failure that is always 28P01. Cleartext
//! passwords (pg `password` auth, Flight Basic) always run the full PBKDF2, whether the user
//! is unknown, the password empty or wrong, so timing does not reveal which names exist.
//! Failed cleartext attempts are rate limited per user name (each costs a PBKDF2), see
//! [`throttle`].

mod scram;
mod secret;
mod throttle;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tarn_catalog::users::hmac_sha256;
use tarn_catalog::{Metastore, SCRAM_ITERATIONS, ScramVerifier, User};

use crate::error::{EngineError, ErrorKind, Result};

pub use scram::{MECHANISM, ScramServer};
pub use throttle::LoginFailureLimit;

/// Length of a decoy salt (as [`ScramVerifier::new`] makes real ones).
const SALT_LEN: usize = 16;

/// One login attempt: the verifier to check the client against, and the user it belongs to
/// (`None` for a decoy, which no password or proof matches).
pub struct Login {
    name: String,
    user: Option<User>,
    verifier: ScramVerifier,
}

impl Login {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier the exchange uses (the user's, or a decoy).
    pub fn verifier(&self) -> &ScramVerifier {
        &self.verifier
    }

    /// The user, once the client proved it knows the password; the same 28P01 otherwise.
    fn accept(self, proved: bool) -> Result<User> {
        match self.user {
            Some(user) if proved => Ok(user),
            _ => Err(failed(&self.name)),
        }
    }
}

/// Authentication failed: one message whatever was wrong (user, password, empty password).
pub fn failed(user: &str) -> EngineError {
    EngineError::Session {
        kind: ErrorKind::AuthenticationFailed,
        message: format!("password authentication failed for user \"{user}\""),
    }
}

/// The engine's authentication service (see the module docs).
pub struct Authenticator {
    metastore: Arc<dyn Metastore>,
    /// Seeds decoy verifiers: the catalog's shared secret when servers share a catalog (so
    /// every server shows an unknown user the same decoy), else `<data_dir>/auth_secret`.
    secret: [u8; 32],
    throttle: throttle::Throttle,
    /// Password derivations run (cleartext checks), for tests and monitoring.
    password_checks: AtomicU64,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Opens the service for a data dir, creating its secret on first use unless the
    /// catalog's `shared` one is given.
    pub(crate) fn open(
        data_dir: &Path,
        metastore: Arc<dyn Metastore>,
        limit: LoginFailureLimit,
        shared: Option<[u8; 32]>,
    ) -> Result<Self> {
        let secret = match shared {
            Some(s) => s,
            None => secret::load_or_create(data_dir)?,
        };
        Ok(Self {
            metastore,
            secret,
            throttle: throttle::Throttle::new(limit),
            password_checks: AtomicU64::new(0),
        })
    }

    /// Starts a login as `name`. The ONE place a user's verifier is looked up: a user that
    /// does not exist (or, later, has no password or may not log in) gets a decoy.
    pub async fn login(&self, name: &str) -> Result<Login> {
        let stored = self.metastore.get_user(name).await?;
        // A role that may not log in (NOLOGIN, no password, a predefined pg_* role) is an
        // unknown user: the decoy, and 28P01 like every other failure.
        let stored = stored.filter(|u| u.login_verifier().is_some() && !u.name.starts_with("pg_"));
        Ok(match stored {
            Some(user) => Login {
                name: name.to_string(),
                verifier: user
                    .login_verifier()
                    .cloned()
                    .unwrap_or_else(|| self.decoy_verifier(name)),
                user: Some(user),
            },
            None => Login {
                name: name.to_string(),
                verifier: self.decoy_verifier(name),
                user: None,
            },
        })
    }

    /// A verifier no password matches, shaped like a real one, with a salt that is stable
    /// for `name` on this data dir (across restarts) and differs between data dirs.
    pub fn decoy_verifier(&self, name: &str) -> ScramVerifier {
        let keyed = |label: &[u8]| hmac_sha256(&self.secret, &[label, name.as_bytes()].concat());
        ScramVerifier {
            iterations: SCRAM_ITERATIONS,
            salt: keyed(b"salt\0")[..SALT_LEN].to_vec(),
            stored_key: keyed(b"stored\0"),
            server_key: keyed(b"server\0"),
        }
    }

    /// A trusted login (pg `trust` from loopback): the user if it may log in, else 28P01.
    pub async fn trust(&self, name: &str) -> Result<User> {
        self.login(name).await?.accept(true)
    }

    /// Checks a password sent in the clear. Always runs the full key derivation (unknown
    /// user, empty or wrong password alike), off the async threads; failed attempts count
    /// against the name's rate limit (successes never do), and a name over its limit fails fast (53300) without
    /// the derivation.
    pub async fn verify_password(&self, name: &str, password: &str) -> Result<User> {
        let admission = self.throttle.admit(name).await?;
        let login = self.login(name).await?;
        let verifier = login.verifier.clone();
        let password = password.to_string();
        self.password_checks.fetch_add(1, Ordering::Relaxed);
        let matched = tokio::task::spawn_blocking(move || password_matches(&verifier, &password))
            .await
            .map_err(|e| EngineError::Internal(format!("password check failed: {e}")))?;
        let accepted = login.accept(matched);
        if accepted.is_err() {
            admission.failed();
        }
        accepted
    }

    /// How many cleartext password derivations ran.
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
    }

    /// The server side of a SCRAM-SHA-256 exchange for `login`.
    pub fn scram(&self, login: Login) -> ScramServer {
        ScramServer::new(login)
    }
}

/// Derives the client key from `password` as SCRAM does and compares its hash with the stored
/// one in constant time. An empty password is derived too (then refused), so it costs the same.
fn password_matches(verifier: &ScramVerifier, password: &str) -> bool {
    let candidate = ScramVerifier::with_salt(password, verifier.salt.clone(), verifier.iterations);
    let same = candidate
        .stored_key
        .iter()
        .zip(verifier.stored_key)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    same && !password.is_empty()
}

#[cfg(test)]
mod tests;
