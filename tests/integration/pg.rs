//! The Postgres wire front end, driven by real clients: tokio-postgres in-process, the `psql`
//! binary, Python psycopg, and raw sockets for hostile input. Each test starts its own server
//! on 127.0.0.1:0 over a scratch lake and stops it on drop.

mod auth;
pub(crate) mod clients;
mod copy;
mod protocol;
mod replay;
mod robustness;
pub(crate) mod serve;
mod types;

use std::net::SocketAddr;

use tarn::server::{PgConfig, PgServer};
use tokio_postgres::{Client, NoTls};

use crate::support::TestLake;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret";

/// A running server on a scratch lake (with the fixture tables) and user alice/secret.
pub struct PgFixture {
    /// The scratch lake the server runs on (dropped with the fixture).
    pub _lake: TestLake,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl PgFixture {
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(configure: impl FnOnce(&mut PgConfig)) -> Self {
        let lake = TestLake::new();
        lake.add_user(USER, PASSWORD, true).await;
        let mut config = PgConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        configure(&mut config);
        let server = PgServer::bind(lake.tarn.engine().clone(), config)
            .await
            .expect("bind");
        let addr = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(async {
            let _ = stopped.await;
        }));
        Self {
            _lake: lake,
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn conn_string(&self, user: &str, password: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname=tarn",
            self.addr.port()
        )
    }

    pub async fn connect_as(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) =
            tokio_postgres::connect(&self.conn_string(user, password), NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    pub async fn client(&self) -> Client {
        self.connect_as(USER, PASSWORD).await.expect("connect")
    }

    /// Stops the server and waits for it (running statements get the shutdown timeout).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for PgFixture {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The SQLSTATE of a failed call.
pub fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.code()
        .map(|c| c.code().to_string())
        .unwrap_or_else(|| format!("no SQLSTATE: {e}"))
}

/// Rows of a simple query as text.
pub async fn simple_rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    use tokio_postgres::SimpleQueryMessage;
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
            }
            _ => None,
        })
        .collect()
}
