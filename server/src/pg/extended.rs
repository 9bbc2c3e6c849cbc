//! The extended query protocol: named and unnamed prepared statements and portals,
//! Describe before execution, Execute with a row limit (PortalSuspended) and resumption.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::common::ScalarValue;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::{NoData, ParameterDescription};
use pgwire::messages::extendedquery::{BindComplete, CloseComplete, ParseComplete};
use tarn_engine::{EngineError, ErrorKind, Prepared, PreparedKind};

use super::connection::Connection;
use super::encode::{Format, column_formats};
use super::messages::Frontend;
use super::params;
use super::results::{self, RowSource, SendError};
use super::types::{oid, type_oid};

/// A statement prepared by Parse.
pub struct PreparedStatement {
    pub sql: String,
    pub prepared: Prepared,
    /// Declared by the client in Parse (0 = unspecified), one per parameter.
    pub declared: Vec<u32>,
}

impl PreparedStatement {
    /// The type of each parameter as reported in ParameterDescription.
    fn parameter_oids(&self) -> Vec<u32> {
        let n = self.prepared.param_types.len().max(self.declared.len());
        (0..n)
            .map(|i| match self.declared.get(i) {
                Some(&declared) if declared != 0 => declared,
                _ => match self.prepared.param_types.get(i) {
                    Some(Some(t)) => type_oid(t),
                    _ => oid::TEXT,
                },
            })
            .collect()
    }
}

/// A bound statement, possibly part-way through its rows.
pub struct Portal {
    statement: Arc<PreparedStatement>,
    params: Vec<ScalarValue>,
    formats: Vec<Format>,
    state: PortalState,
}

enum PortalState {
    NotStarted,
    Suspended(RowSource),
    Done,
}

/// COPY … FROM STDIN / TO STDOUT run through the COPY sub-protocol in either protocol.
fn copy_of(prepared: &Prepared) -> Option<super::copy::CopyStatement> {
    match &prepared.kind {
        PreparedKind::Statement(s) => super::copy::CopyStatement::of(s),
        _ => None,
    }
}

fn session_error(kind: ErrorKind, message: String) -> SendError {
    SendError::Query(EngineError::Session { kind, message })
}

