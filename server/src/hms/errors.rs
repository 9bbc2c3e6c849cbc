//! Engine errors as the metastore's declared exceptions. Clients branch on the exception type
//! (Spark, Trino and pyiceberg on `NoSuchObjectException`, `AlreadyExistsException`), and an
//! ordinary error must never be a transport-level `TApplicationException`: Spark takes that
//! for a broken connection, reconnects and retries the call.

use tarn_engine::{EngineError, ErrorKind};

use super::idl::{Exc, Method};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// An exception of the IDL (its message).
    Exception(Exc, String),
    /// A method of the IDL tarn does not serve (answered with a `MetaException`).
    Unimplemented,
}

impl CallError {
    pub fn invalid(message: &str) -> Self {
        CallError::Exception(Exc::InvalidObject, message.to_string())
    }

    pub fn no_such(what: &str) -> Self {
        CallError::Exception(Exc::NoSuchObject, format!("{what} not found"))
    }

    pub fn meta(message: impl Into<String>) -> Self {
        CallError::Exception(Exc::Meta, message.into())
    }

    /// The error's message.
    pub fn message(&self) -> String {
        match self {
            CallError::Exception(_, message) => message.clone(),
            CallError::Unimplemented => "not implemented by tarn".into(),
        }
    }

    /// The exception and result field the method declares for this error: the closest
    /// declared kind, `MetaException` otherwise; `None` when the method declares neither.
    pub fn declared(&self, method: &Method) -> Option<(i16, Exc, String)> {
        let (exc, message) = match self {
            CallError::Exception(exc, message) => (*exc, message.clone()),
            CallError::Unimplemented => (Exc::Meta, "not implemented by tarn".to_string()),
        };
        let fallbacks: &[Exc] = match exc {
            Exc::NoSuchObject => &[
                Exc::NoSuchObject,
                Exc::UnknownTable,
                Exc::UnknownDb,
                Exc::InvalidObject,
            ],
            Exc::InvalidObject => &[Exc::InvalidObject, Exc::InvalidOperation, Exc::InvalidInput],
            Exc::InvalidOperation => &[Exc::InvalidOperation, Exc::InvalidObject],
            Exc::AlreadyExists => &[Exc::AlreadyExists],
            Exc::ConfigValSecurity => &[Exc::ConfigValSecurity],
            Exc::NoSuchLock => &[Exc::NoSuchLock],
            _ => &[],
        };
        fallbacks
            .iter()
            .chain([&exc, &Exc::Meta])
            .find_map(|e| method.field_of(*e).map(|id| (id, *e, message.clone())))
    }
}

/// The exception each engine error kind is reported as.
pub fn exception_for(kind: ErrorKind) -> Exc {
    match kind {
        ErrorKind::UndefinedTable
        | ErrorKind::UndefinedSchema
        | ErrorKind::UndefinedDatabase
        | ErrorKind::UndefinedObject
        | ErrorKind::UndefinedColumn => Exc::NoSuchObject,
        ErrorKind::DuplicateObject | ErrorKind::DuplicateSchema => Exc::AlreadyExists,
        ErrorKind::Syntax
        | ErrorKind::InvalidParameter
        | ErrorKind::DatatypeMismatch
        | ErrorKind::InvalidTextRepresentation
        | ErrorKind::InvalidStatement => Exc::InvalidObject,
        ErrorKind::DependentObjects | ErrorKind::FeatureNotSupported => Exc::InvalidOperation,
        _ => Exc::Meta,
    }
}

impl From<EngineError> for CallError {
    fn from(e: EngineError) -> Self {
        // SQL reports a missing partition as a bad parameter (22023); Hive clients branch on
        // NoSuchObjectException for it.
        let exc = match &e {
            EngineError::Catalog(tarn_engine::catalog::CatalogError::PartitionNotFound {
                ..
            }) => Exc::NoSuchObject,
            _ => exception_for(e.kind()),
        };
        CallError::Exception(exc, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hms::idl::method;

    #[test]
    fn kinds_map_to_the_exceptions_clients_branch_on() {
        let table = [
            (ErrorKind::UndefinedTable, Exc::NoSuchObject),
            (ErrorKind::UndefinedDatabase, Exc::NoSuchObject),
            (ErrorKind::UndefinedSchema, Exc::NoSuchObject),
            (ErrorKind::UndefinedObject, Exc::NoSuchObject),
            (ErrorKind::DuplicateObject, Exc::AlreadyExists),
            (ErrorKind::DuplicateSchema, Exc::AlreadyExists),
            (ErrorKind::InvalidParameter, Exc::InvalidObject),
            (ErrorKind::Syntax, Exc::InvalidObject),
            (ErrorKind::DependentObjects, Exc::InvalidOperation),
            (ErrorKind::FeatureNotSupported, Exc::InvalidOperation),
            (ErrorKind::PermissionDenied, Exc::Meta),
            (ErrorKind::SerializationFailure, Exc::Meta),
            (ErrorKind::CatalogUnavailable, Exc::Meta),
            (ErrorKind::StorageIo, Exc::Meta),
            (ErrorKind::Internal, Exc::Meta),
        ];
        for (kind, exc) in table {
            assert_eq!(exception_for(kind), exc, "{kind:?}");
        }
    }

    #[test]
    fn undeclared_exceptions_fall_back_to_declared_ones() {
        let no_such = CallError::no_such("t");
        // get_table declares NoSuchObjectException as field 2.
        assert_eq!(no_such.declared(method("get_table").unwrap()).unwrap().0, 2);
        // get_fields declares UnknownTableException (2) instead.
        let (id, exc, _) = no_such.declared(method("get_fields").unwrap()).unwrap();
        assert_eq!((id, exc), (2, Exc::UnknownTable));
        // get_databases declares only MetaException.
        let (id, exc, _) = no_such.declared(method("get_databases").unwrap()).unwrap();
        assert_eq!((id, exc), (1, Exc::Meta));
        // abort_txn declares neither: the caller answers with TApplicationException.
        assert!(
            CallError::meta("x")
                .declared(method("abort_txn").unwrap())
                .is_none()
        );
    }
}
