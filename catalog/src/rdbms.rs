//! The metastore over a relational database, written once for every store: SQLite (the
//! embedded default) and PostgreSQL (shared by many servers). The logic lives in the modules
//! below against [`conn::Conn`]; a [`Backend`] runs each call on a connection, reads in one
//! snapshot and writes in one transaction that is serialized with every other writer of the
//! catalog (SQLite's IMMEDIATE transactions; an advisory lock on PostgreSQL), so the
//! check-then-change steps of a commit hold against writers on any server.

mod acl;
mod colstats;
mod commit;
pub(crate) mod conn;
mod dump;
mod intents;
mod locks;
mod partitions;
mod rename;
mod rename_table;
mod rows;
mod users;

use std::future::Future;

use async_trait::async_trait;

use crate::acl::{DefaultPrivilege, Grant, GrantScope, RoleChanges, RoleMembership};
use crate::error::{CatalogError, Result};
use crate::filter::PartitionFilter;
use crate::model::{Database, LocationUse, Partition, PartitionSpec, Table};
use crate::store::{DEFAULT_DATABASE, Metastore, like_to_matcher};
use crate::users::User;
use crate::write::{BatchRecord, CommitOutcome, PendingWrite, RetiredLocation, WriteCommit};
use conn::{Conn, args};
pub use dump::{CatalogDump, TableDump};

/// Runs metastore calls on a store's connections.
pub trait Backend: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// Runs `f` on a connection that sees one committed state of the catalog.
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static;

    /// Round trips to a networked store so far (`None`: an embedded one).
    fn round_trips(&self) -> Option<u64> {
        None
    }

    /// Runs `f` in one transaction, after every earlier write committed and before any later
    /// one starts; an error rolls everything back.
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static;
}

/// A [`Metastore`] over a relational store.
#[derive(Clone, Debug)]
pub struct SqlMetastore<B> {
    backend: B,
}

impl<B: Backend> SqlMetastore<B> {
    /// Wraps a migrated store and makes sure the `default` database exists.
    pub(crate) async fn init(backend: B, default_location: &str) -> Result<Self> {
        let store = Self::from_backend(backend);
        let db = default_database(default_location);
        store
            .write(move |tx| insert_default_database(tx, &db))
            .await?;
        Ok(store)
    }

