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
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::Harness::sqlite()).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::Harness::postgres()).await
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
    }
}

fn part(values: &[Option<&str>]) -> Partition {
    Partition::external(
        values.iter().map(|v| v.map(String::from)).collect(),
        format!("/w/p/{values:?}"),
        0,
    )
}

async fn default_database_exists_and_survives_reopen(h: Harness) {
    let s = h.open().await;
    assert!(s.get_database("default").await.unwrap().is_some());
    assert!(matches!(
        s.drop_database("default", false, true).await,
        Err(CatalogError::DropDefaultDatabase)
    ));
    drop(s);
    let s = h.open().await;
    assert_eq!(s.list_databases(None).await.unwrap().len(), 1);
}

async fn databases_and_tables_lifecycle(h: Harness) {
    let s = h.open().await;
    let db = Database {
        name: "Sales".into(),
        description: Some("d".into()),
        location: "/w/sales.db".into(),
        parameters: BTreeMap::new(),
        owner: None,
        create_time: 1,
    };
    assert!(s.create_database(db.clone(), false).await.unwrap());
    assert!(!s.create_database(db.clone(), true).await.unwrap());
    assert!(matches!(
        s.create_database(db, false).await,
        Err(CatalogError::DatabaseExists(_))
    ));
    assert!(
        s.create_table(table("sales", "Orders", &[]), false)
            .await
            .unwrap()
    );
    assert!(matches!(
        s.create_table(table("sales", "orders", &[]), false).await,
        Err(CatalogError::TableExists { .. })
    ));
    assert!(matches!(
        s.create_table(table("nope", "t", &[]), false).await,
        Err(CatalogError::DatabaseNotFound(_))
    ));
    let t = s.get_table("SALES", "ORDERS").await.unwrap().unwrap();
    assert_eq!(t.name, "orders");
    assert_eq!(s.list_tables("sales", Some("ord%")).await.unwrap().len(), 1);
    assert!(matches!(
        s.drop_database("sales", false, false).await,
        Err(CatalogError::DatabaseNotEmpty(_))
    ));
    let dropped = s.drop_database("sales", false, true).await.unwrap();
    assert_eq!(dropped.len(), 1);
    assert!(s.get_database("sales").await.unwrap().is_none());
}

async fn alter_bumps_version(h: Harness) {
    let s = h.open().await;
    s.create_table(table("default", "t", &[("dt", "date")]), false)
        .await
        .unwrap();
    let v0 = s.get_table("default", "t").await.unwrap().unwrap().version;
    s.add_partitions("default", "t", vec![part(&[Some("2024-01-01")])], false)
        .await
        .unwrap();
    let t = s.get_table("default", "t").await.unwrap().unwrap();
    assert!(t.version > v0);
    let mut altered = t.clone();
    altered.location = "/w/elsewhere".into();
    s.alter_table(altered).await.unwrap();
    let t2 = s.get_table("default", "t").await.unwrap().unwrap();
    assert_eq!(t2.location, "/w/elsewhere");
    assert!(t2.version > t.version);
    // A definition read before that change no longer applies: a conflict, nothing written.
    let mut stale = t.clone();
    stale.owner = Some("mallory".into());
    assert!(matches!(
        s.alter_table(stale).await,
        Err(CatalogError::Conflict(_))
    ));
    let t3 = s.get_table("default", "t").await.unwrap().unwrap();
    assert_eq!((t3.owner, t3.version), (None, t2.version));
}

