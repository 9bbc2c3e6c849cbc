//! The checks themselves: privileges on tables, columns and schemas, ownership, and the
//! predefined roles that guard storage locations.

use std::collections::HashSet;

use tarn_catalog::{
    Database, Grant, GrantScope, Metastore, ObjectKind, Privilege, Securable, Table,
    acl::predefined,
};

use super::{Access, denied};
use crate::error::{EngineError, Result};

/// What a SELECT may read of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TableAccess {
    /// Every column.
    Full,
    /// Only these columns (column-level grants).
    Columns(HashSet<String>),
}

/// The grants that bear on one table: its own, its columns' and its database's.
pub(crate) struct TableGrants {
    grants: Vec<Grant>,
    database: Option<Database>,
}

impl TableGrants {
    pub(crate) async fn load(metastore: &dyn Metastore, table: &Table) -> Result<Self> {
        let mut grants = metastore
            .list_grants(GrantScope::TableAndColumns {
                database: table.database.clone(),
                table: table.name.clone(),
            })
            .await?;
        grants.extend(
            metastore
                .list_grants(GrantScope::Object(Securable::Database(
                    table.database.clone(),
                )))
                .await?,
        );
        let database = metastore.get_database(&table.database).await?;
        Ok(Self { grants, database })
    }

    /// Grants and the database record read elsewhere (a statement's snapshot).
    pub(crate) fn from_parts(grants: Vec<Grant>, database: Option<Database>) -> Self {
        Self { grants, database }
    }

    /// Every grant of a whole database (to decide visibility of many of its tables at once).
    pub(crate) async fn load_database(metastore: &dyn Metastore, database: &str) -> Result<Self> {
        let grants = metastore
            .list_grants(GrantScope::Database(database.to_string()))
            .await?;
        let database = metastore.get_database(database).await?;
        Ok(Self { grants, database })
    }

