//! Real clients as users run them: the `psql` binary, Python psycopg 3 and pgjdbc (installed by
//! `scripts/test-deps.sh`; these tests fail, rather than skip, when a client is missing).

use std::process::Command;

use super::{PASSWORD, PgFixture, USER};

/// The test virtualenv's python (scripts/test-deps.sh creates it).
pub(crate) use crate::support::venv_python;

/// `psql -A -t -c command` as the fixture's superuser: unaligned rows, no headers or footers.
pub(crate) fn psql_command(pg: &PgFixture, command: &str) -> Command {
    let mut c = Command::new("psql");
    c.args([
        "-X",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        "127.0.0.1",
        "-p",
    ])
    .arg(pg.addr.port().to_string())
    .args(["-U", USER, "-d", "tarn", "-c", command])
    .env("PGPASSWORD", PASSWORD)
    .env("PGCONNECT_TIMEOUT", "10");
    c
}

/// Runs a blocking client process off the async runtime.
pub(crate) async fn run(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        command
            .output()
            .expect("run client (see scripts/test-deps.sh)")
    })
    .await
    .unwrap()
}

/// Runs a client program that exits 0 when all its checks passed.
async fn run_passing(command: Command) {
    let out = run(command).await;
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_scripted_session() {
    let pg = PgFixture::start().await;
    let script = r#"
CREATE TABLE visits (id int, page string) PARTITIONED BY (day date);
INSERT INTO visits VALUES (1, '/', DATE '2024-01-01'), (2, '/docs', DATE '2024-01-02');
\pset format unaligned
SELECT id, page, day FROM visits ORDER BY id;
\copy visits (id, page, day) from stdin with csv
3,/blog,2024-01-03
\.
SELECT count(*) AS n FROM visits;
BEGIN;
SELECT * FROM nope;
SELECT 1;
ROLLBACK;
SHOW TimeZone;
"#;
    let mut command = Command::new("psql");
    command
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-h", "127.0.0.1", "-p"])
        .arg(pg.addr.port().to_string())
        .args(["-U", USER, "-d", "tarn", "-c", ""])
        .env("PGPASSWORD", PASSWORD)
        .env("PGCONNECT_TIMEOUT", "10");
    // -c "" connects and checks credentials; the script goes through -f -.
    let out = run(command).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut command = Command::new("bash");
    command.arg("-c").arg(format!(
        "psql -X -q -v ON_ERROR_STOP=0 -h 127.0.0.1 -p {} -U {USER} -d tarn -f - <<'EOF'\n{script}\nEOF",
        pg.addr.port()
    ));
    command.env("PGPASSWORD", PASSWORD);
    let out = run(command).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stdout,
        "id|page|day\n1|/|2024-01-01\n2|/docs|2024-01-02\n(2 rows)\nn\n3\n(1 row)\nTimeZone\nUTC\n(1 row)\n",
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains("ERROR:  table 'tarn.default.nope' not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("current transaction is aborted"),
        "{stderr}"
    );
    // A wrong password: psql reports the failure and exits 2.
    let mut command = Command::new("psql");
    command
        .args(["-X", "-h", "127.0.0.1", "-p"])
        .arg(pg.addr.port().to_string())
        .args(["-U", USER, "-d", "tarn", "-c", "select 1"])
        .env("PGPASSWORD", "wrong");
    let out = run(command).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("password authentication failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_session() {
    let pg = PgFixture::start().await;
    let mut command = Command::new(venv_python());
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/psycopg_session.py"
        ))
        .arg(pg.conn_string(USER, PASSWORD));
    run_passing(command).await;
}

