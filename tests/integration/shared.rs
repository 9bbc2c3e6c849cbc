//! Several `tarn serve` processes sharing one PostgreSQL catalog (a real server, see
//! `tarn_catalog::testing`) and one S3 bucket (moto): a commit through one server is seen by the
//! next statement on any other, concurrent writers on different servers lose and double nothing,
//! racing overwrites have one winner, and a server killed mid-write leaves nothing and blocks
//! nobody. Results are checked against what the clients were told, not against tarn's numbers.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Child;

use tarn_catalog::testing::PostgresServer;
use tokio_postgres::{Client, NoTls};

use crate::pg::serve::{KillOnDrop, spawn_serve, wait_port};
use crate::support::moto::Moto;

const PASSWORD: &str = "shared-secret";

/// N servers over one catalog schema and one bucket.
struct Cluster {
    _moto: Moto,
    dir: tempfile::TempDir,
    toml: String,
    servers: Vec<Server>,
}

struct Server {
    data: PathBuf,
    child: Option<Child>,
    _guard: KillOnDrop,
    port: u16,
}

impl Cluster {
    fn start(n: usize) -> Self {
        let moto = Moto::start();
        moto.create_bucket("lake");
        let pg = PostgresServer::shared();
        let toml = format!(
            "warehouse = \"s3://lake/wh\"\n\
             [[storage]]\nurl = \"s3://lake\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n\
             allow_http = true\npath_style = true\nconditional_put = \"etag\"\n\
             access_key_id = \"testing\"\nsecret_access_key = \"testing\"\n\
             [catalog]\nurl = \"{}\"\nschema = \"{}\"\n",
            moto.endpoint(),
            pg.url(),
            pg.schema("shared"),
        );
        let mut cluster = Self {
            _moto: moto,
            dir: tempfile::tempdir().unwrap(),
            toml,
            servers: vec![],
        };
        // One after the other: the first one bootstraps the admin in the shared catalog.
        for i in 0..n {
            let data = cluster.dir.path().join(format!("server{i}"));
            let server = cluster.spawn(data);
            cluster.servers.push(server);
        }
        cluster
    }

