//! Writes on a store that fails (and is slow): a failed write leaves nothing any reader sees,
//! and VACUUM removes what it left; the store's own listing is the oracle.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use object_store::ObjectStore;
use tarn::{EngineConfig, ErrorKind, Tarn};

use crate::s3::{count, objects};
use crate::support::faulty::FaultyStore;

/// Every object in the store, read from the store itself.
async fn all_objects(store: &Arc<FaultyStore>) -> Vec<String> {
    let store: Arc<dyn ObjectStore> = store.clone();
    objects(&store, "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_writes_leave_nothing_visible_and_vacuum_removes_them() {
    let store = Arc::new(FaultyStore::new(Duration::from_millis(5)));
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.warehouse = "s3://faulty/wh".into();
    config.allowed_roots = vec!["s3://faulty/raw".into()];
    let tarn = Tarn::open(config).unwrap();
    tarn.register_object_store(&url::Url::parse("s3://faulty").unwrap(), store.clone());
    let s = tarn.session("t");
    s.query(
        "CREATE TABLE m (id bigint) PARTITIONED BY (k int);
         INSERT INTO m SELECT value, value % 4 FROM generate_series(1, 400);
         CREATE EXTERNAL TABLE x (id bigint) PARTITIONED BY (k int) STORED AS PARQUET
           LOCATION 's3://faulty/raw/x';
         ALTER TABLE x ADD PARTITION (k=0); ALTER TABLE x ADD PARTITION (k=1);
         ALTER TABLE x ADD PARTITION (k=2); ALTER TABLE x ADD PARTITION (k=3);
         INSERT INTO x SELECT value, value % 4 FROM generate_series(1, 400)",
    )
    .await
    .unwrap();
    let before = all_objects(&store).await;
    // Each of the next writes gets one file through, then the store fails.
    for table in ["m", "x"] {
        store.fail_writes_after(Some(1));
        let e = s
            .query(&format!(
                "INSERT INTO {table} SELECT value, value % 4 FROM generate_series(1, 400)"
            ))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::StorageIo, "{e}");
        store.fail_writes_after(None);
        assert_eq!(
            count(&tarn, &format!("SELECT count(*) FROM {table}")).await,
            400
        );
    }
    let after = all_objects(&store).await;
    let leftovers: Vec<&String> = after.iter().filter(|o| !before.contains(o)).collect();
    assert!(
        !leftovers.is_empty(),
        "the failed writes got files through (that readers must skip)"
    );
    // A file of a failed write in a listed directory is skipped, not just absent.
    assert!(
        leftovers.iter().any(|o| o.starts_with("raw/x/")),
        "{leftovers:?}"
    );
    // Also by a table created again over the same directories.
    s.query(
        "DROP TABLE x;
         CREATE EXTERNAL TABLE x (id bigint) PARTITIONED BY (k int) STORED AS PARQUET
           LOCATION 's3://faulty/raw/x';
         MSCK REPAIR TABLE x",
    )
    .await
    .unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM x").await, 400);
    s.query(
        "SET tarn.vacuum_retention_check = off; VACUUM m RETAIN 0 HOURS; VACUUM x RETAIN 0 HOURS",
    )
    .await
    .unwrap();
    assert_eq!(all_objects(&store).await, before);
    assert_eq!(count(&tarn, "SELECT count(*) FROM m").await, 400);
    assert_eq!(count(&tarn, "SELECT count(*) FROM x").await, 400);
    assert!(store.failed_writes.load(Ordering::SeqCst) >= 2);
}

/// Runs `sql` again when a cancel meant for the statement before reaches the server only now
/// (as in PostgreSQL, a CancelRequest races the next statement); its rows as text.
async fn unless_cancelled(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    use tokio_postgres::SimpleQueryMessage;
    for _ in 0..5 {
        match client.simple_query(sql).await {
            Ok(messages) => {
                return messages
                    .into_iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(r) => {
                            Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
                        }
                        _ => None,
                    })
                    .collect();
            }
            Err(e) if crate::pg::sqlstate(&e) == "57014" => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
    panic!("{sql}: cancelled five times")
}

