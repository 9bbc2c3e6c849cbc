//! An object store that injects faults for tests and benchmarks: latency on every request,
//! writes that start failing after a budget, and counts of requests and bytes read. Wraps any
//! store (an in-process one by default).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    /// Per request, in microseconds (changeable while in use).
    latency_us: AtomicU64,
    /// Writes (puts, multipart uploads) still allowed; negative = unlimited.
    write_budget: AtomicI64,
    pub writes: AtomicU64,
    pub failed_writes: AtomicU64,
    /// GETs that completed; GETs started (completed, failed or dropped).
    pub gets: AtomicU64,
    pub get_starts: AtomicU64,
    pub get_bytes: AtomicU64,
    pub lists: AtomicU64,
    /// GETs running now, and the most that ever ran at once.
    in_flight: AtomicU64,
    pub max_in_flight: AtomicU64,
    fail_reads: std::sync::atomic::AtomicBool,
}

impl std::fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

impl FaultyStore {
    pub fn new(latency: Duration) -> Self {
        Self::wrapping(Arc::new(object_store::memory::InMemory::new()), latency)
    }

    pub fn wrapping(inner: Arc<dyn ObjectStore>, latency: Duration) -> Self {
        Self {
            inner,
            latency_us: AtomicU64::new(latency.as_micros() as u64),
            write_budget: AtomicI64::new(-1),
            writes: AtomicU64::new(0),
            failed_writes: AtomicU64::new(0),
            gets: AtomicU64::new(0),
            get_starts: AtomicU64::new(0),
            get_bytes: AtomicU64::new(0),
            lists: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            fail_reads: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// (GETs, bytes read, LISTs) since the last call.
    pub fn take_counts(&self) -> (u64, u64, u64) {
        (
            self.gets.swap(0, Ordering::SeqCst),
            self.get_bytes.swap(0, Ordering::SeqCst),
            self.lists.swap(0, Ordering::SeqCst),
        )
    }

    /// From now on, `n` more writes succeed and the rest (and deletes) fail (`None`: all
    /// succeed).
    pub fn fail_writes_after(&self, n: Option<i64>) {
        self.write_budget.store(n.unwrap_or(-1), Ordering::SeqCst);
    }

    /// GETs running now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// From now on every GET fails (or, with `false`, none).
    pub fn fail_reads(&self, fail: bool) {
        self.fail_reads.store(fail, Ordering::SeqCst);
    }

    /// Every request from now on waits `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.latency_us
            .store(latency.as_micros() as u64, Ordering::SeqCst);
    }

    fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::SeqCst))
    }

    async fn delay(&self) {
        let latency = self.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    fn admit_write(&self, location: &Path) -> Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let left = self
            .write_budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| {
                (b > 0).then(|| b - 1).or((b < 0).then_some(b))
            });
        match left {
            Ok(_) => Ok(()),
            Err(_) => {
                self.failed_writes.fetch_add(1, Ordering::SeqCst);
                Err(object_store::Error::Generic {
                    store: "faulty",
                    source: format!("injected write failure at {location}").into(),
                })
            }
        }
    }
}

/// Counts a GET as running until it ends or is dropped (an aborted prefetch).
struct InFlight<'a>(&'a AtomicU64);

impl<'a> InFlight<'a> {
    fn enter(store: &'a FaultyStore) -> Self {
        let now = store.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        store.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(&store.in_flight)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.delay().await;
        self.admit_write(location)?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.delay().await;
        self.admit_write(location)?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let _running = InFlight::enter(self);
        self.get_starts.fetch_add(1, Ordering::SeqCst);
        self.delay().await;
        if self.fail_reads.load(Ordering::SeqCst) {
            return Err(object_store::Error::Generic {
                store: "faulty",
                source: format!("injected read failure at {location}").into(),
            });
        }
        let result = self.inner.get_opts(location, options).await?;
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.get_bytes
            .fetch_add(result.range.end - result.range.start, Ordering::SeqCst);
        Ok(result)
    }

    /// Deletes fail too while writes do (an outage, not a quota): what a failed write wrote
    /// stays behind.
    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        if self.write_budget.load(Ordering::SeqCst) == 0 {
            return locations
                .map(|l| {
                    Err(object_store::Error::Generic {
                        store: "faulty",
                        source: format!("injected delete failure at {}", l?).into(),
                    })
                })
                .boxed();
        }
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        let latency = self.latency();
        let inner = self.inner.list(prefix);
        tokio::time::sleep(latency)
            .into_stream()
            .flat_map(move |_| futures::stream::empty::<Result<ObjectMeta>>())
            .chain(inner)
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.delay().await;
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.delay().await;
        self.admit_write(to)?;
        self.inner.copy_opts(from, to, options).await
    }
}
