//! The engine's memory pool and spill area.
//!
//! Without a pool DataFusion lets one query allocate until the machine runs out. Every session
//! shares one [`FairSpillPool`] of `memory_limit` bytes: sorts, hash aggregates and joins that
//! can spill get a fair share each and write the rest to `<data_dir>/tmp`; a query that cannot
//! spill (an `array_agg` over everything, a huge join build side) fails with "resources
//! exhausted" (53200) instead of taking the server down. [`TrackConsumersPool`] names the
//! largest consumers in that error.
//!
//! Spill files live in a directory of this process under `<data_dir>/tmp`; directories left by
//! earlier processes (a crash, a kill) are removed when an engine opens.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::SessionConfig;

use crate::error::{EngineError, Result};

/// The default memory limit when the machine's memory is unknown.
const FALLBACK_LIMIT: usize = 2 << 30;
/// The smallest default limit (small containers).
const MIN_DEFAULT_LIMIT: usize = 256 << 20;
/// Consumers named in a "resources exhausted" error.
const TOP_CONSUMERS: usize = 5;
/// Spill directories of this process start with this.
const SPILL_PREFIX: &str = "spill-";

/// The default query memory: half of physical memory minus what the scan cache may hold.
pub fn default_memory_limit(scan_cache_bytes: usize) -> usize {
    match crate::provider::physical_memory() {
        Some(ram) => (ram / 2)
            .saturating_sub(scan_cache_bytes)
            .max(MIN_DEFAULT_LIMIT),
        None => FALLBACK_LIMIT,
    }
}

/// The shared DataFusion runtime: the memory pool and the spill directory under `data_dir`.
pub(crate) fn runtime_env(data_dir: &Path, memory_limit: usize) -> Result<Arc<RuntimeEnv>> {
    let spill = spill_dir(data_dir)?;
    let pool = TrackConsumersPool::new(
        FairSpillPool::new(memory_limit),
        NonZeroUsize::new(TOP_CONSUMERS).unwrap_or(NonZeroUsize::MIN),
    );
    let disk = DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![spill]));
    Ok(RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_disk_manager_builder(disk)
        .build_arc()?)
}

/// DataFusion's default merge reservation of a spilling sort, per partition.
const SORT_SPILL_RESERVATION: usize = 10 << 20;

/// Session options that must fit the pool: each sorting partition reserves memory for its
/// final merge up front, 10 MiB by default, which a small pool could not grant even once.
pub(crate) fn fit_to_pool(config: SessionConfig, memory_limit: Option<usize>) -> SessionConfig {
    let Some(limit) = memory_limit else {
        return config;
    };
    let partitions = config.target_partitions().max(1);
    let reservation = SORT_SPILL_RESERVATION.min(limit / (4 * partitions));
    config.with_sort_spill_reservation_bytes(reservation)
}

/// Spill directories this process created (other engines of the same process may be using
/// them: never removed as stale).
fn ours() -> &'static Mutex<HashSet<PathBuf>> {
    static OURS: std::sync::OnceLock<Mutex<HashSet<PathBuf>>> = std::sync::OnceLock::new();
    OURS.get_or_init(Default::default)
}

/// `<data_dir>/tmp/spill-<pid>-<nanos>`, created after removing stale spill directories.
fn spill_dir(data_dir: &Path) -> Result<PathBuf> {
    let tmp = data_dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| storage(&tmp, e))?;
    remove_stale(&tmp);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = tmp.join(format!("{SPILL_PREFIX}{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| storage(&dir, e))?;
    if let Ok(mut ours) = ours().lock() {
        ours.insert(dir.clone());
    }
    Ok(dir)
}

/// Removes spill directories no live engine uses: those of processes that are gone, and those
/// with this process's id that this process did not create (a previous run that had the same
/// pid, as in containers). Failures are logged, not fatal.
fn remove_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let ours = ours().lock().map(|o| o.clone()).unwrap_or_default();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(pid) = spill_pid(&path) else {
            continue;
        };
        let live_elsewhere = pid != std::process::id() && process_alive(pid);
        if ours.contains(&path) || live_elsewhere {
            continue;
        }
        if let Err(e) = std::fs::remove_dir_all(&path) {
            tracing::warn!(
                "cannot remove stale spill directory {}: {e}",
                path.display()
            );
        }
    }
}

/// The process id in a spill directory's name.
fn spill_pid(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix(SPILL_PREFIX)?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Whether a process runs (Linux's /proc; elsewhere assume it does, keeping its files).
fn process_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

fn storage(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::Storage {
        location: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_spill_directories_are_removed_live_ones_kept() {
        let data = tempfile::tempdir().unwrap();
        let tmp = data.path().join("tmp");
        // A dead process's directory (pid beyond pid_max) and one of this pid from a previous run.
        let dead = tmp.join(format!("{SPILL_PREFIX}{}-1", u32::MAX - 1));
        let reused = tmp.join(format!("{SPILL_PREFIX}{}-2", std::process::id()));
        let other = tmp.join("not-a-spill-dir");
        for d in [&dead, &reused, &other] {
            std::fs::create_dir_all(d.join("datafusion-x")).unwrap();
        }
        let first = spill_dir(data.path()).unwrap();
        assert!(!dead.exists() && !reused.exists());
        assert!(other.exists(), "only spill directories are touched");
        let second = spill_dir(data.path()).unwrap();
        assert!(
            first.exists(),
            "a directory of a live engine of this process stays"
        );
        assert!(second.exists());
    }

    #[test]
    fn the_default_leaves_room_for_the_scan_cache() {
        let limit = default_memory_limit(0);
        assert!(limit >= MIN_DEFAULT_LIMIT);
        assert!(default_memory_limit(usize::MAX) == MIN_DEFAULT_LIMIT);
    }
}
