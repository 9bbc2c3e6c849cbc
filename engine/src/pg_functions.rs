//! PostgreSQL's session information functions, which drivers and BI tools call on connect:
//! `version()` (parsed as "PostgreSQL X.Y" by psycopg, SQLAlchemy, pgjdbc), `current_database()`,
//! `current_schema()`, `current_schemas(bool)`, `current_user` / `session_user` / `user`,
//! `current_setting(name [, missing_ok])`, `pg_encoding_to_char`, `quote_ident`. Each session
//! registers its own instances (they read its user and settings); `pg_catalog.`-qualified calls
//! resolve to the same functions.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Expr, ObjectNamePart, visit_expressions_mut};

use crate::introspect::schema_for_database;
use crate::settings::{SERVER_VERSION, Settings};

/// What the functions read from their session.
pub(crate) struct SessionFacts {
    pub user: String,
    pub settings: Arc<Mutex<Settings>>,
    /// For the catalog lookups of pg_get_userbyid and pg_table_is_visible.
    pub engine: Arc<crate::engine::EngineInner>,
}

impl std::fmt::Debug for SessionFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFacts")
            .field("user", &self.user)
            .finish()
    }
}

impl SessionFacts {
    /// Runs a metastore call from inside a (synchronous) function, as DataFusion's
    /// synchronous catalog methods do.
    fn block_on<T>(&self, fut: impl std::future::Future<Output = T>) -> T {
        let _guard = self.engine.handle.enter();
        futures::executor::block_on(fut)
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
    let users = facts
        .block_on(facts.engine.metastore.list_users())
        .map_err(|e| DataFusionError::External(Box::new(crate::EngineError::from(e))))?;
    let name = users
        .iter()
        .map(|u| u.name.as_str())
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
    let relations = facts
        .block_on(crate::introspect::relations(
            facts.engine.metastore.as_ref(),
            Some(&schema),
            None,
        ))
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let visible = relations
        .iter()
        .any(|r| crate::provider::pg_catalog::relation_oid(&r.schema, &r.name) == oid)
        || (1000..20_000).contains(&oid);
    Ok(ScalarValue::Boolean(Some(visible)))
}

/// PostgreSQL's display name of a type OID (format_type).
pub fn type_display_name(oid: u32) -> String {
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
        _ => "???",
    }
    .to_string()
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
            Signature::uniform(
                1,
                vec![DataType::UInt32, DataType::Int64],
                Volatility::Stable,
            ),
            DataType::Utf8,
            |facts, args, _| user_by_id(facts, args),
        ),
        f(
            "pg_table_is_visible",
            Signature::uniform(
                1,
                vec![DataType::UInt32, DataType::Int64],
                Volatility::Stable,
            ),
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
            "pg_get_expr",
            Signature::variadic_any(Volatility::Stable),
            DataType::Utf8,
            // tarn has no column defaults, check constraints or partition bounds to print.
            |_, _, _| Ok(ScalarValue::Utf8(None)),
        ),
        f(
            "quote_ident",
            Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
            DataType::Utf8,
            |_, args, _| Ok(quote_ident(args)),
        ),
    ]
}

/// Registers the functions for one session.
pub(crate) fn register(ctx: &SessionContext, facts: Arc<SessionFacts>) {
    for function in functions(&facts) {
        ctx.register_udf(ScalarUDF::new_from_impl(function));
    }
}

