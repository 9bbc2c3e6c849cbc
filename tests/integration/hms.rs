//! The Hive Metastore Thrift API with real clients: hmsclient (Hive 2.3's generated Python
//! code, an implementation independent of tarn's codec) for every method tarn serves, and
//! what metastore clients change checked over pg, which goes through no HMS code.

use std::path::Path;
use std::process::{Child, Command};

use tokio_postgres::{Client, NoTls};

use crate::pg::clients::venv_python;
use crate::pg::serve::{KillOnDrop, spawn_serve, wait_port};

const PASSWORD: &str = "hms-secret";

/// `tarn serve` with pg and the metastore API, connections acting as role `spark`.
pub(crate) struct HmsServer {
    pub dir: tempfile::TempDir,
    pub pg: Client,
    pub hms_port: u16,
    _child: Child,
    _guard: KillOnDrop,
}

impl HmsServer {
    /// Loopback clients act as `spark` (a `[[hms.clients]]` rule; the default role is one
    /// that does not exist).
    pub async fn start() -> Self {
        Self::start_with(tempfile::tempdir().unwrap(), &[]).await
    }

    pub async fn start_with(dir: tempfile::TempDir, more: &[&str]) -> Self {
        let rule = "[[hms.clients]]\ncidr = \"127.0.0.0/8\"\nrole = \"spark\"\n";
        Self::start_configured(dir, more, rule).await
    }

    pub async fn start_configured(dir: tempfile::TempDir, more: &[&str], hms_toml: &str) -> Self {
        let data = dir.path().join("data");
        let lake = dir.path().join("lake");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&lake).unwrap();
        std::fs::write(
            data.join("tarn.toml"),
            format!(
                "allowed_roots = [\"{}\"]\n[hms]\n{}",
                lake.display(),
                hms_toml
            ),
        )
        .unwrap();
        let hms_file = data.join("hms-port");
        let mut extra = vec![
            "--hms-listen",
            "127.0.0.1:0",
            "--hms-port-file",
            hms_file.to_str().unwrap(),
        ];
        extra.extend_from_slice(more);
        let mut child = spawn_serve(&data, &extra, Some(PASSWORD));
        let guard = KillOnDrop(child.id());
        let port = wait_port(&data, &mut child);
        let hms_port: u16 = std::fs::read_to_string(&hms_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let conn = format!("host=127.0.0.1 port={port} user=tarn password={PASSWORD} dbname=tarn");
        let (pg, connection) = tokio_postgres::connect(&conn, NoTls).await.unwrap();
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Self {
            dir,
            pg,
            hms_port,
            _child: child,
            _guard: guard,
        }
    }

    pub fn lake(&self) -> std::path::PathBuf {
        self.dir.path().join("lake")
    }

