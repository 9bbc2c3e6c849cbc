//! Catalog and schema providers backed by the metastore.
//!
//! DataFusion resolves every table a statement references through the async
//! [`SchemaProvider::table`] before planning, so each query reads its tables' definitions from
//! the metastore exactly once. The few synchronous methods (`schema_names`, `table_names`,
//! `table_exist`) never wait on the metastore: they read the names the session loaded before
//! planning a statement that lists them (DataFusion's information_schema).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::common::DataFusionError;
use tarn_catalog::CatalogError;

use super::{HiveTable, TableCaches};
use crate::authz::{Identity, TableAccess};
use crate::engine::EngineInner;
use crate::error::EngineError;

/// The DataFusion catalog name under which tarn's databases appear.
pub const CATALOG_NAME: &str = tarn_sql::CATALOG;

/// The schema Postgres clients see Hive's `default` database as: `default` is a reserved word in
/// Postgres SQL, while `public` is where psql, JDBC and SQLAlchemy users expect unqualified
/// tables to live (it is on the default search_path).
pub const PUBLIC_SCHEMA: &str = "public";

/// The tarn database a schema name means: `public` is `default`; names are case-insensitive.
pub fn database_for_schema(name: &str) -> String {
    if name.eq_ignore_ascii_case(PUBLIC_SCHEMA) {
        tarn_catalog::DEFAULT_DATABASE.to_string()
    } else {
        name.to_lowercase()
    }
}

/// The catalog list: exactly one catalog, [`CATALOG_NAME`], seen by one identity (a session's,
/// or a view owner's while the view's query is planned).
#[derive(Clone)]
pub struct TarnCatalogList {
    catalog: Arc<TarnCatalog>,
}

impl std::fmt::Debug for TarnCatalogList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TarnCatalogList")
    }
}

impl TarnCatalogList {
    pub(crate) fn new(engine: Arc<EngineInner>, identity: Arc<Identity>) -> Self {
        Self {
            catalog: Arc::new(TarnCatalog { engine, identity }),
        }
    }
}

impl CatalogProviderList for TarnCatalogList {
    fn register_catalog(
        &self,
        _name: String,
        _catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        None
    }

    fn catalog_names(&self) -> Vec<String> {
        vec![CATALOG_NAME.to_string()]
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        (name == CATALOG_NAME).then(|| self.catalog.clone() as Arc<dyn CatalogProvider>)
    }
}

struct TarnCatalog {
    engine: Arc<EngineInner>,
    identity: Arc<Identity>,
}

impl std::fmt::Debug for TarnCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TarnCatalog")
    }
}

impl CatalogProvider for TarnCatalog {
    /// The schemas the identity may see, as clients name them (Hive's `default` is `public`),
    /// so DataFusion's information_schema agrees with pg_catalog. Read from the names loaded
    /// before planning: this callback is synchronous.
    fn schema_names(&self) -> Vec<String> {
        self.identity.names().schemas.clone()
    }

    /// Every name yields a provider; a missing database is reported when a table is looked up,
    /// with the precise "database does not exist" error rather than a generic planning error.
    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name.eq_ignore_ascii_case(crate::pgcompat::catalog::PG_CATALOG) {
            return Some(Arc::new(crate::pgcompat::catalog::PgCatalogSchema {
                engine: self.engine.clone(),
                identity: self.identity.clone(),
            }));
        }
        if name.eq_ignore_ascii_case(super::SYSTEM_SCHEMA) {
            return Some(Arc::new(super::system::SystemSchema {
                engine: self.engine.clone(),
                identity: self.identity.clone(),
            }));
        }
        Some(Arc::new(HiveSchema {
            engine: self.engine.clone(),
            identity: self.identity.clone(),
            database: database_for_schema(name),
        }))
    }

    fn register_schema(
        &self,
        name: &str,
        _schema: Arc<dyn SchemaProvider>,
    ) -> datafusion::common::Result<Option<Arc<dyn SchemaProvider>>> {
        Err(not_here(&format!(
            "CREATE SCHEMA {name} through DataFusion"
        )))
    }
}

fn not_here(what: &str) -> DataFusionError {
    EngineError::NotSupported(format!(
        "{what}: tables live in the metastore (use Hive DDL)"
    ))
    .into_datafusion()
}

