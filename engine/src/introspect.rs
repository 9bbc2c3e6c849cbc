//! The catalog as front ends list it: schemas and relations with their Arrow schemas, under the
//! Postgres-style schema names clients see (Hive's `default` is `public`). Flight SQL's metadata
//! RPCs are served from here; every call reads the live metastore.

use datafusion::arrow::datatypes::SchemaRef;
use tarn_catalog::{LikePattern, LikeSyntax, Metastore, TableType};

use tarn_catalog::Privilege;

use crate::authz::{self, Access, TableGrants};
use crate::error::Result;
use crate::provider::{PUBLIC_SCHEMA, SYSTEM_SCHEMA, database_for_schema};
use crate::session::Session;

/// What kind of relation a table is, as SQL metadata APIs name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    Table,
    View,
    SystemTable,
}

impl RelationKind {
    pub const ALL: [RelationKind; 3] = [
        RelationKind::Table,
        RelationKind::View,
        RelationKind::SystemTable,
    ];

    /// The JDBC/ODBC/Flight SQL table type name.
    pub fn sql_name(self) -> &'static str {
        match self {
            RelationKind::Table => "TABLE",
            RelationKind::View => "VIEW",
            RelationKind::SystemTable => "SYSTEM TABLE",
        }
    }
}

/// One table or view.
#[derive(Debug, Clone)]
pub struct Relation {
    pub schema: String,
    pub name: String,
    pub kind: RelationKind,
    /// Data columns followed by partition columns.
    pub columns: SchemaRef,
    /// Partition column names (Hive partition keys).
    pub partition_columns: Vec<String>,
    pub comment: Option<String>,
    /// Each column's comment, in column order (data columns, then partition keys).
    pub column_comments: Vec<Option<String>>,
    pub owner: Option<String>,
    /// A view's defining query.
    pub view_text: Option<String>,
    /// Hive's numRows statistic, when recorded.
    pub row_count: Option<i64>,
    /// Hive's totalSize statistic (bytes of data files), when recorded.
    pub total_size: Option<i64>,
    /// How the table is stored: `managed` or `external` (None for views and system tables),
    /// shown as the table's access method in pg_class.
    pub storage: Option<&'static str>,
    /// The table's privileges in aclitem text form; `None` while only the owner has any.
    pub acl: Option<Vec<String>>,
}

/// A partition column's comment says it is one (clients see partition keys as columns).
fn partition_key_comment(column: &tarn_catalog::Column) -> Option<String> {
    Some(match &column.comment {
        Some(comment) => format!("partition key: {comment}"),
        None => "partition key".to_string(),
    })
}

/// The schema name a tarn database is shown as.
pub fn schema_for_database(database: &str) -> String {
    if database == tarn_catalog::DEFAULT_DATABASE {
        PUBLIC_SCHEMA.to_string()
    } else {
        database.to_string()
    }
}

/// SQL `LIKE` with `%`, `_` and backslash escapes (case-sensitive); `None` matches everything.
/// Uses the catalog's one bounded, iterative matcher: patterns come from clients.
pub fn like_matches(pattern: Option<&str>, text: &str) -> bool {
    like_matcher(pattern)(text)
}

/// [`like_matches`] compiled once, for matching many names.
fn like_matcher(pattern: Option<&str>) -> impl Fn(&str) -> bool + use<> {
    let pattern = pattern.map(|p| LikePattern::new(p, LikeSyntax::Sql, false));
    move |text| pattern.as_ref().is_none_or(|p| p.matches(text))
}

/// Every schema `access` may see (all for `None`): one per tarn database it owns or has USAGE
/// or CREATE on, plus the system schema, sorted.
pub(crate) async fn schemas(
    metastore: &dyn Metastore,
    access: Option<&Access>,
) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for db in metastore.list_databases(None).await? {
        if let Some(access) = access.filter(|a| !a.superuser) {
            let usage = authz::require_schema(metastore, access, &db, Privilege::Usage).await;
            let create = authz::require_schema(metastore, access, &db, Privilege::Create).await;
            if usage.is_err() && create.is_err() {
                continue;
            }
        }
        names.push(schema_for_database(&db.name));
    }
    names.push(SYSTEM_SCHEMA.to_string());
    names.sort();
    Ok(names)
}