/// dbt-postgres runs a seeds → views → table project with its tests twice, then docs
/// generate; the mart is checked against values computed from the seed files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dbt_builds_the_shop_project_twice() {
    let pg = PgFixture::start().await;
    let mut command = Command::new(venv_python());
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/dbt_shop.py"
        ))
        .arg(pg.addr.port().to_string())
        .args([USER, PASSWORD])
        .arg(crate::support::dbt_bin());
    let out = run(command).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the browsing clients (psql meta-commands, SQLAlchemy, pgjdbc DatabaseMetaData, the
/// replayed BI queries) find: a partitioned table in a second schema, a commented table and
/// a view.
pub(crate) async fn create_browsing_fixture(client: &tokio_postgres::Client) {
    client
        .batch_execute(
            "CREATE DATABASE sales; \
             CREATE TABLE sales.orders (id int, amount double) PARTITIONED BY (day date); \
             CREATE TABLE visits (id int COMMENT 'visit id', page string) COMMENT 'page visits'; \
             CREATE VIEW recent AS SELECT id FROM visits",
        )
        .await
        .unwrap();
}

/// pgjdbc's DatabaseMetaData, which DBeaver, DataGrip, Metabase and Tableau browse with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_database_metadata() {
    let pg = PgFixture::start().await;
    create_browsing_fixture(&pg.client().await).await;
    let mut command = Command::new("java");
    command
        .args(["-cp", "/usr/share/java/postgresql.jar"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/JdbcMetadata.java"
        ))
        .arg(format!(
            "jdbc:postgresql://127.0.0.1:{}/tarn",
            pg.addr.port()
        ))
        .args([USER, PASSWORD]);
    run_passing(command).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_session() {
    let pg = PgFixture::start().await;
    let mut command = Command::new("java");
    command
        .args(["-cp", "/usr/share/java/postgresql.jar"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/JdbcSession.java"
        ))
        .arg(format!(
            "jdbc:postgresql://127.0.0.1:{}/tarn",
            pg.addr.port()
        ))
        .args([USER, PASSWORD]);
    run_passing(command).await;
}

/// psql's FETCH_COUNT runs a query through DECLARE … CURSOR / FETCH FORWARD n / CLOSE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_fetch_count_uses_cursors() {
    let pg = PgFixture::start().await;
    let mut command = Command::new("psql");
    command
        .args([
            "-X",
            "-A",
            "-t",
            "-v",
            "FETCH_COUNT=1000",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .args(["-h", "127.0.0.1", "-p"])
        .arg(pg.addr.port().to_string())
        .args(["-U", USER, "-d", "tarn"])
        .args(["-c", "SELECT value FROM range(0, 5500) ORDER BY value"])
        .env("PGPASSWORD", PASSWORD)
        .env("PGCONNECT_TIMEOUT", "10");
    let out = run(command).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values: Vec<u64> = stdout.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(values, (0..5500).collect::<Vec<u64>>());
}

/// psql's catalog meta-commands, answered from pg_catalog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_meta_commands_list_the_lakehouse() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    create_browsing_fixture(&client).await;
    let meta = |command: &'static str| psql_command(&pg, command);
    let cases: [(&str, &[&str]); 16] = [
        ("\\dt", &["public|visits|table|alice"]),
        ("\\dt sales.*", &["sales|orders|table|alice"]),
        ("\\dv", &["public|recent|view|alice"]),
        ("\\dn", &["public|alice", "sales|alice", "tarn|alice"]),
        ("\\l", &["tarn|alice|UTF8|C.UTF-8|C.UTF-8||libc|"]),
        ("\\du", &["alice|Superuser, Create role, Create DB|{}"]),
        // Partition keys are columns, flagged in their description.
        (
            "\\d sales.orders",
            &["id|integer|||", "amount|double precision|||", "day|date|||"],
        ),
        (
            "\\d+ sales.orders",
            &[
                "id|integer||||plain|||",
                "amount|double precision||||plain|||",
                "day|date||||plain|||partition key",
            ],
        ),
        (
            "\\dt+ sales.*",
            &["sales|orders|table|alice|permanent|managed|0 bytes|"],
        ),
        (
            "\\l+",
            &["tarn|alice|UTF8|C.UTF-8|C.UTF-8||libc||0 bytes|pg_default|"],
        ),
        ("\\dn+ sales", &["sales|alice||"]),
        ("\\dp visits", &["public|visits|table|||"]),
        // Tarn has no user functions, types, extensions or indexes: empty lists, no errors.
        ("\\df", &[]),
        ("\\dT", &[]),
        ("\\dx", &[]),
        // System catalogs are relations of pg_catalog (\dS).
        ("\\dtS pg_clas*", &["pg_catalog|pg_class|table|alice"]),
    ];
    for (command, expected) in cases {
        let out = run(meta(command)).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines, expected, "{command}");
    }
    // Footers (not printed with -t): managed vs external is the table's access method.
    let mut described = meta("\\d+ sales.orders");
    described.args(["-P", "tuples_only=off"]);
    let out = run(described).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Access method: managed"), "{stdout}");
    let out = run(meta("\\di")).await;
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Did not find any relations"),
        "{out:?}"
    );
}

/// SQLAlchemy 2's dialect initialisation and the Inspector calls tarn answers today.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_inspector() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    create_browsing_fixture(&client).await;
    let mut command = Command::new(venv_python());
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/sqlalchemy_inspect.py"
        ))
        .arg(pg.addr.port().to_string())
        .args([USER, PASSWORD]);
    run_passing(command).await;
}
