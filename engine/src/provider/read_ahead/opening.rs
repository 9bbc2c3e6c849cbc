//! Read-ahead from the first moment of execution.
//!
//! [`super::ReadAhead`] fetches ahead once a reader asks for its first row group, but a reader
//! exists only once its scan is polled: the probe side of a hash join waits for its build side,
//! a join nested in another for the outer one's build, the next file of a partition for the
//! previous one. On a store with 20–100 ms per request every such wait adds a round trip to the
//! query. [`arm`] runs when a statement starts executing (planning alone — a prepared
//! statement's Describe, EXPLAIN — fetches nothing) and gives every Parquet scan of an object
//! store its first row groups in flight at once: the first row group (projected columns) of the
//! first files of each partition, [`FILES_AHEAD`] files and [`AHEAD_BYTES`] per partition,
//! topped up as the scan's readers take them. Only footers already in DataFusion's cache (read
//! at planning) are used, so arming does no I/O of its own. What nobody takes (a LIMIT met, a
//! file or row group pruned at open) is aborted when the plan is dropped: bytes at most, never a
//! wrong read, since a reader checks every prefetched range against the request.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileScanConfig, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::ExecutionPlan;
use object_store::ObjectStore;
use object_store::path::Path;

use super::{
    AHEAD_BYTES, Ahead, Layout, ReadAheadFactory, cached_metadata, fetch_ahead, reading_through,
};

/// Files per partition whose first row group is fetched before their reader exists.
pub(crate) const FILES_AHEAD: usize = 4;

/// A file of a scan: its path and the byte range DataFusion assigned to one reader.
pub(super) type Key = (Path, Option<(u64, u64)>);

pub(super) fn key_of(file: &PartitionedFile) -> Key {
    let range = file.range.as_ref().map(|r| (r.start as u64, r.end as u64));
    (file.object_meta.location.clone(), range)
}

/// Files in the order the scan's partitions will open them, and how far ahead to fetch.
struct Queue {
    pending: VecDeque<PartitionedFile>,
    files_ahead: usize,
    bytes_ahead: u64,
    started: usize,
    bytes: u64,
}

impl Queue {
    fn new(pending: VecDeque<PartitionedFile>, partitions: usize, files_ahead: usize) -> Self {
        Self {
            pending,
            files_ahead: files_ahead * partitions,
            bytes_ahead: AHEAD_BYTES * partitions as u64,
            started: 0,
            bytes: 0,
        }
    }
}

/// A started fetch: its queue, its bytes.
struct Started {
    queue: usize,
    bytes: u64,
    ahead: Ahead,
}

#[derive(Default)]
struct State {
    queues: Vec<Queue>,
    started: HashMap<Key, Started>,
    /// Live readers per file: a fetch no reader of its file took is dropped with the last one.
    readers: HashMap<Key, usize>,
}

/// The early fetches of one scan.
pub(crate) struct Opening {
    store: Arc<dyn ObjectStore>,
    cache: Arc<FileMetadataCache>,
    io: tokio::runtime::Handle,
    /// The projected file columns (`None`: all).
    names: Option<Vec<String>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opening")
    }
}

