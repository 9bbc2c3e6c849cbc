//! Renaming a partition (Hive's `rename_partition`, Spark's `ALTER TABLE … PARTITION …
//! RENAME TO PARTITION …`): the owner gives a partition new values. tarn never moves data, so
//! the partition keeps its directory unless the client names another one — unlike Hive, which
//! moves a managed table's partition directory to the new name.

use tarn_catalog::{CatalogError, Partition};

use super::partitions::spec;
use super::{Metadata, NewPartition};
use crate::error::Result;

impl Metadata<'_> {
    /// Renames the partition with values `from` to `to.values` (with `to`'s parameters and,
    /// when given and different, location). Empty `from`: an alter of `to`, as in Hive.
    pub async fn rename_partition(
        &self,
        db: &str,
        name: &str,
        from: Vec<String>,
        to: NewPartition,
    ) -> Result<()> {
        if from.is_empty() {
            return self.alter_partitions(db, name, vec![to]).await;
        }
        let table = self.table_for_change(db, name).await?;
        self.session.require_owner(&table).await?;
        let current = self.partition(&table, &from).await?;
        let values = spec(&table, &to.values)?;
        if values == current.values {
            return Err(CatalogError::PartitionExists {
                table: table.qualified_name(),
                partition: crate::write::partition_name(&table, &values),
            }
            .into());
        }
        let location = match to.location.as_deref() {
            Some(l) if !l.is_empty() && !self.is_location(l, &current.location) => {
                self.partition_location(&table, &values, Some(l), true)
                    .await?
            }
            _ => current.location.clone(),
        };
        let mut renamed = Partition::external(values, location, current.create_time);
        renamed.parameters = to.parameters;
        self.metastore()
            .rename_partition(&table.database, &table.name, current.values, renamed)
            .await?;
        Ok(())
    }
}
