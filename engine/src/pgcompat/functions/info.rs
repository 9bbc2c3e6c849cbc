//! The session information and catalog lookup functions: version, current_* (database,
//! schema(s), user, setting), pg_get_userbyid, pg_table_is_visible, format_type, to_regclass /
//! to_regtype / regclass, obj/col_description, json_build_object, quote_ident and the LIKE
//! escape helper.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::logical_expr::{Signature, Volatility};

use super::{
    PgFunction, SessionFacts, arg_text, current_schema, oid_arg, oid_signature, quote_ident, text,
    type_display_name, version_string,
};

pub(super) fn current_setting(
    facts: &SessionFacts,
    args: &[ScalarValue],
) -> datafusion::common::Result<ScalarValue> {
    let Some(name) = arg_text(args, 0) else {
        return Ok(ScalarValue::Utf8(None));
    };
    let missing_ok = matches!(args.get(1), Some(ScalarValue::Boolean(Some(true))));
    let settings = facts
        .settings
        .lock()
        .map_err(|_| DataFusionError::Execution("settings lock poisoned".into()))?;
    match settings.get(&name) {
        Ok(v) => Ok(text(v)),
        Err(_) if missing_ok => Ok(ScalarValue::Utf8(None)),
        Err(e) => Err(DataFusionError::External(Box::new(e))),
    }
}

pub(super) fn schemas_list(
    config: &ConfigOptions,
    args: &[ScalarValue],
) -> datafusion::common::Result<ScalarValue> {
    let implicit = matches!(args.first(), Some(ScalarValue::Boolean(Some(true))));
    let mut builder = ListBuilder::new(StringBuilder::new());
    if implicit {
        builder.values().append_value("pg_catalog");
    }
    builder.values().append_value(current_schema(config));
    builder.append(true);
    let array: ArrayRef = Arc::new(builder.finish());
    ScalarValue::try_from_array(&array, 0)
}

/// The name of the role with `oid` (pg_get_userbyid); unknown OIDs read as `unknown (OID=n)`.
pub(super) fn user_by_id(
    facts: &SessionFacts,
    args: &[ScalarValue],
) -> datafusion::common::Result<ScalarValue> {
    let Some(oid) = oid_arg(args) else {
        return Ok(ScalarValue::Utf8(None));
    };
    let snapshot = facts.snapshot();
    let name = snapshot
        .users
        .iter()
        .map(String::as_str)
        .find(|n| crate::pgcompat::catalog::role_oid(n) == oid)
        .map(str::to_string)
        .or_else(|| (oid == 10).then(|| facts.identity.session_user().to_string()))
        .unwrap_or_else(|| format!("unknown (OID={oid})"));
    Ok(text(name))
}

/// Whether a relation is found by its bare name: it lies in the current schema (the first
/// tarn database on the search path) or in pg_catalog.
pub(super) fn table_is_visible(
    facts: &SessionFacts,
    args: &[ScalarValue],
    config: &ConfigOptions,
) -> datafusion::common::Result<ScalarValue> {
    let Some(oid) = oid_arg(args) else {
        return Ok(ScalarValue::Boolean(None));
    };
    let schema = current_schema(config);
    let visible = facts
        .snapshot()
        .relations
        .iter()
        .filter(|r| r.schema == schema)
        .any(|r| crate::pgcompat::catalog::relation_oid(&r.schema, &r.name) == oid)
        || (1000..20_000).contains(&oid)
        || crate::pgcompat::catalog::catalog_table_name(oid).is_some();
    Ok(ScalarValue::Boolean(Some(visible)))
}

/// A relation's OID from its name (`to_regclass`): `schema.name`, or a name in the current
/// schema; NULL when there is no such relation.
pub(super) fn to_regclass(
    facts: &SessionFacts,
    args: &[ScalarValue],
    config: &ConfigOptions,
) -> datafusion::common::Result<ScalarValue> {
    let Some(name) = arg_text(args, 0) else {
        return Ok(ScalarValue::UInt32(None));
    };
    let unquote = |s: &str| s.trim().trim_matches('"').to_string();
    let (schema, table) = match name.split_once('.') {
        Some((s, t)) => (unquote(s), unquote(t)),
        None => (current_schema(config), unquote(&name)),
    };
    let implicit = !name.contains('.');
    if (schema.eq_ignore_ascii_case("pg_catalog") || implicit)
        && let Some(oid) = crate::pgcompat::catalog::catalog_table_oid(&table.to_lowercase())
    {
        return Ok(ScalarValue::UInt32(Some(oid)));
    }
    let (schema, table) = (schema.to_lowercase(), table.to_lowercase());
    let snapshot = facts.snapshot();
    let found = snapshot
        .relations
        .iter()
        .find(|r| r.schema == schema && r.name == table);
    Ok(ScalarValue::UInt32(found.map(|r| {
        crate::pgcompat::catalog::relation_oid(&r.schema, &r.name)
    })))
}