    pub(crate) fn from_backend(backend: B) -> Self {
        Self { backend }
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static,
    {
        self.backend.read(f).await
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Conn) -> Result<T> + Send + 'static,
    {
        self.backend.write(f).await
    }
}

pub(crate) fn default_database(location: &str) -> Database {
    Database {
        name: DEFAULT_DATABASE.into(),
        description: Some("Default Hive database".into()),
        location: location.to_string(),
        parameters: Default::default(),
        owner: Some(crate::acl::predefined::DATABASE_OWNER.into()),
        create_time: now(),
    }
}

/// The secret `name`, created under the write lock if missing (hex in a text column).
fn secret(tx: &dyn Conn, name: &str) -> Result<[u8; 32]> {
    let found = tx.query_opt("SELECT value FROM secrets WHERE name = ?1", args![name])?;
    let hex = match found {
        Some(row) => row.text(0)?,
        None => {
            let mut bytes = [0u8; 32];
            // Without the OS's randomness there is no secret worth having: fail, never zeros.
            getrandom::fill(&mut bytes)
                .map_err(|e| CatalogError::TaskFailed(format!("no randomness: {e}")))?;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            tx.execute(
                "INSERT INTO secrets (name, value) VALUES (?1, ?2)",
                args![name, &hex],
            )?;
            hex
        }
    };
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    bytes
        .try_into()
        .map_err(|_| CatalogError::Corrupt(format!("secret {name} is not 32 hex bytes")))
}

pub(crate) fn insert_default_database(tx: &dyn Conn, db: &Database) -> Result<()> {
    rows::insert_database(tx, db, true).map(|_| ())
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn table_id(conn: &dyn Conn, db: &str, name: &str) -> Result<i64> {
    conn.query_opt(
        "SELECT t.id FROM tbls t JOIN dbs d ON d.id = t.db_id WHERE d.name = ?1 AND t.name = ?2",
        args![db.to_lowercase(), name.to_lowercase()],
    )?
    .map(|r| r.int(0))
    .transpose()?
    .ok_or_else(|| match rows::database_id(conn, db) {
        Err(e) => e,
        Ok(_) => CatalogError::TableNotFound {
            db: db.into(),
            table: name.into(),
        },
    })
}

#[async_trait]
impl<B: Backend> Metastore for SqlMetastore<B> {
    async fn create_database(&self, db: Database, if_not_exists: bool) -> Result<bool> {
        self.write(move |tx| rows::insert_database(tx, &db, if_not_exists))
            .await
    }

    async fn alter_database(&self, db: Database) -> Result<()> {
        self.write(move |tx| rows::update_database(tx, &db)).await
    }

    async fn get_database(&self, name: &str) -> Result<Option<Database>> {
        let name = name.to_lowercase();
        self.read(move |c| rows::get_database(c, &name)).await
    }

    async fn list_databases(&self, pattern: Option<&str>) -> Result<Vec<Database>> {
        let all = self.read(rows::list_databases).await?;
        Ok(match pattern {
            None => all,
            Some(p) => {
                let matches = like_to_matcher(p);
                all.into_iter().filter(|d| matches(&d.name)).collect()
            }
        })
    }

    async fn drop_database(
        &self,
        name: &str,
        if_exists: bool,
        cascade: bool,
    ) -> Result<Vec<Table>> {
        let name = name.to_lowercase();
        if name == DEFAULT_DATABASE {
            return Err(CatalogError::DropDefaultDatabase);
        }
        self.write(move |tx| rows::drop_database(tx, &name, if_exists, cascade))
            .await
    }

    async fn create_table(&self, table: Table, if_not_exists: bool) -> Result<bool> {
        self.write(move |tx| rows::insert_table(tx, &table, if_not_exists))
            .await
    }

    async fn get_table(&self, db: &str, name: &str) -> Result<Option<Table>> {
        let (db, name) = (db.to_lowercase(), name.to_lowercase());
        self.read(move |c| rows::get_table(c, &db, &name)).await
    }

    async fn list_tables(&self, db: &str, pattern: Option<&str>) -> Result<Vec<Table>> {
        let db = db.to_lowercase();
        let all = self.read(move |c| rows::list_tables(c, &db)).await?;
        Ok(match pattern {
            None => all,
            Some(p) => {
                let matches = like_to_matcher(p);
                all.into_iter().filter(|t| matches(&t.name)).collect()
            }
        })
    }

    async fn drop_table(
        &self,
        db: &str,
        name: &str,
        if_exists: bool,
        expected_version: Option<i64>,
    ) -> Result<Option<Table>> {
        let (db, name) = (db.to_lowercase(), name.to_lowercase());
        self.write(move |tx| rows::drop_table(tx, &db, &name, if_exists, expected_version))
            .await
    }

    async fn alter_table(&self, table: Table) -> Result<()> {
        self.write(move |tx| rows::update_table(tx, &table)).await
    }

    async fn add_partitions(
        &self,
        db: &str,
        table: &str,
        partitions: Vec<Partition>,
        if_not_exists: bool,
    ) -> Result<usize> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.write(move |tx| partitions::add(tx, &db, &table, &partitions, if_not_exists))
            .await
    }

    async fn drop_partitions(
        &self,
        db: &str,
        table: &str,
        specs: Vec<PartitionSpec>,
        if_exists: bool,
    ) -> Result<Vec<Partition>> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.write(move |tx| partitions::drop(tx, &db, &table, &specs, if_exists))
            .await
    }

    async fn list_partitions(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<Partition>> {
        let (db, table, filter) = (db.to_lowercase(), table.to_lowercase(), filter.clone());
        self.read(move |c| partitions::list(c, &db, &table, &filter))
            .await
    }

    async fn list_partition_definitions(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<Partition>> {
        let (db, table, filter) = (db.to_lowercase(), table.to_lowercase(), filter.clone());
        self.read(move |c| partitions::list_definitions(c, &db, &table, &filter))
            .await
    }

    async fn scan_state(
        &self,
        db: &str,
        table: &str,
        location: &str,
        filter: &PartitionFilter,
    ) -> Result<(Vec<Partition>, crate::WriteState)> {
        let (db, table, location, filter) = (
            db.to_lowercase(),
            table.to_lowercase(),
            location.to_string(),
            filter.clone(),
        );
        self.read(move |c| {
            // The write state first: see `WriteState` (in one snapshot the order is moot).
            let mut statements = intents::state_statements(&db, &table, &location);
            statements.extend(partitions::list_statements(c, &db, &table, &filter)?);
            let mut results = c.query_many(&conn::borrowed(&statements))?;
            let parts = results.split_off(2);
            let state = intents::state_results(results)?;
            Ok((partitions::list_results(&db, &table, parts)?, state))
        })
        .await
    }

    async fn table_snapshot(&self, db: &str, table: &str) -> Result<crate::TableSnapshot> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.read(move |c| acl::table_snapshot(c, &db, &table))
            .await
    }

    async fn alter_partition(&self, db: &str, table: &str, partition: Partition) -> Result<()> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.write(move |tx| partitions::alter(tx, &db, &table, &partition))
            .await
    }

