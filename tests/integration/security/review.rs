//! Attacks found by the review of the first privilege implementation: each refused, and the
//! data checked to be intact.

use super::{denied, fixture, login, outcome, value};
use crate::pg::{simple_rows, sqlstate};

#[tokio::test]
async fn the_batch_log_shows_only_readable_tables_and_hides_statements() {
    let (pg, admin) = fixture(&["bob"]).await;
    admin
        .batch_execute(
            "CREATE SCHEMA hr; CREATE TABLE hr.salaries (who string, pay int);
             INSERT INTO hr.salaries VALUES ('carol', 250000)",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    assert_eq!(
        value(&bob, "SELECT count(*) FROM tarn.batches")
            .await
            .as_deref(),
        Some("0")
    );
    admin
        .batch_execute("GRANT USAGE ON SCHEMA hr TO bob; GRANT SELECT ON hr.salaries TO bob")
        .await
        .unwrap();
    let rows = simple_rows(&bob, "SELECT statement FROM tarn.batches").await;
    assert_eq!(rows, vec![vec![Some("<insufficient privilege>".into())]]);
    let all = simple_rows(&admin, "SELECT statement FROM tarn.batches").await;
    assert!(
        all[0][0].as_deref().unwrap_or("").contains("250000"),
        "{all:?}"
    );
}

#[tokio::test]
async fn predefined_roles_cannot_be_made_logins() {
    let (pg, admin) = fixture(&["carol"]).await;
    admin
        .batch_execute("ALTER ROLE carol CREATEROLE")
        .await
        .unwrap();
    let carol = login(&pg, "carol").await;
    for role in [
        "pg_read_all_data",
        "pg_write_server_files",
        "pg_database_owner",
    ] {
        let e = carol
            .batch_execute(&format!("ALTER ROLE {role} LOGIN PASSWORD 'x'"))
            .await
            .expect_err("reserved");
        assert_ne!(sqlstate(&e), "00000");
        assert!(pg.connect_as(role, "x").await.is_err(), "{role} logged in");
    }
    // Even a superuser cannot turn one into a login.
    assert_ne!(
        outcome(&admin, "ALTER ROLE pg_read_all_data LOGIN PASSWORD 'x'").await,
        "ok"
    );
}

