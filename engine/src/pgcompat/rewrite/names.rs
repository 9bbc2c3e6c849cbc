//! PostgreSQL's names for unnamed result columns. DataFusion names `count(*)` as
//! `count(*)` and `1` as `Int64(1)`; PostgreSQL says `count` and `?column?`, and drivers,
//! pandas and BI tools read columns by those names (pgjdbc's metadata queries, SQLAlchemy's
//! `scalar()` callers, dashboards that show headers). Each unnamed item gets PostgreSQL's name
//! as an alias; a name already taken in the same list gets a `_2`, `_3` suffix (PostgreSQL
//! allows duplicate names, DataFusion does not: `SELECT NULL, NULL` must plan).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DataType, Expr, Ident, ObjectNamePart, Query, SelectItem, SetExpr, VisitMut, VisitorMut,
};

/// Names the unnamed columns of every SELECT list in `statement` the way PostgreSQL does.
pub(super) fn name_columns(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    struct Namer;
    impl VisitorMut for Namer {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            name_set_expr(&mut query.body);
            ControlFlow::Continue(())
        }
    }
    let _ = statement.visit(&mut Namer);
}

fn name_set_expr(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            name_items(&mut select.projection);
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                {
                    in_subquery_as_array(e);
                }
            }
        }
        // The first branch names a set operation's columns.
        SetExpr::SetOperation { left, .. } => name_set_expr(left),
        _ => {}
    }
}

fn name_items(items: &mut [SelectItem]) {
    exclude_repeated_columns(items);
    // Names already fixed: aliases and plain columns.
    let mut used: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            SelectItem::UnnamedExpr(e @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_))) => {
                Some(column_name(e))
            }
            _ => None,
        })
        .collect();
    for item in items.iter_mut() {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            continue;
        }
        let name = column_name(expr);
        let mut unique = name.clone();
        let mut n = 1;
        while used.contains(&unique) {
            n += 1;
            unique = format!("{name}_{n}");
        }
        used.push(unique.clone());
        *item = SelectItem::ExprWithAlias {
            expr: expr.clone(),
            alias: Ident::with_quote('"', unique),
        };
    }
}

/// `c.oid, c.*` (DBeaver, pgAdmin): PostgreSQL returns `oid` twice, DataFusion refuses a
/// schema with `c.oid` twice (or next to an unqualified `oid`), so the wildcard leaves out
/// the columns named before it: `c.oid, c.* EXCLUDE (oid)`. Clients read `c.*` by name.
fn exclude_repeated_columns(items: &mut [SelectItem]) {
    use datafusion::sql::sqlparser::ast::{
        ExcludeSelectItem, ObjectName, SelectItemQualifiedWildcardKind,
    };
    let explicit: Vec<(String, Ident)> = items
        .iter()
        .filter_map(|item| match item {
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) if parts.len() == 2 => {
                Some((parts[0].value.to_ascii_lowercase(), parts[1].clone()))
            }
            _ => None,
        })
        .collect();
    for item in items.iter_mut() {
        let SelectItem::QualifiedWildcard(
            SelectItemQualifiedWildcardKind::ObjectName(qualifier),
            options,
        ) = item
        else {
            continue;
        };
        let Some(ObjectNamePart::Identifier(q)) = qualifier.0.last() else {
            continue;
        };
        let q = q.value.to_ascii_lowercase();
        let repeated: Vec<ObjectName> = explicit
            .iter()
            .filter(|(table, _)| *table == q)
            .map(|(_, column)| ObjectName(vec![ObjectNamePart::Identifier(column.clone())]))
            .collect();
        if !repeated.is_empty() && options.opt_exclude.is_none() {
            options.opt_exclude = Some(ExcludeSelectItem::Multiple(repeated));
        }
    }
}

