//! Write intents, commits and what dropped tables leave, on every store.

use super::*;

pub(super) async fn write_intents_are_numbered_listed_and_ended_by_the_commit(h: Harness) {
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

pub(super) async fn a_dropped_managed_tables_writes_stay_as_tombstones_at_its_location(h: Harness) {
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
pub(super) async fn racing_overwrites_from_separate_stores_have_one_winner(h: Harness) {
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
