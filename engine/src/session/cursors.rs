//! SQL cursors: `DECLARE … CURSOR FOR query` plans and starts the query; `FETCH n` pulls just
//! enough batches for n rows (the rest stays in the stream, nothing is materialised); `MOVE`
//! skips rows; `CLOSE` drops the stream, which stops the query. Cursors without `WITH HOLD` live
//! until the end of their transaction block, as in PostgreSQL.

use std::collections::HashMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use tarn_sql::{FetchCount, QueryText};

use super::{Session, TransactionState};
use crate::error::{EngineError, ErrorKind, Result};
use crate::output::Output;

/// One open cursor.
pub(crate) struct OpenCursor {
    schema: SchemaRef,
    /// `None` once the query is exhausted (or handed out whole by FETCH ALL).
    stream: Option<SendableRecordBatchStream>,
    /// Rows of a batch a previous FETCH did not take.
    pending: Option<RecordBatch>,
    hold: bool,
}

/// A session's cursors by name.
#[derive(Default)]
pub(crate) struct Cursors {
    open: HashMap<String, OpenCursor>,
}

fn no_cursor(name: &str) -> EngineError {
    EngineError::Session {
        kind: ErrorKind::InvalidCursorName,
        message: format!("cursor \"{name}\" does not exist"),
    }
}

fn poisoned() -> EngineError {
    EngineError::Internal("cursor table poisoned".into())
}

impl OpenCursor {
    /// The next batch of at most `limit` rows, if any.
    async fn next_rows(&mut self, limit: usize) -> Result<Option<RecordBatch>> {
        let batch = match self.pending.take() {
            Some(b) => b,
            None => match self.stream.as_mut() {
                None => return Ok(None),
                Some(stream) => match stream.next().await {
                    Some(batch) => batch?,
                    None => {
                        self.stream = None;
                        return Ok(None);
                    }
                },
            },
        };
        if batch.num_rows() > limit {
            self.pending = Some(batch.slice(limit, batch.num_rows() - limit));
            Ok(Some(batch.slice(0, limit)))
        } else {
            Ok(Some(batch))
        }
    }

    /// Up to `n` rows, collected (FETCH n returns a bounded chunk).
    async fn take(&mut self, n: u64) -> Result<Vec<RecordBatch>> {
        let mut left = n;
        let mut out = Vec::new();
        while left > 0 {
            let limit = usize::try_from(left).unwrap_or(usize::MAX);
            let Some(batch) = self.next_rows(limit).await? else {
                break;
            };
            left -= batch.num_rows() as u64;
            if batch.num_rows() > 0 {
                out.push(batch);
            }
        }
        Ok(out)
    }

    /// Everything left, as a stream (FETCH ALL): the cursor is exhausted afterwards.
    fn rest(&mut self) -> SendableRecordBatchStream {
        let pending = self.pending.take().map(Ok);
        let schema = self.schema.clone();
        let rest = self.stream.take();
        let stream = futures::stream::iter(pending).chain(futures::stream::iter(rest).flatten());
        Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, stream))
    }
}

impl Session {
    fn cursors(&self) -> Result<std::sync::MutexGuard<'_, Cursors>> {
        self.cursors.lock().map_err(|_| poisoned())
    }

    pub(crate) async fn declare_cursor(
        &self,
        name: String,
        hold: bool,
        query: QueryText,
    ) -> Result<Output> {
        if !hold && self.transaction_state() != TransactionState::InBlock {
            return Err(EngineError::Session {
                kind: ErrorKind::InvalidStatement,
                message: "DECLARE CURSOR can only be used in transaction blocks (or use WITH HOLD)"
                    .into(),
            });
        }
        if self.cursors()?.open.contains_key(&name) {
            return Err(EngineError::Session {
                kind: ErrorKind::DuplicateCursor,
                message: format!("cursor \"{name}\" already exists"),
            });
        }
        let plan = self
            .plan_datafusion(&query.sql, (query.line, query.column))
            .await?;
        let stream = match self.execute_plan(plan).await? {
            Output::Stream(s) => s,
            Output::Command { .. } => {
                return Err(EngineError::Session {
                    kind: ErrorKind::InvalidStatement,
                    message: "a cursor's query must return rows".into(),
                });
            }
        };
        let cursor = OpenCursor {
            schema: stream.schema(),
            stream: Some(stream),
            pending: None,
            hold,
        };
        self.cursors()?.open.insert(name, cursor);
        Ok(Output::command("DECLARE CURSOR"))
    }

    /// FETCH or MOVE. The cursor is taken out of the table while rows are pulled (the stream
    /// cannot be shared) and put back afterwards, also after an error.
    pub(crate) async fn fetch(
        &self,
        name: &str,
        count: FetchCount,
        move_only: bool,
    ) -> Result<Output> {
        let mut cursor = self
            .cursors()?
            .open
            .remove(name)
            .ok_or_else(|| no_cursor(name))?;
        let result = match (count, move_only) {
            (FetchCount::All, false) => {
                let stream = cursor.rest();
                Ok(Output::Stream(stream))
            }
            (FetchCount::All, true) => cursor.take(u64::MAX).await.map(moved),
            (FetchCount::Rows(n), true) => cursor.take(n).await.map(moved),
            (FetchCount::Rows(n), false) => cursor
                .take(n)
                .await
                .and_then(|batches| Output::batches(cursor.schema.clone(), batches)),
        };
        self.cursors()?.open.insert(name.to_string(), cursor);
        result
    }

    /// The columns FETCH returns from a cursor (for Describe of a prepared FETCH).
    pub(crate) fn cursor_schema(&self, name: &str) -> Result<SchemaRef> {
        self.cursors()?
            .open
            .get(name)
            .map(|c| c.schema.clone())
            .ok_or_else(|| no_cursor(name))
    }

    pub(crate) fn close_cursor(&self, name: Option<&str>) -> Result<Output> {
        let mut cursors = self.cursors()?;
        match name {
            None => cursors.open.clear(),
            Some(name) => {
                cursors.open.remove(name).ok_or_else(|| no_cursor(name))?;
            }
        }
        Ok(Output::command("CLOSE CURSOR"))
    }

    /// DISCARD: ALL resets every setting and closes every cursor (front ends also drop their
    /// prepared statements); tarn has no plan cache, sequences or temporary tables to discard.
    pub(crate) fn discard(&self, all: bool) -> Result<Output> {
        if !all {
            return Ok(Output::command("DISCARD"));
        }
        if self.transaction_state() != TransactionState::Idle {
            return Err(EngineError::Session {
                kind: ErrorKind::InvalidStatement,
                message: "DISCARD ALL cannot run inside a transaction block".into(),
            });
        }
        super::state::reset_all(self)?;
        self.cursors()?.open.clear();
        Ok(Output::command("DISCARD ALL"))
    }

    /// The end of a transaction block closes the cursors declared without WITH HOLD.
    pub(crate) fn end_of_block(&self) {
        if let Ok(mut cursors) = self.cursors.lock() {
            cursors.open.retain(|_, c| c.hold);
        }
    }
}

fn moved(batches: Vec<RecordBatch>) -> Output {
    Output::Command {
        tag: "MOVE".into(),
        rows: Some(batches.iter().map(|b| b.num_rows() as u64).sum()),
    }
}
