//! ALTER TABLE: partitions, properties, locations.

use datafusion::common::ScalarValue;
use tarn_catalog::{Partition, PartitionSpec, Table, paths, stats_keys};
use tarn_sql::{AlterTableAction, ObjectName, PartitionSpecPairs};

use super::{load_table, now};
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;

pub(super) async fn run(
    session: &Session,
    name: &ObjectName,
    action: AlterTableAction,
) -> Result<Output> {
    let action = match action {
        AlterTableAction::Rename { to } => return rename(session, name, &to).await,
        other => other,
    };
    let mut table = load_table(session, name).await?;
    session.require_owner(&table).await?;
    let metastore = session.engine.metastore();
    match action {
        AlterTableAction::AddPartitions {
            if_not_exists,
            partitions,
        } => {
            let mut new = Vec::with_capacity(partitions.len());
            for (pairs, location) in partitions {
                let values = typed_spec(&table, &pairs)?;
                let location = match location {
                    Some(l) => {
                        let own = partition_of(&table, &values);
                        super::locations::table_location(session, &l, Some(&own)).await?
                    }
                    None => default_location(&table, &values),
                };
                new.push(Partition::external(values, location, now()));
            }
            metastore
                .add_partitions(&table.database, &table.name, new, if_not_exists)
                .await?;
        }
        AlterTableAction::DropPartitions {
            if_exists,
            partitions,
        } => {
            let specs = partitions
                .iter()
                .map(|pairs| typed_spec(&table, pairs))
                .collect::<Result<Vec<_>>>()?;
            drop_partitions(session, &table, specs, if_exists).await?;
        }
        AlterTableAction::SetProperties(props) => {
            super::locations::check_properties(props.iter().map(|(k, _)| k))?;
            table.parameters.extend(props);
            touch_and_save(session, table).await?;
        }
        AlterTableAction::UnsetProperties { if_exists, keys } => {
            super::locations::check_properties(keys.iter())?;
            for key in keys {
                if table.parameters.remove(&key).is_none() && !if_exists {
                    return Err(EngineError::InvalidParameter(format!(
                        "table '{}' has no property '{key}'",
                        table.qualified_name()
                    )));
                }
            }
            touch_and_save(session, table).await?;
        }
        AlterTableAction::SetLocation {
            partition: None,
            location,
        } => {
            table.location = super::locations::table_location(session, &location, None).await?;
            // Never delete a location the table was pointed at: it is no longer tarn's own.
            table.parameters.remove(super::locations::MANAGED_LOCATION);
            touch_and_save(session, table).await?;
        }
        AlterTableAction::SetLocation {
            partition: Some(pairs),
            location,
        } => {
            let values = typed_spec(&table, &pairs)?;
            let own = partition_of(&table, &values);
            let location = super::locations::table_location(session, &location, Some(&own)).await?;
            let partition = Partition::external(values, location, now());
            metastore
                .alter_partition(&table.database, &table.name, partition)
                .await?;
        }
        AlterTableAction::Rename { to } => return rename(session, name, &to).await,
    }
    Ok(Output::command("ALTER TABLE"))
}

/// Drops partitions in one catalog transaction; a managed table's partition data goes with
/// them, after the metadata commit.
pub(super) async fn drop_partitions(
    session: &Session,
    table: &Table,
    specs: Vec<PartitionSpec>,
    if_exists: bool,
) -> Result<()> {
    let dropped = session
        .engine
        .metastore()
        .drop_partitions(&table.database, &table.name, specs, if_exists)
        .await?;
    for partition in dropped {
        let name = partition_of(table, &partition.values).name;
        if let Some(location) =
            super::locations::deletable(session, table, &partition.location, Some(&name)).await?
        {
            super::table::delete_location(session, &location).await?;
        }
    }
    Ok(())
}

/// `RENAME TO`: a bare new name stays in the table's database (Postgres); a qualified one
/// may move it (Hive).
async fn rename(session: &Session, name: &ObjectName, to: &ObjectName) -> Result<Output> {
    let (db, table) = super::resolve(session, name);
    let to_db = match &to.database {
        Some(_) => super::resolve(session, to).0,
        None => db.clone(),
    };
    session
        .metadata()
        .rename_table(&db, &table, &to_db, &to.name)
        .await?;
    Ok(Output::command("ALTER TABLE"))
}

fn partition_of<'a>(
    table: &'a Table,
    values: &tarn_catalog::PartitionSpec,
) -> super::locations::PartitionOf<'a> {
    super::locations::PartitionOf {
        table,
        name: crate::write::partition_name(table, values),
    }
}

async fn touch_and_save(session: &Session, mut table: Table) -> Result<()> {
    table
        .parameters
        .insert(stats_keys::LAST_DDL_TIME.into(), now().to_string());
    Ok(session.engine.metastore().alter_table(table).await?)
}

/// `<table location>/k1=v1/k2=v2`, Hive's default partition directory.
pub(crate) fn default_location(table: &Table, values: &PartitionSpec) -> String {
    let keys: Vec<String> = table
        .partition_keys
        .iter()
        .map(|k| k.name.clone())
        .collect();
    paths::join(&table.location, &paths::partition_name(&keys, values))
}

/// The names of a table's partition keys; an error naming the table if it has none.
pub(crate) fn partition_key_names(table: &Table) -> Result<Vec<String>> {
    if table.partition_keys.is_empty() {
        return Err(EngineError::InvalidParameter(format!(
            "table '{}' is not partitioned",
            table.qualified_name()
        )));
    }
    Ok(table
        .partition_keys
        .iter()
        .map(|k| k.name.clone())
        .collect())
}

/// A partition spec ordered by the table's keys, with every value checked against its key type.
pub(crate) fn typed_spec(table: &Table, pairs: &PartitionSpecPairs) -> Result<PartitionSpec> {
    let keys = partition_key_names(table)?;
    let spec = paths::spec_from_pairs(&table.qualified_name(), &keys, pairs)?;
    for (value, key) in spec.iter().zip(&table.partition_keys) {
        if let Some(v) = value {
            let ty = key.data_type()?;
            ScalarValue::try_from_string(v.clone(), &ty).map_err(|_| {
                EngineError::InvalidParameter(format!(
                    "partition value '{v}' is not a valid {} for column '{}'",
                    key.hive_type, key.name
                ))
            })?;
        }
    }
    Ok(spec)
}
