//! The engine's error type and its one classification into a protocol-neutral [`ErrorKind`].
//!
//! Front ends map kinds to their protocol (SQLSTATE, gRPC code) in one file each; nothing else
//! inspects error text. Our own errors travel through DataFusion as `DataFusionError::External`
//! and are recovered here by downcasting, never by parsing messages.

use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, SchemaError};
use datafusion::sql::sqlparser::parser::ParserError;
use tarn_catalog::CatalogError;
use tarn_sql::SqlError;

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Protocol-neutral error classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Syntax,
    UndefinedTable,
    UndefinedSchema,
    UndefinedDatabase,
    UndefinedColumn,
    AmbiguousColumn,
    UndefinedFunction,
    DatatypeMismatch,
    /// Other planning errors (semantic, not syntax).
    InvalidStatement,
    DuplicateObject,
    DuplicateSchema,
    DependentObjects,
    FeatureNotSupported,
    InvalidParameter,
    DataException,
    InvalidTextRepresentation,
    DivisionByZero,
    NumericOverflow,
    SerializationFailure,
    Canceled,
    Timeout,
    ResourcesExhausted,
    PermissionDenied,
    StorageIo,
    CatalogUnavailable,
    DataCorrupted,
    MissingFile,
    /// A named object other than a table or database (a user) does not exist.
    UndefinedObject,
    /// A statement inside a transaction block that already failed.
    InFailedTransaction,
    /// An unknown prepared statement name.
    InvalidStatementName,
    /// An unknown portal (cursor) name.
    InvalidCursorName,
    /// A prepared statement name already in use.
    DuplicatePreparedStatement,
    /// A cursor name already in use.
    DuplicateCursor,
    /// A client broke the wire protocol.
    ProtocolViolation,
    TooManyConnections,
    /// Authentication failed (unknown user, wrong or empty password: deliberately one kind).
    AuthenticationFailed,
    /// A write in a read-only transaction (`BEGIN READ ONLY`, `default_transaction_read_only`).
    ReadOnlyTransaction,
    /// A configured limit on input size was exceeded (a COPY line too long).
    ProgramLimitExceeded,
    /// A date or time value out of range (parameter decoding, interval arithmetic).
    DatetimeOverflow,
    Internal,
}

impl ErrorKind {
    /// Every kind (for mapping tables and their tests).
    pub const ALL: [ErrorKind; 40] = {
        use ErrorKind::*;
        [
            Syntax,
            UndefinedTable,
            UndefinedSchema,
            UndefinedDatabase,
            UndefinedColumn,
            AmbiguousColumn,
            UndefinedFunction,
            DatatypeMismatch,
            InvalidStatement,
            DuplicateObject,
            DuplicateSchema,
            DependentObjects,
            FeatureNotSupported,
            InvalidParameter,
            DataException,
            InvalidTextRepresentation,
            DivisionByZero,
            NumericOverflow,
            SerializationFailure,
            Canceled,
            Timeout,
            ResourcesExhausted,
            PermissionDenied,
            StorageIo,
            CatalogUnavailable,
            DataCorrupted,
            MissingFile,
            UndefinedObject,
            InFailedTransaction,
            InvalidStatementName,
            InvalidCursorName,
            DuplicatePreparedStatement,
            DuplicateCursor,
            ProtocolViolation,
            TooManyConnections,
            AuthenticationFailed,
            ReadOnlyTransaction,
            ProgramLimitExceeded,
            DatetimeOverflow,
            Internal,
        ]
    };

