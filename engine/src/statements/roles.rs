//! Roles: CREATE / ALTER / DROP ROLE|USER, GRANT / REVOKE role membership, SET ROLE — the one
//! place roles are administered (the CLI's `tarn user` runs these statements too).
//!
//! PostgreSQL 15's rules: superusers do anything; CREATEROLE roles manage non-superuser roles
//! and their memberships (but not PostgreSQL's predefined roles, which only superusers or
//! holders of ADMIN OPTION hand out); every role may change its own password.

use tarn_catalog::{RoleChanges, RoleMembership, ScramVerifier, User, acl::predefined};
use tarn_sql::{RoleSpec, UserOption};

use crate::authz::Access;
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;

/// Names PostgreSQL reserves for itself (or for role specifications).
fn check_name(name: &str) -> Result<()> {
    tarn_catalog::users::validate_user_name(name)?;
    let lower = name.to_ascii_lowercase();
    if name.starts_with("pg_")
        || [
            "public",
            "none",
            "current_user",
            "current_role",
            "session_user",
        ]
        .contains(&lower.as_str())
    {
        return Err(EngineError::InvalidParameter(format!(
            "role name \"{name}\" is reserved"
        )));
    }
    Ok(())
}

/// Owners and grantees are recorded by name, and local (trusted) sessions record names that
/// are not roles: a CREATEROLE role may not create a role by such a name and so inherit what
/// it owns or was granted.
async fn refuse_claimed_name(session: &Session, name: &str) -> Result<()> {
    let metastore = session.engine.metastore();
    let mut claimed = metastore
        .list_grants(tarn_catalog::GrantScope::All)
        .await?
        .iter()
        .any(|g| g.grantee == name || g.grantor == name);
    for db in metastore.list_databases(None).await? {
        if claimed {
            break;
        }
        claimed = db.owner.as_deref() == Some(name)
            || metastore
                .list_tables(&db.name, None)
                .await?
                .iter()
                .any(|t| t.owner.as_deref() == Some(name));
    }
    if claimed {
        return Err(EngineError::PermissionDenied(format!(
            "role name \"{name}\" already owns or holds objects; only a superuser may create it"
        )));
    }
    Ok(())
}

/// Only superusers and CREATEROLE roles manage roles; only superusers manage superusers.
async fn require_role_admin(
    session: &Session,
    access: &Access,
    target_is_superuser: bool,
    what: &str,
) -> Result<()> {
    if access.superuser {
        return Ok(());
    }
    let me = session.engine.metastore().get_user(&access.role).await?;
    if me.is_some_and(|u| u.create_role) && !target_is_superuser {
        return Ok(());
    }
    Err(EngineError::PermissionDenied(format!(
        "permission denied to {what}"
    )))
}

/// The role attributes named by the options, and the memberships to add.
struct Options {
    changes: RoleChanges,
    in_roles: Vec<String>,
    members: Vec<String>,
}

fn read_options(options: &[UserOption]) -> Result<Options> {
    let mut out = Options {
        changes: RoleChanges::default(),
        in_roles: vec![],
        members: vec![],
    };
    let c = &mut out.changes;
    for option in options {
        match option {
            UserOption::Password(Some(p)) => c.verifier = Some(Some(ScramVerifier::new(p)?)),
            UserOption::Password(None) => c.verifier = Some(None),
            UserOption::Superuser(s) => c.superuser = Some(*s),
            UserOption::Login(l) => c.can_login = Some(*l),
            UserOption::CreateRole(r) => c.create_role = Some(*r),
            UserOption::Inherit(i) => c.inherit = Some(*i),
            UserOption::InRole(roles) => out.in_roles.extend(roles.iter().cloned()),
            UserOption::Members(roles) => out.members.extend(roles.iter().cloned()),
        }
    }
    Ok(out)
}

