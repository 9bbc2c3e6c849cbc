//! Renaming a partition: new values (and so a new name and index rows) for the same data.
//! The partition keeps its files; its location changes only when the caller gives another
//! (then the files there are unknown and it is read by listing, as after an alter).

use super::conn::{Conn, args};
use super::partitions::{bump_version, insert_keys, key_names, load_table};
use crate::error::{CatalogError, Result};
use crate::filter::indexed_kind;
use crate::model::{Partition, PartitionSpec};
use crate::paths::partition_name;

pub(super) fn rename(
    tx: &dyn Conn,
    db: &str,
    table: &str,
    from: &PartitionSpec,
    to: &Partition,
) -> Result<()> {
    let (tbl_id, t) = load_table(tx, db, table)?;
    let keys = key_names(&t);
    if to.values.len() != keys.len() {
        return Err(CatalogError::InvalidArgument(format!(
            "{} values given for the {} partition columns of {}",
            to.values.len(),
            keys.len(),
            t.qualified_name()
        )));
    }
    let (old, new) = (
        partition_name(&keys, from),
        partition_name(&keys, &to.values),
    );
    let Some(row) = tx.query_opt(
        "SELECT id, location FROM parts WHERE tbl_id = ?1 AND name = ?2",
        args![tbl_id, &old],
    )?
    else {
        return Err(CatalogError::PartitionNotFound {
            table: t.qualified_name(),
            partition: old,
        });
    };
    let (id, location) = (row.int(0)?, row.text(1)?);
    if new != old
        && tx
            .query_opt(
                "SELECT 1 FROM parts WHERE tbl_id = ?1 AND name = ?2",
                args![tbl_id, &new],
            )?
            .is_some()
    {
        return Err(CatalogError::PartitionExists {
            table: t.qualified_name(),
            partition: new,
        });
    }
    let moved = to.location != location;
    if moved {
        super::partitions::directories_free(tx, tbl_id, &t, &[(&new, &to.location)])?;
    }
    tx.execute(
        "UPDATE parts SET name = ?2, vals = ?3, location = ?4, params = ?5,
                          version = version + 1, indexed = CASE WHEN ?6 = 1 THEN 0 ELSE indexed END
         WHERE id = ?1",
        args![
            id,
            &new,
            serde_json::to_string(&to.values)?,
            &to.location,
            serde_json::to_string(&to.parameters)?,
            moved
        ],
    )?;
    if moved {
        tx.execute("DELETE FROM part_files WHERE part_id = ?1", args![id])?;
        super::colstats::forget_partition(tx, id)?;
    }
    tx.execute("DELETE FROM part_keys WHERE part_id = ?1", args![id])?;
    let kinds: Vec<_> = t
        .partition_keys
        .iter()
        .map(|k| indexed_kind(&k.hive_type))
        .collect();
    insert_keys(tx, tbl_id, id, &kinds, &to.values)?;
    bump_version(tx, tbl_id)
}
