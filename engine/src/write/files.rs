//! Writing one data file: Parquet (zstd, configurable row groups) through the object store, or
//! CSV / newline-delimited JSON; statistics for the catalog's file index come from the writer.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::parquet::file::properties::WriterProperties;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tarn_catalog::{ColumnStats, DataFile, StorageFormat};
use tokio::io::AsyncWriteExt;

use crate::error::{EngineError, Result};

/// File layout settings (from TBLPROPERTIES).
#[derive(Debug, Clone)]
pub(crate) struct FileOptions {
    pub format: StorageFormat,
    pub target_file_size: usize,
    pub row_group_size: usize,
    pub zstd_level: i32,
    /// Past this the dictionary of a column is abandoned for plain encoding. Smaller than
    /// parquet-rs's 1 MiB default so near-unique columns (comments, keys) give up early instead of
    /// hashing every value first; low-cardinality columns stay dictionary-encoded.
    pub dictionary_page_size: usize,
}

impl FileOptions {
    pub fn from_table(format: &StorageFormat, params: &BTreeMap<String, String>) -> Result<Self> {
        let number = |key: &str, default: usize| -> Result<usize> {
            match params.get(key) {
                Some(v) => v.trim().parse().map_err(|_| {
                    EngineError::InvalidParameter(format!(
                        "table property {key}='{v}' is not a number"
                    ))
                }),
                None => Ok(default),
            }
        };
        let compression = params.get("parquet.compression").map(|s| s.to_lowercase());
        if let Some(c) = compression.as_deref().filter(|c| *c != "zstd") {
            return Err(EngineError::NotSupported(format!(
                "parquet.compression='{c}' (tarn writes zstd)"
            )));
        }
        Ok(Self {
            format: format.clone(),
            target_file_size: number("write.target-file-size-bytes", 256 << 20)?,
            row_group_size: number("parquet.row-group-size-rows", 1 << 20)?,
            zstd_level: number("parquet.compression.zstd.level", 3)? as i32,
            dictionary_page_size: number("parquet.dictionary-page-size-bytes", 64 << 10)?,
        })
    }
}

/// An open data file being written.
pub(crate) enum FileWriter {
    Parquet {
        writer: Box<AsyncArrowWriter<BufWriter>>,
        path: Path,
        location: String,
        rows: u64,
        store: Arc<dyn ObjectStore>,
    },
    Text {
        buffer: Vec<u8>,
        path: Path,
        location: String,
        rows: u64,
        json: bool,
        header: bool,
        delimiter: u8,
        store: Arc<dyn ObjectStore>,
    },
}

impl FileWriter {
    pub fn create(
        store: Arc<dyn ObjectStore>,
        path: Path,
        location: String,
        schema: SchemaRef,
        options: &FileOptions,
    ) -> Result<Self> {
        match &options.format {
            StorageFormat::Parquet => {
                let level = ZstdLevel::try_new(options.zstd_level).map_err(|e| {
                    EngineError::InvalidParameter(format!("zstd level {}: {e}", options.zstd_level))
                })?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(level))
                    .set_max_row_group_row_count(Some(options.row_group_size))
                    .set_dictionary_page_size_limit(options.dictionary_page_size)
                    .build();
                let sink = BufWriter::new(store.clone(), path.clone());
                let writer = AsyncArrowWriter::try_new(sink, schema, Some(props))
                    .map_err(|e| storage(&location, e))?;
                Ok(FileWriter::Parquet {
                    writer: Box::new(writer),
                    path,
                    location,
                    rows: 0,
                    store,
                })
            }
            StorageFormat::Csv { delimiter, header } => Ok(FileWriter::Text {
                buffer: Vec::new(),
                path,
                location,
                rows: 0,
                json: false,
                header: *header,
                delimiter: *delimiter,
                store,
            }),
            StorageFormat::Json => Ok(FileWriter::Text {
                buffer: Vec::new(),
                path,
                location,
                rows: 0,
                json: true,
                header: false,
                delimiter: b',',
                store,
            }),
            other @ (StorageFormat::Orc | StorageFormat::Iceberg) => {
                Err(crate::provider::unreadable(other))
            }
        }
    }

    /// Bytes written or buffered so far (for rolling to a new file).
    pub fn size(&self) -> usize {
        match self {
            FileWriter::Parquet { writer, .. } => {
                writer.bytes_written() + writer.in_progress_size()
            }
            FileWriter::Text { buffer, .. } => buffer.len(),
        }
    }

    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            FileWriter::Parquet {
                writer,
                location,
                rows,
                ..
            } => {
                writer
                    .write(batch)
                    .await
                    .map_err(|e| storage(location, e))?;
                *rows += batch.num_rows() as u64;
            }
            FileWriter::Text {
                buffer,
                rows,
                json,
                header,
                delimiter,
                ..
            } => {
                if *json {
                    let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut *buffer);
                    w.write(batch)?;
                    w.finish()?;
                } else {
                    let with_header = *header && *rows == 0;
                    let mut w = datafusion::arrow::csv::WriterBuilder::new()
                        .with_header(with_header)
                        .with_delimiter(*delimiter)
                        .build(&mut *buffer);
                    w.write(batch)?;
                }
                *rows += batch.num_rows() as u64;
            }
        }
        Ok(())
    }

    /// Finishes the file and describes it for the catalog.
    pub async fn finish(self, schema: &SchemaRef) -> Result<DataFile> {
        match self {
            FileWriter::Parquet {
                writer,
                path,
                location,
                rows,
                store,
            } => {
                let metadata = writer.close().await.map_err(|e| storage(&location, e))?;
                let size = store
                    .head(&path)
                    .await
                    .map_err(|e| storage(&location, e))?
                    .size;
                Ok(DataFile {
                    path: location,
                    size,
                    rows,
                    columns: column_stats(&metadata, schema),
                })
            }
            FileWriter::Text {
                buffer,
                path,
                location,
                rows,
                store,
                ..
            } => {
                let size = buffer.len() as u64;
                let mut sink = BufWriter::new(store, path);
                sink.write_all(&buffer)
                    .await
                    .map_err(|e| storage(&location, e))?;
                sink.shutdown().await.map_err(|e| storage(&location, e))?;
                Ok(DataFile {
                    path: location,
                    size,
                    rows,
                    columns: BTreeMap::new(),
                })
            }
        }
    }
}

