use super::parse_statements;
use crate::ast::*;
use crate::error::SqlError;

fn one(sql: &str) -> Statement {
    let mut stmts = parse_statements(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(stmts.len(), 1, "{sql}");
    stmts.remove(0)
}

fn name(db: Option<&str>, n: &str) -> ObjectName {
    ObjectName {
        database: db.map(String::from),
        name: n.into(),
    }
}

#[test]
fn splits_statements_and_passes_queries_through() {
    let stmts = parse_statements("select 1; ; SELECT 'a;b' ;\n-- trailing\n").unwrap();
    assert_eq!(
        stmts,
        vec![
            Statement::DataFusion {
                sql: "select 1".into(),
                line: 1,
                column: 1
            },
            Statement::DataFusion {
                sql: "SELECT 'a;b'".into(),
                line: 1,
                column: 13
            },
        ]
    );
}

#[test]
fn hive_create_external_table() {
    let sql = "CREATE EXTERNAL TABLE IF NOT EXISTS Web.Events (
        id BIGINT COMMENT 'event id', tags array<string>, attrs map<string,struct<a:int,b:array<int>>>,
        amount decimal(10, 2))
      COMMENT 'raw events'
      PARTITIONED BY (dt date, `Hour` int COMMENT 'h')
      ROW FORMAT DELIMITED FIELDS TERMINATED BY '|'
      STORED AS csv
      LOCATION '/data/events'
      TBLPROPERTIES ('skip.header.line.count'='1', 'owner'='x')";
    let Statement::CreateTable(t) = one(sql) else {
        panic!()
    };
    assert!(t.if_not_exists);
    assert_eq!(t.name, Some(name(Some("web"), "events")));
    let types: Vec<_> = t
        .columns
        .iter()
        .map(|c| c.data_type.clone().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "BIGINT",
            "array<string>",
            "map<string,struct<a:int,b:array<int>>>",
            "decimal(10,2)"
        ]
    );
    assert_eq!(t.columns[0].comment.as_deref(), Some("event id"));
    assert_eq!(t.partition_keys[1].name, "Hour");
    assert_eq!(t.partition_keys[1].comment.as_deref(), Some("h"));
    assert_eq!(t.stored_as.as_deref(), Some("CSV"));
    assert_eq!(t.field_delimiter.as_deref(), Some("|"));
    assert_eq!(t.location.as_deref(), Some("/data/events"));
    assert_eq!(t.properties.len(), 2);
}

#[test]
fn datafusion_create_external_table() {
    let sql = "CREATE EXTERNAL TABLE t (a INT NOT NULL, b VARCHAR) STORED AS CSV
               PARTITIONED BY (b) WITH HEADER ROW DELIMITER ';' LOCATION 'x/'
               OPTIONS ('format.has_header' 'true')";
    let Statement::CreateTable(t) = one(sql) else {
        panic!()
    };
    assert_eq!(t.columns[0].data_type.as_deref(), Some("INT"));
    assert_eq!(t.partition_keys[0].data_type, None);
    assert_eq!(t.header, Some(true));
    assert_eq!(t.field_delimiter.as_deref(), Some(";"));
    assert_eq!(
        t.properties,
        vec![("format.has_header".into(), "true".into())]
    );
    let inferred = one("create external table t stored as parquet location 'p'");
    assert!(matches!(inferred, Statement::CreateTable(t) if t.columns.is_empty()));
}

#[test]
fn database_statements() {
    let Statement::CreateDatabase(d) = one(
        "CREATE SCHEMA IF NOT EXISTS sales COMMENT 'c' LOCATION '/w/s' WITH DBPROPERTIES ('a'='b')",
    ) else {
        panic!()
    };
    assert_eq!((d.name.as_str(), d.if_not_exists), ("sales", true));
    assert_eq!(d.location.as_deref(), Some("/w/s"));
    assert_eq!(
        one("drop database if exists sales cascade"),
        Statement::DropDatabase {
            name: "sales".into(),
            if_exists: true,
            cascade: true
        }
    );
    assert_eq!(
        one("USE Sales"),
        Statement::Use {
            database: "sales".into()
        }
    );
    assert_eq!(
        one("show schemas like 'sa%'"),
        Statement::ShowDatabases {
            pattern: Some("sa%".into())
        }
    );
}

