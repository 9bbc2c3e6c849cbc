//! Runs `tests/slt/*.slt` with the sqllogictest crate, twice: in-process, and over the Postgres
//! wire (tokio-postgres against a server on 127.0.0.1:0). Both render values with the pg text
//! encoder, so one expected output serves both.
//!
//! Each file gets a fresh data dir and fixture lake (`${LAKE}` in the files). Errors render as
//! `[<error kind>] message` (over the wire, the kind is read back from the SQLSTATE), so files
//! assert on the protocol-neutral kind: `statement error \[undefined table\]`.
//! `cargo test --test slt -- --complete` rewrites the expected output of every file (or of the
//! files named after it) from the in-process run.

mod support;

use std::path::PathBuf;

use arrow_flight::sql::client::FlightSqlServiceClient;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};
use tarn::datafusion::arrow::array::RecordBatch;
use tarn::server::pg::encode::{BatchEncoder, Format, TextContext};
use tarn::server::pg::sqlstate;
use tarn::{Output, TarnSession};

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

impl From<tarn::Error> for SltError {
    fn from(e: tarn::Error) -> Self {
        SltError(format!("[{}] {}", e.kind().name(), e.message()))
    }
}

struct TarnDb {
    session: TarnSession,
    /// Scratch paths shown as `${LAKE}` / `${DATA}` so expected output is machine-independent.
    paths: Vec<(String, &'static str)>,
}

/// One cell as the files show it: scratch paths named, empty strings visible.
fn cell(value: Option<String>, paths: &[(String, &str)]) -> String {
    let Some(mut s) = value else {
        return "NULL".into();
    };
    for (path, name) in paths {
        s = s.replace(path.as_str(), name);
    }
    if s.is_empty() {
        "(empty)".to_string()
    } else {
        s
    }
}

/// Adds a row; a multi-line single value (SHOW CREATE TABLE) is compared line by line.
fn push_row(rows: &mut Vec<Vec<String>>, cells: Vec<String>) {
    match cells.as_slice() {
        [text] if text.contains('\n') => {
            rows.extend(text.lines().map(|line| vec![line.to_string()]))
        }
        _ => rows.push(cells),
    }
}

/// Batches rendered exactly as the pg wire sends text.
fn render(batches: &[RecordBatch], paths: &[(String, &str)]) -> Result<Vec<Vec<String>>, SltError> {
    let context = TextContext::new("UTC");
    let mut rows = Vec::new();
    for batch in batches {
        let formats = vec![Format::Text; batch.num_columns()];
        let encoder =
            BatchEncoder::new(batch, &formats, &context).map_err(|e| SltError(e.to_string()))?;
        for row in 0..batch.num_rows() {
            let cells = (0..batch.num_columns())
                .map(|col| {
                    let mut out = Vec::new();
                    let value = encoder
                        .write_cell(col, row, &mut out)
                        .then(|| String::from_utf8_lossy(&out).to_string());
                    cell(value, paths)
                })
                .collect();
            push_row(&mut rows, cells);
        }
    }
    Ok(rows)
}

#[async_trait::async_trait]
impl AsyncDB for TarnDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let mut last = DBOutput::StatementComplete(0);
        let statements = self.session.session().parse(sql)?;
        for statement in statements {
            last = match self.session.session().execute(statement).await? {
                Output::Stream(stream) => {
                    let width = stream.schema().fields().len();
                    let batches = tarn::collect(stream).await?;
                    DBOutput::Rows {
                        types: vec![DefaultColumnType::Any; width],
                        rows: render(&batches, &self.paths)?,
                    }
                }
                Output::Command { rows, .. } => DBOutput::StatementComplete(rows.unwrap_or(0)),
            };
        }
        Ok(last)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "tarn"
    }
}

/// The same files over the Postgres wire.
struct PgDb {
    client: tokio_postgres::Client,
    paths: Vec<(String, &'static str)>,
}

#[async_trait::async_trait]
impl AsyncDB for PgDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        use tokio_postgres::SimpleQueryMessage as M;
        let messages = self
            .client
            .simple_query(sql)
            .await
            .map_err(|e| match e.as_db_error() {
                Some(db) => {
                    let kind = sqlstate::kind_of(db.code().code()).map_or("unknown", |k| k.name());
                    SltError(format!("[{kind}] {}", db.message()))
                }
                None => SltError(e.to_string()),
            })?;
        let mut last = DBOutput::StatementComplete(0);
        let mut rows: Option<(usize, Vec<Vec<String>>)> = None;
        for message in messages {
            match message {
                M::RowDescription(columns) => rows = Some((columns.len(), vec![])),
                M::Row(row) => {
                    let cells = (0..row.len())
                        .map(|i| cell(row.get(i).map(String::from), &self.paths))
                        .collect();
                    if let Some((_, rows)) = rows.as_mut() {
                        push_row(rows, cells);
                    }
                }
                M::CommandComplete(n) => {
                    last = match rows.take() {
                        Some((width, rows)) => DBOutput::Rows {
                            types: vec![DefaultColumnType::Any; width],
                            rows,
                        },
                        None => DBOutput::StatementComplete(n),
                    };
                }
                _ => {}
            }
        }
        Ok(last)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "tarn-pg"
    }
}

