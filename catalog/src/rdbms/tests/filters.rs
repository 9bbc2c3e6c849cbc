//! Partition filters against a direct evaluation, on every store.

use super::*;

/// Random filters over three keys (int, date, string, with NULL partitions) select exactly the
/// partitions a direct evaluation of the filter selects: the compiled SQL (range scans, driven
/// ANDs with per-candidate lookups, UNIONs) loses and adds nothing on either store.
pub(super) async fn random_filters_select_exactly_the_matching_partitions(h: Harness) {
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
    for round in 0..200 {
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
        // Names alone: the same partitions, in name order.
        let names = s
            .list_partition_names("default", "r", &filter)
            .await
            .unwrap();
        let mut want: Vec<String> = found
            .iter()
            .map(|v| crate::paths::partition_name(&["n".into(), "dt".into(), "c".into()], v))
            .collect();
        want.sort();
        assert_eq!(names, want, "round {round}: names of {filter:?}");
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
