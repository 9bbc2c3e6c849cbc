//! Who may point objects at storage, where, and what a DROP may delete.
//!
//! A location names data outside tarn's control, so pointing a table, partition or database at
//! one needs a superuser or PostgreSQL's predefined `pg_read_server_files` /
//! `pg_write_server_files` roles. A location may never be an allowed root, the warehouse, the
//! data directory (the metastore) or anything containing them, and never overlaps another
//! table's location. Deleting is narrower still: only a managed table's own directory — the one
//! tarn created and recorded at CREATE — and only while no other table points inside it.

use tarn_catalog::{Table, TableType, acl::predefined};

use crate::error::{EngineError, Result};
use crate::session::Session;

/// Table parameter recording the directory tarn created for a managed table: the only place a
/// DROP deletes data (SET LOCATION removes it).
pub(crate) const MANAGED_LOCATION: &str = "tarn.managed_location";

/// Table properties only tarn sets: a user who could write `tarn.managed_location` could make
/// DROP delete any directory.
pub(crate) fn check_properties<'a>(keys: impl IntoIterator<Item = &'a String>) -> Result<()> {
    for key in keys {
        if key.eq_ignore_ascii_case(MANAGED_LOCATION) {
            return Err(EngineError::PermissionDenied(format!(
                "table property '{key}' is set by tarn only"
            )));
        }
    }
    Ok(())
}

/// For a partition's location: its table (whose location it may lie in) and the partition's
/// name (`k=v/…`; SET LOCATION replaces that partition's own location). The table's other
/// partitions count as overlaps like any other table's.
pub(crate) struct PartitionOf<'a> {
    pub table: &'a Table,
    pub name: String,
}

impl PartitionOf<'_> {
    /// Whether a use of a location is this partition's own, or its table's.
    fn owns(&self, u: &tarn_catalog::LocationUse) -> bool {
        u.database == self.table.database
            && u.table == self.table.name
            && u.partition.as_ref().is_none_or(|p| *p == self.name)
    }
}

/// A location for a table (`partition` None) or partition, checked and normalised.
pub(crate) async fn table_location(
    session: &Session,
    location: &str,
    own: Option<&PartitionOf<'_>>,
) -> Result<String> {
    session
        .require_location_role(
            predefined::READ_SERVER_FILES,
            "point a table at a storage location",
        )
        .await?;
    let normalized = session.engine.inner.roots.check(location)?;
    check_not_reserved(session, &normalized)?;
    check_no_overlap(session, &normalized, own).await?;
    if let Some(partition) = own {
        same_store(&normalized, &partition.table.location)?;
    }
    Ok(normalized)
}

/// A table's partitions live on the table's store: scans, writes, VACUUM and DROP use one
/// store per table.
fn same_store(location: &str, table_location: &str) -> Result<()> {
    let (store, _) = crate::provider::parse_location(location)?;
    let (table_store, _) = crate::provider::parse_location(table_location)?;
    if store == table_store {
        return Ok(());
    }
    Err(EngineError::NotSupported(format!(
        "a partition at '{location}' on another store than its table's ('{table_location}')"
    )))
}

/// A location for a database (its managed tables are written there).
pub(crate) async fn database_location(session: &Session, location: &str) -> Result<String> {
    session
        .require_location_role(
            predefined::WRITE_SERVER_FILES,
            "point a database at a storage location",
        )
        .await?;
    let normalized = session.engine.inner.roots.check(location)?;
    check_not_reserved(session, &normalized)?;
    Ok(normalized)
}

/// `inner` is `outer` or lies below it (path components, not string prefixes).
pub(crate) fn within(inner: &str, outer: &str) -> bool {
    let outer = outer.trim_end_matches('/');
    let inner = inner.trim_end_matches('/');
    inner == outer || (inner.starts_with(outer) && inner[outer.len()..].starts_with('/'))
}

/// Locations nothing may point at: the roots themselves and whatever holds the warehouse, the
/// data directory or a root.
fn check_not_reserved(session: &Session, location: &str) -> Result<()> {
    let inner = &session.engine.inner;
    let data_dir = std::fs::canonicalize(&inner.config.data_dir)
        .unwrap_or_else(|_| inner.config.data_dir.clone())
        .display()
        .to_string();
    let mut protected = inner.roots.describe();
    protected.push(inner.warehouse.clone());
    protected.push(data_dir);
    for p in &protected {
        if within(p, location) {
            return Err(EngineError::PermissionDenied(format!(
                "location '{location}' is or contains '{p}', which tarn keeps for itself; use a directory below it"
            )));
        }
    }
    Ok(())
}

