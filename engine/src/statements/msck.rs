//! MSCK REPAIR TABLE: reconcile the catalog with the `k=v` directories under a table's location.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::path::Path;
use tarn_catalog::{Partition, PartitionFilter, PartitionSpec, Table, paths};
use tarn_sql::{ObjectName, RepairMode};

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::{load_table, now};
use crate::error::{EngineError, Result};
use crate::output::{Output, Progress};
use crate::provider::{list_subdirs, parse_location};
use crate::session::Session;

const LIST_CONCURRENCY: usize = 32;

pub(super) async fn repair(
    session: &Session,
    name: &ObjectName,
    mode: RepairMode,
) -> Result<Output> {
    let table = load_table(session, name).await?;
    session.require_owner(&table).await?;
    if table.partition_keys.is_empty() {
        return Err(EngineError::InvalidParameter(format!(
            "table '{}' is not partitioned; MSCK REPAIR applies to partitioned tables",
            table.qualified_name()
        )));
    }
    let report = |p: Progress| {
        if let Some(progress) = &session.progress {
            progress(p);
        }
    };
    report(Progress::Started {
        what: format!("scanning {}", table.location),
    });
    let state = session.ctx.state();
    let (store_url, root) = parse_location(&table.location)?;
    let store = state.runtime_env().object_store(&store_url)?;
    let discovered = discover(&store, &root, &table, &report).await?;
    let metastore = session.engine.metastore();
    let existing = metastore
        .list_partitions(&table.database, &table.name, &PartitionFilter::All)
        .await?;
    let keys: Vec<String> = table
        .partition_keys
        .iter()
        .map(|k| k.name.clone())
        .collect();
    let existing_names: HashSet<String> = existing
        .iter()
        .map(|p| paths::partition_name(&keys, &p.values))
        .collect();

    let mut added = 0;
    if matches!(mode, RepairMode::Add | RepairMode::Sync) {
        let new: Vec<Partition> = discovered
            .iter()
            .filter(|(name, _)| !existing_names.contains(*name))
            .map(|(_, (values, location))| {
                Partition::external(values.clone(), location.clone(), now())
            })
            .collect();
        let new = without_uncommitted(session, &table, &store, new).await?;
        added = metastore
            .add_partitions(&table.database, &table.name, new, true)
            .await?;
    }
    let mut dropped = 0;
    if matches!(mode, RepairMode::Drop | RepairMode::Sync) {
        let gone = missing(&store, &existing, &keys, &discovered).await?;
        dropped = metastore
            .drop_partitions(&table.database, &table.name, gone, true)
            .await?
            .len();
    }
    report(Progress::Finished);
    let schema = result_schema();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![added as i64])),
        Arc::new(Int64Array::from(vec![dropped as i64])),
    ];
    Output::batches(schema.clone(), vec![RecordBatch::try_new(schema, columns)?])
}

/// The columns MSCK REPAIR reports (known before it runs, for prepared statements).
/// Drops the directories holding nothing but files of tarn writes that have not committed (a
/// killed write's new partition): registering them would show those rows to engines that list.
/// Only looked at while the table has such writes, so a plain MSCK lists no data files.
async fn without_uncommitted(
    session: &Session,
    table: &Table,
    store: &Arc<dyn ObjectStore>,
    new: Vec<Partition>,
) -> Result<Vec<Partition>> {
    let state = session
        .engine
        .metastore()
        .write_state(&table.database, &table.name, &table.location)
        .await?;
    if state.pending.is_empty() {
        return Ok(new);
    }
    let pending: HashSet<String> = state.pending.into_iter().map(|p| p.write_id).collect();
    let checked = futures::stream::iter(new)
        .map(|p| {
            let pending = &pending;
            async move {
                let (_, dir) = parse_location(&p.location)?;
                let files = crate::provider::list_recursive(store, &dir, false).await?;
                let only_uncommitted = !files.is_empty()
                    && files.iter().all(|f| {
                        f.location
                            .filename()
                            .and_then(paths::tarn_write_id)
                            .is_some_and(|id| pending.contains(id))
                    });
                Ok::<_, EngineError>((!only_uncommitted).then_some(p))
            }
        })
        .buffered(LIST_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(checked.into_iter().flatten().collect())
}

pub(crate) fn result_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("partitions_added", DataType::Int64, false),
        Field::new("partitions_dropped", DataType::Int64, false),
    ]))
}

/// Walks the key levels breadth-first: `partition name -> (values, location)`.
async fn discover(
    store: &Arc<dyn ObjectStore>,
    root: &Path,
    table: &Table,
    report: &(dyn Fn(Progress) + Sync),
) -> Result<BTreeMap<String, (PartitionSpec, String)>> {
    let base = table.location.trim_end_matches('/');
    let mut level: Vec<(Path, Vec<Option<String>>)> = vec![(root.clone(), vec![])];
    let mut listed = 0u64;
    for key in &table.partition_keys {
        let children: Vec<Vec<(Path, Vec<Option<String>>)>> = futures::stream::iter(level)
            .map(|(dir, values)| async move {
                let subdirs = list_subdirs(store, &dir).await?;
                Ok::<_, EngineError>(
                    subdirs
                        .into_iter()
                        .filter_map(|sub| {
                            let last = sub.filename()?.to_string();
                            let (k, v) = last.split_once('=')?;
                            if !paths::unescape_path_name(k).eq_ignore_ascii_case(&key.name) {
                                return None;
                            }
                            let mut vals = values.clone();
                            vals.push(paths::normalize_value(Some(&paths::unescape_path_name(v))));
                            Some((sub, vals))
                        })
                        .collect(),
                )
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .inspect_ok(|_| {
                listed += 1;
                report(Progress::Advanced { done: listed });
            })
            .try_collect()
            .await?;
        level = children.into_iter().flatten().collect();
    }
    let keys: Vec<String> = table
        .partition_keys
        .iter()
        .map(|k| k.name.clone())
        .collect();
    Ok(level
        .into_iter()
        .map(|(dir, values)| {
            let relative = dir.prefix_match(root).map(|parts| {
                parts
                    .map(|p| p.as_ref().to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            });
            let location = paths::join(base, &relative.unwrap_or_default());
            (paths::partition_name(&keys, &values), (values, location))
        })
        .collect())
}

/// Catalogued partitions whose directory no longer holds anything.
async fn missing(
    store: &Arc<dyn ObjectStore>,
    existing: &[Partition],
    keys: &[String],
    discovered: &BTreeMap<String, (PartitionSpec, String)>,
) -> Result<Vec<PartitionSpec>> {
    let mut gone = Vec::new();
    for p in existing {
        if discovered.contains_key(&paths::partition_name(keys, &p.values)) {
            continue;
        }
        let (_, dir) = parse_location(&p.location)?;
        let listed = store.list_with_delimiter(Some(&dir)).await;
        let empty = match listed {
            Ok(l) => l.objects.is_empty() && l.common_prefixes.is_empty(),
            Err(object_store::Error::NotFound { .. }) => true,
            Err(e) => {
                return Err(EngineError::Storage {
                    location: p.location.clone(),
                    message: e.to_string(),
                });
            }
        };
        if empty {
            gone.push(p.values.clone());
        }
    }
    Ok(gone)
}
