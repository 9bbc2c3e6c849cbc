//! Aggregation and merging of column statistics, checked against hand-computed answers.

use super::*;
use tarn_catalog::HiveDecimal;

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

fn dec(unscaled: i128, scale: i16) -> HiveDecimal {
    // Minimal big-endian two's complement, as Hive sends it.
    let bytes = unscaled.to_be_bytes();
    let skip = bytes
        .windows(2)
        .take_while(|w| (w[0] == 0 && w[1] & 0x80 == 0) || (w[0] == 0xff && w[1] & 0x80 != 0))
        .count();
    HiveDecimal {
        unscaled: bytes[skip..].to_vec(),
        scale,
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
    let cols = ["X".to_string(), "s".to_string()];
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
fn kinds_that_differ_do_not_combine() {
    let boolean = ColumnStatsData::Boolean {
        num_trues: 1,
        num_falses: 2,
        num_nulls: 3,
        bit_vectors: None,
    };
    assert_eq!(combine(&long(1, 2, 0, 1), &boolean), None);
    assert_eq!(
        combine(&boolean, &boolean),
        Some(ColumnStatsData::Boolean {
            num_trues: 2,
            num_falses: 4,
            num_nulls: 6,
            bit_vectors: None
        })
    );
    // Counts saturate rather than wrap.
    assert_eq!(
        combine(&long(0, 0, i64::MAX, 1), &long(0, 0, 5, 1)),
        Some(long(0, 0, i64::MAX, 1))
    );
    // A missing bound is no bound on that side.
    let open = ColumnStatsData::Double {
        low: None,
        high: Some(2.5),
        num_nulls: 0,
        num_dvs: 1,
        bit_vectors: None,
    };
    let closed = ColumnStatsData::Double {
        low: Some(-1.0),
        high: Some(1.0),
        num_nulls: 0,
        num_dvs: 3,
        bit_vectors: None,
    };
    assert_eq!(
        combine(&open, &closed),
        Some(ColumnStatsData::Double {
            low: Some(-1.0),
            high: Some(2.5),
            num_nulls: 0,
            num_dvs: 3,
            bit_vectors: None
        })
    );
}

#[test]
fn decimals_compare_by_value_across_scales_and_signs() {
    use std::cmp::Ordering::*;
    assert_eq!(decimal_cmp(&dec(150, 2), &dec(15, 1)), Some(Equal));
    assert_eq!(decimal_cmp(&dec(-1, 0), &dec(1, 3)), Some(Less));
    assert_eq!(decimal_cmp(&dec(-200, 2), &dec(-3, 0)), Some(Greater));
    assert_eq!(
        decimal_cmp(&dec(i128::MAX, 0), &dec(1, 38)),
        None,
        "overflow"
    );
    let empty = HiveDecimal {
        unscaled: vec![],
        scale: 0,
    };
    assert_eq!(decimal_cmp(&empty, &dec(1, 0)), None);
    // Bounds: the smaller low, the larger high; an incomparable pair is no bound.
    let (a, b) = (Some(dec(-5, 1)), Some(dec(3, 0)));
    assert_eq!(decimal_bound(&a, &b, Less), a);
    assert_eq!(decimal_bound(&a, &b, Greater), b);
    assert_eq!(decimal_bound(&Some(empty), &b, Less), None);
}

#[test]
fn merging_keeps_new_columns_and_combines_known_ones() {
    let new = vec![
        ColumnStatistics {
            column: "x".into(),
            column_type: "bigint".into(),
            data: long(5, 6, 1, 2),
        },
        ColumnStatistics {
            column: "y".into(),
            column_type: "bigint".into(),
            data: long(0, 1, 0, 1),
        },
    ];
    let merged = merged_with(new, vec![stored("a", "x", long(-1, 2, 4, 9))]);
    assert_eq!(merged[0].data, long(-1, 6, 5, 9));
    assert_eq!(merged[1].data, long(0, 1, 0, 1));
}
