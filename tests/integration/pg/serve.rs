//! `tarn serve` as users run it: the binary with a port file, the bootstrap admin, TLS through
//! psql, SIGTERM shutdown.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `tarn serve` on ephemeral ports; the pg port goes to `<data_dir>/port`, the Flight SQL port to
/// `<data_dir>/flight-port` (written first).
pub(crate) fn spawn_serve(data_dir: &Path, extra: &[&str], password: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tarn"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--pg-listen", "127.0.0.1:0", "--port-file"])
        .arg(data_dir.join("port"))
        .args(["--flight-listen", "127.0.0.1:0", "--flight-port-file"])
        .arg(data_dir.join("flight-port"))
        .args(extra)
        .env_remove("TARN_CONFIG")
        .env_remove("TARN_USER")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match password {
        Some(p) => command.env("TARN_PASSWORD", p),
        None => command.env_remove("TARN_PASSWORD"),
    };
    command.spawn().expect("spawn tarn serve")
}

/// Kills a spawned server when a test fails before stopping it, so no `tarn serve` outlives its
/// test (a killed process that already exited is harmless).
pub(crate) struct KillOnDrop(pub u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.0.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

/// The port once the server listens (bounded wait).
pub(crate) fn wait_port(data_dir: &Path, child: &mut Child) -> u16 {
    for _ in 0..300 {
        if let Ok(text) = std::fs::read_to_string(data_dir.join("port"))
            && let Ok(port) = text.trim().parse()
        {
            return port;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("tarn serve exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("tarn serve did not start");
}

fn psql(port: u16, conninfo: &str, password: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=tarn dbname=tarn connect_timeout=10 {conninfo}"
        ))
        .args(["-X", "-A", "-t", "-c", sql])
        .env("PGPASSWORD", password)
        .output()
        .expect("run psql")
}

pub(crate) fn stderr_of(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).to_string()
}

pub(crate) fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn serve_bootstraps_an_admin_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_serve(dir.path(), &["--demo"], None);
    let _guard = KillOnDrop(child.id());
    let port = wait_port(dir.path(), &mut child);
    sigterm(&child);
    let stderr = stderr_of(child);
    // No password configured: one was generated and printed once.
    let password = stderr
        .lines()
        .find_map(|l| l.strip_prefix("created superuser \"tarn\" with password: "))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_string();
    assert!(stderr.contains("tarn stopped"), "{stderr}");
    // Restart on the same data dir: the admin exists, nothing is printed again.
    std::fs::remove_file(dir.path().join("port")).unwrap();
    let mut child = spawn_serve(dir.path(), &[], None);
    let _guard2 = KillOnDrop(child.id());
    let port2 = wait_port(dir.path(), &mut child);
    let out = psql(port2, "", &password, "SELECT count(*) FROM events");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let _ = port;
    sigterm(&child);
    let stderr = stderr_of(child);
    assert!(!stderr.contains("created superuser"), "{stderr}");
}

pub(crate) fn self_signed(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            // A leaf certificate (not a CA) for localhost, as strict verifiers (rustls) require.
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    (cert.display().to_string(), key.display().to_string())
}

#[test]
fn tls_is_negotiated_and_can_be_required() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let mut child = spawn_serve(
        dir.path(),
        &["--tls-cert", &cert, "--tls-key", &key, "--tls-required"],
        Some("pw"),
    );
    let _guard = KillOnDrop(child.id());
    let port = wait_port(dir.path(), &mut child);
    let out = psql(port, "sslmode=require", "pw", "SELECT 1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = psql(port, "sslmode=disable", "pw", "SELECT 1");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only TLS connections"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sigterm(&child);
    stderr_of(child);

    // A broken key aborts startup: there is no plaintext fallback.
    std::fs::write(&key, "not a key").unwrap();
    std::fs::remove_file(dir.path().join("port")).unwrap();
    let child = spawn_serve(
        dir.path(),
        &["--tls-cert", &cert, "--tls-key", &key],
        Some("pw"),
    );
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TLS configuration"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("port").exists());
}