fn storage(location: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Storage {
        location: location.to_string(),
        message: e.to_string(),
    }
}

/// Min / max / null count per column over all row groups, as text.
fn column_stats(metadata: &ParquetMetaData, schema: &SchemaRef) -> BTreeMap<String, ColumnStats> {
    let parquet_schema = metadata.file_metadata().schema_descr();
    let mut out = BTreeMap::new();
    for field in schema.fields() {
        let Ok(converter) = StatisticsConverter::try_new(field.name(), schema, parquet_schema)
        else {
            continue;
        };
        let groups = metadata.row_groups();
        let nulls = converter.row_group_null_counts(groups).ok();
        let null_count = nulls.map(|n| n.iter().flatten().sum::<u64>()).unwrap_or(0);
        let min = converter
            .row_group_mins(groups)
            .ok()
            .and_then(|a| extreme(&a, true));
        let max = converter
            .row_group_maxes(groups)
            .ok()
            .and_then(|a| extreme(&a, false));
        out.insert(
            field.name().clone(),
            ColumnStats {
                min,
                max,
                null_count,
            },
        );
    }
    out
}

/// The smallest (or largest) non-null value of per-row-group statistics, rendered as text.
fn extreme(values: &dyn Array, smallest: bool) -> Option<String> {
    let mut best: Option<ScalarValue> = None;
    for i in 0..values.len() {
        if values.is_null(i) {
            continue;
        }
        let v = ScalarValue::try_from_array(values, i).ok()?;
        best = match best {
            None => Some(v),
            Some(b) => {
                let better = if smallest { v < b } else { v > b };
                Some(if better { v } else { b })
            }
        };
    }
    best.map(|v| v.to_string())
}

/// Flushes written files (and the directories holding them) to stable storage before the
/// commit publishes them: a commit that survives a power loss must not point at files that did
/// not. Object stores acknowledge a PUT only once it is durable; local files need an fsync.
pub(crate) async fn make_durable(locations: &[String]) -> Result<()> {
    let local: Vec<std::path::PathBuf> = locations
        .iter()
        .filter(|l| l.starts_with('/'))
        .map(std::path::PathBuf::from)
        .collect();
    if local.is_empty() {
        return Ok(());
    }
    tokio::task::spawn_blocking(move || {
        let mut dirs = std::collections::BTreeSet::new();
        for file in &local {
            sync_path(file)?;
            // The file's directory, and its parent for a partition directory made by this write.
            let dir = file.parent();
            dirs.extend(dir.map(std::path::Path::to_path_buf));
            dirs.extend(
                dir.and_then(std::path::Path::parent)
                    .map(std::path::Path::to_path_buf),
            );
        }
        dirs.iter().try_for_each(|d| sync_path(d))
    })
    .await
    .map_err(|e| EngineError::Internal(format!("fsync task: {e}")))?
}

fn sync_path(path: &std::path::Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| EngineError::Storage {
            location: path.display().to_string(),
            message: format!("fsync: {e}"),
        })
}