/// Postgres spellings DataFusion does not plan, rewritten before planning:
/// `pg_catalog.f(…)` is `f(…)` (the schema Postgres keeps its built-in functions in), and
/// `ARRAY(SELECT x …)` is `(SELECT array_agg(x) …)`.
pub(crate) fn strip_pg_catalog(statement: &mut datafusion::sql::parser::Statement) {
    let datafusion::sql::parser::Statement::Statement(statement) = statement else {
        return;
    };
    let _ = visit_expressions_mut(statement.as_mut(), |expr| {
        // `x COLLATE pg_catalog.default` (psql): tarn compares by code point anyway.
        if let Expr::Collate { expr: inner, .. } = expr {
            *expr = inner.as_ref().clone();
        }
        if let Expr::BinaryOp { op, .. } = expr
            && let Some(plain) = plain_operator(op)
        {
            *op = plain;
        }
        if let Expr::Cast { data_type, .. } = expr
            && let Some(plain) = plain_type(data_type)
        {
            *data_type = plain;
        }
        if let Expr::Subquery(query) = expr {
            aggregate_catalog_subquery(query);
            if let Some(outer) = hoist_outer_conditions(query) {
                *expr = Expr::Case {
                    case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                    end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                    operand: None,
                    conditions: vec![datafusion::sql::sqlparser::ast::CaseWhen {
                        condition: outer,
                        result: expr.clone(),
                    }],
                    else_result: None,
                };
            }
        }
        if let Expr::Function(function) = expr {
            if function.name.0.len() == 2
                && matches!(&function.name.0[0], ObjectNamePart::Identifier(i) if i.value.eq_ignore_ascii_case("pg_catalog"))
            {
                function.name.0.remove(0);
            }
            if let Some(subquery) = array_subquery(function) {
                *expr = subquery;
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// Postgres type names DataFusion does not know (`pg_catalog.text`, `regclass`, `oid`, …) as
/// the types tarn represents them with: OIDs and reg* types are integers.
fn plain_type(
    data_type: &datafusion::sql::sqlparser::ast::DataType,
) -> Option<datafusion::sql::sqlparser::ast::DataType> {
    use datafusion::sql::sqlparser::ast::DataType as T;
    let T::Custom(name, modifiers) = data_type else {
        return None;
    };
    if !modifiers.is_empty() {
        return None;
    }
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let last = match parts.as_slice() {
        [t] => t.as_str(),
        [schema, t] if schema == "pg_catalog" => t.as_str(),
        _ => return None,
    };
    Some(match last {
        "text" | "name" | "varchar" | "bpchar" | "char" => T::Text,
        "oid" | "regclass" | "regtype" | "regproc" | "regprocedure" | "regnamespace"
        | "regrole" | "int8" | "xid" => T::BigInt(None),
        "int4" => T::Int(None),
        "int2" => T::SmallInt(None),
        "bool" => T::Boolean,
        "float8" => T::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None),
        "float4" => T::Real,
        "date" => T::Date,
        _ => return None,
    })
}

/// DataFusion plans a correlated scalar subquery only when it is aggregated. Catalog queries
/// (psql's `\\d`, drivers) look up one row by key in pg_catalog tables without aggregating:
/// `(SELECT x FROM pg_catalog.t WHERE key = outer.key)` becomes `(SELECT max(x) …)`, which is the
/// same value whenever the lookup finds at most one row. Queries over user tables are untouched.
fn aggregate_catalog_subquery(query: &mut datafusion::sql::sqlparser::ast::Query) {
    use datafusion::sql::sqlparser::ast::{
        FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
        SelectItem, SetExpr, TableFactor,
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let over_catalog = !select.from.is_empty()
        && select.from.iter().all(|t| {
            std::iter::once(&t.relation)
                .chain(t.joins.iter().map(|j| &j.relation))
                .all(|r| matches!(r, TableFactor::Table { name, .. } if name.0.iter().any(|p| matches!(p, ObjectNamePart::Identifier(i) if i.value.eq_ignore_ascii_case("pg_catalog") || i.value.to_ascii_lowercase().starts_with("pg_")))))
        });
    let grouped = !matches!(&select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    if !over_catalog || grouped || select.distinct.is_some() {
        return;
    }
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_mut_slice()
    else {
        return;
    };
    let aggregated = matches!(item, Expr::Function(f) if matches!(f.name.0.last(), Some(ObjectNamePart::Identifier(i)) if ["count", "max", "min", "sum", "avg", "array_agg", "string_agg", "bool_and", "bool_or"].contains(&i.value.to_ascii_lowercase().as_str())));
    if aggregated {
        return;
    }
    let inner = item.clone();
    *item = Expr::Function(datafusion::sql::sqlparser::ast::Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new("max"))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    });
}

/// Conditions of a catalog subquery that only test the outer row (psql: `… AND a.atthasdef`),
/// which DataFusion cannot decorrelate: taken out of the subquery and returned, to guard it as
/// `CASE WHEN cond THEN (subquery) END` (the same value: the subquery is NULL when they fail).
fn hoist_outer_conditions(query: &mut datafusion::sql::sqlparser::ast::Query) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, SetExpr, TableFactor};
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let mut aliases: Vec<String> = Vec::new();
    for t in &select.from {
        for r in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Table { name, alias, .. } = r {
                match alias {
                    Some(a) => aliases.push(a.name.value.to_ascii_lowercase()),
                    None => {
                        if let Some(ObjectNamePart::Identifier(i)) = name.0.last() {
                            aliases.push(i.value.to_ascii_lowercase());
                        }
                    }
                }
            }
        }
    }
    let selection = select.selection.take()?;
    let mut conjuncts = Vec::new();
    split_and(selection, &mut conjuncts);
    let (outer, mut inner): (Vec<Expr>, Vec<Expr>) =
        conjuncts.into_iter().partition(|c| only_outer(c, &aliases));
    substitute_outer_columns(&mut inner, &aliases);
    select.selection = inner.into_iter().reduce(|a, b| Expr::BinaryOp {
        left: Box::new(a),
        op: BinaryOperator::And,
        right: Box::new(b),
    });
    outer.into_iter().reduce(|a, b| Expr::BinaryOp {
        left: Box::new(a),
        op: BinaryOperator::And,
        right: Box::new(b),
    })
}

/// Within a subquery, `inner.x = outer.y` makes `outer.y` the same as `inner.x`: other
/// conditions that mix both sides (psql: `a.attcollation <> t.typcollation`, which DataFusion
/// cannot decorrelate) are rewritten to read `inner.x` instead.
fn substitute_outer_columns(conjuncts: &mut [Expr], aliases: &[String]) {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    let is_inner = |parts: &[datafusion::sql::sqlparser::ast::Ident]| {
        parts.len() == 2 && aliases.contains(&parts[0].value.to_ascii_lowercase())
    };
    let mut equal: Vec<(String, Expr)> = Vec::new();
    for c in conjuncts.iter() {
        if let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = c
            && let (Expr::CompoundIdentifier(l), Expr::CompoundIdentifier(r)) =
                (left.as_ref(), right.as_ref())
        {
            match (is_inner(l), is_inner(r)) {
                (true, false) if r.len() == 2 => equal.push((
                    right.to_string().to_ascii_lowercase(),
                    left.as_ref().clone(),
                )),
                (false, true) if l.len() == 2 => equal.push((
                    left.to_string().to_ascii_lowercase(),
                    right.as_ref().clone(),
                )),
                _ => {}
            }
        }
    }
    if equal.is_empty() {
        return;
    }
    for c in conjuncts.iter_mut() {
        let is_equality = matches!(c, Expr::BinaryOp { op: BinaryOperator::Eq, left, right } if matches!((left.as_ref(), right.as_ref()), (Expr::CompoundIdentifier(_), Expr::CompoundIdentifier(_))));
        if is_equality {
            continue;
        }
        let _ = visit_expressions_mut(c, |e| {
            if let Expr::CompoundIdentifier(parts) = e
                && !is_inner(parts)
                && let Some((_, replacement)) = equal
                    .iter()
                    .find(|(k, _)| *k == e.to_string().to_ascii_lowercase())
            {
                *e = replacement.clone();
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
}

fn split_and(expr: Expr, out: &mut Vec<Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
            right,
        } => {
            split_and(*left, out);
            split_and(*right, out);
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
                    ..
                }
            ) =>
        {
            split_and(*inner, out)
        }
        other => out.push(other),
    }
}

/// Whether an expression reads only qualified columns of other (outer) tables.
fn only_outer(expr: &Expr, inner_aliases: &[String]) -> bool {
    use datafusion::sql::sqlparser::ast::Visit;
    struct Check<'a> {
        aliases: &'a [String],
        outer: usize,
        other: bool,
    }
    impl datafusion::sql::sqlparser::ast::Visitor for Check<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> std::ops::ControlFlow<()> {
            match expr {
                Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                    if self.aliases.contains(&parts[0].value.to_ascii_lowercase()) {
                        self.other = true;
                    } else {
                        self.outer += 1;
                    }
                }
                Expr::Identifier(_)
                | Expr::Subquery(_)
                | Expr::Exists { .. }
                | Expr::InSubquery { .. } => self.other = true,
                _ => {}
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut check = Check {
        aliases: inner_aliases,
        outer: 0,
        other: false,
    };
    let _ = expr.visit(&mut check);
    check.outer > 0 && !check.other
}

/// `OPERATOR(pg_catalog.~)` as the operator it names.
fn plain_operator(
    op: &datafusion::sql::sqlparser::ast::BinaryOperator,
) -> Option<datafusion::sql::sqlparser::ast::BinaryOperator> {
    use datafusion::sql::sqlparser::ast::BinaryOperator as Op;
    let Op::PGCustomBinaryOperator(parts) = op else {
        return None;
    };
    Some(match parts.last()?.as_str() {
        "~" => Op::PGRegexMatch,
        "~*" => Op::PGRegexIMatch,
        "!~" => Op::PGRegexNotMatch,
        "!~*" => Op::PGRegexNotIMatch,
        "~~" => Op::PGLikeMatch,
        "!~~" => Op::PGNotLikeMatch,
        "=" => Op::Eq,
        "<>" | "!=" => Op::NotEq,
        "<" => Op::Lt,
        "<=" => Op::LtEq,
        ">" => Op::Gt,
        ">=" => Op::GtEq,
        "||" => Op::StringConcat,
        _ => return None,
    })
}

/// `ARRAY(SELECT x FROM …)` as the scalar subquery `(SELECT array_agg(x) FROM …)`.
fn array_subquery(function: &datafusion::sql::sqlparser::ast::Function) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{
        FunctionArguments, Ident, ObjectName, SelectItem, SetExpr,
    };
    let is_array = matches!(function.name.0.as_slice(), [ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case("array"));
    let FunctionArguments::Subquery(query) = &function.args else {
        return None;
    };
    if !is_array {
        return None;
    }
    let mut query = query.as_ref().clone();
    query.order_by = None;
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_slice()
    else {
        return None;
    };
    let aggregate = datafusion::sql::sqlparser::ast::Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new("array_agg"))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(datafusion::sql::sqlparser::ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![datafusion::sql::sqlparser::ast::FunctionArg::Unnamed(
                datafusion::sql::sqlparser::ast::FunctionArgExpr::Expr(item.clone()),
            )],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    };
    select.projection = vec![SelectItem::UnnamedExpr(Expr::Function(aggregate))];
    Some(Expr::Subquery(Box::new(query)))
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