impl Opening {
    fn start(
        store: Arc<dyn ObjectStore>,
        cache: Arc<FileMetadataCache>,
        io: tokio::runtime::Handle,
        names: Option<Vec<String>>,
        queues: Vec<Queue>,
    ) -> Arc<Self> {
        let opening = Self {
            store,
            cache,
            io,
            names,
            state: Mutex::new(State {
                queues,
                ..State::default()
            }),
        };
        {
            let mut state = opening.lock();
            for q in 0..state.queues.len() {
                opening.fill(&mut state, q);
            }
        }
        Arc::new(opening)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first row group of `file` in its range, projected columns, if its footer is cached.
    fn first_chunks(&self, file: &PartitionedFile, key: &Key) -> Option<(usize, Vec<Range<u64>>)> {
        let metadata = cached_metadata(&self.cache, &file.object_meta)?;
        let range = key.1.map(|(s, e)| s..e);
        let layout = Layout::of(&metadata, range.as_ref());
        let group = *layout.mine.first()?;
        let chunks = leaf_columns(&metadata, self.names.as_deref())
            .iter()
            .filter_map(|c| layout.chunks.get(group)?.get(*c).cloned())
            .collect();
        Some((group, chunks))
    }

    /// Starts the next files of queue `q` while it has room (always at least one).
    fn fill(&self, state: &mut State, q: usize) {
        let State {
            queues, started, ..
        } = state;
        let Some(queue) = queues.get_mut(q) else {
            return;
        };
        while queue.started < queue.files_ahead {
            let Some(file) = queue.pending.pop_front() else {
                break;
            };
            let key = key_of(&file);
            if started.contains_key(&key) {
                continue;
            }
            let Some((group, chunks)) = self.first_chunks(&file, &key) else {
                continue;
            };
            let bytes: u64 = chunks.iter().map(|c| c.end - c.start).sum();
            if queue.started > 0 && queue.bytes + bytes > queue.bytes_ahead {
                queue.pending.push_front(file);
                break;
            }
            queue.started += 1;
            queue.bytes += bytes;
            let ahead = fetch_ahead(&self.io, &self.store, &key.0, group, chunks);
            started.insert(
                key,
                Started {
                    queue: q,
                    bytes,
                    ahead,
                },
            );
        }
    }

    /// Forgets the started fetch of `file` (taken or dropped) and makes room in its queue.
    fn remove(&self, state: &mut State, file: &Key) -> Option<Ahead> {
        let started = state.started.remove(file)?;
        if let Some(queue) = state.queues.get_mut(started.queue) {
            queue.started = queue.started.saturating_sub(1);
            queue.bytes = queue.bytes.saturating_sub(started.bytes);
        }
        self.fill(state, started.queue);
        Some(started.ahead)
    }

    /// The early fetch of `file`, if one was started.
    pub(super) fn take(&self, file: &Key) -> Option<Ahead> {
        let mut state = self.lock();
        self.remove(&mut state, file)
    }

    /// A reader of `file` was created.
    pub(super) fn acquire(&self, file: &Key) {
        *self.lock().readers.entry(file.clone()).or_default() += 1;
    }

    /// A reader of `file` was dropped: with the last one, an early fetch none of them took
    /// (the file's row groups were all pruned, or it only read bloom filters) is aborted.
    pub(super) fn release(&self, file: &Key) {
        let mut state = self.lock();
        let Some(count) = state.readers.get_mut(file) else {
            return;
        };
        *count = count.saturating_sub(1);
        if *count == 0 {
            state.readers.remove(file);
            if let Some(ahead) = self.remove(&mut state, file) {
                ahead.abort.abort();
            }
        }
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        for started in self.lock().started.values() {
            started.ahead.abort.abort();
        }
    }
}

/// The leaf columns of `metadata` under the root columns named `names` (all with `None`).
fn leaf_columns(metadata: &ParquetMetaData, names: Option<&[String]>) -> Vec<usize> {
    let schema = metadata.file_metadata().schema_descr();
    (0..schema.num_columns())
        .filter(|&i| names.is_none_or(|n| n.iter().any(|n| n == schema.get_column_root(i).name())))
        .collect()
}

/// The scan's files in the order its partitions open them: one shared queue when DataFusion's
/// partitions steal files from each other (they then all take from the front of the file
/// groups laid end to end), else one queue per file group.
fn queues(config: &FileScanConfig, stealing: bool, files_ahead: usize) -> Vec<Queue> {
    let partitions = config.file_groups.len().max(1);
    if stealing && !config.preserve_order && config.output_partitioning.is_none() {
        let files = config
            .file_groups
            .iter()
            .flat_map(|g| g.iter())
            .cloned()
            .collect();
        let files = config.file_source().reorder_files(files);
        return vec![Queue::new(files.into(), partitions, files_ahead)];
    }
    config
        .file_groups
        .iter()
        .map(|g| Queue::new(g.iter().cloned().collect(), 1, files_ahead))
        .collect()
}

/// `plan` with its Parquet scans of object stores reading through a [`ReadAheadFactory`] whose
/// first row groups are already being fetched. Called when execution starts, on the runtime
/// that does I/O; a scan it cannot arm is left as it was.
pub(crate) fn arm(
    plan: Arc<dyn ExecutionPlan>,
    runtime: &RuntimeEnv,
    options: &ConfigOptions,
) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
    let Ok(io) = tokio::runtime::Handle::try_current() else {
        return Ok(plan);
    };
    let stealing = options.execution.enable_file_stream_work_stealing;
    let armed = plan.transform_up(|node| {
        let Some(config) = node
            .downcast_ref::<DataSourceExec>()
            .and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
        else {
            return Ok(Transformed::no(node));
        };
        let Some(source) = config.file_source().downcast_ref::<ParquetSource>() else {
            return Ok(Transformed::no(node));
        };
        let url = &config.object_store_url;
        if url.as_str().starts_with("file://") {
            return Ok(Transformed::no(node));
        }
        let Ok(store) = runtime.object_store(url) else {
            return Ok(Transformed::no(node));
        };
        let cache = runtime.cache_manager.get_file_metadata_cache();
        let file_schema = config.file_schema();
        let names = config.file_source().projection().map(|p| {
            p.column_indices()
                .into_iter()
                .filter_map(|i| file_schema.fields().get(i).map(|f| f.name().clone()))
                .collect()
        });
        let files_ahead = if config.limit.is_some() {
            1
        } else {
            FILES_AHEAD
        };
        let opening = Opening::start(
            store.clone(),
            cache.clone(),
            io.clone(),
            names,
            queues(config, stealing, files_ahead),
        );
        let factory = ReadAheadFactory::new(store, cache, io.clone()).with_opening(opening);
        Ok(Transformed::yes(reading_through(config, source, factory)))
    })?;
    Ok(armed.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::datasource::physical_plan::parquet::metadata::CachedParquetMetaData;
    use datafusion::execution::cache::cache_manager::CachedFileMetadataEntry;
    use datafusion::execution::cache::default_cache::DefaultCache;
    use object_store::memory::InMemory;
    use object_store::{ObjectMeta, PutPayload};

    /// Files `names`, each the test file of four row groups, with their footers cached.
    async fn files(
        names: &[&str],
    ) -> (
        Arc<dyn ObjectStore>,
        Arc<FileMetadataCache>,
        Vec<PartitionedFile>,
    ) {
        let (bytes, metadata) = super::super::tests::file();
        let metadata = Arc::new(CachedParquetMetaData::new(Arc::new(metadata)));
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let cache: Arc<FileMetadataCache> = Arc::new(DefaultCache::new(1 << 20));
        let mut out = Vec::new();
        for name in names {
            let location = Path::from(*name);
            let put = store
                .put_opts(
                    &location,
                    PutPayload::from(bytes.clone()),
                    Default::default(),
                )
                .await
                .unwrap();
            let meta = ObjectMeta {
                location: location.clone(),
                last_modified: chrono::Utc::now(),
                size: bytes.len() as u64,
                e_tag: put.e_tag,
                version: None,
            };
            cache.put(
                &location,
                CachedFileMetadataEntry::new(meta.clone(), metadata.clone()),
            );
            out.push(PartitionedFile::from(meta));
        }
        (store, cache, out)
    }

    fn started(opening: &Opening) -> Vec<String> {
        let mut names: Vec<String> = opening
            .lock()
            .started
            .keys()
            .map(|k| k.0.to_string())
            .collect();
        names.sort();
        names
    }

    fn key(name: &str) -> Key {
        (Path::from(name), None)
    }

    #[tokio::test]
    async fn each_queue_starts_its_first_files_and_tops_up_as_they_are_taken_or_dropped() {
        let (store, cache, all) = files(&["a0", "a1", "a2", "a3", "a4", "a5", "b0"]).await;
        let opening = Opening::start(
            store,
            cache,
            tokio::runtime::Handle::current(),
            Some(vec!["id".into()]),
            vec![
                Queue::new(all[..6].iter().cloned().collect(), 1, FILES_AHEAD),
                Queue::new(all[6..].iter().cloned().collect(), 1, FILES_AHEAD),
            ],
        );
        assert_eq!(started(&opening), ["a0", "a1", "a2", "a3", "b0"]);
        {
            let state = opening.lock();
            let early = &state.started[&key("a0")].ahead;
            assert_eq!(early.group, 0, "the first row group");
            assert_eq!(early.chunks.len(), 1, "the projected column only");
        }
        assert!(opening.take(&key("a1")).is_some());
        assert!(opening.take(&key("a1")).is_none(), "taken once");
        assert!(opening.take(&key("zz")).is_none());
        assert!(
            opening.take(&(Path::from("a0"), Some((0, 5)))).is_none(),
            "another reader's range"
        );
        assert_eq!(started(&opening), ["a0", "a2", "a3", "a4", "b0"]);
        // Two readers of a0 (DataFusion swaps readers after bloom filters); neither takes its
        // fetch: it goes with the last one, and the queue moves on.
        opening.acquire(&key("a0"));
        opening.acquire(&key("a0"));
        opening.release(&key("a0"));
        assert!(started(&opening).contains(&"a0".to_string()));
        opening.release(&key("a0"));
        assert_eq!(started(&opening), ["a2", "a3", "a4", "a5", "b0"]);
    }

    #[tokio::test]
    async fn a_shared_queue_caps_bytes_but_always_starts_one_file() {
        let (store, cache, all) = files(&["a0", "a1", "a2"]).await;
        let mut queue = Queue::new(all.into_iter().collect(), 2, FILES_AHEAD);
        assert_eq!(queue.files_ahead, 2 * FILES_AHEAD);
        queue.bytes_ahead = 1;
        let opening = Opening::start(
            store,
            cache,
            tokio::runtime::Handle::current(),
            None,
            vec![queue],
        );
        assert_eq!(started(&opening), ["a0"]);
        let early = opening.take(&key("a0")).unwrap();
        assert_eq!(early.chunks.len(), 2, "all columns");
        assert_eq!(started(&opening), ["a1"]);
    }
}
