//! What only a store as a whole shows: moving a catalog between stores, a lost
//! PostgreSQL connection, TLS to PostgreSQL.

use super::*;

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
    let hour_2 = vec![Some("2024-01-02".to_string()), Some("2".to_string())];
    let stats = super::colstats::long_stats("x", 7);
    let updates = vec![
        crate::StatsUpdate {
            partition: Some(hour_2.clone()),
            stats: vec![stats.clone()],
        },
        crate::StatsUpdate {
            partition: None,
            stats: vec![stats.clone()],
        },
    ];
    s.set_column_statistics("default", "t", updates, false)
        .await
        .unwrap();
    let dump = s.export_catalog().await.unwrap();

    let to = Harness::postgres();
    let p = to.open().await;
    p.import_catalog(dump.clone(), false).await.unwrap();
    assert_eq!(p.export_catalog().await.unwrap(), dump);
    let moved = p
        .column_statistics("default", "t", Some(vec![hour_2]), vec!["x".into()])
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].stats, stats);
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
