//! The decoded-column cache: Parquet columns kept as Arrow arrays after a full read, so that
//! the next scan of a hot table skips decompression and decoding (about half the CPU of a
//! `SELECT *` over snappy Parquet).
//!
//! It plays the part of PostgreSQL's shared buffers for immutable lake files: entries are keyed
//! by file path, size and modification time, so a rewritten file is a different entry and
//! nothing needs invalidating (tarn writes new files and swaps them in the catalog). Memory is
//! bounded by a byte budget; the least recently used files go first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use std::hash::{Hash, Hasher};

use datafusion::arrow::datatypes::{DataType, Schema};
use object_store::ObjectMeta;

/// Identifies one byte range (a part, see [`parts`]) of one version of one file: path, size,
/// modification time and, where the store has one, the entity tag (S3 times are in seconds);
/// read as one table schema (columns are cached by position in it, so a table declared anew
/// over the same files with other columns or types does not see the old arrays).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileKey {
    schema_id: u64,
    store: String,
    path: String,
    size: u64,
    modified_nanos: i64,
    e_tag: Option<String>,
    range: (u64, u64),
}

impl FileKey {
    pub fn new(store: &str, meta: &ObjectMeta, range: (u64, u64), schema_id: u64) -> Self {
        Self {
            schema_id,
            store: store.to_string(),
            path: meta.location.to_string(),
            size: meta.size,
            modified_nanos: meta.last_modified.timestamp_nanos_opt().unwrap_or(i64::MIN),
            e_tag: meta.e_tag.clone(),
            range,
        }
    }
}

/// Missed parts remembered for [`ScanCache::touch`] before the memory starts over.
const MAX_SEEN: usize = 1 << 17;

/// Identifies a table's file schema (names, types, nullability) for [`FileKey`].
pub fn schema_id(schema: &Schema) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for field in schema.fields() {
        field.name().hash(&mut hasher);
        field.data_type().hash(&mut hasher);
        field.is_nullable().hash(&mut hasher);
    }
    hasher.finish()
}

/// Bytes of a file one part covers: parts are what the cache keeps and what a filling scan
/// reads in parallel (Parquet assigns each row group to the part holding its midpoint).
pub const PART_BYTES: u64 = 32 << 20;

/// The byte ranges a file of `size` bytes is cached in; fixed by the size alone, so that every
/// scan looks for the same keys.
pub fn parts(size: u64) -> Vec<(u64, u64)> {
    let n = size.div_ceil(PART_BYTES).max(1);
    (0..n).map(|i| (i * size / n, (i + 1) * size / n)).collect()
}

/// The cached columns of one file, cut into the batches the reader produced.
#[derive(Clone)]
pub struct CachedFile {
    /// Rows per batch; every column below has one array per batch of these lengths.
    pub batch_rows: Arc<[usize]>,
    /// Arrays per batch, one entry per requested column (in request order).
    pub columns: Vec<Arc<[ArrayRef]>>,
}

struct Entry {
    batch_rows: Arc<[usize]>,
    columns: HashMap<usize, Arc<[ArrayRef]>>,
    bytes: usize,
    last_used: u64,
}

#[derive(Default)]
struct State {
    files: HashMap<FileKey, Entry>,
    /// `last_used` tick → file, oldest first.
    recency: BTreeMap<u64, FileKey>,
    /// Parts scans asked for and did not find (see [`ScanCache::touch`]).
    seen: HashSet<FileKey>,
    used: usize,
    tick: u64,
}

/// Counters for `tarn.scan_cache` style reporting and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanCacheUsage {
    pub files: usize,
    pub bytes: usize,
    pub budget: usize,
}

/// A byte-bounded LRU of decoded file columns, shared by every session of an engine.
pub struct ScanCache {
    budget: usize,
    state: Mutex<State>,
}