pub(super) async fn create(
    session: &Session,
    name: &str,
    if_not_exists: bool,
    options: &[UserOption],
    login_by_default: bool,
) -> Result<Output> {
    check_name(name)?;
    let options = read_options(options)?;
    let c = &options.changes;
    let access = session.access().await?;
    let superuser = c.superuser.unwrap_or(false);
    require_role_admin(session, &access, superuser, "create role").await?;
    if !access.superuser {
        refuse_claimed_name(session, name).await?;
    }
    let user = User {
        name: name.to_string(),
        verifier: c.verifier.clone().flatten(),
        superuser,
        can_login: c.can_login.unwrap_or(login_by_default),
        create_role: c.create_role.unwrap_or(false),
        inherit: c.inherit.unwrap_or(true),
        create_time: super::now(),
    };
    let metastore = session.engine.metastore();
    if !metastore.create_user(user, if_not_exists).await? {
        return Ok(Output::command("CREATE ROLE"));
    }
    for role in &options.in_roles {
        grant_one(session, &access, role, name, false).await?;
    }
    for member in &options.members {
        grant_one(session, &access, name, member, false).await?;
    }
    Ok(Output::command("CREATE ROLE"))
}

pub(super) async fn alter(session: &Session, name: &str, options: &[UserOption]) -> Result<Output> {
    if name.starts_with("pg_") {
        // PostgreSQL's predefined roles are not logins: making one a login would hand out
        // everything it stands for.
        return Err(EngineError::InvalidParameter(format!(
            "cannot alter reserved role \"{name}\""
        )));
    }
    let options = read_options(options)?;
    if !options.in_roles.is_empty() || !options.members.is_empty() {
        return Err(EngineError::NotSupported(
            "IN ROLE / ROLE in ALTER ROLE (use GRANT role TO member)".into(),
        ));
    }
    let access = session.access().await?;
    let metastore = session.engine.metastore();
    let target = metastore
        .get_user(name)
        .await?
        .ok_or_else(|| tarn_catalog::CatalogError::UserNotFound(name.to_string()))?;
    let c = &options.changes;
    let only_password = c.superuser.is_none()
        && c.can_login.is_none()
        && c.create_role.is_none()
        && c.inherit.is_none();
    // Every role may change its own password.
    if !(only_password && name == access.role) {
        let superuser_change = target.superuser || c.superuser.is_some();
        require_role_admin(session, &access, superuser_change, "alter role").await?;
    }
    metastore.alter_user(name, options.changes).await?;
    Ok(Output::command("ALTER ROLE"))
}

pub(super) async fn drop(session: &Session, name: &str, if_exists: bool) -> Result<Output> {
    let access = session.access().await?;
    let metastore = session.engine.metastore();
    let Some(target) = metastore.get_user(name).await? else {
        if if_exists {
            return Ok(Output::command("DROP ROLE"));
        }
        return Err(tarn_catalog::CatalogError::UserNotFound(name.to_string()).into());
    };
    require_role_admin(session, &access, target.superuser, "drop role").await?;
    if predefined::ALL.contains(&name) {
        return Err(EngineError::InvalidParameter(format!(
            "cannot drop role {name} because it is required by the database system"
        )));
    }
    if name == session.user() || name == access.role {
        return Err(EngineError::InvalidParameter(
            "current user cannot be dropped".into(),
        ));
    }
    metastore.drop_user(name, if_exists).await?;
    Ok(Output::command("DROP ROLE"))
}

/// A role specification as a role name (PUBLIC is not a role one can be a member of).
pub(crate) fn role_name(session: &Session, spec: &RoleSpec) -> Result<String> {
    Ok(match spec {
        RoleSpec::Name(n) => n.clone(),
        RoleSpec::CurrentUser => session.current_role(),
        RoleSpec::SessionUser => session.user().to_string(),
        RoleSpec::Public => tarn_catalog::PUBLIC.to_string(),
    })
}

