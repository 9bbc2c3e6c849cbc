//! The pg_catalog tables built from the metastore's relations, schemas and users: pg_namespace,
//! pg_class, pg_attribute, pg_roles / pg_user, pg_tables, pg_views, pg_description and
//! pg_stat_user_tables.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;

use super::{
    B, BOOTSTRAP_ROLE_OID, F32, I16, I32, O, PG_CATALOG, PG_CLASS_OID, Rows, T, acl, boolean,
    namespace_oid, no_text, oid_value, procs, relation_oid, role_oid, text, text_array,
};
use crate::introspect::{Relation, RelationKind};
use crate::pgcompat::types::{self as pg_types, oid};

pub(super) fn namespaces(
    schemas: &[String],
    acls: &std::collections::HashMap<String, Vec<String>>,
) -> Rows {
    let mut rows = Rows::new(&[
        ("oid", O),
        ("nspname", T),
        ("nspowner", O),
        ("nspacl", acl()),
    ]);
    let all = [PG_CATALOG.to_string(), "information_schema".to_string()];
    for schema in all.iter().chain(schemas) {
        rows.push(vec![
            oid_value(namespace_oid(schema)),
            text(schema),
            oid_value(BOOTSTRAP_ROLE_OID),
            text_array(acls.get(schema).map(Vec::as_slice)),
        ]);
    }
    rows
}

pub(super) fn owner_oid(r: &Relation) -> u32 {
    r.owner
        .as_deref()
        .map(role_oid)
        .unwrap_or(BOOTSTRAP_ROLE_OID)
}

pub(super) fn classes(relations: &[Relation]) -> Rows {
    let mut rows = Rows::new(&[
        ("oid", O),
        ("relname", T),
        ("relnamespace", O),
        ("reltype", O),
        ("reloftype", O),
        ("relowner", O),
        ("relam", O),
        ("relfilenode", O),
        ("reltablespace", O),
        ("relpages", I32),
        ("reltuples", F32),
        ("relallvisible", I32),
        ("reltoastrelid", O),
        ("relhasindex", B),
        ("relisshared", B),
        ("relpersistence", T),
        ("relkind", T),
        ("relnatts", I16),
        ("relchecks", I16),
        ("relhasrules", B),
        ("relhastriggers", B),
        ("relhassubclass", B),
        ("relrowsecurity", B),
        ("relforcerowsecurity", B),
        ("relispopulated", B),
        ("relreplident", T),
        ("relispartition", B),
        ("relrewrite", O),
        ("relacl", acl()),
        ("reloptions", acl()),
        ("relpartbound", T),
    ]);
    for r in relations {
        let view = r.kind == RelationKind::View;
        rows.push(vec![
            oid_value(relation_oid(&r.schema, &r.name)),
            text(&r.name),
            oid_value(namespace_oid(&r.schema)),
            oid_value(0),
            oid_value(0),
            oid_value(owner_oid(r)),
            oid_value(match r.storage {
                Some("managed") => procs::MANAGED_AM,
                Some("external") => procs::EXTERNAL_AM,
                _ if view => 0,
                _ => 2,
            }),
            oid_value(0),
            oid_value(0),
            ScalarValue::Int32(Some(0)),
            ScalarValue::Float32(Some(r.row_count.map_or(-1.0, |n| n as f32))),
            ScalarValue::Int32(Some(0)),
            oid_value(0),
            boolean(false),
            boolean(false),
            text("p"),
            text(if view { "v" } else { "r" }),
            ScalarValue::Int16(Some(r.columns.fields().len() as i16)),
            ScalarValue::Int16(Some(0)),
            boolean(view),
            boolean(false),
            boolean(false),
            boolean(false),
            boolean(false),
            boolean(true),
            text("d"),
            boolean(false),
            oid_value(0),
            text_array(r.acl.as_deref()),
            no_text(),
            no_text(),
        ]);
    }
    rows
}

pub(super) fn attributes(relations: &[Relation]) -> Rows {
    let mut rows = Rows::new(&[
        ("attrelid", O),
        ("attname", T),
        ("atttypid", O),
        ("attstattarget", I16),
        ("attlen", I16),
        ("attnum", I16),
        ("attndims", I16),
        ("attcacheoff", I32),
        ("atttypmod", I32),
        ("attbyval", B),
        ("attalign", T),
        ("attstorage", T),
        ("attcompression", T),
        ("attnotnull", B),
        ("atthasdef", B),
        ("atthasmissing", B),
        ("attidentity", T),
        ("attgenerated", T),
        ("attisdropped", B),
        ("attislocal", B),
        ("attinhcount", I16),
        ("attcollation", O),
        ("attacl", acl()),
        ("attoptions", acl()),
        ("attfdwoptions", acl()),
    ]);
    for r in relations {
        let relid = relation_oid(&r.schema, &r.name);
        for (i, field) in r.columns.fields().iter().enumerate() {
            let type_oid = pg_types::pg_type(field);
            let len = pg_types::type_size(type_oid);
            rows.push(vec![
                oid_value(relid),
                text(field.name()),
                oid_value(type_oid),
                ScalarValue::Int16(Some(-1)),
                ScalarValue::Int16(Some(len)),
                ScalarValue::Int16(Some(i as i16 + 1)),
                ScalarValue::Int16(Some(i16::from(pg_types::element_of(type_oid).is_some()))),
                ScalarValue::Int32(Some(-1)),
                ScalarValue::Int32(Some(-1)),
                boolean(len > 0 && len <= 8),
                text(if len == 8 { "d" } else { "i" }),
                text(if len > 0 { "p" } else { "x" }),
                text(""),
                boolean(!field.is_nullable()),
                boolean(false),
                boolean(false),
                text(""),
                text(""),
                boolean(false),
                boolean(true),
                ScalarValue::Int16(Some(0)),
                oid_value(if type_oid == oid::TEXT { 100 } else { 0 }),
                no_text(),
                no_text(),
                no_text(),
            ]);
        }
    }
    rows
}