#[test]
fn alter_table_partitions() {
    let s = one(
        "ALTER TABLE t ADD IF NOT EXISTS PARTITION (dt='2024-01-01', h=3) LOCATION '/x' PARTITION (dt='2024-01-02', h=NULL)",
    );
    let Statement::AlterTable {
        action:
            AlterTableAction::AddPartitions {
                if_not_exists,
                partitions,
            },
        ..
    } = s
    else {
        panic!("{s:?}")
    };
    assert!(if_not_exists);
    assert_eq!(
        partitions[0].0,
        vec![
            ("dt".into(), Some("2024-01-01".into())),
            ("h".into(), Some("3".into()))
        ]
    );
    assert_eq!(partitions[0].1.as_deref(), Some("/x"));
    assert_eq!(partitions[1].0[1], ("h".into(), None));
    let s = one("alter table db.t drop if exists partition (dt='a'), partition (dt='b')");
    assert!(
        matches!(s, Statement::AlterTable { action: AlterTableAction::DropPartitions { ref partitions, .. }, .. } if partitions.len() == 2)
    );
    let s = one("alter table t set tblproperties ('a'='1')");
    assert_eq!(
        s,
        Statement::AlterTable {
            name: name(None, "t"),
            action: AlterTableAction::SetProperties(vec![("a".into(), "1".into())])
        }
    );
    let s = one("alter table t unset tblproperties if exists ('a', 'b')");
    assert!(matches!(
        s,
        Statement::AlterTable {
            action: AlterTableAction::UnsetProperties { .. },
            ..
        }
    ));
    let s = one("alter table t partition (dt='a') set location '/y'");
    assert!(matches!(
        s,
        Statement::AlterTable {
            action: AlterTableAction::SetLocation {
                partition: Some(_),
                ..
            },
            ..
        }
    ));
}

#[test]
fn show_describe_msck_comment() {
    assert_eq!(
        one("SHOW TABLES IN web LIKE 'ev*'"),
        Statement::ShowTables {
            database: Some("web".into()),
            pattern: Some("ev*".into())
        }
    );
    assert_eq!(
        one("show partitions t partition (dt='2024-01-01')"),
        Statement::ShowPartitions {
            name: name(None, "t"),
            partial: vec![("dt".into(), Some("2024-01-01".into()))]
        }
    );
    assert_eq!(
        one("show create table a.b"),
        Statement::ShowCreateTable {
            name: name(Some("a"), "b")
        }
    );
    assert_eq!(
        one("DESCRIBE FORMATTED t"),
        Statement::Describe {
            name: name(None, "t"),
            extended: true
        }
    );
    assert_eq!(
        one("desc t"),
        Statement::Describe {
            name: name(None, "t"),
            extended: false
        }
    );
    assert_eq!(
        one("show columns in t from db"),
        Statement::ShowColumns {
            name: name(Some("db"), "t")
        }
    );
    assert_eq!(
        one("MSCK REPAIR TABLE t SYNC PARTITIONS"),
        Statement::MsckRepair {
            name: name(None, "t"),
            mode: RepairMode::Sync
        }
    );
    assert_eq!(
        one("comment on column db.t.c is 'x'"),
        Statement::CommentOn {
            target: CommentTarget::Column {
                table: name(Some("db"), "t"),
                column: "c".into()
            },
            comment: Some("x".into())
        }
    );
    assert!(matches!(
        one("SHOW ALL"),
        Statement::ShowVariable { name: None }
    ));
    assert!(matches!(
        one("create view v as select 1"),
        Statement::DataFusion { .. }
    ));
}

#[test]
fn syntax_errors_have_positions() {
    let err = parse_statements("select 1;\nCREATE EXTERNAL TABLE t (a int) STORED AS PARQUET")
        .unwrap_err();
    assert!(matches!(err, SqlError::Syntax { .. }), "{err}");
    let err = parse_statements("ALTER TABLE t ADD PARTITION (dt=)").unwrap_err();
    let SqlError::Syntax { line, column, .. } = err else {
        panic!()
    };
    assert_eq!((line, column), (1, 33));
    assert!(parse_statements("select 'unterminated").is_err());
}

#[test]
fn inserts_with_partition_clauses_and_column_lists() {
    let Statement::Insert(i) =
        one("INSERT OVERWRITE TABLE db.t PARTITION (dt='2024-01-01', h) SELECT a, h FROM s")
    else {
        panic!()
    };
    assert!(i.overwrite);
    assert_eq!(i.table, name(Some("db"), "t"));
    assert_eq!(
        i.partition,
        vec![
            ("dt".into(), Some(Some("2024-01-01".into()))),
            ("h".into(), None)
        ]
    );
    assert_eq!(i.query.sql, "SELECT a, h FROM s");
    assert_eq!((i.query.line, i.query.column), (1, 60));
    let Statement::Insert(i) = one("insert into t (b, a) values (1, 2), (3, 4)") else {
        panic!()
    };
    assert!(!i.overwrite);
    assert_eq!(i.columns, vec!["b", "a"]);
    assert_eq!(i.query.sql, "values (1, 2), (3, 4)");
    let Statement::Insert(i) = one("insert into t (select 1)") else {
        panic!()
    };
    assert!(i.columns.is_empty());
    assert_eq!(i.query.sql, "(select 1)");
    let Statement::Insert(i) = one("insert into t partition (k=NULL) select 1") else {
        panic!()
    };
    assert_eq!(i.partition, vec![("k".into(), Some(None))]);
}

