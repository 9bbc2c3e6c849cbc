//! The Flight SQL service: each RPC authenticates its bearer token, then translates onto the
//! engine seam. Queries: GetFlightInfo plans (schema + stateless ticket), DoGet replays the
//! ticket on a fork of the session and streams IPC as batches are produced.

use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionBeginTransactionRequest, ActionBeginTransactionResult, ActionCancelQueryRequest,
    ActionCancelQueryResult, ActionClosePreparedStatementRequest,
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    ActionEndTransactionRequest, CommandGetCatalogs, CommandGetCrossReference, CommandGetDbSchemas,
    CommandGetExportedKeys, CommandGetImportedKeys, CommandGetPrimaryKeys, CommandGetSqlInfo,
    CommandGetTableTypes, CommandGetTables, CommandGetXdbcTypeInfo, CommandPreparedStatementQuery,
    CommandPreparedStatementUpdate, CommandStatementIngest, CommandStatementQuery,
    CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest,
    HandshakeResponse, IpcMessage, SchemaAsIpc, Ticket, flight_service_server::FlightService,
};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use futures::Stream;
use prost::Message;
use tarn_engine::{Engine, ErrorKind};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::sessions::{FlightSession, Sessions, parse_basic, unauthenticated};
use super::status::{self, invalid, status};
use super::ticket::{QueryTicket, Source};
use super::{execute, ingest, metadata, stream};

type DataStream = Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send + 'static>>;

/// The Flight SQL service of one server.
#[derive(Clone)]
pub struct TarnFlight {
    pub(crate) engine: Engine,
    pub(crate) sessions: Arc<Sessions>,
}

impl TarnFlight {
    /// The caller's session, from its `authorization: Bearer …` header.
    fn session<T>(&self, request: &Request<T>) -> Result<Arc<FlightSession>, Status> {
        self.sessions.get(bearer_token(request)?)
    }

    /// CloseSession: the token stops working and the session's state goes.
    fn close_session(&self, request: &Request<Action>) -> Result<Response<ActionStream>, Status> {
        let closed = self.sessions.close(bearer_token(request)?);
        let result = CloseSessionResult {
            status: if closed { CLOSE_SESSION_CLOSED } else { 0 },
        };
        let body = arrow_flight::Result {
            body: result.encode_to_vec().into(),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(body)]))))
    }
}

type ActionStream = <TarnFlight as FlightService>::DoActionStream;

/// Flight's `CloseSessionResult` (Flight.proto; arrow-flight 59 does not generate it).
#[derive(Clone, PartialEq, prost::Message)]
struct CloseSessionResult {
    #[prost(int32, tag = "1")]
    status: i32,
}

/// `CloseSessionResult.Status.CLOSED`.
const CLOSE_SESSION_CLOSED: i32 = 1;

/// The bearer token of a call.
fn bearer_token<T>(request: &Request<T>) -> Result<&str, Status> {
    let header = request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            unauthenticated("no authorization header; authenticate with Handshake first")
        })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| {
            unauthenticated("expected a bearer token; authenticate with Handshake first")
        })?;
    Ok(token.trim())
}

impl TarnFlight {
    fn info_for(
        &self,
        schema: &Schema,
        ticket: Ticket,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| status(ErrorKind::Internal, e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }

    /// FlightInfo of a metadata command: its ticket is the command itself.
    fn metadata_info<C: ProstMessageExt>(
        &self,
        command: C,
        schema: SchemaRef,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session(&request)?;
        let ticket = Ticket::new(command.as_any().encode_to_vec());
        self.info_for(&schema, ticket, request.into_inner())
    }

    fn batch_response(batch: RecordBatch) -> Result<Response<DataStream>, Status> {
        Ok(Response::new(Box::pin(stream::encode_batch(batch))))
    }
}

fn schema_bytes(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let message: IpcMessage = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: datafusion::arrow::error::ArrowError| {
            status(ErrorKind::Internal, e.to_string())
        })?;
    Ok(message.0)
}

/// `ActionCancelQueryResult.CancelResult.CANCEL_RESULT_CANCELLED` (not re-exported by
/// arrow-flight).
const CANCEL_RESULT_CANCELLED: i32 = 1;

fn transactions_unsupported() -> Status {
    status(
        ErrorKind::FeatureNotSupported,
        "transactions are not supported: every statement commits atomically on its own",
    )
}

