//! Column statistics: kept per table and per partition, replaced per column, gone with their
//! partition or table, and dropped by a commit that changes the data they describe.

use super::*;
use crate::{ColumnStatistics, ColumnStatsData, HiveDecimal};

pub(super) fn long_stats(column: &str, nulls: i64) -> ColumnStatistics {
    ColumnStatistics {
        column: column.into(),
        column_type: "bigint".into(),
        data: ColumnStatsData::Long {
            low: Some(-5),
            high: Some(i64::MAX),
            num_nulls: nulls,
            num_dvs: 3,
            bit_vectors: Some(vec![0, 1, 255]),
        },
    }
}

/// Replaces statistics of one table or partition.
async fn set(
    s: &Arc<dyn Metastore>,
    table: &str,
    partition: Option<Vec<Option<String>>>,
    stats: Vec<ColumnStatistics>,
) -> crate::Result<()> {
    let update = crate::StatsUpdate { partition, stats };
    s.set_column_statistics("default", table, vec![update], false)
        .await
}

fn spec(day: &str) -> Vec<Option<String>> {
    vec![Some(day.to_string())]
}

async fn partitioned(s: &Arc<dyn Metastore>) {
    s.create_table(table("default", "t", &[("dt", "string")]), false)
        .await
        .unwrap();
    let parts = ["a/b", "c", "d"].map(|d| part(&[Some(d)])).to_vec();
    s.add_partitions("default", "t", parts, false)
        .await
        .unwrap();
}

/// What the store holds for `columns` of the listed partitions, as (partition, column, data).
async fn held(
    s: &Arc<dyn Metastore>,
    partitions: Option<Vec<Vec<Option<String>>>>,
    columns: &[&str],
) -> Vec<(Option<Vec<Option<String>>>, String, ColumnStatsData)> {
    let columns = columns.iter().map(|c| c.to_string()).collect();
    s.column_statistics("default", "t", partitions, columns)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.partition, s.stats.column, s.stats.data))
        .collect()
}

pub(super) async fn column_statistics_are_kept_per_table_and_partition(h: Harness) {
    let s = h.open().await;
    partitioned(&s).await;
    let string = ColumnStatistics {
        column: "S".into(),
        column_type: "string".into(),
        data: ColumnStatsData::String {
            max_len: 10,
            avg_len: 2.5,
            num_nulls: 0,
            num_dvs: 9,
            bit_vectors: None,
        },
    };
    let decimal = ColumnStatistics {
        column: "d".into(),
        column_type: "decimal(10,2)".into(),
        data: ColumnStatsData::Decimal {
            low: Some(HiveDecimal {
                unscaled: vec![0xff, 0x38],
                scale: 2,
            }),
            high: None,
            num_nulls: 1,
            num_dvs: 1,
            bit_vectors: None,
        },
    };
    set(
        &s,
        "T",
        Some(spec("a/b")),
        vec![long_stats("x", 1), string.clone()],
    )
    .await
    .unwrap();
    set(&s, "t", Some(spec("c")), vec![long_stats("x", 2)])
        .await
        .unwrap();
    set(&s, "t", None, vec![decimal.clone()]).await.unwrap();
    // Replacing one column keeps the others.
    set(&s, "t", Some(spec("a/b")), vec![long_stats("X", 4)])
        .await
        .unwrap();

    let all = Some(vec![spec("a/b"), spec("c"), spec("d"), spec("none")]);
    assert_eq!(
        held(&s, all.clone(), &["x", "s"]).await,
        vec![
            (Some(spec("a/b")), "s".into(), string.data.clone()),
            (Some(spec("a/b")), "x".into(), long_stats("x", 4).data),
            (Some(spec("c")), "x".into(), long_stats("x", 2).data),
        ]
    );
    assert_eq!(held(&s, all.clone(), &["d"]).await, vec![]);
    assert_eq!(
        held(&s, None, &["d", "x"]).await,
        vec![(None, "d".into(), decimal.data.clone())]
    );

    // A partition or table that does not exist is an error, not a new row.
    let missing = set(&s, "t", Some(spec("zz")), vec![long_stats("x", 1)]).await;
    assert!(
        matches!(missing, Err(CatalogError::PartitionNotFound { .. })),
        "{missing:?}"
    );
    let missing = set(&s, "nope", None, vec![long_stats("x", 1)]).await;
    assert!(
        matches!(missing, Err(CatalogError::TableNotFound { .. })),
        "{missing:?}"
    );

    // Deleting one column, then all.
    let one = Some(spec("a/b"));
    let deleted = s.delete_column_statistics("default", "t", one.clone(), Some("X".into()));
    assert_eq!(deleted.await.unwrap(), 1);
    let deleted = s.delete_column_statistics("default", "t", one.clone(), Some("x".into()));
    assert_eq!(deleted.await.unwrap(), 0);
    let deleted = s.delete_column_statistics("default", "t", None, None);
    assert_eq!(deleted.await.unwrap(), 1);
    assert_eq!(
        held(&s, all, &["x", "s", "d"]).await,
        vec![
            (Some(spec("a/b")), "s".into(), string.data),
            (Some(spec("c")), "x".into(), long_stats("x", 2).data),
        ]
    );
}

