//! Rows of the `users` table (roles) and of `role_members`.

use super::conn::{Conn, Row, args};

use crate::acl::{RoleChanges, RoleMembership};
use crate::error::{CatalogError, Result};
use crate::users::{ScramVerifier, User};

const COLUMNS: &str = "name, verifier, superuser, create_time, can_login, create_role, inherit";

/// A role without a password stores an empty verifier.
fn user_from_row(r: &Row) -> Result<User> {
    let verifier = r.text(1)?;
    Ok(User {
        name: r.text(0)?,
        verifier: if verifier.is_empty() {
            None
        } else {
            Some(ScramVerifier::parse(&verifier)?)
        },
        superuser: r.bool(2)?,
        create_time: r.int(3)?,
        can_login: r.bool(4)?,
        create_role: r.bool(5)?,
        inherit: r.bool(6)?,
    })
}

fn verifier_text(v: Option<&ScramVerifier>) -> String {
    v.map(ToString::to_string).unwrap_or_default()
}

pub(super) fn insert(tx: &dyn Conn, user: &User, if_not_exists: bool) -> Result<bool> {
    let inserted = tx.execute(
        &format!(
            "INSERT INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (name) DO NOTHING"
        ),
        args![
            &user.name,
            verifier_text(user.verifier.as_ref()),
            user.superuser,
            user.create_time,
            user.can_login,
            user.create_role,
            user.inherit,
        ],
    )?;
    match (inserted, if_not_exists) {
        (0, true) => Ok(false),
        (0, false) => Err(CatalogError::UserExists(user.name.clone())),
        _ => Ok(true),
    }
}

pub(super) fn get(conn: &dyn Conn, name: &str) -> Result<Option<User>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE name = ?1"),
        args![name],
    )?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

pub(super) fn list(conn: &dyn Conn) -> Result<Vec<User>> {
    conn.query(&format!("SELECT {COLUMNS} FROM users ORDER BY name"), &[])?
        .iter()
        .map(user_from_row)
        .collect()
}

pub(super) fn alter(tx: &dyn Conn, name: &str, changes: &RoleChanges) -> Result<()> {
    let verifier = changes.verifier.as_ref().map(|v| verifier_text(v.as_ref()));
    let n = tx.execute(
        "UPDATE users SET verifier = coalesce(CAST(?2 AS TEXT), verifier),
            superuser = coalesce(CAST(?3 AS BIGINT), superuser),
            can_login = coalesce(CAST(?4 AS BIGINT), can_login),
            create_role = coalesce(CAST(?5 AS BIGINT), create_role),
            inherit = coalesce(CAST(?6 AS BIGINT), inherit)
         WHERE name = ?1",
        args![
            name,
            verifier,
            changes.superuser,
            changes.can_login,
            changes.create_role,
            changes.inherit
        ],
    )?;
    if n == 0 {
        return Err(CatalogError::UserNotFound(name.to_string()));
    }
    Ok(())
}

/// What still refers to a role: PostgreSQL refuses to drop a role that owns objects or holds
/// privileges (2BP01) until they are reassigned or revoked.
fn dependents(tx: &dyn Conn, name: &str) -> Result<Vec<String>> {
    let count = |sql: &str| tx.query_int(sql, args![name]);
    let table_owner = format!(
        "SELECT count(*) FROM tbls WHERE {} = ?1",
        tx.dialect().json_text("spec", "owner")
    );
    let checks = [
        (
            "owner of database",
            "SELECT count(*) FROM dbs WHERE owner = ?1",
        ),
        ("owner of table", table_owner.as_str()),
        (
            "privileges",
            "SELECT count(*) FROM grants WHERE grantee = ?1 OR grantor = ?1",
        ),
        (
            "default privileges",
            "SELECT count(*) FROM default_privileges WHERE owner = ?1 OR grantee = ?1",
        ),
    ];
    let mut found = Vec::new();
    for (what, sql) in checks {
        let n = count(sql)?;
        if n > 0 {
            found.push(format!("{what} ({n})"));
        }
    }
    Ok(found)
}

pub(super) fn drop(tx: &dyn Conn, name: &str, if_exists: bool) -> Result<bool> {
    if get(tx, name)?.is_none() {
        return if if_exists {
            Ok(false)
        } else {
            Err(CatalogError::UserNotFound(name.to_string()))
        };
    }
    let found = dependents(tx, name)?;
    if !found.is_empty() {
        return Err(CatalogError::DependentObjects(format!(
            "role \"{name}\" cannot be dropped because some objects depend on it: {}",
            found.join(", ")
        )));
    }
    tx.execute(
        "DELETE FROM role_members WHERE role = ?1 OR member = ?1",
        args![name],
    )?;
    tx.execute("DELETE FROM users WHERE name = ?1", args![name])?;
    Ok(true)
}

pub(super) fn grant_role(tx: &dyn Conn, m: &RoleMembership) -> Result<()> {
    for role in [&m.role, &m.member] {
        if get(tx, role)?.is_none() {
            return Err(CatalogError::UserNotFound(role.clone()));
        }
    }
    tx.execute(
        "INSERT INTO role_members (role, member, admin_option, grantor) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (role, member) DO UPDATE SET admin_option = CASE
           WHEN excluded.admin_option <> 0 THEN 1 ELSE role_members.admin_option END",
        args![&m.role, &m.member, m.admin_option, &m.grantor],
    )?;
    Ok(())
}

/// Removes a membership (or only its admin option); returns whether one existed.
pub(super) fn revoke_role(
    tx: &dyn Conn,
    role: &str,
    member: &str,
    admin_option_only: bool,
) -> Result<bool> {
    let sql = if admin_option_only {
        "UPDATE role_members SET admin_option = 0 WHERE role = ?1 AND member = ?2"
    } else {
        "DELETE FROM role_members WHERE role = ?1 AND member = ?2"
    };
    Ok(tx.execute(sql, args![role, member])? > 0)
}

const MEMBERSHIPS: &str =
    "SELECT role, member, admin_option, grantor FROM role_members ORDER BY role, member";

pub(super) fn memberships(conn: &dyn Conn) -> Result<Vec<RoleMembership>> {
    conn.query(MEMBERSHIPS, &[])?
        .iter()
        .map(membership_from_row)
        .collect()
}

/// Every role and membership, sent together.
pub(super) fn roles_and_memberships(conn: &dyn Conn) -> Result<(Vec<User>, Vec<RoleMembership>)> {
    let users = format!("SELECT {COLUMNS} FROM users ORDER BY name");
    let mut results = conn
        .query_many(&[(&users, &[]), (MEMBERSHIPS, &[])])?
        .into_iter();
    let (users, memberships) = (
        results.next().unwrap_or_default(),
        results.next().unwrap_or_default(),
    );
    Ok((
        users.iter().map(user_from_row).collect::<Result<_>>()?,
        memberships
            .iter()
            .map(membership_from_row)
            .collect::<Result<_>>()?,
    ))
}

fn membership_from_row(r: &Row) -> Result<RoleMembership> {
    Ok(RoleMembership {
        role: r.text(0)?,
        member: r.text(1)?,
        admin_option: r.bool(2)?,
        grantor: r.text(3)?,
    })
}