/// A table's or column's comment (obj_description / col_description); `subid` 0 is the table.
pub(super) fn description(
    facts: &SessionFacts,
    oid: Option<u32>,
    subid: i64,
) -> datafusion::common::Result<ScalarValue> {
    let Some(oid) = oid else {
        return Ok(ScalarValue::Utf8(None));
    };
    let snapshot = facts.snapshot();
    let relation = snapshot
        .relations
        .iter()
        .find(|r| crate::pgcompat::catalog::relation_oid(&r.schema, &r.name) == oid);
    let comment = relation.and_then(|r| match subid {
        0 => r.comment.clone(),
        n => r
            .column_comments
            .get(usize::try_from(n - 1).ok()?)
            .cloned()
            .flatten(),
    });
    Ok(ScalarValue::Utf8(comment))
}

/// `json_build_object(k1, v1, …)` as JSON text.
pub(super) fn json_object(args: &[ScalarValue]) -> datafusion::common::Result<ScalarValue> {
    let mut object = serde_json::Map::new();
    for pair in args.chunks(2) {
        let [key, value] = pair else {
            return Err(DataFusionError::Execution(
                "json_build_object needs an even number of arguments".into(),
            ));
        };
        let key = match key {
            ScalarValue::Utf8(Some(k))
            | ScalarValue::Utf8View(Some(k))
            | ScalarValue::LargeUtf8(Some(k)) => k.clone(),
            other => other.to_string(),
        };
        let value = if value.is_null() {
            serde_json::Value::Null
        } else {
            match value {
                ScalarValue::Boolean(Some(b)) => serde_json::Value::Bool(*b),
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)) => serde_json::Value::String(s.clone()),
                other => serde_json::from_str(&other.to_string())
                    .unwrap_or_else(|_| serde_json::Value::String(other.to_string())),
            }
        };
        object.insert(key, value);
    }
    Ok(text(serde_json::Value::Object(object).to_string()))
}

