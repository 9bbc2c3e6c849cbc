//! The `pg_catalog` schema, built from the live metastore each time a query names one of its
//! tables (DataFusion resolves every table once per query): pg_namespace (tarn databases),
//! pg_class and pg_attribute (tables, views and their columns, partition keys included),
//! pg_type, pg_database, pg_roles / pg_user, pg_tables, pg_views, pg_am, pg_description, and
//! empty pg_index / pg_constraint / pg_inherits / pg_extension (tarn has none of those).
//!
//! OIDs are stable: system objects use PostgreSQL's, tarn objects a hash of their name.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::common::ScalarValue;

use crate::engine::EngineInner;
use crate::error::EngineError;
use crate::introspect::Relation;

mod activity;
mod empty;
mod fixed;
mod live;
use live::{attributes, classes, descriptions, namespaces, roles, table_stats, tables, views};
mod info_schema;
pub use info_schema::backing_table as information_schema_table;
mod procs;
mod stats;
mod system;
use empty::empty;
use fixed::{collations, databases, ranges, types};
use procs::{access_methods, languages, procs, tablespaces};
pub use procs::{proc_name, proc_oid_by_name};

/// The schema name.
pub const PG_CATALOG: &str = "pg_catalog";
const PG_CATALOG_OID: u32 = 11;
const PUBLIC_OID: u32 = 2200;
const DATABASE_OID: u32 = 16384;
const BOOTSTRAP_ROLE_OID: u32 = 10;
const PG_CLASS_OID: u32 = 1259;

const TABLES: &[&str] = &[
    "pg_namespace",
    "pg_class",
    "pg_attribute",
    "pg_type",
    "pg_database",
    "pg_roles",
    "pg_user",
    "pg_tables",
    "pg_views",
    "pg_am",
    "pg_language",
    "pg_description",
    "pg_index",
    "pg_constraint",
    "pg_inherits",
    "pg_extension",
    "pg_auth_members",
    "pg_attrdef",
    "pg_collation",
    "pg_policy",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_rel",
    "pg_publication_namespace",
    "pg_trigger",
    "pg_partitioned_table",
    "pg_stat_user_tables",
    "pg_sequence",
    "pg_opclass",
    "pg_proc",
    "pg_tablespace",
    "pg_range",
    "pg_enum",
    "pg_depend",
    "pg_shdepend",
    "pg_rewrite",
    "pg_event_trigger",
    "pg_foreign_data_wrapper",
    "pg_foreign_server",
    "pg_foreign_table",
    "pg_matviews",
    "pg_indexes",
    "pg_conversion",
    "pg_operator",
    "pg_shdescription",
    "pg_db_role_setting",
    "pg_stat_activity",
    "pg_stats",
    "tarn_is_columns",
    "tarn_is_table_constraints",
    "tarn_is_key_column_usage",
    "tarn_is_referential_constraints",
    "tarn_is_constraint_column_usage",
];

/// The OID of one of pg_catalog's tables (PostgreSQL's own for the common ones: clients join
/// `classoid = 'pg_catalog.pg_class'::regclass`).
pub fn catalog_table_oid(name: &str) -> Option<u32> {
    let known = [
        ("pg_class", PG_CLASS_OID),
        ("pg_type", 1247),
        ("pg_attribute", 1249),
        ("pg_proc", 1255),
        ("pg_database", 1262),
        ("pg_namespace", 2615),
        ("pg_description", 2609),
        ("pg_constraint", 2606),
        ("pg_index", 2610),
        ("pg_authid", 1260),
    ];
    known
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, oid)| *oid)
        .or_else(|| {
            is_catalog_table(name).then(|| object_oid("relation", &format!("pg_catalog.{name}")))
        })
}

/// The name of the pg_catalog table with `oid` (`'pg_class'::regclass::text`).
pub fn catalog_table_name(oid: u32) -> Option<String> {
    TABLES
        .iter()
        .chain(["pg_authid"].iter())
        .find(|n| catalog_table_oid(n) == Some(oid))
        .map(|n| (*n).to_string())
}

