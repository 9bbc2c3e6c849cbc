//! PostgreSQL's session information functions, which drivers and BI tools call on connect:
//! `version()` (parsed as "PostgreSQL X.Y" by psycopg, SQLAlchemy, pgjdbc), `current_database()`,
//! `current_schema()`, `current_schemas(bool)`, `current_user` / `session_user` / `user`,
//! `current_setting(name [, missing_ok])`, `pg_encoding_to_char`, `quote_ident`. Each session
//! registers its own instances (they read its user and settings); `pg_catalog.`-qualified calls
//! resolve to the same functions (see `pg_rewrite`).

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::introspect::schema_for_database;

mod compat;
mod tables;
mod text_forms;
use crate::settings::{SERVER_VERSION, Settings};
pub(crate) use text_forms::array_elements;

/// What the functions read from their session.
pub(crate) struct SessionFacts {
    pub user: String,
    pub settings: Arc<Mutex<Settings>>,
    /// The catalog as of the statement being planned, for pg_get_userbyid, pg_table_is_visible,
    /// to_regclass and the description functions. Loaded (asynchronously) before planning a
    /// statement that calls them: functions run inside DataFusion's synchronous evaluation and
    /// must not block on the metastore (blocking the runtime's workers deadlocks it).
    pub catalog: Mutex<Option<Arc<CatalogSnapshot>>>,
}

/// Relations and users, read once per statement.
#[derive(Debug, Default)]
pub(crate) struct CatalogSnapshot {
    pub relations: Vec<crate::introspect::Relation>,
    pub users: Vec<String>,
    /// Schema names (tarn databases), for `::regnamespace::text`.
    pub schemas: Vec<String>,
}

/// Functions that read the catalog snapshot.
const CATALOG_READERS: [&str; 12] = [
    "pg_database_size",
    "pg_total_relation_size",
    "pg_relation_size",
    "pg_table_size",
    "pg_get_userbyid",
    "tarn_regclass_name",
    "tarn_regnamespace_name",
    "pg_table_is_visible",
    "to_regclass",
    "regclass",
    "obj_description",
    "col_description",
];

/// Loads the snapshot when `sql` may call a function that reads it.
pub(crate) async fn prepare_catalog(
    facts: &SessionFacts,
    metastore: &dyn tarn_catalog::Metastore,
    sql: &str,
) -> crate::error::Result<()> {
    let lower = sql.to_ascii_lowercase();
    if !CATALOG_READERS.iter().any(|f| lower.contains(f)) {
        return Ok(());
    }
    let relations = crate::introspect::relations(metastore, None, None).await?;
    let users = metastore
        .list_users()
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    let schemas = metastore
        .list_databases(None)
        .await?
        .into_iter()
        .map(|d| schema_for_database(&d.name))
        .collect();
    if let Ok(mut catalog) = facts.catalog.lock() {
        *catalog = Some(Arc::new(CatalogSnapshot {
            relations,
            users,
            schemas,
        }));
    }
    Ok(())
}

impl std::fmt::Debug for SessionFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFacts")
            .field("user", &self.user)
            .finish()
    }
}

impl SessionFacts {
    fn snapshot(&self) -> Arc<CatalogSnapshot> {
        self.catalog
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .unwrap_or_default()
    }
}

type Eval =
    fn(&SessionFacts, &[ScalarValue], &ConfigOptions) -> datafusion::common::Result<ScalarValue>;

struct PgFunction {
    name: &'static str,
    signature: Signature,
    returns: DataType,
    facts: Arc<SessionFacts>,
    eval: Eval,
}

impl std::fmt::Debug for PgFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for PgFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.facts, &other.facts)
    }
}

impl Eq for PgFunction {}

impl std::hash::Hash for PgFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for PgFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::common::Result<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::common::Result<ColumnarValue> {
        let rows = args.args.iter().find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        });
        let value_at = |row: usize| -> datafusion::common::Result<Vec<ScalarValue>> {
            args.args
                .iter()
                .map(|a| match a {
                    ColumnarValue::Scalar(s) => Ok(s.clone()),
                    ColumnarValue::Array(a) => ScalarValue::try_from_array(a, row),
                })
                .collect()
        };
        match rows {
            None => {
                let value = (self.eval)(&self.facts, &value_at(0)?, &args.config_options)?;
                Ok(ColumnarValue::Scalar(value))
            }
            Some(0) => Ok(ColumnarValue::Array(
                datafusion::arrow::array::new_empty_array(&self.returns),
            )),
            Some(n) => {
                let values = (0..n)
                    .map(|row| (self.eval)(&self.facts, &value_at(row)?, &args.config_options))
                    .collect::<datafusion::common::Result<Vec<_>>>()?;
                Ok(ColumnarValue::Array(ScalarValue::iter_to_array(values)?))
            }
        }
    }
}