    /// A short, stable name (shown by the CLI).
    pub fn name(self) -> &'static str {
        use ErrorKind::*;
        match self {
            Syntax => "syntax error",
            UndefinedTable => "undefined table",
            UndefinedSchema => "undefined database",
            UndefinedDatabase => "undefined catalog",
            UndefinedColumn => "undefined column",
            AmbiguousColumn => "ambiguous column",
            UndefinedFunction => "undefined function",
            DatatypeMismatch => "datatype mismatch",
            InvalidStatement => "invalid statement",
            DuplicateObject => "duplicate object",
            DuplicateSchema => "duplicate database",
            DependentObjects => "dependent objects exist",
            FeatureNotSupported => "feature not supported",
            InvalidParameter => "invalid parameter",
            DataException => "data exception",
            InvalidTextRepresentation => "invalid text representation",
            DivisionByZero => "division by zero",
            NumericOverflow => "numeric value out of range",
            SerializationFailure => "serialization failure",
            Canceled => "query canceled",
            Timeout => "statement timeout",
            ResourcesExhausted => "resources exhausted",
            PermissionDenied => "permission denied",
            StorageIo => "storage I/O error",
            CatalogUnavailable => "catalog unavailable",
            DataCorrupted => "data corrupted",
            MissingFile => "missing data file",
            UndefinedObject => "undefined object",
            InFailedTransaction => "in failed transaction",
            InvalidStatementName => "invalid statement name",
            InvalidCursorName => "invalid cursor name",
            DuplicatePreparedStatement => "duplicate prepared statement",
            DuplicateCursor => "duplicate cursor",
            ProtocolViolation => "protocol violation",
            TooManyConnections => "too many connections",
            AuthenticationFailed => "authentication failed",
            ReadOnlyTransaction => "read-only transaction",
            ProgramLimitExceeded => "program limit exceeded",
            DatetimeOverflow => "datetime field overflow",
            Internal => "internal error",
        }
    }

    /// A hint for people reading the error in a terminal.
    pub fn hint(self) -> Option<&'static str> {
        use ErrorKind::*;
        match self {
            UndefinedTable => Some("SHOW TABLES lists the tables of the current database"),
            UndefinedSchema => Some("SHOW DATABASES lists the databases"),
            UndefinedColumn => Some("DESCRIBE <table> lists its columns"),
            PermissionDenied => {
                Some("locations must lie under an allowed root (config key allowed_roots)")
            }
            DataCorrupted | MissingFile => {
                Some("the named file is not readable as the table's format; remove or replace it")
            }
            _ => None,
        }
    }
}

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("not supported: {0}")]
    NotSupported(String),
    #[error("cannot read {path}: {message}")]
    CorruptFile { path: String, message: String },
    #[error("storage error at {location}: {message}")]
    Storage { location: String, message: String },
    #[error("canceling statement due to user request")]
    Canceled,
    #[error("canceling statement due to statement timeout")]
    Timeout,
    /// Errors of a session's protocol state (transactions, prepared statements, portals).
    #[error("{message}")]
    Session { kind: ErrorKind, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// Classifies this error once.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Sql(e) => sql_kind(e),
            EngineError::Catalog(e) => catalog_kind(e),
            EngineError::DataFusion(e) => datafusion_kind(e),
            EngineError::PermissionDenied(_) => ErrorKind::PermissionDenied,
            EngineError::InvalidParameter(_) => ErrorKind::InvalidParameter,
            EngineError::NotSupported(_) => ErrorKind::FeatureNotSupported,
            EngineError::CorruptFile { .. } => ErrorKind::DataCorrupted,
            EngineError::Storage { .. } => ErrorKind::StorageIo,
            EngineError::Canceled => ErrorKind::Canceled,
            EngineError::Timeout => ErrorKind::Timeout,
            EngineError::Session { kind, .. } => *kind,
            EngineError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// 1-based character position in the statement for syntax errors, when known.
    pub fn position(&self) -> Option<(u64, u64)> {
        match self {
            EngineError::Sql(SqlError::Syntax { line, column, .. }) => Some((*line, *column)),
            EngineError::DataFusion(e) => match e.find_root() {
                DataFusionError::SQL(p, _) => parser_position(&p.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The message without DataFusion's wrapping noise ("External error: ", contexts).
    pub fn message(&self) -> String {
        match self {
            EngineError::DataFusion(e) => match own_error(e) {
                Some(inner) => inner.to_string(),
                None => datafusion_message(e),
            },
            other => other.to_string(),
        }
    }

    /// Wraps this error for transport through DataFusion (recovered by [`EngineError::kind`]).
    pub fn into_datafusion(self) -> DataFusionError {
        match self {
            EngineError::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

/// Our own error carried inside a DataFusion error, if any.
fn own_error(e: &DataFusionError) -> Option<&(dyn std::error::Error + 'static)> {
    match e.find_root() {
        DataFusionError::External(inner) => {
            let inner: &(dyn std::error::Error + 'static) = inner.as_ref();
            if inner.is::<EngineError>() || inner.is::<CatalogError>() {
                Some(inner)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The innermost DataFusion message (the cause, not the optimizer rule that met it), without
/// the prefixes that nesting repeats ("Parquet error: Parquet error: …").
fn datafusion_message(e: &DataFusionError) -> String {
    let root = e.find_root();
    let mut text = match root {
        DataFusionError::SQL(p, _) => p.to_string(),
        other => other.message().into_owned(),
    };
    for prefix in ["Parquet error: ", "Arrow error: ", "External error: "] {
        let doubled = format!("{prefix}{prefix}");
        while text.contains(&doubled) {
            text = text.replace(&doubled, prefix);
        }
    }
    text
}

/// Moves the position in a parser error of a statement that starts at `origin` (1-based line,
/// column) of the submitted text, so it points into that text. (Parsing each statement
/// without padding it to its place keeps long scripts linear.)
pub(crate) fn shift_position(e: DataFusionError, origin: (u64, u64)) -> EngineError {
    let DataFusionError::SQL(parser_error, backtrace) = e else {
        return EngineError::DataFusion(e);
    };
    let message = match parser_error.as_ref() {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => {
            return EngineError::DataFusion(DataFusionError::SQL(parser_error, backtrace));
        }
    };
    let Some((line, column)) = parser_position(&message) else {
        return EngineError::DataFusion(DataFusionError::SQL(parser_error, backtrace));
    };
    let (new_line, new_column) = match line {
        1 => (origin.0, column + origin.1.saturating_sub(1)),
        l => (l + origin.0.saturating_sub(1), column),
    };
    let at = message.rfind("Line: ").unwrap_or(message.len());
    let shifted = format!(
        "{}Line: {new_line}, Column: {new_column}{}",
        &message[..at],
        message[at..]
            .find(|c: char| c.is_ascii_digit())
            .map(|i| &message[at + i..])
            .and_then(|rest| rest.split_once(", Column: "))
            .map(|(_, tail)| tail.trim_start_matches(|c: char| c.is_ascii_digit()))
            .unwrap_or("")
    );
    let rebuilt = match parser_error.as_ref() {
        ParserError::TokenizerError(_) => ParserError::TokenizerError(shifted),
        _ => ParserError::ParserError(shifted),
    };
    EngineError::DataFusion(DataFusionError::SQL(Box::new(rebuilt), backtrace))
}

/// sqlparser reports positions only in its message: "… at Line: 2, Column: 5".
fn parser_position(message: &str) -> Option<(u64, u64)> {
    let rest = &message[message.rfind("Line: ")? + "Line: ".len()..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

fn sql_kind(e: &SqlError) -> ErrorKind {
    match e {
        SqlError::Syntax { .. } => ErrorKind::Syntax,
        SqlError::NotSupported(_) => ErrorKind::FeatureNotSupported,
    }
}

fn catalog_kind(e: &CatalogError) -> ErrorKind {
    use CatalogError::*;
    match e {
        DatabaseNotFound(_) => ErrorKind::UndefinedSchema,
        DatabaseExists(_) => ErrorKind::DuplicateSchema,
        DatabaseNotEmpty(_) | DependentObjects(_) => ErrorKind::DependentObjects,
        TableNotFound { .. } => ErrorKind::UndefinedTable,
        TableExists { .. } | PartitionExists { .. } => ErrorKind::DuplicateObject,
        PartitionNotFound { .. } => ErrorKind::InvalidParameter,
        InvalidType { .. } => ErrorKind::DatatypeMismatch,
        InvalidArgument(_) => ErrorKind::InvalidParameter,
        UserNotFound(_) => ErrorKind::UndefinedObject,
        UserExists(_) => ErrorKind::DuplicateObject,
        DropDefaultDatabase => ErrorKind::InvalidStatement,
        Conflict(_) => ErrorKind::SerializationFailure,
        Storage(_) | Unavailable(_) | CommitOutcomeUnknown(_) | Io { .. } | TaskFailed(_) => {
            ErrorKind::CatalogUnavailable
        }
        Corrupt(_) => ErrorKind::Internal,
    }
}

fn datafusion_kind(e: &DataFusionError) -> ErrorKind {
    use DataFusionError as D;
    match e {
        D::ArrowError(a, _) => arrow_kind(a),
        D::ParquetError(p) => parquet_kind(p),
        D::ObjectStore(os) => store_kind(os),
        D::IoError(_) => ErrorKind::StorageIo,
        D::SQL(p, _) => match p.as_ref() {
            ParserError::TokenizerError(_) | ParserError::ParserError(_) => ErrorKind::Syntax,
            ParserError::RecursionLimitExceeded => ErrorKind::ResourcesExhausted,
        },
        D::NotImplemented(_) | D::Substrait(_) => ErrorKind::FeatureNotSupported,
        D::Ffi(_) => ErrorKind::Internal,
        D::Internal(_) | D::ExecutionJoin(_) => ErrorKind::Internal,
        D::Plan(msg) => plan_kind(msg),
        D::Configuration(_) => ErrorKind::InvalidParameter,
        D::SchemaError(s, _) => match s.as_ref() {
            SchemaError::FieldNotFound { .. } => ErrorKind::UndefinedColumn,
            SchemaError::AmbiguousReference { .. } => ErrorKind::AmbiguousColumn,
            SchemaError::DuplicateQualifiedField { .. }
            | SchemaError::DuplicateUnqualifiedField { .. } => ErrorKind::DuplicateObject,
        },
        D::Execution(msg) => execution_kind(msg),
        D::ResourcesExhausted(_) => ErrorKind::ResourcesExhausted,
        D::External(inner) => external_kind(inner.as_ref()),
        D::Context(_, inner) | D::Diagnostic(_, inner) => datafusion_kind(inner),
        D::Shared(inner) => datafusion_kind(inner),
        D::Collection(all) => all
            .first()
            .map(datafusion_kind)
            .unwrap_or(ErrorKind::Internal),
    }
}

fn store_kind(e: &object_store::Error) -> ErrorKind {
    match e {
        object_store::Error::NotFound { .. } => ErrorKind::MissingFile,
        _ => ErrorKind::StorageIo,
    }
}

/// The Parquet reader wraps the store's errors: a read that failed is I/O, not a bad file.
fn parquet_kind(e: &datafusion::parquet::errors::ParquetError) -> ErrorKind {
    use datafusion::parquet::errors::ParquetError as P;
    match e {
        P::External(inner) => match external_kind(inner.as_ref()) {
            ErrorKind::Internal => ErrorKind::DataCorrupted,
            kind => kind,
        },
        // DataFusion's reader flattens a failed footer fetch into text
        // ("Failed to fetch metadata for file …: Object Store error: …").
        P::General(msg) if msg.starts_with("Failed to fetch metadata") => {
            if msg.contains("Object at location") && msg.contains("not found") {
                ErrorKind::MissingFile
            } else if msg.contains("Object Store error") || msg.contains("IO error") {
                ErrorKind::StorageIo
            } else {
                ErrorKind::DataCorrupted
            }
        }
        _ => ErrorKind::DataCorrupted,
    }
}

fn external_kind(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> ErrorKind {
    if let Some(e) = inner.downcast_ref::<EngineError>() {
        e.kind()
    } else if let Some(e) = inner.downcast_ref::<CatalogError>() {
        catalog_kind(e)
    } else if let Some(e) = inner.downcast_ref::<DataFusionError>() {
        datafusion_kind(e)
    } else if let Some(e) = inner.downcast_ref::<ArrowError>() {
        arrow_kind(e)
    } else if let Some(e) = inner.downcast_ref::<object_store::Error>() {
        store_kind(e)
    } else if let Some(e) = inner.downcast_ref::<datafusion::parquet::errors::ParquetError>() {
        parquet_kind(e)
    } else if inner.downcast_ref::<std::io::Error>().is_some() {
        ErrorKind::StorageIo
    } else {
        ErrorKind::Internal
    }
}

fn arrow_kind(e: &ArrowError) -> ErrorKind {
    use ArrowError as A;
    match e {
        A::DivideByZero => ErrorKind::DivisionByZero,
        A::ArithmeticOverflow(_) | A::DictionaryKeyOverflowError | A::OffsetOverflowError(_) => {
            ErrorKind::NumericOverflow
        }
        A::RunEndIndexOverflowError => ErrorKind::NumericOverflow,
        // A value that parses but does not fit its type is out of range, like PostgreSQL's
        // "bigint out of range"; anything else that fails to convert is malformed input.
        A::CastError(msg) if msg.starts_with("Can't cast value") => ErrorKind::NumericOverflow,
        A::CastError(_) | A::ParseError(_) => ErrorKind::InvalidTextRepresentation,
        A::CsvError(_)
        | A::JsonError(_)
        | A::AvroError(_)
        | A::ParquetError(_)
        | A::IpcError(_) => ErrorKind::DataCorrupted,
        A::IoError(_, _) => ErrorKind::StorageIo,
        A::MemoryError(_) => ErrorKind::ResourcesExhausted,
        A::NotYetImplemented(_) => ErrorKind::FeatureNotSupported,
        A::InvalidArgumentError(msg) if msg.contains("too large to store") => {
            ErrorKind::NumericOverflow
        }
        A::SchemaError(_) | A::InvalidArgumentError(_) | A::ComputeError(_) => {
            ErrorKind::DataException
        }
        A::ExternalError(inner) => external_kind(inner.as_ref()),
        A::CDataInterface(_) => ErrorKind::Internal,
    }
}

/// DataFusion reports most planning failures as `Plan(String)`; these prefixes are its stable
/// wording for the cases clients need to tell apart.
fn plan_kind(msg: &str) -> ErrorKind {
    let lower = msg.to_ascii_lowercase();
    if lower.starts_with("table '") && lower.contains("not found") {
        ErrorKind::UndefinedTable
    } else if lower.contains("invalid function") || lower.contains("no function matches") {
        ErrorKind::UndefinedFunction
    } else if lower.contains("cannot infer common")
        || lower.contains("cannot be cast")
        || lower.contains("does not support") && lower.contains("type")
    {
        ErrorKind::DatatypeMismatch
    } else {
        ErrorKind::InvalidStatement
    }
}

fn execution_kind(msg: &str) -> ErrorKind {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("divide by zero") || lower.contains("division by zero") {
        ErrorKind::DivisionByZero
    } else if lower.contains("overflow") {
        ErrorKind::NumericOverflow
    } else {
        ErrorKind::DataException
    }
}

impl From<datafusion::arrow::error::ArrowError> for EngineError {
    fn from(e: ArrowError) -> Self {
        EngineError::DataFusion(DataFusionError::ArrowError(Box::new(e), None))
    }
}

#[cfg(test)]
mod tests;