/// Catalogs of objects tarn does not have: always empty, so a subquery over only these yields
/// no rows (see `pg_rewrite`).
pub fn always_empty(name: &str) -> bool {
    is_catalog_table(name)
        && (empty::is_empty_catalog(name)
            || (name.starts_with("tarn_is_") && name != "tarn_is_columns"))
}

/// Whether `name` is one of pg_catalog's tables.
pub fn is_catalog_table(name: &str) -> bool {
    TABLES.contains(&name)
}

/// The OID of a built-in type by its name (`int4`, `integer`, `text[]`, `_text`), for
/// `to_regtype`.
pub fn type_oid_by_name(name: &str) -> Option<u32> {
    fixed::type_oid_by_name(name)
}

/// A stable OID for a tarn object (FNV-1a of its kind and name, above PostgreSQL's range).
pub fn object_oid(kind: &str, name: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in kind.bytes().chain([b':']).chain(name.bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    20_000 + hash % 2_000_000_000
}

pub fn namespace_oid(schema: &str) -> u32 {
    match schema {
        PG_CATALOG => PG_CATALOG_OID,
        crate::provider::PUBLIC_SCHEMA => PUBLIC_OID,
        other => object_oid("namespace", other),
    }
}

pub fn relation_oid(schema: &str, name: &str) -> u32 {
    if schema == PG_CATALOG
        && let Some(oid) = catalog_table_oid(name)
    {
        return oid;
    }
    object_oid("relation", &format!("{schema}.{name}"))
}

pub fn role_oid(name: &str) -> u32 {
    object_oid("role", name)
}

/// Column builder: a table's fields and its rows as scalars.
pub(super) struct Rows {
    fields: Vec<Field>,
    rows: Vec<Vec<ScalarValue>>,
}

pub(super) fn text(s: impl Into<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(s.into()))
}

/// A text[] value (aclitem arrays); `None` is NULL.
pub(super) fn text_array(items: Option<&[String]>) -> ScalarValue {
    match items {
        None => no_text(),
        Some(items) => {
            let values: Vec<ScalarValue> = items.iter().map(|i| text(i.as_str())).collect();
            ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Utf8))
        }
    }
}

pub(super) fn no_text() -> ScalarValue {
    ScalarValue::Utf8(None)
}

pub(super) fn oid_value(v: u32) -> ScalarValue {
    ScalarValue::UInt32(Some(v))
}

pub(super) fn boolean(v: bool) -> ScalarValue {
    ScalarValue::Boolean(Some(v))
}

impl Rows {
    pub(super) fn new(columns: &[(&str, DataType)]) -> Self {
        Self {
            fields: columns
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect(),
            rows: vec![],
        }
    }

    pub(super) fn push(&mut self, row: Vec<ScalarValue>) {
        self.rows.push(row);
    }

    /// The table's columns.
    pub(super) fn schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(self.fields.clone()))
    }

    fn into_table(self) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let schema = Arc::new(Schema::new(self.fields));
        let columns = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if self.rows.is_empty() {
                    return Ok(datafusion::arrow::array::new_empty_array(f.data_type()));
                }
                // NULLs are written untyped (`no_text()`); give them the column's type.
                let typed_null = ScalarValue::try_from(f.data_type())?;
                ScalarValue::iter_to_array(self.rows.iter().map(|r| match &r[i] {
                    v if v.is_null() && v.data_type() != *f.data_type() => typed_null.clone(),
                    v => v.clone(),
                }))
            })
            .collect::<datafusion::common::Result<Vec<ArrayRef>>>()?;
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

pub(super) use DataType::{
    Boolean as B, Float32 as F32, Int16 as I16, Int32 as I32, UInt32 as O, Utf8 as T,
};

