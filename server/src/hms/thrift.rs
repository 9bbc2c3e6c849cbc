//! Thrift's binary protocol as a small dynamic value model: a message is decoded into
//! [`Value`]s and typed code reads the fields it knows by id. Decoding everything generically
//! is what lets the server skip a method it does not know, keep the connection and answer
//! `TApplicationException(UNKNOWN_METHOD)` as Hive's own server does, and accept structs from
//! newer clients (unknown fields are simply never read).
//!
//! Decoding is bounded: a message may not exceed [`Limits::max_message`] bytes, containers
//! nest at most [`MAX_DEPTH`] deep, and declared lengths are never trusted for allocation.

use std::io::{self, Read};

/// How deeply structs and containers may nest (Hive's deepest struct is a handful levels).
pub const MAX_DEPTH: usize = 64;
/// What one decoded value costs against the message budget besides its wire bytes: a
/// one-byte `bool` on the wire is a 40-byte [`Value`] in memory, so the budget bounds memory,
/// not just wire size.
const VALUE_COST: usize = 48;

/// Thrift wire types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TType {
    Bool = 2,
    Byte = 3,
    Double = 4,
    I16 = 6,
    I32 = 8,
    I64 = 10,
    String = 11,
    Struct = 12,
    Map = 13,
    Set = 14,
    List = 15,
}

impl TType {
    fn from_byte(b: u8) -> io::Result<Self> {
        Ok(match b {
            2 => TType::Bool,
            3 => TType::Byte,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::String,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            other => return Err(invalid(format!("unknown thrift type {other}"))),
        })
    }
}

/// A decoded Thrift value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Byte(i8),
    Double(f64),
    I16(i16),
    I32(i32),
    I64(i64),
    Binary(Vec<u8>),
    Struct(Struct),
    Map(TType, TType, Vec<(Value, Value)>),
    Set(TType, Vec<Value>),
    List(TType, Vec<Value>),
    /// A value of this type already in wire form (built by the server for replies that repeat
    /// one part many times, e.g. a table's storage descriptor in each of its partitions).
    Encoded(TType, bytes::Bytes),
}

impl Value {
    pub fn ttype(&self) -> TType {
        match self {
            Value::Bool(_) => TType::Bool,
            Value::Byte(_) => TType::Byte,
            Value::Double(_) => TType::Double,
            Value::I16(_) => TType::I16,
            Value::I32(_) => TType::I32,
            Value::I64(_) => TType::I64,
            Value::Binary(_) => TType::String,
            Value::Struct(_) => TType::Struct,
            Value::Map(..) => TType::Map,
            Value::Set(..) => TType::Set,
            Value::List(..) => TType::List,
            Value::Encoded(t, _) => *t,
        }
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::Binary(s.into().into_bytes())
    }

    pub fn strings<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Value {
        Value::List(
            TType::String,
            items.into_iter().map(Value::string).collect(),
        )
    }

    pub fn structs(items: impl IntoIterator<Item = Struct>) -> Value {
        Value::List(
            TType::Struct,
            items.into_iter().map(Value::Struct).collect(),
        )
    }

    pub fn string_map<'a>(items: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
        Value::Map(
            TType::String,
            TType::String,
            items
                .into_iter()
                .map(|(k, v)| (Value::string(k.as_str()), Value::string(v.as_str())))
                .collect(),
        )
    }
}

/// A struct: its fields by id, in the order they were read or added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Struct {
    pub fields: Vec<(i16, Value)>,
}

impl Struct {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field (builder style).
    pub fn with(mut self, id: i16, value: Value) -> Self {
        self.fields.push((id, value));
        self
    }

    /// Adds a field when there is a value (Thrift's optional fields).
    pub fn with_opt(self, id: i16, value: Option<Value>) -> Self {
        match value {
            Some(v) => self.with(id, v),
            None => self,
        }
    }

