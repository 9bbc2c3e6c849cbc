//! Catalogs of objects tarn does not have (indexes, constraints, policies, publications,
//! extensions, rules, …): PostgreSQL's columns, no rows. Clients join them freely, so their
//! columns must exist; `pg_rewrite` answers subqueries over them without planning.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};

use super::{B, I16, I32, O, Rows, T, acl};

/// An `oidvector` / `oid[]` column.
fn oids() -> DataType {
    DataType::List(Arc::new(Field::new("item", O, true)))
}

/// The catalogs `empty` serves.
pub(super) fn is_empty_catalog(name: &str) -> bool {
    matches!(
        name,
        "pg_index"
            | "pg_constraint"
            | "pg_inherits"
            | "pg_extension"
            | "pg_attrdef"
            | "pg_policy"
            | "pg_statistic_ext"
            | "pg_publication"
            | "pg_publication_rel"
            | "pg_publication_namespace"
            | "pg_trigger"
            | "pg_partitioned_table"
            | "pg_sequence"
            | "pg_opclass"
            | "pg_enum"
            | "pg_depend"
            | "pg_shdepend"
            | "pg_rewrite"
            | "pg_event_trigger"
            | "pg_foreign_data_wrapper"
            | "pg_foreign_server"
            | "pg_foreign_table"
            | "pg_matviews"
            | "pg_indexes"
            | "pg_conversion"
            | "pg_operator"
            | "pg_shdescription"
            | "pg_db_role_setting"
    )
}

