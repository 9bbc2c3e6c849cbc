//! Set-returning functions of the session: `tarn_settings()` (what `pg_settings` reads, see
//! `pg_rewrite`: the session's own values, as `SHOW ALL` gives them) and `pg_get_keywords()`
//! (DBeaver and other editors fetch it for highlighting).

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::catalog::{MemTable, TableFunctionImpl, TableProvider};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;

use crate::settings::Settings;

/// PostgreSQL's reserved keywords (`catcode` R); every other keyword is unreserved here.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

fn table(columns: Vec<(&str, ArrayRef)>) -> datafusion::common::Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn strings<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<StringArray>())
}

#[derive(Debug)]
struct SettingsTable(Arc<Mutex<Settings>>);

impl TableFunctionImpl for SettingsTable {
    fn call(&self, _args: &[Expr]) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let all = self
            .0
            .lock()
            .map_err(|_| {
                datafusion::common::DataFusionError::Execution("settings lock poisoned".into())
            })?
            .all();
        type Setting = (&'static str, String, &'static str);
        let column = |f: &dyn Fn(&Setting) -> Option<String>| {
            let values: Vec<Option<String>> = all.iter().map(f).collect();
            strings(values.iter().map(|v| v.as_deref()))
        };
        let fixed = |v: Option<&str>| strings(all.iter().map(|_| v));
        table(vec![
            ("name", column(&|(n, _, _)| Some(n.to_string()))),
            ("setting", column(&|(_, v, _)| Some(v.clone()))),
            ("unit", fixed(None)),
            ("category", fixed(Some("Client Connection Defaults"))),
            ("short_desc", column(&|(_, _, d)| Some(d.to_string()))),
            ("extra_desc", fixed(None)),
            ("context", fixed(Some("user"))),
            ("vartype", fixed(Some("string"))),
            ("source", fixed(Some("session"))),
            ("min_val", fixed(None)),
            ("max_val", fixed(None)),
            ("enumvals", fixed(None)),
            ("boot_val", fixed(None)),
            ("reset_val", column(&|(_, v, _)| Some(v.clone()))),
            ("sourcefile", fixed(None)),
            (
                "pending_restart",
                Arc::new(BooleanArray::from(vec![false; all.len()])),
            ),
        ])
    }
}

#[derive(Debug)]
struct Keywords;

impl TableFunctionImpl for Keywords {
    fn call(&self, _args: &[Expr]) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let words: Vec<String> = datafusion::sql::sqlparser::keywords::ALL_KEYWORDS
            .iter()
            .map(|w| w.to_ascii_lowercase())
            .collect();
        let reserved = |w: &String| RESERVED.contains(&w.as_str());
        let code = |w: &String| Some(if reserved(w) { "R" } else { "U" });
        let description = |w: &String| {
            Some(if reserved(w) {
                "reserved"
            } else {
                "unreserved"
            })
        };
        table(vec![
            ("word", strings(words.iter().map(|w| Some(w.as_str())))),
            ("catcode", strings(words.iter().map(code))),
            (
                "barelabel",
                Arc::new(BooleanArray::from(
                    words.iter().map(|w| !reserved(w)).collect::<Vec<_>>(),
                )),
            ),
            ("catdesc", strings(words.iter().map(description))),
            (
                "baredesc",
                strings(words.iter().map(|w| {
                    Some(if reserved(w) {
                        "requires AS"
                    } else {
                        "can be bare label"
                    })
                })),
            ),
        ])
    }
}

/// Registers the session's set-returning functions.
pub(super) fn register(ctx: &SessionContext, settings: Arc<Mutex<Settings>>) {
    ctx.register_udtf("tarn_settings", Arc::new(SettingsTable(settings)));
    ctx.register_udtf("pg_get_keywords", Arc::new(Keywords));
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    #[allow(deprecated)]
    fn keywords_mark_reserved_words() {
        let provider = Keywords.call(&[]).unwrap();
        let schema = provider.schema();
        assert_eq!(schema.field(0).name(), "word");
        assert_eq!(schema.field(1).data_type(), &DataType::Utf8);
        assert!(RESERVED.contains(&"select"));
    }
}
