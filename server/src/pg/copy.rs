//! COPY over the wire: `TO STDOUT` in text, CSV or binary format, streamed batch by batch;
//! `FROM STDIN` in text or CSV format, spooled to a temporary file and loaded through the
//! engine's atomic append (all rows or none).

mod text_to_csv;

use std::io::Write;

use bytes::BufMut;
use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyInResponse, CopyOutResponse};
use pgwire::messages::response::CommandComplete;
use tarn_engine::sql::{CopyFormat, CopyOptions, ObjectName, Statement};
use tarn_engine::{CsvSpec, EngineError, ErrorKind, Output};

use super::connection::Connection;
use super::encode::{BatchEncoder, Format};
use super::messages::Frontend;
use super::results::{self, SendError};
use super::sqlstate::PgError;
use super::wire::WireError;

pub enum CopyStatement {
    Out {
        statement: Statement,
        options: CopyOptions,
    },
    In {
        name: ObjectName,
        columns: Vec<String>,
        options: CopyOptions,
    },
}

impl CopyStatement {
    pub fn of(statement: &Statement) -> Option<Self> {
        match statement {
            Statement::CopyToStdout { options, .. } => Some(CopyStatement::Out {
                statement: statement.clone(),
                options: options.clone(),
            }),
            Statement::CopyFromStdin {
                name,
                columns,
                options,
            } => Some(CopyStatement::In {
                name: name.clone(),
                columns: columns.clone(),
                options: options.clone(),
            }),
            _ => None,
        }
    }
}

fn invalid(message: impl Into<String>) -> SendError {
    SendError::Query(EngineError::InvalidParameter(message.into()))
}

/// The one-byte option value (delimiter, quote), or its default.
fn one_byte(value: &Option<String>, default: u8, what: &str) -> Result<u8, SendError> {
    match value.as_deref() {
        None => Ok(default),
        Some(v) if v.len() == 1 => Ok(v.as_bytes()[0]),
        Some(_) => Err(invalid(format!(
            "COPY {what} must be a single one-byte character"
        ))),
    }
}

pub async fn run(conn: &mut Connection, copy: CopyStatement) -> Result<(), SendError> {
    match copy {
        CopyStatement::Out { statement, options } => copy_out(conn, statement, &options).await,
        CopyStatement::In {
            name,
            columns,
            options,
        } => copy_in(conn, &name, &columns, &options).await,
    }
}

/// How each row is written.
struct OutFormat {
    format: CopyFormat,
    delimiter: u8,
    quote: u8,
    null: Vec<u8>,
}

impl OutFormat {
    /// Whether numbers, dates and booleans (digits, `-+.:e`, letters of `true`/`false`, `inf`,
    /// `nan`, `BC`, spaces) can never need escaping or quoting: the delimiter and quote are
    /// none of those characters and the NULL marker is not a possible value.
    fn plain_values_are_safe(&self) -> bool {
        let risky = |b: u8| b.is_ascii_alphanumeric() || b" -+.:".contains(&b);
        let null_is_plain = !self.null.is_empty() && self.null.iter().all(|b| risky(*b));
        !risky(self.delimiter) && !risky(self.quote) && !null_is_plain
    }
}

