//! [`CachedScanExec`]: a Parquet scan served from, or filling, the [`ScanCache`].
//!
//! Files are cached in parts (byte ranges of about [`PART_BYTES`]). A scan whose parts are all
//! cached becomes a walk over cached arrays, spread evenly over the target partitions. A scan
//! with misses reads them part by part through DataFusion's Parquet reader (parts spread over
//! the partitions, so one big file is still read in parallel) and keeps what it read, but only
//! when it reads whole files: without row filters (which would let Parquet prune row groups
//! first) and without a limit. Every other scan stays DataFusion's plain one.
//!
//! Row filters stay in the FilterExec above this node (the table pushes them down only as
//! Inexact), so serving whole cached files is always correct.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, ScalarValue, Statistics};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::{DataSource, DataSourceExec};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};

use super::scan_cache::{CachedFile, FileKey, PART_BYTES, ScanCache, compact, parts};

/// What a scan asks for, as the table knows it.
pub(crate) struct ScanRequest<'a> {
    pub store_key: &'a str,
    /// Table-schema indices of the output columns (`None`: all).
    pub projection: Option<&'a Vec<usize>>,
    /// Number of file (non-partition) columns in the table schema.
    pub file_columns: usize,
    /// Whether the query filters on data columns (Parquet could prune row groups).
    pub row_filters: bool,
    pub limit: Option<usize>,
    pub target_partitions: usize,
}

/// Where each output column comes from.
struct Layout {
    schema: SchemaRef,
    /// (output position, file column index)
    data: Vec<(usize, usize)>,
    /// (output position, partition value index)
    partition: Vec<(usize, usize)>,
}

/// One unit of a partition's work.
#[derive(Clone)]
enum Piece {
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
                    FileKey::new(request.store_key, &f.object_meta, range),
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
        // A LIMIT reads little; a row filter may let Parquet skip most row groups, so such a
        // scan fills the cache only when the same parts were asked for before (hot data).
        if request.limit.is_some() || (request.row_filters && !cache.touch(&misses)) {
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

/// Files named in EXPLAIN at most.
const SHOWN_FILES: usize = 20;

/// A scan of Parquet files through the decoded-column cache.
pub struct CachedScanExec {
    /// The files scanned (for EXPLAIN).
    locations: Vec<String>,
    pieces: Vec<Vec<Piece>>,
    template: FileScanConfig,
    layout: Arc<Layout>,
    cache: Arc<ScanCache>,
    statistics: Arc<Statistics>,
    properties: Arc<PlanProperties>,
}

impl CachedScanExec {
    fn new(
        locations: Vec<String>,
        pieces: Vec<Vec<Piece>>,
        template: FileScanConfig,
        layout: Layout,
        cache: Arc<ScanCache>,
        statistics: Arc<Statistics>,
    ) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(layout.schema.clone()),
            Partitioning::UnknownPartitioning(pieces.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            locations,
            pieces,
            template,
            layout: Arc::new(layout),
            cache,
            statistics,
            properties: Arc::new(properties),
        }
    }

    fn cached_files(&self) -> usize {
        self.pieces
            .iter()
            .flatten()
            .filter(|p| matches!(p, Piece::Cached { .. }))
            .count()
    }
}

impl fmt::Debug for CachedScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CachedScanExec({} partitions)", self.pieces.len())
    }
}

impl DisplayAs for CachedScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let cached = self.cached_files();
        let pieces: usize = self.pieces.iter().map(Vec::len).sum();
        write!(
            f,
            "CachedScanExec: partitions={}, cached_runs={cached}, parts_to_read={}, files=[",
            self.pieces.len(),
            pieces - cached
        )?;
        for (i, location) in self.locations.iter().take(SHOWN_FILES).enumerate() {
            let comma = if i == 0 { "" } else { ", " };
            write!(f, "{comma}{location}")?;
        }
        if self.locations.len() > SHOWN_FILES {
            write!(f, ", …{} more", self.locations.len() - SHOWN_FILES)?;
        }
        write!(f, "]")
    }
}

