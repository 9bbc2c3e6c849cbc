//! The protocol with tokio-postgres: simple and extended queries, portals, transactions,
//! settings, and the SQLSTATE of each error class.

use super::{PgFixture, simple_rows, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_queries_with_several_statements() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    let messages = client
        .simple_query(
            "CREATE TABLE t (id int, name string); INSERT INTO t VALUES (1, 'a'), (2, NULL); SELECT id, name FROM t ORDER BY id",
        )
        .await
        .unwrap();
    let tags: Vec<u64> = messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(tags, vec![0, 2, 2]);
    assert_eq!(
        simple_rows(&client, "SELECT id, name FROM t ORDER BY id").await,
        vec![
            vec![Some("1".into()), Some("a".into())],
            vec![Some("2".into()), None]
        ]
    );
    // An empty query string is answered, not an error.
    client.simple_query("").await.unwrap();
    // An error stops the rest of the message.
    let err = client
        .simple_query("SELECT 1; SELECT * FROM nope; SELECT 2")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_report_parameter_and_result_types() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    client
        .batch_execute("CREATE TABLE p (id bigint, name string, score double); INSERT INTO p VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'c', 3.5)")
        .await
        .unwrap();
    let stmt = client
        .prepare("SELECT id, name, score FROM p WHERE id > $1 AND name <> $2 ORDER BY id")
        .await
        .unwrap();
    let params: Vec<String> = stmt.params().iter().map(|t| t.name().to_string()).collect();
    assert_eq!(params, vec!["int8", "text"]);
    let columns: Vec<(String, String)> = stmt
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().name().to_string()))
        .collect();
    assert_eq!(
        columns,
        vec![
            ("id".into(), "int8".into()),
            ("name".into(), "text".into()),
            ("score".into(), "float8".into())
        ]
    );
    for _ in 0..3 {
        let rows = client.query(&stmt, &[&1i64, &"c"]).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get::<_, i64>(0), 2);
        assert_eq!(rows[0].get::<_, f64>(2), 2.5);
    }
    // Statements that are not queries describe as NoData and run as commands.
    let n = client
        .execute("INSERT INTO p VALUES ($1, $2, $3)", &[&4i64, &"d", &4.5f64])
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Catalog statements describe their columns too.
    let rows = client.query("SHOW TABLES", &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, String>(0), "p");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portals_suspend_and_resume() {
    let pg = PgFixture::start().await;
    let mut client = pg.client().await;
    let tx = client.transaction().await.unwrap();
    let portal = tx
        .bind("SELECT * FROM generate_series(1, 10) AS g(x)", &[])
        .await
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let rows = tx.query_portal(&portal, 3).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 3);
        seen.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
    }
    assert_eq!(seen, (1..=10).collect::<Vec<i64>>());
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_transactions_refuse_statements_until_rollback() {
    let pg = PgFixture::start().await;
    let mut client = pg.client().await;
    let tx = client.transaction().await.unwrap();
    let err = tx.query("SELECT 1/0", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "22012");
    let err = tx.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "25P02");
    tx.rollback().await.unwrap();
    assert_eq!(
        client
            .query_one("SELECT 1::int", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
    // Savepoints recover from an error inside a block.
    client.batch_execute("BEGIN; SAVEPOINT a").await.unwrap();
    assert!(client.batch_execute("SELECT * FROM nope").await.is_err());
    client
        .batch_execute("ROLLBACK TO SAVEPOINT a; SELECT 1; COMMIT")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_their_sqlstate() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    client
        .batch_execute("CREATE TABLE e (x int)")
        .await
        .unwrap();
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM missing", "42P01"),
        ("SELECT nope FROM e", "42703"),
        ("SELECT no_such_function(1)", "42883"),
        ("SELECT 1/0", "22012"),
        ("SELECT CAST('abc' AS INT)", "22P02"),
        ("SELECT CAST(1e20 AS BIGINT)", "22003"),
        ("SELECT CAST(123456 AS DECIMAL(5,0))", "22003"),
        ("CREATE TABLE e (x int)", "42P07"),
        ("SELECT * FROM nodb.t", "3F000"),
        ("SET no_such_setting = 1", "42704"),
        ("SET client_encoding = 'LATIN1'", "22023"),
        ("DROP FUNCTION IF EXISTS f", "0A000"),
        ("COPY (SELECT 1) TO '/etc/tarn-test.csv'", "42501"),
    ];
    for (sql, code) in cases {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql}: {err}");
        let err = client.query(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql} (extended): {err}");
    }
    // Syntax errors point at the character.
    let err = client
        .simple_query("SELECT x\n  FROM e WHERE x === 1")
        .await
        .unwrap_err();
    let db = err.as_db_error().unwrap();
    assert!(
        matches!(db.position(), Some(tokio_postgres::error::ErrorPosition::Original(p)) if *p > 0),
        "{db:?}"
    );
    // The connection is still usable after all that.
    assert_eq!(
        simple_rows(&client, "SELECT 42").await,
        vec![vec![Some("42".into())]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_the_public_schema() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    assert_eq!(
        simple_rows(&client, "SHOW server_version").await[0][0].as_deref(),
        Some("16.4")
    );
    client
        .batch_execute("SET TimeZone = 'Europe/Paris'")
        .await
        .unwrap();
    let rows = simple_rows(
        &client,
        "SELECT CAST('2024-01-01T00:00:00Z' AS TIMESTAMP WITH TIME ZONE)",
    )
    .await;
    assert_eq!(rows[0][0].as_deref(), Some("2024-01-01 01:00:00+01"));
    client
        .batch_execute("SET statement_timeout = '2s'; RESET statement_timeout")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SHOW statement_timeout").await[0][0].as_deref(),
        Some("0")
    );
    client
        .batch_execute("CREATE TABLE public.pt (x int); INSERT INTO pt VALUES (7); CREATE DATABASE sales; CREATE TABLE sales.orders (id int)")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT x FROM public.pt").await[0][0].as_deref(),
        Some("7")
    );
    assert_eq!(
        simple_rows(&client, "SELECT x FROM tarn.public.pt").await[0][0].as_deref(),
        Some("7")
    );
    client
        .batch_execute("SET search_path = sales, public")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM orders").await[0][0].as_deref(),
        Some("0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_statement_timeout_stop_running_queries() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    // A query that runs for a long time: a big cross join aggregated.
    let slow = "SELECT count(*) FROM generate_series(1, 200000) a, generate_series(1, 200000) b";
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    });
    let started = std::time::Instant::now();
    let err = client.simple_query(slow).await.unwrap_err();
    assert_eq!(sqlstate(&err), "57014", "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    canceller.await.unwrap();
    client
        .batch_execute("SET statement_timeout = 200")
        .await
        .unwrap();
    let err = client.query(slow, &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    assert!(
        err.as_db_error().unwrap().message().contains("timeout"),
        "{err:?}"
    );
    client
        .batch_execute("RESET statement_timeout")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT 1").await[0][0].as_deref(),
        Some("1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_view_ddl_describes_no_columns() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    let create = client
        .prepare("CREATE VIEW pv (a) AS SELECT 1")
        .await
        .unwrap();
    assert!(create.columns().is_empty(), "{:?}", create.columns());
    client.execute(&create, &[]).await.unwrap();
    let rows = client.query("SELECT a FROM pv", &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    let drop = client.prepare("DROP VIEW pv").await.unwrap();
    assert!(drop.columns().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_cursors_stream_in_chunks_over_both_protocols() {
    use tokio_postgres::SimpleQueryMessage;
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    client
        .batch_execute(
            "BEGIN; DECLARE c CURSOR FOR SELECT value AS n FROM range(0, 100000) ORDER BY n",
        )
        .await
        .unwrap();
    let messages = client.simple_query("FETCH 1000 FROM c").await.unwrap();
    let rows = messages
        .iter()
        .filter(|m| matches!(m, SimpleQueryMessage::Row(_)))
        .count();
    assert_eq!(rows, 1000);
    let complete = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::CommandComplete(n) => Some(*n),
        _ => None,
    });
    assert_eq!(complete, Some(1000));
    // Extended protocol: Describe reports the cursor's columns, Execute returns the next rows.
    let rows = client.query("FETCH 2 FROM c", &[]).await.unwrap();
    let firsts: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(firsts, vec![1000, 1001]);
    let moved = client.execute("MOVE 10 IN c", &[]).await.unwrap();
    assert_eq!(moved, 10);
    let rows = client.query("FETCH 1 FROM c", &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 1012);
    client.batch_execute("CLOSE c; COMMIT").await.unwrap();
    let e = client.simple_query("FETCH 1 FROM c").await.unwrap_err();
    assert_eq!(sqlstate(&e), "34000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_all_drops_prepared_statements() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    let statement = client.prepare("SELECT 1").await.unwrap();
    client.query(&statement, &[]).await.unwrap();
    client.batch_execute("DISCARD ALL").await.unwrap();
    let e = client.query(&statement, &[]).await.unwrap_err();
    assert_eq!(sqlstate(&e), "26000", "{e}");
    assert_eq!(
        simple_rows(&client, "SELECT 2").await,
        vec![vec![Some("2".to_string())]]
    );
}

/// Repeated constant statements reuse their plans (plan_cache); the answers stay right: bound
/// parameters are honoured, now() moves, and a SET in between takes effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_constant_statements_stay_correct() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    for i in 0..3i32 {
        let one: i32 = client.query_one("SELECT 1::int", &[]).await.unwrap().get(0);
        assert_eq!(one, 1);
        let bound: i32 = client
            .query_one("SELECT $1::int", &[&i])
            .await
            .unwrap()
            .get(0);
        assert_eq!(bound, i);
    }
    let first: String = client
        .query_one("SELECT CAST(now() AS VARCHAR)", &[])
        .await
        .unwrap()
        .get(0);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second: String = client
        .query_one("SELECT CAST(now() AS VARCHAR)", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(first, second);
    let sql = "SELECT CAST(CAST(TIMESTAMP '2024-01-01 00:00:00' AS TIMESTAMPTZ) AS VARCHAR)";
    let utc: String = client.query_one(sql, &[]).await.unwrap().get(0);
    client
        .batch_execute("SET TimeZone = 'Asia/Tokyo'")
        .await
        .unwrap();
    let tokyo: String = client.query_one(sql, &[]).await.unwrap().get(0);
    assert_ne!(utc, tokyo, "{utc} / {tokyo}");
}