    pub async fn sql(&self, sql: &str) {
        self.pg
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
}

/// Runs a Python client script with arguments; its failure fails the test with its output.
pub(crate) async fn run_python(script: &str, args: &[String]) -> String {
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(venv_python());
    command.arg(&path).args(args);
    let out = tokio::task::spawn_blocking(move || {
        command
            .output()
            .expect("run python (see scripts/test-deps.sh)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script} failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The fixture of `hms_thrift.py`: a partitioned table `spark` may read, one it may not.
async fn thrift_fixture(s: &HmsServer) {
    s.sql(
        "CREATE USER spark LOGIN; CREATE DATABASE sales;
         CREATE TABLE sales.events (id bigint, note string, dt string, n int) PARTITIONED BY (dt, n);
         INSERT INTO sales.events VALUES (1, 'a', '2024-01-01', 1), (2, 'b', '2024-01-02', 2), (3, 'c', '2024-01-02', NULL);
         CREATE TABLE sales.secret (x int, y int);
         GRANT SELECT (x) ON sales.secret TO spark;
         GRANT USAGE, CREATE ON SCHEMA sales TO spark;
         GRANT CREATE ON DATABASE tarn TO spark;
         GRANT SELECT ON sales.events TO spark;",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmsclient_thrift_suite() {
    let s = HmsServer::start().await;
    thrift_fixture(&s).await;
    let out = run_python(
        "hms_thrift.py",
        &[s.hms_port.to_string(), s.lake().display().to_string()],
    )
    .await;
    assert!(out.trim_end().ends_with("ok"), "{out}");
    // What the client dropped is gone for pg too; what it could not touch is intact.
    let tables: Vec<String> = s
        .pg
        .query("SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'sales' ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, ["events", "secret"]);
    let n: i64 =
        s.pg.query_one("SELECT count(*) FROM sales.events", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(n, 3);
}

/// Partitions a metastore client registers are what the next pg query reads, and data files
/// put in them are read exactly when the registration returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_partitions_are_read_over_pg() {
    let s = HmsServer::start().await;
    s.sql(
        "CREATE USER spark LOGIN; CREATE DATABASE raw;
         CREATE TABLE raw.clicks (id bigint, dt string) PARTITIONED BY (dt);
         GRANT USAGE ON SCHEMA raw TO spark; GRANT SELECT, INSERT ON raw.clicks TO spark;
         CREATE TABLE raw.staging (id bigint);
         INSERT INTO raw.staging VALUES (10), (11), (12);",
    )
    .await;
    // A Parquet file written by another engine into the partition directory before it is
    // registered (Spark's commit order): copy a file tarn wrote for the staging table.
    let staging = find_parquet(&s.dir.path().join("data/warehouse"), "staging");
    let out = run_python(
        "hms_register.py",
        &[s.hms_port.to_string(), staging.display().to_string()],
    )
    .await;
    assert!(out.contains("registered"), "{out}");
    let rows =
        s.pg.query("SELECT id, dt FROM raw.clicks ORDER BY id", &[])
            .await
            .unwrap();
    let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        [
            (10, "2024-05-01".to_string()),
            (11, "2024-05-01".into()),
            (12, "2024-05-01".into())
        ]
    );
}

fn find_parquet(root: &Path, table: &str) -> std::path::PathBuf {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "parquet")
                && p.to_string_lossy().contains(table)
            {
                return p;
            }
        }
    }
    panic!("no parquet file of {table} under {}", root.display());
}

/// A Spark session (pyspark's built-in Hive 2.3 client, local[1]) with tarn as its metastore:
/// it reads what tarn wrote, and tarn (over pg) reads what it wrote, step by step. Spark's own
/// answers are the oracle for what pg must see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spark_shares_the_catalog() {
    let s = HmsServer::start().await;
    s.sql(
        "CREATE USER spark LOGIN; CREATE DATABASE sales;
         CREATE TABLE sales.events (id bigint, note string, dt string) PARTITIONED BY (dt);
         INSERT INTO sales.events VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-02'), (3, 'c', '2024-01-02');
         GRANT USAGE, CREATE ON SCHEMA sales TO spark; GRANT SELECT ON sales.events TO spark;",
    )
    .await;
    let warehouse = s.dir.path().join("data/warehouse");
    let out = run_python(
        "hms_spark.py",
        &[s.hms_port.to_string(), warehouse.display().to_string()],
    )
    .await;
    let seen: std::collections::HashMap<&str, &str> =
        out.lines().filter_map(|l| l.split_once('=')).collect();
    assert_eq!(seen.get("done"), Some(&"yes"), "{out}");
    assert_eq!(seen["databases"], "default,sales");
    assert_eq!(seen["tables"], "events");
    assert_eq!(seen["read"], "1:2024-01-01;2:2024-01-02;3:2024-01-02");
    assert_eq!(seen["pruned"], "2,3");
    assert_eq!(seen["partitions"], "dt=2024-01-01,dt=2024-01-02");
    // CTAS, INSERT INTO and a dynamic INSERT OVERWRITE of one partition, as Spark read them back.
    assert_eq!(
        seen["spark_by_day"],
        "20:2024-01-02;30:2024-01-02;77:2024-01-01;99:2024-02-01"
    );
    assert_eq!(seen["view"], "2,3");
    assert!(
        seen["stats"].contains("4 rows"),
        "ANALYZE statistics round trip: {out}"
    );
    // tarn's own statistics (kept by its commits) are what Spark sees for tarn's table.
    assert!(
        seen["tarn_stats"].ends_with(" 3 rows"),
        "tarn statistics served: {out}"
    );
    assert_eq!(
        seen["after_msck"],
        "dt=2024-01-01,dt=2024-01-02,dt=2024-02-01,dt=2024-03-01"
    );
    // tarn over pg sees exactly what Spark wrote (the MSCK partition holds a copy of 99).
    let rows =
        s.pg.query("SELECT id, dt FROM sales.by_day ORDER BY dt, id", &[])
            .await
            .unwrap();
    let got: Vec<String> = rows
        .iter()
        .map(|r| format!("{}:{}", r.get::<_, i64>(0), r.get::<_, String>(1)))
        .collect();
    assert_eq!(
        got,
        [
            "77:2024-01-01",
            "20:2024-01-02",
            "30:2024-01-02",
            "99:2024-02-01",
            "99:2024-03-01"
        ]
    );
    let view =
        s.pg.query("SELECT id FROM sales.big ORDER BY id", &[])
            .await
            .unwrap();
    assert_eq!(
        view.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(),
        [2, 3]
    );
    let tables = s.pg.query("SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'sales' ORDER BY 1", &[]).await.unwrap();
    let names: Vec<String> = tables.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        names,
        ["analyzed", "by_day", "events"],
        "the dropped table is gone, the view is not a table"
    );
    // Spark's ANALYZE landed where tarn keeps row counts (pg_class.reltuples reads numRows).
    let analyzed =
        s.pg.query_one(
            "SELECT reltuples::bigint FROM pg_catalog.pg_class WHERE relname = 'analyzed'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(analyzed.get::<_, i64>(0), 2);
}

/// With the pg certificate configured, the metastore listener speaks TLS only.
/// pyiceberg's HiveCatalog commits through tarn's locks and alters; tarn lists the Iceberg
/// table but refuses to read it (its directory is Iceberg metadata and data, not a table of
/// files), rather than read it as the text table its storage descriptor claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyiceberg_commits_through_tarn_locks() {
    let s = HmsServer::start().await;
    s.sql("CREATE USER spark LOGIN; GRANT CREATE ON DATABASE tarn TO spark;")
        .await;
    let out = run_python("hms_iceberg.py", &[s.hms_port.to_string()]).await;
    assert!(out.trim_end().ends_with("ok"), "{out}");
    let tables =
        s.pg.query(
            "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'ice'",
            &[],
        )
        .await
        .unwrap();
    let names: Vec<String> = tables.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, vec!["kept".to_string()]);
    let err = s.pg.query("SELECT * FROM ice.kept", &[]).await.unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "0A000", "{db:?}");
    assert!(db.message().contains("Iceberg"), "{db:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = crate::pg::serve::self_signed(dir.path());
    let s = HmsServer::start_with(dir, &["--tls-cert", &cert, "--tls-key", &key]).await;
    let out = run_python("hms_tls.py", &[s.hms_port.to_string(), cert.clone()]).await;
    assert!(out.trim_end().ends_with("ok"), "{out}");
}

/// Without configuration a connection acts as a role that does not exist: it sees what PUBLIC
/// may see and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_role_has_only_public_privileges() {
    let s = HmsServer::start_configured(tempfile::tempdir().unwrap(), &[], "").await;
    thrift_fixture(&s).await;
    let out = run_python("hms_anonymous.py", &[s.hms_port.to_string()]).await;
    assert!(out.trim_end().ends_with("ok"), "{out}");
}
