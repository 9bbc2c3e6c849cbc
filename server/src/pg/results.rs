//! Sending results: RowDescription, DataRows streamed batch by batch with backpressure from the
//! socket, and command tags.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::{FieldDescription, RowDescription};
use tarn_engine::EngineError;

use super::encode::{BatchEncoder, Format, TextContext, pg_schema};
use super::types::{pg_type, type_size};
use super::wire::{Wire, WireError};

/// Rows encoded between checks of the output buffer.
const ROWS_PER_CHUNK: usize = 1024;
/// Bytes of pipelined client input held while a result streams; beyond it the client waits.
const MAX_PENDING_INPUT: usize = 1 << 20;

pub fn row_description(schema: &Schema, formats: &[Format]) -> PgWireBackendMessage {
    let fields = pg_schema(schema)
        .iter()
        .zip(formats)
        .map(|(field, format)| {
            let oid = pg_type(field);
            FieldDescription::new(
                field.name().clone(),
                0,
                0,
                oid,
                type_size(oid),
                -1,
                format.code(),
            )
        })
        .collect();
    PgWireBackendMessage::RowDescription(RowDescription::new(fields))
}

/// The tag of CommandComplete.
pub fn command_tag(tag: &str, rows: Option<u64>) -> String {
    match (tag, rows) {
        ("INSERT", Some(n)) => format!("INSERT 0 {n}"),
        // VACUUM reports the files it deleted (PostgreSQL's VACUUM has no count).
        (
            "SELECT" | "UPDATE" | "DELETE" | "COPY" | "MERGE" | "FETCH" | "MOVE" | "VACUUM",
            Some(n),
        ) => {
            format!("{tag} {n}")
        }
        ("INSERT OVERWRITE" | "CREATE TABLE AS", Some(n)) => format!("SELECT {n}"),
        (tag, _) => tag.to_string(),
    }
}

/// A result being sent, possibly across several Execute messages.
pub struct RowSource {
    stream: SendableRecordBatchStream,
    batch: Option<RecordBatch>,
    offset: usize,
    pub rows_sent: u64,
    /// The verb of the final CommandComplete (`SELECT n`, `FETCH n`).
    pub verb: &'static str,
}

/// How sending stopped.
pub enum Sent {
    Complete,
    /// The row limit was reached; the portal can resume.
    Suspended,
}

pub enum SendError {
    /// The query failed (the connection is fine).
    Query(EngineError),
    Wire(WireError),
}

impl From<WireError> for SendError {
    fn from(e: WireError) -> Self {
        SendError::Wire(e)
    }
}

impl RowSource {
    pub fn new(stream: SendableRecordBatchStream) -> Self {
        Self {
            stream,
            batch: None,
            offset: 0,
            rows_sent: 0,
            verb: "SELECT",
        }
    }

    /// Sends up to `limit` rows (0 = all). While waiting for the next batch it also reads
    /// client input, so a client that hangs up stops its query.
    pub async fn send(
        &mut self,
        wire: &mut Wire,
        formats: &[Format],
        context: &TextContext,
        limit: usize,
    ) -> Result<Sent, SendError> {
        let mut sent = 0usize;
        loop {
            if limit != 0 && sent == limit {
                return Ok(Sent::Suspended);
            }
            let Some(batch) = self.batch.as_ref() else {
                let next = tokio::select! {
                    next = self.stream.next() => next,
                    read = wire.read_more(), if wire.inbuf.len() < MAX_PENDING_INPUT => {
                        read?;
                        continue;
                    }
                };
                match next {
                    None => return Ok(Sent::Complete),
                    Some(Err(e)) => return Err(SendError::Query(EngineError::DataFusion(e))),
                    Some(Ok(b)) if b.num_rows() == 0 => continue,
                    Some(Ok(b)) => {
                        self.batch = Some(b);
                        self.offset = 0;
                        continue;
                    }
                }
            };
            let encoder = BatchEncoder::new(batch, formats, context)
                .map_err(|e| SendError::Query(EngineError::from(e)))?;
            let end = match limit {
                0 => batch.num_rows(),
                _ => batch.num_rows().min(self.offset + (limit - sent)),
            };
            while self.offset < end {
                let chunk_end = end.min(self.offset + ROWS_PER_CHUNK);
                encoder.write_rows(self.offset..chunk_end, &mut wire.out);
                sent += chunk_end - self.offset;
                self.rows_sent += (chunk_end - self.offset) as u64;
                self.offset = chunk_end;
                wire.flush_if_full().await?;
            }
            if self.offset == batch.num_rows() {
                self.batch = None;
            }
        }
    }
}
