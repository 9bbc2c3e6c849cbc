//! GRANT / REVOKE of privileges, ALTER DEFAULT PRIVILEGES and ALTER … OWNER TO.
//!
//! As in PostgreSQL: an object's owner (and superusers, acting as the owner) may grant any of
//! its privileges; others only what they hold WITH GRANT OPTION, recorded with themselves as
//! grantor. Revoking by the owner removes the privilege whoever granted it; others revoke only
//! their own grants. Revoking a table privilege revokes it on every column too.

use tarn_catalog::{
    DefaultPrivilege, Grant, GrantScope, ObjectKind, Privilege, Securable, Table, acl::predefined,
};
use tarn_sql::{GrantObject, ObjectName, OwnedObject, PrivilegeList, RoleSpec};

use super::roles::role_name;
use crate::authz::{self, Access};
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;

/// One object a GRANT names, with its owner.
struct Target {
    object: Securable,
    owner: Option<String>,
    /// For tables: its columns (column privileges must name existing ones).
    columns: Vec<String>,
}

async fn targets(session: &Session, object: &GrantObject) -> Result<Vec<Target>> {
    let metastore = session.engine.metastore();
    let mut out = Vec::new();
    match object {
        GrantObject::Tables(names) => {
            for name in names {
                out.push(table_target(super::load_table(session, name).await?));
            }
        }
        GrantObject::AllTablesInSchema(schemas) => {
            for schema in schemas {
                let db = crate::provider::database_for_schema(schema);
                for table in metastore.list_tables(&db, None).await? {
                    out.push(table_target(table));
                }
            }
        }
        GrantObject::Schemas(schemas) => {
            for schema in schemas {
                let db = crate::provider::database_for_schema(schema);
                let found = metastore
                    .get_database(&db)
                    .await?
                    .ok_or(tarn_catalog::CatalogError::DatabaseNotFound(db.clone()))?;
                out.push(Target {
                    object: Securable::Database(db),
                    owner: found.owner,
                    columns: vec![],
                });
            }
        }
        GrantObject::Databases(names) => {
            for name in names {
                if !name.eq_ignore_ascii_case(crate::provider::CATALOG_NAME) {
                    return Err(EngineError::Session {
                        kind: crate::error::ErrorKind::UndefinedDatabase,
                        message: format!("database \"{name}\" does not exist"),
                    });
                }
                out.push(Target {
                    object: Securable::Catalog,
                    owner: Some(predefined::DATABASE_OWNER.into()),
                    columns: vec![],
                });
            }
        }
    }
    Ok(out)
}

fn table_target(table: Table) -> Target {
    let columns = table
        .columns
        .iter()
        .chain(&table.partition_keys)
        .map(|c| c.name.clone())
        .collect();
    Target {
        object: Securable::table(&table.database, &table.name),
        owner: table.owner,
        columns,
    }
}

/// The (securable, privilege) pairs a privilege list means on one target.
fn expand(list: &PrivilegeList, target: &Target) -> Result<Vec<(Securable, Privilege)>> {
    let kind = target.object.kind();
    let (named, columns): (Vec<Privilege>, Vec<Vec<String>>) = match list {
        PrivilegeList::All { columns } => {
            let kind = if columns.is_empty() {
                kind
            } else {
                ObjectKind::Column
            };
            let all = Privilege::applicable(kind).to_vec();
            let cols = vec![columns.clone(); all.len()];
            (all, cols)
        }
        PrivilegeList::Named(items) => {
            let mut ps = Vec::new();
            let mut cs = Vec::new();
            for (name, cols) in items {
                ps.push(Privilege::parse(name)?);
                cs.push(cols.clone());
            }
            (ps, cs)
        }
    };
    let mut out = Vec::new();
    for (p, cols) in named.into_iter().zip(columns) {
        let on = if cols.is_empty() {
            kind
        } else {
            ObjectKind::Column
        };
        if !Privilege::applicable(on).contains(&p)
            || (!cols.is_empty() && kind != ObjectKind::Table)
        {
            return Err(EngineError::InvalidParameter(format!(
                "invalid privilege type {p} for {}",
                on.name()
            )));
        }
        if cols.is_empty() {
            out.push((target.object.clone(), p));
            continue;
        }
        let Securable::Table { database, table } = &target.object else {
            continue;
        };
        for col in cols {
            let col = col.to_lowercase();
            if !target.columns.contains(&col) {
                return Err(EngineError::Session {
                    kind: crate::error::ErrorKind::UndefinedColumn,
                    message: format!("column \"{col}\" of relation \"{table}\" does not exist"),
                });
            }
            let object = Securable::Column {
                database: database.clone(),
                table: table.clone(),
                column: col,
            };
            out.push((object, p));
        }
    }
    Ok(out)
}