/// A LIKE pattern written with escape character `escape`, rewritten to backslash escapes (the
/// only ones DataFusion knows); see `pg_rewrite`.
pub(super) fn like_escape(args: &[ScalarValue]) -> ScalarValue {
    let (Some(pattern), Some(escape)) = (arg_text(args, 0), arg_text(args, 1)) else {
        return ScalarValue::Utf8(None);
    };
    let mut esc = escape.chars();
    let (Some(esc), None) = (esc.next(), esc.next()) else {
        return text(pattern);
    };
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == esc {
            match chars.next() {
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push(c),
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    text(out)
}

pub(super) fn functions(facts: &Arc<SessionFacts>) -> Vec<PgFunction> {
    let f = super::maker(facts);
    let none = || Signature::exact(vec![], Volatility::Stable);
    let list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    vec![
        f("version", none(), DataType::Utf8, |_, _, _| {
            Ok(text(version_string()))
        }),
        f("current_database", none(), DataType::Utf8, |_, _, _| {
            Ok(text(crate::provider::CATALOG_NAME))
        }),
        f("current_catalog", none(), DataType::Utf8, |_, _, _| {
            Ok(text(crate::provider::CATALOG_NAME))
        }),
        // The only client encoding tarn speaks (SET client_encoding accepts UTF8 alone).
        f("pg_client_encoding", none(), DataType::Utf8, |_, _, _| {
            Ok(text("UTF8"))
        }),
        f("current_schema", none(), DataType::Utf8, |_, _, c| {
            Ok(text(current_schema(c)))
        }),
        f(
            "current_schemas",
            Signature::exact(vec![DataType::Boolean], Volatility::Stable),
            list,
            |_, args, c| schemas_list(c, args),
        ),
        f("current_user", none(), DataType::Utf8, |facts, _, _| {
            Ok(text(facts.identity.current_role()))
        }),
        f("current_role", none(), DataType::Utf8, |facts, _, _| {
            Ok(text(facts.identity.current_role()))
        }),
        f("session_user", none(), DataType::Utf8, |facts, _, _| {
            Ok(text(facts.identity.session_user()))
        }),
        f("user", none(), DataType::Utf8, |facts, _, _| {
            Ok(text(facts.identity.current_role()))
        }),
        f(
            "current_setting",
            Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Utf8,
                        DataType::Boolean,
                    ]),
                ],
                Volatility::Stable,
            ),
            DataType::Utf8,
            |facts, args, _| current_setting(facts, args),
        ),
        f(
            "pg_encoding_to_char",
            Signature::uniform(
                1,
                vec![DataType::Int32, DataType::Int64],
                Volatility::Immutable,
            ),
            DataType::Utf8,
            |_, args, _| {
                Ok(match args.first() {
                    Some(ScalarValue::Int32(Some(6)) | ScalarValue::Int64(Some(6))) => text("UTF8"),
                    Some(ScalarValue::Int32(Some(_)) | ScalarValue::Int64(Some(_))) => text(""),
                    _ => ScalarValue::Utf8(None),
                })
            },
        ),
        f(
            "pg_get_userbyid",
            oid_signature(),
            DataType::Utf8,
            |facts, args, _| user_by_id(facts, args),
        ),
        f(
            "pg_table_is_visible",
            oid_signature(),
            DataType::Boolean,
            table_is_visible,
        ),
        f(
            "format_type",
            Signature::any(2, Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| {
                Ok(oid_arg(args).map_or(ScalarValue::Utf8(None), |o| text(type_display_name(o))))
            },
        ),
        f(
            "to_regclass",
            Signature::exact(vec![DataType::Utf8], Volatility::Stable),
            DataType::UInt32,
            to_regclass,
        ),
        f(
            "to_regtype",
            Signature::exact(vec![DataType::Utf8], Volatility::Stable),
            DataType::UInt32,
            |_, args, _| {
                let oid =
                    arg_text(args, 0).and_then(|n| crate::pgcompat::catalog::type_oid_by_name(&n));
                Ok(ScalarValue::UInt32(oid))
            },
        ),
        f(
            "regclass",
            Signature::any(1, Volatility::Stable),
            DataType::UInt32,
            |facts, args, config| match args.first() {
                Some(
                    ScalarValue::Utf8(_) | ScalarValue::Utf8View(_) | ScalarValue::LargeUtf8(_),
                ) => to_regclass(facts, args, config),
                _ => Ok(ScalarValue::UInt32(oid_arg(args))),
            },
        ),
        f(
            "obj_description",
            Signature::variadic_any(Volatility::Stable),
            DataType::Utf8,
            |facts, args, _| description(facts, oid_arg(args), 0),
        ),
        f(
            "col_description",
            Signature::any(2, Volatility::Stable),
            DataType::Utf8,
            |facts, args, _| {
                let column = match args.get(1) {
                    Some(ScalarValue::Int32(Some(n))) => i64::from(*n),
                    Some(ScalarValue::Int64(Some(n))) => *n,
                    Some(ScalarValue::Int16(Some(n))) => i64::from(*n),
                    _ => return Ok(ScalarValue::Utf8(None)),
                };
                description(facts, oid_arg(args), column)
            },
        ),
        f(
            "json_build_object",
            Signature::variadic_any(Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| json_object(args),
        ),
        f(
            "tarn_like_escape",
            Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| Ok(like_escape(args)),
        ),
        f(
            "quote_ident",
            Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| Ok(quote_ident(args)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escapes_and_json_objects() {
        assert_eq!(like_escape(&[text("pg/_%"), text("/")]), text("pg\\_%"));
        assert_eq!(like_escape(&[text("a\\b"), text("/")]), text("a\\\\b"));
        let json = json_object(&[
            text("always"),
            ScalarValue::Boolean(Some(true)),
            text("n"),
            ScalarValue::Int64(Some(3)),
            text("x"),
            ScalarValue::Utf8(None),
        ])
        .unwrap();
        assert_eq!(json, text(r#"{"always":true,"n":3,"x":null}"#));
    }
}
