//! Combining two summaries of one column (Hive's stats aggregators, without sketches): used
//! to aggregate partitions' statistics and to merge new statistics into stored ones.

use super::{ColumnStatsData, HiveDecimal};

/// Two summaries of one column over disjoint rows as one (Hive's aggregators without
/// sketches): counts add, bounds widen, distinct counts and lengths take the larger (a lower
/// bound of the truth). `None` when the kinds differ.
pub fn combine(a: &ColumnStatsData, b: &ColumnStatsData) -> Option<ColumnStatsData> {
    use ColumnStatsData::*;
    let min = |x: Option<i64>, y: Option<i64>| x.into_iter().chain(y).min();
    let max = |x: Option<i64>, y: Option<i64>| x.into_iter().chain(y).max();
    Some(match (a, b) {
        (
            Boolean {
                num_trues: t1,
                num_falses: f1,
                num_nulls: n1,
                ..
            },
            Boolean {
                num_trues: t2,
                num_falses: f2,
                num_nulls: n2,
                ..
            },
        ) => Boolean {
            num_trues: t1.saturating_add(*t2),
            num_falses: f1.saturating_add(*f2),
            num_nulls: n1.saturating_add(*n2),
            bit_vectors: None,
        },
        (
            Long {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Long {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Long {
            low: min(*l1, *l2),
            high: max(*h1, *h2),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            Date {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Date {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Date {
            low: min(*l1, *l2),
            high: max(*h1, *h2),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            Double {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Double {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Double {
            low: (*l1).into_iter().chain(*l2).reduce(f64::min),
            high: (*h1).into_iter().chain(*h2).reduce(f64::max),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            String {
                max_len: m1,
                avg_len: a1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            String {
                max_len: m2,
                avg_len: a2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => String {
            max_len: *m1.max(m2),
            avg_len: a1.max(*a2),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            Binary {
                max_len: m1,
                avg_len: a1,
                num_nulls: n1,
                ..
            },
            Binary {
                max_len: m2,
                avg_len: a2,
                num_nulls: n2,
                ..
            },
        ) => Binary {
            max_len: *m1.max(m2),
            avg_len: a1.max(*a2),
            num_nulls: n1.saturating_add(*n2),
            bit_vectors: None,
        },
        (
            Decimal {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Decimal {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Decimal {
            low: decimal_bound(l1, l2, std::cmp::Ordering::Less),
            high: decimal_bound(h1, h2, std::cmp::Ordering::Greater),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        _ => return None,
    })
}

/// The lower (`Less`) or upper bound of two decimals, compared by value.
pub(crate) fn decimal_bound(
    a: &Option<HiveDecimal>,
    b: &Option<HiveDecimal>,
    keep: std::cmp::Ordering,
) -> Option<HiveDecimal> {
    match (a, b) {
        (Some(x), Some(y)) => match decimal_cmp(y, x) {
            Some(o) if o == keep => Some(y.clone()),
            Some(_) => Some(x.clone()),
            // A bound tarn cannot compare is no bound.
            None => None,
        },
        (x, y) => x.clone().or_else(|| y.clone()),
    }
}

/// Orders two decimals (`unscaled / 10^scale`) by value; `None` when either is malformed or
/// the comparison does not fit in 128 bits.
pub fn decimal_cmp(x: &HiveDecimal, y: &HiveDecimal) -> Option<std::cmp::Ordering> {
    let (ux, uy) = (unscaled(x)?, unscaled(y)?);
    let scale = x.scale.max(y.scale);
    let widen = |u: i128, s: i16| u.checked_mul(10i128.checked_pow((scale - s) as u32)?);
    Some(widen(ux, x.scale)?.cmp(&widen(uy, y.scale)?))
}

fn unscaled(d: &HiveDecimal) -> Option<i128> {
    if d.unscaled.is_empty() || d.unscaled.len() > 16 || !(0..=38).contains(&d.scale) {
        return None;
    }
    let negative = d.unscaled[0] & 0x80 != 0;
    let mut bytes = [if negative { 0xff } else { 0 }; 16];
    bytes[16 - d.unscaled.len()..].copy_from_slice(&d.unscaled);
    Some(i128::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    //! Combining summaries, checked against hand-computed answers.

    use std::cmp::Ordering::*;

    use super::*;

    fn long(low: i64, high: i64, nulls: i64, dvs: i64) -> ColumnStatsData {
        ColumnStatsData::Long {
            low: Some(low),
            high: Some(high),
            num_nulls: nulls,
            num_dvs: dvs,
            bit_vectors: None,
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
}
