//! PostgreSQL's privilege inquiry functions (`has_table_privilege`, `has_schema_privilege`,
//! `has_column_privilege`, `has_any_column_privilege`, `has_database_privilege`,
//! `pg_has_role`), answered from the catalog's real grants through the same authorizer the
//! engine enforces with. They run inside DataFusion's synchronous evaluation, so what they read
//! is an [`AclSnapshot`] loaded before the statement is planned.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Signature, Volatility};
use tarn_catalog::{Database, Grant, Metastore, Privilege, RoleMembership, Table, User};

use super::{PgFunction, SessionFacts, arg_text};
use crate::authz::{Access, TableGrants};

/// Roles, memberships, grants, databases and tables as of the statement.
#[derive(Debug, Default)]
pub(crate) struct AclSnapshot {
    users: Vec<User>,
    memberships: Vec<RoleMembership>,
    grants: Vec<Grant>,
    databases: Vec<Database>,
    tables: Vec<Table>,
    /// The session's own access (the one-argument-less forms).
    me: Option<Arc<Access>>,
}

/// The functions that read the snapshot (the statement text is scanned for them).
pub(crate) const READERS: [&str; 6] = [
    "has_table_privilege",
    "has_schema_privilege",
    "has_database_privilege",
    "has_column_privilege",
    "has_any_column_privilege",
    "pg_has_role",
];

pub(crate) async fn load(
    metastore: &dyn Metastore,
    me: Arc<Access>,
) -> crate::error::Result<AclSnapshot> {
    let databases = metastore.list_databases(None).await?;
    let mut tables = Vec::new();
    for db in &databases {
        tables.extend(metastore.list_tables(&db.name, None).await?);
    }
    Ok(AclSnapshot {
        users: metastore.list_users().await?,
        memberships: metastore.list_role_memberships().await?,
        grants: metastore.list_grants(tarn_catalog::GrantScope::All).await?,
        databases,
        tables,
        me: Some(me),
    })
}

impl AclSnapshot {
    /// The access of `role` (a name or an OID), or the session's own.
    fn access(&self, role: Option<&ScalarValue>) -> Option<Arc<Access>> {
        let Some(role) = role else {
            return self.me.clone();
        };
        let name = match super::oid_arg(std::slice::from_ref(role)) {
            Some(oid) => self
                .users
                .iter()
                .find(|u| crate::pgcompat::catalog::role_oid(&u.name) == oid)?
                .name
                .clone(),
            None => arg_text(std::slice::from_ref(role), 0)?,
        };
        let name = if name.eq_ignore_ascii_case("public") {
            tarn_catalog::PUBLIC.to_string()
        } else {
            name
        };
        Some(Arc::new(Access::for_role(
            &name,
            &self.users,
            &self.memberships,
        )))
    }

    /// A table by OID, `name` or `schema.name` (the current database for bare names).
    fn table(&self, arg: &ScalarValue, current: &str) -> Option<&Table> {
        if let Some(oid) = super::oid_arg(std::slice::from_ref(arg)) {
            return self.tables.iter().find(|t| {
                let schema = crate::introspect::schema_for_database(&t.database);
                crate::pgcompat::catalog::relation_oid(&schema, &t.name) == oid
            });
        }
        let text = arg_text(std::slice::from_ref(arg), 0)?;
        let (db, name) = match text.rsplit_once('.') {
            Some((schema, name)) => (crate::provider::database_for_schema(unquote(schema)), name),
            None => (current.to_string(), text.as_str()),
        };
        let name = unquote(name).to_lowercase();
        self.tables
            .iter()
            .find(|t| t.database == db && t.name == name)
    }

    fn database(&self, arg: &ScalarValue) -> Option<&Database> {
        let db = match super::oid_arg(std::slice::from_ref(arg)) {
            Some(oid) => {
                return self.databases.iter().find(|d| {
                    let schema = crate::introspect::schema_for_database(&d.name);
                    crate::pgcompat::catalog::namespace_oid(&schema) == oid
                });
            }
            None => arg_text(std::slice::from_ref(arg), 0)?,
        };
        let db = crate::provider::database_for_schema(unquote(&db));
        self.databases.iter().find(|d| d.name == db)
    }