/// One tarn database seen as a DataFusion schema.
struct HiveSchema {
    engine: Arc<EngineInner>,
    identity: Arc<Identity>,
    database: String,
}

impl std::fmt::Debug for HiveSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HiveSchema({})", self.database)
    }
}

impl HiveSchema {
    /// Schema USAGE, then SELECT on the table (or some of its columns) for the statement's
    /// identity, from one catalog snapshot. Without USAGE, whether a table exists is not the
    /// caller's business (PostgreSQL's name lookup): that is checked first.
    fn authorize(
        &self,
        access: &crate::authz::Access,
        snapshot: &tarn_catalog::TableSnapshot,
        catalog_table: bool,
    ) -> crate::error::Result<Option<TableAccess>> {
        if access.superuser {
            return Ok(Some(TableAccess::Full));
        }
        if let Some(db) = &snapshot.database
            && !catalog_table
            && !crate::authz::schema_privilege(
                access,
                db,
                &snapshot.grants,
                tarn_catalog::Privilege::Usage,
            )
        {
            return Err(crate::authz::denied(format_args!(
                "schema {}",
                crate::authz::schema_name(&db.name)
            )));
        }
        let Some(table) = &snapshot.table else {
            return Ok(None);
        };
        let grants = crate::authz::TableGrants::from_parts(
            snapshot.grants.clone(),
            snapshot.database.clone(),
        );
        grants.select(access, table).map(Some)
    }
}

#[async_trait]
impl SchemaProvider for HiveSchema {
    /// The tables the identity may see (DataFusion's information_schema.tables), from the
    /// names loaded before planning.
    fn table_names(&self) -> Vec<String> {
        self.identity
            .names()
            .tables
            .get(&self.database)
            .cloned()
            .unwrap_or_default()
    }

    async fn table(
        &self,
        name: &str,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        let metastore = &self.engine.metastore;
        // The identity's roles (read once per statement) and the table's snapshot go out
        // together: two catalog reads, one round trip of latency.
        let (snapshot, access) = tokio::join!(
            metastore.table_snapshot(&self.database, name),
            self.identity.access(metastore.as_ref())
        );
        let snapshot = snapshot.map_err(|e| EngineError::from(e).into_datafusion())?;
        let access = access.map_err(EngineError::into_datafusion)?;
        if snapshot.database.is_none() {
            let missing = CatalogError::DatabaseNotFound(self.database.clone());
            return Err(EngineError::from(missing).into_datafusion());
        }
        let catalog_table = crate::pgcompat::catalog::is_catalog_table(name);
        let access = self
            .authorize(&access, &snapshot, catalog_table)
            .map_err(EngineError::into_datafusion)?;
        let (Some(table), Some(access)) = (snapshot.table, access) else {
            // pg_catalog is implicitly first on every search path: `FROM pg_type` works.
            if catalog_table {
                let catalog = crate::pgcompat::catalog::PgCatalogSchema {
                    engine: self.engine.clone(),
                    identity: self.identity.clone(),
                };
                return catalog.table(name).await;
            }
            return Ok(None);
        };
        let provider: Arc<dyn TableProvider> = if let Some(sql) = &table.view_text {
            super::view::plan_view(&self.engine, &table, sql).await?
        } else {
            let caches = TableCaches {
                listing: self.engine.listing.clone(),
                scan: self.engine.scan_cache.clone(),
            };
            let table = HiveTable::try_new(table.clone(), metastore.clone(), caches)
                .map_err(EngineError::into_datafusion)?;
            Arc::new(table)
        };
        Ok(Some(match access {
            TableAccess::Full => provider,
            TableAccess::Columns(columns) => Arc::new(super::guarded::ColumnGuard::new(
                provider,
                columns,
                crate::authz::relation(&table),
            )),
        }))
    }

    fn register_table(
        &self,
        name: String,
        _table: Arc<dyn TableProvider>,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        Err(not_here(&format!("registering {name} in memory")))
    }

    fn deregister_table(
        &self,
        name: &str,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        Err(not_here(&format!("DROP {name} through DataFusion")))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.table_names().iter().any(|t| t == &name.to_lowercase())
    }
}
