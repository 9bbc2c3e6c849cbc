//! Hostile and broken clients over raw sockets: each gets an error (08P01) or is dropped, and
//! the server keeps serving everyone else.

use std::time::Duration;

use tarn::server::AuthMethod;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{PgFixture, USER, simple_rows};

struct Raw(TcpStream);

impl Raw {
    async fn connect(pg: &PgFixture) -> Self {
        Raw(TcpStream::connect(pg.addr).await.unwrap())
    }

    async fn send(&mut self, bytes: &[u8]) {
        let _ = self.0.write_all(bytes).await;
    }

    async fn message(&mut self, tag: u8, body: &[u8]) {
        let mut m = vec![tag];
        m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        m.extend_from_slice(body);
        self.send(&m).await;
    }

    /// Startup as `user` with trust auth; reads up to ReadyForQuery.
    async fn startup(pg: &PgFixture) -> Self {
        let mut raw = Self::connect(pg).await;
        let mut body = 196608i32.to_be_bytes().to_vec();
        body.extend_from_slice(format!("user\0{USER}\0database\0tarn\0\0").as_bytes());
        let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        packet.extend_from_slice(&body);
        raw.send(&packet).await;
        raw.until_ready().await;
        raw
    }

    /// The next message, or `None` when the server closed the connection.
    async fn read(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut header = [0u8; 5];
        tokio::time::timeout(Duration::from_secs(10), self.0.read_exact(&mut header))
            .await
            .ok()?
            .ok()?;
        let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut body = vec![0u8; len - 4];
        self.0.read_exact(&mut body).await.ok()?;
        Some((header[0], body))
    }

    /// Message tags up to and including ReadyForQuery ('Z'), or up to the close.
    async fn until_ready(&mut self) -> Vec<u8> {
        let mut tags = Vec::new();
        while let Some((tag, _)) = self.read().await {
            tags.push(tag);
            if tag == b'Z' {
                break;
            }
        }
        tags
    }

    /// The SQLSTATE of the next ErrorResponse (skipping other messages).
    async fn error_code(&mut self) -> Option<String> {
        while let Some((tag, body)) = self.read().await {
            if tag == b'E' {
                return body
                    .split(|b| *b == 0)
                    .find(|f| f.first() == Some(&b'C'))
                    .map(|f| String::from_utf8_lossy(&f[1..]).to_string());
            }
        }
        None
    }
}

async fn trusted() -> PgFixture {
    PgFixture::with(|c| c.auth = AuthMethod::Trust).await
}