    pub fn get(&self, id: i16) -> Option<&Value> {
        self.fields.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    pub fn take(&mut self, id: i16) -> Option<Value> {
        let pos = self.fields.iter().position(|(i, _)| *i == id)?;
        Some(self.fields.remove(pos).1)
    }

    /// A string field (absent, or not a UTF-8 string: `None`).
    pub fn str(&self, id: i16) -> Option<String> {
        match self.get(id)? {
            Value::Binary(b) => String::from_utf8(b.clone()).ok(),
            _ => None,
        }
    }

    pub fn i32(&self, id: i16) -> Option<i32> {
        match self.get(id)? {
            Value::I32(v) => Some(*v),
            _ => None,
        }
    }

    pub fn i64(&self, id: i16) -> Option<i64> {
        match self.get(id)? {
            Value::I64(v) => Some(*v),
            Value::I32(v) => Some(*v as i64),
            _ => None,
        }
    }

    pub fn i16(&self, id: i16) -> Option<i16> {
        match self.get(id)? {
            Value::I16(v) => Some(*v),
            _ => None,
        }
    }

    pub fn bool(&self, id: i16) -> Option<bool> {
        match self.get(id)? {
            Value::Bool(v) => Some(*v),
            _ => None,
        }
    }

    pub fn strct(&self, id: i16) -> Option<&Struct> {
        match self.get(id)? {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// A list (or set) of strings; other element types are skipped.
    pub fn strings(&self, id: i16) -> Vec<String> {
        match self.get(id) {
            Some(Value::List(_, items) | Value::Set(_, items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Binary(b) => String::from_utf8(b.clone()).ok(),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        }
    }

    /// A list of structs.
    pub fn structs(&self, id: i16) -> Vec<&Struct> {
        match self.get(id) {
            Some(Value::List(_, items) | Value::Set(_, items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Struct(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        }
    }

    /// A `map<string,string>`.
    pub fn string_map(&self, id: i16) -> std::collections::BTreeMap<String, String> {
        let utf8 = |v: &Value| match v {
            Value::Binary(b) => String::from_utf8(b.clone()).ok(),
            _ => None,
        };
        match self.get(id) {
            Some(Value::Map(_, _, items)) => items
                .iter()
                .filter_map(|(k, v)| Some((utf8(k)?, utf8(v)?)))
                .collect(),
            _ => Default::default(),
        }
    }
}

/// Message types of the message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Call = 1,
    Reply = 2,
    Exception = 3,
    Oneway = 4,
}

/// A message header: method name, type, sequence id, and whether the client used the strict
/// (versioned) header, which the reply then uses too.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: String,
    pub kind: MessageType,
    pub seq: i32,
    pub strict: bool,
}

/// Strict binary protocol version marker (high half of the first i32).
const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// A budgeted reader: every byte read counts against the message limit.
pub struct Decoder<R> {
    inner: R,
    remaining: usize,
}

impl<R: Read> Decoder<R> {
    pub fn new(inner: R, max_message: usize) -> Self {
        Self {
            inner,
            remaining: max_message,
        }
    }

    fn take(&mut self, n: usize) -> io::Result<()> {
        if n > self.remaining {
            return Err(invalid("message exceeds the size limit".into()));
        }
        self.remaining -= n;
        Ok(())
    }

    fn bytes<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        self.take(N)?;
        let mut buf = [0u8; N];
        self.inner.read_exact(&mut buf)?;
        Ok(buf)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.bytes::<1>()?[0])
    }

    fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.bytes()?))
    }

    fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.bytes()?))
    }

    fn i64(&mut self) -> io::Result<i64> {
        Ok(i64::from_be_bytes(self.bytes()?))
    }

    fn len(&mut self) -> io::Result<usize> {
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| invalid(format!("negative length {n}")))
    }

    fn binary(&mut self) -> io::Result<Vec<u8>> {
        let n = self.len()?;
        self.take(n)?;
        let mut buf = Vec::new();
        (&mut self.inner).take(n as u64).read_to_end(&mut buf)?;
        if buf.len() != n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(buf)
    }

    fn string(&mut self) -> io::Result<String> {
        String::from_utf8(self.binary()?).map_err(|_| invalid("string is not UTF-8".into()))
    }

    /// A message header, strict or not. `first` is the header's first i32 when the caller
    /// already read it (transport detection).
    pub fn header(&mut self, first: Option<i32>) -> io::Result<Header> {
        let first = match first {
            Some(v) => v,
            None => self.i32()?,
        };
        if first < 0 {
            let word = first as u32;
            if word & VERSION_MASK != VERSION_1 {
                return Err(invalid(format!("bad thrift protocol version {word:#x}")));
            }
            let kind = message_type((word & 0xff) as u8)?;
            let name = self.string()?;
            let seq = self.i32()?;
            return Ok(Header {
                name,
                kind,
                seq,
                strict: true,
            });
        }
        let n = first as usize;
        if n > 1024 {
            return Err(invalid("method name too long".into()));
        }
        self.take(n)?;
        let mut name = vec![0u8; n];
        self.inner.read_exact(&mut name)?;
        let name = String::from_utf8(name).map_err(|_| invalid("method name not UTF-8".into()))?;
        let kind = message_type(self.u8()?)?;
        let seq = self.i32()?;
        Ok(Header {
            name,
            kind,
            seq,
            strict: false,
        })
    }

    /// A whole struct (the arguments of a call).
    pub fn read_struct(&mut self) -> io::Result<Struct> {
        self.struct_at(0)
    }

    fn struct_at(&mut self, depth: usize) -> io::Result<Struct> {
        if depth > MAX_DEPTH {
            return Err(invalid("thrift value nested too deeply".into()));
        }
        let mut s = Struct::new();
        loop {
            let ty = self.u8()?;
            if ty == 0 {
                return Ok(s);
            }
            let ty = TType::from_byte(ty)?;
            let id = self.i16()?;
            let value = self.value(ty, depth + 1)?;
            s.fields.push((id, value));
        }
    }

    fn value(&mut self, ty: TType, depth: usize) -> io::Result<Value> {
        if depth > MAX_DEPTH {
            return Err(invalid("thrift value nested too deeply".into()));
        }
        self.take(VALUE_COST)?;
        Ok(match ty {
            TType::Bool => Value::Bool(self.u8()? != 0),
            TType::Byte => Value::Byte(self.u8()? as i8),
            TType::Double => Value::Double(f64::from_bits(self.i64()? as u64)),
            TType::I16 => Value::I16(self.i16()?),
            TType::I32 => Value::I32(self.i32()?),
            TType::I64 => Value::I64(self.i64()?),
            TType::String => Value::Binary(self.binary()?),
            TType::Struct => Value::Struct(self.struct_at(depth)?),
            TType::Map => {
                let (k, v) = (TType::from_byte(self.u8()?)?, TType::from_byte(self.u8()?)?);
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push((self.value(k, depth + 1)?, self.value(v, depth + 1)?));
                }
                Value::Map(k, v, items)
            }
            TType::Set | TType::List => {
                let elem = TType::from_byte(self.u8()?)?;
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(self.value(elem, depth + 1)?);
                }
                if ty == TType::Set {
                    Value::Set(elem, items)
                } else {
                    Value::List(elem, items)
                }
            }
        })
    }
}

