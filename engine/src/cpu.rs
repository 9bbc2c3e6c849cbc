//! A separate runtime for query execution: result streams are pulled by a task on the CPU
//! runtime and handed to the caller (a connection on the I/O runtime) through a bounded
//! channel, so long aggregations never occupy the threads that accept connections, parse
//! messages and write sockets. DataFusion's own spawned tasks (repartitioning, parallel scans)
//! start from the pulling task and therefore run on the CPU runtime too.

use std::sync::Arc;

use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream, execute_stream};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};

/// Batches in flight between the CPU runtime and the consumer (backpressure beyond).
const CHANNEL_BATCHES: usize = 2;

/// The execution runtime. Dropped without blocking (it may be dropped inside async code).
pub(crate) struct CpuRuntime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for CpuRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CpuRuntime")
    }
}

impl CpuRuntime {
    pub(crate) fn new(threads: usize) -> Result<Arc<Self>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("tarn-cpu")
            .enable_all()
            .build()
            .map_err(|e| EngineError::Internal(format!("cannot start the CPU runtime: {e}")))?;
        Ok(Arc::new(Self {
            runtime: Some(runtime),
        }))
    }

    /// Executes a physical plan on the CPU runtime; the returned stream yields its batches.
    /// `ExecutionPlan::execute` itself runs there too, because DataFusion operators spawn their
    /// input tasks when executed (CoalescePartitionsExec) or first polled (RepartitionExec), on
    /// whichever runtime does it. Dropping the returned stream stops the pulling task, which
    /// drops (and so cancels) the plan's streams and tasks.
    pub(crate) fn execute(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let Some(runtime) = &self.runtime else {
            return Ok(execute_stream(plan, context)?);
        };
        let schema = plan.schema();
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        runtime.spawn(async move {
            let mut stream = match execute_stream(plan, context) {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            loop {
                let next = tokio::select! {
                    next = stream.next() => next,
                    _ = tx.closed() => return,
                };
                let Some(item) = next else { return };
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        });
        let batches = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .map(|item: std::result::Result<_, DataFusionError>| item);
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }
}

/// Whether a plan scans files (the work worth moving to the CPU runtime).
pub(crate) fn reads_files(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let scans_files = plan.downcast_ref::<DataSourceExec>().is_some_and(|exec| {
        exec.data_source()
            .downcast_ref::<FileScanConfig>()
            .is_some()
    });
    scans_files || plan.children().into_iter().any(reads_files)
}

impl Drop for CpuRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
