//! SHOW DATABASES / TABLES / PARTITIONS / COLUMNS.

use tarn_catalog::{PartitionFilter, paths};
use tarn_sql::{ObjectName, PartitionSpecPairs};

use super::{load_table, string_rows};
use crate::error::Result;
use crate::output::Output;
use crate::session::Session;

pub(super) async fn databases(session: &Session, pattern: Option<&str>) -> Result<Output> {
    let dbs = session.engine.metastore().list_databases(pattern).await?;
    let dbs = session.visible_databases(dbs).await?;
    string_rows(
        &["database_name"],
        dbs.into_iter().map(|d| vec![Some(d.name)]).collect(),
    )
}

pub(super) async fn tables(
    session: &Session,
    database: Option<String>,
    pattern: Option<&str>,
) -> Result<Output> {
    let db = database
        .map(|d| crate::provider::database_for_schema(&d))
        .unwrap_or_else(|| session.current_database());
    let tables = session.engine.metastore().list_tables(&db, pattern).await?;
    let tables = session.visible_tables(tables).await?;
    string_rows(
        &["tab_name"],
        tables.into_iter().map(|t| vec![Some(t.name)]).collect(),
    )
}

pub(super) async fn partitions(
    session: &Session,
    name: &ObjectName,
    partial: &PartitionSpecPairs,
) -> Result<Output> {
    let table = load_table(session, name).await?;
    // Partition names are the keys' values: they need SELECT, not just any privilege.
    session
        .require_table(&table, tarn_catalog::Privilege::Select)
        .await?;
    let keys = super::alter::partition_key_names(&table)?;
    let wanted: Vec<(usize, Option<String>)> = partial
        .iter()
        .map(|(k, v)| {
            let idx = keys
                .iter()
                .position(|key| key.eq_ignore_ascii_case(k))
                .ok_or_else(|| {
                    crate::error::EngineError::InvalidParameter(format!(
                        "'{k}' is not a partition column of '{}'",
                        table.qualified_name()
                    ))
                })?;
            Ok((idx, paths::normalize_value(v.as_deref())))
        })
        .collect::<Result<_>>()?;
    let all = session
        .engine
        .metastore()
        .list_partitions(&table.database, &table.name, &PartitionFilter::All)
        .await?;
    let rows = all
        .into_iter()
        .filter(|p| wanted.iter().all(|(i, v)| p.values.get(*i) == Some(v)))
        .map(|p| vec![Some(paths::partition_name(&keys, &p.values))])
        .collect();
    string_rows(&["partition"], rows)
}

pub(super) async fn columns(session: &Session, name: &ObjectName) -> Result<Output> {
    let table = load_table(session, name).await?;
    let rows = table
        .columns
        .iter()
        .chain(&table.partition_keys)
        .map(|c| vec![Some(c.name.clone())])
        .collect();
    string_rows(&["field"], rows)
}
