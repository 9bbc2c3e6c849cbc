//! File formats and object locations.

use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::path::Path;
use tarn_catalog::StorageFormat;
use url::Url;

use crate::error::{EngineError, Result};

/// The DataFusion file format for a table, with the session's format options applied.
/// Formats tarn cannot read (ORC tables other engines registered) are a clear error.
pub(crate) fn file_format(
    format: &StorageFormat,
    state: &dyn Session,
) -> Result<Arc<dyn FileFormat>> {
    let options = state.table_options();
    Ok(match format {
        StorageFormat::Parquet => {
            Arc::new(ParquetFormat::default().with_options(options.parquet.clone()))
        }
        StorageFormat::Csv { delimiter, header } => Arc::new(
            CsvFormat::default()
                .with_options(options.csv.clone())
                .with_delimiter(*delimiter)
                .with_has_header(*header),
        ),
        StorageFormat::Json => Arc::new(JsonFormat::default().with_options(options.json.clone())),
        StorageFormat::Orc | StorageFormat::Iceberg => return Err(unreadable(format)),
    })
}

/// ORC and Iceberg tables are registered and served to other engines, but tarn reads only
/// Parquet, CSV and JSON files.
pub(crate) fn unreadable(format: &StorageFormat) -> EngineError {
    let what = match format {
        StorageFormat::Iceberg => "Iceberg tables (read it with an Iceberg engine",
        _ => "ORC files (the table is registered for other engines",
    };
    EngineError::NotSupported(format!(
        "reading or writing {what}; tarn reads Parquet, CSV and JSON)"
    ))
}

/// Splits a stored location (absolute path or URL) into its object store and path.
pub(crate) fn parse_location(location: &str) -> Result<(ObjectStoreUrl, Path)> {
    if location.starts_with('/') {
        let path = Path::from_absolute_path(location).map_err(|e| bad_location(location, e))?;
        return Ok((ObjectStoreUrl::local_filesystem(), path));
    }
    let url = Url::parse(location).map_err(|e| bad_location(location, e))?;
    if url.scheme() == "file" {
        let path = Path::from_url_path(url.path()).map_err(|e| bad_location(location, e))?;
        return Ok((ObjectStoreUrl::local_filesystem(), path));
    }
    let store = ObjectStoreUrl::parse(&url[..url::Position::BeforePath])
        .map_err(EngineError::DataFusion)?;
    let path = Path::from_url_path(url.path()).map_err(|e| bad_location(location, e))?;
    Ok((store, path))
}

fn bad_location(location: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidParameter(format!("invalid location '{location}': {e}"))
}
