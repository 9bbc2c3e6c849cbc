//! Listing of partition directories, cached.
//!
//! Only the directories of partitions that survived pruning are listed, one level deep (Hive does
//! not recurse). Entries are keyed by the table's catalog version, so any catalog change to the
//! table (ADD/DROP PARTITION, MSCK, SET LOCATION) makes old listings unreachable at once; the TTL
//! bounds how long files added by outside writers stay invisible.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Statistics;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

use crate::error::{EngineError, Result};

/// Entries beyond this are dropped wholesale (a cheap bound on memory).
const MAX_ENTRIES: usize = 200_000;

/// Footers read at once.
const FOOTER_CONCURRENCY: usize = 16;

type Key = (String, i64);
type Entry = (Instant, Arc<Vec<ObjectMeta>>);
/// A listed Parquet file (location, size, last modified in ms) under a table version (which
/// fixes its file schema): a file rewritten in place is read again.
/// Path, size, modification time, table version and entity tag: an object rewritten in place
/// on a store whose clock or sizes would not tell (same size, same second) differs by ETag.
type StatsKey = (String, u64, i64, i64, String);
/// Bytes read from a file's end for its footer: one request for footers up to 128 KiB (SF1
/// lineitem's, 53 row groups of 16 columns, is 109 KB), with bounded memory for many at once.
const FOOTER_HINT: usize = 128 * 1024;

/// Where footers are read from: the table's store, and DataFusion's footer cache, which the
/// scan's reader then finds them in (one footer request per file, not two).
pub struct FooterReader {
    pub store: Arc<dyn ObjectStore>,
    pub metadata_cache: Arc<datafusion::execution::cache::cache_manager::FileMetadataCache>,
}

/// The footers of one listing (the `Arc` it was computed for), so a repeated scan of a listed
/// directory costs one lookup rather than one per file.
type Described = (Arc<Vec<ObjectMeta>>, Arc<Vec<Option<Arc<Statistics>>>>);

/// A TTL cache of directory listings, and the statistics in the footers of the Parquet files
/// they found.
#[derive(Debug)]
pub struct ListingCache {
    ttl: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
    footers: Mutex<HashMap<StatsKey, Arc<Statistics>>>,
    described: Mutex<HashMap<Key, Described>>,
}

impl ListingCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            footers: Mutex::new(HashMap::new()),
            described: Mutex::new(HashMap::new()),
        }
    }

    /// Row counts, byte sizes and column min/max/null counts of listed Parquet files, from
    /// their footers (read once per file and table version, then kept), against the table's
    /// file schema. `None` for a file whose footer cannot be read: the scan reports it then.
    /// DataFusion's join selection needs row counts to build hash tables from small tables.
    pub async fn parquet_statistics(
        &self,
        footers: &FooterReader,
        store_key: &str,
        dir: &Path,
        files: &Arc<Vec<ObjectMeta>>,
        version: i64,
        file_schema: &SchemaRef,
    ) -> Arc<Vec<Option<Arc<Statistics>>>> {
        let dir_key = (format!("{store_key}/{dir}"), version);
        let kept = self.described.lock().ok().and_then(|d| {
            d.get(&dir_key)
                .filter(|(listed, _)| Arc::ptr_eq(listed, files))
                .map(|(_, stats)| stats.clone())
        });
        if let Some(stats) = kept {
            return stats;
        }
        let stats = Arc::new(
            self.read_footers(footers, store_key, files, version, file_schema)
                .await,
        );
        if let Ok(mut described) = self.described.lock() {
            if described.len() >= MAX_ENTRIES {
                described.clear();
            }
            described.insert(dir_key, (files.clone(), stats.clone()));
        }
        stats
    }

    /// One statistics per file, from the per-file cache or the footer.
    async fn read_footers(
        &self,
        reader: &FooterReader,
        store_key: &str,
        files: &[ObjectMeta],
        version: i64,
        file_schema: &SchemaRef,
    ) -> Vec<Option<Arc<Statistics>>> {
        use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
        let reads = files.iter().cloned().map(|meta| {
            let key = (
                format!("{store_key}/{}", meta.location),
                meta.size,
                meta.last_modified.timestamp_millis(),
                version,
                meta.e_tag.clone().unwrap_or_default(),
            );
            async move {
                if let Some(hit) = self.footers.lock().ok()?.get(&key) {
                    return Some(hit.clone());
                }
                let stats = DFParquetMetadata::new(reader.store.as_ref(), &meta)
                    .with_metadata_size_hint(Some(FOOTER_HINT))
                    .with_file_metadata_cache(Some(reader.metadata_cache.clone()))
                    .fetch_statistics(file_schema)
                    .await
                    .ok()?;
                let stats = Arc::new(stats);
                let mut footers = self.footers.lock().ok()?;
                if footers.len() >= MAX_ENTRIES {
                    footers.clear();
                }
                footers.insert(key, stats.clone());
                Some(stats)
            }
        });
        futures::stream::iter(reads)
            .buffered(FOOTER_CONCURRENCY)
            .collect()
            .await
    }

    /// The data files directly under `dir` (names starting with `_` or `.` are skipped).
    pub async fn list(
        &self,
        store: &Arc<dyn ObjectStore>,
        store_key: &str,
        dir: &Path,
        version: i64,
    ) -> Result<Arc<Vec<ObjectMeta>>> {
        let key = (format!("{store_key}/{dir}"), version);
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let files = Arc::new(list_dir(store, dir).await?);
        let mut entries = self.entries.lock().map_err(|_| poisoned())?;
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), files.clone()));
        Ok(files)
    }

    fn get(&self, key: &Key) -> Option<Arc<Vec<ObjectMeta>>> {
        let entries = self.entries.lock().ok()?;
        let (at, files) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| files.clone())
    }

    /// Forgets every listing (after catalog statements that may move data).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
        if let Ok(mut footers) = self.footers.lock() {
            footers.clear();
        }
        if let Ok(mut described) = self.described.lock() {
            described.clear();
        }
    }
}