impl ScanCache {
    /// A cache holding at most `budget` bytes of arrays; 0 disables it.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            state: Mutex::new(State::default()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// One file's `columns` (file column indices), if all of them are cached.
    pub fn get(&self, key: &FileKey, columns: &[usize]) -> Option<CachedFile> {
        let mut state = self.state.lock().ok()?;
        let state = &mut *state;
        let entry = state.files.get_mut(key)?;
        let found = columns
            .iter()
            .map(|c| entry.columns.get(c).cloned())
            .collect::<Option<Vec<_>>>()?;
        state.tick += 1;
        state.recency.remove(&entry.last_used);
        entry.last_used = state.tick;
        state.recency.insert(state.tick, key.clone());
        Some(CachedFile {
            batch_rows: entry.batch_rows.clone(),
            columns: found,
        })
    }

    /// Notes that a scan missed `parts`; true if every one of them was missed before, i.e. the
    /// data is asked for again and worth reading whole.
    pub fn touch(&self, parts: &[&FileKey]) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if state.seen.len() > MAX_SEEN {
            state.seen.clear();
        }
        let mut all_seen = true;
        for key in parts {
            all_seen &= !state.seen.insert((*key).clone());
        }
        all_seen
    }

    /// Whether one file of `bytes` may enter: one file may not take over the cache (it would
    /// evict everything for one use).
    pub fn admits(&self, bytes: usize) -> bool {
        bytes <= self.budget / 4
    }

    /// Keeps the columns of a file read in full. `columns` pairs file column indices with
    /// one array per batch, compacted with [`compact`] so that the budget counts the bytes
    /// actually held.
    pub fn insert(
        &self,
        key: FileKey,
        batch_rows: Vec<usize>,
        columns: Vec<(usize, Vec<ArrayRef>)>,
    ) {
        let columns: Vec<(usize, Arc<[ArrayRef]>)> = columns
            .into_iter()
            .map(|(c, arrays)| (c, arrays.into()))
            .collect();
        let bytes: usize = columns
            .iter()
            .flat_map(|(_, arrays)| arrays.iter())
            .map(|a| a.get_array_memory_size())
            .sum();
        if !self.admits(bytes) {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let state = &mut *state;
        let batch_rows: Arc<[usize]> = batch_rows.into();
        let reusable = state
            .files
            .get(&key)
            .is_some_and(|e| e.batch_rows == batch_rows);
        if !reusable {
            remove(state, &key);
        }
        state.tick += 1;
        let tick = state.tick;
        let entry = state.files.entry(key.clone()).or_insert_with(|| Entry {
            batch_rows,
            columns: HashMap::new(),
            bytes: 0,
            last_used: tick,
        });
        state.recency.remove(&entry.last_used);
        entry.last_used = tick;
        state.recency.insert(tick, key);
        for (c, arrays) in columns {
            let size: usize = arrays.iter().map(|a| a.get_array_memory_size()).sum();
            if let Some(old) = entry.columns.insert(c, arrays) {
                let old_size: usize = old.iter().map(|a| a.get_array_memory_size()).sum();
                entry.bytes -= old_size;
                state.used -= old_size;
            }
            entry.bytes += size;
            state.used += size;
        }
        while state.used > self.budget {
            let Some((_, oldest)) = state.recency.pop_first() else {
                break;
            };
            remove(state, &oldest);
        }
    }

    pub fn usage(&self) -> ScanCacheUsage {
        let (files, bytes) = self
            .state
            .lock()
            .map(|s| (s.files.len(), s.used))
            .unwrap_or_default();
        ScanCacheUsage {
            files,
            bytes,
            budget: self.budget,
        }
    }

    /// Drops every entry (memory pressure, tests).
    pub fn clear(&self) {
        if let Ok(mut state) = self.state.lock() {
            *state = State::default();
        }
    }
}

fn remove(state: &mut State, key: &FileKey) {
    if let Some(entry) = state.files.remove(key) {
        state.recency.remove(&entry.last_used);
        state.used -= entry.bytes;
    }
}

/// View arrays from the Parquet reader point into whole decoded pages; a compacted copy holds
/// only its own strings, so cached batches neither pin pages nor overstate their size.
pub fn compact(array: &ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Utf8View => Arc::new(array.as_string_view().gc()),
        DataType::BinaryView => Arc::new(array.as_binary_view().gc()),
        _ => array.clone(),
    }
}

/// A default budget: a quarter of physical memory (Linux), else 1 GiB.
pub fn default_budget() -> usize {
    physical_memory().map_or(1 << 30, |m| m / 4)
}

