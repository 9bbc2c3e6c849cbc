//! Read errors that name the file.
//!
//! DataFusion's Parquet reader already names the file when its footer is unreadable, but CSV and
//! JSON decoders report only "incorrect number of fields for line 1". This wraps a scan's file
//! source so that every error raised while opening or decoding a file is reported as
//! [`EngineError::CorruptFile`] with the object's path (I/O errors keep their own kind).

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan, PhysicalExpr};
use futures::{FutureExt, StreamExt, TryFutureExt};
use object_store::ObjectStore;

use crate::error::EngineError;

/// Wraps the file source of a `DataSourceExec` scan; other plans are returned unchanged.
pub(crate) fn name_files_in_errors(plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    let Some(exec) = plan.downcast_ref::<DataSourceExec>() else {
        return plan;
    };
    let Some(config) = exec.data_source().downcast_ref::<FileScanConfig>() else {
        return plan;
    };
    let source = Arc::new(NamingSource {
        inner: config.file_source().clone(),
    });
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(source)
        .build();
    DataSourceExec::from_data_source(config)
}

/// Whether an error is about the file's content (as opposed to I/O or cancellation).
fn is_content_error(e: &DataFusionError) -> bool {
    use datafusion::arrow::error::ArrowError as A;
    match e.find_root() {
        DataFusionError::ArrowError(a, _) => matches!(
            a.as_ref(),
            A::CsvError(_)
                | A::JsonError(_)
                | A::ParseError(_)
                | A::CastError(_)
                | A::SchemaError(_)
                | A::InvalidArgumentError(_)
                | A::ParquetError(_)
        ),
        DataFusionError::ParquetError(_) => true,
        _ => false,
    }
}

fn name_error(path: &str, e: DataFusionError) -> DataFusionError {
    if !is_content_error(&e) {
        return e;
    }
    let message = match e.find_root() {
        DataFusionError::ArrowError(a, _) => a.to_string(),
        other => other.message().into_owned(),
    };
    EngineError::CorruptFile {
        path: path.to_string(),
        message,
    }
    .into_datafusion()
}

struct NamingOpener {
    inner: Arc<dyn FileOpener>,
}

impl FileOpener for NamingOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let path = file.object_meta.location.to_string();
        let opened = self.inner.open(file).map_err(|e| name_error(&path, e))?;
        let stream_path = path.clone();
        Ok(opened
            .map_err(move |e| name_error(&path, e))
            .map(move |result| {
                result.map(|stream| {
                    stream
                        .map(move |batch| batch.map_err(|e| name_error(&stream_path, e)))
                        .boxed()
                })
            })
            .boxed())
    }
}

/// A file source that delegates everything and wraps its openers.
struct NamingSource {
    inner: Arc<dyn FileSource>,
}

impl NamingSource {
    fn wrap(inner: Arc<dyn FileSource>) -> Arc<dyn FileSource> {
        Arc::new(NamingSource { inner })
    }
}

impl FileSource for NamingSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let inner = self
            .inner
            .create_file_opener(object_store, base_config, partition)?;
        Ok(Arc::new(NamingOpener { inner }))
    }

    fn table_schema(&self) -> &TableSchema {
        self.inner.table_schema()
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        Self::wrap(self.inner.with_batch_size(batch_size))
    }

    fn filter(&self) -> Option<Arc<dyn PhysicalExpr>> {
        self.inner.filter()
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        self.inner.projection()
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        self.inner.metrics()
    }

    fn file_type(&self) -> &str {
        self.inner.file_type()
    }

    fn fmt_extra(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.fmt_extra(t, f)
    }

    fn supports_repartitioning(&self) -> bool {
        self.inner.supports_repartitioning()
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        Ok(self
            .inner
            .try_pushdown_projection(projection)?
            .map(Self::wrap))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }
}