impl ExecutionPlan for CachedScanExec {
    fn name(&self) -> &str {
        "CachedScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let pieces = self.pieces.get(partition).cloned().unwrap_or_default();
        let layout = self.layout.clone();
        let template = self.template.clone();
        let cache = self.cache.clone();
        let stream = futures::stream::iter(pieces)
            .map(move |piece| open(piece, &layout, &template, &cache, &context))
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.layout.schema.clone(),
            stream,
        )))
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        args: &datafusion::physical_plan::statistics::StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(match args.partition() {
            None => self.statistics.clone(),
            Some(_) => Arc::new(Statistics::new_unknown(&self.layout.schema)),
        })
    }
}

type BatchStream = BoxStream<'static, Result<RecordBatch>>;

fn open(
    piece: Piece,
    layout: &Arc<Layout>,
    template: &FileScanConfig,
    cache: &Arc<ScanCache>,
    context: &Arc<TaskContext>,
) -> Result<BatchStream> {
    match piece {
        Piece::Cached {
            file,
            values,
            batches,
        } => {
            let layout = layout.clone();
            let out = batches.map(move |i| cached_batch(&layout, &file, &values, i));
            Ok(futures::stream::iter(out).boxed())
        }
        Piece::Read { file, key } => {
            let config = FileScanConfigBuilder::from(template.clone())
                .with_file_groups(vec![FileGroup::new(vec![file])])
                .with_limit(None)
                .build();
            let stream = DataSourceExec::from_data_source(config).execute(0, context.clone())?;
            Ok(Tee::new(stream, key, layout.clone(), cache.clone()).boxed())
        }
    }
}

/// Batch `index` of a cached file, with its partition columns filled in.
fn cached_batch(
    layout: &Layout,
    file: &CachedFile,
    values: &[ScalarValue],
    index: usize,
) -> Result<RecordBatch> {
    let rows = file.batch_rows[index];
    let mut columns: Vec<Option<ArrayRef>> = vec![None; layout.schema.fields().len()];
    for ((position, _), arrays) in layout.data.iter().zip(&file.columns) {
        columns[*position] = Some(arrays[index].clone());
    }
    for (position, value_index) in &layout.partition {
        let field = layout.schema.field(*position);
        let value = values
            .get(*value_index)
            .cloned()
            .unwrap_or(ScalarValue::Null);
        let mut array = value.to_array_of_size(rows)?;
        if array.data_type() != field.data_type() {
            array = cast(&array, field.data_type())?;
        }
        columns[*position] = Some(array);
    }
    let columns: Vec<ArrayRef> = columns.into_iter().flatten().collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        layout.schema.clone(),
        columns,
        &options,
    )?)
}

/// Passes a file's batches through and, when the file has been read to its end without an
/// error, keeps its data columns in the cache.
struct Tee {
    inner: SendableRecordBatchStream,
    key: FileKey,
    layout: Arc<Layout>,
    cache: Arc<ScanCache>,
    /// `None` once the file is known not to be kept (error, too big).
    kept: Option<Kept>,
}

#[derive(Default)]
struct Kept {
    batch_rows: Vec<usize>,
    columns: Vec<Vec<ArrayRef>>,
    bytes: usize,
}

impl Tee {
    fn new(
        inner: SendableRecordBatchStream,
        key: FileKey,
        layout: Arc<Layout>,
        cache: Arc<ScanCache>,
    ) -> Self {
        let kept = Kept {
            columns: vec![vec![]; layout.data.len()],
            ..Kept::default()
        };
        Self {
            inner,
            key,
            layout,
            cache,
            kept: Some(kept),
        }
    }

    fn keep(&mut self, batch: &RecordBatch) {
        let Some(kept) = &mut self.kept else {
            return;
        };
        kept.batch_rows.push(batch.num_rows());
        for ((position, _), arrays) in self.layout.data.iter().zip(&mut kept.columns) {
            let array = compact(batch.column(*position));
            kept.bytes += array.get_array_memory_size();
            arrays.push(array);
        }
        if !self.cache.admits(kept.bytes) {
            self.kept = None;
        }
    }

    fn finish(&mut self) {
        if let Some(kept) = self.kept.take() {
            let columns = self
                .layout
                .data
                .iter()
                .map(|(_, c)| *c)
                .zip(kept.columns)
                .collect();
            self.cache
                .insert(self.key.clone(), kept.batch_rows, columns);
        }
    }
}

impl Stream for Tee {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.poll_next_unpin(cx);
        match &polled {
            Poll::Ready(Some(Ok(batch))) => self.keep(batch),
            Poll::Ready(Some(Err(_))) => self.kept = None,
            Poll::Ready(None) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }
}
