//! The classification table: each error source maps to exactly one kind.

use datafusion::arrow::error::ArrowError;
use datafusion::common::{Column, DataFusionError, SchemaError};
use datafusion::sql::sqlparser::parser::ParserError;
use tarn_catalog::CatalogError;
use tarn_sql::SqlError;

use super::{EngineError, ErrorKind};

fn df(e: DataFusionError) -> EngineError {
    EngineError::DataFusion(e)
}

fn wrapped(e: EngineError) -> EngineError {
    // As our errors come back out of DataFusion planning and execution.
    EngineError::DataFusion(DataFusionError::Context(
        "while planning".into(),
        Box::new(e.into_datafusion()),
    ))
}

use datafusion::parquet::errors::ParquetError;

/// DataFusion's reader's wording for a footer it could not fetch.
fn fetch_failed(cause: DataFusionError) -> EngineError {
    df(DataFusionError::ParquetError(Box::new(
        ParquetError::General(format!(
            "Failed to fetch metadata for file t/x.parquet: {cause}"
        )),
    )))
}

#[test]
fn every_source_classifies() {
    let arrow = |e| df(DataFusionError::ArrowError(Box::new(e), None));
    let cases: Vec<(EngineError, ErrorKind)> = vec![
        (
            SqlError::Syntax {
                message: "x".into(),
                line: 1,
                column: 2,
            }
            .into(),
            ErrorKind::Syntax,
        ),
        (
            SqlError::NotSupported("x".into()).into(),
            ErrorKind::FeatureNotSupported,
        ),
        (
            CatalogError::DatabaseNotFound("d".into()).into(),
            ErrorKind::UndefinedSchema,
        ),
        (
            CatalogError::DatabaseExists("d".into()).into(),
            ErrorKind::DuplicateSchema,
        ),
        (
            CatalogError::DatabaseNotEmpty("d".into()).into(),
            ErrorKind::DependentObjects,
        ),
        (
            CatalogError::TableNotFound {
                db: "d".into(),
                table: "t".into(),
            }
            .into(),
            ErrorKind::UndefinedTable,
        ),
        (
            CatalogError::TableExists {
                db: "d".into(),
                table: "t".into(),
            }
            .into(),
            ErrorKind::DuplicateObject,
        ),
        (
            CatalogError::InvalidType {
                type_name: "x".into(),
                reason: "y".into(),
            }
            .into(),
            ErrorKind::DatatypeMismatch,
        ),
        (
            CatalogError::InvalidArgument("x".into()).into(),
            ErrorKind::InvalidParameter,
        ),
        (
            CatalogError::TaskFailed("x".into()).into(),
            ErrorKind::CatalogUnavailable,
        ),
        (
            CatalogError::Unavailable("connection refused".into()).into(),
            ErrorKind::CatalogUnavailable,
        ),
        (
            CatalogError::Storage("23505: duplicate key".into()).into(),
            ErrorKind::CatalogUnavailable,
        ),
        (
            CatalogError::CommitOutcomeUnknown("connection reset".into()).into(),
            ErrorKind::CatalogUnavailable,
        ),
        (
            EngineError::PermissionDenied("x".into()),
            ErrorKind::PermissionDenied,
        ),
        (
            EngineError::CorruptFile {
                path: "p".into(),
                message: "m".into(),
            },
            ErrorKind::DataCorrupted,
        ),
        (
            EngineError::Storage {
                location: "l".into(),
                message: "m".into(),
            },
            ErrorKind::StorageIo,
        ),
        (EngineError::Internal("x".into()), ErrorKind::Internal),
        (
            df(DataFusionError::SQL(
                Box::new(ParserError::ParserError("x".into())),
                None,
            )),
            ErrorKind::Syntax,
        ),
        (
            df(DataFusionError::Plan(
                "table 'tarn.default.nope' not found".into(),
            )),
            ErrorKind::UndefinedTable,
        ),
        (
            df(DataFusionError::Plan("Invalid function 'nope'".into())),
            ErrorKind::UndefinedFunction,
        ),
        (
            df(DataFusionError::Plan("something else".into())),
            ErrorKind::InvalidStatement,
        ),
        (
            df(DataFusionError::NotImplemented("x".into())),
            ErrorKind::FeatureNotSupported,
        ),
        (
            df(DataFusionError::ResourcesExhausted("x".into())),
            ErrorKind::ResourcesExhausted,
        ),
        (
            df(DataFusionError::Internal("x".into())),
            ErrorKind::Internal,
        ),
        (
            df(DataFusionError::SchemaError(
                Box::new(SchemaError::FieldNotFound {
                    field: Box::new(Column::from_name("c")),
                    valid_fields: vec![],
                }),
                Box::new(None),
            )),
            ErrorKind::UndefinedColumn,
        ),
        (arrow(ArrowError::DivideByZero), ErrorKind::DivisionByZero),
        (
            arrow(ArrowError::CastError("x".into())),
            ErrorKind::InvalidTextRepresentation,
        ),
        (
            arrow(ArrowError::CastError(
                "Can't cast value 300 to type Int8".into(),
            )),
            ErrorKind::NumericOverflow,
        ),
        (
            arrow(ArrowError::InvalidArgumentError(
                "123456 is too large to store in a Decimal128 of precision 5".into(),
            )),
            ErrorKind::NumericOverflow,
        ),
        (
            arrow(ArrowError::ArithmeticOverflow("x".into())),
            ErrorKind::NumericOverflow,
        ),
        (
            df(DataFusionError::Execution("Divide by zero error".into())),
            ErrorKind::DivisionByZero,
        ),
        (
            wrapped(EngineError::PermissionDenied("x".into())),
            ErrorKind::PermissionDenied,
        ),
        (
            wrapped(CatalogError::DatabaseNotFound("d".into()).into()),
            ErrorKind::UndefinedSchema,
        ),
        // A store failing under the Parquet reader is I/O; a bad footer is a bad file.
        (
            df(DataFusionError::ParquetError(Box::new(
                ParquetError::External(Box::new(object_store::Error::Generic {
                    store: "S3",
                    source: "connection reset".into(),
                })),
            ))),
            ErrorKind::StorageIo,
        ),
        (
            df(DataFusionError::ParquetError(Box::new(
                ParquetError::External(Box::new(object_store::Error::NotFound {
                    path: "x".into(),
                    source: "gone".into(),
                })),
            ))),
            ErrorKind::MissingFile,
        ),
        (
            df(DataFusionError::ParquetError(Box::new(
                ParquetError::General("Invalid Parquet file. Corrupt footer".into()),
            ))),
            ErrorKind::DataCorrupted,
        ),
        (
            fetch_failed(DataFusionError::ObjectStore(Box::new(
                object_store::Error::Generic {
                    store: "S3",
                    source: "timed out".into(),
                },
            ))),
            ErrorKind::StorageIo,
        ),
        (
            fetch_failed(DataFusionError::ObjectStore(Box::new(
                object_store::Error::NotFound {
                    path: "t/x.parquet".into(),
                    source: "gone".into(),
                },
            ))),
            ErrorKind::MissingFile,
        ),
        (
            fetch_failed(DataFusionError::ParquetError(Box::new(ParquetError::EOF(
                "short".into(),
            )))),
            ErrorKind::DataCorrupted,
        ),
    ];
    for (error, kind) in cases {
        assert_eq!(error.kind(), kind, "{error:?}");
    }
}