fn text(s: impl Into<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(s.into()))
}

fn arg_text(args: &[ScalarValue], i: usize) -> Option<String> {
    match args.get(i) {
        Some(ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s)) => {
            s.clone()
        }
        _ => None,
    }
}

/// The version string clients parse ("PostgreSQL 16.4 …").
pub fn version_string() -> String {
    format!(
        "PostgreSQL {SERVER_VERSION} (tarn {}) on {}-linux, compiled by rustc, 64-bit",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    )
}

fn current_schema(config: &ConfigOptions) -> String {
    schema_for_database(&config.catalog.default_schema)
}

fn current_setting(
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

fn quote_ident(args: &[ScalarValue]) -> ScalarValue {
    let Some(s) = arg_text(args, 0) else {
        return ScalarValue::Utf8(None);
    };
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        text(s)
    } else {
        text(format!("\"{}\"", s.replace('"', "\"\"")))
    }
}

fn schemas_list(
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
fn user_by_id(
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
        .find(|n| crate::provider::pg_catalog::role_oid(n) == oid)
        .map(str::to_string)
        .or_else(|| (oid == 10).then(|| facts.user.clone()))
        .unwrap_or_else(|| format!("unknown (OID={oid})"));
    Ok(text(name))
}

fn oid_arg(args: &[ScalarValue]) -> Option<u32> {
    match args.first()? {
        ScalarValue::UInt32(Some(v)) => Some(*v),
        ScalarValue::Int64(Some(v)) => u32::try_from(*v).ok(),
        ScalarValue::Int32(Some(v)) => u32::try_from(*v).ok(),
        ScalarValue::UInt64(Some(v)) => u32::try_from(*v).ok(),
        _ => None,
    }
}

/// Whether a relation is found by its bare name: it lies in the current schema (the first
/// tarn database on the search path) or in pg_catalog.
fn table_is_visible(
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
        .any(|r| crate::provider::pg_catalog::relation_oid(&r.schema, &r.name) == oid)
        || (1000..20_000).contains(&oid)
        || crate::provider::pg_catalog::catalog_table_name(oid).is_some();
    Ok(ScalarValue::Boolean(Some(visible)))
}

/// PostgreSQL's display name of a type OID (format_type).
pub(crate) fn type_display_name(oid: u32) -> String {
    use crate::pg_types::oid as o;
    if let Some(element) = crate::pg_types::element_of(oid) {
        return format!("{}[]", type_display_name(element));
    }
    match oid {
        o::BOOL => "boolean",
        o::BYTEA => "bytea",
        o::CHAR => "\"char\"",
        o::NAME => "name",
        o::INT8 => "bigint",
        o::INT2 => "smallint",
        o::INT4 => "integer",
        o::TEXT => "text",
        o::OID => "oid",
        o::JSON => "json",
        o::FLOAT4 => "real",
        o::FLOAT8 => "double precision",
        o::BPCHAR => "character",
        o::VARCHAR => "character varying",
        o::DATE => "date",
        o::TIME => "time without time zone",
        o::TIMESTAMP => "timestamp without time zone",
        o::TIMESTAMPTZ => "timestamp with time zone",
        o::INTERVAL => "interval",
        o::NUMERIC => "numeric",
        o::UUID => "uuid",
        o::JSONB => "jsonb",
        other => {
            return crate::pg_types::RANGES
                .iter()
                .find(|(range, ..)| *range == other)
                .map_or_else(|| "???".to_string(), |(_, name, ..)| (*name).to_string());
        }
    }
    .to_string()
}

/// A relation's OID from its name (`to_regclass`): `schema.name`, or a name in the current
/// schema; NULL when there is no such relation.
fn to_regclass(
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
    if schema.eq_ignore_ascii_case("pg_catalog") || implicit {
        if let Some(oid) = crate::provider::pg_catalog::catalog_table_oid(&table.to_lowercase()) {
            return Ok(ScalarValue::UInt32(Some(oid)));
        }
    }
    let (schema, table) = (schema.to_lowercase(), table.to_lowercase());
    let snapshot = facts.snapshot();
    let found = snapshot
        .relations
        .iter()
        .find(|r| r.schema == schema && r.name == table);
    Ok(ScalarValue::UInt32(found.map(|r| {
        crate::provider::pg_catalog::relation_oid(&r.schema, &r.name)
    })))
}

/// A table's or column's comment (obj_description / col_description); `subid` 0 is the table.
fn description(
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
        .find(|r| crate::provider::pg_catalog::relation_oid(&r.schema, &r.name) == oid);
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

/// One OID argument (oid columns are UInt32; literals arrive as Int64).
fn oid_signature() -> Signature {
    Signature::uniform(
        1,
        vec![DataType::UInt32, DataType::Int64],
        Volatility::Stable,
    )
}

/// `json_build_object(k1, v1, …)` as JSON text.
fn json_object(args: &[ScalarValue]) -> datafusion::common::Result<ScalarValue> {
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
fn like_escape(args: &[ScalarValue]) -> ScalarValue {
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

fn functions(facts: &Arc<SessionFacts>) -> Vec<PgFunction> {
    let f = |name, signature, returns, eval: Eval| PgFunction {
        name,
        signature,
        returns,
        facts: facts.clone(),
        eval,
    };
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
            Ok(text(&facts.user))
        }),
        f("session_user", none(), DataType::Utf8, |facts, _, _| {
            Ok(text(&facts.user))
        }),
        f("user", none(), DataType::Utf8, |facts, _, _| {
            Ok(text(&facts.user))
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
                let oid = arg_text(args, 0)
                    .and_then(|n| crate::provider::pg_catalog::type_oid_by_name(&n));
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

/// Checks that are always true in tarn: privileges (no grants yet: every user may read every
/// object) and the visibility of system objects (types, collations and functions all live in
/// pg_catalog, which is on every search path).
const ALWAYS_TRUE: [&str; 9] = [
    "has_table_privilege",
    "has_schema_privilege",
    "has_database_privilege",
    "has_column_privilege",
    "has_any_column_privilege",
    "has_function_privilege",
    "pg_type_is_visible",
    "pg_collation_is_visible",
    "pg_function_is_visible",
];

/// Functions that describe objects tarn does not have (column defaults, sequences,
/// constraints, indexes, shared-object comments): always NULL.
const ALWAYS_NULL: [&str; 10] = [
    "pg_get_expr",
    "pg_get_function_result",
    "pg_get_function_arguments",
    "pg_get_function_identity_arguments",
    "pg_get_partkeydef",
    "pg_get_triggerdef",
    "pg_get_serial_sequence",
    "pg_get_constraintdef",
    "pg_get_indexdef",
    "shobj_description",
];

/// Registers the functions for one session.
pub(crate) fn register(ctx: &SessionContext, facts: Arc<SessionFacts>) {
    tables::register(ctx, facts.settings.clone());
    let always_true = ALWAYS_TRUE.iter().map(|name| PgFunction {
        name,
        signature: Signature::variadic_any(Volatility::Stable),
        returns: DataType::Boolean,
        facts: facts.clone(),
        eval: |_, _, _| Ok(ScalarValue::Boolean(Some(true))),
    });
    let always_null = ALWAYS_NULL.iter().map(|name| PgFunction {
        name,
        signature: Signature::variadic_any(Volatility::Stable),
        returns: DataType::Utf8,
        facts: facts.clone(),
        eval: |_, _, _| Ok(ScalarValue::Utf8(None)),
    });
    for function in functions(&facts)
        .into_iter()
        .chain(compat::functions(&facts))
        .chain(always_true)
        .chain(always_null)
    {
        ctx.register_udf(ScalarUDF::new_from_impl(function));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_ident_quotes_only_when_needed() {
        let q = |s: &str| quote_ident(&[text(s)]);
        assert_eq!(q("events"), text("events"));
        assert_eq!(q("Events"), text("\"Events\""));
        assert_eq!(q("a\"b"), text("\"a\"\"b\""));
        assert_eq!(q("1x"), text("\"1x\""));
    }

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

    #[test]
    fn version_reads_as_postgresql() {
        assert!(version_string().starts_with(&format!("PostgreSQL {SERVER_VERSION} ")));
    }
}