async fn copy_out(
    conn: &mut Connection,
    statement: Statement,
    options: &CopyOptions,
) -> Result<(), SendError> {
    let csv = options.format == CopyFormat::Csv;
    let out = OutFormat {
        format: options.format,
        delimiter: one_byte(
            &options.delimiter,
            if csv { b',' } else { b'\t' },
            "delimiter",
        )?,
        quote: one_byte(&options.quote, b'"', "quote")?,
        null: options
            .null
            .clone()
            .unwrap_or_else(|| if csv { String::new() } else { "\\N".into() })
            .into_bytes(),
    };
    let Output::Stream(mut stream) = conn
        .session
        .execute(statement)
        .await
        .map_err(SendError::Query)?
    else {
        return Err(invalid("COPY … TO STDOUT produced no rows"));
    };
    let schema = stream.schema();
    let ncols = schema.fields().len();
    let binary = out.format == CopyFormat::Binary;
    let cell_format = if binary { Format::Binary } else { Format::Text };
    conn.wire
        .send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
            binary as i8,
            ncols as i16,
            vec![cell_format.code(); ncols],
        )));
    // The binary header travels with the first row, as PostgreSQL sends it.
    let mut binary_header = binary.then(|| {
        let mut h = b"PGCOPY\n\xff\r\n\0".to_vec();
        h.extend_from_slice(&[0; 8]); // flags, header extension length
        h
    });
    if options.header && !binary {
        // The header line is a message of its own.
        let chunk = Chunk::start(&mut conn.wire.out);
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                conn.wire.out.put_u8(out.delimiter);
            }
            put_text_value(&mut conn.wire.out, field.name().as_bytes(), &out);
        }
        conn.wire.out.put_u8(b'\n');
        chunk.finish(&mut conn.wire.out);
    }
    let formats = vec![cell_format; ncols];
    let mut rows = 0u64;
    let mut scratch = Vec::new();
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            read = conn.wire.read_more(), if conn.wire.inbuf.len() < (1 << 20) => {
                read?;
                continue;
            }
        };
        let batch: RecordBatch = match next {
            None => break,
            Some(Err(e)) => return Err(SendError::Query(EngineError::DataFusion(e))),
            Some(Ok(b)) => b,
        };
        let encoder = BatchEncoder::new(&batch, &formats, &conn.text)
            .map_err(|e| SendError::Query(e.into()))?;
        let plain: Vec<bool> = (0..encoder.num_columns())
            .map(|c| encoder.is_plain_text(c) && out.plain_values_are_safe())
            .collect();
        for row in 0..batch.num_rows() {
            // One CopyData per row, as PostgreSQL sends them: drivers (psycopg's rows())
            // parse each message as one row. No await while a message is open.
            let chunk = Chunk::start(&mut conn.wire.out);
            if let Some(h) = binary_header.take() {
                conn.wire.out.put_slice(&h);
            }
            write_row(
                &encoder,
                row,
                &out,
                &plain,
                &mut conn.wire.out,
                &mut scratch,
            );
            chunk.finish(&mut conn.wire.out);
            rows += 1;
            if row % 256 == 255 {
                conn.wire.flush_if_full().await?;
            }
        }
        conn.wire.flush_if_full().await?;
    }
    if binary {
        let chunk = Chunk::start(&mut conn.wire.out);
        if let Some(h) = binary_header.take() {
            conn.wire.out.put_slice(&h);
        }
        conn.wire.out.put_i16(-1);
        chunk.finish(&mut conn.wire.out);
    }
    conn.wire.out.put_u8(b'c');
    conn.wire.out.put_i32(4);
    let tag = results::command_tag("COPY", Some(rows));
    conn.wire
        .send(PgWireBackendMessage::CommandComplete(CommandComplete::new(
            tag,
        )));
    Ok(())
}

/// A CopyData message being filled in place; empty ones are dropped.
struct Chunk {
    start: usize,
}

impl Chunk {
    fn start(out: &mut Vec<u8>) -> Self {
        let start = out.len();
        out.put_u8(b'd');
        out.put_i32(0);
        Chunk { start }
    }

    fn finish(self, out: &mut Vec<u8>) {
        let len = out.len() - self.start - 1;
        if len == 4 {
            out.truncate(self.start);
        } else {
            out[self.start + 1..self.start + 5].copy_from_slice(&(len as i32).to_be_bytes());
        }
    }
}

fn write_row(
    encoder: &BatchEncoder<'_>,
    row: usize,
    f: &OutFormat,
    plain: &[bool],
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) {
    let ncols = encoder.num_columns();
    if f.format == CopyFormat::Binary {
        out.put_i16(ncols as i16);
        for col in 0..ncols {
            let at = out.len();
            out.put_i32(0);
            if encoder.write_cell(col, row, out) {
                let len = (out.len() - at - 4) as i32;
                out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            } else {
                out.truncate(at);
                out.put_i32(-1);
            }
        }
        return;
    }
    for (col, &plain) in plain.iter().enumerate().take(ncols) {
        if col > 0 {
            out.put_u8(f.delimiter);
        }
        // Encode in place; only values that need escaping or quoting are rewritten.
        let at = out.len();
        if !encoder.write_cell(col, row, out) {
            out.put_slice(&f.null);
            continue;
        }
        if !plain && needs_rewrite(&out[at..], f) {
            scratch.clear();
            scratch.extend_from_slice(&out[at..]);
            out.truncate(at);
            put_text_value(out, scratch, f);
        }
    }
    out.put_u8(b'\n');
}

/// Whether a value as encoded needs escaping (text) or quoting (CSV).
fn needs_rewrite(value: &[u8], f: &OutFormat) -> bool {
    // memchr's vectorised scans: text values (comments, names) are most of COPY's bytes.
    if f.format == CopyFormat::Csv {
        value == f.null.as_slice()
            || memchr::memchr3(f.delimiter, f.quote, b'\n', value).is_some()
            || memchr::memchr(b'\r', value).is_some()
    } else {
        memchr::memchr3(b'\\', b'\n', b'\r', value).is_some()
            || memchr::memchr2(b'\t', f.delimiter, value).is_some()
    }
}

