//! What a statement produces.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::memory::MemoryStream;

use crate::error::Result;

/// The result of one statement.
pub enum Output {
    /// Rows, produced lazily as the consumer pulls.
    Stream(SendableRecordBatchStream),
    /// A completed command, with a Postgres-style tag (`CREATE TABLE`, `ALTER TABLE`, …) and the
    /// number of rows it affected when that is meaningful.
    Command { tag: String, rows: Option<u64> },
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Stream(s) => write!(f, "Stream({:?})", s.schema()),
            Output::Command { tag, rows } => write!(f, "Command({tag}, {rows:?})"),
        }
    }
}

impl Output {
    pub fn command(tag: &str) -> Self {
        Output::Command {
            tag: tag.to_string(),
            rows: None,
        }
    }

    /// A stream over batches already in memory (small catalog results: SHOW, DESCRIBE).
    pub fn batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self> {
        let stream = MemoryStream::try_new(batches, schema, None)?;
        Ok(Output::Stream(Box::pin(stream)))
    }
}

/// Progress of a long catalog operation (MSCK REPAIR over many directories).
#[derive(Debug, Clone)]
pub enum Progress {
    /// Work started; `total` is unknown while directories are being discovered.
    Started {
        what: String,
    },
    /// `done` units of work finished.
    Advanced {
        done: u64,
    },
    Finished,
}

/// A sink for [`Progress`] events (the CLI draws a progress bar).
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;
