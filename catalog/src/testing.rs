//! A real PostgreSQL server for tests and benchmarks (Debian's `postgresql` package, installed by
//! `scripts/test-deps.sh`): a throwaway cluster on 127.0.0.1 with an ephemeral port, started
//! once per process and shared; each user takes a schema of its own ([`PostgresServer::schema`]).
//!
//! PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user. A
//! watchdog stops the cluster and deletes its directory when the process that started it exits
//! (test binaries never run destructors of statics).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A running throwaway cluster.
#[derive(Debug)]
pub struct PostgresServer {
    pub port: u16,
    dir: PathBuf,
    /// With TLS: the server's self-signed certificate (it names `localhost` only).
    tls: Option<PathBuf>,
}

static SERVER: OnceLock<PostgresServer> = OnceLock::new();
static SCHEMAS: AtomicU64 = AtomicU64::new(0);

/// The directory of the PostgreSQL binaries (the newest installed major version).
fn bin_dir() -> PathBuf {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<u32> = std::fs::read_dir(base)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    versions.sort_unstable();
    let newest = versions
        .last()
        .expect("PostgreSQL server binaries in /usr/lib/postgresql (run scripts/test-deps.sh)");
    base.join(newest.to_string()).join("bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A command run as the cluster's owner.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PostgresServer {
    /// The process's cluster, started on first use (about a second).
    pub fn shared() -> &'static PostgresServer {
        SERVER.get_or_init(Self::start)
    }

    /// A cluster of the caller's own (for tests that stop or restart it); stopped when dropped.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// The same, accepting TLS with a self-signed certificate for `localhost`
    /// ([`PostgresServer::certificate`]); made with the `openssl` command.
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    /// The CA certificate (PEM) that signed a TLS cluster's certificate.
    pub fn certificate(&self) -> Option<PathBuf> {
        self.tls.clone()
    }

    fn start_with(tls: bool) -> Self {
        let bin = bin_dir();
        let dir =
            std::env::temp_dir().join(format!("tarn-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["postgres:postgres"]).arg(&dir);
                    c
                },
                "chown",
            );
        }
        let data = dir.join("data");
        let mut initdb = as_owner(&bin.join("initdb"));
        initdb
            .args(["-A", "trust", "-U", "tarn", "--no-sync", "-E", "UTF8", "-D"])
            .arg(&data);
        run(initdb, "initdb");
        // A port can be taken between choosing and binding it: try a few.
        let tls = tls.then(|| make_certificate(&dir));
        let mut server = Self { port: 0, dir, tls };
        for _ in 0..5 {
            server.port = free_port();
            if server.start_cluster() {
                server.watch(&bin);
                server.wait_ready();
                return server;
            }
        }
        panic!(
            "PostgreSQL did not start; see {}",
            server.dir.join("log").display()
        );
    }

    /// `pg_ctl start` with this server's port and settings; whether it started.
    fn start_cluster(&self) -> bool {
        let mut ctl = as_owner(&bin_dir().join("pg_ctl"));
        ctl.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-t", "30", "-l"])
            .arg(self.dir.join("log"));
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            self.port,
            self.dir.display()
        );
        if self.tls.is_some() {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                self.dir.join("server.crt").display(),
                self.dir.join("server.key").display()
            ));
        }
        ctl.arg("-o").arg(options);
        ctl.arg("start").stdout(Stdio::null()).stderr(Stdio::null());
        ctl.status().is_ok_and(|s| s.success())
    }

    /// Stops the cluster once this process is gone.
    fn watch(&self, bin: &Path) {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {owner}{ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            owner = if is_root() {
                "runuser -u postgres -- "
            } else {
                ""
            },
            ctl = bin.join("pg_ctl").display(),
            data = self.dir.join("data").display(),
            dir = self.dir.display(),
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL is not accepting connections"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL of the cluster's `postgres` database as the superuser `tarn`.
    pub fn url(&self) -> String {
        format!("postgresql://tarn@127.0.0.1:{}/postgres", self.port)
    }

    /// A schema name no other user of this cluster has taken.
    pub fn schema(&self, prefix: &str) -> String {
        format!(
            "{prefix}_{}_{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Options for a fresh schema of this cluster.
    pub fn options(&self, prefix: &str) -> crate::PostgresOptions {
        let mut options = crate::PostgresOptions::new(self.url());
        options.schema = self.schema(prefix);
        options
    }

    fn ctl(&self, args: &[&str]) {
        let mut ctl = as_owner(&bin_dir().join("pg_ctl"));
        ctl.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-t", "30"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        run(ctl, "pg_ctl");
    }

    /// Stops the cluster, cutting every connection (a fast shutdown: commits the server
    /// acknowledged survive even with this cluster's asynchronous commits).
    pub fn stop(&self) {
        self.ctl(&["-m", "fast", "stop"]);
    }

    /// Starts a stopped cluster again (the same data and port).
    pub fn resume(&self) {
        assert!(self.start_cluster(), "PostgreSQL did not start again");
        self.wait_ready();
    }
}

/// A test CA and a server certificate it signed for `localhost` (no IP address: connecting by
/// address fails the name check); the key is readable by the cluster's owner only. Returns the
/// CA's certificate, the root a client must trust.
fn make_certificate(dir: &Path) -> PathBuf {
    let file = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let mut c = Command::new("openssl");
        c.current_dir(dir).args(args);
        run(c, "openssl (run scripts/test-deps.sh)");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=tarn test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        file("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\n",
    )
    .expect("extensions file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    if is_root() {
        let mut chown = Command::new("chown");
        chown
            .args(["postgres:postgres"])
            .arg(file("server.key"))
            .arg(file("server.crt"));
        run(chown, "chown");
    }
    let mut chmod = Command::new("chmod");
    chmod.arg("600").arg(file("server.key"));
    run(chmod, "chmod");
    file("ca.crt")
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let mut ctl = as_owner(&bin_dir().join("pg_ctl"));
        let _ = ctl
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
