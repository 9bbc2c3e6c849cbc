//! Stateless tickets: a ticket carries what to run (the SQL, or a prepared statement's handle)
//! and the session state it was planned with, never results. DoGet replays it on a fork of the
//! session, so nothing is buffered between GetFlightInfo and DoGet, and a ticket is honoured
//! only for the session that created it.

use arrow_flight::Ticket;
use arrow_flight::sql::{Any, ProstMessageExt, TicketStatementQuery};
use prost::Message;
use serde::{Deserialize, Serialize};
use tarn_engine::SessionSnapshot;
use tonic::Status;

use super::status::invalid;

/// What a ticket runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    Sql { sql: String },
    Prepared { handle: String },
}

/// The contents of a statement ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryTicket {
    /// The id of the session that planned it.
    pub session: u64,
    /// Names the query for CancelFlightInfo.
    pub query: String,
    pub source: Source,
    pub database: String,
    pub settings: Vec<(String, String)>,
}

impl QueryTicket {
    pub fn new(session: u64, source: Source, snapshot: SessionSnapshot) -> Result<Self, Status> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            session,
            query: id.iter().map(|b| format!("{b:02x}")).collect(),
            source,
            database: snapshot.database,
            settings: snapshot.settings,
        })
    }

    pub fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            database: self.database.clone(),
            settings: self.settings.clone(),
        }
    }

    /// The Flight ticket: a `TicketStatementQuery` whose handle is this, as JSON.
    pub fn to_ticket(&self) -> Result<Ticket, Status> {
        let handle = serde_json::to_vec(self).map_err(|e| invalid(e.to_string()))?;
        let message = TicketStatementQuery {
            statement_handle: handle.into(),
        };
        Ok(Ticket::new(message.as_any().encode_to_vec()))
    }

    /// Reads a ticket's statement handle.
    pub fn from_handle(handle: &[u8]) -> Result<Self, Status> {
        serde_json::from_slice(handle)
            .map_err(|_| invalid("malformed ticket: pass the ticket GetFlightInfo returned"))
    }

    /// Reads a Flight ticket (as CancelFlightInfo carries it).
    pub fn from_ticket(ticket: &Ticket) -> Result<Self, Status> {
        let any = Any::decode(ticket.ticket.as_ref())
            .map_err(|_| invalid("malformed ticket: pass the ticket GetFlightInfo returned"))?;
        let message: TicketStatementQuery = any
            .unpack()
            .map_err(|_| invalid("malformed ticket: pass the ticket GetFlightInfo returned"))?
            .ok_or_else(|| invalid("not a statement ticket"))?;
        Self::from_handle(&message.statement_handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip() {
        let snapshot = SessionSnapshot {
            database: "sales".into(),
            settings: vec![("TimeZone".into(), "UTC".into())],
        };
        let t = QueryTicket::new(
            7,
            Source::Sql {
                sql: "SELECT 1".into(),
            },
            snapshot.clone(),
        )
        .unwrap();
        assert_eq!(t.query.len(), 32);
        let back = QueryTicket::from_ticket(&t.to_ticket().unwrap()).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.snapshot(), snapshot);
        assert!(QueryTicket::from_handle(b"{not json").is_err());
    }
}
