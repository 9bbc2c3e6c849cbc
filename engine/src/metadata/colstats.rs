//! Column statistics through a metastore protocol (Hive's `*_column_statistics`,
//! `get_*_statistics_req`, `get_aggr_stats_for`, `set_aggr_stats_for`). Reading them needs
//! SELECT on the table (they summarise its data); writing them is a writer's job: the owner, or
//! a role with INSERT, as registering a partition.

use std::collections::BTreeMap;

use tarn_catalog::{
    CatalogError, ColumnStatistics, ColumnStatsData, PartitionSpec, Privilege, StoredColumnStats,
    Table, paths,
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
    /// Records statistics of the table (`partition` `None`) or of the partition so named
    /// (`k=v/…`, escaped as Hive names them). With `merge`, each column's new numbers are
    /// combined with those stored (an append adds to what was there).
    pub async fn set_column_statistics(
        &self,
        db: &str,
        name: &str,
        partition: Option<&str>,
        stats: Vec<ColumnStatistics>,
        merge: bool,
    ) -> Result<()> {
        let table = self.table_for_change(db, name).await?;
        if self.session.require_owner(&table).await.is_err() {
            self.require(&table, Privilege::Insert).await?;
        }
        let stats = stats
            .into_iter()
            .map(|s| checked(&table, s))
            .collect::<Result<Vec<_>>>()?;
        let spec = partition.map(|p| spec_of(&table, p)).transpose()?;
        let stats = if merge {
            let columns = stats.iter().map(|s| s.column.clone()).collect();
            let old = self
                .metastore()
                .column_statistics(
                    &table.database,
                    &table.name,
                    spec.clone().map(|s| vec![s]),
                    columns,
                )
                .await?;
            merged_with(stats, old)
        } else {
            stats
        };
        self.metastore()
            .set_column_statistics(&table.database, &table.name, spec, stats)
            .await?;
        Ok(())
    }

    /// Statistics of `columns` of a readable table, or of each named partition that has some.
    pub async fn column_statistics(
        &self,
        table: &Table,
        partitions: Option<&[String]>,
        columns: &[String],
    ) -> Result<Vec<StoredColumnStats>> {
        let specs = partitions.map(|names| {
            let keys = key_names(table);
            names
                .iter()
                .filter_map(|n| paths::parse_partition_path(&keys, n))
                .collect()
        });
        Ok(self
            .metastore()
            .column_statistics(&table.database, &table.name, specs, columns.to_vec())
            .await?)
    }

    /// Statistics of `columns` aggregated over the named partitions of a readable table.
    pub async fn aggregate_column_statistics(
        &self,
        table: &Table,
        partitions: &[String],
        columns: &[String],
    ) -> Result<AggregatedStats> {
        let stored = self
            .column_statistics(table, Some(partitions), columns)
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

/// The new statistics, each combined with the stored ones of its column when both are of
/// one kind.
fn merged_with(new: Vec<ColumnStatistics>, old: Vec<StoredColumnStats>) -> Vec<ColumnStatistics> {
    let mut old: BTreeMap<String, ColumnStatsData> = old
        .into_iter()
        .map(|s| (s.stats.column, s.stats.data))
        .collect();
    new.into_iter()
        .map(|mut s| {
            if let Some(before) = old.remove(&s.column)
                && let Some(data) = combine(&before, &s.data)
            {
                s.data = data;
            }
            s
        })
        .collect()
}

/// Per column, the statistics of all partitions combined; `partitions_found` counts the
/// partitions that had every requested column.
pub fn aggregate(stored: Vec<StoredColumnStats>, columns: &[String]) -> AggregatedStats {
    let wanted: Vec<String> = columns.iter().map(|c| c.to_lowercase()).collect();
    let mut per_partition: BTreeMap<Vec<Option<String>>, usize> = BTreeMap::new();
    let mut combined: BTreeMap<String, ColumnStatistics> = BTreeMap::new();
    for s in stored {
        if !wanted.contains(&s.stats.column) {
            continue;
        }
        *per_partition
            .entry(s.partition.unwrap_or_default())
            .or_default() += 1;
        let column = s.stats.column.clone();
        match combined.get_mut(&column) {
            None => {
                combined.insert(column, s.stats);
            }
            Some(sum) => {
                if let Some(data) = combine(&sum.data, &s.stats.data) {
                    sum.data = data;
                }
            }
        }
    }
    let distinct: std::collections::BTreeSet<&String> = wanted.iter().collect();
    AggregatedStats {
        partitions_found: per_partition
            .values()
            .filter(|n| **n >= distinct.len())
            .count(),
        columns: combined.into_values().collect(),
    }
}

/// Two summaries of one column over disjoint rows as one (Hive's aggregators without
/// sketches): counts add, bounds widen, distinct counts and lengths take the larger (a lower
/// bound of the truth). `None` when the kinds differ.
fn combine(a: &ColumnStatsData, b: &ColumnStatsData) -> Option<ColumnStatsData> {
    use ColumnStatsData::*;
    let min = |x: Option<i64>, y: Option<i64>| x.into_iter().chain(y).min();
    let max = |x: Option<i64>, y: Option<i64>| x.into_iter().chain(y).max();
    Some(match (a, b) {
        (
            Boolean {
                num_trues: t1,
                num_falses: f1,
                num_nulls: n1,
                ..
            },
            Boolean {
                num_trues: t2,
                num_falses: f2,
                num_nulls: n2,
                ..
            },
        ) => Boolean {
            num_trues: t1.saturating_add(*t2),
            num_falses: f1.saturating_add(*f2),
            num_nulls: n1.saturating_add(*n2),
            bit_vectors: None,
        },
        (
            Long {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Long {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Long {
            low: min(*l1, *l2),
            high: max(*h1, *h2),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            Date {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Date {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Date {
            low: min(*l1, *l2),
            high: max(*h1, *h2),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            Double {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Double {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Double {
            low: (*l1).into_iter().chain(*l2).reduce(f64::min),
            high: (*h1).into_iter().chain(*h2).reduce(f64::max),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            String {
                max_len: m1,
                avg_len: a1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            String {
                max_len: m2,
                avg_len: a2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => String {
            max_len: *m1.max(m2),
            avg_len: a1.max(*a2),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        (
            Binary {
                max_len: m1,
                avg_len: a1,
                num_nulls: n1,
                ..
            },
            Binary {
                max_len: m2,
                avg_len: a2,
                num_nulls: n2,
                ..
            },
        ) => Binary {
            max_len: *m1.max(m2),
            avg_len: a1.max(*a2),
            num_nulls: n1.saturating_add(*n2),
            bit_vectors: None,
        },
        (
            Decimal {
                low: l1,
                high: h1,
                num_nulls: n1,
                num_dvs: d1,
                ..
            },
            Decimal {
                low: l2,
                high: h2,
                num_nulls: n2,
                num_dvs: d2,
                ..
            },
        ) => Decimal {
            low: decimal_bound(l1, l2, std::cmp::Ordering::Less),
            high: decimal_bound(h1, h2, std::cmp::Ordering::Greater),
            num_nulls: n1.saturating_add(*n2),
            num_dvs: *d1.max(d2),
            bit_vectors: None,
        },
        _ => return None,
    })
}

/// The lower (`Less`) or upper bound of two decimals, compared by value.
fn decimal_bound(
    a: &Option<tarn_catalog::HiveDecimal>,
    b: &Option<tarn_catalog::HiveDecimal>,
    keep: std::cmp::Ordering,
) -> Option<tarn_catalog::HiveDecimal> {
    match (a, b) {
        (Some(x), Some(y)) => match decimal_cmp(y, x) {
            Some(o) if o == keep => Some(y.clone()),
            Some(_) => Some(x.clone()),
            // A bound tarn cannot compare is no bound.
            None => None,
        },
        (x, y) => x.clone().or_else(|| y.clone()),
    }
}

/// Orders two decimals (`unscaled / 10^scale`) by value; `None` when either is malformed or
/// the comparison does not fit in 128 bits.
pub fn decimal_cmp(
    x: &tarn_catalog::HiveDecimal,
    y: &tarn_catalog::HiveDecimal,
) -> Option<std::cmp::Ordering> {
    let (ux, uy) = (unscaled(x)?, unscaled(y)?);
    let scale = x.scale.max(y.scale);
    let widen = |u: i128, s: i16| u.checked_mul(10i128.checked_pow((scale - s) as u32)?);
    Some(widen(ux, x.scale)?.cmp(&widen(uy, y.scale)?))
}

fn unscaled(d: &tarn_catalog::HiveDecimal) -> Option<i128> {
    if d.unscaled.is_empty() || d.unscaled.len() > 16 || !(0..=38).contains(&d.scale) {
        return None;
    }
    let negative = d.unscaled[0] & 0x80 != 0;
    let mut bytes = [if negative { 0xff } else { 0 }; 16];
    bytes[16 - d.unscaled.len()..].copy_from_slice(&d.unscaled);
    Some(i128::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests;
