//! CREATE / ALTER / DROP USER: only superusers (and the local CLI) manage users.

use tarn_catalog::{ScramVerifier, User};
use tarn_sql::UserOption;

use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;

fn require_superuser(session: &Session, what: &str) -> Result<()> {
    if session.is_superuser() {
        Ok(())
    } else {
        Err(EngineError::PermissionDenied(format!(
            "only superusers may {what}"
        )))
    }
}

/// The password and superuser flag named by the options.
fn read_options(options: &[UserOption]) -> Result<(Option<ScramVerifier>, Option<bool>)> {
    let mut verifier = None;
    let mut superuser = None;
    for option in options {
        match option {
            UserOption::Password(Some(p)) => verifier = Some(ScramVerifier::new(p)?),
            UserOption::Password(None) => {
                return Err(EngineError::InvalidParameter(
                    "tarn users need a password (PASSWORD NULL is not allowed)".into(),
                ));
            }
            UserOption::Superuser(s) => superuser = Some(*s),
        }
    }
    Ok((verifier, superuser))
}

pub(super) async fn create(
    session: &Session,
    name: &str,
    if_not_exists: bool,
    options: &[UserOption],
) -> Result<Output> {
    require_superuser(session, "create users")?;
    let (verifier, superuser) = read_options(options)?;
    let verifier = verifier
        .ok_or_else(|| EngineError::InvalidParameter("CREATE USER needs a PASSWORD".into()))?;
    let user = User {
        name: name.to_string(),
        verifier,
        superuser: superuser.unwrap_or(false),
        create_time: super::now(),
    };
    session
        .engine
        .metastore()
        .create_user(user, if_not_exists)
        .await?;
    Ok(Output::command("CREATE ROLE"))
}

pub(super) async fn alter(session: &Session, name: &str, options: &[UserOption]) -> Result<Output> {
    let (verifier, superuser) = read_options(options)?;
    // Users may change their own password; everything else needs a superuser.
    if superuser.is_some() || name != session.user() {
        require_superuser(session, "alter other users or superuser status")?;
    }
    session
        .engine
        .metastore()
        .alter_user(name, verifier, superuser)
        .await?;
    Ok(Output::command("ALTER ROLE"))
}

pub(super) async fn drop(session: &Session, name: &str, if_exists: bool) -> Result<Output> {
    require_superuser(session, "drop users")?;
    if name == session.user() {
        return Err(EngineError::InvalidParameter(
            "current user cannot be dropped".into(),
        ));
    }
    session
        .engine
        .metastore()
        .drop_user(name, if_exists)
        .await?;
    Ok(Output::command("DROP ROLE"))
}
