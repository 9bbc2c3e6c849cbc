//! The metastore's behaviour: one suite, run against every store (SQLite, and a real
//! PostgreSQL server started by the test setup, see [`crate::testing`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::{
    CatalogError, CmpOp, Column, Database, KeyValue, Metastore, Partition, PartitionFilter,
    PostgresMetastore, PostgresOptions, SqliteMetastore, StorageFormat, Table, TableType,
};

/// One catalog of one store; [`Harness::open`] opens it (again) as a separate process would.
enum Harness {
    Sqlite(tempfile::TempDir),
    Postgres(PostgresOptions),
}

impl Harness {
    fn sqlite() -> Self {
        Harness::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Self {
        Harness::Postgres(crate::testing::PostgresServer::shared().options("suite"))
    }

    async fn try_open(&self) -> crate::Result<Arc<dyn Metastore>> {
        Ok(match self {
            Harness::Sqlite(dir) => Arc::new(SqliteMetastore::open(
                dir.path().join("metastore.db"),
                "/w",
            )?),
            Harness::Postgres(options) => {
                Arc::new(PostgresMetastore::connect(options, "/w").await?)
            }
        })
    }

    async fn open(&self) -> Arc<dyn Metastore> {
        self.try_open().await.unwrap()
    }

    /// Everything the store holds, as bytes (to look for secrets).
    async fn raw_contents(&self) -> Vec<u8> {
        match self {
            Harness::Sqlite(dir) => {
                let mut raw = Vec::new();
                for entry in std::fs::read_dir(dir.path()).unwrap() {
                    raw.extend(std::fs::read(entry.unwrap().path()).unwrap());
                }
                raw
            }
            Harness::Postgres(options) => {
                let client = Self::client(options).await;
                let mut raw = Vec::new();
                let tables = client
                    .query(
                        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
                        &[&options.schema],
                    )
                    .await
                    .unwrap();
                for t in tables {
                    let name: String = t.get(0);
                    let sql = format!("SELECT t::text FROM {}.{name} t", options.schema);
                    for row in client.query(&sql, &[]).await.unwrap() {
                        raw.extend(row.get::<_, String>(0).into_bytes());
                    }
                }
                raw
            }
        }
    }

    async fn client(options: &PostgresOptions) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&options.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    }

    /// Marks the catalog's schema as written by a newer tarn.
    async fn set_schema_version(&self, version: i64) {
        match self {
            Harness::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.path().join("metastore.db")).unwrap();
                conn.pragma_update(None, "user_version", version).unwrap();
            }
            Harness::Postgres(options) => {
                Self::client(options)
                    .await
                    .execute(
                        &format!(
                            "UPDATE {}.tarn_schema_version SET version = $1",
                            options.schema
                        ),
                        &[&version],
                    )
                    .await
                    .unwrap();
            }
        }
    }
}

/// Each test runs on every store.
macro_rules! suite {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$module::$name(super::Harness::sqlite()).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$module::$name(super::Harness::postgres()).await
                }
            )*
        }
    };
}

fn table(db: &str, name: &str, keys: &[(&str, &str)]) -> Table {
    Table {
        database: db.into(),
        name: name.into(),
        table_type: TableType::External,
        columns: vec![Column::new("x", "bigint", None).unwrap()],
        partition_keys: keys
            .iter()
            .map(|(k, t)| Column::new(*k, t, None).unwrap())
            .collect(),
        location: format!("/w/{name}"),
        format: StorageFormat::Parquet,
        parameters: BTreeMap::new(),
        owner: None,
        create_time: 0,
        version: 0,
        view_text: None,
        hive: None,
    }
}

fn part(values: &[Option<&str>]) -> Partition {
    Partition::external(
        values.iter().map(|v| v.map(String::from)).collect(),
        format!("/w/p/{values:?}"),
        0,
    )
}

mod catalog;
mod colstats;
mod filters;
mod locks;
mod roles;
mod stores;
mod writes;

suite!(
    colstats::column_statistics_are_kept_per_table_and_partition,
    colstats::statistics_go_with_their_partition_and_table,
    colstats::a_commit_drops_the_statistics_of_what_it_changed,
    colstats::a_renamed_partition_keeps_its_data_and_statistics,
    colstats::merges_are_combined_in_one_transaction,
    locks::exclusive_locks_exclude_across_servers,
    locks::racing_lockers_get_one_lock,
    filters::random_filters_select_exactly_the_matching_partitions,
    writes::racing_overwrites_from_separate_stores_have_one_winner,
    catalog::default_database_exists_and_survives_reopen,
    catalog::databases_and_tables_lifecycle,
    catalog::alter_bumps_version,
    catalog::a_renamed_table_keeps_its_partitions_grants_and_data,
    catalog::partitions_are_filtered_by_the_index,
    catalog::concurrent_writers_and_readers_on_one_catalog,
    catalog::a_newer_schema_is_refused,
    roles::users_store_verifiers_not_passwords,
    roles::predefined_roles_and_postgres_15_default_grants_exist,
    roles::grants_are_stored_listed_revoked_and_forgotten_with_their_table,
    roles::default_privileges_apply_to_tables_created_later,
    roles::role_memberships_need_existing_roles,
    catalog::overlapping_locations_are_found_by_path_component,
    catalog::a_drop_checked_on_a_stale_read_conflicts,
    writes::write_intents_are_numbered_listed_and_ended_by_the_commit,
    writes::a_dropped_managed_tables_writes_stay_as_tombstones_at_its_location,
);
