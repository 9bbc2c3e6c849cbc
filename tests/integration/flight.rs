//! The Arrow Flight SQL front end, driven by arrow-flight's own FlightSqlServiceClient and by
//! real Python clients (ADBC, pyarrow.flight, polars). Each test starts its own server on
//! 127.0.0.1:0 over a scratch lake and stops it on drop.

mod clients;
pub(crate) mod rpc;
mod serve;

use std::net::SocketAddr;

use arrow_flight::sql::client::FlightSqlServiceClient;
use tarn::server::{FlightConfig, FlightServer};
use tonic::transport::Channel;

use crate::support::TestLake;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret";

/// A running Flight SQL server on a scratch lake with user alice/secret.
pub struct FlightFixture {
    pub _lake: TestLake,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FlightFixture {
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(configure: impl FnOnce(&mut FlightConfig)) -> Self {
        let lake = TestLake::new();
        for (name, superuser) in [(USER, true), ("bob", false)] {
            lake.add_user(name, PASSWORD, superuser).await;
        }
        let mut config = FlightConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        configure(&mut config);
        let server = FlightServer::bind(lake.tarn.engine().clone(), config)
            .await
            .expect("bind");
        let addr = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.serve(async {
            let _ = stopped.await;
        }));
        Self {
            _lake: lake,
            addr,
            stop: Some(stop),
        }
    }

    pub fn uri(&self) -> String {
        format!("grpc://127.0.0.1:{}", self.addr.port())
    }

    /// A client that has not authenticated.
    pub async fn anonymous(&self) -> FlightSqlServiceClient<Channel> {
        let channel = Channel::from_shared(format!("http://127.0.0.1:{}", self.addr.port()))
            .unwrap()
            .connect()
            .await
            .expect("connect");
        FlightSqlServiceClient::new(channel)
    }

    /// A client logged in as alice.
    pub async fn client(&self) -> FlightSqlServiceClient<Channel> {
        let mut client = self.anonymous().await;
        client.handshake(USER, PASSWORD).await.expect("handshake");
        client
    }
}

impl Drop for FlightFixture {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
