//! Running statements for Flight SQL: planning at GetFlightInfo, replaying tickets at DoGet,
//! updates and prepared updates, cancel.
//!
//! Statements that change the session (SET, RESET, USE, transaction commands) run on the
//! client's session when they are planned, so later tickets carry their effect. Everything else
//! runs on a fork of the session built from the ticket, with its own cancel handle.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow_flight::FlightInfo;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::physical_plan::{RecordBatchStream, SendableRecordBatchStream};
use futures::{Stream, StreamExt, TryStreamExt};
use tarn_engine::sql::Statement;
use tarn_engine::{ErrorKind, Output, PreparedKind, Session};
use tonic::Status;

use super::prepared::PreparedStatement;
use super::sessions::{FlightSession, Sessions};
use super::status::{self, status};
use super::stream::wire_schema;
use super::ticket::{QueryTicket, Source};

/// What GetFlightInfo tells the client and puts in the ticket.
pub(crate) struct Planned {
    pub schema: SchemaRef,
    pub source: Source,
}

fn changes_session(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::SetVariable { .. }
            | Statement::SetTarn { .. }
            | Statement::ResetAll
            | Statement::Discard { .. }
            | Statement::Use { .. }
            | Statement::Transaction(_)
    )
}

/// SQL cursors belong to the Postgres wire (ODBC, Tableau); Flight SQL streams every result.
fn refuse_cursor(statement: &Statement) -> Result<(), Status> {
    if matches!(
        statement,
        Statement::DeclareCursor { .. } | Statement::Fetch { .. } | Statement::CloseCursor { .. }
    ) {
        return Err(status(
            ErrorKind::FeatureNotSupported,
            "SQL cursors (DECLARE/FETCH/MOVE/CLOSE) are served over the Postgres wire; \
             Flight SQL streams results without them",
        ));
    }
    Ok(())
}

fn engine_status(e: tarn_engine::EngineError) -> Status {
    status::from_engine(&e)
}

/// Plans `sql` (one statement) for its result schema. A failure inside a transaction block
/// aborts the block, as over the Postgres wire.
pub(crate) async fn plan_statement(session: &FlightSession, sql: &str) -> Result<Planned, Status> {
    let planned = plan_unguarded(session, sql).await;
    if planned.is_err() {
        session.session.statement_failed();
    }
    planned
}

async fn plan_unguarded(session: &FlightSession, sql: &str) -> Result<Planned, Status> {
    for statement in session.session.parse(sql).map_err(engine_status)? {
        refuse_cursor(&statement)?;
    }
    let prepared = session.session.prepare(sql).await.map_err(engine_status)?;
    if !prepared.param_types.is_empty() {
        return Err(status(
            ErrorKind::InvalidParameter,
            "the statement has parameters: use a prepared statement and bind them",
        ));
    }
    let Some(schema) = prepared.schema.as_ref().map(wire_schema) else {
        // A command has no rows to defer: it runs now, on the client's session (so SET and
        // USE last), and the ticket has nothing left to do. Clients such as ADBC never fetch
        // a result without columns.
        drain(
            session
                .session
                .execute_prepared(&prepared, vec![])
                .await
                .map_err(engine_status)?,
        )
        .await?;
        return Ok(done());
    };
    if let PreparedKind::Statement(statement) = &prepared.kind
        && changes_session(statement)
    {
        drain(
            session
                .session
                .execute(statement.clone())
                .await
                .map_err(engine_status)?,
        )
        .await?;
        return Ok(done());
    }
    Ok(Planned {
        schema,
        source: Source::Sql {
            sql: sql.to_string(),
        },
    })
}

/// A ticket for a statement that already ran.
pub(crate) fn done() -> Planned {
    Planned {
        schema: Arc::new(Schema::empty()),
        source: Source::Sql { sql: String::new() },
    }
}

/// Runs a ticket: its result stream (empty for commands), registered for cancel.
pub(crate) async fn run_ticket(
    sessions: &Arc<Sessions>,
    session: &Arc<FlightSession>,
    ticket: &QueryTicket,
) -> Result<SendableRecordBatchStream, Status> {
    let fork = Arc::new(
        session
            .session
            .fork(&ticket.snapshot())
            .map_err(engine_status)?,
    );
    let prepared = match &ticket.source {
        Source::Prepared { handle } => Some(session.prepared.get(handle.as_bytes())?),
        Source::Sql { .. } => None,
    };
    let text = match (&ticket.source, &prepared) {
        (Source::Sql { sql }, _) => sql.as_str(),
        (_, Some(p)) => p.sql.as_str(),
        _ => "",
    };
    // Registered for cancel only once nothing can fail before `Finish` exists to unregister it.
    if !sessions.start_query(&ticket.query, fork.cancel_handle()) {
        return Err(status(
            ErrorKind::Canceled,
            "canceling statement due to user request",
        ));
    }
    let finish = Finish {
        sessions: sessions.clone(),
        query: ticket.query.clone(),
        // The DoGet of a command that already ran (empty text) keeps the statement shown.
        _active: (!text.trim().is_empty()).then(|| session.run_statement(text)),
    };
    let stream = match (prepared, &ticket.source) {
        (Some(prepared), _) => run_prepared(fork, prepared).await?,
        (None, Source::Sql { sql }) if !sql.trim().is_empty() => run_sql(&fork, sql).await?,
        (None, _) => empty(Arc::new(Schema::empty())),
    };
    Ok(Box::pin(Finishing {
        schema: stream.schema(),
        inner: stream,
        _finish: finish,
    }))
}