/// `x IN (SELECT y …)` in a SELECT list (Grafana's table picker puts one in a CASE) as
/// `array_has((SELECT array_agg(y) …), x)`: DataFusion only turns IN subqueries of filters
/// into joins; in a projection it cannot execute them. Filters keep their semi-joins.
fn in_subquery_as_array(expr: &mut Expr) {
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(expr, |e| {
        if let Expr::InSubquery {
            expr: needle,
            subquery,
            negated,
        } = e
            && let SetExpr::Select(select) = subquery.body.as_mut()
            && let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
                select.projection.as_mut_slice()
        {
            *item = super::call("array_agg", vec![item.clone()]);
            let has = super::call(
                "array_has",
                vec![Expr::Subquery(subquery.clone()), needle.as_ref().clone()],
            );
            *e = if *negated {
                Expr::UnaryOp {
                    op: datafusion::sql::sqlparser::ast::UnaryOperator::Not,
                    expr: Box::new(has),
                }
            } else {
                has
            };
        }
        ControlFlow::<()>::Continue(())
    });
}

/// PostgreSQL's FigureColname: the column, function or type an expression is named after,
/// else `?column?`.
pub(super) fn column_name(expr: &Expr) -> String {
    figure(expr).unwrap_or_else(|| "?column?".to_string())
}

fn figure(expr: &Expr) -> Option<String> {
    Some(match expr {
        Expr::Identifier(i) => i.value.clone(),
        Expr::CompoundIdentifier(parts) => parts.last()?.value.clone(),
        Expr::Function(f) => match f.name.0.last()? {
            ObjectNamePart::Identifier(i) => i.value.to_ascii_lowercase(),
            _ => return None,
        },
        Expr::Cast {
            expr, data_type, ..
        } => return figure(expr).or_else(|| Some(type_name(data_type))),
        Expr::Nested(inner) => return figure(inner),
        Expr::Case { .. } => "case".into(),
        Expr::Exists { .. } => "exists".into(),
        Expr::Array(_) => "array".into(),
        Expr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.as_slice() {
                [SelectItem::ExprWithAlias { alias, .. }] => alias.value.clone(),
                [SelectItem::UnnamedExpr(e)] => return figure(e),
                _ => return None,
            },
            _ => return None,
        },
        Expr::Extract { .. } => "extract".into(),
        Expr::Substring { .. } => "substring".into(),
        Expr::Position { .. } => "position".into(),
        Expr::Trim { .. } => "btrim".into(),
        Expr::Ceil { .. } => "ceil".into(),
        Expr::Floor { .. } => "floor".into(),
        Expr::Overlay { .. } => "overlay".into(),
        Expr::TypedString(t) => type_name(&t.data_type),
        _ => return None,
    })
}

/// PostgreSQL's internal name of a type, as it names a cast column (`1::integer` is `int4`).
fn type_name(data_type: &DataType) -> String {
    let spelled = data_type.to_string().to_ascii_lowercase();
    let base = spelled.split('(').next().unwrap_or(&spelled).trim();
    match base {
        "int" | "integer" => "int4",
        "bigint" => "int8",
        "smallint" => "int2",
        "boolean" => "bool",
        "double precision" | "double" => "float8",
        "real" | "float" => "float4",
        "character varying" => "varchar",
        "decimal" => "numeric",
        "timestamp" => "timestamp",
        other => other.rsplit('.').next().unwrap_or(other),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    fn named(sql: &str) -> String {
        crate::pgcompat::rewrite::rewritten_by(sql, super::name_columns)
    }

    #[test]
    fn unnamed_columns_get_postgres_names() {
        assert_eq!(
            named("SELECT count(*), 1, x::int, t.y, 'a'::text, CASE WHEN b THEN 1 END FROM t"),
            "SELECT count(*) AS \"count\", 1 AS \"?column?\", x::INT AS \"x\", t.y, 'a'::TEXT AS \"text\", \
             CASE WHEN b THEN 1 END AS \"case\" FROM t"
        );
        // Duplicates get suffixes; aliases are kept; subqueries are named too.
        assert_eq!(
            named("SELECT max(a), max(b), NULL, NULL, min(c) AS m FROM (SELECT sum(x) FROM t) s"),
            "SELECT max(a) AS \"max\", max(b) AS \"max_2\", NULL AS \"?column?\", NULL AS \"?column?_2\", \
             min(c) AS m FROM (SELECT sum(x) AS \"sum\" FROM t) s"
        );
    }
}