/// What the live tables are built from.
#[derive(Default)]
pub(super) struct Inputs {
    pub relations: Vec<Relation>,
    pub schemas: Vec<String>,
    pub users: Vec<tarn_catalog::User>,
    /// nspacl of each schema that has grants.
    pub schema_acls: std::collections::HashMap<String, Vec<String>>,
    /// datacl of the database, when it has grants.
    pub database_acl: Option<Vec<String>>,
    pub memberships: Vec<tarn_catalog::RoleMembership>,
    pub stats: Vec<stats::ColumnSummary>,
    pub activity: Vec<crate::activity::ActivityRow>,
}

/// The tables built from the metastore's relations.
const READS_RELATIONS: [&str; 8] = [
    "pg_class",
    "pg_attribute",
    "pg_tables",
    "pg_views",
    "pg_description",
    "pg_stat_user_tables",
    "tarn_is_columns",
    "pg_stats",
];

/// One pg_catalog table's rows from its inputs (empty inputs give its columns).
pub(super) fn build(name: &str, inputs: &Inputs) -> Rows {
    let relations = &inputs.relations;
    match name {
        "pg_namespace" => namespaces(&inputs.schemas, &inputs.schema_acls),
        "pg_auth_members" => live::auth_members(&inputs.memberships),
        "pg_class" => classes(relations),
        "pg_attribute" => attributes(relations),
        "pg_type" => types(),
        "pg_database" => databases(inputs.database_acl.as_deref()),
        "pg_roles" | "pg_user" => roles(name, &inputs.users),
        "pg_tables" => tables(relations),
        "pg_views" => views(relations),
        "pg_am" => access_methods(),
        "pg_language" => languages(),
        "pg_proc" => procs(),
        "pg_tablespace" => tablespaces(),
        "pg_collation" => collations(),
        "pg_range" => ranges(),
        "pg_description" => descriptions(relations),
        "pg_stat_user_tables" => table_stats(relations),
        "tarn_is_columns" => info_schema::columns(relations),
        "pg_stats" => stats::rows(&inputs.stats),
        "pg_stat_activity" => activity::rows(&inputs.activity),
        other => match other.strip_prefix("tarn_is_") {
            Some(view) => info_schema::constraints(view),
            None => empty(other),
        },
    }
}

/// nspacl per schema and the database's datacl, from the catalog's grants.
async fn acls(
    metastore: &dyn tarn_catalog::Metastore,
) -> crate::error::Result<(
    std::collections::HashMap<String, Vec<String>>,
    Option<Vec<String>>,
)> {
    use tarn_catalog::{ObjectKind, Securable, acl::object_acl};
    let grants = metastore.list_grants(tarn_catalog::GrantScope::All).await?;
    let mut schemas = std::collections::HashMap::new();
    for db in metastore.list_databases(None).await? {
        let on: Vec<_> = grants
            .iter()
            .filter(|g| g.object == Securable::Database(db.name.clone()))
            .collect();
        if let Some(acl) = object_acl(db.owner.as_deref(), ObjectKind::Database, &on) {
            schemas.insert(crate::introspect::schema_for_database(&db.name), acl);
        }
    }
    let on_catalog: Vec<_> = grants
        .iter()
        .filter(|g| g.object == Securable::Catalog)
        .collect();
    let owner = tarn_catalog::acl::predefined::DATABASE_OWNER;
    // PostgreSQL shows a database's built-in defaults (PUBLIC may CONNECT and create
    // TEMPORARY objects) as a NULL datacl.
    let defaults = on_catalog.len() == 2
        && on_catalog.iter().all(|g| {
            g.grantee == tarn_catalog::PUBLIC
                && g.grantor == owner
                && !g.grantable
                && matches!(
                    g.privilege,
                    tarn_catalog::Privilege::Connect | tarn_catalog::Privilege::Temporary
                )
        });
    let datacl = if defaults {
        None
    } else {
        object_acl(Some(owner), ObjectKind::Catalog, &on_catalog)
    };
    Ok((schemas, datacl))
}