/// The grantor a GRANT by `access` records: the owner when the owner (or a superuser) grants,
/// else the role itself, which must hold the privilege WITH GRANT OPTION.
async fn grantor_for(
    session: &Session,
    access: &Access,
    target: &Target,
    object: &Securable,
    p: Privilege,
) -> Result<String> {
    if access.owns(target.owner.as_deref()) || (access.superuser && target.owner.is_some()) {
        return Ok(target.owner.clone().unwrap_or_else(|| access.role.clone()));
    }
    let held = session
        .engine
        .metastore()
        .list_grants(GrantScope::Object(object.clone()))
        .await?;
    if held
        .iter()
        .any(|g| g.privilege == p && g.grantable && access.holds(&g.grantee))
    {
        return Ok(access.role.clone());
    }
    Err(authz::denied(describe(object)))
}

fn describe(object: &Securable) -> String {
    match object {
        Securable::Catalog => format!("database {}", crate::provider::CATALOG_NAME),
        Securable::Database(db) => format!("schema {}", authz::schema_name(db)),
        Securable::Table { table, .. } => format!("table {table}"),
        Securable::Column { table, column, .. } => format!("column {column} of table {table}"),
    }
}

async fn grantees(session: &Session, specs: &[RoleSpec]) -> Result<Vec<String>> {
    let metastore = session.engine.metastore();
    let mut out = Vec::new();
    for spec in specs {
        let name = role_name(session, spec)?;
        if name != tarn_catalog::PUBLIC && metastore.get_user(&name).await?.is_none() {
            return Err(tarn_catalog::CatalogError::UserNotFound(name).into());
        }
        out.push(name);
    }
    Ok(out)
}

pub(super) async fn grant(
    session: &Session,
    privileges: &PrivilegeList,
    object: &GrantObject,
    specs: &[RoleSpec],
    with_grant_option: bool,
) -> Result<Output> {
    let access = session.access().await?;
    let names = grantees(session, specs).await?;
    if with_grant_option && names.iter().any(|n| n == tarn_catalog::PUBLIC) {
        return Err(EngineError::InvalidParameter(
            "grant options can only be granted to roles".into(),
        ));
    }
    let mut grants = Vec::new();
    for target in targets(session, object).await? {
        for (securable, p) in expand(privileges, &target)? {
            let grantor = grantor_for(session, &access, &target, &securable, p).await?;
            for grantee in &names {
                grants.push(Grant {
                    object: securable.clone(),
                    grantee: grantee.clone(),
                    privilege: p,
                    grantor: grantor.clone(),
                    grantable: with_grant_option,
                });
            }
        }
    }
    session.engine.metastore().grant_privileges(grants).await?;
    Ok(Output::command("GRANT"))
}

pub(super) async fn revoke(
    session: &Session,
    privileges: &PrivilegeList,
    object: &GrantObject,
    specs: &[RoleSpec],
    (grant_option_for, cascade): (bool, bool),
) -> Result<Output> {
    let access = session.access().await?;
    let names = grantees(session, specs).await?;
    let metastore = session.engine.metastore();
    let mut matched = Vec::new();
    let mut all = Vec::new();
    for target in targets(session, object).await? {
        let as_owner = access.owns(target.owner.as_deref()) || access.superuser;
        let wanted = expand(privileges, &target)?;
        let scope = match &target.object {
            Securable::Table { database, table } => GrantScope::TableAndColumns {
                database: database.clone(),
                table: table.clone(),
            },
            other => GrantScope::Object(other.clone()),
        };
        let listed = metastore.list_grants(scope).await?;
        all.extend(listed.iter().cloned());
        for g in listed {
            let covered = wanted.iter().any(|(object, p)| {
                *p == g.privilege && (*object == g.object || revokes_column(object, &g.object))
            });
            let mine = as_owner || g.grantor == access.role;
            if covered && mine && names.contains(&g.grantee) {
                matched.push(g);
            }
        }
    }
    let dependent = dependents(&matched, &all);
    if !dependent.is_empty() && !cascade {
        return Err(tarn_catalog::CatalogError::DependentObjects(
            "dependent privileges exist (use CASCADE to revoke them too)".into(),
        )
        .into());
    }
    metastore
        .revoke_privileges(matched, grant_option_for)
        .await?;
    metastore.revoke_privileges(dependent, false).await?;
    Ok(Output::command("REVOKE"))
}

/// Grants that rest on a revoked grant option: made, with the same privilege on the same
/// object, by a grantee who loses the option and holds it through no other grant; and,
/// generation after generation, the grants those grantees made in turn.
fn dependents(revoked: &[Grant], all: &[Grant]) -> Vec<Grant> {
    let mut gone: Vec<Grant> = revoked.to_vec();
    let mut out = Vec::new();
    loop {
        let holds_option = |role: &str, g: &Grant| {
            all.iter().any(|o| {
                o.object == g.object
                    && o.privilege == g.privilege
                    && o.grantee == role
                    && o.grantable
                    && !gone.contains(o)
            })
        };
        let next: Vec<Grant> = all
            .iter()
            .filter(|g| !gone.contains(g))
            .filter(|g| {
                gone.iter().any(|r| {
                    r.grantee == g.grantor && r.object == g.object && r.privilege == g.privilege
                })
            })
            .filter(|g| !holds_option(&g.grantor, g))
            .cloned()
            .collect();
        if next.is_empty() {
            return out;
        }
        gone.extend(next.iter().cloned());
        out.extend(next);
    }
}

