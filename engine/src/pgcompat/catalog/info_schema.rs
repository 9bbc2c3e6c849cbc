//! PostgreSQL's information_schema views that DataFusion's own information_schema lacks or
//! shows differently: `columns` with SQL type names (`integer`, `double precision`, not
//! Arrow's `Int32`) and `udt_name` (Metabase, Grafana), and the constraint views
//! (`table_constraints`, `key_column_usage`, `referential_constraints`,
//! `constraint_column_usage`), empty because tarn has no constraints. `pg_rewrite` points
//! `information_schema.<view>` at the `tarn_is_<view>` tables of pg_catalog.

use datafusion::common::ScalarValue;

use super::{I32, Rows, T, no_text, text};
use crate::introspect::Relation;
use crate::pgcompat::types as pg_types;

/// information_schema views served from pg_catalog, by their PostgreSQL name.
pub const VIEWS: [&str; 5] = [
    "columns",
    "table_constraints",
    "key_column_usage",
    "referential_constraints",
    "constraint_column_usage",
];

/// The pg_catalog table behind an information_schema view (`tarn_is_columns`).
pub fn backing_table(view: &str) -> Option<String> {
    VIEWS.contains(&view).then(|| format!("tarn_is_{view}"))
}

pub(super) fn columns(relations: &[Relation]) -> Rows {
    let mut rows = Rows::new(&[
        ("table_catalog", T),
        ("table_schema", T),
        ("table_name", T),
        ("column_name", T),
        ("ordinal_position", I32),
        ("column_default", T),
        ("is_nullable", T),
        ("data_type", T),
        ("character_maximum_length", I32),
        ("numeric_precision", I32),
        ("numeric_scale", I32),
        ("datetime_precision", I32),
        ("udt_catalog", T),
        ("udt_schema", T),
        ("udt_name", T),
        ("is_identity", T),
        ("is_generated", T),
        ("is_updatable", T),
        ("dtd_identifier", T),
    ]);
    for r in relations {
        for (i, field) in r.columns.fields().iter().enumerate() {
            let type_oid = pg_types::pg_type(field);
            let data_type = if pg_types::element_of(type_oid).is_some() {
                "ARRAY".to_string()
            } else {
                crate::pgcompat::functions::type_display_name(type_oid)
            };
            let (precision, scale) = match field.data_type() {
                datafusion::arrow::datatypes::DataType::Decimal128(p, s)
                | datafusion::arrow::datatypes::DataType::Decimal256(p, s) => {
                    (Some(i32::from(*p)), Some(i32::from(*s)))
                }
                _ => (None, None),
            };
            let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
            rows.push(vec![
                text(crate::provider::CATALOG_NAME),
                text(&r.schema),
                text(&r.name),
                text(field.name()),
                ScalarValue::Int32(Some(position)),
                no_text(),
                text(if field.is_nullable() { "YES" } else { "NO" }),
                text(data_type),
                ScalarValue::Int32(None),
                ScalarValue::Int32(precision),
                ScalarValue::Int32(scale),
                ScalarValue::Int32(None),
                text(crate::provider::CATALOG_NAME),
                text("pg_catalog"),
                text(super::fixed::type_name(type_oid)),
                text("NO"),
                text("NEVER"),
                text(if r.kind == crate::introspect::RelationKind::View {
                    "NO"
                } else {
                    "YES"
                }),
                text(position.to_string()),
            ]);
        }
    }
    rows
}

/// The constraint views: PostgreSQL's columns, no rows.
pub(super) fn constraints(view: &str) -> Rows {
    let names: &[&str] = match view {
        "table_constraints" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
        "referential_constraints" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
        "constraint_column_usage" => &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
        _ => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "position_in_unique_constraint",
        ],
    };
    let columns: Vec<(&str, datafusion::arrow::datatypes::DataType)> = names
        .iter()
        .map(|n| {
            let t = if n.contains("position") { I32 } else { T };
            (*n, t)
        })
        .collect();
    Rows::new(&columns)
}