/// What a client learns when a cancel or statement timeout races an overwrite's commit is the
/// truth: success means the new rows are the table, 57014 means the old rows still are. The
/// warehouse is on a slow store so that cancels land before, during and after the commit; the
/// oracle is the client's own record of acknowledged overwrites.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_racing_a_commit_gets_the_true_answer() {
    use crate::pg::{PASSWORD, USER, sqlstate};
    use std::time::Instant;
    use tarn::server::{PgConfig, PgServer};

    let store = Arc::new(FaultyStore::new(Duration::from_millis(3)));
    let lake = crate::support::TestLake::configured(|c| c.warehouse = "s3://slow/wh".into());
    lake.tarn
        .register_object_store(&url::Url::parse("s3://slow").unwrap(), store.clone());
    lake.add_user(USER, PASSWORD, true).await;
    let config = PgConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let server = PgServer::bind(lake.tarn.engine().clone(), config)
        .await
        .unwrap();
    let port = server.local_addr().port();
    tokio::spawn(server.serve(std::future::pending::<()>()));
    let conn = format!("host=127.0.0.1 port={port} user={USER} password={PASSWORD} dbname=tarn");
    let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);

    let overwrite = |tag: u32| {
        format!(
            "INSERT OVERWRITE TABLE t SELECT value, {tag}, value % 4 FROM generate_series(1, 2000)"
        )
    };
    client
        .batch_execute("CREATE TABLE t (v bigint, b int) PARTITIONED BY (k int)")
        .await
        .unwrap();
    // Calibrated on the median of three overwrites of the filled table.
    let mut times = vec![];
    for _ in 0..3 {
        let started = Instant::now();
        client.batch_execute(&overwrite(0)).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    let took = times[1];
    let (mut live, mut acked, mut cancelled) = (0, 0, 0);
    for tag in 1..=300u32 {
        if tag > 60 && acked >= 8 && cancelled >= 8 {
            break;
        }
        // Delays from 0 to twice the statement's duration, by cancel and by timeout.
        let delay = took.mul_f64(f64::from(tag % 20) / 10.0);
        let result = if tag % 2 == 0 {
            let token = client.cancel_token();
            let canceller = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = token.cancel_query(tokio_postgres::NoTls).await;
            });
            let result = client.batch_execute(&overwrite(tag)).await;
            canceller.await.unwrap();
            result
        } else {
            let ms = delay.as_millis().max(1);
            unless_cancelled(&client, &format!("SET statement_timeout = {ms}")).await;
            let result = client.batch_execute(&overwrite(tag)).await;
            unless_cancelled(&client, "RESET statement_timeout").await;
            result
        };
        match result {
            Ok(()) => {
                live = tag;
                acked += 1;
            }
            Err(e) => {
                assert_eq!(sqlstate(&e), "57014", "{e}");
                cancelled += 1;
            }
        }
        let seen = unless_cancelled(&client, "SELECT b, count(*) FROM t GROUP BY b").await;
        assert_eq!(
            seen,
            vec![vec![Some(live.to_string()), Some("2000".into())]],
            "after overwrite {tag} (the last acknowledged is {live})"
        );
    }
    assert!(
        acked >= 8 && cancelled >= 8,
        "{acked} acknowledged, {cancelled} cancelled: the race was not exercised"
    );
}

/// A managed DROP whose data deletion never happens (the store fails, as if tarn were killed
/// between the metadata commit and the delete): a table declared later over the old
/// directory, under another name, reads none of the dropped rows, and its VACUUM removes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_an_interrupted_drop_are_never_read() {
    let store = Arc::new(FaultyStore::new(Duration::from_millis(0)));
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.warehouse = "s3://faulty/wh".into();
    let tarn = Tarn::open(config).unwrap();
    tarn.register_object_store(&url::Url::parse("s3://faulty").unwrap(), store.clone());
    let s = tarn.session("t");
    s.query(
        "CREATE TABLE gone (id bigint) PARTITIONED BY (k int);
         INSERT INTO gone SELECT value, value % 3 FROM generate_series(1, 300);
         INSERT INTO gone SELECT value, value % 3 FROM generate_series(301, 600)",
    )
    .await
    .unwrap();
    let written = all_objects(&store).await;
    assert!(
        written.iter().any(|o| o.starts_with("wh/gone/")),
        "{written:?}"
    );
    store.fail_writes_after(Some(0));
    let e = s.query("DROP TABLE gone").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StorageIo, "{e}");
    store.fail_writes_after(None);
    assert_eq!(
        all_objects(&store).await,
        written,
        "the data outlived the metadata"
    );
    s.query(
        "CREATE EXTERNAL TABLE found (id bigint) PARTITIONED BY (k int) STORED AS PARQUET
           LOCATION 's3://faulty/wh/gone';
         MSCK REPAIR TABLE found",
    )
    .await
    .unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM found").await, 0);
    s.query("SET tarn.vacuum_retention_check = off; VACUUM found RETAIN 0 HOURS")
        .await
        .unwrap();
    let left: Vec<String> = all_objects(&store)
        .await
        .into_iter()
        .filter(|o| o.ends_with(".parquet"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Rows written by the new table are its own.
    s.query("INSERT INTO found PARTITION (k=1) SELECT value FROM generate_series(1, 7)")
        .await
        .unwrap();
    assert_eq!(count(&tarn, "SELECT count(*) FROM found").await, 7);
}
