//! A real S3-compatible server for tests: moto (`moto_server` from the test virtualenv, see
//! scripts/test-deps.sh) on 127.0.0.1 with an ephemeral port, one per test, killed on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub port: u16,
}

fn venv() -> String {
    std::env::var("TARN_TEST_VENV").unwrap_or_else(|_| {
        format!(
            "{}/.cache/tarn/venv",
            std::env::var("HOME").unwrap_or_default()
        )
    })
}

/// One plain HTTP/1.1 request (moto checks no signatures); the response's status code.
fn request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

impl Moto {
    /// Starts moto and waits (bounded) until it answers.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(format!("{}/bin/moto_server", venv()))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server (run scripts/test-deps.sh)");
        let moto = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while request(port, "GET", "/moto-api/").is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn create_bucket(&self, bucket: &str) {
        let status = request(self.port, "PUT", &format!("/{bucket}")).expect("create bucket");
        assert_eq!(status, 200, "create bucket {bucket}");
    }

    /// tarn's `[[storage]]` entry for a bucket on this server.
    pub fn storage(&self, bucket: &str) -> tarn::storage::StorageConfig {
        tarn::storage::StorageConfig {
            url: format!("s3://{bucket}"),
            endpoint: Some(self.endpoint()),
            region: Some("us-east-1".into()),
            allow_http: true,
            path_style: true,
            conditional_put: Some("etag".into()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
            request_timeout_secs: Some(10),
            max_retries: Some(1),
            ..Default::default()
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
