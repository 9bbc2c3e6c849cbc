//! Behaviour of the SQLite metastore (the suite a PostgreSQL store must also pass).

use std::collections::BTreeMap;

use super::SqliteMetastore;
use crate::{
    CatalogError, CmpOp, Column, Database, KeyValue, Metastore, Partition, PartitionFilter,
    StorageFormat, Table, TableType,
};

fn store() -> (tempfile::TempDir, SqliteMetastore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetastore::open(dir.path().join("metastore.db"), "/w").unwrap();
    (dir, store)
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

#[tokio::test]
async fn default_database_exists_and_survives_reopen() {
    let (dir, s) = store();
    assert!(s.get_database("default").await.unwrap().is_some());
    assert!(matches!(
        s.drop_database("default", false, true).await,
        Err(CatalogError::DropDefaultDatabase)
    ));
    drop(s);
    let s = SqliteMetastore::open(dir.path().join("metastore.db"), "/w").unwrap();
    assert_eq!(s.list_databases(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn databases_and_tables_lifecycle() {
    let (_d, s) = store();
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

#[tokio::test]
async fn alter_bumps_version() {
    let (_d, s) = store();
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
}

#[tokio::test]
async fn partitions_are_filtered_by_the_index() {
    let (_d, s) = store();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_readers_on_one_file() {
    let (dir, s) = store();
    s.create_table(table("default", "t", &[("k", "int")]), false)
        .await
        .unwrap();
    let path = dir.path().join("metastore.db");
    let mut tasks = Vec::new();
    for w in 0..8 {
        // A separate store per writer: as separate processes sharing one metastore file.
        let writer = SqliteMetastore::open(&path, "/w").unwrap();
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

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let (dir, s) = store();
    drop(s);
    let conn = rusqlite::Connection::open(dir.path().join("metastore.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = SqliteMetastore::open(dir.path().join("metastore.db"), "/w").unwrap_err();
    assert!(err.to_string().contains("newer than this tarn"), "{err}");
}

#[tokio::test]
async fn users_store_verifiers_not_passwords() {
    use crate::{ScramVerifier, User};
    let (_dir, store) = store();
    let user = User {
        name: "alice".into(),
        verifier: ScramVerifier::new("pw1").unwrap(),
        superuser: false,
        create_time: 1,
    };
    assert!(store.create_user(user.clone(), false).await.unwrap());
    assert!(!store.create_user(user.clone(), true).await.unwrap());
    assert!(matches!(
        store.create_user(user.clone(), false).await,
        Err(CatalogError::UserExists(_))
    ));
    assert_eq!(store.get_user("alice").await.unwrap(), Some(user.clone()));
    assert_eq!(store.get_user("Alice").await.unwrap(), None);
    let v2 = ScramVerifier::new("pw2").unwrap();
    store
        .alter_user("alice", Some(v2.clone()), Some(true))
        .await
        .unwrap();
    let got = store.get_user("alice").await.unwrap().unwrap();
    assert_eq!((got.verifier, got.superuser), (v2, true));
    assert_eq!(store.list_users().await.unwrap().len(), 1);
    let raw = std::fs::read(store.path()).unwrap();
    assert!(!raw.windows(3).any(|w| w == b"pw1" || w == b"pw2"));
    assert!(store.drop_user("alice", false).await.unwrap());
    assert!(!store.drop_user("alice", true).await.unwrap());
    assert!(matches!(
        store.alter_user("alice", None, Some(false)).await,
        Err(CatalogError::UserNotFound(_))
    ));
}