#[test]
fn own_errors_keep_their_message_through_datafusion() {
    let e = wrapped(EngineError::PermissionDenied(
        "location '/etc' is outside".into(),
    ));
    assert_eq!(e.message(), "permission denied: location '/etc' is outside");
    let syntax: EngineError = SqlError::Syntax {
        message: "m".into(),
        line: 3,
        column: 7,
    }
    .into();
    assert_eq!(syntax.position(), Some((3, 7)));
    let parser = EngineError::DataFusion(DataFusionError::SQL(
        Box::new(ParserError::ParserError(
            "Expected: x, found: y at Line: 2, Column: 15".into(),
        )),
        None,
    ));
    assert_eq!(parser.position(), Some((2, 15)));
}

#[test]
fn parser_positions_shift_to_the_statement_origin() {
    let parser = |m: &str| DataFusionError::SQL(Box::new(ParserError::ParserError(m.into())), None);
    let shifted = super::shift_position(
        parser("Expected: x, found: y at Line: 1, Column: 5"),
        (3, 10),
    );
    assert_eq!(shifted.position(), Some((3, 14)));
    assert!(
        shifted.message().ends_with("at Line: 3, Column: 14"),
        "{}",
        shifted.message()
    );
    let shifted = super::shift_position(
        parser("Expected: x, found: y at Line: 2, Column: 7"),
        (3, 10),
    );
    assert_eq!(shifted.position(), Some((4, 7)));
    let shifted = super::shift_position(parser("no position here"), (3, 10));
    assert_eq!(shifted.position(), None);
}