/// The same files over Arrow Flight SQL: GetFlightInfo plans each statement; queries are
/// fetched with DoGet, commands (no result columns) run as CommandStatementUpdate.
struct FlightDb {
    client: FlightSqlServiceClient<tonic::transport::Channel>,
    paths: Vec<(String, &'static str)>,
}

fn flight_error(e: arrow_flight::error::FlightError) -> SltError {
    match e {
        arrow_flight::error::FlightError::Tonic(status) => {
            let kind = status
                .metadata()
                .get(tarn::server::flight::status::SQLSTATE_KEY)
                .and_then(|v| v.to_str().ok())
                .and_then(sqlstate::kind_of)
                .map_or("unknown", |k| k.name());
            SltError(format!("[{kind}] {}", status.message()))
        }
        other => SltError(other.to_string()),
    }
}

#[async_trait::async_trait]
impl AsyncDB for FlightDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        use futures::TryStreamExt;
        if !returns_rows(sql) {
            let rows = self
                .client
                .execute_update(sql.to_string(), None)
                .await
                .map_err(flight_error)?;
            return Ok(DBOutput::StatementComplete(rows.max(0) as u64));
        }
        let info = self
            .client
            .execute(sql.to_string(), None)
            .await
            .map_err(flight_error)?;
        let schema = datafusion_schema(&info)?;
        if schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let mut batches = Vec::new();
        for endpoint in info.endpoint {
            let ticket = endpoint
                .ticket
                .ok_or_else(|| SltError("no ticket".into()))?;
            let stream = self.client.do_get(ticket).await.map_err(flight_error)?;
            batches.extend(stream.try_collect::<Vec<_>>().await.map_err(flight_error)?);
        }
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; schema.fields().len()],
            rows: render(&batches, &self.paths)?,
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "tarn-flight"
    }
}

/// Whether a statement is a query (run with GetFlightInfo + DoGet) rather than a command (run
/// with CommandStatementUpdate, which reports the rows affected).
fn returns_rows(sql: &str) -> bool {
    let text = sql
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    [
        "select", "with", "show", "values", "describe", "desc ", "explain", "msck", "(",
    ]
    .iter()
    .any(|k| text.starts_with(k))
}

fn datafusion_schema(
    info: &arrow_flight::FlightInfo,
) -> Result<tarn::datafusion::arrow::datatypes::Schema, SltError> {
    info.clone()
        .try_decode_schema()
        .map_err(|e| SltError(e.to_string()))
}

/// A Flight SQL server on the lake's engine and a client logged in as `slt`.
async fn flight_client(
    lake: &support::TestLake,
) -> FlightSqlServiceClient<tonic::transport::Channel> {
    use tarn::server::{FlightConfig, FlightServer};
    add_slt_user(lake).await;
    let config = FlightConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Default::default()
    };
    let server = FlightServer::bind(lake.tarn.engine().clone(), config)
        .await
        .expect("bind");
    let port = server.local_addr().port();
    tokio::spawn(server.serve(std::future::pending()));
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = FlightSqlServiceClient::new(channel);
    client.handshake("slt", "slt").await.expect("handshake");
    client
}

async fn add_slt_user(lake: &support::TestLake) {
    lake.add_user("slt", "slt", true).await;
}

/// Where a file's statements run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    InProcess,
    PgWire,
    FlightSql,
    /// In process, with the warehouse (managed tables) on S3 (a moto server).
    S3Warehouse,
    /// In process as a shared deployment runs: the catalog in PostgreSQL (a real server,
    /// `tarn_catalog::testing`), the warehouse on S3.
    Shared,
}

fn slt_files(filter: &[String]) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter(|p| {
            filter.is_empty()
                || filter
                    .iter()
                    .any(|f| p.to_string_lossy().contains(f.as_str()))
        })
        .collect();
    files.sort();
    files
}

/// A pg server on the lake's engine (trust auth for a user `slt`) and a client connected to it.
async fn pg_client(lake: &support::TestLake) -> tokio_postgres::Client {
    use tarn::server::{AuthMethod, PgConfig, PgServer};
    add_slt_user(lake).await;
    let config = PgConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        auth: AuthMethod::Trust,
        ..Default::default()
    };
    let server = PgServer::bind(lake.tarn.engine().clone(), config)
        .await
        .expect("bind");
    let port = server.local_addr().port();
    tokio::spawn(server.serve(std::future::pending()));
    let url = format!("host=127.0.0.1 port={port} user=slt dbname=tarn");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

