//! The session's side of authorization: the checks catalog statements and the write funnel
//! call, phrased for the statement at hand. The decisions are `crate::authz`'s.

use tarn_catalog::{CatalogError, Database, Privilege, Table};

use super::Session;
use crate::authz::{self, TableGrants};
use crate::error::Result;

impl Session {
    /// `p` on `table` (schema USAGE included), for the whole row.
    pub(crate) async fn require_table(&self, table: &Table, p: Privilege) -> Result<()> {
        let access = self.access().await?;
        if access.superuser {
            return Ok(());
        }
        let metastore = self.engine.metastore().as_ref();
        TableGrants::load(metastore, table)
            .await?
            .require(&access, table, p, None)
    }

    /// `p` on the given columns of `table` (all when empty): column-level grants may cover them.
    pub(crate) async fn require_columns(
        &self,
        table: &Table,
        p: Privilege,
        columns: &[String],
    ) -> Result<()> {
        let access = self.access().await?;
        if access.superuser {
            return Ok(());
        }
        let metastore = self.engine.metastore().as_ref();
        TableGrants::load(metastore, table)
            .await?
            .require(&access, table, p, Some(columns))
    }

    /// Ownership of `table`: every ALTER, DROP, partition change, MSCK, VACUUM and COMMENT.
    pub(crate) async fn require_owner(&self, table: &Table) -> Result<()> {
        authz::require_table_owner(&*self.access().await?, table)
    }

    /// CREATE on a database (to create tables and views in it).
    pub(crate) async fn require_create_in(&self, database: &str) -> Result<()> {
        let db = self.database(database).await?;
        let access = self.access().await?;
        authz::require_schema(
            self.engine.metastore().as_ref(),
            &access,
            &db,
            Privilege::Create,
        )
        .await
    }

    /// Ownership of a database.
    pub(crate) async fn require_database_owner(&self, database: &Database) -> Result<()> {
        authz::require_database_owner(&*self.access().await?, database)
    }

    /// Membership in a predefined role that guards storage locations and server files.
    pub(crate) async fn require_location_role(&self, role: &str, what: &str) -> Result<()> {
        authz::check_location_role(&*self.access().await?, role, what)
    }

    /// Any privilege on the table: what DESCRIBE, SHOW and listings need to show it.
    pub(crate) async fn require_visible(&self, table: &Table) -> Result<()> {
        if self.can_see(table).await? {
            return Ok(());
        }
        Err(authz::denied(authz::relation(table)))
    }

    /// Whether the table shows in listings for this session.
    pub(crate) async fn can_see(&self, table: &Table) -> Result<bool> {
        let access = self.access().await?;
        if access.superuser {
            return Ok(true);
        }
        let metastore = self.engine.metastore().as_ref();
        Ok(TableGrants::load(metastore, table)
            .await?
            .any(&access, table))
    }

    /// The tables among `tables` (all of one database) this session may see.
    pub(crate) async fn visible_tables(&self, mut tables: Vec<Table>) -> Result<Vec<Table>> {
        let access = self.access().await?;
        let Some(first) = tables.first() else {
            return Ok(tables);
        };
        if access.superuser {
            return Ok(tables);
        }
        let metastore = self.engine.metastore().as_ref();
        let grants = TableGrants::load_database(metastore, &first.database).await?;
        tables.retain(|t| grants.any(&access, t));
        Ok(tables)
    }

    /// The databases among `dbs` this session may see: owned, or with USAGE or CREATE.
    pub(crate) async fn visible_databases(&self, dbs: Vec<Database>) -> Result<Vec<Database>> {
        let access = self.access().await?;
        if access.superuser {
            return Ok(dbs);
        }
        let metastore = self.engine.metastore().as_ref();
        let mut out = Vec::with_capacity(dbs.len());
        for db in dbs {
            let usage = authz::require_schema(metastore, &access, &db, Privilege::Usage).await;
            let create = authz::require_schema(metastore, &access, &db, Privilege::Create).await;
            if usage.is_ok() || create.is_ok() {
                out.push(db);
            }
        }
        Ok(out)
    }

    /// Checks a plan made earlier (a prepared statement) against the privileges of now: every
    /// table it reads must still be readable, as PostgreSQL re-checks at every execution. A
    /// table readable then in full and now only in some columns is refused (prepare again).
    pub(crate) async fn reauthorize(
        &self,
        plan: &datafusion::logical_expr::LogicalPlan,
    ) -> Result<()> {
        use datafusion::common::tree_node::TreeNodeRecursion;
        use datafusion::logical_expr::LogicalPlan;
        let access = self.access().await?;
        if access.superuser {
            return Ok(());
        }
        let mut scans = Vec::new();
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                let guarded =
                    datafusion::catalog::default_table_source::source_as_provider(&scan.source)
                        .map(|p| p.is::<crate::provider::ColumnGuard>())
                        .unwrap_or(false);
                scans.push((scan.table_name.clone(), guarded));
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        let metastore = self.engine.metastore().as_ref();
        let current = self.current_database();
        for (name, guarded) in scans {
            let resolved = name.resolve(crate::provider::CATALOG_NAME, &current);
            if resolved.catalog.as_ref() != crate::provider::CATALOG_NAME {
                continue;
            }
            let database = crate::provider::database_for_schema(&resolved.schema);
            let Some(table) = metastore.get_table(&database, &resolved.table).await? else {
                continue;
            };
            let now = TableGrants::load(metastore, &table)
                .await?
                .select(&access, &table)?;
            if matches!(now, authz::TableAccess::Columns(_)) && !guarded {
                return Err(authz::denied(authz::relation(&table)));
            }
        }
        Ok(())
    }

    async fn database(&self, name: &str) -> Result<Database> {
        self.engine
            .metastore()
            .get_database(name)
            .await?
            .ok_or_else(|| CatalogError::DatabaseNotFound(name.to_string()).into())
    }
}
