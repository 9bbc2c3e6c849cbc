//! Every Flight SQL RPC through arrow-flight's client: auth, queries, updates, ingest, prepared
//! statements, metadata, cancel and errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    CommandGetCrossReference, CommandGetDbSchemas, CommandGetExportedKeys, CommandGetImportedKeys,
    CommandGetPrimaryKeys, CommandGetTables, CommandStatementIngest, SqlInfo,
    TableDefinitionOptions, TableExistsOption, TableNotExistOption,
};
use arrow_flight::{CancelFlightInfoRequest, FlightInfo};
use datafusion::arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use futures::TryStreamExt;
use tonic::transport::Channel;

use super::{FlightFixture, PASSWORD, USER};

pub(crate) type Client = FlightSqlServiceClient<Channel>;

/// Runs a query and collects its batches.
pub(crate) async fn query(
    client: &mut Client,
    sql: &str,
) -> Result<Vec<RecordBatch>, arrow_flight::error::FlightError> {
    let info = client.execute(sql.to_string(), None).await?;
    fetch(client, &info).await
}

pub(crate) async fn fetch(
    client: &mut Client,
    info: &FlightInfo,
) -> Result<Vec<RecordBatch>, arrow_flight::error::FlightError> {
    let mut batches = Vec::new();
    for endpoint in &info.endpoint {
        let ticket = endpoint.ticket.clone().expect("ticket");
        let stream = client.do_get(ticket).await?;
        batches.extend(stream.try_collect::<Vec<_>>().await?);
    }
    Ok(batches)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// The gRPC status and SQLSTATE of a failed call.
pub(crate) fn status_of(e: &arrow_flight::error::FlightError) -> (tonic::Code, String) {
    match e {
        arrow_flight::error::FlightError::Tonic(s) => (
            s.code(),
            s.metadata()
                .get("x-tarn-sqlstate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        ),
        arrow_flight::error::FlightError::Arrow(
            datafusion::arrow::error::ArrowError::IpcError(m),
        ) => (tonic::Code::Unknown, m.clone()),
        other => (tonic::Code::Unknown, other.to_string()),
    }
}

pub(crate) fn strings(batch: &RecordBatch, column: usize) -> Vec<String> {
    let array = batch
        .column(column)
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("utf8 column");
    (0..array.len())
        .map(|i| array.value(i).to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_is_required_and_checked() {
    let f = FlightFixture::start().await;
    let mut anonymous = f.anonymous().await;
    let e = query(&mut anonymous, "SELECT 1").await.unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::Unauthenticated, "{e}");

    let mut wrong = f.anonymous().await;
    let e = wrong.handshake(USER, "nope").await.unwrap_err();
    assert!(
        e.to_string().contains("Unauthenticated") || e.to_string().contains("authentication"),
        "{e}"
    );
    let e = wrong.handshake("nobody", PASSWORD).await.unwrap_err();
    assert!(e.to_string().contains("authentication"), "{e}");

    let mut forged = f.anonymous().await;
    forged.set_token("forged-token".into());
    let e = query(&mut forged, "SELECT 1").await.unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::Unauthenticated);

    // Unpadded base64, as the ADBC driver sends it ("bob:secret" needs padding).
    let mut raw = f.anonymous().await.into_inner();
    use base64::Engine as _;
    let credentials =
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("bob:{PASSWORD}"));
    let mut request = tonic::Request::new(futures::stream::iter(vec![
        arrow_flight::HandshakeRequest::default(),
    ]));
    request.metadata_mut().insert(
        "authorization",
        format!("Basic {credentials}").parse().unwrap(),
    );
    let response = raw
        .handshake(request)
        .await
        .expect("unpadded Basic accepted");
    let bearer = response
        .metadata()
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(bearer.starts_with("Bearer "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_stream_plain_arrow() {
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    let info = client
        .execute("SELECT 1 AS one, 'tarn' AS name".into(), None)
        .await
        .unwrap();
    let schema = Schema::try_from(info.clone()).unwrap();
    assert_eq!(
        schema.field(1).data_type(),
        &DataType::Utf8,
        "views are sent as plain strings"
    );
    let batches = fetch(&mut client, &info).await.unwrap();
    assert_eq!(rows(&batches), 1);
    assert_eq!(strings(&batches[0], 1), vec!["tarn"]);

    // A large result arrives as many batches, all of it.
    let sql = "SELECT value, concat('row-', CAST(value AS VARCHAR)) AS label FROM range(0, 300000)";
    let batches = query(&mut client, sql).await.unwrap();
    assert!(batches.len() > 10, "{} batches", batches.len());
    assert_eq!(rows(&batches), 300_000);
    let total: i64 = batches
        .iter()
        .map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .iter()
                .flatten()
                .sum::<i64>()
        })
        .sum();
    assert_eq!(total, (0..300_000i64).sum::<i64>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_grpc_codes_and_sqlstates() {
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    client
        .execute_update("CREATE TABLE dup (x int)".into(), None)
        .await
        .unwrap();
    let cases = [
        ("SELEC 1", tonic::Code::InvalidArgument, "42601"),
        (
            "SELECT * FROM no_such_table",
            tonic::Code::NotFound,
            "42P01",
        ),
        (
            "SELECT nope FROM range(1)",
            tonic::Code::InvalidArgument,
            "42703",
        ),
        (
            "CREATE TABLE dup (x int)",
            tonic::Code::AlreadyExists,
            "42P07",
        ),
    ];
    for (sql, code, sqlstate) in cases {
        let e = match client.execute(sql.into(), None).await {
            Err(e) => e,
            Ok(info) => fetch(&mut client, &info).await.unwrap_err(),
        };
        assert_eq!(status_of(&e), (code, sqlstate.to_string()), "{sql}: {e}");
    }
    // An error in the middle of a stream ends it with the error's status.
    let e = query(
        &mut client,
        "SELECT 10 / (value - 70000) FROM range(0, 100000)",
    )
    .await
    .unwrap_err();
    assert_eq!(
        status_of(&e),
        (tonic::Code::InvalidArgument, "22012".into()),
        "{e}"
    );
    // The session is still usable.
    assert_eq!(rows(&query(&mut client, "SELECT 1").await.unwrap()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_session_settings() {
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    let n = client
        .execute_update(
            "CREATE TABLE t (id int, name string) PARTITIONED BY (day date)".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
    let n = client
        .execute_update(
            "INSERT INTO t VALUES (1, 'a', DATE '2024-01-01'), (2, 'b', DATE '2024-01-02')".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    // SET through a query call changes the session for later tickets.
    query(&mut client, "SET TimeZone = 'Europe/Paris'")
        .await
        .unwrap();
    let batches = query(&mut client, "SHOW TimeZone").await.unwrap();
    assert_eq!(strings(&batches[0], 0), vec!["Europe/Paris"]);
    client
        .execute_update("CREATE DATABASE sales".into(), None)
        .await
        .unwrap();
    client
        .execute_update("USE sales".into(), None)
        .await
        .unwrap();
    client
        .execute_update("CREATE TABLE s (x int)".into(), None)
        .await
        .unwrap();
    let batches = query(&mut client, "SELECT count(*) FROM public.t")
        .await
        .unwrap();
    assert_eq!(
        batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0),
        2
    );
    assert_eq!(
        rows(&query(&mut client, "SELECT * FROM s").await.unwrap()),
        0
    );
    // Transactions are refused clearly.
    let e = client.begin_transaction().await.unwrap_err();
    assert!(
        e.to_string().contains("transactions are not supported"),
        "{e}"
    );
}

fn people(ids: &[i64], names: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names.to_vec())),
        ],
    )
    .unwrap()
}

pub(crate) fn ingest_command(
    table: &str,
    if_not_exist: TableNotExistOption,
    if_exists: TableExistsOption,
) -> CommandStatementIngest {
    CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist: if_not_exist as i32,
            if_exists: if_exists as i32,
        }),
        table: table.into(),
        schema: None,
        catalog: None,
        temporary: false,
        transaction_id: None,
        options: Default::default(),
    }
}

pub(crate) async fn ingest(
    client: &mut Client,
    command: CommandStatementIngest,
    batches: Vec<RecordBatch>,
) -> Result<i64, arrow_flight::error::FlightError> {
    client
        .execute_ingest(command, futures::stream::iter(batches.into_iter().map(Ok)))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_ingest_in_every_mode() {
    use TableExistsOption as E;
    use TableNotExistOption as N;
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    let create = ingest_command("people", N::Create, E::Fail);
    let n = ingest(
        &mut client,
        create.clone(),
        vec![people(&[1, 2], &["a", "b"]), people(&[3], &["c"])],
    )
    .await
    .unwrap();
    assert_eq!(n, 3);
    let e = ingest(&mut client, create, vec![people(&[9], &["z"])])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");

    let append = ingest_command("people", N::Fail, E::Append);
    assert_eq!(
        ingest(&mut client, append, vec![people(&[4], &["d"])])
            .await
            .unwrap(),
        1
    );
    let missing = ingest_command("nobody_here", N::Fail, E::Append);
    assert!(
        ingest(&mut client, missing, vec![people(&[4], &["d"])])
            .await
            .is_err()
    );

    let create_append = ingest_command("people", N::Create, E::Append);
    assert_eq!(
        ingest(
            &mut client,
            create_append.clone(),
            vec![people(&[5], &["e"])]
        )
        .await
        .unwrap(),
        1
    );
    let batches = query(&mut client, "SELECT count(*) FROM people")
        .await
        .unwrap();
    assert_eq!(
        batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0),
        5
    );
    let fresh = CommandStatementIngest {
        table: "fresh".into(),
        ..create_append
    };
    assert_eq!(
        ingest(&mut client, fresh, vec![people(&[1], &["x"])])
            .await
            .unwrap(),
        1
    );

    let replace = ingest_command("people", N::Create, E::Replace);
    assert_eq!(
        ingest(&mut client, replace, vec![people(&[7, 8], &["g", "h"])])
            .await
            .unwrap(),
        2
    );
    let batches = query(&mut client, "SELECT id FROM people ORDER BY id")
        .await
        .unwrap();
    assert_eq!(rows(&batches), 2);

    let temporary = CommandStatementIngest {
        temporary: true,
        ..ingest_command("tmp", N::Create, E::Fail)
    };
    let e = ingest(&mut client, temporary, vec![people(&[1], &["x"])])
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("temporary tables are not supported"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_bind_parameters() {
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    client
        .execute_update("CREATE TABLE p (id bigint, name string)".into(), None)
        .await
        .unwrap();
    let mut insert = client
        .prepare("INSERT INTO p VALUES ($1, $2)".into(), None)
        .await
        .unwrap();
    insert
        .set_parameters(people(&[1, 2, 3], &["a", "b", "c"]))
        .unwrap();
    assert_eq!(insert.execute_update().await.unwrap(), 3);
    insert.close().await.unwrap();

    let mut select = client
        .prepare(
            "SELECT id, name FROM p WHERE id >= $1 ORDER BY id".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(select.parameter_schema().unwrap().fields().len(), 1);
    assert_eq!(
        select.dataset_schema().unwrap().field(1).data_type(),
        &DataType::Utf8
    );
    let param = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("$1", DataType::Int64, true)])),
        vec![Arc::new(Int64Array::from(vec![2]))],
    )
    .unwrap();
    select.set_parameters(param).unwrap();
    let info = select.execute().await.unwrap();
    let batches = fetch(&mut client, &info).await.unwrap();
    assert_eq!(rows(&batches), 2);
    assert_eq!(strings(&batches[0], 1)[0], "b");
    select.close().await.unwrap();
    // A closed statement is gone.
    let e = fetch(&mut client, &info).await.unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::NotFound, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_comes_from_the_live_catalog() {
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    client
        .execute_update("CREATE DATABASE sales".into(), None)
        .await
        .unwrap();
    client
        .execute_update(
            "CREATE TABLE sales.orders (id int, amount double) PARTITIONED BY (day date)".into(),
            None,
        )
        .await
        .unwrap();
    client
        .execute_update("CREATE TABLE top (x int)".into(), None)
        .await
        .unwrap();
    client
        .execute_update("CREATE VIEW v AS SELECT x FROM top".into(), None)
        .await
        .unwrap();

    let info = client.get_catalogs().await.unwrap();
    assert_eq!(
        strings(&fetch(&mut client, &info).await.unwrap()[0], 0),
        vec!["tarn"]
    );

    let info = client
        .get_db_schemas(CommandGetDbSchemas {
            catalog: None,
            db_schema_filter_pattern: Some("s%".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        strings(&fetch(&mut client, &info).await.unwrap()[0], 1),
        vec!["sales"]
    );

    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: None,
            table_name_filter_pattern: None,
            table_types: vec![],
            include_schema: true,
        })
        .await
        .unwrap();
    let batches = fetch(&mut client, &info).await.unwrap();
    let batch = &batches[0];
    let listed: Vec<String> = strings(batch, 1)
        .into_iter()
        .zip(strings(batch, 2))
        .zip(strings(batch, 3))
        .map(|((s, t), k)| format!("{s}.{t}:{k}"))
        .collect();
    for expected in [
        "public.top:TABLE",
        "public.v:VIEW",
        "sales.orders:TABLE",
        "tarn.batches:SYSTEM TABLE",
    ] {
        assert!(listed.contains(&expected.to_string()), "{listed:?}");
    }
    let schema_bytes = batch
        .column(4)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::BinaryArray>()
        .unwrap();
    let orders = listed
        .iter()
        .position(|l| l.starts_with("sales.orders"))
        .unwrap();
    let schema = arrow_flight::IpcMessage(schema_bytes.value(orders).to_vec().into());
    let schema = Schema::try_from(schema).unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        ["id", "amount", "day"],
        "partition columns listed last"
    );

    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: Some("public".into()),
            table_name_filter_pattern: Some("t%".into()),
            table_types: vec!["TABLE".into()],
            include_schema: false,
        })
        .await
        .unwrap();
    let batches = fetch(&mut client, &info).await.unwrap();
    assert_eq!(strings(&batches[0], 2), vec!["top"]);

    let info = client.get_table_types().await.unwrap();
    assert_eq!(rows(&fetch(&mut client, &info).await.unwrap()), 3);
    let info = client
        .get_sql_info(vec![
            SqlInfo::FlightSqlServerName,
            SqlInfo::FlightSqlServerTransaction,
        ])
        .await
        .unwrap();
    assert_eq!(rows(&fetch(&mut client, &info).await.unwrap()), 2);
    let info = client.get_xdbc_type_info(Default::default()).await.unwrap();
    assert!(rows(&fetch(&mut client, &info).await.unwrap()) >= 12);
    let info = client
        .get_primary_keys(CommandGetPrimaryKeys {
            catalog: None,
            db_schema: None,
            table: "top".into(),
        })
        .await
        .unwrap();
    let batches = fetch(&mut client, &info).await.unwrap();
    assert_eq!(rows(&batches), 0);
    // Foreign keys: none, with the spec's 13 columns.
    let exported = client
        .get_exported_keys(CommandGetExportedKeys {
            catalog: None,
            db_schema: None,
            table: "top".into(),
        })
        .await
        .unwrap();
    let imported = client
        .get_imported_keys(CommandGetImportedKeys {
            catalog: None,
            db_schema: None,
            table: "top".into(),
        })
        .await
        .unwrap();
    let cross = client
        .get_cross_reference(CommandGetCrossReference {
            pk_catalog: None,
            pk_db_schema: None,
            pk_table: "top".into(),
            fk_catalog: None,
            fk_db_schema: None,
            fk_table: "v".into(),
        })
        .await
        .unwrap();
    for info in [exported, imported, cross] {
        assert_eq!(Schema::try_from(info.clone()).unwrap().fields().len(), 13);
        assert_eq!(rows(&fetch(&mut client, &info).await.unwrap()), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_query_and_tickets_stay_with_their_session() {
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    // A cross join yields batch by batch, so cancel is noticed between batches (a filtered nested
    // loop join computes for seconds per batch in a debug build).
    let slow = "SELECT count(*) FROM range(0, 200000) a, range(0, 200000) b";
    let info = client.execute(slow.into(), None).await.unwrap();

    // Another session may not run or cancel it.
    let mut other = f.client().await;
    let e = fetch(&mut other, &info).await.unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::PermissionDenied, "{e}");

    let mut runner = client.clone();
    let running_info = info.clone();
    let started = Instant::now();
    let running = tokio::spawn(async move { fetch(&mut runner, &running_info).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let request = CancelFlightInfoRequest { info: Some(info) };
    let action =
        arrow_flight::Action::new("CancelFlightInfo", prost::Message::encode_to_vec(&request));
    let result = client.do_action(action).await.unwrap();
    let result: Vec<_> = result.try_collect().await.unwrap();
    assert_eq!(result.len(), 1);
    let e = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("canceled within seconds")
        .unwrap()
        .unwrap_err();
    assert_eq!(
        status_of(&e),
        (tonic::Code::Cancelled, "57014".into()),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(rows(&query(&mut client, "SELECT 1").await.unwrap()), 1);

    // The older CancelQuery action works too.
    let info = client.execute(slow.into(), None).await.unwrap();
    let mut runner = client.clone();
    let running_info = info.clone();
    let running = tokio::spawn(async move { fetch(&mut runner, &running_info).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let request = arrow_flight::sql::ActionCancelQueryRequest {
        info: prost::Message::encode_to_vec(&info).into(),
    };
    use arrow_flight::sql::ProstMessageExt;
    let action = arrow_flight::Action::new(
        "CancelQuery",
        prost::Message::encode_to_vec(&request.as_any()),
    );
    let _: Vec<_> = client
        .do_action(action)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("canceled within seconds")
        .unwrap()
        .unwrap_err();
    assert_eq!(status_of(&e).0, tonic::Code::Cancelled, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_commands_run_when_executed() {
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    let mut create = client
        .prepare("create view rv (a) as select 1".into(), None)
        .await
        .unwrap();
    assert!(create.dataset_schema().unwrap().fields().is_empty());
    let info = create.execute().await.unwrap();
    fetch(&mut client, &info).await.unwrap();
    let batches = query(&mut client, "SELECT a FROM rv").await.unwrap();
    assert_eq!(rows(&batches), 1);
}

/// A replace that fails while the new data streams in leaves the old table as it was: the drop
/// and the create are one commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_replace_keeps_the_old_table() {
    use TableExistsOption as E;
    use TableNotExistOption as N;
    let f = FlightFixture::start().await;
    let mut client = f.client().await;
    let create = ingest_command("people", N::Create, E::Fail);
    ingest(
        &mut client,
        create,
        vec![people(&[1, 2, 3], &["a", "b", "c"])],
    )
    .await
    .unwrap();
    // New columns (a replace, not an overwrite) that cannot make a table: `id` twice.
    let ids = |values: Vec<i64>| {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values))]).unwrap()
    };
    let twice = {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("ID", DataType::Int64, true),
        ]));
        let column = Arc::new(Int64Array::from(vec![7]));
        RecordBatch::try_new(schema, vec![column.clone(), column]).unwrap()
    };
    let replace = ingest_command("people", N::Create, E::Replace);
    let e = ingest(&mut client, replace.clone(), vec![twice])
        .await
        .expect_err("a column twice fails the replace");
    let batches = query(&mut client, "SELECT count(*), min(name) FROM people")
        .await
        .unwrap_or_else(|q| panic!("the old table is gone after {e}: {q}"));
    assert_eq!(strings(&batches[0], 1), vec!["a"]);
    assert_eq!(
        rows(&query(&mut client, "SELECT id FROM people").await.unwrap()),
        3
    );
    // A replace that succeeds swaps the table whole.
    assert_eq!(
        ingest(&mut client, replace, vec![ids(vec![7, 8])])
            .await
            .unwrap(),
        2
    );
    let e = query(&mut client, "SELECT name FROM people")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("name"), "{e}");
}