#[test]
fn managed_tables_and_ctas() {
    let Statement::CreateTable(t) = one(
        "CREATE TABLE t (a int, dt date) PARTITIONED BY (dt) STORED AS PARQUET TBLPROPERTIES ('x'='1')",
    ) else {
        panic!()
    };
    assert!(!t.external && t.query.is_none());
    assert_eq!(t.partition_keys[0].data_type, None);
    let Statement::CreateTable(t) =
        one("create table if not exists s partitioned by (y) as select 1 as a, 2024 as y")
    else {
        panic!()
    };
    assert!(t.if_not_exists);
    assert_eq!(t.query.unwrap().sql, "select 1 as a, 2024 as y");
    let Statement::CreateTable(t) = one("CREATE TABLE u USING parquet LOCATION '/x'") else {
        panic!()
    };
    assert!(t.external);
    assert!(parse_statements("create table v (a int) as select 1").is_err());
}

#[test]
fn vacuum_and_copy_from() {
    assert_eq!(
        one("VACUUM t RETAIN 0 HOURS"),
        Statement::Vacuum {
            name: name(None, "t"),
            retain_hours: Some(0)
        }
    );
    assert_eq!(
        one("vacuum db.t"),
        Statement::Vacuum {
            name: name(Some("db"), "t"),
            retain_hours: None
        }
    );
    assert_eq!(
        one("COPY t FROM '/in/x.csv' STORED AS CSV WITH HEADER ROW"),
        Statement::CopyFrom {
            name: name(None, "t"),
            location: "/in/x.csv".into(),
            stored_as: Some("CSV".into()),
            header: true,
            delimiter: None
        }
    );
    assert!(matches!(
        one("COPY (select 1) TO '/x.parquet'"),
        Statement::DataFusion { .. }
    ));
    assert!(matches!(
        one("COPY t TO '/x.parquet'"),
        Statement::DataFusion { .. }
    ));
}