    async fn begin_write(&self, write: PendingWrite) -> Result<String> {
        self.write(move |tx| intents::begin(tx, write)).await
    }

    async fn abandon_write(&self, write_id: &str, files_deleted: bool) -> Result<bool> {
        let write_id = write_id.to_string();
        self.write(move |tx| intents::abandon(tx, &write_id, files_deleted))
            .await
    }

    async fn forget_failed_writes(&self, location: &str) -> Result<u64> {
        let location = location.trim_end_matches('/').to_string();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM pending_writes WHERE location = ?1 AND failed = 1",
                args![location],
            )
        })
        .await
    }

    async fn write_state(
        &self,
        db: &str,
        table: &str,
        location: &str,
    ) -> Result<crate::WriteState> {
        let (db, table, location) = (db.to_string(), table.to_string(), location.to_string());
        self.read(move |c| intents::state(c, &db, &table, &location))
            .await
    }

    async fn commit_write(&self, commit: WriteCommit) -> Result<CommitOutcome> {
        self.write(move |tx| {
            intents::finish(tx, &commit.write_id)?;
            commit::commit(tx, &commit)
        })
        .await
    }

    async fn list_batches(&self, db: Option<&str>) -> Result<Vec<BatchRecord>> {
        let db = db.map(str::to_lowercase);
        self.read(move |c| commit::list_batches(c, db.as_deref()))
            .await
    }

    async fn retired_locations(&self) -> Result<Vec<RetiredLocation>> {
        self.read(commit::retired).await
    }

    async fn forget_retired(&self, locations: Vec<String>) -> Result<()> {
        self.write(move |tx| commit::forget_retired(tx, &locations))
            .await
    }

    async fn locations_overlapping(&self, location: &str) -> Result<Vec<LocationUse>> {
        let location = location.trim_end_matches('/').to_string();
        self.read(move |c| rows::locations_overlapping(c, &location))
            .await
    }

    async fn referenced_files(&self, db: &str, table: &str) -> Result<Vec<String>> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.read(move |c| commit::referenced_files(c, table_id(c, &db, &table)?))
            .await
    }

    async fn create_user(&self, user: User, if_not_exists: bool) -> Result<bool> {
        crate::users::validate_user_name(&user.name)?;
        self.write(move |tx| users::insert(tx, &user, if_not_exists))
            .await
    }

    async fn get_user(&self, name: &str) -> Result<Option<User>> {
        let name = name.to_string();
        self.read(move |c| users::get(c, &name)).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read(users::list).await
    }

    async fn alter_user(&self, name: &str, changes: RoleChanges) -> Result<()> {
        let name = name.to_string();
        self.write(move |tx| users::alter(tx, &name, &changes))
            .await
    }

    async fn drop_user(&self, name: &str, if_exists: bool) -> Result<bool> {
        let name = name.to_string();
        self.write(move |tx| users::drop(tx, &name, if_exists))
            .await
    }

    async fn grant_role(&self, membership: RoleMembership) -> Result<()> {
        self.write(move |tx| users::grant_role(tx, &membership))
            .await
    }

    async fn revoke_role(&self, role: &str, member: &str, admin_option_only: bool) -> Result<bool> {
        let (role, member) = (role.to_string(), member.to_string());
        self.write(move |tx| users::revoke_role(tx, &role, &member, admin_option_only))
            .await
    }

    async fn list_role_memberships(&self) -> Result<Vec<RoleMembership>> {
        self.read(users::memberships).await
    }

    async fn roles_and_memberships(&self) -> Result<(Vec<User>, Vec<RoleMembership>)> {
        self.read(users::roles_and_memberships).await
    }

    async fn grant_privileges(&self, grants: Vec<Grant>) -> Result<()> {
        self.write(move |tx| acl::grant(tx, &grants)).await
    }

    async fn revoke_privileges(
        &self,
        grants: Vec<Grant>,
        grant_option_only: bool,
    ) -> Result<usize> {
        self.write(move |tx| acl::revoke(tx, &grants, grant_option_only))
            .await
    }

    async fn list_grants(&self, scope: GrantScope) -> Result<Vec<Grant>> {
        self.read(move |c| acl::list(c, &scope)).await
    }

    async fn set_default_privileges(
        &self,
        defaults: Vec<DefaultPrivilege>,
        revoke: bool,
    ) -> Result<()> {
        self.write(move |tx| acl::set_defaults(tx, &defaults, revoke))
            .await
    }

    async fn list_default_privileges(&self) -> Result<Vec<DefaultPrivilege>> {
        self.read(acl::list_defaults).await
    }

    fn round_trips(&self) -> Option<u64> {
        self.backend.round_trips()
    }

    async fn shared_secret(&self, name: &str) -> Result<[u8; 32]> {
        let name = name.to_string();
        self.write(move |tx| secret(tx, &name)).await
    }

    async fn list_partition_names(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<String>> {
        let (db, table, filter) = (db.to_lowercase(), table.to_lowercase(), filter.clone());
        self.read(move |c| partitions::list_names(c, &db, &table, &filter))
            .await
    }

    async fn rename_table(
        &self,
        (db, name): (&str, &str),
        (to_db, to_name): (&str, &str),
        expected_version: Option<i64>,
    ) -> Result<()> {
        let [db, name, to_db, to_name] = [db, name, to_db, to_name].map(str::to_lowercase);
        self.write(move |tx| {
            rename_table::rename_table(tx, (&db, &name), (&to_db, &to_name), expected_version)
        })
        .await
    }

    async fn rename_partition(
        &self,
        db: &str,
        table: &str,
        from: PartitionSpec,
        to: Partition,
    ) -> Result<()> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.write(move |tx| rename::rename(tx, &db, &table, &from, &to))
            .await
    }

    async fn set_column_statistics(
        &self,
        db: &str,
        table: &str,
        updates: Vec<crate::StatsUpdate>,
        merge: bool,
    ) -> Result<()> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.write(move |tx| colstats::set(tx, &db, &table, &updates, merge, now()))
            .await
    }

    async fn column_statistics(
        &self,
        db: &str,
        table: &str,
        partitions: Option<Vec<PartitionSpec>>,
        columns: Vec<String>,
    ) -> Result<Vec<crate::StoredColumnStats>> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.read(move |c| colstats::get(c, &db, &table, partitions.as_deref(), &columns))
            .await
    }

    async fn delete_column_statistics(
        &self,
        db: &str,
        table: &str,
        partition: Option<PartitionSpec>,
        column: Option<String>,
    ) -> Result<u64> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.write(move |tx| {
            colstats::delete(tx, &db, &table, partition.as_ref(), column.as_deref())
        })
        .await
    }

    async fn lock(
        &self,
        targets: Vec<crate::LockTarget>,
        owner: &str,
    ) -> Result<(i64, crate::LockState)> {
        let owner = owner.to_string();
        self.write(move |tx| locks::lock(tx, &targets, &owner, now()))
            .await
    }

    async fn check_lock(&self, id: i64) -> Result<Option<crate::LockState>> {
        self.write(move |tx| locks::check(tx, id, now())).await
    }

    async fn unlock(&self, id: i64) -> Result<bool> {
        self.write(move |tx| locks::unlock(tx, id)).await
    }

    async fn lock_targets(&self, id: i64) -> Result<Vec<crate::LockTarget>> {
        self.read(move |c| locks::targets(c, id)).await
    }

    async fn export_catalog(&self) -> Result<CatalogDump> {
        self.read(dump::export).await
    }

    async fn import_catalog(&self, catalog: CatalogDump, replace: bool) -> Result<()> {
        self.write(move |tx| {
            if !replace && !dump::is_fresh(tx)? {
                return Err(CatalogError::InvalidArgument(
                    "the target catalog already has tables or login roles; import with --replace \
                     to overwrite it"
                        .into(),
                ));
            }
            dump::import(tx, &catalog)
        })
        .await
    }

    async fn count_partitions(&self, db: &str, table: &str) -> Result<u64> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        self.read(move |c| {
            let id = table_id(c, &db, &table)?;
            let n = c.query_int("SELECT count(*) FROM parts WHERE tbl_id = ?1", args![id])?;
            Ok(n as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests;