async fn run_sql(session: &Session, sql: &str) -> Result<SendableRecordBatchStream, Status> {
    let mut statements = session.parse(sql).map_err(engine_status)?;
    let statement = match (statements.pop(), statements.is_empty()) {
        (Some(s), true) => s,
        _ => return Err(status(ErrorKind::Syntax, "expected exactly one statement")),
    };
    Ok(
        match session.execute(statement).await.map_err(engine_status)? {
            Output::Stream(s) => s,
            Output::Command { .. } => empty(Arc::new(Schema::empty())),
        },
    )
}

/// Runs a prepared query once per bound parameter row, one stream after the other.
async fn run_prepared(
    session: Arc<Session>,
    prepared: Arc<PreparedStatement>,
) -> Result<SendableRecordBatchStream, Status> {
    let rows = prepared.parameter_rows()?;
    let schema = prepared
        .prepared
        .schema
        .clone()
        .unwrap_or_else(|| Arc::new(Schema::empty()));
    let mut outputs = Vec::with_capacity(rows.len().min(1));
    // The first row runs now, so planning errors surface as the DoGet's status.
    let mut rows = rows.into_iter();
    if let Some(first) = rows.next() {
        outputs.push(execute_row(&session, &prepared, first).await?);
    }
    let rest = futures::stream::iter(rows)
        .then(move |row| {
            let session = session.clone();
            let prepared = prepared.clone();
            async move { execute_row(&session, &prepared, row).await }
        })
        .map_err(|s| datafusion::error::DataFusionError::External(Box::new(s)))
        .try_flatten();
    let all = futures::stream::iter(outputs).flatten().chain(rest);
    Ok(Box::pin(
        datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, all),
    ))
}

async fn execute_row(
    session: &Session,
    prepared: &PreparedStatement,
    row: Vec<ScalarValue>,
) -> Result<SendableRecordBatchStream, Status> {
    let output = session
        .execute_prepared(&prepared.prepared, row)
        .await
        .map_err(engine_status)?;
    Ok(match output {
        Output::Stream(s) => s,
        Output::Command { .. } => empty(Arc::new(Schema::empty())),
    })
}

/// Runs every statement of `sql` on the client's session; returns the rows affected.
pub(crate) async fn update(session: &FlightSession, sql: &str) -> Result<i64, Status> {
    let run = async {
        let statements = session.session.parse(sql).map_err(engine_status)?;
        let mut total = 0;
        for statement in statements {
            refuse_cursor(&statement)?;
            let output = session
                .session
                .execute(statement)
                .await
                .map_err(engine_status)?;
            total += drain(output).await?;
        }
        Ok(total)
    };
    let result = run.await;
    if result.is_err() {
        session.session.statement_failed();
    }
    result
}

/// Runs a prepared statement for effect, once per bound row; returns the rows affected.
pub(crate) async fn prepared_update(
    session: &FlightSession,
    prepared: &PreparedStatement,
) -> Result<i64, Status> {
    let mut total = 0;
    for row in prepared.parameter_rows()? {
        let output = session
            .session
            .execute_prepared(&prepared.prepared, row)
            .await
            .map_err(engine_status)?;
        total += drain(output).await?;
    }
    Ok(total)
}

/// A command's row count, or the rows of a result read to the end.
async fn drain(output: Output) -> Result<i64, Status> {
    match output {
        Output::Command { rows, .. } => Ok(rows.map_or(0, |r| r as i64)),
        Output::Stream(mut stream) => {
            let mut rows = 0;
            while let Some(batch) = stream.next().await {
                rows += batch.map_err(status::from_datafusion)?.num_rows() as i64;
            }
            Ok(rows)
        }
    }
}

/// Cancels the queries of a FlightInfo's tickets (only the caller's own).
pub(crate) fn cancel(
    sessions: &Sessions,
    session: &FlightSession,
    info: &FlightInfo,
) -> Result<(), Status> {
    let mut any = false;
    for endpoint in &info.endpoint {
        let Some(ticket) = &endpoint.ticket else {
            continue;
        };
        let ticket = QueryTicket::from_ticket(ticket)?;
        if ticket.session != session.id {
            return Err(status(
                ErrorKind::PermissionDenied,
                "this query belongs to another session",
            ));
        }
        sessions.cancel_query(&ticket.query);
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err(status(
            ErrorKind::InvalidParameter,
            "the FlightInfo names no query",
        ))
    }
}

fn empty(schema: SchemaRef) -> SendableRecordBatchStream {
    Box::pin(
        datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
            schema,
            futures::stream::empty::<datafusion::error::Result<RecordBatch>>(),
        ),
    )
}

/// Unregisters a query from the cancel registry when its stream is dropped.
struct Finish {
    sessions: Arc<Sessions>,
    query: String,
    /// Keeps the session `active` in pg_stat_activity until the results are consumed.
    _active: Option<super::sessions::ActiveStatement>,
}

impl Drop for Finish {
    fn drop(&mut self) {
        self.sessions.finish_query(&self.query);
    }
}

struct Finishing {
    schema: SchemaRef,
    inner: SendableRecordBatchStream,
    _finish: Finish,
}

impl Stream for Finishing {
    type Item = datafusion::error::Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl RecordBatchStream for Finishing {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
