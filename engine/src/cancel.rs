//! Cancellation and statement timeouts, enforced inside the result stream.
//!
//! A front end's cancel (pg CancelRequest, a Flight client going away) flips the session's current
//! token. The token and the statement deadline are checked both while a statement is planned and
//! while its stream is pulled, so a query that is deep inside a long aggregation stops at once:
//! dropping the DataFusion stream aborts its spawned tasks.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::{RecordBatchStream, SendableRecordBatchStream};
use futures::{FutureExt, Stream};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::error::{EngineError, Result};

/// Cancels whatever statement the session is running (nothing, if it is idle).
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    current: Arc<Mutex<CancellationToken>>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        if let Ok(token) = self.current.lock() {
            token.cancel();
        }
    }

    /// A fresh token for the next statement; an earlier cancel does not carry over.
    pub(crate) fn next_statement(&self, timeout: Option<Duration>) -> StatementGuard {
        let token = CancellationToken::new();
        if let Ok(mut current) = self.current.lock() {
            *current = token.clone();
        }
        StatementGuard {
            cancelled: Box::pin(token.cancelled_owned()),
            deadline: timeout.map(|d| Box::pin(tokio::time::sleep(d))),
            committing: Arc::new(AtomicBool::new(false)),
        }
    }
}

tokio::task_local! {
    /// The running statement's point-of-no-return flag, for the task that runs it: a session
    /// may run several statements at once (Flight), so the flag travels with the statement's
    /// future, not through the session's shared handle.
    static COMMITTING: Arc<AtomicBool>;
}

/// The statement running in this task starts its commit: from now on a cancel or timeout no
/// longer stops it, so the client learns the commit's real outcome (a commit that lands is
/// never reported as 57014, and a 57014 always means nothing landed).
pub(crate) fn point_of_no_return() {
    let _ = COMMITTING.try_with(|flag| flag.store(true, Ordering::SeqCst));
}

/// The cancel and timeout watch of one statement.
pub(crate) struct StatementGuard {
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set at the statement's commit: cancel and timeout stop being honoured.
    committing: Arc<AtomicBool>,
}

impl StatementGuard {
    /// `Some(error)` once the statement must stop.
    fn poll_stop(&mut self, cx: &mut Context<'_>) -> Option<EngineError> {
        if self.committing.load(Ordering::SeqCst) {
            return None;
        }
        if self.cancelled.as_mut().poll(cx).is_ready() {
            return Some(EngineError::Canceled);
        }
        let deadline = self.deadline.as_mut()?;
        deadline
            .as_mut()
            .poll(cx)
            .is_ready()
            .then_some(EngineError::Timeout)
    }

    /// Runs `work` unless the statement is cancelled or times out first.
    pub(crate) async fn run<T>(
        &mut self,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let mut work = std::pin::pin!(COMMITTING.scope(self.committing.clone(), work));
        std::future::poll_fn(|cx| {
            if let Some(e) = self.poll_stop(cx) {
                return Poll::Ready(Err(e));
            }
            work.poll_unpin(cx)
        })
        .await
    }

    /// Wraps a result stream so that it ends with the cancel/timeout error.
    pub(crate) fn guard_stream(
        self,
        inner: SendableRecordBatchStream,
    ) -> SendableRecordBatchStream {
        Box::pin(GuardedStream {
            schema: inner.schema(),
            inner: Some(inner),
            guard: self,
        })
    }
}

struct GuardedStream {
    schema: SchemaRef,
    /// Dropped as soon as the statement stops, which aborts its DataFusion tasks.
    inner: Option<SendableRecordBatchStream>,
    guard: StatementGuard,
}

impl Stream for GuardedStream {
    type Item = datafusion::error::Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if let Some(e) = this.guard.poll_stop(cx) {
            this.inner = None;
            return Poll::Ready(Some(Err(DataFusionError::External(Box::new(e)))));
        }
        let next = inner.as_mut().poll_next(cx);
        if matches!(next, Poll::Ready(None)) {
            this.inner = None;
        }
        next
    }
}

impl RecordBatchStream for GuardedStream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

#[cfg(test)]
mod point_of_no_return {
    use super::*;

    #[tokio::test]
    async fn a_cancel_stops_a_statement_only_before_its_commit() {
        let handle = CancelHandle::default();
        let mut guard = handle.next_statement(None);
        let h = handle.clone();
        let work = async move {
            h.cancel();
            tokio::task::yield_now().await;
            Ok(7)
        };
        assert!(matches!(guard.run(work).await, Err(EngineError::Canceled)));
        let mut guard = handle.next_statement(Some(Duration::from_millis(1)));
        let h = handle.clone();
        let work = async move {
            point_of_no_return();
            h.cancel();
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(7)
        };
        assert_eq!(
            guard.run(work).await.unwrap(),
            7,
            "the commit's outcome is reported"
        );
    }
}