/// One non-null value: backslash-escaped (text) or quoted when needed (CSV).
fn put_text_value(out: &mut Vec<u8>, value: &[u8], f: &OutFormat) {
    if f.format == CopyFormat::Csv {
        let needs_quotes = value == f.null.as_slice()
            || value
                .iter()
                .any(|b| *b == f.delimiter || *b == f.quote || *b == b'\n' || *b == b'\r');
        if !needs_quotes {
            return out.put_slice(value);
        }
        out.put_u8(f.quote);
        for &b in value {
            if b == f.quote {
                out.put_u8(f.quote);
            }
            out.put_u8(b);
        }
        return out.put_u8(f.quote);
    }
    for &b in value {
        match b {
            b'\\' => out.put_slice(b"\\\\"),
            b'\n' => out.put_slice(b"\\n"),
            b'\r' => out.put_slice(b"\\r"),
            b'\t' => out.put_slice(b"\\t"),
            b if b == f.delimiter => {
                out.put_u8(b'\\');
                out.put_u8(b);
            }
            b => out.put_u8(b),
        }
    }
}

/// 54000: nothing is loaded (the spool is dropped) and the rest of the data is discarded.
fn line_too_long(max: usize) -> SendError {
    SendError::Query(EngineError::Session {
        kind: ErrorKind::ProgramLimitExceeded,
        message: format!(
            "COPY from stdin: a line is longer than {max} bytes (the server's pg.copy_max_line_mb)"
        ),
    })
}

async fn copy_in(
    conn: &mut Connection,
    name: &ObjectName,
    columns: &[String],
    options: &CopyOptions,
) -> Result<(), SendError> {
    // Refused before the client starts sending data.
    conn.session
        .check_writable("COPY FROM")
        .map_err(SendError::Query)?;
    conn.session
        .check_copy_in(name, columns)
        .await
        .map_err(SendError::Query)?;
    if options.format == CopyFormat::Binary {
        return Err(SendError::Query(EngineError::NotSupported(
            "COPY FROM STDIN in binary format (use text or CSV)".into(),
        )));
    }
    let csv = options.format == CopyFormat::Csv;
    let delimiter = one_byte(
        &options.delimiter,
        if csv { b',' } else { b'\t' },
        "delimiter",
    )?;
    let quote = one_byte(&options.quote, b'"', "quote")?;
    let null = options
        .null
        .clone()
        .unwrap_or_else(|| if csv { String::new() } else { "\\N".into() });
    let mut spool = tempfile::NamedTempFile::new().map_err(|e| {
        SendError::Query(EngineError::Storage {
            location: "temporary COPY spool".into(),
            message: e.to_string(),
        })
    })?;
    let mut converter = if csv {
        text_to_csv::Converter::csv()
    } else {
        text_to_csv::Converter::text(delimiter, null.clone().into_bytes(), options.header)
    }
    .with_max_line(conn.copy_max_line);
    conn.wire
        .send(PgWireBackendMessage::CopyInResponse(CopyInResponse::new(
            0,
            columns.len() as i16,
            vec![0; columns.len()],
        )));
    conn.wire.flush().await?;
    let spool_error = |e: std::io::Error| {
        SendError::Query(EngineError::Storage {
            location: "temporary COPY spool".into(),
            message: e.to_string(),
        })
    };
    loop {
        match conn.wire.read_message().await? {
            Frontend::CopyData(data) => match converter.push(&data, spool.as_file_mut()) {
                Ok(()) => {}
                Err(text_to_csv::PushError::Io(e)) => return Err(spool_error(e)),
                Err(text_to_csv::PushError::LineTooLong(max)) => return Err(line_too_long(max)),
            },
            Frontend::CopyDone => break,
            Frontend::CopyFail(message) => {
                return Err(SendError::Query(EngineError::Session {
                    kind: ErrorKind::Canceled,
                    message: format!("COPY from stdin failed: {message}"),
                }));
            }
            Frontend::Flush | Frontend::Sync => {}
            _ => {
                return Err(SendError::Wire(WireError::Protocol(PgError::protocol(
                    "unexpected message type during COPY from stdin",
                ))));
            }
        }
    }
    converter.finish(spool.as_file_mut()).map_err(spool_error)?;
    spool.flush().map_err(spool_error)?;
    let spec = if csv {
        CsvSpec {
            header: options.header,
            delimiter,
            quote,
            null,
        }
    } else {
        CsvSpec {
            header: false,
            delimiter: b',',
            quote: b'"',
            null: "\\N".into(),
        }
    };
    let output = conn
        .session
        .copy_in(name, columns, spool.path(), &spec)
        .await
        .map_err(SendError::Query)?;
    conn.send_output(output, None, 0, "SELECT")
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_skip_escaping_only_when_delimiters_cannot_collide() {
        let f = |format, delimiter, null: &[u8]| OutFormat {
            format,
            delimiter,
            quote: b'"',
            null: null.to_vec(),
        };
        assert!(f(CopyFormat::Text, b'\t', b"\\N").plain_values_are_safe());
        assert!(f(CopyFormat::Csv, b',', b"").plain_values_are_safe());
        assert!(!f(CopyFormat::Text, b'-', b"\\N").plain_values_are_safe());
        assert!(!f(CopyFormat::Csv, b'.', b"").plain_values_are_safe());
        // A NULL marker a number could equal must still be quoted around such numbers.
        assert!(!f(CopyFormat::Csv, b',', b"0").plain_values_are_safe());
    }
}
