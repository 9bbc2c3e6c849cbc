use tarn_catalog::{Column, StorageFormat, Table, TableType};

use super::*;

fn table() -> Table {
    Table {
        database: "d".into(),
        name: "t".into(),
        table_type: TableType::External,
        columns: vec![],
        partition_keys: vec![
            Column::new("y", "int", None).unwrap(),
            Column::new("d", "date", None).unwrap(),
            Column::new("s", "string", None).unwrap(),
        ],
        location: "/tmp/t".into(),
        format: StorageFormat::Parquet,
        parameters: Default::default(),
        owner: None,
        create_time: 0,
        version: 0,
        view_text: None,
        hive: None,
    }
}

fn spec(y: &str, d: &str, s: Option<&str>) -> Vec<Option<String>> {
    vec![Some(y.into()), Some(d.into()), s.map(str::to_string)]
}

fn accepts(filter: &str, values: &[Option<String>]) -> bool {
    HiveFilter::parse(&table(), filter)
        .unwrap()
        .matches(&table(), values)
}

#[test]
fn spark_filter_strings() {
    let p = spec("2024", "2024-01-01", Some("x"));
    assert!(accepts("y = 2024", &p));
    assert!(!accepts("y = 2025", &p));
    assert!(accepts("(y) in (2024, 2025)", &p));
    assert!(!accepts("(y) in (2023, 2025)", &p));
    assert!(accepts("(y > 2024 or s = \"x\")", &p));
    assert!(accepts("d = \"2024-01-01\"", &p));
    assert!(accepts("s like \"x.*\"", &p));
    assert!(!accepts("s like \"y.*\"", &p));
    assert!(accepts("(s) in (\"x\", \"y\")", &p));
    assert!(accepts(
        "y = 2024 and d >= \"2024-01-01\" and s = \"x\"",
        &p
    ));
    assert!(!accepts(
        "y = 2024 and d > \"2024-01-01\" and s = \"x\"",
        &p
    ));
    // Integers compare numerically, not as text.
    assert!(accepts("y > 999", &p));
    assert!(accepts("y > \"999\"", &p));
    assert!(accepts("2025 > y", &p));
    assert!(accepts("y between 2000 and 2030", &p));
    assert!(accepts("y not in (1, 2)", &p));
    assert!(accepts("not (s = \"z\")", &p));
    assert!(accepts("s <> \"z\" AND y != 1", &p));
    assert!(accepts("", &p));
}

#[test]
fn never_a_subset() {
    // Hive has no escapes in filter strings: a backslash is a character.
    let p = spec("2024", "2024-01-01", Some("a\\b"));
    assert!(accepts("s = \"a\\b\"", &p));
    // The default partition's name selects the NULL partition, as Hive stores it.
    let null = spec("2024", "2024-01-01", None);
    assert!(accepts("s = \"__HIVE_DEFAULT_PARTITION__\"", &null));
    assert!(!accepts("s = \"__HIVE_DEFAULT_PARTITION__\"", &p));
    assert!(accepts("s != \"__HIVE_DEFAULT_PARTITION__\"", &p));
    // Keys tarn does not compare (decimal, double, timestamp) match "maybe", also under NOT.
    let mut t = table();
    t.partition_keys[2] = Column::new("s", "decimal(10,2)", None).unwrap();
    let f = HiveFilter::parse(&t, "s > 9").unwrap();
    assert!(f.matches(&t, &spec("2024", "2024-01-01", Some("10.5"))));
    let f = HiveFilter::parse(&t, "not (s > 9)").unwrap();
    assert!(f.matches(&t, &spec("2024", "2024-01-01", Some("10.5"))));
    let f = HiveFilter::parse(&t, "y = 1 and s > 9").unwrap();
    assert!(!f.matches(&t, &spec("2024", "2024-01-01", Some("10.5"))));
}

#[test]
fn null_partitions_satisfy_no_comparison() {
    let p = spec("2024", "2024-01-01", None);
    assert!(!accepts("s = \"x\"", &p));
    assert!(!accepts("s != \"x\"", &p));
    assert!(!accepts("s like \".*\"", &p));
    assert!(accepts("y = 2024", &p));
}

#[test]
fn like_is_the_regex_subset_clients_send() {
    let f = |p: &str, v: &str| regex_like(p.as_bytes(), v.as_bytes());
    assert!(f("U.*", "US"));
    assert!(f(".*S", "US"));
    assert!(f("U.", "US"));
    assert!(!f("U.", "USA"));
    assert!(f("a\\.b", "a.b"));
    assert!(!f("a\\.b", "axb"));
    assert!(f(".*a.*b.*", "xxaxxbxx"));
    assert!(!f(".*a.*b.*", "xxbxxaxx"));
    // Other regular expressions cannot be decided: every partition may match (never a subset).
    assert!(accepts(
        "s like \"[a-z]+\"",
        &spec("2024", "2024-01-01", Some("x"))
    ));
    assert!(accepts(
        "s like \"\\d+\"",
        &spec("2024", "2024-01-01", Some("x"))
    ));
    assert!(!accepts(
        "not (s like \"[a-z]+\") and y = 1",
        &spec("2024", "2024-01-01", Some("x"))
    ));
}

#[test]
fn catalog_filter_is_a_superset() {
    let t = table();
    let f = HiveFilter::parse(&t, "y = 2024 and s like \"x.*\"").unwrap();
    assert_eq!(
        f.to_catalog(&t),
        PartitionFilter::Cmp {
            key: 0,
            op: CmpOp::Eq,
            value: KeyValue::Int(2024)
        }
    );
    let f = HiveFilter::parse(&t, "s = \"__HIVE_DEFAULT_PARTITION__\"").unwrap();
    assert_eq!(f.to_catalog(&t), PartitionFilter::All);
    let f = HiveFilter::parse(&t, "not (y = 2024)").unwrap();
    assert_eq!(f.to_catalog(&t), PartitionFilter::All);
}

#[test]
fn bad_filters_are_errors_not_panics() {
    let t = table();
    for bad in [
        "nope = 1",
        "y =",
        "y = \"unterminated",
        "(y = 1",
        "y = 1)",
        "y ~ 1",
        "y in (",
        "and",
        "y = 99999999999999999999999",
    ] {
        assert!(HiveFilter::parse(&t, bad).is_err(), "{bad}");
    }
    let deep = format!("{}y = 1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(HiveFilter::parse(&t, &deep).is_err());
    let nots = format!("{}y = 1", "not ".repeat(10_000));
    assert!(HiveFilter::parse(&t, &nots).is_err());
}

#[test]
fn bare_locations() {
    use crate::metadata::bare_location;
    assert_eq!(bare_location("file:/w/t/").as_deref(), Some("/w/t"));
    assert_eq!(bare_location("file:///w/t").as_deref(), Some("/w/t"));
    assert_eq!(bare_location("s3://b/w/t").as_deref(), Some("s3://b/w/t"));
    assert_eq!(bare_location("/w/t/../../etc"), None);
    assert_eq!(bare_location("s3://b/w/./t"), None);
}
