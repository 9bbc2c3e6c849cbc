//! `tarn serve`: the pg listener on the engine, with the bootstrap admin user.

use std::time::Duration;

use tarn_server::{AuthMethod, FlightConfig, PgConfig, TlsConfig};

use crate::config::{FlightFileConfig, PgFileConfig};
use crate::{Error as EngineError, Result, Tarn};

/// The listener settings from the `[pg]` config and command-line overrides.
pub fn pg_config(file: &PgFileConfig) -> Result<PgConfig> {
    let mut config = PgConfig::default();
    if let Some(listen) = &file.listen {
        config.listen = listen.parse().map_err(|_| {
            EngineError::InvalidParameter(format!("pg listen address '{listen}' is not host:port"))
        })?;
    }
    if let Some(db) = &file.database {
        config.database = db.clone();
    }
    if let Some(auth) = &file.auth {
        config.auth = auth
            .parse::<AuthMethod>()
            .map_err(EngineError::InvalidParameter)?;
    }
    config.tls = match (&file.tls_cert, &file.tls_key) {
        (Some(cert), Some(key)) => Some(TlsConfig {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (None, None) => None,
        _ => {
            return Err(EngineError::InvalidParameter(
                "TLS needs both a certificate and a key".into(),
            ));
        }
    };
    config.tls_required = file.tls_required;
    if let Some(n) = file.max_connections {
        config.max_connections = n;
    }
    if let Some(n) = file.superuser_reserved_connections {
        config.superuser_reserved_connections = n;
    }
    if let Some(mb) = file.copy_max_line_mb {
        config.copy_max_line = copy_max_line(mb)?;
    }
    config.shutdown_timeout = Duration::from_secs(30);
    Ok(config)
}

/// `copy_max_line_mb` in bytes, within 1 MiB ..= 1 GiB.
fn copy_max_line(mb: usize) -> Result<usize> {
    let bytes = mb.saturating_mul(1 << 20);
    if !(1..=tarn_server::pg::MAX_COPY_LINE).contains(&bytes) {
        return Err(EngineError::InvalidParameter(format!(
            "pg.copy_max_line_mb must be 1 ..= 1024, not {mb}"
        )));
    }
    Ok(bytes)
}

/// The Flight SQL listener's settings; `None` when it is turned off (`listen = "off"`).
pub fn flight_config(file: &FlightFileConfig, pg: &PgConfig) -> Result<Option<FlightConfig>> {
    let mut config = FlightConfig::default();
    match file.listen.as_deref() {
        Some("off") => return Ok(None),
        Some(listen) => {
            config.listen = listen.parse().map_err(|_| {
                EngineError::InvalidParameter(format!(
                    "Flight listen address '{listen}' is not host:port (or off)"
                ))
            })?;
        }
        None => {}
    }
    config.tls = pg.tls.clone();
    if let Some(n) = file.max_sessions {
        config.max_sessions = n;
    }
    if let Some(n) = file.max_sessions_per_user {
        config.max_sessions_per_user = n;
    }
    if let Some(secs) = file.session_idle_timeout_secs {
        config.session_idle_timeout = Duration::from_secs(secs);
    }
    config.shutdown_timeout = pg.shutdown_timeout;
    Ok(Some(config))
}

/// The metastore listener's settings; `None` unless a listen address is configured.
pub fn hms_config(
    file: &crate::config::HmsFileConfig,
    pg: &PgConfig,
) -> Result<Option<tarn_server::HmsConfig>> {
    let listen = match file.listen.as_deref() {
        None | Some("off") => return Ok(None),
        Some(listen) => listen.parse().map_err(|_| {
            EngineError::InvalidParameter(format!(
                "HMS listen address '{listen}' is not host:port (or off)"
            ))
        })?,
    };
    let mut config = tarn_server::HmsConfig::new(listen);
    if let Some(role) = &file.role {
        config.role = role.clone();
    }
    for client in &file.clients {
        config.clients.push(tarn_server::hms::ClientRole {
            cidr: client.cidr.parse().map_err(EngineError::InvalidParameter)?,
            role: client.role.clone(),
        });
    }
    if let Some(n) = file.max_connections {
        config.max_connections = n.max(1);
    }
    config.tls = pg.tls.clone();
    Ok(Some(config))
}

/// A random password: 24 URL-safe characters. Without the OS's randomness there is no safe
/// password to make up (all zero bytes would give a guessable one), so that is an error.
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| {
        EngineError::Internal(format!("no randomness for the bootstrap password: {e}"))
    })?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// Creates the first (superuser) account when the catalog has none. Returns the generated
/// password when one had to be made up, so the caller can print it once.
pub async fn bootstrap_admin(tarn: &Tarn, file: &PgFileConfig) -> Result<Option<(String, String)>> {
    // PostgreSQL's predefined roles are always there; what counts is a role that can log in.
    if tarn.engine().roles().await?.iter().any(|u| u.can_login) {
        return Ok(None);
    }
    let name = file.admin_user.clone().unwrap_or_else(|| "tarn".into());
    let (password, generated) = match &file.admin_password {
        Some(p) if !p.is_empty() => (p.clone(), false),
        _ => (generate_password()?, true),
    };
    let create = crate::sql::Statement::CreateUser {
        name: name.clone(),
        if_not_exists: true,
        options: vec![
            crate::sql::UserOption::Password(Some(password.clone())),
            crate::sql::UserOption::Superuser(true),
        ],
        login_by_default: true,
    };
    tarn.engine().session(&name).execute(create).await?;
    // Servers starting together on one shared catalog race here: only the one whose password
    // was stored shows it.
    let stored = tarn
        .engine()
        .roles()
        .await?
        .into_iter()
        .find(|u| u.name == name);
    let ours = stored
        .and_then(|u| u.verifier)
        .is_some_and(|v| v.verify_password(&password));
    Ok((generated && ours).then_some((name, password)))
}
