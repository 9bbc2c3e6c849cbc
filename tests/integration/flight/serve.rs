//! `tarn serve`'s Flight SQL listener as users run it: the binary, its port file, the bootstrap
//! admin's password, TLS with the pg certificate (and no plaintext fallback), SIGTERM.

use arrow_flight::sql::client::FlightSqlServiceClient;
use datafusion::arrow::array::Int64Array;
use futures::TryStreamExt;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::pg::serve::{KillOnDrop, self_signed, sigterm, spawn_serve, stderr_of, wait_port};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_flight_sql_over_tls_only() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let mut child = spawn_serve(
        dir.path(),
        &["--demo", "--tls-cert", &cert, "--tls-key", &key],
        Some("pw"),
    );
    let _guard = KillOnDrop(child.id());
    wait_port(dir.path(), &mut child);
    let port: u16 = std::fs::read_to_string(dir.path().join("flight-port"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(&cert).unwrap()))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://127.0.0.1:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("TLS connect");
    let mut client = FlightSqlServiceClient::new(channel);
    client.handshake("tarn", "pw").await.expect("handshake");
    let info = client
        .execute("SELECT count(*) FROM events".into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let batches: Vec<_> = client
        .do_get(ticket)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let n = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0);
    assert!(n > 0);

    // Plaintext against the TLS listener fails; nothing falls back.
    let plain = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await;
    if let Ok(plain) = plain {
        let mut client = FlightSqlServiceClient::new(plain);
        assert!(client.handshake("tarn", "pw").await.is_err());
    }
    sigterm(&child);
    let stderr = stderr_of(child);
    assert!(
        stderr.contains("Arrow Flight SQL clients on grpc+tls://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("tarn stopped"), "{stderr}");
}
