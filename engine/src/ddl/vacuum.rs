//! VACUUM: deletes data files the catalog no longer references, once older than the retention.
//!
//! Two sources of garbage: locations retired by overwrites (their files, not sub-directories,
//! which may hold a newer partition version), and files in tarn-written partition directories
//! that the file index does not list (staging files of writes that never committed).

use std::collections::HashSet;

use object_store::{ObjectMeta, ObjectStoreExt};
use tarn_catalog::{PartitionFilter, Table};

use crate::error::{EngineError, Result};
use crate::provider::parse_location;
use crate::session::Session;

pub(super) async fn run(session: &Session, table: &Table, retain_hours: u64) -> Result<u64> {
    let metastore = session.engine.metastore();
    let cutoff = chrono::Utc::now() - chrono::Duration::hours(retain_hours as i64);
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
        deleted += delete_files_in(&store, &retired.location, &referenced, None).await?;
        forgotten.push(retired.location);
    }
    metastore.forget_retired(forgotten).await?;
    // Unreferenced files in indexed partitions.
    for p in partitions.iter().filter(|p| p.files.is_some()) {
        deleted += delete_files_in(&store, &p.location, &referenced, Some(cutoff)).await?;
    }
    Ok(deleted)
}

/// Deletes the files directly in `location` that are not referenced (and older than `cutoff`).
async fn delete_files_in(
    store: &std::sync::Arc<dyn object_store::ObjectStore>,
    location: &str,
    referenced: &HashSet<String>,
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
        if referenced.contains(&full) || !old_enough {
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
