//! [`CachedScanExec`]: a Parquet scan served from, or filling, the [`ScanCache`].
//!
//! Files are cached in parts (byte ranges of about [`PART_BYTES`]). A scan whose parts are all
//! cached becomes a walk over cached arrays, spread evenly over the target partitions. A scan
//! with misses reads them part by part through DataFusion's Parquet reader (parts spread over
//! the partitions, so one big file is still read in parallel) and keeps what it read, but only
//! when the same parts were missed before (hot data) and the scan has no LIMIT. Every other
//! scan stays DataFusion's plain one, with Parquet's row-group pruning.
//!
//! Row filters stay in the FilterExec above this node (the table pushes them down only as
//! Inexact), so serving whole cached files is always correct.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::{DataSource, DataSourceExec};
use datafusion::physical_plan::ExecutionPlan;

use super::scan_cache::{CachedFile, FileKey, PART_BYTES, ScanCache, parts};

mod exec;
pub use exec::CachedScanExec;

/// What a scan asks for, as the table knows it.
pub(crate) struct ScanRequest<'a> {
    pub store_key: &'a str,
    /// Table-schema indices of the output columns (`None`: all).
    pub projection: Option<&'a Vec<usize>>,
    /// Number of file (non-partition) columns in the table schema.
    pub file_columns: usize,
    /// [`super::scan_cache::schema_id`] of the table's file schema.
    pub schema_id: u64,
    pub limit: Option<usize>,
    pub target_partitions: usize,
}

/// Where each output column comes from.
pub(crate) struct Layout {
    schema: SchemaRef,
    /// (output position, file column index)
    data: Vec<(usize, usize)>,
    /// (output position, partition value index)
    partition: Vec<(usize, usize)>,
}

/// One unit of a partition's work. (Both variants are built once per file part per scan and
/// moved, never stored in bulk: boxing the larger one would only add an allocation.)
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Piece {
    Cached {
        file: CachedFile,
        values: Vec<ScalarValue>,
        batches: std::ops::Range<usize>,
    },
    Read {
        file: PartitionedFile,
        key: FileKey,
    },
}

/// `plan` (DataFusion's scan of a Parquet table) served through the cache where it can be.
pub(crate) fn with_scan_cache(
    plan: Arc<dyn ExecutionPlan>,
    cache: &Arc<ScanCache>,
    request: &ScanRequest<'_>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let Some(config) = file_scan_config(&plan) else {
        return Ok(plan);
    };
    let layout = layout(plan.schema(), request);
    let files: Vec<&PartitionedFile> = config.file_groups.iter().flat_map(|g| g.iter()).collect();
    if !cache.enabled() || layout.data.is_empty() || files.iter().any(|f| f.range.is_some()) {
        return Ok(plan);
    }
    let columns: Vec<usize> = layout.data.iter().map(|(_, c)| *c).collect();
    let file_parts: Vec<(&PartitionedFile, FileKey, (u64, u64))> = files
        .iter()
        .flat_map(|f| {
            parts(f.object_meta.size).into_iter().map(move |range| {
                (
                    *f,
                    FileKey::new(request.store_key, &f.object_meta, range, request.schema_id),
                    range,
                )
            })
        })
        .collect();
    let looked_up: Vec<Lookup> = file_parts
        .into_iter()
        .map(|(f, key, range)| match cache.get(&key, &columns) {
            Some(cached) => Lookup::Hit(cached, f.partition_values.clone()),
            None => Lookup::Miss(f.clone(), key, range),
        })
        .collect();
    let misses: Vec<&FileKey> = looked_up
        .iter()
        .filter_map(|l| match l {
            Lookup::Miss(_, key, _) => Some(key),
            Lookup::Hit(..) => None,
        })
        .collect();
    let pieces = if misses.is_empty() {
        spread(looked_up, request.target_partitions)
    } else {
        // Only data asked for again is worth keeping: filling costs a one-off scan about
        // twice its plain time (fresh memory), and a row filter would otherwise let Parquet
        // skip row groups. So the first miss is a plain scan, like PostgreSQL's ring buffer
        // for big sequential scans; a LIMIT reads little and never fills.
        if request.limit.is_some() || !cache.touch(&misses) {
            return Ok(plan);
        }
        deal(looked_up, request.target_partitions)
    };
    let statistics = config.partition_statistics(None)?;
    let locations = files
        .iter()
        .map(|f| f.object_meta.location.to_string())
        .collect();
    Ok(Arc::new(CachedScanExec::new(
        locations,
        pieces,
        config.clone(),
        layout,
        cache.clone(),
        statistics,
    )))
}

