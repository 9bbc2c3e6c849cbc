//! One client connection: transport detection, then call after call until the client closes.

use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tarn_engine::Session;

use super::idl::{self, Returns};
use super::thrift::{Decoder, Encoder, Header, MessageType, Struct, Value};
use super::{Args, Shared};

/// Hive's client socket timeout: an idle connection is closed after it.
const IDLE: Duration = Duration::from_secs(600);
/// How long one message may take to arrive once it began (a trickling client holds a thread).
const MESSAGE_DEADLINE: Duration = Duration::from_secs(120);
/// How often a blocked read wakes up to check the deadlines; replies a client does not read
/// fail after this too.
const POLL: Duration = Duration::from_secs(10);
/// TApplicationException types.
const UNKNOWN_METHOD: i32 = 1;
const INTERNAL_ERROR: i32 = 6;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Transport {
    Buffered,
    Framed,
}

pub(super) fn run(
    shared: &Shared,
    rt: &tokio::runtime::Handle,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(MESSAGE_DEADLINE));
    let _ = stream.set_nodelay(true);
    let role = shared.config.role_for(peer.ip()).to_string();
    let session = match rt.block_on(shared.engine.role_session(&role)) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("hms: {peer} cannot act as role '{role}': {e}");
            return;
        }
    };
    let result = match &shared.tls {
        Some(tls) => match tokio_rustls::rustls::ServerConnection::new(tls.clone()) {
            Ok(conn) => serve(
                shared,
                rt,
                &session,
                Deadlines::new(tokio_rustls::rustls::StreamOwned::new(conn, stream)),
            ),
            Err(e) => Err(io::Error::other(e)),
        },
        None => serve(shared, rt, &session, Deadlines::new(stream)),
    };
    match result {
        Ok(()) => tracing::debug!("hms: {peer} closed"),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => tracing::debug!("hms: {peer} closed"),
        Err(e) => tracing::info!("hms: connection from {peer} ended: {e}"),
    }
}

/// Reads 4 bytes, or `None` at a clean end of stream.
fn read_word(r: &mut impl Read) -> io::Result<Option<[u8; 4]>> {
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(buf))
}

/// Which transport a connection uses, from its first bytes: a strict header starts with 0x80;
/// a frame length is followed by one; the compact protocol (0x82) is not served.
fn detect<S: Read>(reader: &mut BufReader<S>, first: [u8; 4]) -> io::Result<Transport> {
    match first[0] {
        0x80 => return Ok(Transport::Buffered),
        0x82 => {
            return Err(super::thrift::invalid(
                "the compact protocol is not supported; use the binary protocol".into(),
            ));
        }
        _ => {}
    }
    // A framed client writes the length and the frame together (Thrift's framed transport
    // buffers whole frames), so the bytes after the length are already here.
    let peek = reader.fill_buf()?;
    if peek.len() >= 2 && peek[0] == 0x80 && peek[1] == 0x01 {
        Ok(Transport::Framed)
    } else {
        Ok(Transport::Buffered)
    }
}

/// A socket with the connection's time limits: [`IDLE`] between messages, [`MESSAGE_DEADLINE`]
/// for one message. The socket's read timeout ([`POLL`]) returns control here to check them.
struct Deadlines<S> {
    inner: S,
    since: std::time::Instant,
    limit: Duration,
}

impl<S> Deadlines<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            since: std::time::Instant::now(),
            limit: IDLE,
        }
    }

    /// A message began: it must arrive whole within the deadline.
    fn message(&mut self) {
        self.since = std::time::Instant::now();
        self.limit = MESSAGE_DEADLINE;
    }

    /// Between messages.
    fn idle(&mut self) {
        self.since = std::time::Instant::now();
        self.limit = IDLE;
    }
}

impl<S: Read> Read for Deadlines<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.since.elapsed() > self.limit {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "client too slow or idle",
                        ));
                    }
                }
                other => return other,
            }
        }
    }
}

impl<S: Write> Write for Deadlines<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn serve<S: Read + Write>(
    shared: &Shared,
    rt: &tokio::runtime::Handle,
    session: &Session,
    stream: Deadlines<S>,
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(64 << 10, stream);
    let Some(mut first) = read_word(&mut reader)? else {
        return Ok(());
    };
    let transport = detect(&mut reader, first)?;
    let max = shared.config.max_message;
    loop {
        reader.get_mut().message();
        let (header, args) = match transport {
            Transport::Buffered => {
                let mut d = Decoder::new(&mut reader, max);
                let header = d.header(Some(i32::from_be_bytes(first)))?;
                (header, d.read_struct()?)
            }
            Transport::Framed => {
                let len = i32::from_be_bytes(first);
                let len = usize::try_from(len)
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| {
                        super::thrift::invalid(format!("frame of {len} bytes exceeds the limit"))
                    })?;
                let mut frame = Vec::new();
                (&mut reader).take(len as u64).read_to_end(&mut frame)?;
                if frame.len() != len {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                let mut d = Decoder::new(Cursor::new(frame), max);
                let header = d.header(None)?;
                (header, d.read_struct()?)
            }
        };
        if let Some(reply) = handle(shared, rt, session, &header, args) {
            let out = reader.get_mut();
            if transport == Transport::Framed {
                out.write_all(&(reply.len() as i32).to_be_bytes())?;
            }
            out.write_all(&reply)?;
            out.flush()?;
        }
        reader.get_mut().idle();
        match read_word(&mut reader)? {
            Some(w) => first = w,
            None => return Ok(()),
        }
    }
}

/// One call: its reply message, or `None` for a oneway call.
fn handle(
    shared: &Shared,
    rt: &tokio::runtime::Handle,
    session: &Session,
    header: &Header,
    args: Struct,
) -> Option<Vec<u8>> {
    let name = header.name.as_str();
    // Hive's own client prunes partitions with a Java-serialized expression only Hive can
    // read; told the method is unknown, it falls back to listing names and pruning itself.
    let method = idl::method(name).filter(|_| name != "get_partitions_by_expr");
    let Some(method) = method else {
        tracing::debug!("hms: unknown method '{name}'");
        return Some(app_exception(
            header,
            UNKNOWN_METHOD,
            &format!("Invalid method name: '{name}'"),
        ));
    };
    let started = std::time::Instant::now();
    let reply = rt.block_on(super::dispatch(shared, session, name, &Args(args)));
    tracing::debug!("hms: {name} took {:?}", started.elapsed());
    if method.returns == Returns::Oneway || header.kind == MessageType::Oneway {
        return None;
    }
    let result = match reply {
        Ok(Some(v)) => Struct::new().with(0, v),
        Ok(None) => Struct::new(),
        Err(e) => match e.declared(method) {
            Some((id, _, message)) => Struct::new().with(
                id,
                Value::Struct(Struct::new().with(1, Value::string(message))),
            ),
            None => return Some(app_exception(header, INTERNAL_ERROR, &e.message())),
        },
    };
    let mut enc = Encoder::default();
    enc.header(&Header {
        kind: MessageType::Reply,
        ..header.clone()
    });
    enc.write_struct(&result);
    Some(enc.buf)
}

fn app_exception(header: &Header, kind: i32, message: &str) -> Vec<u8> {
    let mut enc = Encoder::default();
    enc.header(&Header {
        kind: MessageType::Exception,
        ..header.clone()
    });
    enc.write_struct(
        &Struct::new()
            .with(1, Value::string(message))
            .with(2, Value::I32(kind)),
    );
    enc.buf
}