async fn partitions_are_filtered_by_the_index(h: Harness) {
    let s = h.open().await;
    s.create_table(
        table("default", "t", &[("dt", "date"), ("h", "int")]),
        false,
    )
    .await
    .unwrap();
    let mut parts = Vec::new();
    for day in 1..=9 {
        for h in 0..24 {
            let dt = format!("2024-01-0{day}");
            parts.push(part(&[Some(dt.as_str()), Some(h.to_string().as_str())]));
        }
    }
    parts.push(part(&[None, Some("1")]));
    assert_eq!(
        s.add_partitions("default", "t", parts.clone(), false)
            .await
            .unwrap(),
        217
    );
    // Adding again: error, or skipped with IF NOT EXISTS.
    assert!(matches!(
        s.add_partitions("default", "t", parts[..1].to_vec(), false)
            .await,
        Err(CatalogError::PartitionExists { .. })
    ));
    assert_eq!(
        s.add_partitions("default", "t", parts.clone(), true)
            .await
            .unwrap(),
        0
    );

    let text = |s: &str| KeyValue::Text(s.into());
    let eq_day = PartitionFilter::Cmp {
        key: 0,
        op: CmpOp::Eq,
        value: text("2024-01-03"),
    };
    let found = s.list_partitions("default", "t", &eq_day).await.unwrap();
    assert_eq!(found.len(), 24);

    // Integer keys compare numerically: h >= 10 is 14 hours, not a text comparison.
    let and = PartitionFilter::and(vec![
        eq_day.clone(),
        PartitionFilter::Cmp {
            key: 1,
            op: CmpOp::GtEq,
            value: KeyValue::Int(10),
        },
    ]);
    assert_eq!(
        s.list_partitions("default", "t", &and).await.unwrap().len(),
        14
    );

    let or = PartitionFilter::or(vec![
        PartitionFilter::IsNull { key: 0 },
        PartitionFilter::In {
            key: 0,
            values: vec![text("2024-01-01"), text("2024-01-02")],
        },
    ]);
    let found = s.list_partitions("default", "t", &or).await.unwrap();
    assert_eq!(found.len(), 49);
    assert!(found.iter().any(|p| p.values[0].is_none()));

    let all = s
        .list_partitions("default", "t", &PartitionFilter::All)
        .await
        .unwrap();
    assert_eq!(all.len(), 217);
    assert_eq!(s.count_partitions("default", "t").await.unwrap(), 217);

    let dropped = s
        .drop_partitions("default", "t", vec![vec![None, Some("1".into())]], false)
        .await
        .unwrap();
    assert_eq!(dropped.len(), 1);
    assert!(matches!(
        s.drop_partitions("default", "t", vec![vec![None, Some("1".into())]], false)
            .await,
        Err(CatalogError::PartitionNotFound { .. })
    ));
    let nulls = s
        .list_partitions("default", "t", &PartitionFilter::IsNull { key: 0 })
        .await;
    assert!(nulls.unwrap().is_empty());
}

async fn concurrent_writers_and_readers_on_one_catalog(h: Harness) {
    let s = h.open().await;
    s.create_table(table("default", "t", &[("k", "int")]), false)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        // A separate store per writer: as separate processes sharing one catalog.
        let writer = h.open().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let k = (w * 100 + i).to_string();
                writer
                    .add_partitions("default", "t", vec![part(&[Some(k.as_str())])], false)
                    .await
                    .unwrap();
            }
        }));
    }
    for _ in 0..4 {
        let reader = s.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                let n = reader
                    .list_partitions("default", "t", &PartitionFilter::All)
                    .await
                    .unwrap()
                    .len();
                assert!(n <= 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.count_partitions("default", "t").await.unwrap(), 200);
}

async fn a_newer_schema_is_refused(h: Harness) {
    let running = h.open().await;
    h.set_schema_version(99).await;
    // A store opened before a newer tarn migrated the schema stops writing…
    let err = running
        .create_table(table("default", "t", &[]), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("upgrade this"), "{err}");
    assert!(running.get_table("default", "t").await.unwrap().is_none());
    // …and no store opens on it.
    let err = h.try_open().await.unwrap_err();
    assert!(err.to_string().contains("newer than this tarn"), "{err}");
}

async fn users_store_verifiers_not_passwords(h: Harness) {
    use crate::{RoleChanges, ScramVerifier, User};
    let store = h.open().await;
    let mut user = User::login("alice", ScramVerifier::new("pw1").unwrap(), false);
    user.create_time = 1;
    assert!(store.create_user(user.clone(), false).await.unwrap());
    assert!(!store.create_user(user.clone(), true).await.unwrap());
    assert!(matches!(
        store.create_user(user.clone(), false).await,
        Err(CatalogError::UserExists(_))
    ));
    assert_eq!(store.get_user("alice").await.unwrap(), Some(user.clone()));
    assert_eq!(store.get_user("Alice").await.unwrap(), None);
    let v2 = ScramVerifier::new("pw2").unwrap();
    let changes = RoleChanges {
        verifier: Some(Some(v2.clone())),
        superuser: Some(true),
        ..Default::default()
    };
    store.alter_user("alice", changes).await.unwrap();
    let got = store.get_user("alice").await.unwrap().unwrap();
    assert_eq!((got.verifier, got.superuser), (Some(v2), true));
    let logins: Vec<_> = store.list_users().await.unwrap();
    assert_eq!(logins.iter().filter(|u| u.can_login).count(), 1);
    let raw = h.raw_contents().await;
    assert!(!raw.windows(3).any(|w| w == b"pw1" || w == b"pw2"));
    // PASSWORD NULL and NOLOGIN: the role stays, without a way in.
    let nologin = RoleChanges {
        verifier: Some(None),
        can_login: Some(false),
        ..Default::default()
    };
    store.alter_user("alice", nologin).await.unwrap();
    let got = store.get_user("alice").await.unwrap().unwrap();
    assert_eq!((got.verifier.clone(), got.can_login), (None, false));
    assert!(got.login_verifier().is_none());
    assert!(store.drop_user("alice", false).await.unwrap());
    assert!(!store.drop_user("alice", true).await.unwrap());
    assert!(matches!(
        store.alter_user("alice", RoleChanges::default()).await,
        Err(CatalogError::UserNotFound(_))
    ));
}