#[test]
fn session_statements() {
    use crate::ast::{TransactionStatement as T, UserOption};
    let set = |name: &str, value: Option<&str>| Statement::SetVariable {
        name: name.into(),
        value: value.map(Into::into),
    };
    assert_eq!(
        one("SET search_path TO sales, public"),
        set("search_path", Some("sales, public"))
    );
    assert_eq!(
        one("set DateStyle = 'ISO, MDY'"),
        set("datestyle", Some("ISO, MDY"))
    );
    assert_eq!(
        one("SET SESSION statement_timeout = 500"),
        set("statement_timeout", Some("500"))
    );
    assert_eq!(
        one("SET TIME ZONE 'Europe/Paris'"),
        set("timezone", Some("Europe/Paris"))
    );
    assert_eq!(
        one("SET extra_float_digits TO DEFAULT"),
        set("extra_float_digits", None)
    );
    assert_eq!(
        one("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"),
        set("default_transaction_isolation", Some("read committed"))
    );
    assert_eq!(
        one("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
        set("default_transaction_read_only", Some("on"))
    );
    assert_eq!(
        one("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY"),
        set("transaction_read_only", Some("on"))
    );
    assert_eq!(
        one("SET TRANSACTION READ WRITE"),
        set("transaction_read_only", Some("off"))
    );
    assert_eq!(one("RESET application_name"), set("application_name", None));
    assert_eq!(one("RESET ALL"), Statement::ResetAll);
    assert_eq!(one("SHOW ALL"), Statement::ShowVariable { name: None });
    assert_eq!(
        one("SHOW TRANSACTION ISOLATION LEVEL"),
        Statement::ShowVariable {
            name: Some("transaction_isolation".into())
        }
    );
    assert!(matches!(
        one("SET datafusion.execution.batch_size = 10"),
        Statement::DataFusion { .. }
    ));
    assert!(matches!(
        one("SHOW datafusion.execution.batch_size"),
        Statement::DataFusion { .. }
    ));
    for (sql, expected) in [
        ("BEGIN", T::Begin { read_only: None }),
        (
            "begin isolation level serializable, read only",
            T::Begin {
                read_only: Some(true),
            },
        ),
        (
            "START TRANSACTION READ WRITE",
            T::Begin {
                read_only: Some(false),
            },
        ),
        ("COMMIT", T::Commit),
        ("END TRANSACTION", T::Commit),
        ("ROLLBACK WORK", T::Rollback),
        ("ABORT", T::Rollback),
        ("SAVEPOINT s1", T::Savepoint("s1".into())),
        ("RELEASE SAVEPOINT s1", T::Release("s1".into())),
        ("ROLLBACK TO s1", T::RollbackTo("s1".into())),
    ] {
        assert_eq!(one(sql), Statement::Transaction(expected), "{sql}");
    }
    assert_eq!(
        one("CREATE USER bob WITH PASSWORD 'x' SUPERUSER"),
        Statement::CreateUser {
            name: "bob".into(),
            if_not_exists: false,
            options: vec![
                UserOption::Password(Some("x".into())),
                UserOption::Superuser(true)
            ],
            login_by_default: true,
        }
    );
    assert_eq!(
        one("CREATE ROLE analysts WITH NOLOGIN NOINHERIT CREATEROLE IN ROLE etl ROLE alice, bob"),
        Statement::CreateUser {
            name: "analysts".into(),
            if_not_exists: false,
            options: vec![
                UserOption::Login(false),
                UserOption::Inherit(false),
                UserOption::CreateRole(true),
                UserOption::InRole(vec!["etl".into()]),
                UserOption::Members(vec!["alice".into(), "bob".into()]),
            ],
            login_by_default: false,
        }
    );
    for (sql, value) in [
        ("SET ROLE analysts", Some("analysts")),
        ("SET ROLE 'Mixed'", Some("Mixed")),
        ("SET ROLE NONE", None),
        ("RESET ROLE", None),
    ] {
        assert_eq!(
            one(sql),
            Statement::SetVariable {
                name: "role".into(),
                value: value.map(String::from)
            },
            "{sql}"
        );
    }
    assert!(parse_statements("CREATE ROLE x VALID UNTIL 'infinity'").is_err());
    assert!(matches!(
        one("ALTER TABLE s.t OWNER TO alice"),
        Statement::AlterOwner { .. }
    ));
    assert!(matches!(
        one("ALTER VIEW v OWNER TO CURRENT_USER"),
        Statement::AlterOwner { .. }
    ));
    assert!(matches!(
        one("ALTER SCHEMA raw OWNER TO etl"),
        Statement::AlterOwner { .. }
    ));
    assert_eq!(
        one("ALTER ROLE bob PASSWORD 'y'"),
        Statement::AlterUser {
            name: "bob".into(),
            options: vec![UserOption::Password(Some("y".into()))]
        }
    );
    assert_eq!(
        one("DROP USER IF EXISTS bob"),
        Statement::DropUser {
            name: "bob".into(),
            if_exists: true
        }
    );
    assert!(parse_statements("SET search_path").is_err());
}

#[test]
fn copy_over_the_wire() {
    use crate::ast::{CopyFormat, CopyOptions, CopySource};
    assert_eq!(
        one("COPY sales (id, note) FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')"),
        Statement::CopyFromStdin {
            name: name(None, "sales"),
            columns: vec!["id".into(), "note".into()],
            options: CopyOptions {
                format: CopyFormat::Csv,
                header: true,
                delimiter: Some(";".into()),
                ..Default::default()
            }
        }
    );
    assert_eq!(
        one("copy db.t to stdout"),
        Statement::CopyToStdout {
            source: CopySource::Table {
                name: name(Some("db"), "t"),
                columns: vec![]
            },
            options: CopyOptions::default()
        }
    );
    match one("COPY (SELECT a, (1 + 2) AS b FROM t) TO STDOUT WITH CSV HEADER") {
        Statement::CopyToStdout {
            source: CopySource::Query(q),
            options,
        } => {
            assert_eq!(q.sql, "SELECT a, (1 + 2) AS b FROM t");
            assert_eq!((options.format, options.header), (CopyFormat::Csv, true));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        one("COPY t TO STDOUT (FORMAT binary)"),
        Statement::CopyToStdout {
            options: CopyOptions {
                format: CopyFormat::Binary,
                ..
            },
            ..
        }
    ));
    assert!(parse_statements("COPY t FROM STDIN (FORMAT xml)").is_err());
    assert!(matches!(
        one("COPY t TO '/x.csv'"),
        Statement::DataFusion { .. }
    ));
}
