//! tarn's system tables, in the reserved schema `tarn`: `tarn.batches` lists every committed
//! write (batch id, statement, user, time, partitions, rows), newest first; `tarn.scan_cache`
//! shows what the decoded-column cache holds (files, bytes, budget).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampSecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use tarn_catalog::BatchRecord;

use super::ScanCacheUsage;
use crate::engine::EngineInner;
use crate::error::EngineError;

/// The reserved schema name.
pub const SYSTEM_SCHEMA: &str = "tarn";

pub(crate) struct SystemSchema {
    pub engine: Arc<EngineInner>,
    /// Whose view: batches of tables it may not SELECT are left out.
    pub identity: Arc<crate::authz::Identity>,
}

impl std::fmt::Debug for SystemSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemSchema")
    }
}

pub(crate) fn batches_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("database", DataType::Utf8, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("batch_id", DataType::Utf8, false),
        Field::new("statement", DataType::Utf8, false),
        Field::new("user_name", DataType::Utf8, false),
        Field::new(
            "committed_at",
            DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
            false,
        ),
        Field::new(
            "partitions",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        Field::new("rows_written", DataType::Int64, false),
        // false once a re-run of the same batch id replaced this run's rows.
        Field::new("live", DataType::Boolean, false),
    ]))
}

fn batches_batch(records: &[BatchRecord]) -> datafusion::common::Result<RecordBatch> {
    let strings = |f: fn(&BatchRecord) -> &str| -> ArrayRef {
        Arc::new(StringArray::from(records.iter().map(f).collect::<Vec<_>>()))
    };
    let mut partitions = ListBuilder::new(StringBuilder::new());
    for r in records {
        for p in &r.partitions {
            partitions.values().append_value(p);
        }
        partitions.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(|r| &r.database),
        strings(|r| &r.table),
        strings(|r| &r.batch_id),
        strings(|r| &r.statement),
        strings(|r| &r.user),
        Arc::new(
            TimestampSecondArray::from(records.iter().map(|r| r.time).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(partitions.finish()),
        Arc::new(Int64Array::from(
            records.iter().map(|r| r.rows as i64).collect::<Vec<_>>(),
        )),
        Arc::new(datafusion::arrow::array::BooleanArray::from(
            records.iter().map(|r| r.live).collect::<Vec<_>>(),
        )),
    ];
    Ok(RecordBatch::try_new(batches_schema(), columns)?)
}

fn scan_cache_batch(usage: ScanCacheUsage) -> datafusion::common::Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("files", DataType::Int64, false),
        Field::new("bytes", DataType::Int64, false),
        Field::new("budget_bytes", DataType::Int64, false),
    ]));
    let column = |v: usize| -> ArrayRef { Arc::new(Int64Array::from(vec![v as i64])) };
    Ok(RecordBatch::try_new(
        schema,
        vec![
            column(usage.files),
            column(usage.bytes),
            column(usage.budget),
        ],
    )?)
}

const TABLES: [&str; 2] = ["batches", "scan_cache"];

impl SystemSchema {
    /// The batches of tables the identity may SELECT from; the statement text only for the
    /// table's owner (it may quote other tables' data), as pg_stat_activity hides queries.
    async fn visible_batches(&self) -> crate::error::Result<Vec<tarn_catalog::BatchRecord>> {
        let metastore = self.engine.metastore.as_ref();
        let access = self.identity.access(metastore).await?;
        let records = metastore.list_batches(None).await?;
        if access.superuser {
            return Ok(records);
        }
        let mut verdicts = crate::authz::SelectVerdicts::new(metastore, &access);
        let mut out = Vec::new();
        for mut record in records {
            match verdicts.of(&record.database, &record.table).await? {
                Some((crate::authz::TableAccess::Full, owner)) => {
                    if !owner {
                        record.statement = "<insufficient privilege>".into();
                    }
                    out.push(record);
                }
                _ => continue,
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl SchemaProvider for SystemSchema {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|t| t.to_string()).collect()
    }

    async fn table(
        &self,
        name: &str,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        if name == "scan_cache" {
            let batch = scan_cache_batch(self.engine.scan_cache.usage())?;
            return Ok(Some(Arc::new(MemTable::try_new(
                batch.schema(),
                vec![vec![batch]],
            )?)));
        }
        if name != "batches" {
            return Ok(None);
        }
        let records = self
            .visible_batches()
            .await
            .map_err(EngineError::into_datafusion)?;
        let batch = batches_batch(&records)?;
        Ok(Some(Arc::new(MemTable::try_new(
            batches_schema(),
            vec![vec![batch]],
        )?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        TABLES.contains(&name)
    }
}