fn poisoned() -> EngineError {
    EngineError::Internal("listing cache lock poisoned".into())
}

/// Whether Hive treats this file name as hidden (`_SUCCESS`, `.crc`, staging files).
pub(crate) fn is_hidden(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

async fn list_dir(store: &Arc<dyn ObjectStore>, dir: &Path) -> Result<Vec<ObjectMeta>> {
    let listed = match store.list_with_delimiter(Some(dir)).await {
        Ok(listed) => listed,
        // A partition whose directory is gone reads as empty, as in Hive.
        Err(object_store::Error::NotFound { .. }) => return Ok(vec![]),
        Err(e) => {
            return Err(EngineError::Storage {
                location: dir.to_string(),
                message: e.to_string(),
            });
        }
    };
    let mut files: Vec<ObjectMeta> = listed
        .objects
        .into_iter()
        .filter(|o| o.location.filename().is_some_and(|n| !is_hidden(n)))
        .collect();
    files.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(files)
}

/// Sub-directories directly under `dir` (for MSCK REPAIR).
pub(crate) async fn list_subdirs(store: &Arc<dyn ObjectStore>, dir: &Path) -> Result<Vec<Path>> {
    match store.list_with_delimiter(Some(dir)).await {
        Ok(listed) => Ok(listed.common_prefixes),
        Err(object_store::Error::NotFound { .. }) => Ok(vec![]),
        Err(e) => Err(EngineError::Storage {
            location: dir.to_string(),
            message: e.to_string(),
        }),
    }
}

/// Every object under `dir`, recursively; hidden ones (`_…`, `.…` below `dir`) only when asked
/// (schema inference skips them, deleting a managed table's data does not).
pub(crate) async fn list_recursive(
    store: &Arc<dyn ObjectStore>,
    dir: &Path,
    include_hidden: bool,
) -> Result<Vec<ObjectMeta>> {
    store
        .list(Some(dir))
        .try_filter(|o| {
            let hidden = !include_hidden
                && o.location
                    .prefix_match(dir)
                    .is_some_and(|mut parts| parts.any(|p| is_hidden(p.as_ref())));
            futures::future::ready(!hidden)
        })
        .try_collect()
        .await
        .map_err(|e| EngineError::Storage {
            location: dir.to_string(),
            message: e.to_string(),
        })
}