/// A part of a file, found in the cache or not.
#[allow(clippy::large_enum_variant)]
enum Lookup {
    Hit(CachedFile, Vec<ScalarValue>),
    Miss(PartitionedFile, FileKey, (u64, u64)),
}

/// Parts dealt round-robin over `n` partitions: cached ones whole, missing ones to be read
/// (one big file's parts land in different partitions and are read in parallel).
fn deal(parts: Vec<Lookup>, n: usize) -> Vec<Vec<Piece>> {
    let n = n.clamp(1, parts.len().max(1));
    let mut partitions: Vec<Vec<Piece>> = vec![vec![]; n];
    for (i, part) in parts.into_iter().enumerate() {
        let piece = match part {
            Lookup::Hit(file, values) => Piece::Cached {
                batches: 0..file.batch_rows.len(),
                file,
                values,
            },
            Lookup::Miss(mut file, key, (start, end)) => {
                if file.object_meta.size > PART_BYTES {
                    file = file.with_range(start as i64, end as i64);
                }
                Piece::Read { file, key }
            }
        };
        partitions[i % n].push(piece);
    }
    partitions
}

fn file_scan_config(plan: &Arc<dyn ExecutionPlan>) -> Option<&FileScanConfig> {
    let exec = plan.downcast_ref::<DataSourceExec>()?;
    exec.data_source().downcast_ref::<FileScanConfig>()
}

fn layout(schema: SchemaRef, request: &ScanRequest<'_>) -> Layout {
    let indices: Vec<usize> = match request.projection {
        Some(p) => p.clone(),
        None => (0..schema.fields().len()).collect(),
    };
    let mut data = vec![];
    let mut partition = vec![];
    for (position, index) in indices.into_iter().enumerate() {
        if index < request.file_columns {
            data.push((position, index));
        } else {
            partition.push((position, index - request.file_columns));
        }
    }
    Layout {
        schema,
        data,
        partition,
    }
}

/// Cached parts cut into `n` runs of about as many batches each, file order kept.
fn spread(parts: Vec<Lookup>, n: usize) -> Vec<Vec<Piece>> {
    let hits: Vec<(CachedFile, Vec<ScalarValue>)> = parts
        .into_iter()
        .filter_map(|p| match p {
            Lookup::Hit(file, values) => Some((file, values)),
            Lookup::Miss(..) => None,
        })
        .collect();
    let total: usize = hits.iter().map(|(f, _)| f.batch_rows.len()).sum();
    let n = n.clamp(1, total.max(1));
    let per_partition = total.div_ceil(n);
    let mut partitions: Vec<Vec<Piece>> = vec![vec![]];
    let mut room = per_partition;
    for (file, values) in hits {
        let mut start = 0;
        let count = file.batch_rows.len();
        while start < count {
            if room == 0 {
                partitions.push(vec![]);
                room = per_partition;
            }
            let end = count.min(start + room);
            room -= end - start;
            if let Some(current) = partitions.last_mut() {
                current.push(Piece::Cached {
                    file: file.clone(),
                    values: values.clone(),
                    batches: start..end,
                });
            }
            start = end;
        }
    }
    partitions
}
