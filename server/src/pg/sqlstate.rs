//! The one mapping from the engine's error kinds to SQLSTATE codes, and the error the pg front
//! end sends (ErrorResponse fields).

use tarn_engine::{EngineError, ErrorKind};

/// An error as the Postgres protocol reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgError {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    /// 1-based character offset into the statement text.
    pub position: Option<usize>,
}

impl PgError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            severity: severity(kind),
            code: sqlstate(kind),
            message: message.into(),
            hint: None,
            position: None,
        }
    }

    /// Classifies an engine error; internal errors are masked (the full chain goes to the log).
    /// `sql` is the statement text, to turn a line/column into PostgreSQL's character position.
    pub fn from_engine(e: &EngineError, sql: Option<&str>) -> Self {
        let kind = e.kind();
        if kind == ErrorKind::Internal {
            tracing::error!(error = ?e, "internal error");
            return Self::new(kind, "internal error; details are in the server log");
        }
        let mut err = Self::new(kind, e.message());
        err.hint = kind.hint().map(str::to_string);
        if let (Some((line, column)), Some(sql)) = (e.position(), sql) {
            err.position = char_position(sql, line, column);
        }
        err
    }

    /// The connection is unusable: the client broke the protocol.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ProtocolViolation, message)
    }

    /// The server requires TLS and the client did not use it.
    pub fn tls_required() -> Self {
        Self {
            severity: "FATAL",
            code: "28000",
            message: "this server accepts only TLS connections (sslmode=require)".into(),
            hint: None,
            position: None,
        }
    }

    /// The server is shutting down (sent to idle connections).
    pub fn shutting_down() -> Self {
        Self {
            severity: "FATAL",
            code: "57P01",
            message: "terminating connection due to administrator command".into(),
            hint: None,
            position: None,
        }
    }

    /// `(field type, value)` pairs of ErrorResponse / NoticeResponse.
    pub fn fields(&self) -> Vec<(u8, String)> {
        let mut fields = vec![
            (b'S', self.severity.to_string()),
            (b'V', self.severity.to_string()),
            (b'C', self.code.to_string()),
            (b'M', self.message.clone()),
        ];
        if let Some(hint) = &self.hint {
            fields.push((b'H', hint.clone()));
        }
        if let Some(p) = self.position {
            fields.push((b'P', p.to_string()));
        }
        fields
    }
}

/// 1-based character offset of `line`:`column` in `sql`.
fn char_position(sql: &str, line: u64, column: u64) -> Option<usize> {
    let mut offset = 0;
    for (i, text) in sql.split('\n').enumerate() {
        if i as u64 + 1 == line {
            return Some(offset + column as usize);
        }
        offset += text.chars().count() + 1;
    }
    None
}

/// ERROR, or FATAL for errors that end the connection.
fn severity(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ProtocolViolation
        | ErrorKind::TooManyConnections
        | ErrorKind::AuthenticationFailed
        | ErrorKind::UndefinedDatabase => "FATAL",
        _ => "ERROR",
    }
}

/// The kind a SQLSTATE stands for (the inverse of [`sqlstate`]; 57014 reads as a cancel).
pub fn kind_of(code: &str) -> Option<ErrorKind> {
    ErrorKind::ALL.into_iter().find(|k| sqlstate(*k) == code)
}

/// The SQLSTATE of each kind. Exhaustive on purpose: a new kind must choose its code.
pub fn sqlstate(kind: ErrorKind) -> &'static str {
    use ErrorKind::*;
    match kind {
        Syntax => "42601",
        UndefinedTable => "42P01",
        UndefinedSchema => "3F000",
        UndefinedDatabase => "3D000",
        UndefinedColumn => "42703",
        AmbiguousColumn => "42702",
        UndefinedFunction => "42883",
        DatatypeMismatch => "42804",
        InvalidStatement => "42000",
        DuplicateObject => "42P07",
        DuplicateSchema => "42P06",
        DependentObjects => "2BP01",
        FeatureNotSupported => "0A000",
        InvalidParameter => "22023",
        DataException => "22000",
        InvalidTextRepresentation => "22P02",
        DivisionByZero => "22012",
        NumericOverflow => "22003",
        SerializationFailure => "40001",
        Canceled | Timeout => "57014",
        ResourcesExhausted => "53200",
        PermissionDenied => "42501",
        StorageIo => "58030",
        CatalogUnavailable => "58000",
        DataCorrupted => "XX001",
        MissingFile => "58P01",
        UndefinedObject => "42704",
        InFailedTransaction => "25P02",
        InvalidStatementName => "26000",
        InvalidCursorName => "34000",
        DuplicatePreparedStatement => "42P05",
        DuplicateCursor => "42P03",
        ProtocolViolation => "08P01",
        TooManyConnections => "53300",
        AuthenticationFailed => "28P01",
        ReadOnlyTransaction => "25006",
        ProgramLimitExceeded => "54000",
        DatetimeOverflow => "22008",
        Internal => "XX000",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstate_table() {
        use ErrorKind::*;
        let table = [
            (Syntax, "42601"),
            (UndefinedTable, "42P01"),
            (UndefinedColumn, "42703"),
            (UndefinedFunction, "42883"),
            (UndefinedDatabase, "3D000"),
            (UndefinedSchema, "3F000"),
            (DuplicateObject, "42P07"),
            (FeatureNotSupported, "0A000"),
            (DivisionByZero, "22012"),
            (InvalidTextRepresentation, "22P02"),
            (NumericOverflow, "22003"),
            (InFailedTransaction, "25P02"),
            (InvalidStatementName, "26000"),
            (InvalidCursorName, "34000"),
            (DuplicatePreparedStatement, "42P05"),
            (DuplicateCursor, "42P03"),
            (ProtocolViolation, "08P01"),
            (Canceled, "57014"),
            (Timeout, "57014"),
            (ResourcesExhausted, "53200"),
            (TooManyConnections, "53300"),
            (AuthenticationFailed, "28P01"),
            (PermissionDenied, "42501"),
            (SerializationFailure, "40001"),
            (ReadOnlyTransaction, "25006"),
            (ProgramLimitExceeded, "54000"),
            (DatetimeOverflow, "22008"),
            (Internal, "XX000"),
        ];
        for (kind, code) in table {
            assert_eq!(sqlstate(kind), code, "{kind:?}");
        }
    }

    #[test]
    fn every_kind_has_a_code_and_codes_identify_kinds() {
        for kind in ErrorKind::ALL {
            let code = sqlstate(kind);
            assert_eq!(code.len(), 5, "{kind:?}");
            // One code per kind, except cancel and timeout, which PostgreSQL reports alike.
            let same: Vec<_> = ErrorKind::ALL
                .iter()
                .filter(|k| sqlstate(**k) == code)
                .collect();
            assert!(same.len() == 1 || code == "57014", "{code}: {same:?}");
        }
    }

    #[test]
    fn internal_errors_are_masked_and_positions_are_characters() {
        let e = PgError::from_engine(&EngineError::Internal("secret detail".into()), None);
        assert_eq!(e.code, "XX000");
        assert!(!e.message.contains("secret"));
        assert_eq!(char_position("select\n  x", 2, 3), Some(10));
        assert_eq!(severity(ErrorKind::AuthenticationFailed), "FATAL");
    }
}