    fn grants_on(&self, table: &Table) -> TableGrants {
        TableGrants::from_parts(
            self.grants.clone(),
            self.databases
                .iter()
                .find(|d| d.name == table.database)
                .cloned(),
        )
    }
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// `'SELECT, INSERT WITH GRANT OPTION'`: the privileges named (any one suffices, as in
/// PostgreSQL); unknown names are errors.
fn privileges(arg: Option<&ScalarValue>) -> datafusion::common::Result<Vec<Privilege>> {
    let text = arg
        .and_then(|a| arg_text(std::slice::from_ref(a), 0))
        .unwrap_or_default();
    text.split(',')
        .map(|p| {
            let p = p.trim().to_ascii_uppercase();
            let p = p
                .strip_suffix(" WITH GRANT OPTION")
                .unwrap_or(&p)
                .trim()
                .to_string();
            Privilege::parse(&p).map_err(|_| {
                crate::error::EngineError::InvalidParameter(format!(
                    "unrecognized privilege type: \"{p}\""
                ))
                .into_datafusion()
            })
        })
        .collect()
}

/// Splits `args` into (role, rest): the role argument is present when there is one more
/// argument than the short form has.
fn split_role(args: &[ScalarValue], short: usize) -> (Option<&ScalarValue>, &[ScalarValue]) {
    if args.len() > short {
        (args.first(), &args[1..])
    } else {
        (None, args)
    }
}

fn answer(value: Option<bool>) -> datafusion::common::Result<ScalarValue> {
    Ok(ScalarValue::Boolean(value))
}

/// The table forms: `[role,] table, [column,] privileges`, `short` arguments without the
/// role; `held` decides one privilege given the table's grants and the arguments after it.
fn on_table(
    facts: &SessionFacts,
    args: &[ScalarValue],
    current: &str,
    short: usize,
    held: impl Fn(&TableGrants, &Access, &Table, &[ScalarValue], Privilege) -> bool,
) -> datafusion::common::Result<ScalarValue> {
    let snapshot = facts.acl();
    let (role, rest) = split_role(args, short);
    let wanted = privileges(rest.last())?;
    let (Some(access), Some(table)) = (
        snapshot.access(role),
        rest.first().and_then(|t| snapshot.table(t, current)),
    ) else {
        return answer(None);
    };
    let grants = snapshot.grants_on(table);
    answer(Some(
        wanted
            .iter()
            .any(|p| held(&grants, &access, table, rest, *p)),
    ))
}

fn has_table(
    facts: &SessionFacts,
    args: &[ScalarValue],
    current: &str,
) -> datafusion::common::Result<ScalarValue> {
    on_table(facts, args, current, 2, |grants, access, table, _, p| {
        grants.require(access, table, p, None).is_ok()
    })
}

/// `has_column_privilege` (`any` false: the named column) and `has_any_column_privilege`.
fn has_column(
    facts: &SessionFacts,
    args: &[ScalarValue],
    current: &str,
    any: bool,
) -> datafusion::common::Result<ScalarValue> {
    let short = if any { 2 } else { 3 };
    on_table(
        facts,
        args,
        current,
        short,
        |grants, access, table, rest, p| {
            if grants.require(access, table, p, None).is_ok() {
                return true;
            }
            let columns = grants.columns(access, table, p);
            let column = rest
                .get(1)
                .and_then(|c| arg_text(std::slice::from_ref(c), 0));
            let covered = if any {
                !columns.is_empty()
            } else {
                column.is_some_and(|c| columns.contains(&c.to_lowercase()))
            };
            covered && grants.schema_usage(access, table)
        },
    )
}

fn has_schema(
    facts: &SessionFacts,
    args: &[ScalarValue],
) -> datafusion::common::Result<ScalarValue> {
    let snapshot = facts.acl();
    let (role, rest) = split_role(args, 2);
    let wanted = privileges(rest.get(1))?;
    let Some(access) = snapshot.access(role) else {
        return answer(None);
    };
    let Some(db) = rest.first().and_then(|d| snapshot.database(d)) else {
        // pg_catalog and information_schema: everyone may use them.
        let name = rest
            .first()
            .and_then(|d| arg_text(std::slice::from_ref(d), 0));
        let system = name.is_some_and(|n| n == "pg_catalog" || n == "information_schema");
        return answer(system.then_some(wanted.contains(&Privilege::Usage)));
    };
    let held = |p: &Privilege| crate::authz::schema_privilege(&access, db, &snapshot.grants, *p);
    answer(Some(wanted.iter().any(held)))
}

fn has_database(
    facts: &SessionFacts,
    args: &[ScalarValue],
) -> datafusion::common::Result<ScalarValue> {
    let snapshot = facts.acl();
    let (role, rest) = split_role(args, 2);
    let wanted = privileges(rest.get(1))?;
    let Some(access) = snapshot.access(role) else {
        return answer(None);
    };
    let held = |p: &Privilege| crate::authz::catalog_privilege(&access, &snapshot.grants, *p);
    answer(Some(wanted.iter().any(held)))
}

/// `pg_has_role([user,] role, 'MEMBER' | 'USAGE')`: membership, or inherited privileges.
fn has_role(facts: &SessionFacts, args: &[ScalarValue]) -> datafusion::common::Result<ScalarValue> {
    let snapshot = facts.acl();
    let (role, rest) = split_role(args, 2);
    let Some(access) = snapshot.access(role) else {
        return answer(None);
    };
    let Some(target) = rest
        .first()
        .and_then(|r| snapshot.access(Some(r)))
        .map(|a| a.role.clone())
    else {
        return answer(None);
    };
    let mode = rest
        .get(1)
        .and_then(|m| arg_text(std::slice::from_ref(m), 0))
        .unwrap_or_default();
    let held = match mode.trim().to_ascii_uppercase().as_str() {
        "USAGE" => access.holds(&target),
        _ => {
            access.superuser
                || crate::authz::is_member(&target, &access.role, &snapshot.memberships)
        }
    };
    answer(Some(held))
}

pub(super) fn functions(facts: &Arc<SessionFacts>) -> Vec<PgFunction> {
    let f = super::maker(facts);
    let any = || Signature::variadic_any(Volatility::Stable);
    vec![
        f(
            "has_table_privilege",
            any(),
            DataType::Boolean,
            |facts, args, c| has_table(facts, args, &c.catalog.default_schema),
        ),
        f(
            "has_column_privilege",
            any(),
            DataType::Boolean,
            |facts, args, c| has_column(facts, args, &c.catalog.default_schema, false),
        ),
        f(
            "has_any_column_privilege",
            any(),
            DataType::Boolean,
            |facts, args, c| has_column(facts, args, &c.catalog.default_schema, true),
        ),
        f(
            "has_schema_privilege",
            any(),
            DataType::Boolean,
            |facts, args, _| has_schema(facts, args),
        ),
        f(
            "has_database_privilege",
            any(),
            DataType::Boolean,
            |facts, args, _| has_database(facts, args),
        ),
        f("pg_has_role", any(), DataType::Boolean, |facts, args, _| {
            has_role(facts, args)
        }),
    ]
}