    /// Our grants on `table`, its columns and its database.
    fn held<'a>(
        &'a self,
        access: &'a Access,
        table: &'a Table,
    ) -> impl Iterator<Item = &'a Grant> + 'a {
        self.grants.iter().filter(move |g| {
            access.holds(&g.grantee)
                && match &g.object {
                    Securable::Database(db) => *db == table.database,
                    Securable::Table { database, table: t }
                    | Securable::Column {
                        database, table: t, ..
                    } => *database == table.database && *t == table.name,
                    Securable::Catalog => false,
                }
        })
    }

    /// USAGE on the table's schema (PostgreSQL requires it to reach any table inside).
    pub(crate) fn schema_usage(&self, access: &Access, table: &Table) -> bool {
        access.owns(self.database.as_ref().and_then(|d| d.owner.as_deref()))
            || access.has_role(predefined::READ_ALL_DATA)
            || access.has_role(predefined::WRITE_ALL_DATA)
            || self
                .held(access, table)
                .any(|g| g.object.kind() == ObjectKind::Database && g.privilege == Privilege::Usage)
    }

    /// Whether the table-level privilege is ours (ownership and the all-data roles included).
    pub(crate) fn table_privilege(&self, access: &Access, table: &Table, p: Privilege) -> bool {
        let all_data = match p {
            Privilege::Select => access.has_role(predefined::READ_ALL_DATA),
            Privilege::Insert | Privilege::Update | Privilege::Delete => {
                access.has_role(predefined::WRITE_ALL_DATA)
            }
            _ => false,
        };
        all_data
            || access.owns(table.owner.as_deref())
            || self
                .held(access, table)
                .any(|g| g.object.kind() == ObjectKind::Table && g.privilege == p)
    }

    /// The columns granted `p` at column level.
    pub(crate) fn columns(&self, access: &Access, table: &Table, p: Privilege) -> HashSet<String> {
        self.held(access, table)
            .filter(|g| g.privilege == p)
            .filter_map(|g| match &g.object {
                Securable::Column { column, .. } => Some(column.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether any privilege at all on the table (or its columns) is ours: what makes a table
    /// visible in listings.
    pub(crate) fn any(&self, access: &Access, table: &Table) -> bool {
        self.schema_usage(access, table)
            && (access.owns(table.owner.as_deref())
                || access.has_role(predefined::READ_ALL_DATA)
                || access.has_role(predefined::WRITE_ALL_DATA)
                || self
                    .held(access, table)
                    .any(|g| matches!(g.object.kind(), ObjectKind::Table | ObjectKind::Column)))
    }

    /// Checks `p` on `table`, for `columns` when given (column grants may cover them).
    pub(crate) fn require(
        &self,
        access: &Access,
        table: &Table,
        p: Privilege,
        columns: Option<&[String]>,
    ) -> Result<()> {
        if access.superuser {
            return Ok(());
        }
        if !self.schema_usage(access, table) {
            return Err(denied(format_args!(
                "schema {}",
                schema_name(&table.database)
            )));
        }
        if self.table_privilege(access, table, p) {
            return Ok(());
        }
        let granted = self.columns(access, table, p);
        let all: Vec<String>;
        let wanted = match columns {
            Some(c) if !c.is_empty() => c,
            _ => {
                all = table
                    .columns
                    .iter()
                    .chain(&table.partition_keys)
                    .map(|c| c.name.clone())
                    .collect();
                &all
            }
        };
        if !granted.is_empty() && wanted.iter().all(|c| granted.contains(&c.to_lowercase())) {
            return Ok(());
        }
        Err(denied(relation(table)))
    }

    /// What SELECT may read: everything, the granted columns, or nothing (an error).
    pub(crate) fn select(&self, access: &Access, table: &Table) -> Result<TableAccess> {
        if access.superuser {
            return Ok(TableAccess::Full);
        }
        if !self.schema_usage(access, table) {
            return Err(denied(format_args!(
                "schema {}",
                schema_name(&table.database)
            )));
        }
        if self.table_privilege(access, table, Privilege::Select) {
            return Ok(TableAccess::Full);
        }
        let columns = self.columns(access, table, Privilege::Select);
        if columns.is_empty() {
            return Err(denied(relation(table)));
        }
        Ok(TableAccess::Columns(columns))
    }
}

/// What SELECT allows on tables met by name, decided once per table: listings that hold many
/// rows per table (batches, column statistics) filter with it.
pub(crate) struct SelectVerdicts<'a> {
    metastore: &'a dyn Metastore,
    access: &'a Access,
    seen: std::collections::HashMap<(String, String), Option<(TableAccess, bool)>>,
}

impl<'a> SelectVerdicts<'a> {
    pub(crate) fn new(metastore: &'a dyn Metastore, access: &'a Access) -> Self {
        Self {
            metastore,
            access,
            seen: Default::default(),
        }
    }

    /// What `access` may SELECT of `database.table` and whether it owns the table; `None`
    /// when it may read nothing (or the table is gone).
    pub(crate) async fn of(
        &mut self,
        database: &str,
        table: &str,
    ) -> Result<Option<&(TableAccess, bool)>> {
        let key = (database.to_string(), table.to_string());
        if !self.seen.contains_key(&key) {
            let verdict = match self.metastore.get_table(database, table).await? {
                Some(t) => TableGrants::load(self.metastore, &t)
                    .await?
                    .select(self.access, &t)
                    .ok()
                    .map(|a| (a, self.access.owns(t.owner.as_deref()))),
                None => None,
            };
            self.seen.insert(key.clone(), verdict);
        }
        Ok(self.seen.get(&key).and_then(Option::as_ref))
    }
}

/// "table t" or "view v", as PostgreSQL names relations in its messages.
pub(crate) fn relation(table: &Table) -> String {
    let kind = if table.view_text.is_some() {
        "view"
    } else {
        "table"
    };
    format!("{kind} {}", table.name)
}

/// The schema name clients know a database by.
pub(crate) fn schema_name(database: &str) -> String {
    crate::introspect::schema_for_database(database)
}

/// Ownership of a table: ALTER, DROP, partitions, MSCK, VACUUM, COMMENT, GRANT without the
/// grant option. PostgreSQL's message: "must be owner of table t".
pub(crate) fn require_table_owner(access: &Access, table: &Table) -> Result<()> {
    if access.owns(table.owner.as_deref()) {
        return Ok(());
    }
    Err(EngineError::PermissionDenied(format!(
        "must be owner of {}",
        relation(table)
    )))
}

/// Ownership of a database (a schema to clients).
pub(crate) fn require_database_owner(access: &Access, db: &Database) -> Result<()> {
    if access.owns(db.owner.as_deref()) {
        return Ok(());
    }
    Err(EngineError::PermissionDenied(format!(
        "must be owner of schema {}",
        schema_name(&db.name)
    )))
}

/// Whether `access` holds `p` (CREATE or USAGE) on `db`, as its owner, through the all-data
/// roles (USAGE), or by one of `grants` (any grants; those on other objects are ignored).
pub(crate) fn schema_privilege(
    access: &Access,
    db: &Database,
    grants: &[Grant],
    p: Privilege,
) -> bool {
    access.owns(db.owner.as_deref())
        || (p == Privilege::Usage
            && (access.has_role(predefined::READ_ALL_DATA)
                || access.has_role(predefined::WRITE_ALL_DATA)))
        || grants.iter().any(|g| {
            g.object == Securable::Database(db.name.clone())
                && g.privilege == p
                && access.holds(&g.grantee)
        })
}

/// Whether `access` holds `p` (CREATE, CONNECT, TEMPORARY) on the catalog, which the database
/// owner (superusers) owns.
pub(crate) fn catalog_privilege(access: &Access, grants: &[Grant], p: Privilege) -> bool {
    access.superuser
        || grants
            .iter()
            .any(|g| g.object == Securable::Catalog && g.privilege == p && access.holds(&g.grantee))
}

/// `p` (CREATE or USAGE) on a database, as its owner or by a grant.
pub(crate) async fn require_schema(
    metastore: &dyn Metastore,
    access: &Access,
    db: &Database,
    p: Privilege,
) -> Result<()> {
    if schema_privilege(access, db, &[], p) {
        return Ok(());
    }
    let grants = metastore
        .list_grants(GrantScope::Object(Securable::Database(db.name.clone())))
        .await?;
    if schema_privilege(access, db, &grants, p) {
        return Ok(());
    }
    Err(denied(format_args!("schema {}", schema_name(&db.name))))
}

/// `p` (CREATE, CONNECT, TEMPORARY) on the catalog: the PostgreSQL database clients connect
/// to.
pub(crate) async fn require_catalog(
    metastore: &dyn Metastore,
    access: &Access,
    p: Privilege,
) -> Result<()> {
    if access.superuser {
        return Ok(());
    }
    let grants = metastore
        .list_grants(GrantScope::Object(Securable::Catalog))
        .await?;
    if catalog_privilege(access, &grants, p) {
        return Ok(());
    }
    Err(denied(format_args!(
        "database {}",
        crate::provider::CATALOG_NAME
    )))
}

/// Pointing objects at storage locations, or reading and writing server-side files, needs a
/// superuser or membership in PostgreSQL's predefined role for it.
pub(crate) fn check_location_role(access: &Access, role: &str, what: &str) -> Result<()> {
    if access.has_role(role) {
        return Ok(());
    }
    Err(EngineError::PermissionDenied(format!(
        "permission denied to {what}: only superusers and members of {role} may use storage locations and server files"
    )))
}
