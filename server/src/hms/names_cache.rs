//! `get_partition_names` replies kept in wire form, keyed by table and catalog version.
//!
//! Listing every partition name of a large table is a call clients repeat (Spark's MSCK REPAIR
//! and SHOW PARTITIONS, Trino's partition listing, Hive's client caches warming up); at 100k
//! partitions reading and encoding the list costs tens of milliseconds each time. The catalog
//! bumps a table's version in the transaction of every partition change, on any server sharing
//! it, and a table's first version is its creation time in microseconds (a table created again
//! under the same name never reuses one). So a reply kept under the version this call's own
//! table read returned is exactly what listing again would give: the privilege check and that
//! read happen on every call, only the listing is saved.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

/// The most the cache holds, in bytes (replies, keys and a fixed cost per entry); a reply over
/// a quarter of it is not kept.
const CAPACITY: usize = 64 << 20;

/// What an entry costs beyond its reply: its key and the map's own memory.
fn entry_size(key: &(String, String), encoded: &Bytes) -> usize {
    encoded.len() + key.0.len() + key.1.len() + 128
}

/// Encoded name lists by `(database, table)`.
#[derive(Default)]
pub struct NamesCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<(String, String), Entry>,
    bytes: usize,
    tick: u64,
}

struct Entry {
    version: i64,
    encoded: Bytes,
    used: u64,
}

impl NamesCache {
    /// The reply kept for the table at `version`, if any.
    pub fn get(&self, db: &str, table: &str, version: i64) -> Option<Bytes> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.tick += 1;
        let tick = inner.tick;
        let entry = inner
            .entries
            .get_mut(&(db.to_string(), table.to_string()))?;
        if entry.version != version {
            return None;
        }
        entry.used = tick;
        Some(entry.encoded.clone())
    }

    /// Keeps `encoded` as the table's reply at `version`, replacing an older one and evicting
    /// the least recently used replies beyond the capacity.
    pub fn put(&self, db: &str, table: &str, version: i64, encoded: Bytes) {
        if encoded.len() > CAPACITY / 4 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.tick += 1;
        let key = (db.to_string(), table.to_string());
        if let Some(old) = inner.entries.get(&key)
            && old.version > version
        {
            return; // a newer listing is already kept
        }
        inner.bytes += entry_size(&key, &encoded);
        let entry = Entry {
            version,
            used: inner.tick,
            encoded,
        };
        if let Some(old) = inner.entries.insert(key.clone(), entry) {
            inner.bytes -= entry_size(&key, &old.encoded);
        }
        while inner.bytes > CAPACITY {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= entry_size(&oldest, &e.encoded);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_served_only_at_its_version() {
        let cache = NamesCache::default();
        cache.put("db", "t", 5, Bytes::from_static(b"v5"));
        assert_eq!(cache.get("db", "t", 5).as_deref(), Some(&b"v5"[..]));
        assert_eq!(cache.get("db", "t", 6), None);
        assert_eq!(cache.get("db", "u", 5), None);
        cache.put("db", "t", 4, Bytes::from_static(b"v4"));
        assert_eq!(cache.get("db", "t", 5).as_deref(), Some(&b"v5"[..]));
        cache.put("db", "t", 6, Bytes::from_static(b"v6"));
        assert_eq!(cache.get("db", "t", 5), None);
        assert_eq!(cache.get("db", "t", 6).as_deref(), Some(&b"v6"[..]));
    }

    #[test]
    fn the_least_recently_used_reply_goes_first() {
        let cache = NamesCache::default();
        let big = || Bytes::from(vec![0u8; CAPACITY / 4 - 1024]);
        for (i, t) in ["a", "b", "c", "d"].iter().enumerate() {
            cache.put("db", t, i as i64, big());
        }
        assert!(cache.get("db", "a", 0).is_some()); // b is now the oldest
        cache.put("db", "e", 9, big());
        assert!(cache.get("db", "b", 1).is_none());
        for (t, v) in [("a", 0), ("c", 2), ("d", 3), ("e", 9)] {
            assert!(cache.get("db", t, v).is_some(), "{t}");
        }
        assert!(cache.inner.lock().unwrap().bytes <= CAPACITY);
        cache.put("db", "huge", 1, Bytes::from(vec![0u8; CAPACITY / 4 + 1]));
        assert!(cache.get("db", "huge", 1).is_none());
    }
}