#[tokio::test]
async fn the_managed_location_record_and_external_writes_are_guarded() {
    let (pg, admin) = fixture(&["bob"]).await;
    let lake = pg._lake.lake();
    let people = lake.join("people");
    let before: Vec<_> = std::fs::read_dir(&people)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    admin
        .batch_execute(
            "CREATE SCHEMA lab; GRANT USAGE, CREATE ON SCHEMA lab TO bob;
             GRANT pg_read_server_files TO bob",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    bob.batch_execute("CREATE TABLE lab.mine (a int)")
        .await
        .unwrap();
    let forge = format!(
        "ALTER TABLE lab.mine SET TBLPROPERTIES ('tarn.managed_location'='{}')",
        people.display()
    );
    denied(&bob, &forge).await;
    denied(
        &bob,
        &format!(
            "CREATE TABLE lab.forged (a int) TBLPROPERTIES ('tarn.managed_location'='{}')",
            people.display()
        ),
    )
    .await;
    bob.batch_execute(&format!(
        "ALTER TABLE lab.mine SET LOCATION '{}'",
        people.display()
    ))
    .await
    .unwrap();
    assert_eq!(outcome(&bob, "DROP TABLE lab.mine").await, "ok");
    let after: Vec<_> = std::fs::read_dir(&people)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(before, after);
    // Reading server files does not grant writing them.
    bob.batch_execute(&format!(
        "CREATE EXTERNAL TABLE lab.ext (a int) STORED AS PARQUET LOCATION '{}/bobs'",
        lake.display()
    ))
    .await
    .unwrap();
    denied(&bob, "INSERT INTO lab.ext VALUES (1)").await;
    assert!(
        !lake.join("bobs").exists()
            || std::fs::read_dir(lake.join("bobs"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[tokio::test]
async fn prepared_statements_are_checked_at_every_execution() {
    let (pg, admin) = fixture(&["bob"]).await;
    admin
        .batch_execute(
            "CREATE SCHEMA s; CREATE TABLE s.t (a int); INSERT INTO s.t VALUES (1);
             GRANT USAGE ON SCHEMA s TO bob; GRANT SELECT ON s.t TO bob",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    let statement = bob.prepare("SELECT a FROM s.t").await.unwrap();
    assert_eq!(bob.query(&statement, &[]).await.unwrap().len(), 1);
    admin
        .batch_execute("REVOKE SELECT ON s.t FROM bob")
        .await
        .unwrap();
    let e = bob.query(&statement, &[]).await.expect_err("revoked");
    assert_eq!(sqlstate(&e), "42501");
}

#[tokio::test]
async fn revoking_a_grant_option_reaches_what_was_passed_on() {
    let (pg, admin) = fixture(&["bob", "carol"]).await;
    admin
        .batch_execute(
            "CREATE SCHEMA s; CREATE TABLE s.t (a int); INSERT INTO s.t VALUES (1);
             GRANT USAGE ON SCHEMA s TO bob, carol; GRANT SELECT ON s.t TO bob WITH GRANT OPTION",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    bob.batch_execute("GRANT SELECT ON s.t TO carol")
        .await
        .unwrap();
    let carol = login(&pg, "carol").await;
    assert_eq!(
        value(&carol, "SELECT a FROM s.t").await.as_deref(),
        Some("1")
    );
    let e = admin
        .batch_execute("REVOKE SELECT ON s.t FROM bob")
        .await
        .expect_err("dependents");
    assert_eq!(sqlstate(&e), "2BP01");
    admin
        .batch_execute("REVOKE SELECT ON s.t FROM bob CASCADE")
        .await
        .unwrap();
    denied(&carol, "SELECT a FROM s.t").await;
    denied(&bob, "SELECT a FROM s.t").await;
}

#[tokio::test]
async fn statistics_and_partition_names_need_select() {
    let (pg, admin) = fixture(&["bob"]).await;
    admin
        .batch_execute(
            "CREATE SCHEMA hr; CREATE TABLE hr.pay (amount int) PARTITIONED BY (who string);
             INSERT INTO hr.pay VALUES (250000, 'carol');
             GRANT USAGE ON SCHEMA hr TO bob; GRANT INSERT ON hr.pay TO bob",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    denied(&bob, "SHOW PARTITIONS hr.pay").await;
    let stats = simple_rows(&bob, "SELECT attname FROM pg_stats WHERE tablename = 'pay'").await;
    assert!(stats.is_empty(), "{stats:?}");
    let admin_stats = simple_rows(
        &admin,
        "SELECT attname FROM pg_stats WHERE tablename = 'pay'",
    )
    .await;
    assert!(!admin_stats.is_empty());
}

#[tokio::test]
async fn names_that_own_objects_cannot_be_claimed_and_existence_does_not_leak() {
    let (pg, admin) = fixture(&["carol", "bob"]).await;
    // A local (trusted) session records its OS user name as the owner: not a role.
    pg._lake
        .tarn
        .session("ghost")
        .query("CREATE DATABASE ops; CREATE TABLE ops.secrets (x int)")
        .await
        .unwrap();
    admin
        .batch_execute("ALTER ROLE carol CREATEROLE")
        .await
        .unwrap();
    let carol = login(&pg, "carol").await;
    denied(&carol, "CREATE ROLE ghost").await;
    assert_eq!(
        value(&admin, "SELECT count(*) FROM ops.secrets")
            .await
            .as_deref(),
        Some("0")
    );
    // Without USAGE, a missing table and an existing one look alike.
    let bob = login(&pg, "bob").await;
    denied(&bob, "SELECT * FROM ops.secrets").await;
    denied(&bob, "SELECT * FROM ops.no_such_table").await;
}

/// RENAME is the owner's (and TRUNCATE needs its privilege): a reader or writer cannot rename a table away (breaking its users)
/// nor into a schema where it may not create; a table it cannot see is not found; grants follow
/// the table, so a rename neither loses nor hands over access.
#[tokio::test]
async fn only_owners_rename_and_grants_follow_the_table() {
    let (pg, admin) = fixture(&["bob"]).await;
    admin
        .batch_execute(
            "CREATE SCHEMA hr; CREATE SCHEMA sandbox; CREATE TABLE hr.pay (amount int);
             INSERT INTO hr.pay VALUES (250000);
             CREATE TABLE hr.secret (x int);
             GRANT USAGE ON SCHEMA hr TO bob; GRANT USAGE, CREATE ON SCHEMA sandbox TO bob;
             GRANT SELECT, INSERT ON hr.pay TO bob",
        )
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    denied(&bob, "ALTER TABLE hr.pay RENAME TO pay_gone").await;
    denied(&bob, "ALTER TABLE hr.pay RENAME TO sandbox.mine").await;
    assert_eq!(
        outcome(&bob, "ALTER TABLE hr.secret RENAME TO s2").await,
        "42P01"
    );
    // Bob's own table cannot be moved where he may not create.
    bob.batch_execute("CREATE TABLE sandbox.own (x int)")
        .await
        .unwrap();
    denied(&bob, "ALTER TABLE sandbox.own RENAME TO hr.own").await;
    admin
        .batch_execute("ALTER TABLE hr.pay RENAME TO pay_2026")
        .await
        .unwrap();
    assert_eq!(
        value(&bob, "SELECT amount FROM hr.pay_2026")
            .await
            .as_deref(),
        Some("250000")
    );
    assert_eq!(outcome(&bob, "SELECT * FROM hr.pay").await, "42P01");
    // Index hints, though no-ops, are the owner's as in Postgres.
    denied(&bob, "CREATE INDEX i ON hr.pay_2026 (amount)").await;
    // Emptying a table is its own privilege: SELECT and INSERT are not enough.
    denied(&bob, "TRUNCATE hr.pay_2026").await;
    assert_eq!(
        value(&bob, "SELECT count(*) FROM hr.pay_2026")
            .await
            .as_deref(),
        Some("1")
    );
    // A new table under the old name starts with no grants.
    admin
        .batch_execute("CREATE TABLE hr.pay (amount int)")
        .await
        .unwrap();
    denied(&bob, "SELECT * FROM hr.pay").await;
}