pub(crate) struct PgCatalogSchema {
    pub engine: Arc<EngineInner>,
    /// Whose catalog this is: relations and schemas are listed only where it has privileges.
    pub identity: Arc<crate::authz::Identity>,
}

impl std::fmt::Debug for PgCatalogSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgCatalogSchema")
    }
}

#[async_trait]
impl SchemaProvider for PgCatalogSchema {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|t| t.to_string()).collect()
    }

    async fn table(
        &self,
        name: &str,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        if !TABLES.contains(&name) {
            return Ok(None);
        }
        let metastore = self.engine.metastore.as_ref();
        let listed = |e: EngineError| e.into_datafusion();
        let access = self.identity.access(metastore).await.map_err(listed)?;
        let mut inputs = Inputs::default();
        if READS_RELATIONS.contains(&name) {
            inputs.relations = crate::introspect::relations(metastore, Some(&access), None, None)
                .await
                .map_err(listed)?;
        }
        if matches!(name, "pg_class" | "pg_attribute" | "pg_tables") {
            // PostgreSQL lists its catalogs as relations of pg_catalog (psql's \dS).
            inputs.relations.extend(system::catalog_relations());
        }
        if name == "pg_namespace" {
            inputs.schemas = crate::introspect::schemas(metastore, Some(&access))
                .await
                .map_err(listed)?;
        }
        if name == "pg_stats" {
            let collected = stats::collect(metastore, &inputs.relations)
                .await
                .map_err(listed)?;
            inputs.stats = stats::readable(metastore, &access, collected)
                .await
                .map_err(listed)?;
        }
        if name == "pg_namespace" || name == "pg_database" {
            let (schema_acls, database_acl) = acls(metastore).await.map_err(listed)?;
            inputs.schema_acls = schema_acls;
            inputs.database_acl = database_acl;
        }
        if name == "pg_auth_members" {
            inputs.memberships = metastore
                .list_role_memberships()
                .await
                .map_err(|e| listed(e.into()))?;
        }
        if name == "pg_stat_activity" {
            // As in PostgreSQL: another role's statement text (which may hold a password or
            // another table's data) only for superusers and members of that role.
            inputs.activity = self.engine.activity.rows();
            for row in &mut inputs.activity {
                if !access.holds(&row.user) {
                    row.query = "<insufficient privilege>".into();
                    row.query_start = None;
                }
            }
        }
        if matches!(name, "pg_roles" | "pg_user") {
            inputs.users = metastore.list_users().await.map_err(|e| listed(e.into()))?;
        }
        let rows = build(name, &inputs);
        rows.into_table().map(Some)
    }

    fn table_exist(&self, name: &str) -> bool {
        TABLES.contains(&name)
    }
}

/// ACL and option columns: text arrays, NULL (tarn has no grants yet).
pub(super) fn acl() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_are_stable_and_outside_the_system_range() {
        assert_eq!(
            relation_oid("public", "events"),
            relation_oid("public", "events")
        );
        assert_ne!(
            relation_oid("public", "events"),
            relation_oid("sales", "events")
        );
        assert!(relation_oid("public", "events") >= 20_000);
        assert_eq!(namespace_oid("pg_catalog"), 11);
        assert_eq!(namespace_oid("public"), 2200);
    }

    #[test]
    fn every_table_builds() {
        for t in [
            "pg_type",
            "pg_database",
            "pg_am",
            "pg_language",
            "pg_index",
            "pg_constraint",
            "pg_inherits",
            "pg_extension",
        ] {
            let rows = match t {
                "pg_type" => types(),
                "pg_database" => databases(None),
                "pg_am" => access_methods(),
                "pg_language" => languages(),
                "pg_collation" => collations(),
                other => empty(other),
            };
            assert!(rows.into_table().is_ok(), "{t}");
        }
    }
}