async fn predefined_roles_and_postgres_15_default_grants_exist(h: Harness) {
    use crate::{GrantScope, PUBLIC, Privilege, Securable};
    let s = h.open().await;
    for name in crate::acl::predefined::ALL {
        let role = s.get_user(name).await.unwrap().unwrap();
        assert!(!role.can_login && role.verifier.is_none(), "{name}");
    }
    let catalog = s
        .list_grants(GrantScope::Object(Securable::Catalog))
        .await
        .unwrap();
    assert!(
        catalog
            .iter()
            .any(|g| g.grantee == PUBLIC && g.privilege == Privilege::Connect)
    );
    let public = s
        .list_grants(GrantScope::Object(Securable::Database("default".into())))
        .await
        .unwrap();
    let public: Vec<_> = public
        .iter()
        .map(|g| (g.grantee.as_str(), g.privilege))
        .collect();
    assert_eq!(public, vec![(PUBLIC, Privilege::Usage)]);
    let db = s.get_database("default").await.unwrap().unwrap();
    assert_eq!(db.owner.as_deref(), Some("pg_database_owner"));
}

fn login(name: &str) -> crate::User {
    crate::User::login(
        name,
        crate::ScramVerifier::with_salt("pw", vec![1; 16], 1),
        false,
    )
}

async fn grants_are_stored_listed_revoked_and_forgotten_with_their_table(h: Harness) {
    use crate::{Grant, GrantScope, Privilege, Securable};
    let s = h.open().await;
    s.create_user(login("alice"), false).await.unwrap();
    let mut t = table("default", "t", &[]);
    t.owner = Some("alice".into());
    s.create_table(t, false).await.unwrap();
    let g = |privilege, grantable| Grant {
        object: Securable::table("default", "t"),
        grantee: "bob".into(),
        privilege,
        grantor: "alice".into(),
        grantable,
    };
    let col = Grant {
        object: Securable::Column {
            database: "default".into(),
            table: "t".into(),
            column: "x".into(),
        },
        ..g(Privilege::Select, false)
    };
    s.grant_privileges(vec![
        g(Privilege::Select, false),
        g(Privilege::Insert, true),
        col.clone(),
    ])
    .await
    .unwrap();
    // Granting again with the option upgrades, never downgrades.
    s.grant_privileges(vec![
        g(Privilege::Select, true),
        g(Privilege::Insert, false),
    ])
    .await
    .unwrap();
    let scope = GrantScope::TableAndColumns {
        database: "default".into(),
        table: "t".into(),
    };
    let got = s.list_grants(scope.clone()).await.unwrap();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.iter()
            .filter(|g| g.object.kind() == crate::ObjectKind::Table)
            .all(|g| g.grantable)
    );
    assert_eq!(
        s.revoke_privileges(vec![g(Privilege::Insert, false)], true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.revoke_privileges(vec![g(Privilege::Select, false)], false)
            .await
            .unwrap(),
        1
    );
    let got = s.list_grants(scope.clone()).await.unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|g| !g.grantable));
    // The owner holds its table: the role cannot be dropped until it is gone.
    assert!(matches!(
        s.drop_user("alice", false).await,
        Err(CatalogError::DependentObjects(_))
    ));
    s.drop_table("default", "t", false, None).await.unwrap();
    assert!(s.list_grants(scope).await.unwrap().is_empty());
    assert!(s.drop_user("alice", false).await.unwrap());
}

async fn default_privileges_apply_to_tables_created_later(h: Harness) {
    use crate::{DefaultPrivilege, GrantScope, Privilege};
    let s = h.open().await;
    let defaults = vec![DefaultPrivilege {
        owner: "alice".into(),
        database: Some("default".into()),
        grantee: "analysts".into(),
        privilege: Privilege::Select,
        grantable: false,
    }];
    s.set_default_privileges(defaults.clone(), false)
        .await
        .unwrap();
    assert_eq!(s.list_default_privileges().await.unwrap(), defaults);
    for (name, owner) in [("mine", "alice"), ("theirs", "bob")] {
        let mut t = table("default", name, &[]);
        t.owner = Some(owner.into());
        s.create_table(t, false).await.unwrap();
    }
    let on = |t: &str| GrantScope::TableAndColumns {
        database: "default".into(),
        table: t.into(),
    };
    let mine = s.list_grants(on("mine")).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].grantee.as_str(), mine[0].grantor.as_str()),
        ("analysts", "alice")
    );
    assert!(s.list_grants(on("theirs")).await.unwrap().is_empty());
    s.set_default_privileges(defaults, true).await.unwrap();
    assert!(s.list_default_privileges().await.unwrap().is_empty());
}

