//! The storage-neutral metastore interface.

use async_trait::async_trait;

use crate::acl::{DefaultPrivilege, Grant, GrantScope, RoleChanges, RoleMembership};
use crate::error::Result;
use crate::filter::PartitionFilter;
use crate::like::{LikePattern, LikeSyntax};
use crate::model::{Database, Partition, PartitionSpec, Table};
use crate::users::User;
use crate::write::{BatchRecord, CommitOutcome, RetiredLocation, WriteCommit};

/// See [`Metastore::table_snapshot`].
#[derive(Debug, Clone, Default)]
pub struct TableSnapshot {
    pub database: Option<Database>,
    pub table: Option<Table>,
    pub grants: Vec<Grant>,
}

/// The database that always exists (Hive's `default`).
pub const DEFAULT_DATABASE: &str = "default";

/// A Hive-model metastore. Every write is one transaction; names are case-insensitive (stored
/// lower case). Implementations must be safe to share between tasks.
#[async_trait]
pub trait Metastore: Send + Sync + std::fmt::Debug {
    async fn create_database(&self, db: Database, if_not_exists: bool) -> Result<bool>;
    /// Replaces a database's description, location, owner and parameters.
    async fn alter_database(&self, db: Database) -> Result<()>;
    async fn get_database(&self, name: &str) -> Result<Option<Database>>;
    /// Databases whose name matches `pattern` (SQL LIKE or Hive `*`/`|` pattern), sorted.
    async fn list_databases(&self, pattern: Option<&str>) -> Result<Vec<Database>>;
    /// Drops a database; with `cascade` its tables and partitions go too. Returns the dropped
    /// tables so callers can clean up managed data.
    async fn drop_database(&self, name: &str, if_exists: bool, cascade: bool)
    -> Result<Vec<Table>>;

    /// Creates a table; its owner's default privileges for the database are granted on it in
    /// the same transaction.
    async fn create_table(&self, table: Table, if_not_exists: bool) -> Result<bool>;
    async fn get_table(&self, db: &str, name: &str) -> Result<Option<Table>>;
    async fn list_tables(&self, db: &str, pattern: Option<&str>) -> Result<Vec<Table>>;
    /// Drops a table and forgets its grants; returns what was dropped. With `expected_version`
    /// it is optimistic like [`Metastore::alter_table`]: a table changed since that version was
    /// read (a new owner, say) is not dropped ([`crate::CatalogError::Conflict`]).
    async fn drop_table(
        &self,
        db: &str,
        name: &str,
        if_exists: bool,
        expected_version: Option<i64>,
    ) -> Result<Option<Table>>;
    /// Replaces a table's definition (columns, location, parameters, owner); bumps its version.
    /// Optimistic: fails with [`crate::CatalogError::Conflict`] when the table changed since
    /// `table.version` was read, so a check made on what was read still holds when it lands.
    async fn alter_table(&self, table: Table) -> Result<()>;

