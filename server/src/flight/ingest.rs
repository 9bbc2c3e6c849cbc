//! DoPut payloads: bulk ingest (CommandStatementIngest) streams the client's batches straight
//! into the engine's atomic write path; prepared-statement parameters are read whole (they are
//! small by nature).

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::CommandStatementIngest;
use arrow_flight::sql::server::PeekableFlightDataStream;
use arrow_flight::sql::{TableExistsOption, TableNotExistOption};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};
use tarn_engine::sql::ObjectName;
use tarn_engine::{ErrorKind, IngestMode, Output};
use tonic::Status;

use super::sessions::FlightSession;
use super::status::{self, invalid, status};

/// ADBC's ingest modes from the two table options.
fn mode(command: &CommandStatementIngest) -> Result<IngestMode, Status> {
    let options = command.table_definition_options.unwrap_or_default();
    let if_not_exist = TableNotExistOption::try_from(options.if_not_exist).unwrap_or_default();
    let if_exists = TableExistsOption::try_from(options.if_exists).unwrap_or_default();
    use TableExistsOption as E;
    use TableNotExistOption as N;
    Ok(match (if_not_exist, if_exists) {
        (N::Create, E::Fail | E::Unspecified) => IngestMode::Create,
        (N::Fail | N::Unspecified, E::Append) => IngestMode::Append,
        (N::Create, E::Replace) => IngestMode::Replace,
        (N::Create, E::Append) => IngestMode::CreateAppend,
        (n, e) => {
            return Err(invalid(format!(
                "unsupported ingest options: if the table does not exist {}, if it exists {}",
                n.as_str_name(),
                e.as_str_name()
            )));
        }
    })
}

/// The target table: schema (a tarn database) or the session's current database.
fn target(command: &CommandStatementIngest) -> Result<ObjectName, Status> {
    if command.temporary {
        return Err(status(
            ErrorKind::FeatureNotSupported,
            "temporary tables are not supported: ingest into a catalog table",
        ));
    }
    if command.transaction_id.is_some() {
        return Err(status(
            ErrorKind::FeatureNotSupported,
            "transactions are not supported: an ingest commits atomically on its own",
        ));
    }
    if let Some(catalog) = command.catalog.as_deref().filter(|c| !c.is_empty())
        && catalog != tarn_engine::provider::CATALOG_NAME
    {
        return Err(status(
            ErrorKind::UndefinedDatabase,
            format!("catalog \"{catalog}\" does not exist (this server's catalog is \"tarn\")"),
        ));
    }
    if command.table.is_empty() {
        return Err(invalid("ingest needs a target table name"));
    }
    Ok(ObjectName {
        database: command
            .schema
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(tarn_engine::provider::database_for_schema),
        name: command.table.to_lowercase(),
    })
}

/// The record batches of a DoPut. Messages without an IPC header (a bare descriptor, as
/// clients send for updates without parameters) carry no data and are skipped.
fn decoded(request: PeekableFlightDataStream) -> FlightRecordBatchStream {
    let data = request
        .try_filter(|message| futures::future::ready(!message.data_header.is_empty()))
        .map_err(FlightError::from);
    FlightRecordBatchStream::new_from_flight_data(data)
}

fn flight_error(e: FlightError) -> Status {
    match e {
        FlightError::Tonic(s) => *s,
        other => invalid(format!("malformed Arrow data: {other}")),
    }
}

/// Streams the batches of `request` into the target table.
pub(crate) async fn ingest(
    session: &FlightSession,
    command: CommandStatementIngest,
    request: PeekableFlightDataStream,
) -> Result<i64, Status> {
    let mode = mode(&command)?;
    let name = target(&command)?;
    let mut batches = decoded(request);
    // The schema arrives with the first message; an empty upload has no rows to write.
    let first = batches.next().await.transpose().map_err(flight_error)?;
    let schema = match (&first, batches.schema()) {
        (Some(batch), _) => batch.schema(),
        (None, Some(schema)) => schema.clone(),
        (None, None) => std::sync::Arc::new(Schema::empty()),
    };
    let rest = batches.map_err(|e| {
        let s = flight_error(e);
        datafusion::error::DataFusionError::External(Box::new(
            tarn_engine::EngineError::InvalidParameter(s.message().to_string()),
        ))
    });
    let all = futures::stream::iter(first.map(Ok)).chain(rest);
    let input = Box::pin(RecordBatchStreamAdapter::new(schema, all));
    match session.session.ingest(&name, mode, input).await {
        Ok(Output::Command { rows, .. }) => Ok(rows.map_or(0, |r| r as i64)),
        Ok(Output::Stream(_)) => Ok(0),
        Err(e) => Err(status::from_engine(&e)),
    }
}

/// Every batch of a DoPut (parameter rows).
pub(crate) async fn read_batches(
    request: PeekableFlightDataStream,
) -> Result<Vec<RecordBatch>, Status> {
    let batches = decoded(request);
    batches.try_collect().await.map_err(flight_error)
}
