//! Databases, tables, partitions, locations and the schema version, on every store.

use super::*;

pub(super) async fn default_database_exists_and_survives_reopen(h: Harness) {
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

pub(super) async fn databases_and_tables_lifecycle(h: Harness) {
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

pub(super) async fn alter_bumps_version(h: Harness) {
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
    // Every change to the partitions moves the version on (HMS keeps name listings by it).
    let version = || async { s.get_table("default", "t").await.unwrap().unwrap().version };
    let mut last = t3.version;
    let mut moved_on = |now: i64, what: &str| {
        assert!(now > last, "{what} kept version {last}");
        last = now;
    };
    s.add_partitions("default", "t", vec![part(&[Some("2024-01-02")])], false)
        .await
        .unwrap();
    moved_on(version().await, "add");
    let mut renamed = part(&[Some("2024-01-03")]);
    renamed.location = part(&[Some("2024-01-02")]).location;
    s.rename_partition("default", "t", vec![Some("2024-01-02".into())], renamed)
        .await
        .unwrap();
    moved_on(version().await, "rename");
    let mut altered = part(&[Some("2024-01-03")]);
    altered.location = "/w/p/moved".into();
    s.alter_partition("default", "t", altered).await.unwrap();
    moved_on(version().await, "alter partition");
    s.drop_partitions("default", "t", vec![vec![Some("2024-01-03".into())]], false)
        .await
        .unwrap();
    moved_on(version().await, "drop");
    // A table dropped and created again never shows a version its predecessor had.
    s.drop_table("default", "t", false, None).await.unwrap();
    s.create_table(table("default", "t", &[("dt", "date")]), false)
        .await
        .unwrap();
    moved_on(version().await, "drop and create");
}

pub(super) async fn partitions_are_filtered_by_the_index(h: Harness) {
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
    // The definitions alone (metastore protocols): the same partitions, locations, parameters.
    let definitions = s
        .list_partition_definitions("default", "t", &or)
        .await
        .unwrap();
    let key = |p: &Partition| (p.values.clone(), p.location.clone(), p.parameters.clone());
    assert_eq!(
        definitions.iter().map(key).collect::<Vec<_>>(),
        found.iter().map(key).collect::<Vec<_>>()
    );

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

pub(super) async fn concurrent_writers_and_readers_on_one_catalog(h: Harness) {
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

pub(super) async fn a_newer_schema_is_refused(h: Harness) {
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

pub(super) async fn overlapping_locations_are_found_by_path_component(h: Harness) {
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

pub(super) async fn a_drop_checked_on_a_stale_read_conflicts(h: Harness) {
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

pub(super) async fn a_renamed_table_keeps_its_partitions_grants_and_data(h: Harness) {
    use crate::{Grant, GrantScope, Privilege, Securable};
    let s = h.open().await;
    let other = Database {
        name: "other".into(),
        description: None,
        location: "/w/other.db".into(),
        parameters: BTreeMap::new(),
        owner: None,
        create_time: 1,
    };
    s.create_database(other, false).await.unwrap();
    s.create_table(table("default", "t", &[("dt", "date")]), false)
        .await
        .unwrap();
    s.add_partitions("default", "t", vec![part(&[Some("2024-01-01")])], false)
        .await
        .unwrap();
    s.grant_privileges(vec![Grant {
        object: Securable::table("default", "t"),
        grantee: "bob".into(),
        privilege: Privilege::Select,
        grantor: "tarn".into(),
        grantable: false,
    }])
    .await
    .unwrap();
    s.create_table(table("default", "taken", &[]), false)
        .await
        .unwrap();
    // A write running into the table: its commit names the table, so no rename until it ends.
    let write_id = s
        .begin_write(crate::PendingWrite {
            write_id: "w1".into(),
            database: "default".into(),
            table: "t".into(),
            started_at: 1,
            user: "u".into(),
            statement: "INSERT".into(),
            failed: false,
            location: "/w/t".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        s.rename_table(("default", "t"), ("default", "t2"), None)
            .await,
        Err(CatalogError::Conflict(_))
    ));
    s.abandon_write(&write_id, true).await.unwrap();
    // A grant left under the new name (one that raced a DROP) does not pass to the table.
    s.grant_privileges(vec![Grant {
        object: Securable::table("other", "u"),
        grantee: "mallory".into(),
        privilege: Privilege::Select,
        grantor: "tarn".into(),
        grantable: false,
    }])
    .await
    .unwrap();
    let before = s.get_table("default", "t").await.unwrap().unwrap();
    // A taken name, a missing table, a stale version: errors, and nothing moved.
    assert!(matches!(
        s.rename_table(("default", "t"), ("default", "taken"), None)
            .await,
        Err(CatalogError::TableExists { .. })
    ));
    assert!(matches!(
        s.rename_table(("default", "nope"), ("default", "x"), None)
            .await,
        Err(CatalogError::TableNotFound { .. })
    ));
    assert!(matches!(
        s.rename_table(("default", "t"), ("nodb", "x"), None).await,
        Err(CatalogError::DatabaseNotFound(_))
    ));
    assert!(matches!(
        s.rename_table(("default", "t"), ("other", "u"), Some(before.version - 1))
            .await,
        Err(CatalogError::Conflict(_))
    ));
    s.rename_table(("default", "t"), ("other", "u"), Some(before.version))
        .await
        .unwrap();
    assert!(s.get_table("default", "t").await.unwrap().is_none());
    let after = s.get_table("other", "u").await.unwrap().unwrap();
    assert_eq!(
        (after.database.as_str(), after.name.as_str()),
        ("other", "u")
    );
    assert_eq!(after.location, before.location, "the data stays");
    // A fresh version, as a new table's: none seen under the name before comes back.
    assert!(after.version > before.version);
    assert!(after.version >= chrono::Utc::now().timestamp_micros() - 60_000_000);
    let parts = s
        .list_partitions("other", "u", &PartitionFilter::All)
        .await
        .unwrap();
    assert_eq!(parts.len(), 1);
    let scope = |db: &str, t: &str| GrantScope::TableAndColumns {
        database: db.into(),
        table: t.into(),
    };
    let grants = s.list_grants(scope("other", "u")).await.unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].grantee, "bob");
    assert!(
        s.list_grants(scope("default", "t"))
            .await
            .unwrap()
            .is_empty()
    );
    // The old name is free again, with nothing of the renamed table.
    s.create_table(table("default", "t", &[("dt", "date")]), false)
        .await
        .unwrap();
    assert!(
        s.list_partitions("default", "t", &PartitionFilter::All)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list_grants(scope("default", "t"))
            .await
            .unwrap()
            .is_empty()
    );
}
