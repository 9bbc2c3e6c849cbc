//! Rows of `grants` and `default_privileges`.

use rusqlite::{Connection, Transaction, params};

use crate::acl::{DefaultPrivilege, Grant, GrantScope, Privilege, Securable};
use crate::error::{CatalogError, Result};

const GRANT_COLUMNS: &str = "kind, db, tbl, col, grantee, privilege, grantor, grantable";

fn grant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[String; 7]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ])
}

fn to_grant(
    [kind, db, tbl, col, grantee, privilege, grantor]: [String; 7],
    grantable: bool,
) -> Result<Grant> {
    Ok(Grant {
        object: Securable::from_parts(&kind, &db, &tbl, &col)?,
        grantee,
        privilege: Privilege::parse(&privilege)
            .map_err(|_| CatalogError::Corrupt(format!("unknown privilege {privilege}")))?,
        grantor,
        grantable,
    })
}

/// Adds grants; a grant that exists keeps the stronger grant option.
pub(super) fn grant(tx: &Transaction, grants: &[Grant]) -> Result<()> {
    let mut stmt = tx.prepare(&format!(
        "INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT DO UPDATE SET grantable = max(grantable, excluded.grantable)"
    ))?;
    for g in grants {
        let (kind, db, tbl, col) = g.object.to_parts();
        stmt.execute(params![
            kind,
            db,
            tbl,
            col,
            g.grantee,
            g.privilege.name(),
            g.grantor,
            g.grantable
        ])?;
    }
    Ok(())
}

/// Removes grants (matched by object, grantee, privilege and grantor), or only their grant
/// option. Returns how many rows changed.
pub(super) fn revoke(tx: &Transaction, grants: &[Grant], grant_option_only: bool) -> Result<usize> {
    let sql = if grant_option_only {
        "UPDATE grants SET grantable = 0 WHERE kind = ?1 AND db = ?2 AND tbl = ?3 AND col = ?4
         AND grantee = ?5 AND privilege = ?6 AND grantor = ?7"
    } else {
        "DELETE FROM grants WHERE kind = ?1 AND db = ?2 AND tbl = ?3 AND col = ?4
         AND grantee = ?5 AND privilege = ?6 AND grantor = ?7"
    };
    let mut stmt = tx.prepare(sql)?;
    let mut changed = 0;
    for g in grants {
        let (kind, db, tbl, col) = g.object.to_parts();
        changed += stmt.execute(params![
            kind,
            db,
            tbl,
            col,
            g.grantee,
            g.privilege.name(),
            g.grantor
        ])?;
    }
    Ok(changed)
}

pub(super) fn list(conn: &Connection, scope: &GrantScope) -> Result<Vec<Grant>> {
    let select = format!("SELECT {GRANT_COLUMNS} FROM grants");
    let (sql, args): (String, Vec<String>) = match scope {
        GrantScope::All => (select, vec![]),
        GrantScope::Object(object) => {
            let (kind, db, tbl, col) = object.to_parts();
            (
                format!("{select} WHERE db = ?1 AND tbl = ?2 AND col = ?3 AND kind = ?4"),
                vec![db.into(), tbl.into(), col.into(), kind.into()],
            )
        }
        GrantScope::TableAndColumns { database, table } => (
            format!("{select} WHERE db = ?1 AND tbl = ?2 AND kind IN ('table', 'column')"),
            vec![database.to_lowercase(), table.to_lowercase()],
        ),
        GrantScope::Database(db) => (
            format!("{select} WHERE db = ?1 AND kind <> 'catalog'"),
            vec![db.to_lowercase()],
        ),
    };
    let mut stmt = conn.prepare(&format!("{sql} ORDER BY db, tbl, col, grantee, privilege"))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((grant_from_row(r)?, r.get::<_, bool>(7)?))
    })?;
    rows.map(|r| {
        let (parts, grantable) = r?;
        to_grant(parts, grantable)
    })
    .collect()
}

/// Drops the grants of a table (and its columns), or of a whole database.
pub(super) fn forget_table(tx: &Transaction, db: &str, table: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM grants WHERE db = ?1 AND tbl = ?2 AND kind IN ('table', 'column')",
        params![db, table],
    )?;
    Ok(())
}

pub(super) fn forget_database(tx: &Transaction, db: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM grants WHERE db = ?1 AND kind <> 'catalog'",
        [db],
    )?;
    tx.execute("DELETE FROM default_privileges WHERE db = ?1", [db])?;
    Ok(())
}

/// Gives a new table the default privileges its owner set up (for its database or for all).
pub(super) fn apply_defaults(tx: &Transaction, db: &str, table: &str, owner: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO grants (kind, db, tbl, col, grantee, privilege, grantor, grantable)
         SELECT 'table', ?1, ?2, '', grantee, privilege, owner, max(grantable)
         FROM default_privileges WHERE owner = ?3 AND (db = ?1 OR db = '')
         GROUP BY grantee, privilege
         ON CONFLICT DO NOTHING",
        params![db, table, owner],
    )?;
    Ok(())
}

pub(super) fn set_defaults(
    tx: &Transaction,
    defaults: &[DefaultPrivilege],
    revoke: bool,
) -> Result<()> {
    let sql = if revoke {
        "DELETE FROM default_privileges WHERE owner = ?1 AND db = ?2 AND grantee = ?3
         AND privilege = ?4"
    } else {
        "INSERT INTO default_privileges (owner, db, grantee, privilege, grantable)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET grantable = max(grantable, excluded.grantable)"
    };
    let mut stmt = tx.prepare(sql)?;
    for d in defaults {
        let db = d.database.as_deref().unwrap_or("").to_lowercase();
        if revoke {
            stmt.execute(params![d.owner, db, d.grantee, d.privilege.name()])?;
        } else {
            stmt.execute(params![
                d.owner,
                db,
                d.grantee,
                d.privilege.name(),
                d.grantable
            ])?;
        }
    }
    Ok(())
}

pub(super) fn list_defaults(conn: &Connection) -> Result<Vec<DefaultPrivilege>> {
    let mut stmt = conn.prepare(
        "SELECT owner, db, grantee, privilege, grantable FROM default_privileges
         ORDER BY owner, db, grantee, privilege",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    rows.map(|r| {
        let (owner, db, grantee, privilege, grantable) = r?;
        Ok(DefaultPrivilege {
            owner,
            database: (!db.is_empty()).then_some(db),
            grantee,
            privilege: Privilege::parse(&privilege)?,
            grantable,
        })
    })
    .collect()
}