/// Catalogs of objects tarn does not have: right columns, no rows.
pub(super) fn empty(table: &str) -> Rows {
    match table {
        "pg_index" => Rows::new(&[
            ("indexrelid", O),
            ("indrelid", O),
            ("indnatts", I16),
            ("indisunique", B),
            ("indisprimary", B),
            ("indisclustered", B),
            ("indisvalid", B),
            (
                "indkey",
                DataType::List(Arc::new(Field::new("item", I16, true))),
            ),
            ("indexprs", T),
            ("indpred", T),
            (
                "indoption",
                DataType::List(Arc::new(Field::new("item", I16, true))),
            ),
            ("indnkeyatts", I16),
            ("indnullsnotdistinct", B),
            ("indisexclusion", B),
            ("indimmediate", B),
            ("indcheckxmin", B),
            ("indisready", B),
            ("indislive", B),
            ("indisreplident", B),
            ("indcollation", oids()),
            ("indclass", oids()),
        ]),
        "pg_constraint" => Rows::new(&[
            ("oid", O),
            ("conname", T),
            ("connamespace", O),
            ("contype", T),
            ("condeferrable", B),
            ("condeferred", B),
            ("convalidated", B),
            ("conrelid", O),
            ("contypid", O),
            ("conindid", O),
            ("conparentid", O),
            ("confrelid", O),
            ("confupdtype", T),
            ("confdeltype", T),
            ("confmatchtype", T),
            ("conislocal", B),
            ("coninhcount", I32),
            ("connoinherit", B),
            (
                "conkey",
                DataType::List(Arc::new(Field::new("item", I16, true))),
            ),
            (
                "confkey",
                DataType::List(Arc::new(Field::new("item", I16, true))),
            ),
            ("conpfeqop", oids()),
            ("conppeqop", oids()),
            ("conffeqop", oids()),
            ("confdelsetcols", oids()),
            ("conexclop", oids()),
            ("conbin", T),
        ]),
        "pg_sequence" => Rows::new(&[
            ("seqrelid", O),
            ("seqtypid", O),
            ("seqstart", DataType::Int64),
            ("seqincrement", DataType::Int64),
            ("seqmax", DataType::Int64),
            ("seqmin", DataType::Int64),
            ("seqcache", DataType::Int64),
            ("seqcycle", B),
        ]),
        "pg_opclass" => Rows::new(&[
            ("oid", O),
            ("opcmethod", O),
            ("opcname", T),
            ("opcnamespace", O),
            ("opcdefault", B),
        ]),
        "pg_inherits" => Rows::new(&[("inhrelid", O), ("inhparent", O), ("inhseqno", I32)]),
        "pg_policy" => Rows::new(&[
            ("oid", O),
            ("polname", T),
            ("polrelid", O),
            ("polcmd", T),
            ("polpermissive", B),
            (
                "polroles",
                DataType::List(Arc::new(Field::new("item", O, true))),
            ),
            ("polqual", T),
            ("polwithcheck", T),
        ]),
        "pg_statistic_ext" => Rows::new(&[
            ("oid", O),
            ("stxrelid", O),
            ("stxname", T),
            ("stxnamespace", O),
            ("stxowner", O),
            ("stxstattarget", I32),
            ("stxkeys", T),
            ("stxkind", acl()),
        ]),
        "pg_publication" => Rows::new(&[
            ("oid", O),
            ("pubname", T),
            ("pubowner", O),
            ("puballtables", B),
            ("pubinsert", B),
            ("pubupdate", B),
            ("pubdelete", B),
            ("pubtruncate", B),
            ("pubviaroot", B),
        ]),
        "pg_publication_rel" => Rows::new(&[
            ("oid", O),
            ("prpubid", O),
            ("prrelid", O),
            ("prqual", T),
            ("prattrs", T),
        ]),
        "pg_publication_namespace" => Rows::new(&[("oid", O), ("pnpubid", O), ("pnnspid", O)]),
        "pg_trigger" => Rows::new(&[
            ("oid", O),
            ("tgrelid", O),
            ("tgparentid", O),
            ("tgname", T),
            ("tgfoid", O),
            ("tgtype", I16),
            ("tgenabled", T),
            ("tgisinternal", B),
            ("tgconstraint", O),
        ]),
        "pg_partitioned_table" => Rows::new(&[
            ("partrelid", O),
            ("partstrat", T),
            ("partnatts", I16),
            ("partdefid", O),
        ]),
        "pg_attrdef" => Rows::new(&[("oid", O), ("adrelid", O), ("adnum", I16), ("adbin", T)]),
        "pg_auth_members" => Rows::new(&[
            ("roleid", O),
            ("member", O),
            ("grantor", O),
            ("admin_option", B),
        ]),
        "pg_enum" => Rows::new(&[
            ("oid", O),
            ("enumtypid", O),
            ("enumsortorder", DataType::Float32),
            ("enumlabel", T),
        ]),
        "pg_depend" | "pg_shdepend" => Rows::new(&[
            ("classid", O),
            ("objid", O),
            ("objsubid", I32),
            ("refclassid", O),
            ("refobjid", O),
            ("refobjsubid", I32),
            ("deptype", T),
        ]),
        "pg_rewrite" => Rows::new(&[
            ("oid", O),
            ("rulename", T),
            ("ev_class", O),
            ("ev_type", T),
            ("ev_enabled", T),
            ("is_instead", B),
            ("ev_qual", T),
            ("ev_action", T),
        ]),
        "pg_event_trigger" => Rows::new(&[
            ("oid", O),
            ("evtname", T),
            ("evtevent", T),
            ("evtowner", O),
            ("evtfoid", O),
            ("evtenabled", T),
            ("evttags", acl()),
        ]),
        "pg_foreign_data_wrapper" | "pg_foreign_server" => Rows::new(&[
            ("oid", O),
            ("srvname", T),
            ("fdwname", T),
            ("srvowner", O),
            ("srvfdw", O),
            ("srvtype", T),
            ("srvversion", T),
            ("srvacl", acl()),
            ("srvoptions", acl()),
        ]),
        "pg_foreign_table" => Rows::new(&[("ftrelid", O), ("ftserver", O), ("ftoptions", acl())]),
        "pg_matviews" => Rows::new(&[
            ("schemaname", T),
            ("matviewname", T),
            ("matviewowner", T),
            ("tablespace", T),
            ("hasindexes", B),
            ("ispopulated", B),
            ("definition", T),
        ]),
        "pg_indexes" => Rows::new(&[
            ("schemaname", T),
            ("tablename", T),
            ("indexname", T),
            ("tablespace", T),
            ("indexdef", T),
        ]),
        "pg_conversion" => Rows::new(&[
            ("oid", O),
            ("conname", T),
            ("connamespace", O),
            ("conowner", O),
            ("conforencoding", I32),
            ("contoencoding", I32),
            ("conproc", O),
            ("condefault", B),
        ]),
        "pg_operator" => Rows::new(&[
            ("oid", O),
            ("oprname", T),
            ("oprnamespace", O),
            ("oprowner", O),
            ("oprkind", T),
            ("oprleft", O),
            ("oprright", O),
            ("oprresult", O),
            ("oprcode", O),
        ]),
        "pg_shdescription" => Rows::new(&[("objoid", O), ("classoid", O), ("description", T)]),
        "pg_db_role_setting" => {
            Rows::new(&[("setdatabase", O), ("setrole", O), ("setconfig", acl())])
        }
        _ => Rows::new(&[
            ("oid", O),
            ("extname", T),
            ("extowner", O),
            ("extnamespace", O),
            ("extrelocatable", B),
            ("extversion", T),
            ("extconfig", oids()),
            ("extcondition", acl()),
        ]),
    }
}
