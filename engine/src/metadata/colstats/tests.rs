//! Aggregation of column statistics over partitions, checked against hand-computed answers.

use super::*;
use tarn_catalog::ColumnStatsData;

fn long(low: i64, high: i64, nulls: i64, dvs: i64) -> ColumnStatsData {
    ColumnStatsData::Long {
        low: Some(low),
        high: Some(high),
        num_nulls: nulls,
        num_dvs: dvs,
        bit_vectors: None,
    }
}

fn stored(partition: &str, column: &str, data: ColumnStatsData) -> StoredColumnStats {
    StoredColumnStats {
        partition: Some(vec![Some(partition.to_string())]),
        last_analyzed: 0,
        stats: ColumnStatistics {
            column: column.into(),
            column_type: "bigint".into(),
            data,
        },
    }
}

#[test]
fn aggregates_bounds_counts_and_partitions_with_every_column() {
    let string = |max_len, avg_len| ColumnStatsData::String {
        max_len,
        avg_len,
        num_nulls: 1,
        num_dvs: 4,
        bit_vectors: None,
    };
    let stored = vec![
        stored("a", "x", long(3, 9, 1, 5)),
        stored("a", "s", string(7, 2.0)),
        stored("b", "x", long(-2, 4, 2, 8)),
        // "c" has only `s`: it is not a partition with every requested column.
        stored("c", "s", string(3, 6.5)),
        stored("c", "other", long(0, 0, 100, 1)),
    ];
    let cols = ["X".to_string(), "s".to_string(), "x".to_string()];
    let agg = aggregate(stored, &cols);
    assert_eq!(agg.partitions_found, 1);
    assert_eq!(
        agg.columns
            .iter()
            .map(|c| (c.column.as_str(), c.data.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                "s",
                ColumnStatsData::String {
                    max_len: 7,
                    avg_len: 6.5,
                    num_nulls: 2,
                    num_dvs: 4,
                    bit_vectors: None
                }
            ),
            ("x", long(-2, 9, 3, 8)),
        ]
    );
}

#[test]
fn a_column_whose_partitions_disagree_on_its_kind_has_no_aggregate() {
    let boolean = ColumnStatsData::Boolean {
        num_trues: 1,
        num_falses: 2,
        num_nulls: 3,
        bit_vectors: None,
    };
    let stored = vec![
        stored("a", "x", long(3, 9, 1, 5)),
        stored("b", "x", boolean),
        stored("c", "x", long(0, 1, 0, 1)),
        stored("a", "y", long(1, 1, 0, 1)),
    ];
    let agg = aggregate(stored, &["x".to_string(), "y".to_string()]);
    assert_eq!(
        agg.columns
            .iter()
            .map(|c| c.column.as_str())
            .collect::<Vec<_>>(),
        vec!["y"]
    );
}
