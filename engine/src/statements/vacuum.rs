//! VACUUM: deletes data files the catalog no longer references, once older than the retention.
//!
//! Three sources of garbage: locations retired by overwrites (their files, not sub-directories,
//! which may hold a newer partition version); files in tarn-written partition directories that
//! the file index does not list; and the files of writes that will never commit — failed ones,
//! and ones pending for longer than the retention (their writer was killed). Such a write's
//! intent is first marked failed (so a late commit of it fails), then its files go, then the
//! intent.

use std::collections::HashSet;

use object_store::{ObjectMeta, ObjectStoreExt};
use tarn_catalog::{PartitionFilter, Table};

use crate::error::{EngineError, Result};
use crate::provider::parse_location;
use crate::session::Session;

/// VACUUM's retention when none is given: a week, as Delta Lake's default.
pub(super) const DEFAULT_RETENTION_HOURS: u64 = 168;

/// A retention below the server's minimum (`vacuum_min_retention_hours`) could delete files a
/// running query or a just-committed write still needs: refused unless a superuser turned
/// `tarn.vacuum_retention_check` off.
pub(super) fn check_retention(session: &Session, retain_hours: u64) -> Result<()> {
    let min = session.engine.inner.config.vacuum_min_retention_hours;
    if retain_hours >= min || !session.settings().is_on(super::VACUUM_RETENTION_CHECK) {
        return Ok(());
    }
    Err(EngineError::InvalidParameter(format!(
        "VACUUM RETAIN {retain_hours} HOURS is below the minimum retention of {min} hours; \
         a superuser may SET {} = off to allow it",
        super::VACUUM_RETENTION_CHECK
    )))
}

/// Files modified before this are old enough to delete. A retention too large to subtract
/// (`RETAIN 9223372036854775807 HOURS`) keeps everything instead of wrapping to the future.
fn cutoff(retain_hours: u64) -> chrono::DateTime<chrono::Utc> {
    i64::try_from(retain_hours)
        .ok()
        .and_then(chrono::Duration::try_hours)
        .and_then(|d| chrono::Utc::now().checked_sub_signed(d))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}

pub(super) async fn run(session: &Session, table: &Table, retain_hours: u64) -> Result<u64> {
    let metastore = session.engine.metastore();
    let cutoff = cutoff(retain_hours);
    let (store_url, _) = parse_location(&table.location)?;
    let store = session.ctx.state().runtime_env().object_store(&store_url)?;
    let prefix = format!("{}/", table.location.trim_end_matches('/'));
    let partitions = metastore
        .list_partitions(&table.database, &table.name, &PartitionFilter::All)
        .await?;
    let live_locations: HashSet<String> = partitions.iter().map(|p| p.location.clone()).collect();
    let referenced: HashSet<String> = metastore
        .referenced_files(&table.database, &table.name)
        .await?
        .into_iter()
        .collect();
    let mut deleted = 0u64;
    // Retired locations of this table.
    let mut forgotten = Vec::new();
    for retired in metastore.retired_locations().await? {
        let inside = retired.location == table.location || retired.location.starts_with(&prefix);
        if !inside
            || retired.retired_at > cutoff.timestamp()
            || live_locations.contains(&retired.location)
        {
            continue;
        }
        deleted += delete_files_in(&store, &retired.location, (&referenced, None), None).await?;
        forgotten.push(retired.location);
    }
    metastore.forget_retired(forgotten).await?;
    deleted += reclaim_abandoned_writes(session, table, (&partitions, &referenced), &store, cutoff)
        .await?;
    // Unreferenced files in indexed partitions; files of writes with an intent (running, or
    // superseded batches, whose retention starts when they were superseded) wait for the step
    // above.
    let pending: HashSet<String> = metastore
        .write_state(&table.database, &table.name, &table.location)
        .await?
        .pending
        .into_iter()
        .map(|p| p.write_id)
        .collect();
    for p in partitions.iter().filter(|p| p.files.is_some()) {
        let keep = (&referenced, Some(&pending));
        deleted += delete_files_in(&store, &p.location, keep, Some(cutoff)).await?;
    }
    // Listings cached before these deletions must not name the files any more.
    session.engine.inner.listing.clear();
    Ok(deleted)
}

