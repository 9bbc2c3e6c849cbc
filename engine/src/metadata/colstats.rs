//! Column statistics through a metastore protocol (Hive's `*_column_statistics`,
//! `get_*_statistics_req`, `get_aggr_stats_for`, `set_aggr_stats_for`). Reading them needs
//! SELECT on the table (they summarise its data); writing them is a writer's job: the owner, or
//! a role with INSERT, as registering a partition.

use std::collections::BTreeMap;

use tarn_catalog::{
    CatalogError, ColumnStatistics, PartitionSpec, Privilege, StatsUpdate, StoredColumnStats,
    Table, combine, paths,
};

use super::Metadata;
use crate::error::{EngineError, Result};

/// Statistics aggregated over partitions, and how many of the partitions asked for had
/// statistics of every requested column (Hive's `AggrStats.partsFound`).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatedStats {
    pub columns: Vec<ColumnStatistics>,
    pub partitions_found: usize,
}

impl Metadata<'_> {
    /// Records statistics of the table (partition `None`) and of partitions so named (`k=v/…`,
    /// escaped as Hive names them), all or nothing. With `merge`, each column's new numbers are
    /// combined with those stored (an append adds to what was there), in the same transaction.
    pub async fn set_column_statistics(
        &self,
        db: &str,
        name: &str,
        updates: Vec<(Option<String>, Vec<ColumnStatistics>)>,
        merge: bool,
    ) -> Result<()> {
        let table = self.table_for_change(db, name).await?;
        if self.session.require_owner(&table).await.is_err() {
            self.require(&table, Privilege::Insert).await?;
        }
        let mut checked_updates = Vec::with_capacity(updates.len());
        for (partition, stats) in updates {
            checked_updates.push(StatsUpdate {
                partition: partition.map(|p| spec_of(&table, &p)).transpose()?,
                stats: stats
                    .into_iter()
                    .map(|s| checked(&table, s))
                    .collect::<Result<Vec<_>>>()?,
            });
        }
        self.metastore()
            .set_column_statistics(&table.database, &table.name, checked_updates, merge)
            .await?;
        Ok(())
    }

    /// A readable table and the statistics of `columns` of it, or of each named partition
    /// that has some.
    pub async fn column_statistics(
        &self,
        db: &str,
        name: &str,
        partitions: Option<&[String]>,
        columns: &[String],
    ) -> Result<(Table, Vec<StoredColumnStats>)> {
        let table = self.table(db, name).await?;
        let specs = partitions.map(|names| {
            let keys = key_names(&table);
            names
                .iter()
                .filter_map(|n| paths::parse_partition_path(&keys, n))
                .collect()
        });
        let stored = self
            .metastore()
            .column_statistics(&table.database, &table.name, specs, columns.to_vec())
            .await?;
        Ok((table, stored))
    }

    /// Statistics of `columns` aggregated over the named partitions of a readable table.
    pub async fn aggregate_column_statistics(
        &self,
        db: &str,
        name: &str,
        partitions: &[String],
        columns: &[String],
    ) -> Result<AggregatedStats> {
        let (_, stored) = self
            .column_statistics(db, name, Some(partitions), columns)
            .await?;
        Ok(aggregate(stored, columns))
    }

    /// Removes the statistics of one column (all without one) of the table or one partition;
    /// whether there were any.
    pub async fn delete_column_statistics(
        &self,
        db: &str,
        name: &str,
        partition: Option<&str>,
        column: Option<&str>,
    ) -> Result<bool> {
        let table = self.table_for_change(db, name).await?;
        if self.session.require_owner(&table).await.is_err() {
            self.require(&table, Privilege::Insert).await?;
        }
        let spec = partition.map(|p| spec_of(&table, p)).transpose()?;
        let deleted = self
            .metastore()
            .delete_column_statistics(
                &table.database,
                &table.name,
                spec,
                column.map(str::to_lowercase),
            )
            .await?;
        Ok(deleted > 0)
    }
}

fn key_names(table: &Table) -> Vec<String> {
    table
        .partition_keys
        .iter()
        .map(|k| k.name.clone())
        .collect()
}

fn spec_of(table: &Table, name: &str) -> Result<PartitionSpec> {
    paths::parse_partition_path(&key_names(table), name).ok_or_else(|| {
        CatalogError::PartitionNotFound {
            table: table.qualified_name(),
            partition: name.to_string(),
        }
        .into()
    })
}

/// A column of the table's data (not a partition key) and sane numbers: counts are never
/// negative and doubles are finite (the catalog keeps them as JSON).
fn checked(table: &Table, mut s: ColumnStatistics) -> Result<ColumnStatistics> {
    if table.view_text.is_some() {
        return Err(invalid(format!(
            "{} is a view: it has no column statistics",
            table.qualified_name()
        )));
    }
    s.column = s.column.to_lowercase();
    if !table
        .columns
        .iter()
        .any(|c| c.name.to_lowercase() == s.column)
    {
        return Err(invalid(format!(
            "{} has no data column '{}' to keep statistics of",
            table.qualified_name(),
            s.column
        )));
    }
    let (counts, doubles) = s.data.counts_and_averages();
    if counts.iter().any(|c| *c < 0) {
        return Err(invalid(format!(
            "statistics of column '{}': counts cannot be negative",
            s.column
        )));
    }
    if doubles.iter().any(|d| !d.is_finite()) {
        return Err(invalid(format!(
            "statistics of column '{}': values must be finite numbers",
            s.column
        )));
    }
    Ok(s)
}

fn invalid(message: String) -> EngineError {
    EngineError::InvalidParameter(message)
}

/// Per column, the statistics of all partitions combined; `partitions_found` counts the
/// partitions that had every requested column. A column whose partitions disagree on its kind
/// has no aggregate (one partition's numbers are not the table's).
pub fn aggregate(stored: Vec<StoredColumnStats>, columns: &[String]) -> AggregatedStats {
    let wanted: std::collections::BTreeSet<String> =
        columns.iter().map(|c| c.to_lowercase()).collect();
    let mut per_partition: BTreeMap<Vec<Option<String>>, usize> = BTreeMap::new();
    let mut combined: BTreeMap<String, Option<ColumnStatistics>> = BTreeMap::new();
    for s in stored {
        if !wanted.contains(&s.stats.column) {
            continue;
        }
        *per_partition
            .entry(s.partition.unwrap_or_default())
            .or_default() += 1;
        match combined.get_mut(&s.stats.column) {
            None => {
                combined.insert(s.stats.column.clone(), Some(s.stats));
            }
            Some(slot) => {
                *slot = slot.take().and_then(|mut sum| {
                    sum.data = combine(&sum.data, &s.stats.data)?;
                    Some(sum)
                });
            }
        }
    }
    AggregatedStats {
        partitions_found: per_partition
            .values()
            .filter(|n| **n >= wanted.len())
            .count(),
        columns: combined.into_values().flatten().collect(),
    }
}

#[cfg(test)]
mod tests;
