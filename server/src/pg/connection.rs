//! One client connection after authentication: the simple and extended query protocols over a
//! [`Session`], with PostgreSQL's error recovery rules.

use std::collections::HashMap;
use std::sync::Arc;

use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::{CommandComplete, EmptyQueryResponse, TransactionStatus};
use pgwire::messages::startup::ParameterStatus;
use tarn_engine::activity::Registration;
use tarn_engine::{EngineError, Output, Session, TransactionState};
use tokio_util::sync::CancellationToken;

use super::copy;
use super::encode::{Format, TextContext};
use super::extended::{Portal, PreparedStatement};
use super::messages::Frontend;
use super::results::{self, RowSource, SendError, Sent};
use super::sqlstate::PgError;
use super::wire::{Wire, WireError};

pub struct Connection {
    pub wire: Wire,
    pub session: Session,
    pub statements: HashMap<String, Arc<PreparedStatement>>,
    pub portals: HashMap<String, Portal>,
    /// After an error in an extended-protocol batch, messages are skipped until Sync.
    pub skip_until_sync: bool,
    pub text: TextContext,
    /// The ParameterStatus values the client has been told.
    reported: Vec<(&'static str, String)>,
    shutdown: CancellationToken,
    /// The longest line `COPY … FROM STDIN` accepts, in bytes.
    pub copy_max_line: usize,
    /// This connection in the engine's pg_stat_activity (what it runs; pg_terminate_backend).
    pub backend: Option<Registration>,
}

/// Completes when pg_terminate_backend ends this connection (never without a registration).
async fn terminated(backend: &Option<Registration>) {
    match backend {
        Some(b) => b.terminated().await,
        None => std::future::pending().await,
    }
}

/// What ended a connection.
pub enum Ended {
    /// The client said goodbye or hung up.
    Client,
    /// The server is shutting down.
    Shutdown,
}

impl Connection {
    pub fn new(wire: Wire, session: Session, shutdown: CancellationToken) -> Self {
        let settings = session.settings();
        let text = TextContext::new(&settings.get("TimeZone").unwrap_or_default());
        Self {
            wire,
            session,
            statements: HashMap::new(),
            portals: HashMap::new(),
            skip_until_sync: false,
            text,
            reported: settings.reported(),
            shutdown,
            copy_max_line: super::DEFAULT_COPY_MAX_LINE,
            backend: None,
        }
    }

    pub fn transaction_status(&self) -> TransactionStatus {
        match self.session.transaction_state() {
            TransactionState::Idle => TransactionStatus::Idle,
            TransactionState::InBlock => TransactionStatus::Transaction,
            TransactionState::Failed => TransactionStatus::Error,
        }
    }

    pub async fn ready(&mut self) -> Result<(), WireError> {
        let status = self.transaction_status();
        self.wire.send_ready(status);
        self.wire.flush().await
    }

    /// Serves messages until the client leaves or the server shuts down.
    pub async fn run(&mut self) -> Result<Ended, WireError> {
        loop {
            let message = tokio::select! {
                m = self.wire.read_message() => m,
                _ = self.shutdown.cancelled() => return Ok(Ended::Shutdown),
                _ = terminated(&self.backend) => return Ok(Ended::Shutdown),
            };
            let message = match message {
                Ok(m) => m,
                Err(WireError::Closed) => return Ok(Ended::Client),
                Err(e) => return Err(e),
            };
            if self.skip_until_sync && message_is_extended(&message) {
                continue;
            }
            match message {
                Frontend::Query(sql) => {
                    if let Some(backend) = &self.backend {
                        backend.start_query(&sql);
                    }
                    self.simple_query(&sql).await?;
                    self.idle();
                    self.ready().await?;
                }
                Frontend::Sync => {
                    self.skip_until_sync = false;
                    self.idle();
                    self.ready().await?;
                }
                Frontend::Flush => self.wire.flush().await?,
                Frontend::Terminate => return Ok(Ended::Client),
                // Stray COPY messages outside COPY mode are ignored, as PostgreSQL does.
                Frontend::CopyData(_) | Frontend::CopyDone | Frontend::CopyFail(_) => {}
                Frontend::Password(_) => {
                    return Err(WireError::Protocol(PgError::protocol(
                        "unexpected password message",
                    )));
                }
                extended => {
                    if let Err(e) = self.extended(extended).await {
                        self.fail_extended(e)?;
                    }
                }
            }
        }
    }

    /// Between statements, as pg_stat_activity shows it.
    fn idle(&self) {
        if let Some(backend) = &self.backend {
            backend.idle();
            if let Ok(name) = self.session.settings().get("application_name") {
                backend.set_application_name(&name);
            }
        }
    }

    /// Reports an error in an extended batch and skips to Sync; wire errors end the connection.
    fn fail_extended(&mut self, e: SendError) -> Result<(), WireError> {
        match e {
            SendError::Wire(w) => Err(w),
            SendError::Query(q) => {
                self.report_failure(&q, None);
                self.skip_until_sync = true;
                Ok(())
            }
        }
    }

