//! pg_stat_activity, pg_backend_pid(), pg_cancel_backend() and pg_terminate_backend().

use std::time::Duration;

use crate::pg::{PgFixture, simple_rows, sqlstate};

const LONG_QUERY: &str =
    "SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b";

async fn pid_of(client: &tokio_postgres::Client) -> i32 {
    simple_rows(client, "SELECT pg_backend_pid()").await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// `(usename, state, query)` of `pid` in pg_stat_activity, as `observer` sees it.
async fn activity_of(observer: &tokio_postgres::Client, pid: i32) -> Option<Vec<Option<String>>> {
    let sql = format!(
        "SELECT usename, state, query, application_name FROM pg_stat_activity WHERE pid = {pid}"
    );
    simple_rows(observer, &sql).await.into_iter().next()
}

async fn wait_until_active(observer: &tokio_postgres::Client, pid: i32) {
    for _ in 0..200 {
        if let Some(row) = activity_of(observer, pid).await
            && row[1].as_deref() == Some("active")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("backend {pid} never became active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_canceled_and_terminated() {
    let pg = PgFixture::start().await;
    pg._lake.add_user("bob", "pw", false).await;
    let admin = pg.client().await;
    let worker = pg.client().await;
    let bob = pg.connect_as("bob", "pw").await.unwrap();
    worker
        .simple_query("SET application_name = 'worker'")
        .await
        .unwrap();
    let pid = pid_of(&worker).await;

    assert_ne!(pid, pid_of(&admin).await, "each connection has its own pid");
    let row = activity_of(&admin, pid).await.expect("listed");
    assert_eq!(row[0].as_deref(), Some("alice"));
    assert_eq!(row[3].as_deref(), Some("worker"));

    // A long query is seen running and canceled by a superuser.
    let running = tokio::spawn(async move {
        let result = worker.simple_query(LONG_QUERY).await;
        (worker, result)
    });
    wait_until_active(&admin, pid).await;
    let row = activity_of(&admin, pid).await.unwrap();
    assert_eq!(row[2].as_deref(), Some(LONG_QUERY));
    // Another role's backend is off limits to a non-superuser.
    let err = bob
        .simple_query(&format!("SELECT pg_cancel_backend({pid})"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "{err}");
    let sent = simple_rows(&admin, &format!("SELECT pg_cancel_backend({pid})")).await;
    assert_eq!(sent[0][0].as_deref(), Some("t"));
    let (worker, result) = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the cancel stops the query")
        .unwrap();
    assert_eq!(sqlstate(&result.unwrap_err()), "57014");

    // Terminate closes the connection and removes it from the list.
    let sent = simple_rows(&admin, &format!("SELECT pg_terminate_backend({pid})")).await;
    assert_eq!(sent[0][0].as_deref(), Some("t"));
    let mut closed = false;
    for _ in 0..200 {
        if worker.simple_query("SELECT 1").await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(closed, "the terminated connection is closed");
    let mut gone = false;
    for _ in 0..200 {
        if activity_of(&admin, pid).await.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(gone);
    // An unknown pid is `false`, as in PostgreSQL.
    let sent = simple_rows(&admin, "SELECT pg_cancel_backend(999999)").await;
    assert_eq!(sent[0][0].as_deref(), Some("f"));
    // A non-superuser may signal the backends of its own role.
    let bob2 = pg.connect_as("bob", "pw").await.unwrap();
    let own = pid_of(&bob2).await;
    let sent = simple_rows(&bob, &format!("SELECT pg_cancel_backend({own})")).await;
    assert_eq!(sent[0][0].as_deref(), Some("t"));
}
