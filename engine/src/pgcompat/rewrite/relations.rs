//! Relations in FROM that DataFusion resolves differently from PostgreSQL:
//! `pg_catalog.unnest(…)` and other schema-qualified table functions (DataFusion looks the
//! schema up as a function), `pg_settings`, which reads the session's settings and so is
//! served by the session's `tarn_settings()` table function rather than the shared catalog, and
//! the information_schema views tarn serves in PostgreSQL's shape (`columns` with SQL type
//! names, the constraint views) rather than DataFusion's.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, ObjectName, ObjectNamePart, TableAlias, TableFactor, TableFunctionArgs, VisitMut,
    VisitorMut,
};

/// Rewrites the relations of `statement` (see the module documentation).
pub(super) fn plain_relations(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    struct Relations;
    impl VisitorMut for Relations {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                ..
            } = factor
                && array_exprs.len() == 1
            {
                name_function_column("unnest", alias);
            }
            if let TableFactor::Table {
                name, args, alias, ..
            } = factor
            {
                let parts = lower_parts(name);
                let table_function = args.is_some();
                if table_function && parts.first().is_some_and(|p| p == "pg_catalog") {
                    name.0.remove(0);
                }
                let parts = lower_parts(name);
                match parts.as_slice() {
                    [function] if table_function => {
                        if let Some(derived) = scalar_function_relation(function, factor) {
                            *factor = derived;
                            return ControlFlow::Continue(());
                        }
                        if let TableFactor::Table { alias, .. } = factor {
                            name_function_column(function, alias);
                        }
                    }
                    [schema, view] if schema == "information_schema" && !table_function => {
                        if let Some(table) =
                            crate::pgcompat::catalog::information_schema_table(view)
                        {
                            let view = view.clone();
                            *name = ObjectName(vec![
                                ObjectNamePart::Identifier(Ident::new("pg_catalog")),
                                ObjectNamePart::Identifier(Ident::new(table)),
                            ]);
                            if alias.is_none() {
                                *alias = Some(TableAlias {
                                    explicit: true,
                                    at: None,
                                    name: Ident::new(view),
                                    columns: vec![],
                                });
                            }
                        }
                    }
                    [table] | [_, table] if table == "pg_settings" && !table_function => {
                        let parts_len = name.0.len();
                        if parts_len == 1 || parts[0] == "pg_catalog" {
                            *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(
                                "tarn_settings",
                            ))]);
                            *args = Some(TableFunctionArgs {
                                args: vec![],
                                settings: None,
                            });
                            if alias.is_none() {
                                *alias = Some(TableAlias {
                                    explicit: true,
                                    at: None,
                                    name: Ident::new("pg_settings"),
                                    columns: vec![],
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = statement.visit(&mut Relations);
}

/// Set-returning functions whose single column PostgreSQL names after the relation alias
/// (`generate_series(1, 3) AS i` has column `i`; `unnest(a)` has column `unnest`). Without an
/// alias generate_series keeps DataFusion's `value` (tarn queries use it), and `range` is
/// DataFusion's own.
const SINGLE_COLUMN_FUNCTIONS: [&str; 2] = ["generate_series", "unnest"];

/// Scalar functions PostgreSQL lets FROM use as a one-row relation (Grafana:
/// `string_to_array(current_setting('search_path'), ',') s`).
const SCALAR_RELATIONS: [&str; 3] = ["string_to_array", "current_schemas", "parse_ident"];

fn name_function_column(function: &str, alias: &mut Option<TableAlias>) {
    if !SINGLE_COLUMN_FUNCTIONS.contains(&function) {
        return;
    }
    let name = match alias {
        Some(a) if !a.columns.is_empty() => return,
        Some(a) => a.name.clone(),
        None if function == "unnest" => Ident::new(function),
        None => return,
    };
    *alias = Some(TableAlias {
        explicit: true,
        at: None,
        name: name.clone(),
        columns: vec![datafusion::sql::sqlparser::ast::TableAliasColumnDef::from_name(name.value)],
    });
}

/// `f(args) AS s` for a scalar `f` as the derived table `(SELECT f(args) AS s) AS s`.
fn scalar_function_relation(function: &str, factor: &TableFactor) -> Option<TableFactor> {
    if !SCALAR_RELATIONS.contains(&function) {
        return None;
    }
    let TableFactor::Table {
        name,
        args: Some(args),
        alias,
        ..
    } = factor
    else {
        return None;
    };
    let column = alias
        .as_ref()
        .map_or_else(|| function.to_string(), |a| a.name.value.clone());
    let arguments: Vec<String> = args.args.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT {name}({}) AS \"{}\"",
        arguments.join(", "),
        column.replace('"', "\"\"")
    );
    let datafusion::sql::parser::Statement::Statement(statement) =
        datafusion::sql::parser::DFParser::parse_sql(&sql)
            .ok()?
            .pop_front()?
    else {
        return None;
    };
    let datafusion::sql::sqlparser::ast::Statement::Query(query) = *statement else {
        return None;
    };
    Some(TableFactor::Derived {
        lateral: false,
        subquery: query,
        alias: Some(TableAlias {
            explicit: true,
            at: None,
            name: Ident::new(column),
            columns: vec![],
        }),
        sample: None,
    })
}

fn lower_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    fn rewritten(sql: &str) -> String {
        crate::pgcompat::rewrite::rewritten_by(sql, super::plain_relations)
    }

    #[test]
    fn qualified_table_functions_and_pg_settings() {
        assert_eq!(
            rewritten("SELECT x FROM pg_catalog.unnest(a) x, pg_catalog.pg_settings s"),
            "SELECT x FROM unnest(a) AS x (x), tarn_settings() s"
        );
        assert_eq!(
            rewritten("SELECT name FROM pg_settings WHERE pg_settings.name = 'a'"),
            "SELECT name FROM tarn_settings() AS pg_settings WHERE pg_settings.name = 'a'"
        );
    }
}
