//! pg_catalog's own tables as relations of the `pg_catalog` schema, the way PostgreSQL lists
//! its catalogs in pg_class and pg_attribute: `\dS`, `\d pg_class`, DBeaver's and pgAdmin's
//! system-object trees and pgjdbc's `SYSTEM TABLE`s read them there.

use crate::introspect::{Relation, RelationKind};

use super::{Inputs, PG_CATALOG, TABLES, build};

/// The catalogs PostgreSQL defines as views.
const VIEWS: [&str; 9] = [
    "pg_stats",
    "pg_roles",
    "pg_user",
    "pg_tables",
    "pg_views",
    "pg_stat_user_tables",
    "pg_indexes",
    "pg_matviews",
    "pg_stat_activity",
];

/// One relation per pg_catalog table (tarn's internal `tarn_is_*` backing tables excluded),
/// with the columns it is built with.
pub(super) fn catalog_relations() -> Vec<Relation> {
    let empty = Inputs::default();
    TABLES
        .iter()
        .filter(|name| !name.starts_with("tarn_"))
        .map(|name| {
            let columns = build(name, &empty).schema();
            Relation {
                schema: PG_CATALOG.to_string(),
                name: (*name).to_string(),
                kind: if VIEWS.contains(name) {
                    RelationKind::View
                } else {
                    RelationKind::Table
                },
                column_comments: vec![None; columns.fields().len()],
                columns,
                partition_columns: vec![],
                comment: None,
                owner: None,
                view_text: None,
                row_count: None,
                total_size: None,
                storage: None,
                acl: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_catalog_is_a_relation_of_pg_catalog() {
        let relations = super::catalog_relations();
        let class = relations.iter().find(|r| r.name == "pg_class").unwrap();
        assert!(class.columns.field_with_name("relname").is_ok());
        assert_eq!(
            super::super::relation_oid(&class.schema, &class.name),
            1259,
            "pg_class keeps PostgreSQL's OID"
        );
        assert!(relations.iter().all(|r| !r.name.starts_with("tarn_")));
    }
}