    /// Sends an ErrorResponse for a failed statement and marks the transaction block failed.
    pub fn report_failure(&mut self, error: &EngineError, sql: Option<&str>) {
        self.session.statement_failed();
        self.wire.send_error(&PgError::from_engine(error, sql));
    }

    async fn simple_query(&mut self, sql: &str) -> Result<(), WireError> {
        // Extended-protocol state is unaffected, but an unnamed portal does not survive.
        self.portals.remove("");
        let statements = match self.session.parse(sql) {
            Ok(s) => s,
            Err(e) => {
                self.report_failure(&e, Some(sql));
                return Ok(());
            }
        };
        if statements.is_empty() {
            self.wire.send(PgWireBackendMessage::EmptyQueryResponse(
                EmptyQueryResponse::new(),
            ));
            return Ok(());
        }
        for statement in statements {
            if let Some(copy) = copy::CopyStatement::of(&statement) {
                match copy::run(self, copy).await {
                    Ok(()) => continue,
                    Err(SendError::Query(e)) => {
                        self.report_failure(&e, Some(sql));
                        return Ok(());
                    }
                    Err(SendError::Wire(w)) => return Err(w),
                }
            }
            let verb = statement.rows_verb();
            let output = match self.session.execute(statement).await {
                Ok(o) => o,
                Err(e) => {
                    self.report_failure(&e, Some(sql));
                    return Ok(());
                }
            };
            match self.send_output(output, None, 0, verb).await {
                Ok(_) => {}
                Err(SendError::Query(e)) => {
                    self.report_failure(&e, Some(sql));
                    return Ok(());
                }
                Err(SendError::Wire(w)) => return Err(w),
            }
        }
        Ok(())
    }

    /// Sends a statement's output. `formats` is `None` in the simple protocol (RowDescription is
    /// sent here, all text); in the extended protocol the client already has the description.
    pub async fn send_output(
        &mut self,
        output: Output,
        formats: Option<&[Format]>,
        limit: usize,
        verb: &'static str,
    ) -> Result<Option<RowSource>, SendError> {
        match output {
            Output::Command { tag, .. } if tag.is_empty() => {
                self.wire.send(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ));
                Ok(None)
            }
            Output::Command { tag, rows } => {
                self.after_command(&tag);
                let tag = results::command_tag(&tag, rows);
                self.wire
                    .send(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        tag,
                    )));
                Ok(None)
            }
            Output::Stream(stream) => {
                let schema = stream.schema();
                let text_formats;
                let formats = match formats {
                    Some(f) => f,
                    None => {
                        text_formats = vec![Format::Text; schema.fields().len()];
                        self.wire
                            .send(results::row_description(&schema, &text_formats));
                        &text_formats
                    }
                };
                let mut source = RowSource::new(stream);
                source.verb = verb;
                self.drain(&mut source, formats, limit)
                    .await
                    .map(|done| (!done).then_some(source))
            }
        }
    }

    /// Sends rows of a source; returns whether it finished (else the portal is suspended).
    pub async fn drain(
        &mut self,
        source: &mut RowSource,
        formats: &[Format],
        limit: usize,
    ) -> Result<bool, SendError> {
        match source
            .send(&mut self.wire, formats, &self.text, limit)
            .await?
        {
            Sent::Complete => {
                let tag = results::command_tag(source.verb, Some(source.rows_sent));
                self.wire
                    .send(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        tag,
                    )));
                Ok(true)
            }
            Sent::Suspended => {
                self.wire.send(PgWireBackendMessage::PortalSuspended(
                    pgwire::messages::extendedquery::PortalSuspended::new(),
                ));
                Ok(false)
            }
        }
    }

    /// After SET/RESET: tell the client about changed reported settings.
    fn after_command(&mut self, tag: &str) {
        if tag == "DISCARD ALL" {
            // Prepared statements and portals belong to the connection.
            self.statements.clear();
            self.portals.clear();
        }
        if !matches!(tag, "SET" | "RESET" | "DISCARD ALL") {
            return;
        }
        let settings = self.session.settings();
        let now = settings.reported();
        for (name, value) in &now {
            let changed = self.reported.iter().any(|(n, v)| n == name && v != value);
            if changed {
                self.wire
                    .send(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                        name.to_string(),
                        value.clone(),
                    )));
            }
        }
        self.text = TextContext::new(&settings.get("TimeZone").unwrap_or_default());
        self.reported = now;
    }
}

fn message_is_extended(message: &Frontend) -> bool {
    matches!(
        message,
        Frontend::Parse { .. }
            | Frontend::Bind { .. }
            | Frontend::Describe { .. }
            | Frontend::Execute { .. }
            | Frontend::Close { .. }
            | Frontend::Flush
    )
}
