//! Rows of the `users` table.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{CatalogError, Result};
use crate::users::{ScramVerifier, User};

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, bool, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_user((name, verifier, superuser, create_time): (String, String, bool, i64)) -> Result<User> {
    Ok(User {
        name,
        verifier: ScramVerifier::parse(&verifier)?,
        superuser,
        create_time,
    })
}

pub(super) fn insert(tx: &Transaction, user: &User, if_not_exists: bool) -> Result<bool> {
    let inserted = tx.execute(
        "INSERT INTO users (name, verifier, superuser, create_time) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO NOTHING",
        params![
            user.name,
            user.verifier.to_string(),
            user.superuser,
            user.create_time
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
        "SELECT name, verifier, superuser, create_time FROM users WHERE name = ?1",
        [name],
        user_from_row,
    )
    .optional()?
    .map(to_user)
    .transpose()
}

pub(super) fn list(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt =
        conn.prepare("SELECT name, verifier, superuser, create_time FROM users ORDER BY name")?;
    let rows = stmt.query_map([], user_from_row)?;
    rows.map(|r| to_user(r?)).collect()
}

pub(super) fn alter(
    tx: &Transaction,
    name: &str,
    verifier: Option<&ScramVerifier>,
    superuser: Option<bool>,
) -> Result<()> {
    let n = tx.execute(
        "UPDATE users SET verifier = coalesce(?2, verifier), superuser = coalesce(?3, superuser)
         WHERE name = ?1",
        params![name, verifier.map(|v| v.to_string()), superuser],
    )?;
    if n == 0 {
        return Err(CatalogError::UserNotFound(name.to_string()));
    }
    Ok(())
}

pub(super) fn drop(tx: &Transaction, name: &str, if_exists: bool) -> Result<bool> {
    let n = tx.execute("DELETE FROM users WHERE name = ?1", [name])?;
    match (n, if_exists) {
        (0, true) => Ok(false),
        (0, false) => Err(CatalogError::UserNotFound(name.to_string())),
        _ => Ok(true),
    }
}