pub(super) async fn grant_roles(
    session: &Session,
    roles: &[String],
    members: &[RoleSpec],
    admin_option: bool,
) -> Result<Output> {
    let access = session.access().await?;
    for role in roles {
        for member in members {
            let member = role_name(session, member)?;
            grant_one(session, &access, role, &member, admin_option).await?;
        }
    }
    Ok(Output::command("GRANT ROLE"))
}

/// Whether `access` may grant or revoke membership in `role`.
async fn may_administer(session: &Session, access: &Access, role: &str) -> Result<bool> {
    if access.superuser {
        return Ok(true);
    }
    let metastore = session.engine.metastore();
    let memberships = metastore.list_role_memberships().await?;
    let admin = memberships
        .iter()
        .any(|m| m.role == role && m.admin_option && access.holds(&m.member));
    if admin {
        return Ok(true);
    }
    let target = metastore.get_user(role).await?;
    let me = metastore.get_user(&access.role).await?;
    Ok(me.is_some_and(|u| u.create_role)
        && target.is_some_and(|t| !t.superuser)
        && !predefined::ALL.contains(&role))
}

async fn grant_one(
    session: &Session,
    access: &Access,
    role: &str,
    member: &str,
    admin_option: bool,
) -> Result<()> {
    if member == tarn_catalog::PUBLIC || role == tarn_catalog::PUBLIC {
        return Err(EngineError::InvalidParameter(
            "role membership cannot involve PUBLIC".into(),
        ));
    }
    if !may_administer(session, access, role).await? {
        return Err(EngineError::PermissionDenied(format!(
            "permission denied to grant role \"{role}\""
        )));
    }
    let metastore = session.engine.metastore();
    let memberships = metastore.list_role_memberships().await?;
    if role == member || crate::authz::is_member(member, role, &memberships) {
        return Err(EngineError::InvalidParameter(format!(
            "role \"{member}\" is a member of role \"{role}\""
        )));
    }
    metastore
        .grant_role(RoleMembership {
            role: role.to_string(),
            member: member.to_string(),
            admin_option,
            grantor: access.role.clone(),
        })
        .await?;
    Ok(())
}

pub(super) async fn revoke_roles(
    session: &Session,
    roles: &[String],
    members: &[RoleSpec],
    admin_option_for: bool,
) -> Result<Output> {
    let access = session.access().await?;
    let metastore = session.engine.metastore();
    for role in roles {
        if !may_administer(session, &access, role).await? {
            return Err(EngineError::PermissionDenied(format!(
                "permission denied to revoke role \"{role}\""
            )));
        }
        for member in members {
            let member = role_name(session, member)?;
            if !metastore
                .revoke_role(role, &member, admin_option_for)
                .await?
            {
                tracing::info!("role \"{member}\" is not a member of role \"{role}\"");
            }
        }
    }
    Ok(Output::command("REVOKE ROLE"))
}

/// SET ROLE name | NONE: the session user must be a member of the role (or a superuser).
pub(crate) async fn set_role(session: &Session, role: Option<String>) -> Result<Output> {
    let role = role
        .map(|r| r.trim_matches('"').to_string())
        .filter(|r| !r.eq_ignore_ascii_case("none") && r != session.user());
    let Some(role) = role else {
        session.identity.set_role(None);
        session.replan();
        return Ok(Output::command("SET"));
    };
    let metastore = session.engine.metastore();
    if metastore.get_user(&role).await?.is_none() {
        return Err(tarn_catalog::CatalogError::UserNotFound(role).into());
    }
    let login_superuser = session.is_superuser() && {
        // The session user's own superuser status, not the current role's.
        let me = metastore.get_user(session.user()).await?;
        me.is_none_or(|u| u.superuser)
    };
    let memberships = metastore.list_role_memberships().await?;
    if !login_superuser && !crate::authz::is_member(&role, session.user(), &memberships) {
        return Err(EngineError::PermissionDenied(format!(
            "permission denied to set role \"{role}\""
        )));
    }
    session.identity.set_role(Some(role));
    session.replan();
    Ok(Output::command("SET"))
}
