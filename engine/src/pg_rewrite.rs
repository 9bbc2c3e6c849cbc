//! Postgres spellings DataFusion does not plan, rewritten in the parsed statement before
//! planning. Catalog queries from psql, JDBC and BI tools depend on them; user queries over tarn
//! tables are left alone except for the first three, which only rename.

use datafusion::sql::sqlparser::ast::{Expr, ObjectNamePart, visit_expressions_mut};

/// Postgres spellings DataFusion does not plan, rewritten before planning:
/// `pg_catalog.f(…)` is `f(…)` (the schema Postgres keeps its built-in functions in), and
/// `ARRAY(SELECT x …)` is `(SELECT array_agg(x) …)`.
pub(crate) fn rewrite(statement: &mut datafusion::sql::parser::Statement) {
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
        if let Some(lookup) = regclass_lookup(expr) {
            *expr = lookup;
        }
        if let Expr::Cast { data_type, .. } = expr
            && let Some(plain) = plain_type(data_type)
        {
            *data_type = plain;
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

/// `'name'::regclass` (a relation looked up by name) as `to_regclass('name')`; other
/// `x::regclass` as `regclass(x)`, which looks names up and passes OIDs through.
fn regclass_lookup(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{DataType as T, Value};
    let Expr::Cast {
        expr: inner,
        data_type,
        ..
    } = expr
    else {
        return None;
    };
    let is_regclass = match data_type {
        T::Regclass => true,
        T::Custom(name, _) => {
            matches!(name.0.last(), Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("regclass"))
        }
        _ => false,
    };
    if !is_regclass {
        return None;
    }
    let function = match inner.as_ref() {
        Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)) => "to_regclass",
        // A parameter or column: a name is looked up, a number is already an OID.
        _ => "regclass",
    };
    Some(call(function, vec![inner.as_ref().clone()]))
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

/// A subquery that reads only catalogs of objects tarn does not have (pg_sequence, pg_attrdef,
/// pg_policy, …) has no rows: a scalar subquery is NULL, EXISTS is false. Answering so up front
/// spares DataFusion correlations it cannot plan (psql's `\\d`, SQLAlchemy's get_columns).
fn over_empty_catalogs(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{SetExpr, TableFactor, Value};
    let (query, constant) = match expr {
        Expr::Subquery(q) => (q, Value::Null),
        Expr::Exists { subquery, negated } => (subquery, Value::Boolean(*negated)),
        _ => return None,
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let empty = |r: &TableFactor| {
        matches!(r, TableFactor::Table { name, .. }
            if matches!(name.0.last(), Some(ObjectNamePart::Identifier(i))
                if crate::provider::pg_catalog::always_empty(&i.value.to_ascii_lowercase())))
    };
    // Inner joins and comma joins over an empty catalog are empty; outer joins may not be.
    let all_inner = select.from.iter().all(|t| {
        t.joins.iter().all(|j| {
            matches!(
                j.join_operator,
                datafusion::sql::sqlparser::ast::JoinOperator::Inner(_)
                    | datafusion::sql::sqlparser::ast::JoinOperator::Join(_)
                    | datafusion::sql::sqlparser::ast::JoinOperator::CrossJoin(_)
            )
        })
    });
    let reads_empty = select
        .from
        .iter()
        .any(|t| empty(&t.relation) || t.joins.iter().any(|j| empty(&j.relation)));
    let grouped = !matches!(&select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    let aggregated = grouped || projection_aggregates(&select.projection);
    (reads_empty && all_inner && !aggregated).then(|| Expr::Value(constant.into()))
}

/// Whether the projection calls an aggregate (count(*) over no rows is 0, not NULL).
fn projection_aggregates(projection: &[datafusion::sql::sqlparser::ast::SelectItem]) -> bool {
    use datafusion::sql::sqlparser::ast::SelectItem;
    projection.iter().any(|p| match p {
        SelectItem::UnnamedExpr(Expr::Function(f)) | SelectItem::ExprWithAlias { expr: Expr::Function(f), .. } => {
            matches!(f.name.0.last(), Some(ObjectNamePart::Identifier(i))
                if ["count", "max", "min", "sum", "avg", "array_agg", "string_agg", "bool_and", "bool_or", "json_agg"]
                    .contains(&i.value.to_ascii_lowercase().as_str()))
        }
        _ => false,
    })
}

/// `name(args…)` as an expression.
fn call(name: &str, args: Vec<Expr>) -> Expr {
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

/// Postgres type names DataFusion does not know (`pg_catalog.text`, `regclass`, `oid`, …) as
/// the types tarn represents them with: OIDs and reg* types are integers.
fn plain_type(
    data_type: &datafusion::sql::sqlparser::ast::DataType,
) -> Option<datafusion::sql::sqlparser::ast::DataType> {
    use datafusion::sql::sqlparser::ast::DataType as T;
    if matches!(data_type, T::Regclass) {
        return Some(T::BigInt(None));
    }
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
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, TableFactor};
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
    *item = call("max", vec![inner]);
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
        qualifier(parts).is_some_and(|q| aliases.contains(&q))
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
                (true, false) if r.len() >= 2 => equal.push((
                    right.to_string().to_ascii_lowercase(),
                    left.as_ref().clone(),
                )),
                (false, true) if l.len() >= 2 => equal.push((
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

/// The table a qualified column names (`t` in `t.c` and in `pg_catalog.t.c`), lower-cased.
fn qualifier(parts: &[datafusion::sql::sqlparser::ast::Ident]) -> Option<String> {
    (parts.len() >= 2).then(|| parts[parts.len() - 2].value.to_ascii_lowercase())
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
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    if qualifier(parts).is_some_and(|q| self.aliases.contains(&q)) {
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
    use datafusion::sql::sqlparser::ast::{FunctionArguments, SelectItem, SetExpr};
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
    let aggregate = call("array_agg", vec![item.clone()]);
    select.projection = vec![SelectItem::UnnamedExpr(aggregate)];
    Some(Expr::Subquery(Box::new(query)))
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
            "SELECT version(), regclass(c.oid)::TEXT FROM pg_catalog.pg_class c \
             WHERE c.relname ~ '^(t)$'"
        );
    }

    #[test]
    fn regclass_names_are_looked_up_and_like_escapes_become_backslashes() {
        assert_eq!(
            rewritten("SELECT 'public.t'::regclass, x LIKE 'pg/_%' ESCAPE '/' FROM u"),
            "SELECT to_regclass('public.t'), x LIKE 'pg\\_%' FROM u"
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
             WHERE d.objoid = a.attrelid) END FROM pg_catalog.pg_attribute a"
        );
        // Catalogs of objects tarn does not have are empty: their subqueries are NULL / false.
        let empty = rewritten(
            "SELECT (SELECT d.adbin FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid), \
             EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid) FROM pg_catalog.pg_attribute a",
        );
        assert_eq!(empty, "SELECT NULL, false FROM pg_catalog.pg_attribute a");
        // Subqueries over user tables keep PostgreSQL's semantics (DataFusion's errors).
        let user = rewritten("SELECT (SELECT v FROM t WHERE t.k = u.k) FROM u");
        assert_eq!(user, "SELECT (SELECT v FROM t WHERE t.k = u.k) FROM u");
    }
}
