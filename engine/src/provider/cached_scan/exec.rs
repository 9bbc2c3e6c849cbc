//! [`CachedScanExec`]: runs the pieces planned in `cached_scan.rs`: cached runs become batches
//! (partition columns filled in), missing parts are read through DataFusion's Parquet reader and
//! kept by a [`Tee`] once read to their end.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::cast;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue, Statistics};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};

use super::{Layout, Piece};
use crate::provider::scan_cache::{CachedFile, FileKey, ScanCache, compact};

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
    pub(super) fn new(
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
    let missing = || DataFusionError::Internal(format!("scan cache: no batch {index}"));
    let rows = *file.batch_rows.get(index).ok_or_else(missing)?;
    let mut columns: Vec<Option<ArrayRef>> = vec![None; layout.schema.fields().len()];
    for ((position, _), arrays) in layout.data.iter().zip(&file.columns) {
        let array = arrays.get(index).ok_or_else(missing)?;
        if let Some(slot) = columns.get_mut(*position) {
            *slot = Some(array.clone());
        }
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