/// Deletes the files of writes that will never commit: failed, or pending since before the
/// cutoff. Their files may be anywhere in the table's tree or in partitions outside it.
async fn reclaim_abandoned_writes(
    session: &Session,
    table: &Table,
    (partitions, referenced): (&[tarn_catalog::Partition], &HashSet<String>),
    store: &std::sync::Arc<dyn object_store::ObjectStore>,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let metastore = session.engine.metastore();
    let state = metastore
        .write_state(&table.database, &table.name, &table.location)
        .await?;
    let candidates: Vec<tarn_catalog::PendingWrite> = state
        .pending
        .into_iter()
        .filter(|p| p.failed || p.started_at < cutoff.timestamp())
        .collect();
    // An intent goes only once it failed before this VACUUM and is older than the retention:
    // nothing of that write is still running. Others stay as failed tombstones, so a writer
    // VACUUM judged dead but still running (or a writer task finishing a file after a cancel)
    // cannot make a file readable after its intent is gone.
    let removable: Vec<String> = candidates
        .iter()
        .filter(|p| p.failed && p.started_at < cutoff.timestamp())
        .map(|p| p.write_id.clone())
        .collect();
    let candidates: Vec<String> = candidates.into_iter().map(|p| p.write_id).collect();
    // Marking an intent failed is what makes its files ours to delete: a write that committed
    // since the read above has no intent left (and is skipped), one that had not can no longer
    // commit.
    let mut stale = Vec::new();
    for id in candidates {
        if metastore.abandon_write(&id, false).await? {
            stale.push(id);
        }
    }
    if stale.is_empty() {
        return Ok(0);
    }
    let referenced_names: HashSet<&str> = referenced
        .iter()
        .filter_map(|r| r.rsplit('/').next())
        .collect();
    let mut roots = vec![table.location.clone()];
    roots.extend(
        partitions
            .iter()
            .filter(|p| !super::locations::within(&p.location, &table.location))
            .map(|p| p.location.clone()),
    );
    let mut deleted = 0;
    for root in roots {
        let (_, dir) = parse_location(&root)?;
        for object in crate::provider::list_recursive(store, &dir, true).await? {
            let name = object.location.filename().unwrap_or_default();
            let ours = tarn_catalog::paths::tarn_write_id(name)
                .is_some_and(|id| stale.iter().any(|s| s == id));
            if !ours || referenced_names.contains(name) {
                continue;
            }
            match store.delete(&object.location).await {
                Ok(()) => deleted += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    return Err(EngineError::Storage {
                        location: object.location.to_string(),
                        message: e.to_string(),
                    });
                }
            }
        }
    }
    // Every file is gone: the settled intents can go too (until then readers skip them).
    for id in stale.iter().filter(|id| removable.contains(id)) {
        metastore.abandon_write(id, true).await?;
    }
    Ok(deleted)
}

/// Deletes the files directly in `location` that are not referenced, not of a pending write
/// (when `pending` is given) and older than `cutoff`.
async fn delete_files_in(
    store: &std::sync::Arc<dyn object_store::ObjectStore>,
    location: &str,
    (referenced, pending): (&HashSet<String>, Option<&HashSet<String>>),
    cutoff: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<u64> {
    let (_, dir) = parse_location(location)?;
    let listed = match store.list_with_delimiter(Some(&dir)).await {
        Ok(l) => l.objects,
        Err(object_store::Error::NotFound { .. }) => return Ok(0),
        Err(e) => {
            return Err(EngineError::Storage {
                location: location.to_string(),
                message: e.to_string(),
            });
        }
    };
    let base = location.trim_end_matches('/');
    let mut deleted = 0;
    for object in listed {
        let full = full_location(base, &object);
        let old_enough = cutoff.is_none_or(|c| object.last_modified < c);
        let of_pending = pending.is_some_and(|ids| {
            object
                .location
                .filename()
                .and_then(tarn_catalog::paths::tarn_write_id)
                .is_some_and(|id| ids.contains(id))
        });
        if referenced.contains(&full) || !old_enough || of_pending {
            continue;
        }
        store
            .delete(&object.location)
            .await
            .map_err(|e| EngineError::Storage {
                location: full.clone(),
                message: e.to_string(),
            })?;
        deleted += 1;
    }
    Ok(deleted)
}

fn full_location(base: &str, object: &ObjectMeta) -> String {
    match object.location.filename() {
        Some(name) => format!("{base}/{name}"),
        None => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn huge_retentions_keep_everything() {
        let now = chrono::Utc::now();
        for hours in [u64::MAX, i64::MAX as u64, 1 << 40] {
            assert!(
                super::cutoff(hours) < now - chrono::Duration::days(365 * 1000),
                "{hours}"
            );
        }
        let day = super::cutoff(24);
        assert!(day < now && day > now - chrono::Duration::hours(25));
    }
}