pub(crate) fn physical_memory() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringViewArray};

    fn key(name: &str) -> FileKey {
        FileKey {
            schema_id: 0,
            store: "file:///".into(),
            path: name.into(),
            size: 10,
            modified_nanos: 0,
            e_tag: None,
            range: (0, 10),
        }
    }

    #[test]
    fn parts_cover_the_file() {
        assert_eq!(parts(0), vec![(0, 0)]);
        assert_eq!(parts(10), vec![(0, 10)]);
        let big = parts(PART_BYTES * 3 + 1);
        assert_eq!(big.len(), 4);
        assert_eq!(big[0].0, 0);
        assert_eq!(big[3].1, PART_BYTES * 3 + 1);
        assert!(big.windows(2).all(|w| w[0].1 == w[1].0));
    }

    fn ints(n: usize) -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(0..n as i64))
    }

    #[test]
    fn returns_only_complete_column_sets() {
        let cache = ScanCache::new(1 << 20);
        cache.insert(key("a"), vec![3, 2], vec![(0, vec![ints(3), ints(2)])]);
        let hit = cache.get(&key("a"), &[0]).unwrap();
        assert_eq!(&*hit.batch_rows, &[3, 2]);
        assert_eq!(hit.columns[0][1].len(), 2);
        assert!(cache.get(&key("a"), &[0, 1]).is_none());
        cache.insert(key("a"), vec![3, 2], vec![(1, vec![ints(3), ints(2)])]);
        assert_eq!(cache.get(&key("a"), &[1, 0]).unwrap().columns.len(), 2);
        // Another version of the file (size or time) is another key.
        let mut changed = key("a");
        changed.size = 11;
        assert!(cache.get(&changed, &[0]).is_none());
    }

    #[test]
    fn a_second_miss_is_reported_as_seen_before() {
        let cache = ScanCache::new(1 << 20);
        assert!(!cache.touch(&[&key("a"), &key("b")]));
        assert!(cache.touch(&[&key("a")]));
        assert!(!cache.touch(&[&key("a"), &key("c")]));
        assert!(cache.touch(&[&key("c"), &key("b")]));
    }

    #[test]
    fn different_batch_boundaries_replace_the_entry() {
        let cache = ScanCache::new(1 << 20);
        cache.insert(key("a"), vec![5], vec![(0, vec![ints(5)])]);
        cache.insert(key("a"), vec![3, 2], vec![(1, vec![ints(3), ints(2)])]);
        assert!(cache.get(&key("a"), &[0]).is_none());
        assert!(cache.get(&key("a"), &[1]).is_some());
    }

    #[test]
    fn evicts_least_recently_used_within_budget() {
        let size = ints(1000).get_array_memory_size();
        let cache = ScanCache::new(size * 4 + size / 2);
        for name in ["a", "b", "c", "d"] {
            cache.insert(key(name), vec![1000], vec![(0, vec![ints(1000)])]);
        }
        assert!(cache.get(&key("a"), &[0]).is_some()); // a is now the most recent
        cache.insert(key("e"), vec![1000], vec![(0, vec![ints(1000)])]);
        assert!(
            cache.get(&key("b"), &[0]).is_none(),
            "b was least recently used"
        );
        assert!(cache.get(&key("a"), &[0]).is_some());
        let usage = cache.usage();
        assert_eq!(usage.files, 4);
        assert!(usage.bytes <= usage.budget);
        // Too big for a quarter of the budget: not admitted.
        cache.insert(key("big"), vec![5000], vec![(0, vec![ints(5000)])]);
        assert!(cache.get(&key("big"), &[0]).is_none());
        cache.clear();
        assert_eq!(cache.usage().bytes, 0);
    }

    #[test]
    fn view_arrays_are_compacted() {
        let long: Vec<String> = (0..100)
            .map(|i| format!("a string longer than twelve {i}"))
            .collect();
        let full: ArrayRef = Arc::new(StringViewArray::from_iter_values(long.iter()));
        let slice = full.slice(0, 10);
        let compacted = compact(&slice);
        assert!(compacted.get_array_memory_size() < slice.get_array_memory_size());
        assert_eq!(compacted.as_string_view().value(3), long[3]);
    }
}
