//! tarn's system tables, in the reserved schema `tarn`: `tarn.batches` lists every committed
//! write (batch id, statement, user, time, partitions, rows), newest first.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampSecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use tarn_catalog::BatchRecord;

use crate::engine::EngineInner;
use crate::error::EngineError;

/// The reserved schema name.
pub const SYSTEM_SCHEMA: &str = "tarn";

pub(crate) struct SystemSchema {
    pub engine: Arc<EngineInner>,
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
    ];
    Ok(RecordBatch::try_new(batches_schema(), columns)?)
}

#[async_trait]
impl SchemaProvider for SystemSchema {
    fn table_names(&self) -> Vec<String> {
        vec!["batches".into()]
    }

    async fn table(
        &self,
        name: &str,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        if name != "batches" {
            return Ok(None);
        }
        let records = self
            .engine
            .metastore
            .list_batches(None)
            .await
            .map_err(|e| EngineError::from(e).into_datafusion())?;
        let batch = batches_batch(&records)?;
        Ok(Some(Arc::new(MemTable::try_new(
            batches_schema(),
            vec![vec![batch]],
        )?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "batches"
    }
}