/// Relations of the schemas matching `schema_pattern` whose names match `table_pattern` (both
/// SQL LIKE), ordered by schema and name.
pub(crate) async fn relations(
    metastore: &dyn Metastore,
    access: Option<&Access>,
    schema_pattern: Option<&str>,
    table_pattern: Option<&str>,
) -> Result<Vec<Relation>> {
    let mut out = Vec::new();
    let (schema_matches, table_matches) =
        (like_matcher(schema_pattern), like_matcher(table_pattern));
    for schema in schemas(metastore, access).await? {
        if !schema_matches(&schema) {
            continue;
        }
        if schema == SYSTEM_SCHEMA {
            if table_matches("batches") {
                out.push(Relation {
                    schema: SYSTEM_SCHEMA.to_string(),
                    name: "batches".into(),
                    kind: RelationKind::SystemTable,
                    columns: crate::provider::system::batches_schema(),
                    partition_columns: vec![],
                    comment: None,
                    column_comments: vec![],
                    owner: None,
                    view_text: None,
                    row_count: None,
                    total_size: None,
                    storage: None,
                    acl: None,
                });
            }
            continue;
        }
        let database = database_for_schema(&schema);
        let grants = metastore
            .list_grants(tarn_catalog::GrantScope::Database(database.clone()))
            .await?;
        let visible = match access.filter(|a| !a.superuser) {
            Some(_) => Some(TableGrants::load_database(metastore, &database).await?),
            None => None,
        };
        for table in metastore.list_tables(&database, None).await? {
            if !table_matches(&table.name) {
                continue;
            }
            if let (Some(grants), Some(access)) = (&visible, access)
                && !grants.any(access, &table)
            {
                continue;
            }
            out.push(Relation {
                kind: match table.table_type {
                    TableType::View => RelationKind::View,
                    TableType::External | TableType::Managed => RelationKind::Table,
                },
                columns: table.arrow_schema()?,
                partition_columns: table
                    .partition_keys
                    .iter()
                    .map(|c| c.name.clone())
                    .collect(),
                comment: table.comment().map(str::to_string),
                column_comments: table
                    .columns
                    .iter()
                    .map(|c| c.comment.clone())
                    .chain(table.partition_keys.iter().map(partition_key_comment))
                    .collect(),
                owner: table.owner.clone(),
                row_count: table.parameters.get("numRows").and_then(|n| n.parse().ok()),
                total_size: table
                    .parameters
                    .get(tarn_catalog::stats_keys::TOTAL_SIZE)
                    .and_then(|n| n.parse().ok()),
                storage: match table.table_type {
                    TableType::Managed => Some("managed"),
                    TableType::External => Some("external"),
                    TableType::View => None,
                },
                view_text: table.view_text.clone(),
                acl: table_acl(&table, &grants),
                schema: schema.clone(),
                name: table.name,
            });
        }
    }
    out.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    Ok(out)
}

/// A table's relacl from the grants of its database.
fn table_acl(table: &tarn_catalog::Table, grants: &[tarn_catalog::Grant]) -> Option<Vec<String>> {
    let on_table: Vec<&tarn_catalog::Grant> = grants
        .iter()
        .filter(|g| {
            matches!(&g.object, tarn_catalog::Securable::Table { table: t, .. } if *t == table.name)
        })
        .collect();
    tarn_catalog::acl::object_acl(
        table.owner.as_deref(),
        tarn_catalog::ObjectKind::Table,
        &on_table,
    )
}

impl Session {
    /// Every schema: one per tarn database, plus the system schema, sorted.
    pub async fn list_schemas(&self) -> Result<Vec<String>> {
        let access = self.access().await?;
        schemas(self.engine.metastore().as_ref(), Some(&access)).await
    }

    /// Relations of the schemas matching `schema_pattern` whose names match `table_pattern`
    /// (both SQL LIKE), ordered by schema and name.
    pub async fn list_relations(
        &self,
        schema_pattern: Option<&str>,
        table_pattern: Option<&str>,
    ) -> Result<Vec<Relation>> {
        let access = self.access().await?;
        relations(
            self.engine.metastore().as_ref(),
            Some(&access),
            schema_pattern,
            table_pattern,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let cases = [
            (Some("%"), "anything", true),
            (None, "x", true),
            (Some("lin%"), "lineitem", true),
            (Some("lin%"), "orders", false),
            (Some("_rders"), "orders", true),
            (Some("a\\_b"), "a_b", true),
            (Some("a\\_b"), "axb", false),
            (Some("exact"), "exact", true),
            (Some("exact"), "exactly", false),
            (Some(""), "", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(like_matches(pattern, text), expected, "{pattern:?} {text}");
        }
    }

    /// A client-sent filter pattern must neither exhaust the stack nor take exponential time.
    #[test]
    fn hostile_patterns_are_bounded() {
        let pattern = "%a".repeat(300) + "%b";
        assert!(!like_matches(Some(&pattern), &"a".repeat(5_000)));
        let deep = "_".repeat(100_000);
        assert!(!like_matches(Some(&deep), "short"));
    }
}