pub(super) fn roles(table: &str, users: &[tarn_catalog::User]) -> Rows {
    if table == "pg_user" {
        let mut rows = Rows::new(&[
            ("usename", T),
            ("usesysid", O),
            ("usecreatedb", B),
            ("usesuper", B),
            ("userepl", B),
            ("usebypassrls", B),
            ("passwd", T),
            ("valuntil", T),
            ("useconfig", acl()),
        ]);
        for u in users.iter().filter(|u| u.can_login) {
            rows.push(vec![
                text(&u.name),
                oid_value(role_oid(&u.name)),
                boolean(false),
                boolean(u.superuser),
                boolean(false),
                boolean(false),
                text("********"),
                no_text(),
                no_text(),
            ]);
        }
        return rows;
    }
    let mut rows = Rows::new(&[
        ("oid", O),
        ("rolname", T),
        ("rolsuper", B),
        ("rolinherit", B),
        ("rolcreaterole", B),
        ("rolcreatedb", B),
        ("rolcanlogin", B),
        ("rolreplication", B),
        ("rolconnlimit", I32),
        ("rolpassword", T),
        ("rolvaliduntil", T),
        ("rolbypassrls", B),
        ("rolconfig", acl()),
    ]);
    for u in users {
        rows.push(vec![
            oid_value(role_oid(&u.name)),
            text(&u.name),
            boolean(u.superuser),
            boolean(u.inherit),
            boolean(u.superuser || u.create_role),
            boolean(u.superuser),
            boolean(u.can_login),
            boolean(false),
            ScalarValue::Int32(Some(-1)),
            text("********"),
            no_text(),
            boolean(false),
            no_text(),
        ]);
    }
    rows
}

pub(super) fn tables(relations: &[Relation]) -> Rows {
    let mut rows = Rows::new(&[
        ("schemaname", T),
        ("tablename", T),
        ("tableowner", T),
        ("tablespace", T),
        ("hasindexes", B),
        ("hasrules", B),
        ("hastriggers", B),
        ("rowsecurity", B),
    ]);
    for r in relations.iter().filter(|r| r.kind != RelationKind::View) {
        rows.push(vec![
            text(&r.schema),
            text(&r.name),
            r.owner.clone().map_or_else(no_text, text),
            no_text(),
            boolean(false),
            boolean(false),
            boolean(false),
            boolean(false),
        ]);
    }
    rows
}

pub(super) fn views(relations: &[Relation]) -> Rows {
    let mut rows = Rows::new(&[
        ("schemaname", T),
        ("viewname", T),
        ("viewowner", T),
        ("definition", T),
    ]);
    for r in relations.iter().filter(|r| r.kind == RelationKind::View) {
        rows.push(vec![
            text(&r.schema),
            text(&r.name),
            r.owner.clone().map_or_else(no_text, text),
            r.view_text.clone().map_or_else(no_text, text),
        ]);
    }
    rows
}

pub(super) fn descriptions(relations: &[Relation]) -> Rows {
    let mut rows = Rows::new(&[
        ("objoid", O),
        ("classoid", O),
        ("objsubid", I32),
        ("description", T),
    ]);
    for r in relations {
        let relid = oid_value(relation_oid(&r.schema, &r.name));
        let column_comments = r.column_comments.iter().enumerate();
        let comments =
            std::iter::once((0, &r.comment)).chain(column_comments.map(|(i, c)| (i as i32 + 1, c)));
        for (subid, comment) in comments {
            if let Some(comment) = comment {
                rows.push(vec![
                    relid.clone(),
                    oid_value(PG_CLASS_OID),
                    ScalarValue::Int32(Some(subid)),
                    text(comment),
                ]);
            }
        }
    }
    rows
}

/// pg_stat_user_tables: live rows from Hive's numRows (what Metabase reads to size tables).
pub(super) fn table_stats(relations: &[Relation]) -> Rows {
    let i64_ = DataType::Int64;
    let mut rows = Rows::new(&[
        ("relid", O),
        ("schemaname", T),
        ("relname", T),
        ("seq_scan", i64_.clone()),
        ("seq_tup_read", i64_.clone()),
        ("n_live_tup", i64_.clone()),
        ("n_dead_tup", i64_.clone()),
        ("last_analyze", T),
        ("last_autoanalyze", T),
    ]);
    for r in relations.iter().filter(|r| r.kind == RelationKind::Table) {
        rows.push(vec![
            oid_value(relation_oid(&r.schema, &r.name)),
            text(&r.schema),
            text(&r.name),
            ScalarValue::Int64(Some(0)),
            ScalarValue::Int64(Some(0)),
            ScalarValue::Int64(Some(r.row_count.unwrap_or(0))),
            ScalarValue::Int64(Some(0)),
            no_text(),
            no_text(),
        ]);
    }
    rows
}

/// pg_auth_members: who is a member of which role (PostgreSQL 15's columns).
pub(super) fn auth_members(memberships: &[tarn_catalog::RoleMembership]) -> Rows {
    let mut rows = Rows::new(&[
        ("roleid", O),
        ("member", O),
        ("grantor", O),
        ("admin_option", B),
    ]);
    for m in memberships {
        rows.push(vec![
            oid_value(role_oid(&m.role)),
            oid_value(role_oid(&m.member)),
            oid_value(role_oid(&m.grantor)),
            boolean(m.admin_option),
        ]);
    }
    rows
}