/// No two tables share data: a location may not lie inside, or contain, another table's or
/// another table's partition's (partitions may live outside their table's directory).
async fn check_no_overlap(
    session: &Session,
    location: &str,
    own: Option<&PartitionOf<'_>>,
) -> Result<()> {
    let uses = session
        .engine
        .metastore()
        .locations_overlapping(location)
        .await?;
    let other = uses.iter().find(|u| !own.is_some_and(|p| p.owns(u)));
    let Some(other) = other else { return Ok(()) };
    let what = match &other.partition {
        Some(p) => format!("partition {p} of table {}.{}", other.database, other.table),
        None => format!("table {}.{}", other.database, other.table),
    };
    Err(EngineError::PermissionDenied(format!(
        "location '{location}' overlaps the location of {what} ('{}')",
        other.location
    )))
}

/// Checks that a new managed table's directory is not another table's (`replacing`: the table
/// it replaces in the same commit).
pub(crate) async fn check_managed(
    session: &Session,
    location: &str,
    replacing: Option<&Table>,
) -> Result<()> {
    check_not_reserved(session, location)?;
    match replacing {
        None => check_no_overlap(session, location, None).await,
        Some(table) => {
            let uses = session
                .engine
                .metastore()
                .locations_overlapping(location)
                .await?;
            match uses
                .iter()
                .find(|u| u.database != table.database || u.table != table.name)
            {
                None => Ok(()),
                Some(_) => check_no_overlap(session, location, None).await,
            }
        }
    }
}

/// A new managed table's directory: Hive's default `default` (`<database>/<name>`) when free,
/// else `<default>-<suffix>`. A table renamed away from a name keeps its directory, so the
/// name's default can be taken by a table of another name (dbt's table swap renames tables
/// into place on every run); the new table gets a directory of its own rather than an error.
pub(crate) async fn managed_directory(
    session: &Session,
    default: &str,
    replacing: Option<&Table>,
) -> Result<String> {
    check_not_reserved(session, default)?;
    let first = check_managed(session, default, replacing).await;
    let Err(EngineError::PermissionDenied(_)) = &first else {
        return first.map(|()| default.to_string());
    };
    for _ in 0..4 {
        let candidate = format!("{default}-{}", crate::write::write_id_suffix());
        if check_managed(session, &candidate, None).await.is_ok() {
            return Ok(candidate);
        }
    }
    first.map(|()| default.to_string())
}

/// The directory tarn created for a managed table: recorded at CREATE; tables from before the
/// record existed count when they lie strictly inside the warehouse.
fn own_directory(session: &Session, table: &Table) -> Option<String> {
    if table.table_type != TableType::Managed {
        return None;
    }
    if let Some(recorded) = table.parameters.get(MANAGED_LOCATION) {
        return Some(recorded.clone());
    }
    let warehouse = &session.engine.inner.warehouse;
    (within(&table.location, warehouse) && table.location.trim_end_matches('/') != warehouse)
        .then(|| table.location.clone())
}

/// What a DROP of `table` (or of its `partition`, by name, at `location`) may delete:
/// `location` itself when it lies in the table's own directory (strictly inside it, for a
/// partition) and nothing else — another table, or another partition of this one — uses a
/// location at, inside or above it; else nothing (the data stays, and a warning is logged).
pub(crate) async fn deletable(
    session: &Session,
    table: &Table,
    location: &str,
    partition: Option<&str>,
) -> Result<Option<String>> {
    let Some(own) = own_directory(session, table) else {
        return Ok(None);
    };
    let at_table_root = location.trim_end_matches('/') == own.trim_end_matches('/');
    if !within(location, &own) || (partition.is_some() && at_table_root) {
        tracing::warn!(
            "not deleting '{location}': outside the directory tarn created for {}",
            table.qualified_name()
        );
        return Ok(None);
    }
    let uses = session
        .engine
        .metastore()
        .locations_overlapping(location)
        .await?;
    // Anything else pointing at, inside or above the directory keeps it. A dropped table's own
    // partitions go with it; a dropped partition's siblings do not.
    let other = uses.iter().find(|u| {
        let same_table = u.database == table.database && u.table == table.name;
        let ours = match partition {
            None => same_table,
            Some(name) => same_table && u.partition.as_deref().is_none_or(|p| p == name),
        };
        !ours
    });
    if let Some(other) = other {
        tracing::warn!(
            "not deleting '{location}': {}.{} still uses it ('{}')",
            other.database,
            other.table,
            other.location
        );
        return Ok(None);
    }
    Ok(Some(location.to_string()))
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn within_compares_path_components() {
        assert!(within("/w/a/b", "/w/a"));
        assert!(within("/w/a/", "/w/a"));
        assert!(!within("/w/ab", "/w/a"));
        assert!(!within("/w", "/w/a"));
        assert!(within("s3://b/lake/t", "s3://b/lake"));
    }
}
