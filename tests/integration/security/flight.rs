//! The same rules over Flight SQL: denials are PermissionDenied with SQLSTATE 42501, and the
//! metadata RPCs list only what the caller may see.

use arrow_flight::sql::CommandGetTables;

use crate::flight::rpc::{fetch, query, status_of, strings};
use crate::flight::{FlightFixture, PASSWORD};

async fn listed_tables(client: &mut crate::flight::rpc::Client) -> Vec<String> {
    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: None,
            table_name_filter_pattern: None,
            table_types: vec![],
            include_schema: false,
        })
        .await
        .unwrap();
    let batches = fetch(client, &info).await.unwrap();
    batches
        .iter()
        .flat_map(|b| strings(b, 1).into_iter().zip(strings(b, 2)))
        .map(|(s, t)| format!("{s}.{t}"))
        .collect()
}

#[tokio::test]
async fn flight_denies_and_hides_what_is_not_granted() {
    let flight = FlightFixture::start().await;
    let mut alice = flight.client().await;
    for sql in [
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.orders (id bigint)",
        "INSERT INTO shop.orders VALUES (1), (2)",
        "CREATE TABLE public.top (x int)",
    ] {
        alice.execute_update(sql.to_string(), None).await.unwrap();
    }
    let mut bob = flight.anonymous().await;
    bob.handshake("bob", PASSWORD).await.expect("bob logs in");
    let e = query(&mut bob, "SELECT * FROM shop.orders")
        .await
        .unwrap_err();
    assert_eq!(
        status_of(&e),
        (tonic::Code::PermissionDenied, "42501".into()),
        "{e}"
    );
    let e = bob
        .execute_update("INSERT INTO shop.orders VALUES (3)".to_string(), None)
        .await
        .unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::PermissionDenied, "{e}");
    let listed = listed_tables(&mut bob).await;
    assert!(
        !listed
            .iter()
            .any(|t| t == "shop.orders" || t == "public.top"),
        "{listed:?}"
    );

    for sql in [
        "GRANT USAGE ON SCHEMA shop TO bob",
        "GRANT SELECT ON shop.orders TO bob",
    ] {
        alice.execute_update(sql.to_string(), None).await.unwrap();
    }
    let batches = query(&mut bob, "SELECT id FROM shop.orders").await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    let listed = listed_tables(&mut bob).await;
    assert!(listed.contains(&"shop.orders".to_string()), "{listed:?}");
    assert!(!listed.contains(&"public.top".to_string()), "{listed:?}");
    // Nothing bob tried was written.
    let batches = query(&mut alice, "SELECT id FROM shop.orders")
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
}

#[tokio::test]
async fn flight_sessions_are_listed_and_can_be_terminated() {
    let flight = FlightFixture::start().await;
    let mut alice = flight.client().await;
    let mut bob = flight.anonymous().await;
    bob.handshake("bob", PASSWORD).await.expect("bob logs in");
    query(&mut bob, "SELECT 1").await.expect("bob queries");
    let batches = query(
        &mut alice,
        "SELECT pid FROM pg_stat_activity WHERE usename = 'bob' AND application_name = 'Flight SQL'",
    )
    .await
    .unwrap();
    let pids = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int32Array>()
        .expect("pid is int4")
        .values()
        .to_vec();
    assert_eq!(pids.len(), 1, "{pids:?}");
    // bob's row shows his last statement, finished (the server lets go of it just after the
    // client's end of stream: a bounded wait); alice's her running one.
    let mut rows = Vec::new();
    for _ in 0..50 {
        let batches = query(
            &mut alice,
            "SELECT usename, state, query FROM pg_stat_activity \
             WHERE application_name = 'Flight SQL' ORDER BY usename",
        )
        .await
        .unwrap();
        rows = strings(&batches[0], 0)
            .into_iter()
            .zip(strings(&batches[0], 1))
            .zip(strings(&batches[0], 2))
            .map(|((u, s), q)| format!("{u}|{s}|{q}"))
            .collect();
        if rows.get(1).is_some_and(|r| r == "bob|idle|SELECT 1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].starts_with("alice|active|SELECT usename, state"),
        "{rows:?}"
    );
    assert_eq!(rows[1], "bob|idle|SELECT 1", "{rows:?}");
    // bob sees his own statements but not alice's.
    let batches = query(
        &mut bob,
        "SELECT query FROM pg_stat_activity WHERE usename = 'alice'",
    )
    .await
    .unwrap();
    assert_eq!(strings(&batches[0], 0), vec!["<insufficient privilege>"]);
    // bob may not end alice's session; a superuser may end bob's.
    let e = query(
        &mut bob,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'alice'",
    )
    .await
    .unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::PermissionDenied, "{e}");
    query(
        &mut alice,
        &format!("SELECT pg_terminate_backend({})", pids[0]),
    )
    .await
    .unwrap();
    let e = query(&mut bob, "SELECT 1").await.unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::Unauthenticated, "{e}");
    query(&mut alice, "SELECT 1")
        .await
        .expect("alice still works");
}

/// The same rules through a real client: ADBC's Flight SQL driver (Python, test venv).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_meets_the_same_privileges() {
    let flight = FlightFixture::start().await;
    let script = format!(
        "{}/tests/clients/flight_adbc_privileges.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut command = std::process::Command::new(crate::pg::clients::venv_python());
    command.args([
        script.as_str(),
        &flight.uri(),
        crate::flight::USER,
        PASSWORD,
        "bob",
        PASSWORD,
    ]);
    let out = tokio::task::spawn_blocking(move || command.output().expect("run python"))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Bulk ingest is checked on the columns the batches carry: a column-level INSERT grant is
/// enough for exactly those columns, and nothing is written when a column is not granted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_needs_insert_on_the_columns_it_supplies() {
    use arrow_flight::sql::{TableExistsOption, TableNotExistOption};
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    use crate::flight::rpc::{ingest, ingest_command};
    let flight = FlightFixture::start().await;
    let mut alice = flight.client().await;
    for sql in [
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.notes (id bigint, note string)",
        "GRANT USAGE ON SCHEMA shop TO bob",
        "GRANT INSERT (id) ON shop.notes TO bob",
    ] {
        alice.execute_update(sql.to_string(), None).await.unwrap();
    }
    let mut bob = flight.anonymous().await;
    bob.handshake("bob", PASSWORD).await.expect("bob logs in");
    let mut command = ingest_command(
        "notes",
        TableNotExistOption::Fail,
        TableExistsOption::Append,
    );
    command.schema = Some("shop".into());
    let ids = Arc::new(Int64Array::from(vec![1, 2]));
    let only_ids = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)])),
        vec![ids.clone()],
    )
    .unwrap();
    assert_eq!(
        ingest(&mut bob, command.clone(), vec![only_ids])
            .await
            .unwrap(),
        2
    );
    let both = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("note", DataType::Utf8, true),
        ])),
        vec![ids, Arc::new(StringArray::from(vec!["a", "b"]))],
    )
    .unwrap();
    let e = ingest(&mut bob, command, vec![both]).await.unwrap_err();
    assert_eq!(
        status_of(&e),
        (tonic::Code::PermissionDenied, "42501".into()),
        "{e}"
    );
    let batches = query(&mut alice, "SELECT id FROM shop.notes")
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
}
