//! The one mapping from the engine's error kinds to gRPC status codes (Flight SQL). The
//! SQLSTATE of the same kind travels in the `x-tarn-sqlstate` metadata entry so clients (and
//! tarn's sqllogictest runner) can tell errors apart exactly as over the Postgres wire.

use tarn_engine::{EngineError, ErrorKind};
use tonic::{Code, Status};

use crate::pg::sqlstate::sqlstate;

/// The metadata key carrying the SQLSTATE of an error.
pub const SQLSTATE_KEY: &str = "x-tarn-sqlstate";

/// The gRPC code of each kind. Exhaustive on purpose: a new kind must choose its code.
pub fn grpc_code(kind: ErrorKind) -> Code {
    use ErrorKind::*;
    match kind {
        Syntax
        | UndefinedColumn
        | AmbiguousColumn
        | UndefinedFunction
        | DatatypeMismatch
        | InvalidStatement
        | InvalidParameter
        | DataException
        | InvalidTextRepresentation
        | DivisionByZero
        | NumericOverflow
        | DatetimeOverflow
        | ProtocolViolation => Code::InvalidArgument,
        UndefinedTable | UndefinedSchema | UndefinedDatabase | UndefinedObject
        | InvalidStatementName | InvalidCursorName => Code::NotFound,
        DuplicateObject | DuplicateSchema | DuplicatePreparedStatement | DuplicateCursor => {
            Code::AlreadyExists
        }
        DependentObjects | InFailedTransaction | ReadOnlyTransaction => Code::FailedPrecondition,
        FeatureNotSupported => Code::Unimplemented,
        SerializationFailure => Code::Aborted,
        Canceled => Code::Cancelled,
        Timeout => Code::DeadlineExceeded,
        ResourcesExhausted | TooManyConnections | ProgramLimitExceeded => Code::ResourceExhausted,
        PermissionDenied => Code::PermissionDenied,
        AuthenticationFailed => Code::Unauthenticated,
        StorageIo | CatalogUnavailable => Code::Unavailable,
        DataCorrupted | MissingFile => Code::DataLoss,
        Internal => Code::Internal,
    }
}

/// A status for `kind` with `message` and the kind's SQLSTATE attached.
pub fn status(kind: ErrorKind, message: impl Into<String>) -> Status {
    let mut status = Status::new(grpc_code(kind), message.into());
    if let Ok(value) = sqlstate(kind).parse() {
        status.metadata_mut().insert(SQLSTATE_KEY, value);
    }
    status
}

/// The status of an engine error: its message verbatim, except internal errors, which are
/// logged in full and masked.
pub fn from_engine(e: &EngineError) -> Status {
    let kind = e.kind();
    if kind == ErrorKind::Internal {
        tracing::error!(error = ?e, "internal error");
        return status(kind, "internal error; details are in the server log");
    }
    status(kind, e.message())
}

/// The status of an error raised inside a result stream (DataFusion wraps ours).
pub fn from_datafusion(e: datafusion::error::DataFusionError) -> Status {
    from_engine(&EngineError::from(e))
}

/// A malformed request.
pub fn invalid(message: impl Into<String>) -> Status {
    status(ErrorKind::InvalidParameter, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_code_and_its_sqlstate() {
        let expected = [
            (ErrorKind::Syntax, Code::InvalidArgument),
            (ErrorKind::UndefinedTable, Code::NotFound),
            (ErrorKind::UndefinedSchema, Code::NotFound),
            (ErrorKind::UndefinedDatabase, Code::NotFound),
            (ErrorKind::UndefinedColumn, Code::InvalidArgument),
            (ErrorKind::DuplicateObject, Code::AlreadyExists),
            (ErrorKind::FeatureNotSupported, Code::Unimplemented),
            (ErrorKind::InvalidParameter, Code::InvalidArgument),
            (ErrorKind::DivisionByZero, Code::InvalidArgument),
            (ErrorKind::SerializationFailure, Code::Aborted),
            (ErrorKind::Canceled, Code::Cancelled),
            (ErrorKind::Timeout, Code::DeadlineExceeded),
            (ErrorKind::ResourcesExhausted, Code::ResourceExhausted),
            (ErrorKind::TooManyConnections, Code::ResourceExhausted),
            (ErrorKind::PermissionDenied, Code::PermissionDenied),
            (ErrorKind::AuthenticationFailed, Code::Unauthenticated),
            (ErrorKind::StorageIo, Code::Unavailable),
            (ErrorKind::CatalogUnavailable, Code::Unavailable),
            (ErrorKind::DataCorrupted, Code::DataLoss),
            (ErrorKind::MissingFile, Code::DataLoss),
            (ErrorKind::ReadOnlyTransaction, Code::FailedPrecondition),
            (ErrorKind::ProgramLimitExceeded, Code::ResourceExhausted),
            (ErrorKind::DatetimeOverflow, Code::InvalidArgument),
            (ErrorKind::Internal, Code::Internal),
        ];
        for (kind, code) in expected {
            assert_eq!(grpc_code(kind), code, "{kind:?}");
        }
        for kind in ErrorKind::ALL {
            let s = status(kind, "x");
            let carried = s.metadata().get(SQLSTATE_KEY).and_then(|v| v.to_str().ok());
            assert_eq!(carried, Some(sqlstate(kind)), "{kind:?}");
        }
    }

    #[test]
    fn internal_errors_are_masked() {
        let s = from_engine(&EngineError::Internal("secret path /etc/x".into()));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("/etc/x"));
    }
}
