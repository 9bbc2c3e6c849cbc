//! Result rendering: an aligned table, CSV, a JSON array or newline-delimited JSON.
//! CSV and JSON formats stream batch by batch; the table format needs every row for its widths.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use tarn::{Error, SendableRecordBatchStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
}

/// Prints a stream to stdout; returns the number of rows.
pub async fn print_stream(
    mut stream: SendableRecordBatchStream,
    format: Format,
) -> Result<u64, Error> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut rows = 0u64;
    let schema = stream.schema();
    match format {
        Format::Table => {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                batches.push(batch);
            }
            if batches.is_empty() {
                batches.push(RecordBatch::new_empty(schema));
            }
            writeln!(out, "{}", tarn::pretty(&batches)?).map_err(io)?;
        }
        Format::Csv => {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            let mut wrote = false;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
                wrote = true;
            }
            if !wrote {
                writer.write(&RecordBatch::new_empty(schema))?;
            }
        }
        Format::Json => {
            let mut writer = datafusion::arrow::json::ArrayWriter::new(&mut out);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
            }
            writer.finish()?;
            if rows == 0 {
                write!(out, "[]").map_err(io)?;
            }
            writeln!(out).map_err(io)?;
        }
        Format::Ndjson => {
            let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
            }
            writer.finish()?;
        }
    }
    out.flush().map_err(io)?;
    Ok(rows)
}

fn io(e: std::io::Error) -> Error {
    Error::Storage {
        location: "stdout".into(),
        message: e.to_string(),
    }
}
