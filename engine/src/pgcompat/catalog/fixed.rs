//! The parts of pg_catalog that do not depend on the metastore: built-in types, the one
//! database, access methods, collations, and the catalogs of objects tarn does not have (right
//! columns, no rows).

use datafusion::common::ScalarValue;

use super::{
    B, BOOTSTRAP_ROLE_OID, DATABASE_OID, I16, I32, O, PG_CATALOG_OID, Rows, T, acl, boolean,
    no_text, oid_value, text,
};
use crate::pgcompat::types::{self as pg_types, oid};

/// (oid, name, category, array oid, element oid, input/output function stem)
const TYPES: &[(u32, &str, &str, &str)] = &[
    (oid::BOOL, "bool", "B", "bool"),
    (oid::BYTEA, "bytea", "U", "bytea"),
    (oid::CHAR, "char", "Z", "char"),
    (oid::NAME, "name", "S", "name"),
    (oid::INT8, "int8", "N", "int8"),
    (oid::INT2, "int2", "N", "int2"),
    (oid::INT4, "int4", "N", "int4"),
    (oid::TEXT, "text", "S", "text"),
    (oid::OID, "oid", "N", "oid"),
    (oid::JSON, "json", "U", "json"),
    (oid::FLOAT4, "float4", "N", "float4"),
    (oid::FLOAT8, "float8", "N", "float8"),
    (oid::UNKNOWN, "unknown", "X", "unknown"),
    (oid::BPCHAR, "bpchar", "S", "bpchar"),
    (oid::VARCHAR, "varchar", "S", "varchar"),
    (oid::DATE, "date", "D", "date"),
    (oid::TIME, "time", "D", "time"),
    (oid::TIMESTAMP, "timestamp", "D", "timestamp"),
    (oid::TIMESTAMPTZ, "timestamptz", "D", "timestamptz"),
    (oid::INTERVAL, "interval", "T", "interval"),
    (oid::NUMERIC, "numeric", "N", "numeric"),
    (oid::UUID, "uuid", "U", "uuid"),
    (oid::JSONB, "jsonb", "U", "jsonb"),
];

/// A built-in type's pg_type name (`int4`, `_text`), for information_schema's `udt_name`.
pub(super) fn type_name(type_oid: u32) -> String {
    if let Some((_, name, ..)) = TYPES.iter().find(|(o, ..)| *o == type_oid) {
        return (*name).to_string();
    }
    match pg_types::element_of(type_oid) {
        Some(element) => format!("_{}", type_name(element)),
        None => "text".to_string(),
    }
}

/// The I/O function stems of the built-in types (`int4` for int4in, int4out, …).
pub(super) fn type_stems() -> impl Iterator<Item = &'static str> {
    TYPES.iter().map(|(.., stem)| *stem)
}

/// A regproc column's value: the OID of the named function in pg_proc.
fn proc_value(name: &str) -> ScalarValue {
    ScalarValue::UInt32(super::procs::proc_oid_by_name(name))
}

pub(super) fn type_oid_by_name(name: &str) -> Option<u32> {
    let name = name
        .trim()
        .trim_start_matches("pg_catalog.")
        .to_ascii_lowercase();
    let (base, array) = match name.strip_suffix("[]") {
        Some(b) => (b.to_string(), true),
        None => match name.strip_prefix('_') {
            Some(b) => (b.to_string(), true),
            None => (name.clone(), false),
        },
    };
    let ranges = pg_types::RANGES.iter().map(|(oid, ..)| *oid);
    let element = TYPES
        .iter()
        .map(|(oid, ..)| *oid)
        .chain(ranges)
        .find(|oid| {
            TYPES.iter().any(|(o, n, ..)| o == oid && *n == base)
                || crate::pgcompat::functions::type_display_name(*oid) == base
        })?;
    Some(if array {
        pg_types::array_of(element)
    } else {
        element
    })
}

