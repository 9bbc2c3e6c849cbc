//! PostgreSQL functions that BI tools and drivers call on catalog queries but that are not
//! session information: the registrations of `format`, `parse_ident` and the array text forms
//! (implemented in `text_forms`), object sizes, `pg_backend_pid`, `txid_current`, `set_config`,
//! `pg_typeof`, and the names behind `::regclass::text` / `::regtype::text` /
//! `::regnamespace::text` / `::regproc::text`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::logical_expr::{Signature, Volatility};

use super::text_forms::{array_bound, array_text, format, parse_ident, pg_array, size_pretty};
use super::{PgFunction, SessionFacts, arg_text, oid_arg, quote_ident, text};

/// A settable setting's new value (`set_config(name, value, is_local)` in an expression; a
/// bare `SELECT set_config(…)` runs as `SET`, which also moves the search path).
fn set_config(
    facts: &SessionFacts,
    args: &[ScalarValue],
) -> datafusion::common::Result<ScalarValue> {
    let (Some(name), value) = (arg_text(args, 0), arg_text(args, 1)) else {
        return Err(DataFusionError::Execution(
            "set_config: the setting name must not be null".into(),
        ));
    };
    let canonical = crate::settings::Settings::canonical_name(&name)
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    if canonical == "search_path" {
        return Err(DataFusionError::NotImplemented(
            "set_config('search_path', …) inside a larger query: run SET search_path or a bare SELECT set_config(…)".into(),
        ));
    }
    let mut settings = facts
        .settings
        .lock()
        .map_err(|_| DataFusionError::Execution("settings lock poisoned".into()))?;
    settings
        .set(canonical, value.as_deref())
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let now = settings
        .get(canonical)
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    Ok(text(now))
}

/// A namespace's name by OID (`x::regnamespace::text`).
fn namespace_name(facts: &SessionFacts, args: &[ScalarValue]) -> ScalarValue {
    let Some(oid) = oid_arg(args) else {
        return ScalarValue::Utf8(None);
    };
    let name = match oid {
        11 => Some("pg_catalog".to_string()),
        2200 => Some("public".to_string()),
        _ => facts
            .snapshot()
            .relations
            .iter()
            .map(|r| r.schema.clone())
            .chain(facts.snapshot().schemas.iter().cloned())
            .find(|s| crate::pgcompat::catalog::namespace_oid(s) == oid),
    };
    text(name.unwrap_or_else(|| oid.to_string()))
}

/// A relation's name by OID (`x::regclass::text`): qualified unless it is visible.
fn relation_name(facts: &SessionFacts, args: &[ScalarValue], schema: &str) -> ScalarValue {
    let Some(oid) = oid_arg(args) else {
        return ScalarValue::Utf8(None);
    };
    let snapshot = facts.snapshot();
    let found = snapshot
        .relations
        .iter()
        .find(|r| crate::pgcompat::catalog::relation_oid(&r.schema, &r.name) == oid);
    match found {
        Some(r) if r.schema == schema => quote_ident(&[text(&r.name)]),
        Some(r) => {
            let q = |s: &str| match quote_ident(&[text(s)]) {
                ScalarValue::Utf8(Some(q)) => q,
                _ => s.to_string(),
            };
            text(format!("{}.{}", q(&r.schema), q(&r.name)))
        }
        None => crate::pgcompat::catalog::catalog_table_name(oid)
            .map_or_else(|| text(oid.to_string()), text),
    }
}