pub(super) async fn statistics_go_with_their_partition_and_table(h: Harness) {
    let s = h.open().await;
    partitioned(&s).await;
    for day in ["c", "d"] {
        set(&s, "t", Some(spec(day)), vec![long_stats("x", 1)])
            .await
            .unwrap();
    }
    set(&s, "t", None, vec![long_stats("x", 1)]).await.unwrap();
    // The newest partition is dropped and added again (SQLite may reuse its row id).
    s.drop_partitions("default", "t", vec![spec("d")], false)
        .await
        .unwrap();
    s.add_partitions("default", "t", vec![part(&[Some("d")])], false)
        .await
        .unwrap();
    let both = Some(vec![spec("c"), spec("d")]);
    assert_eq!(held(&s, both.clone(), &["x"]).await.len(), 1);
    s.drop_table("default", "t", false, None).await.unwrap();
    partitioned(&s).await;
    assert_eq!(held(&s, both, &["x"]).await, vec![]);
    assert_eq!(held(&s, None, &["x"]).await, vec![]);
}

pub(super) async fn a_commit_drops_the_statistics_of_what_it_changed(h: Harness) {
    let s = h.open().await;
    partitioned(&s).await;
    for day in ["c", "d"] {
        set(&s, "t", Some(spec(day)), vec![long_stats("x", 1)])
            .await
            .unwrap();
    }
    set(&s, "t", None, vec![long_stats("x", 1)]).await.unwrap();
    let write_id = s
        .begin_write(crate::PendingWrite {
            write_id: "abcd0000".into(),
            database: "default".into(),
            table: "t".into(),
            started_at: 1,
            user: "u".into(),
            statement: "INSERT".into(),
            failed: false,
            location: "/w/t/".into(),
        })
        .await
        .unwrap();
    let file = crate::DataFile {
        path: "/w/p/c/f.parquet".into(),
        size: 10,
        rows: 2,
        columns: BTreeMap::new(),
    };
    s.commit_write(crate::WriteCommit {
        write_id,
        database: "default".into(),
        table: "t".into(),
        batch_id: "b".into(),
        replaces_batch: false,
        statement: "INSERT".into(),
        user: "u".into(),
        writes: vec![crate::PartitionWrite {
            values: spec("c"),
            location: "/w/p/c".into(),
            change: crate::Change::Append,
            expected: crate::Expected::AtLocation(r#"/w/p/[Some("c")]"#.into()),
            files: vec![file],
        }],
        create_table: None,
        replace_table: None,
    })
    .await
    .unwrap();
    let both = Some(vec![spec("c"), spec("d")]);
    assert_eq!(
        held(&s, both, &["x"]).await,
        vec![(Some(spec("d")), "x".into(), long_stats("x", 1).data)]
    );
    assert_eq!(held(&s, None, &["x"]).await, vec![]);
}

pub(super) async fn a_renamed_partition_keeps_its_data_and_statistics(h: Harness) {
    let s = h.open().await;
    partitioned(&s).await;
    set(&s, "t", Some(spec("c")), vec![long_stats("x", 1)])
        .await
        .unwrap();
    let old = s
        .list_partitions("default", "t", &PartitionFilter::All)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.values == spec("c"))
        .unwrap();
    let mut renamed = old.clone();
    renamed.values = spec("e/f");
    s.rename_partition("default", "t", spec("c"), renamed.clone())
        .await
        .unwrap();
    // Found by its new values through the index, at its old location; the old name is gone.
    let eq = |v: &str| PartitionFilter::Cmp {
        key: 0,
        op: CmpOp::Eq,
        value: KeyValue::Text(v.into()),
    };
    let found = s.list_partitions("default", "t", &eq("e/f")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].location, old.location);
    assert!(
        s.list_partitions("default", "t", &eq("c"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        held(&s, Some(vec![spec("e/f")]), &["x"]).await,
        vec![(Some(spec("e/f")), "x".into(), long_stats("x", 1).data)]
    );
    // Onto an existing partition, or from a missing one: refused, nothing changes.
    let onto = s
        .rename_partition("default", "t", spec("e/f"), {
            let mut p = renamed.clone();
            p.values = spec("d");
            p
        })
        .await;
    assert!(
        matches!(onto, Err(CatalogError::PartitionExists { .. })),
        "{onto:?}"
    );
    let missing = s.rename_partition("default", "t", spec("c"), renamed).await;
    assert!(
        matches!(missing, Err(CatalogError::PartitionNotFound { .. })),
        "{missing:?}"
    );
    assert_eq!(s.count_partitions("default", "t").await.unwrap(), 3);
    // The old values again, at the directory the renamed partition kept: refused (each would
    // list the other's files), also spelled with a trailing slash or inside one request.
    let again = part(&[Some("c")]);
    let mut slashed = again.clone();
    slashed.location.push('/');
    for attempt in [vec![again.clone()], vec![slashed]] {
        let refused = s.add_partitions("default", "t", attempt, false).await;
        assert!(
            matches!(&refused, Err(CatalogError::InvalidArgument(m)) if m.contains("already holds")),
            "{refused:?}"
        );
    }
    let mut twin = part(&[Some("g")]);
    twin.location = "/w/p/twin".into();
    let mut other = twin.clone();
    other.values = spec("h");
    let refused = s
        .add_partitions("default", "t", vec![twin, other], false)
        .await;
    assert!(
        matches!(refused, Err(CatalogError::InvalidArgument(_))),
        "{refused:?}"
    );
    assert_eq!(s.count_partitions("default", "t").await.unwrap(), 3);
    // A write creating the partition there is refused the same way.
    let write_id = s
        .begin_write(crate::PendingWrite {
            write_id: "abcd0001".into(),
            database: "default".into(),
            table: "t".into(),
            started_at: 1,
            user: "u".into(),
            statement: "INSERT".into(),
            failed: false,
            location: "/w/t/".into(),
        })
        .await
        .unwrap();
    let refused = s
        .commit_write(crate::WriteCommit {
            write_id,
            database: "default".into(),
            table: "t".into(),
            batch_id: "b".into(),
            replaces_batch: false,
            statement: "INSERT".into(),
            user: "u".into(),
            writes: vec![crate::PartitionWrite {
                values: spec("c"),
                location: again.location.clone(),
                change: crate::Change::Append,
                expected: crate::Expected::AtLocation(again.location),
                files: vec![],
            }],
            create_table: None,
            replace_table: None,
        })
        .await;
    assert!(
        matches!(refused, Err(CatalogError::InvalidArgument(_))),
        "{refused:?}"
    );
    assert_eq!(s.count_partitions("default", "t").await.unwrap(), 3);
}

pub(super) async fn merges_are_combined_in_one_transaction(h: Harness) {
    let s = h.open().await;
    partitioned(&s).await;
    set(&s, "t", Some(spec("c")), vec![long_stats("x", 1)])
        .await
        .unwrap();
    let more = |low: i64, nulls: i64| ColumnStatistics {
        column: "x".into(),
        column_type: "bigint".into(),
        data: ColumnStatsData::Long {
            low: Some(low),
            high: Some(0),
            num_nulls: nulls,
            num_dvs: 9,
            bit_vectors: None,
        },
    };
    // The same column twice in one merge: both combine with what is stored.
    let update = crate::StatsUpdate {
        partition: Some(spec("c")),
        stats: vec![more(-10, 2), more(-20, 3)],
    };
    s.set_column_statistics("default", "t", vec![update], true)
        .await
        .unwrap();
    let merged = ColumnStatsData::Long {
        low: Some(-20),
        high: Some(i64::MAX),
        num_nulls: 6,
        num_dvs: 9,
        bit_vectors: None,
    };
    let one = Some(vec![spec("c")]);
    assert_eq!(
        held(&s, one.clone(), &["x"]).await,
        vec![(Some(spec("c")), "x".into(), merged.clone())]
    );
    // A request whose second part names a missing partition changes nothing.
    let updates = vec![
        crate::StatsUpdate {
            partition: Some(spec("c")),
            stats: vec![long_stats("x", 0)],
        },
        crate::StatsUpdate {
            partition: Some(spec("zz")),
            stats: vec![long_stats("x", 0)],
        },
    ];
    assert!(
        s.set_column_statistics("default", "t", updates, false)
            .await
            .is_err()
    );
    assert_eq!(
        held(&s, one.clone(), &["x"]).await,
        vec![(Some(spec("c")), "x".into(), merged)]
    );
    // A partition moved elsewhere, or a column dropped or retyped: its statistics go.
    set(&s, "t", Some(spec("d")), vec![long_stats("x", 1)])
        .await
        .unwrap();
    set(&s, "t", None, vec![long_stats("x", 1)]).await.unwrap();
    let mut moved = part(&[Some("c")]);
    moved.location = "/w/elsewhere".into();
    s.alter_partition("default", "t", moved).await.unwrap();
    let both = Some(vec![spec("c"), spec("d")]);
    assert_eq!(held(&s, both.clone(), &["x"]).await.len(), 1);
    let mut t = s.get_table("default", "t").await.unwrap().unwrap();
    t.columns = vec![crate::Column::new("x", "string", None).unwrap()];
    s.alter_table(t).await.unwrap();
    assert_eq!(held(&s, both, &["x"]).await, vec![]);
    assert_eq!(held(&s, None, &["x"]).await, vec![]);
}
