//! COPY FROM STDIN (text, CSV) through the atomic write path and COPY TO STDOUT (text, CSV,
//! binary).

use bytes::Bytes;
use futures::{SinkExt, StreamExt};

use super::{PgFixture, simple_rows, sqlstate};

async fn copy_out(client: &tokio_postgres::Client, sql: &str) -> Vec<u8> {
    let stream = client.copy_out(sql).await.unwrap();
    let chunks: Vec<Bytes> = stream.map(|c| c.unwrap()).collect().await;
    chunks.concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_and_out_round_trips() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    client
        .batch_execute(
            "CREATE TABLE c (id int, name string, amount decimal(10,2)) PARTITIONED BY (dt date)",
        )
        .await
        .unwrap();
    let sink = client.copy_in("COPY c FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::from_static(
        b"1\tann\t1.50\t2024-01-01\n2\ttab\\there\t\\N\t2024-01-0",
    ))
    .await
    .unwrap();
    sink.send(Bytes::from_static(b"2\n")).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    let sink = client
        .copy_in("COPY c (id, name, dt) FROM STDIN WITH (FORMAT csv, HEADER)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::from_static(
        b"id,name,dt\n3,\"quoted, comma\",2024-01-01\n",
    ))
    .await
    .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 1);

    let text = copy_out(
        &client,
        "COPY (SELECT id, name, amount, dt FROM c ORDER BY id) TO STDOUT",
    )
    .await;
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "1\tann\t1.50\t2024-01-01\n2\ttab\\there\t\\N\t2024-01-02\n3\tquoted, comma\t\\N\t2024-01-01\n"
    );
    let csv = copy_out(
        &client,
        "COPY (SELECT id, name FROM c ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
    )
    .await;
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "id,name\n1,ann\n2,tab\there\n3,\"quoted, comma\"\n"
    );
    let binary = copy_out(
        &client,
        "COPY (SELECT id FROM c WHERE id = 1) TO STDOUT (FORMAT binary)",
    )
    .await;
    let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
    expected.extend_from_slice(&[0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff]);
    assert_eq!(binary, expected);
    let whole = copy_out(&client, "COPY c TO STDOUT").await;
    assert_eq!(whole.iter().filter(|b| **b == b'\n').count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_copy_loads_nothing() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    client
        .batch_execute("CREATE TABLE c (id int, n int)")
        .await
        .unwrap();
    let sink = client
        .copy_in("COPY c FROM STDIN WITH (FORMAT csv)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::from_static(b"1,1\n2,not-a-number\n"))
        .await
        .unwrap();
    let err = sink.finish().await.unwrap_err();
    assert_eq!(sqlstate(&err), "22P02", "{err}");
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM c").await[0][0].as_deref(),
        Some("0")
    );
    // A client that aborts the COPY (CopyFail) loads nothing either.
    let sink = client
        .copy_in::<_, Bytes>("COPY c FROM STDIN")
        .await
        .unwrap();
    drop(sink);
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM c").await[0][0].as_deref(),
        Some("0")
    );
    let err = client
        .simple_query("COPY c FROM STDIN (FORMAT binary)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "0A000");
}

/// Results far larger than the output buffer: messages stay framed across flushes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_results_stream_intact() {
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    let query =
        "SELECT x, concat('row number ', x) AS label FROM generate_series(1, 200000) AS g(x)";
    for format in ["", " WITH (FORMAT csv)", " (FORMAT binary)"] {
        let data = copy_out(&client, &format!("COPY ({query}) TO STDOUT{format}")).await;
        if format.contains("binary") {
            assert!(data.len() > 200_000 * 20, "{}", data.len());
        } else {
            assert_eq!(
                data.iter().filter(|b| **b == b'\n').count(),
                200_000,
                "{format}"
            );
        }
    }
    let rows = client
        .query(&format!("{query} ORDER BY x"), &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 200_000);
    assert_eq!(rows[199_999].get::<_, String>(1), "row number 200000");
    let text = simple_rows(&client, &format!("SELECT count(*) FROM ({query}) t")).await;
    assert_eq!(text[0][0].as_deref(), Some("200000"));
}

/// A line that never ends stops at the configured cap with 54000; nothing is loaded and the
/// connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_copy_line_is_refused_at_the_cap() {
    let pg = PgFixture::with(|c| c.copy_max_line = 1024).await;
    let client = pg.client().await;
    client
        .batch_execute("CREATE TABLE c (id int, s string)")
        .await
        .unwrap();
    let sink = client.copy_in("COPY c FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    let mut failed = None;
    let mut chunks = vec![Bytes::from_static(b"1\tshort\n")];
    chunks.extend((0..8).map(|_| Bytes::from(vec![b'x'; 512])));
    for chunk in chunks {
        if let Err(e) = sink.send(chunk).await {
            failed = Some(e);
            break;
        }
    }
    let err = match failed {
        Some(e) => e,
        None => sink.finish().await.unwrap_err(),
    };
    assert_eq!(sqlstate(&err), "54000", "{err}");
    assert!(err.to_string().contains("1024 bytes") || format!("{err:?}").contains("1024 bytes"));
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM c").await[0][0].as_deref(),
        Some("0")
    );
}
