//! Rows of the `users` table (roles) and of `role_members`.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::acl::{RoleChanges, RoleMembership};
use crate::error::{CatalogError, Result};
use crate::users::{ScramVerifier, User};

const COLUMNS: &str = "name, verifier, superuser, create_time, can_login, create_role, inherit";

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(User, String)> {
    Ok((
        User {
            name: r.get(0)?,
            verifier: None,
            superuser: r.get(2)?,
            create_time: r.get(3)?,
            can_login: r.get(4)?,
            create_role: r.get(5)?,
            inherit: r.get(6)?,
        },
        r.get(1)?,
    ))
}

/// A role without a password stores an empty verifier.
fn to_user((mut user, verifier): (User, String)) -> Result<User> {
    if !verifier.is_empty() {
        user.verifier = Some(ScramVerifier::parse(&verifier)?);
    }
    Ok(user)
}

fn verifier_text(v: Option<&ScramVerifier>) -> String {
    v.map(ToString::to_string).unwrap_or_default()
}

pub(super) fn insert(tx: &Transaction, user: &User, if_not_exists: bool) -> Result<bool> {
    let inserted = tx.execute(
        &format!(
            "INSERT INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (name) DO NOTHING"
        ),
        params![
            user.name,
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

pub(super) fn get(conn: &Connection, name: &str) -> Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE name = ?1"),
        [name],
        user_from_row,
    )
    .optional()?
    .map(to_user)
    .transpose()
}

pub(super) fn list(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM users ORDER BY name"))?;
    let rows = stmt.query_map([], user_from_row)?;
    rows.map(|r| to_user(r?)).collect()
}

pub(super) fn alter(tx: &Transaction, name: &str, changes: &RoleChanges) -> Result<()> {
    let verifier = changes.verifier.as_ref().map(|v| verifier_text(v.as_ref()));
    let n = tx.execute(
        "UPDATE users SET verifier = coalesce(?2, verifier), superuser = coalesce(?3, superuser),
            can_login = coalesce(?4, can_login), create_role = coalesce(?5, create_role),
            inherit = coalesce(?6, inherit)
         WHERE name = ?1",
        params![
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
fn dependents(tx: &Transaction, name: &str) -> Result<Vec<String>> {
    let count = |sql: &str| -> Result<i64> { Ok(tx.query_row(sql, [name], |r| r.get(0))?) };
    let checks = [
        (
            "owner of database",
            "SELECT count(*) FROM dbs WHERE owner = ?1",
        ),
        (
            "owner of table",
            "SELECT count(*) FROM tbls WHERE json_extract(spec, '$.owner') = ?1",
        ),
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

pub(super) fn drop(tx: &Transaction, name: &str, if_exists: bool) -> Result<bool> {
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
        [name],
    )?;
    tx.execute("DELETE FROM users WHERE name = ?1", [name])?;
    Ok(true)
}

pub(super) fn grant_role(tx: &Transaction, m: &RoleMembership) -> Result<()> {
    for role in [&m.role, &m.member] {
        if get(tx, role)?.is_none() {
            return Err(CatalogError::UserNotFound(role.clone()));
        }
    }
    tx.execute(
        "INSERT INTO role_members (role, member, admin_option, grantor) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (role, member) DO UPDATE SET admin_option = max(admin_option, excluded.admin_option)",
        params![m.role, m.member, m.admin_option, m.grantor],
    )?;
    Ok(())
}

/// Removes a membership (or only its admin option); returns whether one existed.
pub(super) fn revoke_role(
    tx: &Transaction,
    role: &str,
    member: &str,
    admin_option_only: bool,
) -> Result<bool> {
    let sql = if admin_option_only {
        "UPDATE role_members SET admin_option = 0 WHERE role = ?1 AND member = ?2"
    } else {
        "DELETE FROM role_members WHERE role = ?1 AND member = ?2"
    };
    Ok(tx.execute(sql, [role, member])? > 0)
}

pub(super) fn memberships(conn: &Connection) -> Result<Vec<RoleMembership>> {
    let mut stmt = conn.prepare(
        "SELECT role, member, admin_option, grantor FROM role_members ORDER BY role, member",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RoleMembership {
            role: r.get(0)?,
            member: r.get(1)?,
            admin_option: r.get(2)?,
            grantor: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