/// The functions of this module, for `register`.
pub(super) fn functions(facts: &Arc<SessionFacts>) -> Vec<PgFunction> {
    let f = super::maker(facts);
    let int8 = |name, value: i64| PgFunction {
        name,
        signature: Signature::variadic_any(Volatility::Stable),
        returns: DataType::Int64,
        facts: facts.clone(),
        eval: if value == 0 {
            |_, _, _| Ok(ScalarValue::Int64(Some(0)))
        } else {
            |_, _, _| Ok(ScalarValue::Int64(Some(i64::from(std::process::id()))))
        },
    };
    let text_list = DataType::List(Arc::new(datafusion::arrow::datatypes::Field::new(
        "item",
        DataType::Utf8,
        true,
    )));
    let no = |name| PgFunction {
        name,
        signature: Signature::variadic_any(Volatility::Stable),
        returns: DataType::Boolean,
        facts: facts.clone(),
        eval: |_, _, _| Ok(ScalarValue::Boolean(Some(false))),
    };
    vec![
        // Tarn has no publications, replicas or other sessions' temporary schemas.
        no("pg_relation_is_publishable"),
        no("pg_is_in_recovery"),
        no("pg_is_other_temp_schema"),
        f(
            "tarn_array_text",
            Signature::any(1, Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| args.first().map_or(Ok(ScalarValue::Utf8(None)), array_text),
        ),
        f(
            "array_upper",
            Signature::any(2, Volatility::Immutable),
            DataType::Int64,
            |_, args, _| Ok(array_bound(args, true)),
        ),
        f(
            "array_lower",
            Signature::any(2, Volatility::Immutable),
            DataType::Int64,
            |_, args, _| Ok(array_bound(args, false)),
        ),
        f(
            "tarn_pg_array",
            Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
            text_list.clone(),
            |_, args, _| pg_array(args),
        ),
        f(
            "format",
            Signature::variadic_any(Volatility::Stable),
            DataType::Utf8,
            |_, args, _| format(args),
        ),
        f(
            "parse_ident",
            Signature::variadic_any(Volatility::Immutable),
            text_list,
            |_, args, _| parse_ident(args),
        ),
        f(
            "set_config",
            Signature::any(3, Volatility::Volatile),
            DataType::Utf8,
            |facts, args, _| set_config(facts, args),
        ),
        f(
            "tarn_regnamespace_name",
            Signature::any(1, Volatility::Stable),
            DataType::Utf8,
            |facts, args, _| Ok(namespace_name(facts, args)),
        ),
        f(
            "tarn_regclass_name",
            Signature::any(1, Volatility::Stable),
            DataType::Utf8,
            |facts, args, config| Ok(relation_name(facts, args, &super::current_schema(config))),
        ),
        f(
            "tarn_regnamespace",
            Signature::any(1, Volatility::Stable),
            DataType::UInt32,
            |_, args, _| {
                Ok(ScalarValue::UInt32(match arg_text(args, 0) {
                    Some(name) => Some(crate::pgcompat::catalog::namespace_oid(
                        name.trim_matches('"'),
                    )),
                    None => oid_arg(args),
                }))
            },
        ),
        f(
            "tarn_regproc",
            Signature::any(1, Volatility::Stable),
            DataType::UInt32,
            |_, args, _| {
                Ok(ScalarValue::UInt32(match arg_text(args, 0) {
                    Some(name) => crate::pgcompat::catalog::proc_oid_by_name(&name),
                    None => oid_arg(args),
                }))
            },
        ),
        f(
            "tarn_regproc_name",
            Signature::any(1, Volatility::Stable),
            DataType::Utf8,
            |_, args, _| {
                Ok(match oid_arg(args) {
                    Some(0) => text("-"),
                    Some(oid) => text(
                        crate::pgcompat::catalog::proc_name(oid).unwrap_or_else(|| oid.to_string()),
                    ),
                    None => ScalarValue::Utf8(None),
                })
            },
        ),
        f(
            "pg_typeof",
            Signature::any(1, Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| {
                let oid = args
                    .first()
                    .map_or(crate::pgcompat::types::oid::UNKNOWN, |a| {
                        crate::pgcompat::types::type_oid(&a.data_type())
                    });
                Ok(text(super::type_display_name(oid)))
            },
        ),
        f(
            "pg_size_pretty",
            Signature::any(1, Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| Ok(size_pretty(args)),
        ),
        f(
            "tarn_regtype",
            Signature::any(1, Volatility::Stable),
            DataType::UInt32,
            |_, args, _| {
                Ok(ScalarValue::UInt32(match arg_text(args, 0) {
                    Some(name) => crate::pgcompat::catalog::type_oid_by_name(&name),
                    None => oid_arg(args),
                }))
            },
        ),
        f(
            "pg_total_relation_size",
            oid_any(),
            DataType::Int64,
            relation_size,
        ),
        f(
            "pg_relation_size",
            oid_any(),
            DataType::Int64,
            relation_size,
        ),
        f("pg_table_size", oid_any(), DataType::Int64, relation_size),
        f(
            "pg_database_size",
            oid_any(),
            DataType::Int64,
            |facts, _, _| {
                let sizes = facts
                    .snapshot()
                    .relations
                    .iter()
                    .filter_map(|r| r.total_size)
                    .sum();
                Ok(ScalarValue::Int64(Some(sizes)))
            },
        ),
        // Tarn has no indexes.
        int8("pg_indexes_size", 0),
        f(
            "txid_current",
            Signature::exact(vec![], Volatility::Volatile),
            DataType::Int64,
            |_, _, _| Ok(ScalarValue::Int64(Some(next_transaction_id()))),
        ),
        f(
            "pg_current_xact_id",
            Signature::exact(vec![], Volatility::Volatile),
            DataType::Int64,
            |_, _, _| Ok(ScalarValue::Int64(Some(next_transaction_id()))),
        ),
    ]
}

fn oid_any() -> Signature {
    Signature::variadic_any(Volatility::Stable)
}

/// A table's size: Hive's totalSize statistic when the catalog has it, else 0 (the files are
/// not listed to answer a catalog query).
fn relation_size(
    facts: &SessionFacts,
    args: &[ScalarValue],
    _: &datafusion::common::config::ConfigOptions,
) -> datafusion::common::Result<ScalarValue> {
    let Some(oid) = oid_arg(args) else {
        return Ok(ScalarValue::Int64(None));
    };
    let size = facts
        .snapshot()
        .relations
        .iter()
        .find(|r| crate::pgcompat::catalog::relation_oid(&r.schema, &r.name) == oid)
        .and_then(|r| r.total_size);
    Ok(ScalarValue::Int64(Some(size.unwrap_or(0))))
}

/// Tarn has no MVCC transaction ids; a process-wide counter gives callers (which use it to
/// tell statements apart) increasing values.
fn next_transaction_id() -> i64 {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1000);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