async fn role_memberships_need_existing_roles(h: Harness) {
    use crate::RoleMembership;
    let s = h.open().await;
    s.create_user(login("alice"), false).await.unwrap();
    let m = RoleMembership {
        role: "pg_read_all_data".into(),
        member: "alice".into(),
        admin_option: false,
        grantor: "admin".into(),
    };
    s.grant_role(m.clone()).await.unwrap();
    assert_eq!(s.list_role_memberships().await.unwrap(), vec![m.clone()]);
    let ghost = RoleMembership {
        member: "ghost".into(),
        ..m.clone()
    };
    assert!(matches!(
        s.grant_role(ghost).await,
        Err(CatalogError::UserNotFound(_))
    ));
    assert!(
        s.revoke_role("pg_read_all_data", "alice", false)
            .await
            .unwrap()
    );
    assert!(
        !s.revoke_role("pg_read_all_data", "alice", false)
            .await
            .unwrap()
    );
    s.grant_role(m).await.unwrap();
    // Dropping the member drops its memberships.
    assert!(s.drop_user("alice", false).await.unwrap());
    assert!(s.list_role_memberships().await.unwrap().is_empty());
}

async fn overlapping_locations_are_found_by_path_component(h: Harness) {
    let s = h.open().await;
    s.create_table(table("default", "a", &[("k", "int")]), false)
        .await
        .unwrap();
    s.create_table(table("default", "ab", &[]), false)
        .await
        .unwrap();
    // a's partition lives outside a's directory.
    let mut p = part(&[Some("1")]);
    p.location = "/elsewhere/k=1/".into();
    s.add_partitions("default", "a", vec![p], false)
        .await
        .unwrap();
    let found = |l: &'static str| {
        let s = &s;
        async move {
            s.locations_overlapping(l)
                .await
                .unwrap()
                .into_iter()
                .map(|u| {
                    format!(
                        "{}.{}:{:?}:{}",
                        u.database, u.table, u.partition, u.location
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("/w/a").await, vec!["default.a:None:/w/a"]);
    assert_eq!(found("/w/a/sub/").await, vec!["default.a:None:/w/a"]);
    assert_eq!(
        found("/w").await,
        vec!["default.a:None:/w/a", "default.ab:None:/w/ab"]
    );
    assert_eq!(
        found("/elsewhere").await,
        vec!["default.a:Some(\"k=1\"):/elsewhere/k=1"]
    );
    assert!(found("/w/a2").await.is_empty());
    assert!(found("/else").await.is_empty());
}

async fn a_drop_checked_on_a_stale_read_conflicts(h: Harness) {
    let s = h.open().await;
    s.create_table(table("default", "t", &[]), false)
        .await
        .unwrap();
    let read = s.get_table("default", "t").await.unwrap().unwrap();
    let mut changed = read.clone();
    changed.owner = Some("mallory".into());
    s.alter_table(changed).await.unwrap();
    let e = s
        .drop_table("default", "t", false, Some(read.version))
        .await
        .unwrap_err();
    assert!(matches!(e, CatalogError::Conflict(_)), "{e}");
    assert!(s.get_table("default", "t").await.unwrap().is_some());
    // Dropped and created again: a version read of the old (unaltered) table does not match
    // the new one.
    s.drop_table("default", "t", false, None).await.unwrap();
    s.create_table(table("default", "t", &[]), false)
        .await
        .unwrap();
    let old = s.get_table("default", "t").await.unwrap().unwrap();
    s.drop_table("default", "t", false, Some(old.version))
        .await
        .unwrap();
    s.create_table(table("default", "t", &[]), false)
        .await
        .unwrap();
    assert!(matches!(
        s.drop_table("default", "t", false, Some(old.version)).await,
        Err(CatalogError::Conflict(_))
    ));
    let now = s.get_table("default", "t").await.unwrap().unwrap();
    assert!(
        s.drop_table("default", "t", false, Some(now.version))
            .await
            .unwrap()
            .is_some()
    );
}

async fn write_intents_are_numbered_listed_and_ended_by_the_commit(h: Harness) {
    let s = h.open().await;
    s.create_table(table("default", "t", &[]), false)
        .await
        .unwrap();
    let intent = |suffix: &str| crate::PendingWrite {
        write_id: suffix.into(),
        database: "default".into(),
        table: "t".into(),
        started_at: 1,
        user: "u".into(),
        statement: "INSERT".into(),
        failed: false,
        location: "/w/t/".into(),
    };
    let before = s
        .write_state("default", "t", "/w/t")
        .await
        .unwrap()
        .last_sequence;
    let a = s.begin_write(intent("aaaa0000")).await.unwrap();
    let b = s.begin_write(intent("bbbb0000")).await.unwrap();
    assert!(a.ends_with("aaaa0000") && a < b, "{a} {b}");
    assert!(a.as_str() >= crate::write_sequence_prefix(before + 1).as_str());
    let state = s.write_state("default", "t", "/w/t").await.unwrap();
    assert_eq!(state.pending.len(), 2);
    assert_eq!(state.last_sequence, before + 2);
    // Any table over the same directories sees them, on whole path components.
    for over in ["/w/t", "/w/t/k=1/", "/w"] {
        let seen = s.write_state("default", "u", over).await.unwrap().pending;
        assert_eq!(seen.len(), 2, "{over}");
    }
    for apart in ["/w/tt", "/w/s", ""] {
        let seen = s.write_state("default", "u", apart).await.unwrap().pending;
        assert!(seen.is_empty(), "{apart}");
    }
    let commit = |id: &str| crate::WriteCommit {
        write_id: id.into(),
        database: "default".into(),
        table: "t".into(),
        batch_id: "batch".into(),
        replaces_batch: false,
        statement: "INSERT".into(),
        user: "u".into(),
        writes: vec![],
        create_table: None,
        replace_table: None,
    };
    s.commit_write(commit(&a)).await.unwrap();
    // A write marked failed (VACUUM reclaiming it) can no longer commit.
    assert!(s.abandon_write(&b, false).await.unwrap());
    assert!(matches!(
        s.commit_write(commit(&b)).await,
        Err(CatalogError::Conflict(_))
    ));
    let state = s.write_state("default", "t", "/w/t").await.unwrap();
    assert_eq!(
        state
            .pending
            .iter()
            .map(|p| (&p.write_id[..], p.failed))
            .collect::<Vec<_>>(),
        vec![(&b[..], true)]
    );
    assert!(s.abandon_write(&b, true).await.unwrap());
    assert!(
        s.write_state("default", "t", "/w/t")
            .await
            .unwrap()
            .pending
            .is_empty()
    );
}

async fn a_dropped_managed_tables_writes_stay_as_tombstones_at_its_location(h: Harness) {
    let s = h.open().await;
    let mut managed = table("default", "m", &[]);
    managed.table_type = TableType::Managed;
    s.create_table(managed, false).await.unwrap();
    s.create_table(table("default", "e", &[]), false)
        .await
        .unwrap();
    let mut ids = vec![];
    for name in ["m", "e"] {
        let id = s
            .begin_write(crate::PendingWrite {
                write_id: "dddd0000".into(),
                database: "default".into(),
                table: name.into(),
                started_at: 1,
                user: "u".into(),
                statement: "INSERT".into(),
                failed: false,
                location: format!("/w/{name}"),
            })
            .await
            .unwrap();
        let path = format!(
            "/w/{name}/{}",
            crate::paths::tarn_file_name(&id, 0, ".parquet")
        );
        s.commit_write(crate::WriteCommit {
            write_id: id.clone(),
            database: "default".into(),
            table: name.into(),
            batch_id: "b".into(),
            replaces_batch: false,
            statement: "INSERT".into(),
            user: "u".into(),
            writes: vec![crate::PartitionWrite {
                values: vec![],
                location: format!("/w/{name}"),
                change: crate::Change::Append,
                expected: crate::Expected::Absent,
                files: vec![crate::DataFile {
                    path,
                    size: 1,
                    rows: 1,
                    columns: BTreeMap::new(),
                }],
            }],
            create_table: None,
            replace_table: None,
        })
        .await
        .unwrap();
        ids.push(id);
    }
    let pending = |location: &'static str| {
        let s = &s;
        async move {
            s.write_state("default", "later", location)
                .await
                .unwrap()
                .pending
                .into_iter()
                .map(|p| (p.write_id, p.failed))
                .collect::<Vec<_>>()
        }
    };
    assert!(pending("/w/m").await.is_empty(), "committed");
    s.drop_table("default", "m", false, None).await.unwrap();
    s.drop_table("default", "e", false, None).await.unwrap();
    // A table declared over the managed table's directory skips what it had committed; an
    // external table's data is the user's and stays readable.
    assert_eq!(pending("/w/m/").await, vec![(ids[0].clone(), true)]);
    assert!(pending("/w/e").await.is_empty());
    assert_eq!(s.forget_failed_writes("/w/m").await.unwrap(), 1);
    assert!(pending("/w/m").await.is_empty());
}

/// Overwrites of one partition racing from separate stores (as separate servers): every one
/// read the same version, exactly one commits, the others conflict and publish nothing.
async fn racing_overwrites_from_separate_stores_have_one_winner(h: Harness) {
    use crate::{Change, DataFile, Expected, PartitionWrite, PendingWrite, WriteCommit};
    let s = h.open().await;
    let mut t = table("default", "t", &[("k", "int")]);
    t.table_type = TableType::Managed;
    s.create_table(t, false).await.unwrap();
    s.add_partitions("default", "t", vec![part(&[Some("1")])], false)
        .await
        .unwrap();
    let version = s
        .list_partitions("default", "t", &PartitionFilter::All)
        .await
        .unwrap()[0]
        .version;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = h.open().await;
        tasks.push(tokio::spawn(async move {
            let write_id = store
                .begin_write(PendingWrite {
                    write_id: format!("{i:08x}"),
                    database: "default".into(),
                    table: "t".into(),
                    started_at: 1,
                    user: "u".into(),
                    statement: "INSERT OVERWRITE".into(),
                    failed: false,
                    location: "/w/t".into(),
                })
                .await
                .unwrap();
            let location = format!("/w/t/k=1/attempt{i}");
            let commit = WriteCommit {
                write_id: write_id.clone(),
                database: "default".into(),
                table: "t".into(),
                batch_id: write_id,
                replaces_batch: false,
                statement: "INSERT OVERWRITE".into(),
                user: "u".into(),
                writes: vec![PartitionWrite {
                    values: vec![Some("1".into())],
                    location: location.clone(),
                    change: Change::Replace,
                    expected: Expected::AtVersion(version),
                    files: vec![DataFile {
                        path: format!("{location}/f.parquet"),
                        size: 10,
                        rows: i + 1,
                        columns: Default::default(),
                    }],
                }],
                create_table: None,
                replace_table: None,
            };
            (location, store.commit_write(commit).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (location, Ok(_)) => winners.push(location),
            (_, Err(CatalogError::Conflict(_))) => {}
            (_, Err(e)) => panic!("{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let parts = s
        .list_partitions("default", "t", &PartitionFilter::All)
        .await
        .unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].location, winners[0]);
    assert_eq!(parts[0].files.as_ref().map(Vec::len), Some(1));
    assert_eq!(s.list_batches(None).await.unwrap().len(), 1);
}

/// A catalog exported from one store and imported into the other reads the same, row for row,
/// and keeps working (typed partition filters, new ids after the copied ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_catalog_moves_from_sqlite_to_postgres_and_back_intact() {
    use crate::{Grant, Privilege, ScramVerifier, Securable, User};
    let from = Harness::sqlite();
    let s = from.open().await;
    s.create_table(
        table("default", "t", &[("dt", "date"), ("h", "int")]),
        false,
    )
    .await
    .unwrap();
    let parts: Vec<Partition> = (-3..20)
        .map(|h| part(&[Some("2024-01-02"), Some(h.to_string().as_str())]))
        .collect();
    s.add_partitions("default", "t", parts, false)
        .await
        .unwrap();
    s.create_user(
        User::login("alice", ScramVerifier::new("pw").unwrap(), false),
        false,
    )
    .await
    .unwrap();
    s.grant_privileges(vec![Grant {
        object: Securable::Table {
            database: "default".into(),
            table: "t".into(),
        },
        grantee: "alice".into(),
        privilege: Privilege::Select,
        grantor: "tarn".into(),
        grantable: false,
    }])
    .await
    .unwrap();
    let dump = s.export_catalog().await.unwrap();

    let to = Harness::postgres();
    let p = to.open().await;
    p.import_catalog(dump.clone(), false).await.unwrap();
    assert_eq!(p.export_catalog().await.unwrap(), dump);
    // Integer keys still compare numerically (the stored form changed).
    let filter = PartitionFilter::Cmp {
        key: 1,
        op: CmpOp::Lt,
        value: KeyValue::Int(2),
    };
    assert_eq!(
        p.list_partitions("default", "t", &filter)
            .await
            .unwrap()
            .len(),
        5
    );
    // Ids continue after the copied ones.
    p.add_partitions(
        "default",
        "t",
        vec![part(&[Some("2024-01-03"), Some("1")])],
        false,
    )
    .await
    .unwrap();
    p.create_table(table("default", "u", &[]), false)
        .await
        .unwrap();
    // A catalog in use is not overwritten by accident.
    let refused = p.import_catalog(dump.clone(), false).await.unwrap_err();
    assert!(refused.to_string().contains("--replace"), "{refused}");

    let back = Harness::sqlite();
    let b = back.open().await;
    let moved = p.export_catalog().await.unwrap();
    b.import_catalog(moved.clone(), false).await.unwrap();
    assert_eq!(b.export_catalog().await.unwrap(), moved);
    // The five copied partitions with h < 2, and the one added on PostgreSQL.
    assert_eq!(
        b.list_partitions("default", "t", &filter)
            .await
            .unwrap()
            .len(),
        6
    );
    assert_eq!(b.count_partitions("default", "t").await.unwrap(), 24);
    assert!(
        b.get_user("alice")
            .await
            .unwrap()
            .unwrap()
            .verifier
            .is_some()
    );
}

/// The catalog database going away fails calls with [`CatalogError::Unavailable`] (58000 on
/// the wire), quickly and without the password; once it is back the pool reconnects by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_catalog_connection_fails_clearly_and_recovers() {
    let server = crate::testing::PostgresServer::start();
    let mut options = PostgresOptions::new(format!(
        "postgresql://tarn:hunter2@127.0.0.1:{}/postgres",
        server.port
    ));
    options.schema = server.schema("lost");
    let s = PostgresMetastore::connect(&options, "/w").await.unwrap();
    s.create_table(table("default", "t", &[]), false)
        .await
        .unwrap();
    server.stop();
    let started = std::time::Instant::now();
    let err = s.get_table("default", "t").await.unwrap_err();
    assert!(matches!(err, CatalogError::Unavailable(_)), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let err = s
        .create_table(table("default", "u", &[]), false)
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Unavailable(_)), "{err:?}");
    server.resume();
    let mut recovered = None;
    for _ in 0..3 {
        match s.get_table("default", "t").await {
            Ok(t) => {
                recovered = t;
                break;
            }
            Err(CatalogError::Unavailable(_)) => continue,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(recovered.is_some());
    assert!(
        s.create_table(table("default", "u", &[]), false)
            .await
            .unwrap()
    );
}

/// Random filters over three keys (int, date, string, with NULL partitions) select exactly the
/// partitions a direct evaluation of the filter selects: the compiled SQL (range scans, driven
/// ANDs with per-candidate lookups, UNIONs) loses and adds nothing on either store.
async fn random_filters_select_exactly_the_matching_partitions(h: Harness) {
    let s = h.open().await;
    let keys = [("n", "int"), ("dt", "date"), ("c", "string")];
    s.create_table(table("default", "r", &keys), false)
        .await
        .unwrap();
    let mut values: Vec<[Option<String>; 3]> = Vec::new();
    for n in -3..4 {
        for d in 1..4 {
            for c in ["a", "b", "ab"] {
                values.push([
                    Some(n.to_string()),
                    Some(format!("2024-01-0{d}")),
                    Some(c.to_string()),
                ]);
            }
        }
    }
    values.push([None, Some("2024-01-01".into()), Some("a".into())]);
    values.push([Some("1".into()), None, None]);
    let parts = values
        .iter()
        .map(|v| part(&[v[0].as_deref(), v[1].as_deref(), v[2].as_deref()]))
        .collect();
    s.add_partitions("default", "r", parts, false)
        .await
        .unwrap();
    let mut seed = 0x9e37_79b9_u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for round in 0..60 {
        let filter = random_filter(&mut next, 2);
        let expected: BTreeSet<Vec<Option<String>>> = values
            .iter()
            .filter(|v| matches(&filter, v.as_slice()))
            .map(|v| v.to_vec())
            .collect();
        let found: BTreeSet<Vec<Option<String>>> = s
            .list_partitions("default", "r", &filter)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.values)
            .collect();
        assert_eq!(found, expected, "round {round}: {filter:?}");
    }
}

fn random_value(next: &mut impl FnMut(u64) -> u64, key: usize) -> KeyValue {
    match key {
        0 => KeyValue::Int(next(9) as i64 - 4),
        1 => KeyValue::Text(format!("2024-01-0{}", next(4) + 1)),
        _ => KeyValue::Text(["a", "ab", "b", "c"][next(4) as usize].into()),
    }
}

fn random_filter(next: &mut impl FnMut(u64) -> u64, depth: u32) -> PartitionFilter {
    let key = next(3) as usize;
    let ops = [
        CmpOp::Eq,
        CmpOp::NotEq,
        CmpOp::Lt,
        CmpOp::LtEq,
        CmpOp::Gt,
        CmpOp::GtEq,
    ];
    match next(if depth == 0 { 4 } else { 6 }) {
        0 | 1 => PartitionFilter::Cmp {
            key,
            op: ops[next(6) as usize],
            value: random_value(next, key),
        },
        2 => PartitionFilter::In {
            key,
            values: (0..next(3) + 1).map(|_| random_value(next, key)).collect(),
        },
        3 if next(2) == 0 => PartitionFilter::IsNull { key },
        3 => PartitionFilter::IsNotNull { key },
        4 => PartitionFilter::And(
            (0..next(3) + 2)
                .map(|_| random_filter(next, depth - 1))
                .collect(),
        ),
        _ => PartitionFilter::Or(
            (0..next(3) + 2)
                .map(|_| random_filter(next, depth - 1))
                .collect(),
        ),
    }
}

/// The filter on typed values: integers numerically, text bytewise, NULL matching no comparison.
fn matches(f: &PartitionFilter, v: &[Option<String>]) -> bool {
    let typed = |key: usize| -> Option<KeyValue> {
        let s = v[key].as_ref()?;
        Some(match key {
            0 => KeyValue::Int(s.parse().unwrap()),
            _ => KeyValue::Text(s.clone()),
        })
    };
    let cmp = |a: &KeyValue, b: &KeyValue| match (a, b) {
        (KeyValue::Int(x), KeyValue::Int(y)) => x.cmp(y),
        (KeyValue::Text(x), KeyValue::Text(y)) => x.cmp(y),
        (KeyValue::Int(_), KeyValue::Text(_)) => std::cmp::Ordering::Less,
        (KeyValue::Text(_), KeyValue::Int(_)) => std::cmp::Ordering::Greater,
    };
    use std::cmp::Ordering::*;
    match f {
        PartitionFilter::All => true,
        PartitionFilter::And(t) => t.iter().all(|t| matches(t, v)),
        PartitionFilter::Or(t) => t.iter().any(|t| matches(t, v)),
        PartitionFilter::IsNull { key } => v[*key].is_none(),
        PartitionFilter::IsNotNull { key } => v[*key].is_some(),
        PartitionFilter::In { key, values } => {
            typed(*key).is_some_and(|x| values.iter().any(|y| cmp(&x, y) == Equal))
        }
        PartitionFilter::Cmp { key, op, value } => typed(*key).is_some_and(|x| {
            let o = cmp(&x, value);
            match op {
                CmpOp::Eq => o == Equal,
                CmpOp::NotEq => o != Equal,
                CmpOp::Lt => o == Less,
                CmpOp::LtEq => o != Greater,
                CmpOp::Gt => o == Greater,
                CmpOp::GtEq => o != Less,
            }
        }),
    }
}

/// With `sslmode=require` the catalog connection is TLS, and the server's certificate must be
/// trusted and name the host: a self-signed one is refused until it is configured as a root,
/// and a host name it does not carry is refused even then.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_catalog_connection_uses_verified_tls() {
    let server = crate::testing::PostgresServer::start_tls();
    let options = |host: &str, root: bool| {
        let mut o = PostgresOptions::new(format!(
            "postgresql://tarn@{host}:{}/postgres?sslmode=require",
            server.port
        ));
        o.schema = server.schema("tls");
        o.ssl_root_cert = root.then(|| server.certificate().unwrap());
        o
    };
    let untrusted = PostgresMetastore::connect(&options("localhost", false), "/w").await;
    let err = untrusted.unwrap_err();
    assert!(matches!(err, CatalogError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");
    let wrong_name = PostgresMetastore::connect(&options("127.0.0.1", true), "/w").await;
    assert!(
        matches!(wrong_name, Err(CatalogError::Unavailable(_))),
        "{wrong_name:?}"
    );
    let s = PostgresMetastore::connect(&options("localhost", true), "/w")
        .await
        .unwrap();
    s.create_table(table("default", "t", &[]), false)
        .await
        .unwrap();
    // The server's view: tarn's (pooled, idle) connection is encrypted.
    let admin = Harness::client(&PostgresOptions::new(format!(
        "postgresql://tarn@127.0.0.1:{}/postgres?sslmode=disable",
        server.port
    )))
    .await;
    let encrypted: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'tarn' AND s.ssl",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(encrypted >= 1);
}

suite!(
    random_filters_select_exactly_the_matching_partitions,
    racing_overwrites_from_separate_stores_have_one_winner,
    default_database_exists_and_survives_reopen,
    databases_and_tables_lifecycle,
    alter_bumps_version,
    partitions_are_filtered_by_the_index,
    concurrent_writers_and_readers_on_one_catalog,
    a_newer_schema_is_refused,
    users_store_verifiers_not_passwords,
    predefined_roles_and_postgres_15_default_grants_exist,
    grants_are_stored_listed_revoked_and_forgotten_with_their_table,
    default_privileges_apply_to_tables_created_later,
    role_memberships_need_existing_roles,
    overlapping_locations_are_found_by_path_component,
    a_drop_checked_on_a_stale_read_conflicts,
    write_intents_are_numbered_listed_and_ended_by_the_commit,
    a_dropped_managed_tables_writes_stay_as_tombstones_at_its_location,
);
