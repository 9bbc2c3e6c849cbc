//! Postgres spellings DataFusion does not plan, rewritten in the parsed statement before
//! planning. Catalog queries from psql, JDBC and BI tools depend on them; user queries over tarn
//! tables are left alone except for the first three, which only rename.

use datafusion::sql::sqlparser::ast::{Expr, ObjectNamePart, visit_expressions_mut};

mod casts;
mod names;
mod relations;
mod subqueries;

pub(crate) use subqueries::empty_result;

use casts::{
    array_literal_cast, array_literal_comparison, array_parameter, plain_type, reg_lookup,
    reg_name, subscripts,
};

use subqueries::{aggregate_catalog_subquery, hoist_outer_conditions, over_empty_catalogs};

/// Postgres spellings DataFusion does not plan, rewritten before planning:
/// `pg_catalog.f(…)` is `f(…)` (the schema Postgres keeps its built-in functions in), and
/// `ARRAY(SELECT x …)` is `(SELECT array_agg(x) …)`.
pub(crate) fn rewrite(statement: &mut datafusion::sql::parser::Statement) {
    let datafusion::sql::parser::Statement::Statement(statement) = statement else {
        return;
    };
    // Named first: PostgreSQL names columns after what the user wrote, not the rewrites.
    names::name_columns(statement.as_mut());
    relations::plain_relations(statement.as_mut());
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
        if let Some(lookup) = reg_lookup(expr) {
            *expr = lookup;
        }
        array_literal_comparison(expr);
        if let Some(array) = array_literal_cast(expr) {
            *expr = array;
        }
        if let Some(has) = array_parameter(expr) {
            *expr = has;
        }
        if let Some(unnest) = subscripts(expr) {
            *expr = unnest;
        }
        if let Expr::Cast { data_type, .. } = expr
            && let Some(plain) = plain_type(data_type)
        {
            *data_type = plain;
        }
        if let Some(named) = reg_name(expr) {
            *expr = named;
        }
        if let Expr::Like {
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char,
            ..
        } = expr
        {
            backslash_escapes(pattern, escape_char);
        }
        if let Some(constant) = over_empty_catalogs(expr) {
            *expr = constant;
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

/// `(name, value)` when `sql` is only `SELECT [pg_catalog.]set_config('name', 'value', bool)`.
pub(crate) fn bare_set_config(sql: &str) -> Option<(String, String)> {
    use datafusion::sql::sqlparser::ast::{
        FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr, Statement, Value,
    };
    if !sql.to_ascii_lowercase().contains("set_config") {
        return None;
    }
    let datafusion::sql::parser::Statement::Statement(statement) =
        datafusion::sql::parser::DFParser::parse_sql(sql)
            .ok()?
            .pop_front()?
    else {
        return None;
    };
    let Statement::Query(query) = *statement else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(Expr::Function(f))] = select.projection.as_slice() else {
        return None;
    };
    let named = matches!(f.name.0.last(), Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("set_config"));
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let text = |a: &FunctionArg| match a {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    match (named && select.from.is_empty(), list.args.as_slice()) {
        (true, [name, value, _local]) => Some((text(name)?, text(value)?)),
        _ => None,
    }
}

/// `LIKE 'pg/_%' ESCAPE '/'` as `LIKE 'pg\_%'`: DataFusion only knows the backslash escape.
fn backslash_escapes(
    pattern: &mut Expr,
    escape_char: &mut Option<datafusion::sql::sqlparser::ast::ValueWithSpan>,
) {
    use datafusion::sql::sqlparser::ast::Value;
    let Some(escape) = escape_char.as_ref() else {
        return;
    };
    let Value::SingleQuotedString(e) = &escape.value else {
        return;
    };
    let mut chars = e.chars();
    let (Some(esc), None) = (chars.next(), chars.next()) else {
        return;
    };
    if esc == '\\' {
        return;
    }
    let Expr::Value(p) = pattern else {
        // A bound or computed pattern: converted when it is known.
        *pattern = call(
            "tarn_like_escape",
            vec![pattern.clone(), Expr::Value(escape.clone())],
        );
        *escape_char = None;
        return;
    };
    let Value::SingleQuotedString(text) = &p.value else {
        return;
    };
    let mut out = String::with_capacity(text.len());
    let mut it = text.chars();
    while let Some(c) = it.next() {
        match c {
            c if c == esc => match it.next() {
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push(c),
            },
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    p.value = Value::SingleQuotedString(out);
    *escape_char = None;
}

/// `name(args…)` as an expression.
pub(super) fn call(name: &str, args: Vec<Expr>) -> Expr {
    use datafusion::sql::sqlparser::ast::{
        FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    };
    Expr::Function(datafusion::sql::sqlparser::ast::Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
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

/// `ARRAY(SELECT x FROM …)` as `coalesce((SELECT array_agg(x) FROM …), make_array())`.
fn array_subquery(function: &datafusion::sql::sqlparser::ast::Function) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{FunctionArguments, SelectItem, SetExpr};
    let is_array = matches!(function.name.0.as_slice(), [ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case("array"));
    let FunctionArguments::Subquery(query) = &function.args else {
        return None;
    };
    if !is_array {
        return None;
    }
    if subqueries::reads_no_rows(query) {
        // PostgreSQL's ARRAY() over no rows is the empty array.
        return Some(call("make_array", vec![]));
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
    let aggregate = call("array_agg", vec![item.clone()]);
    select.projection = vec![SelectItem::UnnamedExpr(aggregate)];
    // No rows: PostgreSQL's ARRAY() is the empty array, array_agg's NULL is not.
    Some(call(
        "coalesce",
        vec![Expr::Subquery(Box::new(query)), call("make_array", vec![])],
    ))
}

/// `sql`'s first statement after `rewrite` (tests of the rewrite passes).
#[cfg(test)]
pub(crate) fn rewritten_by(
    sql: &str,
    rewrite: impl Fn(&mut datafusion::sql::sqlparser::ast::Statement),
) -> String {
    use datafusion::sql::parser::{DFParser, Statement};
    let parsed = DFParser::parse_sql(sql).map(|mut s| s.pop_front());
    let Ok(Some(Statement::Statement(mut statement))) = parsed else {
        panic!("not one SQL statement: {sql}")
    };
    rewrite(&mut statement);
    statement.to_string()
}

#[cfg(test)]
mod tests {
    use datafusion::sql::parser::DFParser;

    fn rewritten(sql: &str) -> String {
        let mut statements = DFParser::parse_sql(sql).unwrap();
        let mut statement = statements.pop_front().unwrap();
        super::rewrite(&mut statement);
        statement.to_string()
    }

    #[test]
    fn psql_spellings_become_plain_sql() {
        let sql = rewritten(
            "SELECT pg_catalog.version(), c.oid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_class c \
             WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default",
        );
        assert_eq!(
            sql,
            "SELECT version() AS \"version\", tarn_regclass_name(regclass(c.oid)) AS \"oid\" \
             FROM pg_catalog.pg_class c WHERE c.relname ~ '^(t)$'"
        );
    }

    #[test]
    fn regclass_names_are_looked_up_and_like_escapes_become_backslashes() {
        assert_eq!(
            rewritten("SELECT 'public.t'::regclass, x LIKE 'pg/_%' ESCAPE '/' FROM u"),
            "SELECT to_regclass('public.t') AS \"regclass\", x LIKE 'pg\\_%' AS \"?column?\" FROM u"
        );
    }

    #[test]
    fn catalog_subqueries_are_aggregated_and_outer_conditions_hoisted() {
        let sql = rewritten(
            "SELECT (SELECT d.description FROM pg_catalog.pg_description d WHERE d.objoid = a.attrelid AND a.atthasdef) \
             FROM pg_catalog.pg_attribute a",
        );
        assert_eq!(
            sql,
            "SELECT CASE WHEN a.atthasdef THEN (SELECT max(d.description) FROM pg_catalog.pg_description d \
             WHERE d.objoid = a.attrelid) END AS \"description\" FROM pg_catalog.pg_attribute a"
        );
        // Catalogs of objects tarn does not have are empty: their subqueries are NULL / false.
        let empty = rewritten(
            "SELECT (SELECT d.adbin FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid), \
             EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid) FROM pg_catalog.pg_attribute a",
        );
        assert_eq!(
            empty,
            "SELECT NULL AS \"adbin\", false AS \"exists\" FROM pg_catalog.pg_attribute a"
        );
        // Subqueries over user tables keep PostgreSQL's semantics (DataFusion's errors).
        let user = rewritten("SELECT (SELECT v FROM t WHERE t.k = u.k) FROM u");
        assert_eq!(
            user,
            "SELECT (SELECT v FROM t WHERE t.k = u.k) AS \"v\" FROM u"
        );
    }
}
