//! Listing of partition directories, cached.
//!
//! Only the directories of partitions that survived pruning are listed, one level deep (Hive does
//! not recurse). Entries are keyed by the table's catalog version, so any catalog change to the
//! table (ADD/DROP PARTITION, MSCK, SET LOCATION) makes old listings unreachable at once; the TTL
//! bounds how long files added by outside writers stay invisible.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

use crate::error::{EngineError, Result};

/// Entries beyond this are dropped wholesale (a cheap bound on memory).
const MAX_ENTRIES: usize = 200_000;

type Key = (String, i64);
type Entry = (Instant, Arc<Vec<ObjectMeta>>);

/// A TTL cache of directory listings.
#[derive(Debug)]
pub struct ListingCache {
    ttl: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl ListingCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
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
