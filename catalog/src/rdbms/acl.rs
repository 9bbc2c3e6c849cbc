//! Rows of `grants` and `default_privileges`.

use super::conn::{Conn, Row, Value, args};

use crate::acl::{DefaultPrivilege, Grant, GrantScope, Privilege, Securable};
use crate::error::{CatalogError, Result};
use crate::store::TableSnapshot;

const GRANT_COLUMNS: &str = "kind, db, tbl, col, grantee, privilege, grantor, grantable";

fn grant_from_row(r: &Row) -> Result<Grant> {
    let privilege = r.text(5)?;
    Ok(Grant {
        object: Securable::from_parts(&r.text(0)?, &r.text(1)?, &r.text(2)?, &r.text(3)?)?,
        grantee: r.text(4)?,
        privilege: Privilege::parse(&privilege)
            .map_err(|_| CatalogError::Corrupt(format!("unknown privilege {privilege}")))?,
        grantor: r.text(6)?,
        grantable: r.bool(7)?,
    })
}

/// Adds grants; a grant that exists keeps the stronger grant option.
pub(super) fn grant(tx: &dyn Conn, grants: &[Grant]) -> Result<()> {
    let sql = format!(
        "INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (db, tbl, col, kind, grantee, privilege, grantor) DO UPDATE SET grantable =
           CASE WHEN excluded.grantable <> 0 THEN 1 ELSE grants.grantable END"
    );
    for g in grants {
        let mut args = grant_key(g);
        args.push(g.grantable.into());
        tx.execute(&sql, &args)?;
    }
    Ok(())
}

/// A grant's identity as `?1..?7`: kind, database, table, column, grantee, privilege, grantor.
fn grant_key(g: &Grant) -> Vec<Value> {
    let (kind, db, tbl, col) = g.object.to_parts();
    args![
        kind,
        db,
        tbl,
        col,
        &g.grantee,
        g.privilege.name(),
        &g.grantor
    ]
    .to_vec()
}

/// Removes grants (matched by object, grantee, privilege and grantor), or only their grant
/// option. Returns how many rows changed.
pub(super) fn revoke(tx: &dyn Conn, grants: &[Grant], grant_option_only: bool) -> Result<usize> {
    let sql = if grant_option_only {
        "UPDATE grants SET grantable = 0 WHERE kind = ?1 AND db = ?2 AND tbl = ?3 AND col = ?4
         AND grantee = ?5 AND privilege = ?6 AND grantor = ?7"
    } else {
        "DELETE FROM grants WHERE kind = ?1 AND db = ?2 AND tbl = ?3 AND col = ?4
         AND grantee = ?5 AND privilege = ?6 AND grantor = ?7"
    };
    let mut changed = 0;
    for g in grants {
        changed += tx.execute(sql, &grant_key(g))? as usize;
    }
    Ok(changed)
}

pub(super) fn list(conn: &dyn Conn, scope: &GrantScope) -> Result<Vec<Grant>> {
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
    let args: Vec<Value> = args.into_iter().map(Value::Text).collect();
    conn.query(
        &format!("{sql} ORDER BY db, tbl, col, grantee, privilege, grantor, kind"),
        &args,
    )?
    .iter()
    .map(grant_from_row)
    .collect()
}

/// The database, the table and the grants that bear on it (its own, its columns', its
/// database's), sent together.
pub(super) fn table_snapshot(conn: &dyn Conn, db: &str, table: &str) -> Result<TableSnapshot> {
    let names = args![db, table];
    let grants = format!(
        "SELECT {GRANT_COLUMNS} FROM grants WHERE db = ?1 AND ((tbl = ?2 AND kind IN ('table', \
         'column')) OR (tbl = '' AND col = '' AND kind = 'database')) \
         ORDER BY db, tbl, col, grantee, privilege, grantor, kind"
    );
    let (database, table_sql) = super::rows::snapshot_statements();
    let mut results = conn
        .query_many(&[
            (database, &names[..1]),
            (table_sql, names),
            (&grants, names),
        ])?
        .into_iter();
    let (database, table, grants) = (
        results.next().unwrap_or_default(),
        results.next().unwrap_or_default(),
        results.next().unwrap_or_default(),
    );
    Ok(TableSnapshot {
        database: database
            .first()
            .map(super::rows::database_from_row)
            .transpose()?,
        table: table.first().map(super::rows::table_from_row).transpose()?,
        grants: grants.iter().map(grant_from_row).collect::<Result<_>>()?,
    })
}

/// Drops the grants of a table (and its columns), or of a whole database.
pub(super) fn forget_table(tx: &dyn Conn, db: &str, table: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM grants WHERE db = ?1 AND tbl = ?2 AND kind IN ('table', 'column')",
        args![db, table],
    )?;
    Ok(())
}

pub(super) fn forget_database(tx: &dyn Conn, db: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM grants WHERE db = ?1 AND kind <> 'catalog'",
        args![db],
    )?;
    tx.execute("DELETE FROM default_privileges WHERE db = ?1", args![db])?;
    Ok(())
}

/// Gives a new table the default privileges its owner set up (for its database or for all).
pub(super) fn apply_defaults(tx: &dyn Conn, db: &str, table: &str, owner: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO grants (kind, db, tbl, col, grantee, privilege, grantor, grantable)
         SELECT 'table', CAST(?1 AS TEXT), CAST(?2 AS TEXT), '', grantee, privilege,
                CAST(?3 AS TEXT), max(grantable)
         FROM default_privileges WHERE owner = ?3 AND (db = ?1 OR db = '')
         GROUP BY grantee, privilege
         ON CONFLICT DO NOTHING",
        args![db, table, owner],
    )?;
    Ok(())
}

pub(super) fn set_defaults(
    tx: &dyn Conn,
    defaults: &[DefaultPrivilege],
    revoke: bool,
) -> Result<()> {
    let sql = if revoke {
        "DELETE FROM default_privileges WHERE owner = ?1 AND db = ?2 AND grantee = ?3
         AND privilege = ?4"
    } else {
        "INSERT INTO default_privileges (owner, db, grantee, privilege, grantable)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (owner, db, grantee, privilege) DO UPDATE SET grantable =
           CASE WHEN excluded.grantable <> 0 THEN 1 ELSE default_privileges.grantable END"
    };
    for d in defaults {
        let db = d.database.as_deref().unwrap_or("").to_lowercase();
        if revoke {
            tx.execute(sql, args![&d.owner, db, &d.grantee, d.privilege.name()])?;
        } else {
            tx.execute(
                sql,
                args![&d.owner, db, &d.grantee, d.privilege.name(), d.grantable],
            )?;
        }
    }
    Ok(())
}

pub(super) fn list_defaults(conn: &dyn Conn) -> Result<Vec<DefaultPrivilege>> {
    conn.query(
        "SELECT owner, db, grantee, privilege, grantable FROM default_privileges
         ORDER BY owner, db, grantee, privilege",
        &[],
    )?
    .iter()
    .map(|r| {
        let db = r.text(1)?;
        Ok(DefaultPrivilege {
            owner: r.text(0)?,
            database: (!db.is_empty()).then_some(db),
            grantee: r.text(2)?,
            privilege: Privilege::parse(&r.text(3)?)?,
            grantable: r.bool(4)?,
        })
    })
    .collect()
}