impl Connection {
    pub(super) async fn extended(&mut self, message: Frontend) -> Result<(), SendError> {
        match message {
            Frontend::Parse {
                name,
                query,
                param_types,
            } => self.parse(name, query, param_types).await,
            Frontend::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            } => self.bind(portal, &statement, &param_formats, params, &result_formats),
            Frontend::Describe { kind, name } => self.describe(kind, &name),
            Frontend::Execute { portal, max_rows } => self.execute(&portal, max_rows).await,
            Frontend::Close { kind, name } => {
                if kind == b'S' {
                    self.statements.remove(&name);
                } else {
                    self.portals.remove(&name);
                }
                self.wire
                    .send(PgWireBackendMessage::CloseComplete(CloseComplete::new()));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn parse(
        &mut self,
        name: String,
        sql: String,
        declared: Vec<u32>,
    ) -> Result<(), SendError> {
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Err(session_error(
                ErrorKind::DuplicatePreparedStatement,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        let prepared = match self.session.prepare(&sql).await {
            Ok(p) => p,
            Err(e) => {
                // Report with the statement text so syntax errors carry their position.
                self.report_failure(&e, Some(&sql));
                self.skip_until_sync = true;
                return Ok(());
            }
        };
        self.statements.insert(
            name,
            Arc::new(PreparedStatement {
                sql,
                prepared,
                declared,
            }),
        );
        self.wire
            .send(PgWireBackendMessage::ParseComplete(ParseComplete::new()));
        Ok(())
    }

    fn bind(
        &mut self,
        portal: String,
        statement_name: &str,
        param_formats: &[i16],
        values: Vec<Option<Bytes>>,
        result_formats: &[i16],
    ) -> Result<(), SendError> {
        let Some(statement) = self.statements.get(statement_name).cloned() else {
            return Err(session_error(
                ErrorKind::InvalidStatementName,
                format!("prepared statement \"{statement_name}\" does not exist"),
            ));
        };
        let oids = statement.parameter_oids();
        if values.len() != oids.len() {
            return Err(session_error(
                ErrorKind::ProtocolViolation,
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{statement_name}\" requires {}",
                    values.len(),
                    oids.len()
                ),
            ));
        }
        let param_formats = column_formats(param_formats, values.len())
            .map_err(|m| session_error(ErrorKind::ProtocolViolation, m))?;
        let mut params = Vec::with_capacity(values.len());
        for (i, value) in values.iter().enumerate() {
            let declared = statement.declared.get(i).copied().unwrap_or(0);
            let inferred = statement
                .prepared
                .param_types
                .get(i)
                .and_then(Option::as_ref);
            let value = params::decode(i, value.as_deref(), param_formats[i], declared, inferred)
                .map_err(SendError::Query)?;
            params.push(value);
        }
        let columns = statement
            .prepared
            .schema
            .as_ref()
            .map_or(0, |s| s.fields().len());
        let formats = column_formats(result_formats, columns)
            .map_err(|m| session_error(ErrorKind::ProtocolViolation, m))?;
        self.portals.insert(
            portal,
            Portal {
                statement,
                params,
                formats,
                state: PortalState::NotStarted,
            },
        );
        self.wire
            .send(PgWireBackendMessage::BindComplete(BindComplete::new()));
        Ok(())
    }

    fn describe(&mut self, kind: u8, name: &str) -> Result<(), SendError> {
        let (prepared, formats) = if kind == b'S' {
            let Some(statement) = self.statements.get(name) else {
                return Err(session_error(
                    ErrorKind::InvalidStatementName,
                    format!("prepared statement \"{name}\" does not exist"),
                ));
            };
            let oids = statement.parameter_oids();
            self.wire.send(PgWireBackendMessage::ParameterDescription(
                ParameterDescription::new(oids),
            ));
            (statement.prepared.clone(), None)
        } else {
            let Some(portal) = self.portals.get(name) else {
                return Err(session_error(
                    ErrorKind::InvalidCursorName,
                    format!("portal \"{name}\" does not exist"),
                ));
            };
            (
                portal.statement.prepared.clone(),
                Some(portal.formats.clone()),
            )
        };
        match &prepared.schema {
            Some(schema) => {
                let formats = formats.unwrap_or_else(|| vec![Format::Text; schema.fields().len()]);
                self.wire.send(results::row_description(schema, &formats));
            }
            None => self.wire.send(PgWireBackendMessage::NoData(NoData::new())),
        }
        Ok(())
    }

    async fn execute(&mut self, name: &str, max_rows: i32) -> Result<(), SendError> {
        let Some(mut portal) = self.portals.remove(name) else {
            return Err(session_error(
                ErrorKind::InvalidCursorName,
                format!("portal \"{name}\" does not exist"),
            ));
        };
        if let Some(backend) = &self.backend {
            backend.start_query(&portal.statement.sql);
        }
        let limit = max_rows.max(0) as usize;
        let state = std::mem::replace(&mut portal.state, PortalState::Done);
        let copy = match state {
            PortalState::NotStarted => copy_of(&portal.statement.prepared),
            _ => None,
        };
        let result = match (state, copy) {
            (PortalState::NotStarted, Some(copy)) => {
                super::copy::run(self, copy).await.map(|()| None)
            }
            (PortalState::NotStarted, None) => {
                let params = std::mem::take(&mut portal.params);
                match self
                    .session
                    .execute_prepared(&portal.statement.prepared, params)
                    .await
                {
                    Ok(output) => {
                        let verb = match &portal.statement.prepared.kind {
                            tarn_engine::PreparedKind::Statement(s) => s.rows_verb(),
                            _ => "SELECT",
                        };
                        self.send_output(output, Some(&portal.formats), limit, verb)
                            .await
                    }
                    Err(e) => {
                        self.report_failure(&e, Some(&portal.statement.sql));
                        self.skip_until_sync = true;
                        Ok(None)
                    }
                }
            }
            (PortalState::Suspended(mut source), _) => {
                let formats = portal.formats.clone();
                self.drain(&mut source, &formats, limit)
                    .await
                    .map(|done| (!done).then_some(source))
            }
            (PortalState::Done, _) => {
                // Executing a completed portal again returns no more rows.
                let tag = results::command_tag("SELECT", Some(0));
                self.wire.send(PgWireBackendMessage::CommandComplete(
                    pgwire::messages::response::CommandComplete::new(tag),
                ));
                Ok(None)
            }
        };
        let suspended = match result {
            Ok(s) => s,
            Err(e) => {
                self.portals.insert(name.to_string(), portal);
                return Err(e);
            }
        };
        portal.state = match suspended {
            Some(source) => PortalState::Suspended(source),
            None => PortalState::Done,
        };
        self.portals.insert(name.to_string(), portal);
        Ok(())
    }
}