async fn still_serving(pg: &PgFixture) {
    let mut raw = Raw::startup(pg).await;
    raw.message(b'Q', b"SELECT 1\0").await;
    let tags = raw.until_ready().await;
    assert_eq!(tags, vec![b'T', b'D', b'C', b'Z']);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_startup_packets_are_refused() {
    let pg = trusted().await;
    for packet in [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        4i32.to_be_bytes().to_vec(),
        (-1i32).to_be_bytes().to_vec(),
        (1i32 << 30).to_be_bytes().to_vec(),
        [&12i32.to_be_bytes()[..], &196608i32.to_be_bytes(), b"us"].concat(),
        [
            &10i32.to_be_bytes()[..],
            &(2i32 << 16).to_be_bytes(),
            b"\0\0",
        ]
        .concat(),
    ] {
        let mut raw = Raw::connect(&pg).await;
        raw.send(&packet).await;
        drop(raw.0.shutdown().await);
        // Either an 08P01 error or a closed socket; never a hang or a crash.
        let code = raw.error_code().await;
        assert!(
            code.is_none() || code.as_deref() == Some("08P01"),
            "{packet:?}: {code:?}"
        );
    }
    still_serving(&pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_messages_end_only_their_connection() {
    let pg = trusted().await;
    let cases: Vec<Vec<u8>> = vec![
        [&[b'Q'][..], &(-1i32).to_be_bytes()].concat(),
        [&[b'Q'][..], &3i32.to_be_bytes()].concat(),
        [&[b'Q'][..], &(1i32 << 30).to_be_bytes(), b"SELECT"].concat(),
        [&[b'Q'][..], &12i32.to_be_bytes(), b"SELECT 1"].concat(),
        [&[b'!'][..], &4i32.to_be_bytes()].concat(),
        [&[b'B'][..], &6i32.to_be_bytes(), b"\0\0"].concat(),
    ];
    for bytes in cases {
        let mut raw = Raw::startup(&pg).await;
        raw.send(&bytes).await;
        let code = raw.error_code().await;
        assert_eq!(code.as_deref(), Some("08P01"), "{bytes:?}");
        assert!(
            raw.read().await.is_none(),
            "connection must close after {bytes:?}"
        );
    }
    still_serving(&pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_errors_discard_until_sync() {
    let pg = trusted().await;
    let mut raw = Raw::startup(&pg).await;
    raw.message(b'P', b"\0SELEC 1\0\0\0").await;
    raw.message(b'B', b"\0\0\0\0\0\0\0\0").await;
    raw.message(b'E', b"\0\0\0\0\0").await;
    raw.message(b'S', b"").await;
    assert_eq!(raw.until_ready().await, vec![b'E', b'Z']);
    // Unknown statement and portal names, duplicate statement names.
    raw.message(b'B', b"\0nope\0\0\0\0\0\0\0").await;
    raw.message(b'S', b"").await;
    assert_eq!(raw.error_code().await.as_deref(), Some("26000"));
    raw.until_ready().await;
    raw.message(b'E', b"nope\0\0\0\0\0").await;
    raw.message(b'S', b"").await;
    assert_eq!(raw.error_code().await.as_deref(), Some("34000"));
    raw.until_ready().await;
    raw.message(b'P', b"s1\0SELECT 1\0\0\0").await;
    raw.message(b'P', b"s1\0SELECT 2\0\0\0").await;
    raw.message(b'S', b"").await;
    assert_eq!(raw.error_code().await.as_deref(), Some("42P05"));
    raw.until_ready().await;
    // Execute with a row limit suspends the portal; the next Execute finishes it.
    raw.message(b'B', b"p\0s1\0\0\0\0\0\0\0").await;
    raw.message(b'E', b"p\0\0\0\0\x01").await;
    raw.message(b'E', b"p\0\0\0\0\x01").await;
    raw.message(b'S', b"").await;
    assert_eq!(raw.until_ready().await, vec![b'2', b'D', b's', b'C', b'Z']);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_half_open_sockets_do_not_block_others() {
    let pg = trusted().await;
    let mut idle = Vec::new();
    for _ in 0..64 {
        let mut raw = Raw::connect(&pg).await;
        raw.send(&8i32.to_be_bytes()).await; // half a startup packet
        idle.push(raw);
    }
    still_serving(&pg).await;
    let client = pg.client().await;
    assert_eq!(
        simple_rows(&client, "SELECT 2").await[0][0].as_deref(),
        Some("2")
    );
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_stops_its_query() {
    let pg = trusted().await;
    let mut raw = Raw::startup(&pg).await;
    raw.message(
        b'Q',
        b"SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b\0",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(raw);
    // The server notices the hang-up and the session goes away: shutdown completes promptly
    // instead of waiting for the query (which would take minutes).
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_cheap_and_bogus_cancels_are_ignored() {
    let pg = PgFixture::with(|c| {
        c.auth = AuthMethod::Trust;
        c.max_connections = 300;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..210 {
        idle.push(Raw::startup(&pg).await);
    }
    // A CancelRequest with a made-up key is ignored; the sessions keep working.
    let mut cancel = Raw::connect(&pg).await;
    let mut packet = 16i32.to_be_bytes().to_vec();
    packet.extend_from_slice(&80877102i32.to_be_bytes());
    packet.extend_from_slice(&1000i32.to_be_bytes());
    packet.extend_from_slice(&12345i32.to_be_bytes());
    cancel.send(&packet).await;
    assert!(cancel.read().await.is_none());
    for raw in idle.iter_mut().step_by(50) {
        raw.message(b'Q', b"SELECT 1\0").await;
        assert_eq!(raw.until_ready().await, vec![b'T', b'D', b'C', b'Z']);
    }
    still_serving(&pg).await;
}

/// A SASLInitialResponse that claims 500 MB is refused (08P01) as soon as its header arrives:
/// an unauthenticated peer gets PostgreSQL's 64 KB limit, not the 1 GiB one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_authentication_messages_are_refused_at_once() {
    let pg = PgFixture::start().await; // SCRAM
    let mut raw = Raw::connect(&pg).await;
    let mut body = 196608i32.to_be_bytes().to_vec();
    body.extend_from_slice(format!("user\0{USER}\0database\0tarn\0\0").as_bytes());
    let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    raw.send(&packet).await;
    let (tag, _) = raw.read().await.expect("AuthenticationSASL");
    assert_eq!(tag, b'R');
    let header = [
        &[b'p'][..],
        &500_000_000i32.to_be_bytes(),
        b"SCRAM-SHA-256\0",
    ]
    .concat();
    raw.send(&header).await;
    assert_eq!(raw.error_code().await.as_deref(), Some("08P01"));
    assert!(raw.read().await.is_none(), "the connection closes");
    let client = pg.client().await;
    assert_eq!(
        simple_rows(&client, "SELECT 3").await[0][0].as_deref(),
        Some("3")
    );
}

/// pg_backend_pid() is the pid the server announced in BackendKeyData.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_pid_is_the_announced_one() {
    let pg = trusted().await;
    let mut raw = Raw::connect(&pg).await;
    let mut body = 196608i32.to_be_bytes().to_vec();
    body.extend_from_slice(format!("user\0{USER}\0database\0tarn\0\0").as_bytes());
    let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    raw.send(&packet).await;
    let mut announced = None;
    while let Some((tag, body)) = raw.read().await {
        if tag == b'K' {
            announced = Some(i32::from_be_bytes([body[0], body[1], body[2], body[3]]));
        }
        if tag == b'Z' {
            break;
        }
    }
    let announced = announced.expect("BackendKeyData");
    raw.message(b'Q', b"SELECT pg_backend_pid()\0").await;
    let mut value = None;
    while let Some((tag, body)) = raw.read().await {
        if tag == b'D' {
            // One column: count (2), length (4), text.
            let len = i32::from_be_bytes([body[2], body[3], body[4], body[5]]) as usize;
            value = Some(String::from_utf8(body[6..6 + len].to_vec()).unwrap());
        }
        if tag == b'Z' {
            break;
        }
    }
    assert_eq!(value, Some(announced.to_string()));
}
