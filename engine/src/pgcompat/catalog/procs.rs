//! pg_proc (the built-in types' input/output functions, which pg_type's typinput/typreceive
//! point at: pgjdbc and Npgsql recognise arrays by `typinput = 'array_in'::regproc` and
//! `proname = 'array_recv'`), pg_tablespace, and the access methods tarn shows its tables with
//! (`managed` / `external`, so `\d+` tells them apart).

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::ScalarValue;
use std::sync::Arc;

use super::{
    B, BOOTSTRAP_ROLE_OID, I16, O, PG_CATALOG_OID, Rows, T, acl, boolean, no_text, oid_value, text,
};

/// The first OID of tarn's pg_proc rows (inside PostgreSQL's range for system objects).
const FIRST_PROC_OID: u32 = 8000;

/// Access method OIDs of tarn's table kinds.
pub(super) const MANAGED_AM: u32 = 9001;
pub(super) const EXTERNAL_AM: u32 = 9002;

/// The I/O function stems of the built-in types (see `fixed::TYPES`), plus arrays'.
fn stems() -> Vec<&'static str> {
    let mut stems: Vec<&'static str> = super::fixed::type_stems().collect();
    stems.push("array_");
    stems.push("range_");
    stems
}

/// Every function pg_proc lists, by name, in OID order.
fn names() -> Vec<String> {
    let mut names = Vec::new();
    for stem in stems() {
        for suffix in ["in", "out", "recv", "send"] {
            names.push(format!("{stem}{suffix}"));
        }
    }
    names
}

/// A function's OID by name (`'array_in'::regproc`), with or without `pg_catalog.`.
pub fn proc_oid_by_name(name: &str) -> Option<u32> {
    let name = name
        .trim()
        .trim_start_matches("pg_catalog.")
        .trim_matches('"');
    names()
        .iter()
        .position(|n| n == name)
        .map(|i| FIRST_PROC_OID + i as u32)
}

/// A function's name by OID (`typinput::regproc::text`).
pub fn proc_name(oid: u32) -> Option<String> {
    let index = oid.checked_sub(FIRST_PROC_OID)?;
    names().into_iter().nth(index as usize)
}

pub(super) fn procs() -> Rows {
    let oids = || DataType::List(Arc::new(Field::new("item", DataType::UInt32, true)));
    let mut rows = Rows::new(&[
        ("oid", O),
        ("proname", T),
        ("pronamespace", O),
        ("proowner", O),
        ("prolang", O),
        ("procost", DataType::Float32),
        ("prorows", DataType::Float32),
        ("provariadic", O),
        ("prosupport", O),
        ("prokind", T),
        ("prosecdef", B),
        ("proleakproof", B),
        ("proisstrict", B),
        ("proretset", B),
        ("provolatile", T),
        ("proparallel", T),
        ("pronargs", I16),
        ("pronargdefaults", I16),
        ("prorettype", O),
        ("proargtypes", oids()),
        ("proallargtypes", oids()),
        ("proargmodes", acl()),
        ("proargnames", acl()),
        ("proargdefaults", T),
        ("protrftypes", oids()),
        ("prosrc", T),
        ("probin", T),
        ("prosqlbody", T),
        ("proconfig", acl()),
        ("proacl", acl()),
    ]);
    let no_oids = || ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::UInt32));
    for (i, name) in names().into_iter().enumerate() {
        let receives = name.ends_with("recv");
        let outputs = name.ends_with("out") || name.ends_with("send");
        // in: cstring → type, out: type → cstring, recv: internal → type, send: type → bytea.
        let returns = if outputs { 2275 } else { 2283 };
        let argument = if receives { 2281 } else { 2275 };
        rows.push(vec![
            oid_value(FIRST_PROC_OID + i as u32),
            text(&name),
            oid_value(PG_CATALOG_OID),
            oid_value(BOOTSTRAP_ROLE_OID),
            oid_value(12),
            ScalarValue::Float32(Some(1.0)),
            ScalarValue::Float32(Some(0.0)),
            oid_value(0),
            oid_value(0),
            text("f"),
            boolean(false),
            boolean(false),
            boolean(true),
            boolean(false),
            text("i"),
            text("s"),
            ScalarValue::Int16(Some(1)),
            ScalarValue::Int16(Some(0)),
            oid_value(returns),
            ScalarValue::List(ScalarValue::new_list_nullable(
                &[ScalarValue::UInt32(Some(argument))],
                &DataType::UInt32,
            )),
            no_oids(),
            ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Utf8)),
            ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Utf8)),
            no_text(),
            no_oids(),
            text(&name),
            no_text(),
            no_text(),
            ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Utf8)),
            ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Utf8)),
        ]);
    }
    rows
}

pub(super) fn tablespaces() -> Rows {
    let mut rows = Rows::new(&[
        ("oid", O),
        ("spcname", T),
        ("spcowner", O),
        ("spcacl", acl()),
        ("spcoptions", acl()),
    ]);
    for (oid, name) in [(1663, "pg_default"), (1664, "pg_global")] {
        rows.push(vec![
            oid_value(oid),
            text(name),
            oid_value(BOOTSTRAP_ROLE_OID),
            ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Utf8)),
            ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Utf8)),
        ]);
    }
    rows
}

pub(super) fn access_methods() -> Rows {
    let mut rows = Rows::new(&[("oid", O), ("amname", T), ("amhandler", T), ("amtype", T)]);
    for (oid, name) in [
        (2, "heap"),
        (MANAGED_AM, "managed"),
        (EXTERNAL_AM, "external"),
    ] {
        rows.push(vec![
            oid_value(oid),
            text(name),
            text(format!("{name}_handler")),
            text("t"),
        ]);
    }
    rows
}

/// pg_language as PostgreSQL's bootstrap has it (pgjdbc's getFunctions and DBeaver join it):
/// `internal`, `c` and `sql`, with their fixed OIDs; tarn has no procedural languages.
pub(super) fn languages() -> Rows {
    let mut rows = Rows::new(&[
        ("oid", O),
        ("lanname", T),
        ("lanowner", O),
        ("lanispl", B),
        ("lanpltrusted", B),
        ("lanplcallfoid", O),
        ("laninline", O),
        ("lanvalidator", O),
        ("lanacl", T),
    ]);
    for (oid, name, trusted) in [(12, "internal", false), (13, "c", false), (14, "sql", true)] {
        rows.push(vec![
            oid_value(oid),
            text(name),
            oid_value(BOOTSTRAP_ROLE_OID),
            boolean(false),
            boolean(trusted),
            oid_value(0),
            oid_value(0),
            oid_value(0),
            no_text(),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_io_functions_have_stable_oids() {
        let array_in = proc_oid_by_name("pg_catalog.array_in").unwrap();
        assert_eq!(proc_name(array_in).as_deref(), Some("array_in"));
        assert_eq!(
            proc_oid_by_name("int4recv").and_then(proc_name).as_deref(),
            Some("int4recv")
        );
        assert!(proc_oid_by_name("nope").is_none());
        assert!(procs().into_table().is_ok());
        assert!(tablespaces().into_table().is_ok());
    }
}
