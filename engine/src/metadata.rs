//! Catalog operations for the front ends that speak a metastore protocol (the Hive Metastore
//! Thrift API; Glue next). They change the catalog directly instead of through SQL, but under
//! the same rules as the SQL statements that do the same thing: the same privilege checks,
//! location rules, optimistic versions and managed-data deletion, so no front end holds a
//! second path to the metastore.
//!
//! Every call is one statement: roles and grants are read again, as for SQL.

mod colstats;
mod filter;
mod locks;
mod partitions;
mod rename;
mod spark_schema;
mod tables;

use tarn_catalog::{CatalogError, Database, paths};

pub use colstats::AggregatedStats;
pub use filter::HiveFilter;
pub use partitions::NewPartition;
pub use tables::format_of;

use crate::error::{EngineError, Result};
use crate::session::Session;

/// A session's catalog operations (see the module docs). Obtained per protocol call.
pub struct Metadata<'a> {
    session: &'a Session,
}

impl Session {
    /// The catalog operations of one metastore-protocol call (privileges re-read).
    pub fn metadata(&self) -> Metadata<'_> {
        self.identity.new_statement();
        Metadata { session: self }
    }
}

impl Metadata<'_> {
    fn metastore(&self) -> &dyn tarn_catalog::Metastore {
        self.session.engine.metastore().as_ref()
    }

    /// The databases matching a Hive pattern (`*` any, `|` alternatives) this role may see.
    pub async fn databases(&self, pattern: Option<&str>) -> Result<Vec<Database>> {
        let mut dbs = self.metastore().list_databases(None).await?;
        if let Some(matcher) = hive_pattern(pattern) {
            dbs.retain(|d| matcher.matches(&d.name));
        }
        self.session.visible_databases(dbs).await
    }

    /// A database this role may see; one it may not see does not exist for it.
    pub async fn database(&self, name: &str) -> Result<Database> {
        let name = name.to_lowercase();
        let not_found = || EngineError::Catalog(CatalogError::DatabaseNotFound(name.clone()));
        let db = self
            .metastore()
            .get_database(&name)
            .await?
            .ok_or_else(not_found)?;
        let mut visible = self.session.visible_databases(vec![db]).await?;
        visible.pop().ok_or_else(not_found)
    }

    /// Creates a database. Without a location (or at the default one) it lives in the
    /// warehouse as `<name>.db`; elsewhere needs the location role, as CREATE DATABASE does.
    pub async fn create_database(&self, mut db: Database, location: Option<&str>) -> Result<()> {
        db.name = db.name.to_lowercase();
        check_name(&db.name, "database")?;
        if db.name.eq_ignore_ascii_case(crate::provider::SYSTEM_SCHEMA) {
            return Err(EngineError::InvalidParameter(format!(
                "'{}' is reserved for tarn's system tables",
                db.name
            )));
        }
        let inner = &self.session.engine.inner;
        let access = self.session.access().await?;
        crate::authz::require_catalog(
            inner.metastore.as_ref(),
            &access,
            tarn_catalog::Privilege::Create,
        )
        .await?;
        let default = paths::join(&inner.warehouse, &format!("{}.db", db.name));
        db.location = match location.filter(|l| !l.is_empty()) {
            None => default,
            Some(l) if self.is_location(l, &default) => default,
            Some(l) => crate::statements::locations::database_location(self.session, l)
                .await
                .map_err(|e| hint_warehouse(e, l))?,
        };
        db.owner = Some(self.session.current_role());
        db.create_time = crate::statements::now();
        if !self.metastore().create_database(db.clone(), false).await? {
            return Err(CatalogError::DatabaseExists(db.name).into());
        }
        Ok(())
    }

    /// Replaces a database's description and parameters (its owner only). Its location and
    /// owner are kept: moving a database is not a metadata edit.
    pub async fn alter_database(&self, name: &str, new: Database) -> Result<()> {
        let mut db = self.database(name).await?;
        self.session.require_database_owner(&db).await?;
        db.description = new.description;
        db.parameters = new.parameters;
        Ok(self.metastore().alter_database(db).await?)
    }

    /// Drops a database (its owner only); `cascade` drops its tables too, and a managed
    /// table's data goes with it when `delete_data`.
    pub async fn drop_database(&self, name: &str, delete_data: bool, cascade: bool) -> Result<()> {
        let db = self.database(name).await?;
        if db.name == tarn_catalog::DEFAULT_DATABASE {
            return Err(EngineError::InvalidParameter(
                "the default database cannot be dropped".into(),
            ));
        }
        self.session.require_database_owner(&db).await?;
        let dropped = self
            .metastore()
            .drop_database(&db.name, false, cascade)
            .await?;
        if delete_data {
            for table in &dropped {
                crate::statements::table::delete_managed_data(self.session, table).await?;
            }
        }
        Ok(())
    }

    /// Whether `location` names `expected` (a local path given as a `file:` URL included).
    fn is_location(&self, location: &str, expected: &str) -> bool {
        let bare = |l: &str| {
            let l = l
                .strip_prefix("file://")
                .or_else(|| l.strip_prefix("file:"))
                .unwrap_or(l);
            l.trim_end_matches('/').to_string()
        };
        if bare(location) == bare(expected) {
            return true;
        }
        let roots = &self.session.engine.inner.roots;
        roots
            .check(location)
            .is_ok_and(|l| bare(&l) == bare(expected))
    }
}

/// A Hive name pattern (`*` any run, `|` alternatives, case-insensitive; everything else
/// literal). Clients written for Hive's regular expressions send `.*`, which means `*`.
pub(crate) fn hive_pattern(pattern: Option<&str>) -> Option<tarn_catalog::LikePattern> {
    let p = pattern.filter(|p| !p.is_empty() && *p != "*" && *p != ".*")?;
    let p = p.replace(".*", "*");
    Some(tarn_catalog::LikePattern::new(
        &p,
        tarn_catalog::LikeSyntax::Hive,
        true,
    ))
}

/// Hive's rule for database, table and column names (`MetaStoreUtils.validateName`):
/// letters, digits and `_`. Names become path components of managed locations, so nothing
/// else (no `/`, no `..`) may reach them.
pub(crate) fn check_name(name: &str, what: &str) -> Result<()> {
    if !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Ok(());
    }
    Err(EngineError::InvalidParameter(format!(
        "'{name}' is not a valid {what} name (letters, digits and _)"
    )))
}

/// A location as tarn stores it (local paths without `file:`, no trailing `/`), or `None` when
/// it has `.` or `..` components (such a location is only taken through the full checks).
pub(crate) fn bare_location(l: &str) -> Option<String> {
    let l = l
        .strip_prefix("file://")
        .or_else(|| l.strip_prefix("file:"))
        .unwrap_or(l);
    let path = l.split_once("://").map_or(l, |(_, rest)| rest);
    // Percent-encoded characters and backslashes are refused outright: URL parsers turn
    // `%2E%2E` into `..` after any textual check.
    if path.contains('%') || path.contains('\\') || path.split('/').any(|c| c == "." || c == "..") {
        return None;
    }
    Some(l.trim_end_matches('/').to_string())
}

/// Spark derives a new database's location from its own `spark.sql.warehouse.dir`: say so when
/// such a location is refused.
fn hint_warehouse(e: EngineError, location: &str) -> EngineError {
    match e {
        EngineError::PermissionDenied(m) if location.ends_with(".db") => {
            EngineError::PermissionDenied(format!(
                "{m} (Spark puts new databases under spark.sql.warehouse.dir: set it to tarn's warehouse)"
            ))
        }
        other => other,
    }
}
