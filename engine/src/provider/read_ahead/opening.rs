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

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileScanConfig, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::ExecutionPlan;
use object_store::ObjectStore;
use object_store::path::Path;

use super::{AHEAD_BYTES, Ahead, Layout, ReadAheadFactory, cached_metadata, fetch_ahead};

/// Files per partition whose first row group is fetched before their reader exists.
pub(crate) const FILES_AHEAD: usize = 4;

/// A file of a scan: its path and the byte range DataFusion assigned to one reader.
pub(super) type Key = (Path, Option<(u64, u64)>);

pub(super) fn key_of(file: &PartitionedFile) -> Key {
    let range = file.range.as_ref().map(|r| (r.start as u64, r.end as u64));
    (file.object_meta.location.clone(), range)
}

/// A file's first row group, to fetch when its partition has room.
struct Planned {
    key: Key,
    group: usize,
    chunks: Vec<Range<u64>>,
}

impl Planned {
    fn bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.end - c.start).sum()
    }
}

/// One partition's files: those still to fetch, and what is fetched but not yet taken.
#[derive(Default)]
struct Queue {
    pending: VecDeque<Planned>,
    started: usize,
    bytes: u64,
}

#[derive(Default)]
struct State {
    queues: Vec<Queue>,
    /// Started fetches by file: the partition's queue, their bytes, the fetch.
    started: HashMap<Key, (usize, u64, Ahead)>,
}

/// The early fetches of one scan.
pub(crate) struct Opening {
    store: Arc<dyn ObjectStore>,
    io: tokio::runtime::Handle,
    files_ahead: usize,
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
        io: tokio::runtime::Handle,
        files_ahead: usize,
        partitions: Vec<VecDeque<Planned>>,
    ) -> Arc<Self> {
        let opening = Self {
            store,
            io,
            files_ahead,
            state: Mutex::new(State {
                queues: partitions
                    .into_iter()
                    .map(|pending| Queue {
                        pending,
                        ..Queue::default()
                    })
                    .collect(),
                started: HashMap::new(),
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

    /// Starts the next files of partition `q` while it has room (always at least one).
    fn fill(&self, state: &mut State, q: usize) {
        let State { queues, started } = state;
        let Some(queue) = queues.get_mut(q) else {
            return;
        };
        while queue.started < self.files_ahead {
            let Some(next) = queue.pending.front() else {
                break;
            };
            let bytes = next.bytes();
            if queue.started > 0 && queue.bytes + bytes > AHEAD_BYTES {
                break;
            }
            let Some(planned) = queue.pending.pop_front() else {
                break;
            };
            queue.started += 1;
            queue.bytes += bytes;
            let ahead = fetch_ahead(
                &self.io,
                &self.store,
                &planned.key.0,
                planned.group,
                planned.chunks,
            );
            started.insert(planned.key, (q, bytes, ahead));
        }
    }

    /// The early fetch of `file`, if one was started; makes room for the next file of its
    /// partition.
    pub(super) fn take(&self, file: &Key) -> Option<Ahead> {
        let mut state = self.lock();
        let (q, bytes, ahead) = state.started.remove(file)?;
        if let Some(queue) = state.queues.get_mut(q) {
            queue.started -= 1;
            queue.bytes -= bytes;
        }
        self.fill(&mut state, q);
        Some(ahead)
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        for (_, _, ahead) in self.lock().started.values() {
            ahead.abort.abort();
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

/// Per partition, the first row group of each file whose footer is cached.
fn plan_partitions(
    config: &FileScanConfig,
    cache: &Arc<FileMetadataCache>,
) -> Vec<VecDeque<Planned>> {
    let file_schema = config.file_schema();
    let names: Option<Vec<String>> = config.file_source().projection().map(|p| {
        p.column_indices()
            .into_iter()
            .filter_map(|i| file_schema.fields().get(i).map(|f| f.name().clone()))
            .collect()
    });
    config
        .file_groups
        .iter()
        .map(|group| {
            group
                .iter()
                .filter_map(|file| {
                    let metadata = cached_metadata(cache, &file.object_meta)?;
                    let key = key_of(file);
                    let range = key.1.map(|(s, e)| s..e);
                    let layout = Layout::of(&metadata, range.as_ref());
                    let group = *layout.mine.first()?;
                    let chunks = leaf_columns(&metadata, names.as_deref())
                        .iter()
                        .filter_map(|c| layout.chunks[group].get(*c).cloned())
                        .collect();
                    Some(Planned { key, group, chunks })
                })
                .collect()
        })
        .collect()
}

/// `plan` with its Parquet scans of object stores reading through a [`ReadAheadFactory`] whose
/// first row groups are already being fetched. Called when execution starts, on the runtime
/// that does I/O.
pub(crate) fn arm(
    plan: Arc<dyn ExecutionPlan>,
    runtime: &RuntimeEnv,
) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
    let Ok(io) = tokio::runtime::Handle::try_current() else {
        return Ok(plan);
    };
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
        let store = runtime.object_store(url)?;
        let cache = runtime.cache_manager.get_file_metadata_cache();
        let files_ahead = if config.limit.is_some() {
            1
        } else {
            FILES_AHEAD
        };
        let opening = Opening::start(
            store.clone(),
            io.clone(),
            files_ahead,
            plan_partitions(config, &cache),
        );
        let factory = ReadAheadFactory::new(store, cache, io.clone()).with_opening(opening);
        let source = source
            .clone()
            .with_parquet_file_reader_factory(Arc::new(factory));
        let config = FileScanConfigBuilder::from(config.clone())
            .with_source(Arc::new(source))
            .build();
        Ok(Transformed::yes(DataSourceExec::from_data_source(config)))
    })?;
    Ok(armed.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn planned(name: &str, bytes: u64) -> Planned {
        Planned {
            key: (Path::from(name), None),
            group: 0,
            chunks: vec![4..4 + bytes],
        }
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

    #[tokio::test]
    async fn each_partition_starts_its_first_files_and_tops_up_as_they_are_taken() {
        let small: VecDeque<Planned> = (0..6).map(|i| planned(&format!("s{i}"), 10)).collect();
        let big: VecDeque<Planned> = [planned("b0", AHEAD_BYTES), planned("b1", 10)].into();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let opening = Opening::start(
            store,
            tokio::runtime::Handle::current(),
            FILES_AHEAD,
            vec![small, big],
        );
        assert_eq!(
            started(&opening),
            ["b0", "s0", "s1", "s2", "s3"],
            "files ahead per partition; bytes ahead capped, but one file always"
        );
        assert!(opening.take(&(Path::from("s1"), None)).is_some());
        assert!(
            opening.take(&(Path::from("s1"), None)).is_none(),
            "taken once"
        );
        assert!(opening.take(&(Path::from("s9"), None)).is_none());
        assert!(
            opening.take(&(Path::from("s0"), Some((0, 5)))).is_none(),
            "another reader's range"
        );
        assert_eq!(started(&opening), ["b0", "s0", "s2", "s3", "s4"]);
        assert!(opening.take(&(Path::from("b0"), None)).is_some());
        assert_eq!(started(&opening), ["b1", "s0", "s2", "s3", "s4"]);
    }
}
