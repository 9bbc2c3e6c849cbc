//! PostgreSQL's functions that drivers and BI tools call: session information and catalog
//! lookups (`info`: version() parsed as "PostgreSQL X.Y" by psycopg, SQLAlchemy and pgjdbc,
//! current_*, pg_get_userbyid, to_regclass, …), the rest of their catalog queries' functions
//! (`compat`), text forms (`text_forms`) and set-returning functions (`tables`). Each session
//! registers its own instances (they read its user and settings) over one `PgFunction`
//! implementation; `pg_catalog.`-qualified calls resolve to the same functions (see
//! `pg_rewrite`). Functions that read the catalog use a snapshot loaded before planning.

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::introspect::schema_for_database;

mod backends;
mod compat;
mod info;
pub(crate) mod privileges;
mod tables;
mod text_forms;
use crate::settings::{SERVER_VERSION, Settings};
pub(crate) use text_forms::array_elements;

/// What the functions read from their session.
pub(crate) struct SessionFacts {
    /// session_user and current_user (SET ROLE changes the latter).
    pub identity: Arc<crate::authz::Identity>,
    pub superuser: bool,
    /// The pid a front end announced for this session (pg BackendKeyData); 0 if none.
    pub backend_pid: std::sync::atomic::AtomicI32,
    /// The server's live sessions, for pg_cancel_backend / pg_terminate_backend.
    pub activity: Arc<crate::activity::Activity>,
    pub settings: Arc<Mutex<Settings>>,
    /// The catalog as of the statement being planned, for pg_get_userbyid, pg_table_is_visible,
    /// to_regclass and the description functions. Loaded (asynchronously) before planning a
    /// statement that calls them: functions run inside DataFusion's synchronous evaluation and
    /// must not block on the metastore (blocking the runtime's workers deadlocks it).
    pub catalog: Mutex<Option<Arc<CatalogSnapshot>>>,
    /// Grants and roles as of the statement, for the privilege inquiry functions.
    pub acl: Mutex<Option<Arc<privileges::AclSnapshot>>>,
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
    if privileges::READERS.iter().any(|f| lower.contains(f)) {
        let me = facts.identity.access(metastore).await?;
        let snapshot = privileges::load(metastore, me).await?;
        if let Ok(mut acl) = facts.acl.lock() {
            *acl = Some(Arc::new(snapshot));
        }
    }
    if !CATALOG_READERS.iter().any(|f| lower.contains(f)) {
        return Ok(());
    }
    let access = facts.identity.access(metastore).await?;
    let relations = crate::introspect::relations(metastore, Some(&access), None, None).await?;
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
            .field("user", &self.identity.session_user())
            .finish()
    }
}

impl SessionFacts {
    /// The statement's grants (empty, so every check is false, if none were loaded).
    fn acl(&self) -> Arc<privileges::AclSnapshot> {
        self.acl
            .lock()
            .ok()
            .and_then(|a| a.clone())
            .unwrap_or_default()
    }

    fn snapshot(&self) -> Arc<CatalogSnapshot> {
        self.catalog
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .unwrap_or_default()
    }
}

/// `f(name, signature, returns, eval)` builds the session's functions (they share its facts).
fn maker(
    facts: &Arc<SessionFacts>,
) -> impl Fn(&'static str, Signature, DataType, Eval) -> PgFunction + '_ {
    move |name, signature, returns, eval| PgFunction {
        name,
        signature,
        returns,
        facts: facts.clone(),
        eval,
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

fn oid_arg(args: &[ScalarValue]) -> Option<u32> {
    match args.first()? {
        ScalarValue::UInt32(Some(v)) => Some(*v),
        ScalarValue::Int64(Some(v)) => u32::try_from(*v).ok(),
        ScalarValue::Int32(Some(v)) => u32::try_from(*v).ok(),
        ScalarValue::UInt64(Some(v)) => u32::try_from(*v).ok(),
        _ => None,
    }
}

/// PostgreSQL's display name of a type OID (format_type).
pub(crate) fn type_display_name(oid: u32) -> String {
    use crate::pgcompat::types::oid as o;
    if let Some(element) = crate::pgcompat::types::element_of(oid) {
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
            return crate::pgcompat::types::RANGES
                .iter()
                .find(|(range, ..)| *range == other)
                .map_or_else(|| "???".to_string(), |(_, name, ..)| (*name).to_string());
        }
    }
    .to_string()
}

/// One OID argument (oid columns are UInt32; literals arrive as Int64).
fn oid_signature() -> Signature {
    Signature::uniform(
        1,
        vec![DataType::UInt32, DataType::Int64],
        Volatility::Stable,
    )
}

/// Checks that are always true in tarn: functions (all built in, executable by everyone) and
/// the visibility of system objects (types, collations and functions all live in pg_catalog,
/// which is on every search path).
const ALWAYS_TRUE: [&str; 4] = [
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
    for function in info::functions(&facts)
        .into_iter()
        .chain(compat::functions(&facts))
        .chain(privileges::functions(&facts))
        .chain(backends::functions(&facts))
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
    fn version_reads_as_postgresql() {
        assert!(version_string().starts_with(&format!("PostgreSQL {SERVER_VERSION} ")));
    }
}
