//! Catalog subqueries DataFusion cannot plan as written: lookups that are not aggregated,
//! conditions on the outer row, and subqueries over catalogs tarn keeps empty.

use datafusion::sql::sqlparser::ast::{Expr, ObjectNamePart, visit_expressions_mut};

use super::call;

/// A subquery that reads only catalogs of objects tarn does not have (pg_sequence, pg_attrdef,
/// pg_policy, …) has no rows: a scalar subquery is NULL, EXISTS is false. Answering so up front
/// spares DataFusion correlations it cannot plan (psql's `\\d`, SQLAlchemy's get_columns).
pub(super) fn over_empty_catalogs(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::Value;
    let (query, constant) = match expr {
        Expr::Subquery(q) => (q, Value::Null),
        Expr::Exists { subquery, negated } => (subquery, Value::Boolean(*negated)),
        _ => return None,
    };
    reads_no_rows(query).then(|| Expr::Value(constant.into()))
}

/// Whether a query certainly has no rows: a plain (not aggregated) SELECT whose inner joins
/// read a catalog tarn keeps empty.
pub(super) fn reads_no_rows(query: &datafusion::sql::sqlparser::ast::Query) -> bool {
    set_has_no_rows(&query.body)
}

/// [`reads_no_rows`] for a query body: a UNION of such SELECTs has none either.
fn set_has_no_rows(body: &datafusion::sql::sqlparser::ast::SetExpr) -> bool {
    use datafusion::sql::sqlparser::ast::{SetExpr, SetOperator};
    let select = match body {
        SetExpr::Select(select) => select,
        SetExpr::Query(q) => return reads_no_rows(q),
        SetExpr::SetOperation {
            op, left, right, ..
        } => {
            return match op {
                SetOperator::Union => set_has_no_rows(left) && set_has_no_rows(right),
                SetOperator::Intersect => set_has_no_rows(left) || set_has_no_rows(right),
                _ => set_has_no_rows(left),
            };
        }
        _ => return false,
    };
    // Comma joins are cross joins: one empty input empties the product.
    let reads_empty = select.from.iter().any(joined_is_empty);
    let grouped = !matches!(&select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    // An aggregate without GROUP BY has one row even over none (count(*) is 0).
    let one_row = !grouped && projection_aggregates(&select.projection);
    reads_empty && !one_row
}

/// The distinct placeholders (`$1`, …) of a statement, in order of appearance.
fn placeholders(statement: &datafusion::sql::parser::Statement) -> Vec<String> {
    use datafusion::sql::sqlparser::ast::{Value, Visit, Visitor};
    struct Collect(Vec<String>);
    impl Visitor for Collect {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> std::ops::ControlFlow<()> {
            if let Expr::Value(v) = expr
                && let Value::Placeholder(p) = &v.value
                && !self.0.contains(p)
            {
                self.0.push(p.clone());
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let datafusion::sql::parser::Statement::Statement(s) = statement else {
        return vec![];
    };
    let mut collect = Collect(Vec::new());
    let _ = s.visit(&mut collect);
    collect.0
}

/// Whether `t JOIN u …` has no rows: an empty input of an inner join empties it, the left
/// input of a left (semi, anti) join too, and so on.
fn joined_is_empty(joined: &datafusion::sql::sqlparser::ast::TableWithJoins) -> bool {
    use datafusion::sql::sqlparser::ast::JoinOperator as J;
    let mut empty = relation_is_empty(&joined.relation);
    for join in &joined.joins {
        let right = relation_is_empty(&join.relation);
        empty = match join.join_operator {
            J::Inner(_) | J::Join(_) | J::CrossJoin(_) | J::StraightJoin(_) => empty || right,
            J::Left(_)
            | J::LeftOuter(_)
            | J::Semi(_)
            | J::LeftSemi(_)
            | J::Anti(_)
            | J::LeftAnti(_) => empty,
            J::Right(_) | J::RightOuter(_) | J::RightSemi(_) | J::RightAnti(_) => right,
            J::FullOuter(_) => empty && right,
            _ => false,
        };
    }
    empty
}

/// pg_catalog array columns that are always NULL in tarn (no storage options, no column ACLs
/// shown per attribute).
const NULL_ARRAYS: [&str; 4] = ["reloptions", "attoptions", "attacl", "proconfig"];

/// Whether a relation in FROM has no rows: a catalog tarn keeps empty, a derived table that
/// has none, or `unnest` of an array column that is always NULL.
fn relation_is_empty(relation: &datafusion::sql::sqlparser::ast::TableFactor) -> bool {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, TableFactor};
    let null_array = |e: &Expr| match e {
        Expr::CompoundIdentifier(parts) => parts
            .last()
            .is_some_and(|p| NULL_ARRAYS.contains(&p.value.to_ascii_lowercase().as_str())),
        _ => false,
    };
    match relation {
        TableFactor::Table {
            name, args: None, ..
        } => matches!(name.0.last(), Some(ObjectNamePart::Identifier(i))
                if crate::pgcompat::catalog::always_empty(&i.value.to_ascii_lowercase())),
        TableFactor::Table {
            name,
            args: Some(args),
            ..
        } => {
            matches!(name.0.last(), Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("unnest"))
                && matches!(args.args.as_slice(), [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] if null_array(e))
        }
        TableFactor::UNNEST { array_exprs, .. } => {
            matches!(array_exprs.as_slice(), [e] if null_array(e))
        }
        TableFactor::Derived { subquery, .. } => reads_no_rows(subquery),
        _ => false,
    }
}

/// For a top-level query that certainly has no rows (it reads a catalog tarn keeps empty) but
/// that DataFusion could not plan (psql's pg_policy and publication queries use array
/// operators over those catalogs): the same columns, as text, and no rows.
pub(crate) fn empty_result(
    statement: &datafusion::sql::parser::Statement,
) -> Option<datafusion::sql::parser::Statement> {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, Statement};
    let datafusion::sql::parser::Statement::Statement(s) = statement else {
        return None;
    };
    let Statement::Query(query) = s.as_ref() else {
        return None;
    };
    if !reads_no_rows(query) {
        return None;
    }
    // The first SELECT of a set operation names its columns.
    let mut body = query.body.as_ref();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_ref();
    }
    let SetExpr::Select(select) = body else {
        return None;
    };
    let mut names: Vec<String> = Vec::new();
    for item in &select.projection {
        let name = match item {
            SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
            SelectItem::UnnamedExpr(e) => super::names::column_name(e),
            _ => return None,
        };
        let mut unique = name.clone();
        let mut n = 1;
        while names.contains(&unique) {
            n += 1;
            unique = format!("{name}_{n}");
        }
        names.push(unique);
    }
    let columns: Vec<String> = names
        .iter()
        .map(|n| format!("CAST(NULL AS TEXT) AS \"{}\"", n.replace('"', "\"\"")))
        .collect();
    // The statement's parameters stay declared: clients bind as many as they sent.
    let parameters: Vec<String> = placeholders(statement)
        .iter()
        .map(|p| format!(" AND {p} IS NULL"))
        .collect();
    let sql = format!(
        "SELECT {} WHERE false{}",
        columns.join(", "),
        parameters.concat()
    );
    datafusion::sql::parser::DFParser::parse_sql(&sql)
        .ok()?
        .pop_front()
}

/// Whether the projection calls an aggregate (count(*) over no rows is 0, not NULL).
pub(super) fn projection_aggregates(
    projection: &[datafusion::sql::sqlparser::ast::SelectItem],
) -> bool {
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

/// DataFusion plans a correlated scalar subquery only when it is aggregated. Catalog queries
/// (psql's `\\d`, drivers) look up one row by key in pg_catalog tables without aggregating:
/// `(SELECT x FROM pg_catalog.t WHERE key = outer.key)` becomes `(SELECT max(x) …)`, which is the
/// same value whenever the lookup finds at most one row. Queries over user tables are untouched.
pub(super) fn aggregate_catalog_subquery(query: &mut datafusion::sql::sqlparser::ast::Query) {
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
pub(super) fn hoist_outer_conditions(
    query: &mut datafusion::sql::sqlparser::ast::Query,
) -> Option<Expr> {
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

pub(super) fn split_and(expr: Expr, out: &mut Vec<Expr>) {
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
