//! Frontend messages, parsed with bounds checks on every read: a truncated or hostile message is
//! a protocol error (08P01) for that connection, never a panic.
//!
//! Backend messages are encoded with pgwire's message types (see `wire.rs`), except DataRow and
//! COPY data, which the encoder writes straight into the output buffer.

use bytes::Bytes;

use super::sqlstate::PgError;

/// A message from the client after startup.
#[derive(Debug)]
pub enum Frontend {
    Query(String),
    Parse {
        name: String,
        query: String,
        param_types: Vec<u32>,
    },
    Bind {
        portal: String,
        statement: String,
        param_formats: Vec<i16>,
        params: Vec<Option<Bytes>>,
        result_formats: Vec<i16>,
    },
    /// `b'S'` statement or `b'P'` portal.
    Describe {
        kind: u8,
        name: String,
    },
    Execute {
        portal: String,
        max_rows: i32,
    },
    Close {
        kind: u8,
        name: String,
    },
    Sync,
    Flush,
    Terminate,
    CopyData(Bytes),
    CopyDone,
    CopyFail(String),
    /// 'p': password, SASLInitialResponse or SASLResponse: interpreted by the auth exchange.
    Password(Bytes),
}

/// A bounds-checked reader over one message body.
pub struct Reader {
    body: Bytes,
    pos: usize,
}

fn truncated() -> PgError {
    PgError::protocol("invalid message format: message is truncated")
}

impl Reader {
    pub fn new(body: Bytes) -> Self {
        Self { body, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.body.len() - self.pos
    }

    pub fn bytes(&mut self, n: usize) -> Result<Bytes, PgError> {
        if self.remaining() < n {
            return Err(truncated());
        }
        let out = self.body.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, PgError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn i16(&mut self) -> Result<i16, PgError> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, PgError> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated UTF-8 string.
    pub fn cstring(&mut self) -> Result<String, PgError> {
        let rest = &self.body[self.pos..];
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| PgError::protocol("invalid string in message: missing terminator"))?;
        let s = std::str::from_utf8(&rest[..end])
            .map_err(|_| PgError::protocol("invalid UTF-8 in message string"))?
            .to_string();
        self.pos += end + 1;
        Ok(s)
    }

    /// A count that must be non-negative and plausible for the bytes left (`min_size` each).
    fn count(&mut self, min_size: usize) -> Result<usize, PgError> {
        let n = self.i16()?;
        if n < 0 || (n as usize) * min_size > self.remaining() {
            return Err(PgError::protocol(format!("invalid count {n} in message")));
        }
        Ok(n as usize)
    }

    pub fn rest(&mut self) -> Bytes {
        let out = self.body.slice(self.pos..);
        self.pos = self.body.len();
        out
    }

    pub fn expect_end(&self) -> Result<(), PgError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(PgError::protocol("invalid message format: trailing bytes"))
        }
    }
}

/// Parses one message of type `tag` with `body`.
pub fn parse(tag: u8, body: Bytes) -> Result<Frontend, PgError> {
    let mut r = Reader::new(body);
    let msg = match tag {
        b'Q' => Frontend::Query(r.cstring()?),
        b'P' => {
            let name = r.cstring()?;
            let query = r.cstring()?;
            let n = r.count(4)?;
            let param_types = (0..n)
                .map(|_| r.i32().map(|t| t as u32))
                .collect::<Result<_, _>>()?;
            Frontend::Parse {
                name,
                query,
                param_types,
            }
        }
        b'B' => {
            let portal = r.cstring()?;
            let statement = r.cstring()?;
            let n = r.count(2)?;
            let param_formats = (0..n).map(|_| r.i16()).collect::<Result<_, _>>()?;
            let n = r.count(4)?;
            let mut params = Vec::with_capacity(n);
            for _ in 0..n {
                let len = r.i32()?;
                params.push(match len {
                    -1 => None,
                    len if len < 0 => return Err(PgError::protocol("invalid parameter length")),
                    len => Some(r.bytes(len as usize)?),
                });
            }
            let n = r.count(2)?;
            let result_formats = (0..n).map(|_| r.i16()).collect::<Result<_, _>>()?;
            Frontend::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            }
        }
        b'D' | b'C' => {
            let kind = r.u8()?;
            if kind != b'S' && kind != b'P' {
                return Err(PgError::protocol(format!(
                    "invalid {} message subtype {kind}",
                    if tag == b'D' { "DESCRIBE" } else { "CLOSE" }
                )));
            }
            let name = r.cstring()?;
            if tag == b'D' {
                Frontend::Describe { kind, name }
            } else {
                Frontend::Close { kind, name }
            }
        }
        b'E' => Frontend::Execute {
            portal: r.cstring()?,
            max_rows: r.i32()?,
        },
        b'S' => Frontend::Sync,
        b'H' => Frontend::Flush,
        b'X' => Frontend::Terminate,
        b'd' => Frontend::CopyData(r.rest()),
        b'c' => Frontend::CopyDone,
        b'f' => Frontend::CopyFail(r.cstring()?),
        b'p' => Frontend::Password(r.rest()),
        other => {
            return Err(PgError::protocol(format!(
                "invalid frontend message type {}",
                other as char
            )));
        }
    };
    r.expect_end()?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_messages_are_errors_not_panics() {
        let cases: &[(u8, &[u8])] = &[
            (b'Q', b"select 1"),                       // no terminator
            (b'P', b"\0select 1\0\xff\xff"),           // negative count
            (b'P', b"\0select 1\0\x7f\xff"),           // count beyond the message
            (b'B', b"\0\0\0\0\0\x01\xff\xff\xff\xfe"), // negative length
            (b'B', b"\0\0\0\0\0\x01\0\0\0\x09ab"),     // value beyond the message
            (b'D', b"Xname\0"),
            (b'E', b"p\0\0"),
            (b'Z', b""),
            (b'S', b"extra"),
        ];
        for (tag, body) in cases {
            let err = parse(*tag, Bytes::copy_from_slice(body)).unwrap_err();
            assert_eq!(err.code, "08P01", "{} {body:?}", *tag as char);
        }
        let ok = parse(
            b'B',
            Bytes::from_static(b"p\0s\0\0\x01\0\x01\0\x02\0\0\0\x0242\xff\xff\xff\xff\0\0"),
        );
        assert!(matches!(ok, Ok(Frontend::Bind { ref params, .. }) if params.len() == 2));
    }
}

#[cfg(test)]
mod fuzz;