fn message_type(b: u8) -> io::Result<MessageType> {
    Ok(match b {
        1 => MessageType::Call,
        2 => MessageType::Reply,
        3 => MessageType::Exception,
        4 => MessageType::Oneway,
        other => return Err(invalid(format!("bad thrift message type {other}"))),
    })
}

pub(crate) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Encodes messages into a byte buffer (replies are built whole, then written at once).
#[derive(Default)]
pub struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub fn header(&mut self, h: &Header) {
        if h.strict {
            self.i32((VERSION_1 | h.kind as u32) as i32);
            self.string(h.name.as_bytes());
        } else {
            self.string(h.name.as_bytes());
            self.buf.push(h.kind as u8);
        }
        self.i32(h.seq);
    }

    fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn string(&mut self, b: &[u8]) {
        self.i32(b.len() as i32);
        self.buf.extend_from_slice(b);
    }

    pub fn write_struct(&mut self, s: &Struct) {
        for (id, v) in &s.fields {
            self.buf.push(v.ttype() as u8);
            self.buf.extend_from_slice(&id.to_be_bytes());
            self.value(v);
        }
        self.buf.push(0);
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Bool(b) => self.buf.push(*b as u8),
            Value::Byte(b) => self.buf.push(*b as u8),
            Value::Double(d) => self.buf.extend_from_slice(&d.to_bits().to_be_bytes()),
            Value::I16(i) => self.buf.extend_from_slice(&i.to_be_bytes()),
            Value::I32(i) => self.i32(*i),
            Value::I64(i) => self.buf.extend_from_slice(&i.to_be_bytes()),
            Value::Binary(b) => self.string(b),
            Value::Struct(s) => self.write_struct(s),
            Value::Map(k, t, items) => {
                self.buf.push(*k as u8);
                self.buf.push(*t as u8);
                self.i32(items.len() as i32);
                for (key, value) in items {
                    self.value(key);
                    self.value(value);
                }
            }
            Value::Set(elem, items) | Value::List(elem, items) => {
                self.buf.push(*elem as u8);
                self.i32(items.len() as i32);
                for item in items {
                    self.value(item);
                }
            }
            Value::Encoded(_, bytes) => self.buf.extend_from_slice(bytes),
        }
    }
}

/// A value in wire form, to keep and send again as [`Value::Encoded`].
pub fn encode(value: &Value) -> bytes::Bytes {
    let mut e = Encoder::default();
    e.value(value);
    e.buf.into()
}

/// A struct's fields in wire form without the closing stop byte, to splice into structs
/// encoded later (see [`Value::Encoded`]).
pub fn encode_fields(s: &Struct) -> Vec<u8> {
    let mut e = Encoder::default();
    e.write_struct(s);
    e.buf.pop();
    e.buf
}

#[cfg(test)]
mod tests;