/// A table-level REVOKE takes the privilege off every column too.
fn revokes_column(table_level: &Securable, granted: &Securable) -> bool {
    matches!((table_level, granted), (
        Securable::Table { database, table },
        Securable::Column { database: d, table: t, .. },
    ) if database == d && table == t)
}

pub(super) async fn alter_default_privileges(
    session: &Session,
    (for_roles, schemas): (&[String], &[String]),
    grant: bool,
    privileges: &PrivilegeList,
    specs: &[RoleSpec],
    grant_option: bool,
) -> Result<Output> {
    let access = session.access().await?;
    let metastore = session.engine.metastore();
    let owners = if for_roles.is_empty() {
        vec![access.role.clone()]
    } else {
        for_roles.to_vec()
    };
    let memberships = metastore.list_role_memberships().await?;
    for owner in &owners {
        if !access.superuser && !authz::is_member(owner, &access.role, &memberships) {
            return Err(EngineError::PermissionDenied(format!(
                "permission denied to change default privileges of role \"{owner}\""
            )));
        }
    }
    let mut databases = Vec::new();
    for schema in schemas {
        let db = crate::provider::database_for_schema(schema);
        if metastore.get_database(&db).await?.is_none() {
            return Err(tarn_catalog::CatalogError::DatabaseNotFound(db).into());
        }
        databases.push(Some(db));
    }
    if databases.is_empty() {
        databases.push(None);
    }
    let any_table = Target {
        object: Securable::table("", ""),
        owner: None,
        columns: vec![],
    };
    let privileges: Vec<Privilege> = expand(privileges, &any_table)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let names = grantees(session, specs).await?;
    let mut defaults = Vec::new();
    for owner in &owners {
        for database in &databases {
            for grantee in &names {
                for p in &privileges {
                    defaults.push(DefaultPrivilege {
                        owner: owner.clone(),
                        database: database.clone(),
                        grantee: grantee.clone(),
                        privilege: *p,
                        grantable: grant_option,
                    });
                }
            }
        }
    }
    metastore.set_default_privileges(defaults, !grant).await?;
    Ok(Output::command("ALTER DEFAULT PRIVILEGES"))
}

pub(super) async fn alter_owner(
    session: &Session,
    object: &OwnedObject,
    owner: &RoleSpec,
) -> Result<Output> {
    let access = session.access().await?;
    let metastore = session.engine.metastore();
    let new_owner = role_name(session, owner)?;
    if metastore.get_user(&new_owner).await?.is_none() {
        return Err(tarn_catalog::CatalogError::UserNotFound(new_owner).into());
    }
    let memberships = metastore.list_role_memberships().await?;
    let may_become = access.superuser || authz::is_member(&new_owner, &access.role, &memberships);
    match object {
        OwnedObject::Table(name) => {
            alter_table_owner(session, &access, name, new_owner, may_become).await
        }
        OwnedObject::Schema(schema) => {
            let db = crate::provider::database_for_schema(schema);
            let mut found = metastore
                .get_database(&db)
                .await?
                .ok_or(tarn_catalog::CatalogError::DatabaseNotFound(db))?;
            authz::require_database_owner(&access, &found)?;
            if !may_become {
                return Err(must_be_member(&new_owner));
            }
            found.owner = Some(new_owner);
            metastore.alter_database(found).await?;
            Ok(Output::command("ALTER SCHEMA"))
        }
    }
}

async fn alter_table_owner(
    session: &Session,
    access: &Access,
    name: &ObjectName,
    new_owner: String,
    may_become: bool,
) -> Result<Output> {
    let metastore = session.engine.metastore();
    let mut table = super::load_table(session, name).await?;
    authz::require_table_owner(access, &table)?;
    if !may_become {
        return Err(must_be_member(&new_owner));
    }
    if !access.superuser {
        // The new owner must be able to create the table where it is, as in PostgreSQL.
        let db = metastore
            .get_database(&table.database)
            .await?
            .ok_or_else(|| tarn_catalog::CatalogError::DatabaseNotFound(table.database.clone()))?;
        let as_new = crate::authz::Identity::new(&new_owner, false);
        let new_access = as_new.access(metastore.as_ref()).await?;
        authz::require_schema(metastore.as_ref(), &new_access, &db, Privilege::Create).await?;
    }
    let tag = if table.view_text.is_some() {
        "ALTER VIEW"
    } else {
        "ALTER TABLE"
    };
    table.owner = Some(new_owner);
    metastore.alter_table(table).await?;
    Ok(Output::command(tag))
}

fn must_be_member(role: &str) -> EngineError {
    EngineError::PermissionDenied(format!("must be able to SET ROLE \"{role}\""))
}
