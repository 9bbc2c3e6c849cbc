//! COPY data as it streams in, written to the spool as CSV: PostgreSQL's text format
//! (tab-separated, `\N` NULL, backslash escapes) is rewritten (NULL becomes `\N`, every other
//! value is quoted); CSV passes through. Both stop at a `\.` end-of-data line.

use std::io::Write;

/// Why a chunk of COPY data could not be taken.
#[derive(Debug)]
pub enum PushError {
    /// Writing the spool failed.
    Io(std::io::Error),
    /// A line grew past the configured maximum (bytes) without a newline: a client could
    /// otherwise make the server buffer without bound.
    LineTooLong(usize),
}

impl From<std::io::Error> for PushError {
    fn from(e: std::io::Error) -> Self {
        PushError::Io(e)
    }
}

pub struct Converter {
    /// `false`: CSV input, passed through line by line.
    text: bool,
    delimiter: u8,
    null: Vec<u8>,
    skip_header: bool,
    /// The incomplete last line of the data received so far.
    pending: Vec<u8>,
    /// `\.` was seen: everything after it is ignored.
    ended: bool,
    /// The longest line accepted, in bytes.
    max_line: usize,
}

impl Converter {
    pub fn text(delimiter: u8, null: Vec<u8>, header: bool) -> Self {
        Self {
            text: true,
            delimiter,
            null,
            skip_header: header,
            pending: Vec::new(),
            ended: false,
            max_line: usize::MAX,
        }
    }

    pub fn csv() -> Self {
        Self {
            text: false,
            delimiter: b',',
            null: vec![],
            skip_header: false,
            pending: Vec::new(),
            ended: false,
            max_line: usize::MAX,
        }
    }

    /// Refuses lines longer than `max_line` bytes (checked before they are buffered).
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }

    pub fn push(&mut self, data: &[u8], out: &mut impl Write) -> Result<(), PushError> {
        let mut rest = data;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            self.take(&rest[..pos])?;
            let line = std::mem::take(&mut self.pending);
            self.line(&line, out)?;
            rest = &rest[pos + 1..];
        }
        self.take(rest)
    }

    /// Appends to the pending line, within the limit.
    fn take(&mut self, part: &[u8]) -> Result<(), PushError> {
        if self.pending.len().saturating_add(part.len()) > self.max_line && !self.ended {
            return Err(PushError::LineTooLong(self.max_line));
        }
        if !self.ended {
            self.pending.extend_from_slice(part);
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line, out)?;
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut impl Write) -> std::io::Result<()> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if self.ended || line == b"\\." {
            self.ended = true;
            return Ok(());
        }
        if !self.text {
            out.write_all(line)?;
            return out.write_all(b"\n");
        }
        if std::mem::take(&mut self.skip_header) {
            return Ok(());
        }
        let mut csv = Vec::with_capacity(line.len() + 8);
        for (i, field) in line.split(|b| *b == self.delimiter).enumerate() {
            if i > 0 {
                csv.push(b',');
            }
            if field == self.null.as_slice() {
                csv.extend_from_slice(b"\\N");
                continue;
            }
            csv.push(b'"');
            unescape_into(field, &mut csv);
            csv.push(b'"');
        }
        csv.push(b'\n');
        out.write_all(&csv)
    }
}

/// Backslash escapes of the text format, with `"` doubled for CSV.
fn unescape_into(field: &[u8], csv: &mut Vec<u8>) {
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        let decoded = if b == b'\\' && i + 1 < field.len() {
            i += 1;
            match field[i] {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'b' => 8,
                b'f' => 12,
                b'v' => 11,
                d @ b'0'..=b'7' => {
                    let mut v = (d - b'0') as u32;
                    for _ in 0..2 {
                        match field.get(i + 1) {
                            Some(n @ b'0'..=b'7') => {
                                v = v * 8 + (n - b'0') as u32;
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    v as u8
                }
                b'x' if field.get(i + 1).is_some_and(u8::is_ascii_hexdigit) => {
                    let mut v = 0u32;
                    for _ in 0..2 {
                        match field.get(i + 1).and_then(|c| (*c as char).to_digit(16)) {
                            Some(d) => {
                                v = v * 16 + d;
                                i += 1;
                            }
                            None => break,
                        }
                    }
                    v as u8
                }
                other => other,
            }
        } else {
            b
        };
        if decoded == b'"' {
            csv.push(b'"');
        }
        csv.push(decoded);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_becomes_csv() {
        let mut c = Converter::text(b'\t', b"\\N".to_vec(), false);
        let mut out = Vec::new();
        c.push(b"1\ta\\tb\t\\N\n2\tsay \"hi\"", &mut out).unwrap();
        c.push(b"\t\\\\x\n\\.\nignored\n", &mut out).unwrap();
        c.finish(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"1\",\"a\tb\",\\N\n\"2\",\"say \"\"hi\"\"\",\"\\x\"\n"
        );
    }

    #[test]
    fn lines_longer_than_the_limit_are_refused_before_buffering() {
        for mut c in [
            Converter::csv(),
            Converter::text(b'\t', b"\\N".to_vec(), false),
        ] {
            c = c.with_max_line(8);
            let mut out = Vec::new();
            c.push(b"12345678\n1234", &mut out).unwrap();
            let err = c.push(b"56789", &mut out).unwrap_err();
            assert!(matches!(err, PushError::LineTooLong(8)), "{err:?}");
            assert!(c.pending.len() <= 8);
        }
    }
}
