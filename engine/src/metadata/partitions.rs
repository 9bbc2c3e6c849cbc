//! Partitions through a metastore protocol. Values arrive as Hive sends them (strings, NULL as
//! `__HIVE_DEFAULT_PARTITION__` or empty) and are checked against the key types; reads filter
//! in the catalog's index and then exactly.

use std::collections::BTreeMap;

use datafusion::common::ScalarValue;
use tarn_catalog::{
    CatalogError, KeyValue, Partition, PartitionFilter, PartitionSpec, Privilege, Table, paths,
};

use super::{HiveFilter, Metadata};
use crate::error::{EngineError, Result};
use crate::statements::locations::{self, PartitionOf, within};

/// A partition a client registers or replaces.
#[derive(Debug, Clone, Default)]
pub struct NewPartition {
    /// One value per key, unescaped; `__HIVE_DEFAULT_PARTITION__` or empty is NULL.
    pub values: Vec<String>,
    /// `None`: the table's `k=v/…` directory.
    pub location: Option<String>,
    pub parameters: BTreeMap<String, String>,
}

impl Metadata<'_> {
    /// The partitions of a readable table that `filter` accepts (all without one), in name
    /// order, at most `max`.
    pub async fn partitions(
        &self,
        table: &Table,
        filter: Option<&HiveFilter>,
        max: Option<usize>,
    ) -> Result<Vec<Partition>> {
        let catalog = filter.map_or(PartitionFilter::All, |f| f.to_catalog(table));
        let mut parts = self
            .metastore()
            .list_partition_definitions(&table.database, &table.name, &catalog)
            .await?;
        if let Some(f) = filter {
            parts.retain(|p| f.matches(table, &p.values));
        }
        parts.truncate(max.unwrap_or(usize::MAX));
        Ok(parts)
    }

    /// The names of all partitions of a readable table, in name order, at most `max`; read
    /// from the catalog without decoding the partitions.
    pub async fn partition_names(&self, table: &Table, max: Option<usize>) -> Result<Vec<String>> {
        let mut names = self
            .metastore()
            .list_partition_names(&table.database, &table.name, &PartitionFilter::All)
            .await?;
        names.truncate(max.unwrap_or(usize::MAX));
        Ok(names)
    }

    /// The partitions whose leading values equal `values`, where an empty value is a wildcard
    /// (Hive's `get_partitions_ps`, `get_partition_names_ps`); the list may be shorter than the
    /// keys.
    pub async fn partitions_by_values(
        &self,
        table: &Table,
        values: &[String],
        max: Option<usize>,
    ) -> Result<Vec<Partition>> {
        if values.len() > table.partition_keys.len() {
            return Err(EngineError::InvalidParameter(format!(
                "{} values given for {} partition columns of {}",
                values.len(),
                table.partition_keys.len(),
                table.qualified_name()
            )));
        }
        let pinned: Vec<(usize, String)> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .map(|(i, v)| (i, v.clone()))
            .collect();
        let catalog = PartitionFilter::and(
            pinned
                .iter()
                .filter_map(|(key, v)| {
                    let value = indexed_value(table, *key, v)?;
                    Some(PartitionFilter::Cmp {
                        key: *key,
                        op: tarn_catalog::CmpOp::Eq,
                        value,
                    })
                })
                .collect(),
        );
        let mut parts = self
            .metastore()
            .list_partition_definitions(&table.database, &table.name, &catalog)
            .await?;
        parts.retain(|p| {
            pinned.iter().all(|(key, v)| {
                same_value(
                    table,
                    *key,
                    p.values.get(*key).cloned().flatten().as_deref(),
                    v,
                )
            })
        });
        parts.truncate(max.unwrap_or(usize::MAX));
        Ok(parts)
    }

    /// The partitions named (`k1=v1/k2=v2`, escaped as Hive names them); unknown names are
    /// skipped. Looked up through the catalog's index, not by listing the table.
    pub async fn partitions_by_names(
        &self,
        table: &Table,
        names: &[String],
    ) -> Result<Vec<Partition>> {
        let keys: Vec<String> = table
            .partition_keys
            .iter()
            .map(|k| k.name.clone())
            .collect();
        let specs: Vec<PartitionSpec> = names
            .iter()
            .filter_map(|n| paths::parse_partition_path(&keys, n))
            .collect();
        if specs.is_empty() {
            return Ok(vec![]);
        }
        let exact = |spec: &PartitionSpec| {
            PartitionFilter::and(
                spec.iter()
                    .enumerate()
                    .map(|(key, v)| match v {
                        None => PartitionFilter::IsNull { key },
                        Some(v) => {
                            indexed_value(table, key, v).map_or(PartitionFilter::All, |value| {
                                PartitionFilter::Cmp {
                                    key,
                                    op: tarn_catalog::CmpOp::Eq,
                                    value,
                                }
                            })
                        }
                    })
                    .collect(),
            )
        };
        let catalog = if specs.len() > 1000 {
            PartitionFilter::All
        } else {
            PartitionFilter::or(specs.iter().map(exact).collect())
        };
        let wanted: std::collections::HashSet<&PartitionSpec> = specs.iter().collect();
        let mut parts = self
            .metastore()
            .list_partition_definitions(&table.database, &table.name, &catalog)
            .await?;
        parts.retain(|p| wanted.contains(&p.values));
        Ok(parts)
    }

    /// One partition by its full values.
    pub async fn partition(&self, table: &Table, values: &[String]) -> Result<Partition> {
        let spec = spec(table, values)?;
        let strings: Vec<String> = values.to_vec();
        let found = self.partitions_by_values(table, &strings, None).await?;
        found
            .into_iter()
            .find(|p| p.values == spec)
            .ok_or_else(|| not_found(table, &spec))
    }

    /// Registers partitions: the owner anywhere the location rules allow, a role with INSERT
    /// on the table inside the table's own directory (how Spark commits an INSERT). With
    /// `if_not_exists` existing ones are skipped. Returns the partitions added.
    pub async fn add_partitions(
        &self,
        db: &str,
        name: &str,
        parts: Vec<NewPartition>,
        if_not_exists: bool,
    ) -> Result<(Table, Vec<Partition>)> {
        let table = self.table_for_change(db, name).await?;
        if table.table_type == tarn_catalog::TableType::View || table.partition_keys.is_empty() {
            return Err(EngineError::InvalidParameter(format!(
                "{} is not a partitioned table",
                table.qualified_name()
            )));
        }
        let owner = self.session.require_owner(&table).await;
        let mut new = Vec::with_capacity(parts.len());
        for p in parts {
            let values = spec(&table, &p.values)?;
            let location = self
                .partition_location(&table, &values, p.location.as_deref(), owner.is_ok())
                .await?;
            let mut partition = Partition::external(values, location, crate::statements::now());
            partition.parameters = p.parameters;
            if new.iter().any(|p: &Partition| p.values == partition.values) {
                return Err(CatalogError::PartitionExists {
                    table: table.qualified_name(),
                    partition: crate::write::partition_name(&table, &partition.values),
                }
                .into());
            }
            new.push(partition);
        }
        if owner.is_err() {
            self.require(&table, Privilege::Insert).await?;
        }
        let before: std::collections::HashSet<PartitionSpec> = if if_not_exists {
            let existing = self.partitions(&table, None, None).await?;
            existing.into_iter().map(|p| p.values).collect()
        } else {
            Default::default()
        };
        let added: Vec<Partition> = new
            .iter()
            .filter(|p| !before.contains(&p.values))
            .cloned()
            .collect();
        self.metastore()
            .add_partitions(&table.database, &table.name, new, if_not_exists)
            .await?;
        for p in &added {
            if p.location.starts_with('/') {
                let _ = tokio::fs::create_dir_all(&p.location).await;
            }
        }
        Ok((table, added))
    }

    /// Where a partition lives: its default directory, any directory inside the table's, or —
    /// for the owner with the location role — elsewhere, as ALTER TABLE … ADD PARTITION.
    pub(super) async fn partition_location(
        &self,
        table: &Table,
        values: &PartitionSpec,
        location: Option<&str>,
        owner: bool,
    ) -> Result<String> {
        let default = crate::statements::alter::default_location(table, values);
        let Some(l) = location.filter(|l| !l.is_empty()) else {
            return Ok(default);
        };
        // Inside the table's own directory (how Spark and MSCK name partitions): no location
        // role needed, the table's data stays the table's.
        if let Some(bare) = super::bare_location(l)
            && !table.location.is_empty()
            && within(&bare, &table.location)
            && bare != table.location.trim_end_matches('/')
            && resolves_within(&bare, &table.location)
        {
            return Ok(bare);
        }
        if !owner {
            return Err(crate::authz::denied(crate::authz::relation(table)));
        }
        let own = PartitionOf {
            table,
            name: crate::write::partition_name(table, values),
        };
        locations::table_location(self.session, l, Some(&own)).await
    }

    /// Drops partitions by their full values (the owner only); a managed table's partition
    /// directories go too when `delete_data`. Returns the dropped partitions.
    pub async fn drop_partitions(
        &self,
        db: &str,
        name: &str,
        values: Vec<Vec<String>>,
        delete_data: bool,
        if_exists: bool,
    ) -> Result<Vec<Partition>> {
        let table = self.table_for_change(db, name).await?;
        self.session.require_owner(&table).await?;
        let specs = values
            .iter()
            .map(|v| spec(&table, v))
            .collect::<Result<Vec<_>>>()?;
        let dropped = self
            .metastore()
            .drop_partitions(&table.database, &table.name, specs, if_exists)
            .await?;
        if delete_data {
            for p in &dropped {
                let name = crate::write::partition_name(&table, &p.values);
                if let Some(location) =
                    locations::deletable(self.session, &table, &p.location, Some(&name)).await?
                {
                    crate::statements::table::delete_location(self.session, &location).await?;
                }
            }
        }
        Ok(dropped)
    }

    /// Replaces the location and parameters of existing partitions (the owner only).
    pub async fn alter_partitions(
        &self,
        db: &str,
        name: &str,
        parts: Vec<NewPartition>,
    ) -> Result<()> {
        let table = self.table_for_change(db, name).await?;
        self.session.require_owner(&table).await?;
        for p in parts {
            let current = self.partition(&table, &p.values).await?;
            let location = match p.location.as_deref() {
                Some(l) if !self.is_location(l, &current.location) => {
                    self.partition_location(&table, &current.values, Some(l), true)
                        .await?
                }
                _ => current.location.clone(),
            };
            let mut partition = Partition::external(current.values, location, current.create_time);
            partition.parameters = p.parameters;
            self.metastore()
                .alter_partition(&table.database, &table.name, partition)
                .await?;
        }
        Ok(())
    }
}

