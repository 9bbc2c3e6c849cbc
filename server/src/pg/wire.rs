//! The framed byte stream of one connection: reads messages with PostgreSQL's size limits,
//! buffering only as bytes arrive, and collects backend messages until a flush.

use bytes::{Bytes, BytesMut};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::{ErrorResponse, ReadyForQuery, TransactionStatus};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use super::messages::{self, Frontend};
use super::sqlstate::PgError;

/// Any byte stream a client connects over (TCP, TLS over TCP).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// PostgreSQL's limit on a startup packet.
pub const MAX_STARTUP_LEN: usize = 10_000;
/// PostgreSQL's limit on any other message: 1 GiB - 1.
pub const MAX_MESSAGE_LEN: usize = (1 << 30) - 1;
/// PostgreSQL's limit on a message read before the client is authenticated (password, SASL):
/// `PG_MAX_AUTH_TOKEN_LENGTH`. An unauthenticated peer must not make us buffer a gigabyte.
pub const MAX_AUTH_MESSAGE_LEN: usize = 65_535;
/// Output is written to the socket once this much is buffered.
pub const FLUSH_THRESHOLD: usize = 256 * 1024;
/// Bytes read per call while a message body arrives: the buffer grows no faster than this.
const READ_CHUNK: usize = 64 * 1024;

/// Why a connection stopped reading.
#[derive(Debug)]
pub enum WireError {
    /// The client closed the connection.
    Closed,
    Io(std::io::Error),
    /// The client broke the protocol; the error is sent (FATAL) before closing.
    Protocol(PgError),
}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => WireError::Closed,
            _ => WireError::Io(e),
        }
    }
}

pub struct Wire {
    reader: ReadHalf<Box<dyn Io>>,
    writer: WriteHalf<Box<dyn Io>>,
    pub inbuf: BytesMut,
    /// Queued output. A Vec rather than BytesMut: row encoding appends many tiny slices and
    /// Vec's `extend_from_slice` inlines where BytesMut's `put_slice` does not.
    pub out: Vec<u8>,
}

impl Wire {
    pub fn new(io: Box<dyn Io>, leftover: BytesMut) -> Self {
        let (reader, writer) = tokio::io::split(io);
        Self {
            reader,
            writer,
            inbuf: leftover,
            out: Vec::with_capacity(FLUSH_THRESHOLD + 64 * 1024),
        }
    }

    /// Reads until `inbuf` holds `needed` bytes.
    async fn fill(&mut self, needed: usize) -> Result<(), WireError> {
        while self.inbuf.len() < needed {
            self.inbuf
                .reserve((needed - self.inbuf.len()).min(READ_CHUNK));
            if self.reader.read_buf(&mut self.inbuf).await? == 0 {
                return Err(WireError::Closed);
            }
        }
        Ok(())
    }

    /// Reads some bytes into `inbuf` (used to notice a client hanging up mid-query);
    /// `Err(Closed)` at end of stream.
    pub async fn read_more(&mut self) -> Result<(), WireError> {
        self.inbuf.reserve(READ_CHUNK);
        if self.reader.read_buf(&mut self.inbuf).await? == 0 {
            return Err(WireError::Closed);
        }
        Ok(())
    }

    /// The next regular message: type byte, length (4 ..= 1 GiB - 1), body.
    pub async fn read_message(&mut self) -> Result<Frontend, WireError> {
        self.read_message_within(MAX_MESSAGE_LEN).await
    }

    /// The next message of the authentication exchange (at most [`MAX_AUTH_MESSAGE_LEN`]).
    pub async fn read_auth_message(&mut self) -> Result<Frontend, WireError> {
        self.read_message_within(MAX_AUTH_MESSAGE_LEN).await
    }

    async fn read_message_within(&mut self, max_len: usize) -> Result<Frontend, WireError> {
        let (tag, body) = self.read_frame(max_len).await?;
        messages::parse(tag, body).map_err(WireError::Protocol)
    }

    /// One frame whose declared length is checked against `max_len` before any body byte is
    /// buffered.
    async fn read_frame(&mut self, max_len: usize) -> Result<(u8, Bytes), WireError> {
        self.fill(5).await?;
        let tag = self.inbuf[0];
        let len = i32::from_be_bytes([self.inbuf[1], self.inbuf[2], self.inbuf[3], self.inbuf[4]]);
        if len < 4 || len as usize > max_len {
            return Err(WireError::Protocol(PgError::protocol(format!(
                "invalid message length {len}"
            ))));
        }
        self.fill(1 + len as usize).await?;
        let mut frame = self.inbuf.split_to(1 + len as usize);
        let body = frame.split_off(5).freeze();
        Ok((tag, body))
    }

    /// Queues a backend message.
    pub fn send(&mut self, message: PgWireBackendMessage) {
        let mut encoded = BytesMut::new();
        match message.encode(&mut encoded) {
            Ok(()) => self.out.extend_from_slice(&encoded),
            Err(e) => tracing::error!("encoding a backend message failed: {e}"),
        }
    }

    pub fn send_error(&mut self, error: &PgError) {
        self.send(PgWireBackendMessage::ErrorResponse(ErrorResponse::new(
            error.fields(),
        )));
    }

    pub fn send_ready(&mut self, status: TransactionStatus) {
        self.send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
            status,
        )));
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), WireError> {
        if !self.out.is_empty() {
            self.writer.write_all(&self.out).await?;
            self.out.clear();
        }
        self.writer.flush().await?;
        Ok(())
    }

    /// Writes queued output once enough has accumulated (while streaming rows).
    pub async fn flush_if_full(&mut self) -> Result<(), WireError> {
        if self.out.len() >= FLUSH_THRESHOLD {
            self.writer.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        let _ = self.writer.shutdown().await;
    }
}
