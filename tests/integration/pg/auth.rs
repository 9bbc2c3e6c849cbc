//! Authentication (SCRAM by default, one answer for every failure), databases, connection
//! limits, user management in SQL.

use super::{PASSWORD, PgFixture, USER, simple_rows, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_authentication_failure_looks_the_same() {
    let pg = PgFixture::start().await;
    pg.client().await;
    for (user, password) in [
        (USER, "wrong"),
        (USER, ""),
        ("mallory", PASSWORD),
        ("mallory", ""),
    ] {
        let err = pg.connect_as(user, password).await.expect_err("must fail");
        assert_eq!(sqlstate(&err), "28P01", "{user}/{password}: {err}");
        let message = err.as_db_error().unwrap().message().to_string();
        assert_eq!(
            message,
            format!("password authentication failed for user \"{user}\"")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_database_and_too_many_connections() {
    let pg = PgFixture::with(|c| {
        c.max_connections = 2;
        c.superuser_reserved_connections = 0;
    })
    .await;
    let url = pg
        .conn_string(USER, PASSWORD)
        .replace("dbname=tarn", "dbname=other");
    let Err(err) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await else {
        panic!("must fail")
    };
    assert_eq!(sqlstate(&err), "3D000");
    let a = pg.client().await;
    let _b = pg.client().await;
    let err = pg
        .connect_as(USER, PASSWORD)
        .await
        .expect_err("over the limit");
    assert_eq!(sqlstate(&err), "53300");
    drop(a);
    // The slot frees once the first connection is gone.
    let mut connected = false;
    for _ in 0..50 {
        if pg.connect_as(USER, PASSWORD).await.is_ok() {
            connected = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_managed_in_sql_by_superusers() {
    let pg = PgFixture::start().await;
    let admin = pg.client().await;
    admin
        .batch_execute("CREATE USER bob WITH PASSWORD 'b0b'")
        .await
        .unwrap();
    let bob = pg.connect_as("bob", "b0b").await.unwrap();
    assert_eq!(
        simple_rows(&bob, "SELECT 1").await[0][0].as_deref(),
        Some("1")
    );
    let err = bob
        .batch_execute("CREATE USER eve WITH PASSWORD 'x'")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    bob.batch_execute("ALTER USER bob WITH PASSWORD 'n3w'")
        .await
        .unwrap();
    assert_eq!(
        sqlstate(&pg.connect_as("bob", "b0b").await.err().unwrap()),
        "28P01"
    );
    pg.connect_as("bob", "n3w").await.unwrap();
    admin.batch_execute("DROP USER bob").await.unwrap();
    assert_eq!(
        sqlstate(&pg.connect_as("bob", "n3w").await.err().unwrap()),
        "28P01"
    );
}
