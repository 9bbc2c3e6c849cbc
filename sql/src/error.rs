//! Errors from statement parsing.

pub type Result<T, E = SqlError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqlError {
    /// The text is not valid SQL; `line`/`column` are 1-based when known.
    #[error("syntax error at line {line}, column {column}: {message}")]
    Syntax {
        message: String,
        line: u64,
        column: u64,
    },
    /// Valid syntax tarn does not support (yet).
    #[error("not supported: {0}")]
    NotSupported(String),
}
