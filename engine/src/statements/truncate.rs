//! TRUNCATE: a managed table emptied in one commit. An unpartitioned table's data is replaced
//! by nothing (the overwrite commit protocol, so readers see all rows or none); a partitioned
//! table's partitions are dropped in one catalog transaction, their directories after it.
//! External tables are refused, as Hive does: their files belong to whoever put them there.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use tarn_catalog::{PartitionFilter, Privilege, Table, TableType, hive_types};
use tarn_sql::ObjectName;

use super::load_table;
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;
use crate::write::{self, Mode, WriteJob};

/// Empties each table in turn (Postgres truncates a list atomically; tarn commits per table),
/// after checking every one: a refused table leaves the others untouched. TRUNCATE needs its
/// privilege and, as any tarn overwrite, DELETE and INSERT.
pub(super) async fn run(session: &Session, names: &[ObjectName]) -> Result<Output> {
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let table = load_table(session, name).await?;
        check(&table)?;
        session.require_table(&table, Privilege::Truncate).await?;
        session.require_table(&table, Privilege::Delete).await?;
        session.require_table(&table, Privilege::Insert).await?;
        tables.push(table);
    }
    for table in tables {
        if table.partition_keys.is_empty() {
            replace_with_nothing(session, table).await?;
        } else {
            drop_all_partitions(session, &table).await?;
        }
    }
    Ok(Output::command("TRUNCATE TABLE"))
}

fn check(table: &Table) -> Result<()> {
    match table.table_type {
        TableType::View => Err(EngineError::InvalidParameter(format!(
            "cannot truncate view {}",
            table.qualified_name()
        ))),
        TableType::External => Err(EngineError::InvalidParameter(format!(
            "cannot truncate external table {}: its files are not tarn's to delete",
            table.qualified_name()
        ))),
        TableType::Managed => Ok(()),
    }
}

async fn replace_with_nothing(session: &Session, table: Table) -> Result<()> {
    let fields = table
        .columns
        .iter()
        .map(|c| {
            Ok(Field::new(
                &c.name,
                hive_types::to_arrow(&c.hive_type)?,
                true,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let empty = RecordBatch::new_empty(Arc::new(Schema::new(fields)));
    let input = session.ctx.read_batch(empty)?;
    let job = WriteJob {
        statement: format!("TRUNCATE TABLE {}", table.qualified_name()),
        table,
        mode: Mode::Overwrite,
        static_values: vec![],
        create: false,
        replaces: None,
        columns: vec![],
    };
    write::run(session, job, input).await?;
    Ok(())
}

async fn drop_all_partitions(session: &Session, table: &Table) -> Result<()> {
    let specs = session
        .engine
        .metastore()
        .list_partitions(&table.database, &table.name, &PartitionFilter::All)
        .await?
        .into_iter()
        .map(|p| p.values)
        .collect();
    super::alter::drop_partitions(session, table, specs, true).await
}