/// For a local path: its deepest existing ancestor, symlinks resolved, still lies in the
/// table's directory (a client that can write the table's directory could otherwise plant a
/// link to another table's data). Components that do not exist yet cannot be links.
fn resolves_within(path: &str, table_location: &str) -> bool {
    if !path.starts_with('/') {
        return true;
    }
    let Ok(root) = std::fs::canonicalize(table_location) else {
        // The table's directory does not exist: nothing below it does either.
        return true;
    };
    let mut p = std::path::Path::new(path);
    loop {
        if std::fs::symlink_metadata(p).is_ok() {
            return std::fs::canonicalize(p).is_ok_and(|c| c.starts_with(&root));
        }
        match p.parent() {
            Some(parent) => p = parent,
            None => return false,
        }
    }
}

/// Hive's values as a typed spec: one per key, NULL for the default partition, each valid for
/// its key's type.
pub fn spec(table: &Table, values: &[String]) -> Result<PartitionSpec> {
    if values.len() != table.partition_keys.len() {
        return Err(EngineError::InvalidParameter(format!(
            "{} values given for the {} partition columns of {}",
            values.len(),
            table.partition_keys.len(),
            table.qualified_name()
        )));
    }
    values
        .iter()
        .zip(&table.partition_keys)
        .map(|(v, key)| {
            let v = paths::normalize_value(Some(v));
            if let Some(v) = &v {
                ScalarValue::try_from_string(v.clone(), &key.data_type()?).map_err(|_| {
                    EngineError::InvalidParameter(format!(
                        "partition value '{v}' is not a valid {} for column '{}'",
                        key.hive_type, key.name
                    ))
                })?;
            }
            Ok(v)
        })
        .collect()
}