    fn spawn(&self, data: PathBuf) -> Server {
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("tarn.toml"), &self.toml).unwrap();
        let _ = std::fs::remove_file(data.join("port"));
        let mut child = spawn_serve(&data, &[], Some(PASSWORD));
        let guard = KillOnDrop(child.id());
        let port = wait_port(&data, &mut child);
        Server {
            data,
            child: Some(child),
            _guard: guard,
            port,
        }
    }

    async fn client(&self, i: usize) -> Client {
        connect(self.servers[i].port).await
    }

    /// SIGKILLs server `i` and starts it again on the same data dir.
    fn kill_and_restart(&mut self, i: usize) {
        if let Some(mut child) = self.servers[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let data = self.servers[i].data.clone();
        self.servers[i] = self.spawn(data);
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.servers[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn connect(port: u16) -> Client {
    let conn = format!("host=127.0.0.1 port={port} user=tarn password={PASSWORD} dbname=tarn");
    let (client, connection) = tokio_postgres::connect(&conn, NoTls).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.code().map(|c| c.code().to_string()).unwrap_or_default()
}

/// Runs `sql`, retrying (bounded) while it fails with 40001 as a client with a retry loop does.
async fn with_retries(client: &Client, sql: &str) -> Result<u64, tokio_postgres::Error> {
    let mut attempt = 0;
    loop {
        match client.execute(sql, &[]).await {
            Err(e) if sqlstate(&e) == "40001" && attempt < 50 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn rows_of(client: &Client, sql: &str) -> BTreeSet<(i32, i32)> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_on_three_servers_lose_and_double_nothing() {
    let cluster = Cluster::start(3);
    let admin = cluster.client(0).await;
    admin
        .batch_execute("CREATE TABLE events (i int) PARTITIONED BY (p int)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..8i32 {
        let client = cluster.client(w as usize % 3).await;
        tasks.push(tokio::spawn(async move {
            let mut acked = BTreeSet::new();
            for i in 0..25i32 {
                // Four partitions: writers race to create them and append to them.
                let sql = format!("INSERT INTO events VALUES ({}, {})", w * 100 + i, i % 4);
                with_retries(&client, &sql).await.unwrap();
                acked.insert((w * 100 + i, i % 4));
            }
            acked
        }));
    }
    let mut acked = BTreeSet::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    assert_eq!(acked.len(), 200);
    for s in 0..3 {
        let client = cluster.client(s).await;
        let seen = rows_of(&client, "SELECT i, p FROM events").await;
        assert_eq!(seen, acked, "server {s}");
        let n: i64 = client
            .query_one("SELECT count(*) FROM events", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 200, "server {s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_overwrites_on_two_servers_have_one_winner_each_time() {
    let cluster = Cluster::start(2);
    let admin = cluster.client(0).await;
    admin
        .batch_execute("CREATE TABLE t (round int, v int); INSERT INTO t VALUES (0, 0)")
        .await
        .unwrap();
    let mut won = Vec::new();
    let mut lost = 0;
    for round in 1..=12 {
        let a = cluster.client(0).await;
        let b = cluster.client(1).await;
        // Each writer replaces the table with rows of its own; both read it first, so both
        // commit against the same version: one must win, the other get 40001.
        let overwrite = |client: Client, writer: i32| async move {
            let sql = format!(
                "INSERT OVERWRITE t SELECT {round}, {writer} * 1000 + x FROM generate_series(1, {}) AS g(x)",
                10 + writer
            );
            (writer, client.execute(sql.as_str(), &[]).await)
        };
        let (ra, rb) = tokio::join!(overwrite(a, 1), overwrite(b, 2));
        let mut winners = Vec::new();
        for (writer, result) in [ra, rb] {
            match result {
                Ok(_) => winners.push(writer),
                Err(e) => {
                    assert_eq!(sqlstate(&e), "40001", "round {round}: {e:?}");
                    lost += 1;
                }
            }
        }
        assert!(!winners.is_empty(), "round {round}: both lost");
        // Whatever won last, the table holds exactly one writer's rows of this round.
        for s in 0..2 {
            let client = cluster.client(s).await;
            let rows = client
                .query("SELECT round, v FROM t ORDER BY v", &[])
                .await
                .unwrap();
            let writers: BTreeSet<i32> = rows.iter().map(|r| r.get::<_, i32>(1) / 1000).collect();
            assert_eq!(writers.len(), 1, "round {round}, server {s}: mixed rows");
            let writer = *writers.iter().next().unwrap();
            assert!(
                winners.contains(&writer),
                "round {round}: a loser's rows are visible"
            );
            assert_eq!(rows.len() as i32, 10 + writer, "round {round}");
            assert!(rows.iter().all(|r| r.get::<_, i32>(0) == round));
        }
        won.push(winners.len());
    }
    // Over twelve rounds the two commits overlap at least once: a race was tested.
    assert!(lost > 0, "no overwrite ever conflicted: {won:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ddl_and_grants_on_one_server_are_seen_by_the_next_statement_on_another() {
    let cluster = Cluster::start(2);
    let a = cluster.client(0).await;
    let b = cluster.client(1).await;
    for round in 0..10 {
        a.batch_execute(&format!(
            "CREATE TABLE d{round} (x int); INSERT INTO d{round} VALUES ({round})"
        ))
        .await
        .unwrap();
        let x: i32 = b
            .query_one(&format!("SELECT x FROM d{round}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(x, round);
        b.batch_execute(&format!("DROP TABLE d{round}"))
            .await
            .unwrap();
        let err = a
            .query(&format!("SELECT x FROM d{round}"), &[])
            .await
            .unwrap_err();
        assert_eq!(sqlstate(&err), "42P01", "{err:?}");
    }
    // A user created on one server logs in on the other; a revoke there holds at once here.
    a.batch_execute(
        "CREATE USER bob PASSWORD 'bob-pw'; CREATE TABLE secrets (s int);
         INSERT INTO secrets VALUES (7); GRANT SELECT ON secrets TO bob",
    )
    .await
    .unwrap();
    let conn = format!(
        "host=127.0.0.1 port={} user=bob password=bob-pw dbname=tarn",
        cluster.servers[1].port
    );
    let (bob, connection) = tokio_postgres::connect(&conn, NoTls).await.unwrap();
    tokio::spawn(connection);
    let s: i32 = bob
        .query_one("SELECT s FROM secrets", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(s, 7);
    a.batch_execute("REVOKE SELECT ON secrets FROM bob")
        .await
        .unwrap();
    let err = bob.query("SELECT s FROM secrets", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_mid_write_leaves_nothing_and_blocks_nobody() {
    let mut cluster = Cluster::start(2);
    let admin = cluster.client(1).await;
    admin
        .batch_execute("CREATE TABLE big (x bigint) PARTITIONED BY (p int)")
        .await
        .unwrap();
    let rows: u64 = 500_000;
    let sql = format!("INSERT INTO big SELECT x, x % 3 FROM generate_series(1, {rows}) AS g(x)");
    // How long such a write takes here, so kills fall before, during and after its commit.
    let calibrate = std::time::Instant::now();
    cluster
        .client(0)
        .await
        .execute(sql.as_str(), &[])
        .await
        .unwrap();
    let took = calibrate.elapsed().as_millis() as u64;
    let mut acked = rows as i64;
    let mut killed_mid_write = 0;
    let mut seed = 0x5eed_u64;
    for round in 0..8 {
        let victim = cluster.client(0).await;
        let sql = sql.clone();
        let started_write = std::time::Instant::now();
        let write = tokio::spawn(async move { victim.execute(sql.as_str(), &[]).await });
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = took / 10 + (seed >> 33) % (took * 3 / 2).max(1);
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        cluster.kill(0);
        eprintln!("round {round}: killed after {:?}", started_write.elapsed());
        let landed = matches!(write.await.unwrap(), Ok(n) if n == rows);
        if landed {
            acked += rows as i64;
        }
        // The other server is not blocked: it writes and reads at once.
        let started = std::time::Instant::now();
        with_retries(&admin, &format!("INSERT INTO big VALUES ({round}, 9)"))
            .await
            .unwrap();
        acked += 1;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "a write waited {:?} after a server died",
            started.elapsed()
        );
        let n: i64 = admin
            .query_one("SELECT count(*) FROM big", &[])
            .await
            .unwrap()
            .get(0);
        // The killed write either committed whole before the kill (the client may not have
        // heard) or left nothing visible.
        if !landed {
            if n == acked + rows as i64 {
                acked += rows as i64;
            } else {
                killed_mid_write += 1;
            }
        }
        assert_eq!(n, acked, "round {round}");
        eprintln!("round {round}: landed {landed}, {n} rows");
        cluster.kill_and_restart(0);
    }
    assert!(killed_mid_write > 0, "no kill landed mid-write");
    let restarted = cluster.client(0).await;
    let n: i64 = restarted
        .query_one("SELECT count(*) FROM big", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, acked);
}

/// What a statement costs in catalog round trips on PostgreSQL, counted by the store (statements
/// sent together count once). Printed for the notes; bounded so a regression shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_point_query_costs_few_catalog_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tarn::EngineConfig::new(dir.path());
    config.catalog = Some(PostgresServer::shared().options("trips"));
    let tarn = tarn::Tarn::connect(config).await.unwrap();
    let admin = tarn.session("tarn");
    admin
        .query(
            "CREATE TABLE t (x int) PARTITIONED BY (p int);
             INSERT INTO t SELECT x, x % 50 FROM generate_series(1, 1000) AS g(x);
             CREATE USER bob PASSWORD 'pw'; GRANT SELECT ON t TO bob",
        )
        .await
        .unwrap();
    let engine = tarn.engine();
    let bob = engine
        .roles()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == "bob")
        .unwrap();
    let session = engine.connect(&bob).await.unwrap();
    let mut costs = Vec::new();
    for sql in [
        "SELECT count(*) FROM t WHERE p = 7",
        "SELECT count(*) FROM t WHERE p = 8",
        "SELECT 1",
    ] {
        // A run on a pooled connection that has not seen a statement also prepares it (one
        // more round trip); which connection a run gets varies, so the steady cost is the least.
        let mut least = u64::MAX;
        for _ in 0..6 {
            let before = engine.catalog_round_trips().unwrap();
            for statement in session.parse(sql).unwrap() {
                if let tarn::Output::Stream(stream) = session.execute(statement).await.unwrap() {
                    let batches = tarn::collect(stream).await.unwrap();
                    assert_eq!(batches.len(), 1);
                }
            }
            least = least.min(engine.catalog_round_trips().unwrap() - before);
        }
        costs.push((sql, least));
    }
    eprintln!("catalog round trips: {costs:?}");
    // Resolving the table (its snapshot, with the roles read alongside) and the scan (write
    // state and partitions together): two waits, three reads.
    assert_eq!(
        costs,
        [
            ("SELECT count(*) FROM t WHERE p = 7", 3),
            ("SELECT count(*) FROM t WHERE p = 8", 3),
            ("SELECT 1", 0)
        ]
    );
}

/// Servers sharing a catalog show an unknown user the same decoy verifier (salt and keys), as
/// they show a real user the same real one: comparing servers does not tell which users exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_of_one_catalog_show_the_same_decoys() {
    let options = PostgresServer::shared().options("decoys");
    let open = |options: tarn_catalog::PostgresOptions| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut config = tarn::EngineConfig::new(dir.path());
        config.catalog = Some(options);
        (dir, tarn::Tarn::connect(config).await.unwrap())
    };
    let (_a_dir, a) = open(options.clone()).await;
    let (_b_dir, b) = open(options).await;
    let decoy = |t: &tarn::Tarn| t.engine().authenticator().decoy_verifier("mallory");
    assert_eq!(decoy(&a), decoy(&b));
    // Another catalog's decoys differ.
    let (_c_dir, c) = open(PostgresServer::shared().options("decoys")).await;
    assert_ne!(decoy(&a).salt, decoy(&c).salt);
}

fn tarn_cli(data: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tarn"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("TARN_CONFIG")
        .env_remove("TARN_CATALOG")
        .env_remove("TARN_CATALOG_SCHEMA")
        .env_remove("TARN_CATALOG_PASSWORD")
        .env_remove("TARN_WAREHOUSE");
    c
}

fn run_ok(c: &mut std::process::Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// An embedded catalog grows into a shared one: `tarn catalog export` on the embedded data dir,
/// `tarn catalog import` into a PostgreSQL catalog (named by the environment), and the same
/// tables, rows and users answer through it.
#[test]
fn an_embedded_catalog_moves_into_postgres_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = dir.path().join("embedded");
    let shared = dir.path().join("shared");
    run_ok(tarn_cli(&embedded).args([
        "sql",
        "-q",
        "-e",
        "CREATE TABLE t (x int) PARTITIONED BY (p int);
         INSERT INTO t SELECT x, x % 5 FROM generate_series(1, 100) AS g(x);
         CREATE USER carol PASSWORD 'pw'",
    ]));
    let dump = dir.path().join("catalog.json");
    run_ok(tarn_cli(&embedded).args(["catalog", "export"]).arg(&dump));
    let pg = PostgresServer::shared();
    let schema = pg.schema("cli");
    let warehouse = embedded.join("warehouse");
    let with_catalog = |c: &mut std::process::Command| {
        c.env("TARN_CATALOG", pg.url())
            .env("TARN_CATALOG_SCHEMA", &schema)
            .arg("--warehouse")
            .arg(&warehouse);
    };
    let mut import = tarn_cli(&shared);
    with_catalog(&mut import);
    run_ok(import.args(["catalog", "import"]).arg(&dump));
    // A second import into a catalog in use is refused.
    let mut again = tarn_cli(&shared);
    with_catalog(&mut again);
    let out = again
        .args(["catalog", "import"])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    let mut query = tarn_cli(&shared);
    with_catalog(&mut query);
    let out = run_ok(query.args([
        "sql",
        "--format",
        "csv",
        "-e",
        "SELECT count(*), sum(x), count(DISTINCT p) FROM t",
    ]));
    assert!(out.contains("100,5050,5"), "{out}");
    let mut users = tarn_cli(&shared);
    with_catalog(&mut users);
    let out = run_ok(users.args(["user", "list"]));
    assert!(out.contains("carol"), "{out}");
}

/// A catalog URL that is not PostgreSQL, or a server that is not there, is a clear error that
/// does not show the password.
#[test]
fn a_bad_or_unreachable_catalog_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = tarn_cli(dir.path())
        .args([
            "--catalog",
            "mysql://root:hunter2@127.0.0.1/x",
            "sql",
            "-e",
            "SELECT 1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a postgresql:// URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let out = tarn_cli(dir.path())
        .args(["sql", "-e", "SELECT 1"])
        .env(
            "TARN_CATALOG",
            format!("postgresql://tarn:hunter2@127.0.0.1:{port}/x"),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to the catalog"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
