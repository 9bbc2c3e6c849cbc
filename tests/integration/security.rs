//! Roles, privileges, ownership and locations over the Postgres wire, as PostgreSQL 15 behaves:
//! a superuser (alice) sets things up, ordinary logins try what they may and may not do. Every
//! refusal is checked by SQLSTATE, and the data is checked to still be there afterwards.

mod attacks;
mod flight;
mod matrix;
mod psql;
mod review;

use tokio_postgres::Client;

use crate::pg::{PgFixture, simple_rows, sqlstate};

/// A server with alice (superuser) and the given ordinary logins (password = name).
pub(crate) async fn fixture(logins: &[&str]) -> (PgFixture, Client) {
    let pg = PgFixture::start().await;
    let admin = pg.client().await;
    for login in logins {
        admin
            .batch_execute(&format!("CREATE USER {login} WITH PASSWORD '{login}'"))
            .await
            .unwrap();
    }
    (pg, admin)
}

pub(crate) async fn login(pg: &PgFixture, name: &str) -> Client {
    pg.connect_as(name, name)
        .await
        .unwrap_or_else(|e| panic!("{name} logs in: {e}"))
}

/// Runs `sql` and returns its SQLSTATE, or "ok".
pub(crate) async fn outcome(client: &Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => "ok".into(),
        Err(e) => sqlstate(&e),
    }
}

/// Asserts `sql` is refused with 42501 and names what it refuses.
pub(crate) async fn denied(client: &Client, sql: &str) {
    let e = client
        .batch_execute(sql)
        .await
        .expect_err(&format!("{sql} must be refused"));
    assert_eq!(sqlstate(&e), "42501", "{sql}: {e:?}");
}

/// The single value of a one-row, one-column query.
pub(crate) async fn value(client: &Client, sql: &str) -> Option<String> {
    let rows = simple_rows(client, sql).await;
    assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
    rows[0][0].clone()
}