fn indexed_value(table: &Table, key: usize, v: &str) -> Option<KeyValue> {
    match tarn_catalog::indexed_kind(&table.partition_keys[key].hive_type)? {
        tarn_catalog::IndexKind::Int => v.trim().parse().ok().map(KeyValue::Int),
        tarn_catalog::IndexKind::Text => paths::normalize_value(Some(v)).map(KeyValue::Text),
    }
}

/// Whether a stored value is the one a client named (integers by value; the default partition
/// name names NULL).
fn same_value(table: &Table, key: usize, stored: Option<&str>, wanted: &str) -> bool {
    let wanted = paths::normalize_value(Some(wanted));
    match (stored, wanted.as_deref()) {
        (None, None) => true,
        (Some(s), Some(w)) => {
            s == w
                || (tarn_catalog::indexed_kind(&table.partition_keys[key].hive_type)
                    == Some(tarn_catalog::IndexKind::Int)
                    && s.trim().parse::<i64>().ok() == w.trim().parse::<i64>().ok()
                    && s.trim().parse::<i64>().is_ok())
        }
        _ => false,
    }
}

fn not_found(table: &Table, spec: &PartitionSpec) -> EngineError {
    CatalogError::PartitionNotFound {
        table: table.qualified_name(),
        partition: crate::write::partition_name(table, spec),
    }
    .into()
}
