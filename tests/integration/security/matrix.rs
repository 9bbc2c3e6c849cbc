//! The privilege matrix: each privilege granted and revoked, column grants, PUBLIC, role
//! inheritance and SET ROLE, default privileges, grant options, ownership, views.

use super::{denied, fixture, login, outcome, value};
use crate::pg::simple_rows;

/// alice's schema `shop` with `orders(id, amount, email)` holding two rows.
async fn shop(admin: &tokio_postgres::Client) {
    admin
        .batch_execute(
            "CREATE SCHEMA shop;
             CREATE TABLE shop.orders (id bigint, amount double, email string);
             INSERT INTO shop.orders VALUES (1, 10.0, 'a@x.org'), (2, 20.0, 'b@x.org')",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_fresh_login_sees_and_reads_nothing() {
    let (pg, admin) = fixture(&["bob"]).await;
    shop(&admin).await;
    admin
        .batch_execute(
            "CREATE TABLE public.notes (t string); INSERT INTO public.notes VALUES ('x')",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    denied(&bob, "SELECT * FROM shop.orders").await;
    denied(&bob, "SELECT count(*) FROM notes").await;
    // PostgreSQL 15: nobody but the owner creates in public; schemas need CREATE on the database.
    denied(&bob, "CREATE TABLE mine (a int)").await;
    denied(&bob, "CREATE SCHEMA bobs").await;
    denied(&bob, "INSERT INTO shop.orders VALUES (3, 1.0, 'c')").await;
    denied(&bob, "DROP TABLE shop.orders").await;
    // Listings show nothing of shop, and nothing of public's tables.
    let tables = simple_rows(
        &bob,
        "SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .await;
    assert!(tables.is_empty(), "{tables:?}");
    let classes = simple_rows(
        &bob,
        "SELECT relname FROM pg_class WHERE relname IN ('orders', 'notes')",
    )
    .await;
    assert!(classes.is_empty(), "{classes:?}");
    let schemas = simple_rows(
        &bob,
        "SELECT nspname FROM pg_namespace WHERE nspname = 'shop'",
    )
    .await;
    assert!(schemas.is_empty(), "{schemas:?}");
    // Nothing was lost.
    assert_eq!(
        value(&admin, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn each_table_privilege_is_granted_and_revoked() {
    let (pg, admin) = fixture(&["bob"]).await;
    shop(&admin).await;
    let bob = login(&pg, "bob").await;
    admin
        .batch_execute("GRANT SELECT ON shop.orders TO bob")
        .await
        .unwrap();
    // SELECT alone is not enough: the schema needs USAGE.
    denied(&bob, "SELECT * FROM shop.orders").await;
    admin
        .batch_execute("GRANT USAGE ON SCHEMA shop TO bob")
        .await
        .unwrap();
    assert_eq!(
        value(&bob, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("2")
    );
    denied(&bob, "INSERT INTO shop.orders VALUES (3, 1.0, 'c')").await;
    admin
        .batch_execute("GRANT INSERT ON TABLE shop.orders TO bob")
        .await
        .unwrap();
    assert_eq!(
        outcome(&bob, "INSERT INTO shop.orders VALUES (3, 1.0, 'c')").await,
        "ok"
    );
    // A write under a batch id replaces that batch's earlier rows (anyone's): DELETE too.
    admin
        .batch_execute(
            "SET tarn.batch_id = 'nightly'; INSERT INTO shop.orders VALUES (9, 9.0, 'n');
             SET tarn.batch_id = ''",
        )
        .await
        .unwrap();
    let rows_before = value(&admin, "SELECT count(*) FROM shop.orders").await;
    bob.batch_execute("SET tarn.batch_id = 'nightly'")
        .await
        .unwrap();
    denied(&bob, "INSERT INTO shop.orders VALUES (4, 1.0, 'd')").await;
    bob.batch_execute("SET tarn.batch_id = ''").await.unwrap();
    assert_eq!(
        value(&admin, "SELECT count(*) FROM shop.orders WHERE id = 9")
            .await
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        value(&admin, "SELECT count(*) FROM shop.orders").await,
        rows_before
    );
    // An overwrite deletes rows: it needs DELETE too.
    denied(
        &bob,
        "INSERT OVERWRITE TABLE shop.orders SELECT * FROM shop.orders WHERE id = 1",
    )
    .await;
    admin
        .batch_execute("GRANT DELETE ON shop.orders TO bob")
        .await
        .unwrap();
    let overwrite = "INSERT OVERWRITE TABLE shop.orders SELECT * FROM shop.orders WHERE id <= 2";
    assert_eq!(outcome(&bob, overwrite).await, "ok");
    // Privileges are not ownership.
    denied(&bob, "ALTER TABLE shop.orders SET TBLPROPERTIES ('k'='v')").await;
    denied(&bob, "DROP TABLE shop.orders").await;
    denied(&bob, "MSCK REPAIR TABLE shop.orders").await;
    denied(&bob, "VACUUM shop.orders").await;
    admin
        .batch_execute("REVOKE SELECT, INSERT, DELETE ON shop.orders FROM bob")
        .await
        .unwrap();
    denied(&bob, "SELECT * FROM shop.orders").await;
    assert_eq!(
        value(&admin, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn column_grants_allow_exactly_their_columns() {
    let (pg, admin) = fixture(&["bob"]).await;
    shop(&admin).await;
    admin
        .batch_execute(
            "GRANT USAGE ON SCHEMA shop TO bob; GRANT SELECT (id, amount) ON shop.orders TO bob",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    let rows = simple_rows(
        &bob,
        "SELECT id, amount FROM shop.orders WHERE amount > 15 ORDER BY id",
    )
    .await;
    assert_eq!(rows, vec![vec![Some("2".into()), Some("20".into())]]);
    assert_eq!(
        value(&bob, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("2")
    );
    denied(&bob, "SELECT * FROM shop.orders").await;
    denied(&bob, "SELECT email FROM shop.orders").await;
    denied(&bob, "SELECT id FROM shop.orders WHERE email LIKE 'a%'").await;
    denied(&bob, "SELECT id FROM shop.orders ORDER BY email").await;
    // Column-level INSERT covers an INSERT that names only granted columns.
    admin
        .batch_execute("GRANT INSERT (id, amount) ON shop.orders TO bob")
        .await
        .unwrap();
    assert_eq!(
        outcome(
            &bob,
            "INSERT INTO shop.orders (id, amount) VALUES (3, 30.0)"
        )
        .await,
        "ok"
    );
    denied(&bob, "INSERT INTO shop.orders (id, email) VALUES (4, 'x')").await;
    denied(&bob, "INSERT INTO shop.orders VALUES (5, 1.0, 'y')").await;
    // COPY is checked on the columns it names, as in PostgreSQL, before any data is sent.
    // tokio-postgres sends Sync with the Execute and again with the CopyFail of the abandoned
    // sink, so after a COPY refused before CopyInResponse (as PostgreSQL refuses it too) its
    // connection is one ReadyForQuery ahead: each refused COPY gets a connection of its own.
    let e = login(&pg, "bob")
        .await
        .copy_in::<_, bytes::Bytes>("COPY shop.orders (id, email) FROM STDIN")
        .await
        .err()
        .expect("COPY naming an ungranted column is refused at once");
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{e}"
    );
    let sink = bob
        .copy_in("COPY shop.orders (id, amount) FROM STDIN")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    futures::SinkExt::send(&mut sink, bytes::Bytes::from_static(b"6\t60\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 1);
    let e = match login(&pg, "bob")
        .await
        .copy_in("COPY shop.orders FROM STDIN")
        .await
    {
        Err(e) => e,
        Ok(sink) => {
            futures::pin_mut!(sink);
            futures::SinkExt::send(&mut sink, bytes::Bytes::from_static(b"7\t70\tz\n"))
                .await
                .unwrap();
            sink.finish()
                .await
                .expect_err("COPY of every column needs INSERT on email")
        }
    };
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{e}"
    );
    assert_eq!(
        value(&admin, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("4")
    );
    // A table-level REVOKE takes the column grants too.
    admin
        .batch_execute("REVOKE SELECT ON shop.orders FROM bob")
        .await
        .unwrap();
    denied(&bob, "SELECT id FROM shop.orders").await;
}

#[tokio::test]
async fn roles_are_inherited_and_set() {
    let (pg, admin) = fixture(&["bob", "carol"]).await;
    shop(&admin).await;
    admin
        .batch_execute(
            "CREATE ROLE analysts;
             GRANT USAGE ON SCHEMA shop TO analysts;
             GRANT SELECT ON ALL TABLES IN SCHEMA shop TO analysts;
             GRANT analysts TO bob;
             ALTER ROLE carol NOINHERIT;
             GRANT analysts TO carol",
        )
        .await
        .unwrap();
    // A role without LOGIN cannot log in.
    assert!(pg.connect_as("analysts", "analysts").await.is_err());
    let bob = login(&pg, "bob").await;
    assert_eq!(
        value(&bob, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("2")
    );
    // carol does not inherit: she must SET ROLE.
    let carol = login(&pg, "carol").await;
    denied(&carol, "SELECT count(*) FROM shop.orders").await;
    carol.batch_execute("SET ROLE analysts").await.unwrap();
    assert_eq!(
        value(&carol, "SELECT current_user").await.as_deref(),
        Some("analysts")
    );
    assert_eq!(
        value(&carol, "SELECT session_user").await.as_deref(),
        Some("carol")
    );
    assert_eq!(
        value(&carol, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("2")
    );
    carol.batch_execute("RESET ROLE").await.unwrap();
    denied(&carol, "SELECT count(*) FROM shop.orders").await;
    // One cannot become a role one is not a member of.
    denied(&bob, "SET ROLE carol").await;
    // Revoking the membership takes the privileges away at the next statement.
    admin
        .batch_execute("REVOKE analysts FROM bob")
        .await
        .unwrap();
    denied(&bob, "SELECT count(*) FROM shop.orders").await;
    // PUBLIC is everyone.
    admin
        .batch_execute(
            "GRANT USAGE ON SCHEMA shop TO PUBLIC; GRANT SELECT ON shop.orders TO PUBLIC",
        )
        .await
        .unwrap();
    assert_eq!(
        value(&bob, "SELECT count(*) FROM shop.orders")
            .await
            .as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn default_privileges_and_grant_options() {
    let (pg, admin) = fixture(&["etl", "bob", "carol"]).await;
    admin
        .batch_execute(
            "CREATE SCHEMA clean;
             GRANT USAGE, CREATE ON SCHEMA clean TO etl;
             GRANT USAGE ON SCHEMA clean TO bob, carol;
             ALTER DEFAULT PRIVILEGES FOR ROLE etl IN SCHEMA clean GRANT SELECT ON TABLES TO bob WITH GRANT OPTION",
        )
        .await
        .unwrap();
    let etl = login(&pg, "etl").await;
    etl.batch_execute("CREATE TABLE clean.daily AS SELECT 1 AS n")
        .await
        .unwrap();
    assert_eq!(
        value(
            &etl,
            "SELECT tableowner FROM pg_tables WHERE tablename = 'daily'"
        )
        .await
        .as_deref(),
        Some("etl")
    );
    let bob = login(&pg, "bob").await;
    assert_eq!(
        value(&bob, "SELECT n FROM clean.daily").await.as_deref(),
        Some("1")
    );
    // bob holds SELECT with the grant option and passes it on; carol without it cannot.
    let carol = login(&pg, "carol").await;
    denied(&carol, "SELECT n FROM clean.daily").await;
    bob.batch_execute("GRANT SELECT ON clean.daily TO carol")
        .await
        .unwrap();
    assert_eq!(
        value(&carol, "SELECT n FROM clean.daily").await.as_deref(),
        Some("1")
    );
    denied(&carol, "GRANT SELECT ON clean.daily TO etl").await;
    // Default privileges of another role need membership in it.
    denied(
        &carol,
        "ALTER DEFAULT PRIVILEGES FOR ROLE etl GRANT SELECT ON TABLES TO carol",
    )
    .await;
    denied(&bob, "GRANT INSERT ON clean.daily TO carol").await;
    // The owner revokes whatever was granted, whoever granted it.
    etl.batch_execute("REVOKE SELECT ON clean.daily FROM carol")
        .await
        .unwrap();
    denied(&carol, "SELECT n FROM clean.daily").await;
}

#[tokio::test]
async fn ownership_rules_ddl_and_moves_with_owner_to() {
    let (pg, admin) = fixture(&["bob", "carol"]).await;
    admin
        .batch_execute("CREATE SCHEMA lab; GRANT USAGE, CREATE ON SCHEMA lab TO bob, carol")
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    let carol = login(&pg, "carol").await;
    bob.batch_execute("CREATE TABLE lab.t (a int); INSERT INTO lab.t VALUES (1)")
        .await
        .unwrap();
    bob.batch_execute("GRANT ALL ON lab.t TO carol")
        .await
        .unwrap();
    assert_eq!(
        value(&carol, "SELECT a FROM lab.t").await.as_deref(),
        Some("1")
    );
    for ddl in [
        "DROP TABLE lab.t",
        "ALTER TABLE lab.t SET TBLPROPERTIES ('x'='y')",
        "COMMENT ON TABLE lab.t IS 'mine now'",
        "ALTER TABLE lab.t OWNER TO carol",
    ] {
        denied(&carol, ddl).await;
    }
    // The owner may give the table to a role it belongs to (superusers to anyone).
    denied(&bob, "ALTER TABLE lab.t OWNER TO carol").await;
    denied(&bob, "ALTER SCHEMA lab OWNER TO bob").await;
    admin
        .batch_execute("ALTER TABLE lab.t OWNER TO carol")
        .await
        .unwrap();
    denied(&bob, "DROP TABLE lab.t").await;
    assert_eq!(outcome(&carol, "DROP TABLE lab.t").await, "ok");
    // Views read with their owner's privileges.
    admin
        .batch_execute(
            "CREATE TABLE lab.secret (id int, pii string); INSERT INTO lab.secret VALUES (1, 'x');
             CREATE VIEW lab.safe AS SELECT id FROM lab.secret;
             GRANT SELECT ON lab.safe TO bob",
        )
        .await
        .unwrap();
    assert_eq!(
        value(&bob, "SELECT id FROM lab.safe").await.as_deref(),
        Some("1")
    );
    denied(&bob, "SELECT id FROM lab.secret").await;
    // Role management needs a superuser (or CREATEROLE).
    denied(&bob, "CREATE ROLE hackers").await;
    denied(&bob, "ALTER ROLE bob SUPERUSER").await;
    denied(&bob, "GRANT pg_read_server_files TO bob").await;
    assert_eq!(outcome(&bob, "ALTER ROLE bob PASSWORD 'new'").await, "ok");
}

#[tokio::test]
async fn connect_can_be_revoked_and_roles_with_objects_stay() {
    let (pg, admin) = fixture(&["bob", "carol"]).await;
    admin
        .batch_execute(
            "REVOKE CONNECT ON DATABASE tarn FROM PUBLIC; GRANT CONNECT ON DATABASE tarn TO carol",
        )
        .await
        .unwrap();
    let refused = pg
        .connect_as("bob", "bob")
        .await
        .expect_err("bob may not connect");
    assert_eq!(crate::pg::sqlstate(&refused), "42501");
    login(&pg, "carol").await;
    admin
        .batch_execute("CREATE SCHEMA s; GRANT USAGE ON SCHEMA s TO carol")
        .await
        .unwrap();
    // A role that holds privileges cannot be dropped (2BP01), as in PostgreSQL.
    let e = admin
        .batch_execute("DROP ROLE carol")
        .await
        .expect_err("carol has privileges");
    assert_eq!(crate::pg::sqlstate(&e), "2BP01");
    admin
        .batch_execute("REVOKE USAGE ON SCHEMA s FROM carol; REVOKE CONNECT ON DATABASE tarn FROM carol; DROP ROLE carol")
        .await
        .unwrap();
}

#[tokio::test]
async fn catalogs_and_inquiry_functions_tell_the_truth() {
    let (pg, admin) = fixture(&["bob", "carol"]).await;
    shop(&admin).await;
    admin
        .batch_execute(
            "CREATE ROLE analysts;
             GRANT analysts TO bob;
             GRANT USAGE ON SCHEMA shop TO analysts;
             GRANT SELECT ON shop.orders TO bob WITH GRANT OPTION;
             GRANT SELECT (id) ON shop.orders TO carol",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    let ask = |sql: &'static str| {
        let bob = &bob;
        async move { value(bob, sql).await }
    };
    let t = Some("t".to_string());
    let f = Some("f".to_string());
    assert_eq!(
        ask("SELECT has_table_privilege('shop.orders', 'SELECT')").await,
        t
    );
    assert_eq!(
        ask("SELECT has_table_privilege('shop.orders', 'INSERT')").await,
        f
    );
    assert_eq!(
        ask("SELECT has_table_privilege('shop.orders', 'SELECT WITH GRANT OPTION')").await,
        t
    );
    assert_eq!(
        ask("SELECT has_table_privilege('carol', 'shop.orders', 'SELECT')").await,
        f
    );
    assert_eq!(
        ask("SELECT has_column_privilege('carol', 'shop.orders', 'id', 'SELECT')").await,
        f
    );
    assert_eq!(
        ask("SELECT has_any_column_privilege('bob', 'shop.orders', 'SELECT')").await,
        t
    );
    assert_eq!(ask("SELECT has_schema_privilege('shop', 'USAGE')").await, t);
    assert_eq!(
        ask("SELECT has_schema_privilege('shop', 'CREATE')").await,
        f
    );
    assert_eq!(
        ask("SELECT has_database_privilege('tarn', 'CONNECT')").await,
        t
    );
    assert_eq!(ask("SELECT pg_has_role('analysts', 'MEMBER')").await, t);
    assert_eq!(
        ask("SELECT pg_has_role('carol', 'analysts', 'MEMBER')").await,
        f
    );
    // carol has the column but not the schema: no access yet.
    admin
        .batch_execute("GRANT USAGE ON SCHEMA shop TO carol")
        .await
        .unwrap();
    assert_eq!(
        ask("SELECT has_column_privilege('carol', 'shop.orders', 'id', 'SELECT')").await,
        t
    );
    assert_eq!(
        ask("SELECT has_column_privilege('carol', 'shop.orders', 'email', 'SELECT')").await,
        f
    );
    // The ACL columns, in aclitem text form; NULL while only the owner has privileges.
    assert_eq!(
        value(
            &admin,
            "SELECT relacl FROM pg_class WHERE relname = 'orders'"
        )
        .await
        .as_deref(),
        Some("{alice=arwdDxt/alice,bob=r*/alice}")
    );
    admin
        .batch_execute("CREATE TABLE shop.private (x int)")
        .await
        .unwrap();
    assert_eq!(
        value(
            &admin,
            "SELECT relacl FROM pg_class WHERE relname = 'private'"
        )
        .await,
        None
    );
    assert_eq!(
        value(
            &admin,
            "SELECT nspacl FROM pg_namespace WHERE nspname = 'shop'"
        )
        .await
        .as_deref(),
        Some("{alice=UC/alice,analysts=U/alice,carol=U/alice}")
    );
    let roles = simple_rows(
        &admin,
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('analysts', 'bob') ORDER BY 1",
    )
    .await;
    assert_eq!(
        roles,
        vec![
            vec![Some("analysts".into()), Some("f".into())],
            vec![Some("bob".into()), Some("t".into())]
        ]
    );
    assert_eq!(
        value(
            &admin,
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON m.roleid = r.oid
             JOIN pg_roles u ON m.member = u.oid WHERE u.rolname = 'bob'"
        )
        .await
        .as_deref(),
        Some("analysts")
    );
}