/// Runs a file over one connection to a server (one connection per file).
async fn run_remote<D>(path: &PathBuf, lake: &support::TestLake, db: D) -> Result<(), String>
where
    D: AsyncDB<Error = SltError, ColumnType = DefaultColumnType> + Send + 'static,
{
    let db = std::sync::Arc::new(tokio::sync::Mutex::new(Some(db)));
    let mut runner = Runner::new(move || {
        let db = db.clone();
        async move { Ok(db.lock().await.take().expect("one connection per file")) }
    });
    set_vars(&mut runner, lake);
    runner
        .run_file_async(path)
        .await
        .map_err(|e| e.display(true).to_string())
}

/// The variables files use for the scratch lake, data dir and warehouse.
fn set_vars<D, M>(runner: &mut Runner<D, M>, lake: &support::TestLake)
where
    D: AsyncDB,
    M: sqllogictest::MakeConnection<Conn = D>,
{
    runner.set_var("LAKE".into(), lake.lake().display().to_string());
    runner.set_var("DATA".into(), lake.data_dir().display().to_string());
    runner.set_var("WAREHOUSE".into(), lake.warehouse());
}

async fn run_file(
    path: &PathBuf,
    complete: bool,
    mode: Mode,
    moto: Option<&support::moto::Moto>,
) -> Result<(), String> {
    let lake = match (mode, moto) {
        (Mode::S3Warehouse | Mode::Shared, Some(moto)) => {
            let bucket = format!("slt{}", std::process::id() ^ rand_suffix());
            moto.create_bucket(&bucket);
            support::TestLake::connect(|config| {
                config.warehouse = format!("s3://{bucket}/warehouse");
                config.storage = vec![moto.storage(&bucket)];
                if mode == Mode::Shared {
                    let server = tarn_catalog::testing::PostgresServer::shared();
                    config.catalog = Some(server.options("slt"));
                }
            })
            .await
        }
        _ => support::TestLake::new(),
    };
    let tarn = lake.tarn.clone();
    // Longest first: the local warehouse lies in the data dir.
    let paths = vec![
        (lake.warehouse(), "${WAREHOUSE}"),
        (lake.lake().display().to_string(), "${LAKE}"),
        (lake.data_dir().display().to_string(), "${DATA}"),
    ];
    match mode {
        Mode::FlightSql => {
            let client = flight_client(&lake).await;
            return run_remote(path, &lake, FlightDb { client, paths }).await;
        }
        Mode::PgWire => {
            let client = pg_client(&lake).await;
            return run_remote(path, &lake, PgDb { client, paths }).await;
        }
        Mode::InProcess | Mode::S3Warehouse | Mode::Shared => {}
    }
    let mut runner = Runner::new(move || {
        let (tarn, paths) = (tarn.clone(), paths.clone());
        async move {
            Ok(TarnDb {
                session: tarn.session("slt"),
                paths,
            })
        }
    });
    set_vars(&mut runner, &lake);
    if complete {
        runner
            .update_test_file(
                path,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::default_column_validator,
            )
            .await
            .map_err(|e| e.to_string())
    } else {
        runner
            .run_file_async(path)
            .await
            .map_err(|e| e.display(true).to_string())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let complete = args.iter().any(|a| a == "--complete");
    let filter: Vec<String> = args.into_iter().filter(|a| !a.starts_with('-')).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let files = slt_files(&filter);
    let (mut passed, mut failed) = (0, 0);
    let modes: &[Mode] = if complete {
        &[Mode::InProcess]
    } else {
        &[
            Mode::InProcess,
            Mode::PgWire,
            Mode::FlightSql,
            Mode::S3Warehouse,
            Mode::Shared,
        ]
    };
    let moto = (modes.contains(&Mode::S3Warehouse) || modes.contains(&Mode::Shared))
        .then(support::moto::Moto::start);
    for (file, &mode) in files.iter().flat_map(|f| modes.iter().map(move |m| (f, m))) {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let name = match mode {
            Mode::InProcess => name,
            Mode::PgWire => format!("{name} (pg wire)"),
            Mode::FlightSql => format!("{name} (Flight SQL)"),
            Mode::S3Warehouse => format!("{name} (warehouse on S3)"),
            Mode::Shared => format!("{name} (PostgreSQL catalog, warehouse on S3)"),
        };
        match runtime.block_on(run_file(file, complete, mode, moto.as_ref())) {
            Ok(()) => {
                passed += 1;
                println!("slt {name} ... ok");
            }
            Err(e) => {
                failed += 1;
                println!("slt {name} ... FAILED\n{e}");
            }
        }
    }
    println!("\nslt: {passed} passed, {failed} failed");
    if failed > 0 || files.is_empty() {
        std::process::exit(1);
    }
}

/// A per-file bucket name suffix.
fn rand_suffix() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