pub(super) fn types() -> Rows {
    let mut rows = Rows::new(&[
        ("oid", O),
        ("typname", T),
        ("typnamespace", O),
        ("typowner", O),
        ("typlen", I16),
        ("typbyval", B),
        ("typtype", T),
        ("typcategory", T),
        ("typispreferred", B),
        ("typisdefined", B),
        ("typdelim", T),
        ("typrelid", O),
        ("typelem", O),
        ("typarray", O),
        ("typinput", O),
        ("typoutput", O),
        ("typreceive", O),
        ("typsend", O),
        ("typmodin", T),
        ("typmodout", T),
        ("typanalyze", T),
        ("typalign", T),
        ("typstorage", T),
        ("typnotnull", B),
        ("typbasetype", O),
        ("typtypmod", I32),
        ("typndims", I32),
        ("typcollation", O),
        ("typdefault", T),
        ("typacl", acl()),
    ]);
    let mut push = |oid: u32,
                    name: String,
                    (typtype, category): (&str, &str),
                    elem: u32,
                    array: u32,
                    stem: &str| {
        let len = if elem == 0 {
            pg_types::type_size(oid)
        } else {
            -1
        };
        rows.push(vec![
            oid_value(oid),
            text(name),
            oid_value(PG_CATALOG_OID),
            oid_value(BOOTSTRAP_ROLE_OID),
            ScalarValue::Int16(Some(len)),
            boolean(len > 0 && len <= 8),
            text(typtype),
            text(category),
            boolean(matches!(stem, "text" | "float8" | "bool" | "timestamptz")),
            boolean(true),
            text(","),
            oid_value(0),
            oid_value(elem),
            oid_value(array),
            proc_value(&format!("{stem}in")),
            proc_value(&format!("{stem}out")),
            proc_value(&format!("{stem}recv")),
            proc_value(&format!("{stem}send")),
            text("-"),
            text("-"),
            text("-"),
            text(if len == 8 { "d" } else { "i" }),
            text(if len > 0 { "p" } else { "x" }),
            boolean(false),
            oid_value(0),
            ScalarValue::Int32(Some(-1)),
            ScalarValue::Int32(Some(0)),
            oid_value(if stem == "text" { 100 } else { 0 }),
            no_text(),
            no_text(),
        ]);
    };
    for (oid, name, category, stem) in TYPES {
        let array = pg_types::array_of(*oid);
        let array = if array == oid::TEXT && *oid != oid::TEXT {
            0
        } else {
            array
        };
        push(*oid, name.to_string(), ("b", category), 0, array, stem);
        if array != 0 {
            push(array, format!("_{name}"), ("b", "A"), *oid, 0, "array_");
        }
    }
    for (oid, name, ..) in pg_types::RANGES {
        let array = pg_types::array_of(*oid);
        push(*oid, name.to_string(), ("r", "R"), 0, array, "range_");
        push(array, format!("_{name}"), ("b", "A"), *oid, 0, "array_");
    }
    rows
}

/// pg_range: each built-in range type's subtype and multirange.
pub(super) fn ranges() -> Rows {
    let mut rows = Rows::new(&[
        ("rngtypid", O),
        ("rngsubtype", O),
        ("rngmultitypid", O),
        ("rngcollation", O),
        ("rngsubopc", O),
        ("rngcanonical", O),
        ("rngsubdiff", O),
    ]);
    for (range, _, subtype, multirange) in pg_types::RANGES {
        rows.push(vec![
            oid_value(*range),
            oid_value(*subtype),
            oid_value(*multirange),
            oid_value(0),
            oid_value(0),
            oid_value(0),
            oid_value(0),
        ]);
    }
    rows
}

pub(super) fn databases(datacl: Option<&[String]>) -> Rows {
    let mut rows = Rows::new(&[
        ("oid", O),
        ("datname", T),
        ("datdba", O),
        ("encoding", I32),
        ("datlocprovider", T),
        ("datistemplate", B),
        ("datallowconn", B),
        ("datconnlimit", I32),
        ("dattablespace", O),
        ("datcollate", T),
        ("datctype", T),
        ("daticulocale", T),
        ("datcollversion", T),
        ("datacl", acl()),
    ]);
    rows.push(vec![
        oid_value(DATABASE_OID),
        text(crate::provider::CATALOG_NAME),
        oid_value(BOOTSTRAP_ROLE_OID),
        ScalarValue::Int32(Some(6)),
        text("c"),
        boolean(false),
        boolean(true),
        ScalarValue::Int32(Some(-1)),
        oid_value(1663),
        text("C.UTF-8"),
        text("C.UTF-8"),
        no_text(),
        no_text(),
        super::text_array(datacl),
    ]);
    rows
}

pub(super) fn collations() -> Rows {
    let mut rows = Rows::new(&[
        ("oid", O),
        ("collname", T),
        ("collnamespace", O),
        ("collprovider", T),
    ]);
    rows.push(vec![
        oid_value(100),
        text("default"),
        oid_value(PG_CATALOG_OID),
        text("d"),
    ]);
    rows.push(vec![
        oid_value(950),
        text("C"),
        oid_value(PG_CATALOG_OID),
        text("c"),
    ]);
    rows
}