    /// Adds partitions in one transaction. With `if_not_exists`, existing ones are skipped;
    /// otherwise any existing one fails the whole call. Returns how many were added.
    async fn add_partitions(
        &self,
        db: &str,
        table: &str,
        partitions: Vec<Partition>,
        if_not_exists: bool,
    ) -> Result<usize>;
    /// Drops partitions in one transaction; returns the dropped ones.
    async fn drop_partitions(
        &self,
        db: &str,
        table: &str,
        specs: Vec<PartitionSpec>,
        if_exists: bool,
    ) -> Result<Vec<Partition>>;
    /// The partitions the filter may accept (a superset is allowed), in name order.
    async fn list_partitions(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<Partition>>;
    /// As [`Metastore::list_partitions`] without the data file lists (`files` empty): what the
    /// metastore protocols serve, which never read data.
    async fn list_partition_definitions(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<Partition>>;
    async fn count_partitions(&self, db: &str, table: &str) -> Result<u64>;
    /// What a scan reads, in one snapshot (one round trip on a networked store): the
    /// partitions `filter` may accept, as [`Metastore::list_partitions`], and the table's
    /// [`Metastore::write_state`].
    async fn scan_state(
        &self,
        db: &str,
        table: &str,
        location: &str,
        filter: &PartitionFilter,
    ) -> Result<(Vec<Partition>, crate::WriteState)>;
    /// What resolving a table name needs, in one snapshot: the database, the table, and the
    /// grants on the table, its columns and its database.
    async fn table_snapshot(&self, db: &str, table: &str) -> Result<TableSnapshot>;
    /// Replaces the location and parameters of an existing partition (matched by its values).
    async fn alter_partition(&self, db: &str, table: &str, partition: Partition) -> Result<()>;

    /// Registers a write before its first file is written (see [`crate::PendingWrite`]) and
    /// returns its id: the write's number in the catalog, then `write.write_id` (the writer's
    /// random suffix). A reader that saw [`crate::WriteState::last_sequence`] knows that writes
    /// numbered above it began later.
    async fn begin_write(&self, write: crate::PendingWrite) -> Result<String>;
    /// A write that will not commit. With `files_deleted` its intent ends (VACUUM also ends
    /// intents *before* deleting their files, so a commit racing it fails); without, the
    /// intent stays, marked failed, so readers keep skipping whatever the write left until
    /// VACUUM reclaims it. Returns whether the write was pending.
    async fn abandon_write(&self, write_id: &str, files_deleted: bool) -> Result<bool>;
    /// Ends the failed intents recorded at exactly `location` once its directory was deleted
    /// (a dropped managed table's): nothing is left for them to hide.
    async fn forget_failed_writes(&self, location: &str) -> Result<u64>;
    /// Writes of a table — and of any table whose location overlapped `location`, the
    /// table's — that began and have neither committed nor been abandoned (failed ones
    /// included, as tombstones until VACUUM removes them; a dropped managed table's writes
    /// among them), with the last write number, read together.
    async fn write_state(&self, db: &str, table: &str, location: &str)
    -> Result<crate::WriteState>;
    /// Publishes a write in one transaction after checking what the writer saw; a check that
    /// fails is [`crate::CatalogError::Conflict`] and publishes nothing. The write's intent
    /// ends in the same transaction.
    async fn commit_write(&self, commit: WriteCommit) -> Result<CommitOutcome>;
    /// Committed writes, newest first (all tables, or one database's).
    async fn list_batches(&self, db: Option<&str>) -> Result<Vec<BatchRecord>>;
    /// Locations retired by overwrites and dropped managed tables, oldest first.
    async fn retired_locations(&self) -> Result<Vec<RetiredLocation>>;
    /// Forgets retired locations once VACUUM has deleted them.
    async fn forget_retired(&self, locations: Vec<String>) -> Result<()>;
    /// Every table and partition whose location is `location`, lies below it or contains it
    /// (path components, trailing `/` ignored): no two tables may share data, and a DROP may
    /// delete a directory only while nothing else points inside it.
    async fn locations_overlapping(&self, location: &str) -> Result<Vec<crate::LocationUse>>;
    /// Every data file the catalog references for a table (for VACUUM).
    async fn referenced_files(&self, db: &str, table: &str) -> Result<Vec<String>>;

    /// Adds a role (names are case-sensitive, as PostgreSQL role names are once quoted).
    async fn create_user(&self, user: User, if_not_exists: bool) -> Result<bool>;
    async fn get_user(&self, name: &str) -> Result<Option<User>>;
    /// Every role, the predefined ones included.
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn alter_user(&self, name: &str, changes: RoleChanges) -> Result<()>;
    /// Drops a role and its memberships; refused ([`crate::CatalogError::DependentObjects`])
    /// while it owns objects or holds or granted privileges.
    async fn drop_user(&self, name: &str, if_exists: bool) -> Result<bool>;

    /// GRANT role TO member (both must exist); an existing membership keeps the stronger admin
    /// option.
    async fn grant_role(&self, membership: RoleMembership) -> Result<()>;
    /// REVOKE [ADMIN OPTION FOR] role FROM member; returns whether the membership existed.
    async fn revoke_role(&self, role: &str, member: &str, admin_option_only: bool) -> Result<bool>;
    async fn list_role_memberships(&self) -> Result<Vec<RoleMembership>>;
    /// [`Metastore::list_users`] and [`Metastore::list_role_memberships`] in one snapshot.
    async fn roles_and_memberships(&self) -> Result<(Vec<User>, Vec<RoleMembership>)>;

    /// Adds grants in one transaction (existing ones keep the stronger grant option).
    async fn grant_privileges(&self, grants: Vec<Grant>) -> Result<()>;
    /// Removes grants (or only their grant option) matched exactly; returns how many changed.
    async fn revoke_privileges(&self, grants: Vec<Grant>, grant_option_only: bool)
    -> Result<usize>;
    async fn list_grants(&self, scope: GrantScope) -> Result<Vec<Grant>>;
    /// ALTER DEFAULT PRIVILEGES … GRANT (or REVOKE).
    async fn set_default_privileges(
        &self,
        defaults: Vec<DefaultPrivilege>,
        revoke: bool,
    ) -> Result<()>;
    async fn list_default_privileges(&self) -> Result<Vec<DefaultPrivilege>>;

    /// 32 random bytes named `name`, created on first use and the same for every server of
    /// this catalog (decoy login verifiers must not differ between servers, or comparing them
    /// would tell which users exist).
    async fn shared_secret(&self, name: &str) -> Result<[u8; 32]>;

    /// Requests a lock on databases or tables for `owner` (see [`crate::locks`]); returns its
    /// id and whether it was granted.
    async fn lock(
        &self,
        targets: Vec<crate::LockTarget>,
        owner: &str,
    ) -> Result<(i64, crate::LockState)>;
    /// Refreshes a lock and grants it if it is free now; `None`: no such lock (released or
    /// expired).
    async fn check_lock(&self, id: i64) -> Result<Option<crate::LockState>>;
    /// Releases a lock; whether it existed.
    async fn unlock(&self, id: i64) -> Result<bool>;
    /// The targets of a lock (to check who may release it); empty when there is none.
    async fn lock_targets(&self, id: i64) -> Result<Vec<crate::LockTarget>>;

    /// The names (`k=v/…`, escaped as Hive names them) of the partitions `filter` may accept
    /// (a superset, as [`Metastore::list_partitions`]), in name order.
    async fn list_partition_names(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<String>>;
    /// Renames a table or view, possibly into another database; it keeps its data, location,
    /// partitions and statistics, and its grants follow it. With `expected_version` the rename
    /// is optimistic like [`Metastore::alter_table`].
    async fn rename_table(
        &self,
        from: (&str, &str),
        to: (&str, &str),
        expected_version: Option<i64>,
    ) -> Result<()>;
    /// Gives a partition new values (Hive's `rename_partition`): `to` carries the values,
    /// location and parameters; the partition keeps its files unless the location changes.
    async fn rename_partition(
        &self,
        db: &str,
        table: &str,
        from: PartitionSpec,
        to: Partition,
    ) -> Result<()>;
    /// Records column statistics of a table and its partitions in one transaction, replacing
    /// those of the same columns — or, with `merge`, combining each with the stored one
    /// ([`crate::combine`]).
    async fn set_column_statistics(
        &self,
        db: &str,
        table: &str,
        updates: Vec<crate::StatsUpdate>,
        merge: bool,
    ) -> Result<()>;
    /// The statistics of `columns` of the table (`partitions` `None`) or of each listed
    /// partition that has some (missing partitions are skipped).
    async fn column_statistics(
        &self,
        db: &str,
        table: &str,
        partitions: Option<Vec<PartitionSpec>>,
        columns: Vec<String>,
    ) -> Result<Vec<crate::StoredColumnStats>>;
    /// Removes the statistics of one column (every column without one); how many went.
    async fn delete_column_statistics(
        &self,
        db: &str,
        table: &str,
        partition: Option<PartitionSpec>,
        column: Option<String>,
    ) -> Result<u64>;

    /// Round trips made to a networked store so far (`None` for an embedded one): what a
    /// statement costs in catalog latency.
    fn round_trips(&self) -> Option<u64> {
        None
    }

    /// Every row of the catalog, read in one snapshot (`tarn catalog export`).
    async fn export_catalog(&self) -> Result<crate::CatalogDump>;
    /// Replaces the catalog with a dump in one transaction (`tarn catalog import`); without
    /// `replace` only a catalog with no tables and no login roles is replaced.
    async fn import_catalog(&self, dump: crate::CatalogDump, replace: bool) -> Result<()>;
}

/// A matcher for SHOW ... LIKE patterns: SQL LIKE (`%`, `_`, `\` escape) or Hive's (`*` any, `|`
/// alternatives). Matching is case-insensitive.
pub fn like_to_matcher(pattern: &str) -> impl Fn(&str) -> bool + use<> {
    let syntax = if pattern.contains('*') || pattern.contains('|') {
        LikeSyntax::Hive
    } else {
        LikeSyntax::Sql
    };
    let pattern = LikePattern::new(pattern, syntax, true);
    move |name: &str| pattern.matches(name)
}

#[cfg(test)]
mod tests {
    use super::like_to_matcher;

    #[test]
    fn like_patterns() {
        let cases = [
            ("ev%", "events", true),
            ("ev%", "raw_events", false),
            ("%events", "raw_events", true),
            ("e_ents", "events", true),
            ("EVENTS", "events", true),
            ("ev*", "events", true),
            ("raw*|ev*", "events", true),
            ("raw*|x*", "events", false),
            ("*", "anything", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                like_to_matcher(pattern)(name),
                expected,
                "{pattern} ~ {name}"
            );
        }
    }
}