#[tonic::async_trait]
impl FlightSqlService for TarnFlight {
    type FlightService = TarnFlight;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                unauthenticated(
                    "Handshake needs HTTP Basic credentials in the authorization header",
                )
            })?;
        let (user, password) = parse_basic(header)?;
        let token = self.sessions.login(&self.engine, &user, &password).await?;
        let bearer: MetadataValue<_> = format!("Bearer {token}")
            .parse()
            .map_err(|_| status(ErrorKind::Internal, "token is not a header value"))?;
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: token.into_bytes().into(),
        };
        let mut response: Response<Pin<Box<dyn Stream<Item = _> + Send>>> =
            Response::new(Box::pin(futures::stream::iter([Ok(reply)])));
        response.metadata_mut().insert("authorization", bearer);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(&request)?;
        if query.transaction_id.is_some() {
            return Err(transactions_unsupported());
        }
        let planned = execute::plan_statement(&session, &query.query).await?;
        let ticket = QueryTicket::new(session.id, planned.source, session.session.snapshot())?;
        self.info_for(&planned.schema, ticket.to_ticket()?, request.into_inner())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(&request)?;
        let prepared = session.prepared.get(&query.prepared_statement_handle)?;
        if prepared.prepared.schema.is_none() {
            // A command: it runs now (see execute::plan_statement).
            execute::prepared_update(&session, &prepared).await?;
            let done = execute::done();
            let ticket = QueryTicket::new(session.id, done.source, session.session.snapshot())?;
            return self.info_for(&done.schema, ticket.to_ticket()?, request.into_inner());
        }
        let handle = String::from_utf8_lossy(&query.prepared_statement_handle).into_owned();
        let ticket = QueryTicket::new(
            session.id,
            Source::Prepared { handle },
            session.session.snapshot(),
        )?;
        self.info_for(
            &prepared.dataset_schema(),
            ticket.to_ticket()?,
            request.into_inner(),
        )
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        let session = self.session(&request)?;
        let ticket = QueryTicket::from_handle(&ticket.statement_handle)?;
        if ticket.session != session.id {
            return Err(status(
                ErrorKind::PermissionDenied,
                "this ticket belongs to another session",
            ));
        }
        let results = execute::run_ticket(&self.sessions, &session, &ticket).await?;
        Ok(Response::new(Box::pin(stream::encode(results))))
    }

    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session(&request)?;
        if command.transaction_id.is_some() {
            return Err(transactions_unsupported());
        }
        let _active = session.run_statement(&command.query);
        execute::update(&session, &command.query).await
    }

    async fn do_put_statement_ingest(
        &self,
        command: CommandStatementIngest,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session(&request)?;
        let _active = session.run_statement(&format!("INGEST INTO {}", command.table));
        ingest::ingest(&session, command, request.into_inner()).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let session = self.session(&request)?;
        if query.transaction_id.is_some() {
            return Err(transactions_unsupported());
        }
        let prepared = session
            .session
            .prepare(&query.query)
            .await
            .map_err(|e| status::from_engine(&e))?;
        let handle = session.prepared.insert(&query.query, prepared)?;
        let statement = session.prepared.get(handle.as_bytes())?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.into_bytes().into(),
            dataset_schema: schema_bytes(&statement.dataset_schema())?,
            parameter_schema: schema_bytes(&statement.parameter_schema())?,
        })
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let session = self.session(&request)?;
        let prepared = session.prepared.get(&query.prepared_statement_handle)?;
        let batches = ingest::read_batches(request.into_inner()).await?;
        prepared.bind(batches);
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(query.prepared_statement_handle),
        })
    }

    async fn do_put_prepared_statement_update(
        &self,
        query: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session(&request)?;
        let prepared = session.prepared.get(&query.prepared_statement_handle)?;
        let batches = ingest::read_batches(request.into_inner()).await?;
        if !batches.is_empty() {
            prepared.bind(batches);
        }
        let _active = session.run_statement(&prepared.sql);
        execute::prepared_update(&session, &prepared).await
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        let session = self.session(&request)?;
        session.prepared.remove(&query.prepared_statement_handle)
    }

    async fn do_action_cancel_query(
        &self,
        query: ActionCancelQueryRequest,
        request: Request<Action>,
    ) -> Result<ActionCancelQueryResult, Status> {
        let session = self.session(&request)?;
        let info =
            FlightInfo::decode(query.info.as_ref()).map_err(|_| invalid("malformed FlightInfo"))?;
        execute::cancel(&self.sessions, &session, &info)?;
        Ok(ActionCancelQueryResult {
            result: CANCEL_RESULT_CANCELLED,
        })
    }

    /// CancelFlightInfo, the Flight-level cancel newer clients use.
    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        if request.get_ref().r#type == "CloseSession" {
            return self.close_session(&request);
        }
        let session = self.session(&request)?;
        if request.get_ref().r#type != "CancelFlightInfo" {
            return Err(status(
                ErrorKind::FeatureNotSupported,
                format!("unknown action {:?}", request.get_ref().r#type),
            ));
        }
        let cancel = arrow_flight::CancelFlightInfoRequest::decode(request.get_ref().body.as_ref())
            .map_err(|_| invalid("malformed CancelFlightInfoRequest"))?;
        let info = cancel
            .info
            .ok_or_else(|| invalid("CancelFlightInfo without a FlightInfo"))?;
        execute::cancel(&self.sessions, &session, &info)?;
        let result = arrow_flight::CancelFlightInfoResult {
            status: arrow_flight::CancelStatus::Cancelled as i32,
        };
        let body = arrow_flight::Result {
            body: result.encode_to_vec().into(),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(body)]))))
    }

    async fn do_action_begin_transaction(
        &self,
        _query: ActionBeginTransactionRequest,
        request: Request<Action>,
    ) -> Result<ActionBeginTransactionResult, Status> {
        self.session(&request)?;
        Err(transactions_unsupported())
    }

    async fn do_action_end_transaction(
        &self,
        _query: ActionEndTransactionRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        self.session(&request)?;
        Err(transactions_unsupported())
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        self.metadata_info(query, schema, request)
    }

    async fn do_get_catalogs(
        &self,
        _query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        Self::batch_response(metadata::catalogs()?)
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.metadata_info(query, schema, request)
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        let session = self.session(&request)?;
        Self::batch_response(metadata::schemas(&session.session, query).await?)
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.metadata_info(query, schema, request)
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        let session = self.session(&request)?;
        Self::batch_response(metadata::tables(&session.session, query).await?)
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = metadata::table_types()?.schema();
        self.metadata_info(query, schema, request)
    }

    async fn do_get_table_types(
        &self,
        _query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        Self::batch_response(metadata::table_types()?)
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(metadata::sql_info()?).schema();
        self.metadata_info(query, schema, request)
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        let batch = query
            .into_builder(metadata::sql_info()?)
            .build()
            .map_err(|e| status(ErrorKind::Internal, e.to_string()))?;
        Self::batch_response(batch)
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder(metadata::xdbc_types()?).schema();
        self.metadata_info(query, schema, request)
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        let batch = query
            .into_builder(metadata::xdbc_types()?)
            .build()
            .map_err(|e| status(ErrorKind::Internal, e.to_string()))?;
        Self::batch_response(batch)
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.metadata_info(query, metadata::keys_schema(false), request)
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        Self::batch_response(metadata::empty_keys(false)?)
    }

    async fn get_flight_info_exported_keys(
        &self,
        query: CommandGetExportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.metadata_info(query, metadata::keys_schema(true), request)
    }

    async fn do_get_exported_keys(
        &self,
        _query: CommandGetExportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        Self::batch_response(metadata::empty_keys(true)?)
    }

    async fn get_flight_info_imported_keys(
        &self,
        query: CommandGetImportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.metadata_info(query, metadata::keys_schema(true), request)
    }

    async fn do_get_imported_keys(
        &self,
        _query: CommandGetImportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        Self::batch_response(metadata::empty_keys(true)?)
    }

    async fn get_flight_info_cross_reference(
        &self,
        query: CommandGetCrossReference,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.metadata_info(query, metadata::keys_schema(true), request)
    }

    async fn do_get_cross_reference(
        &self,
        _query: CommandGetCrossReference,
        request: Request<Ticket>,
    ) -> Result<Response<DataStream>, Status> {
        self.session(&request)?;
        Self::batch_response(metadata::empty_keys(true)?)
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
