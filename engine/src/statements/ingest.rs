//! Bulk ingest of Arrow record batches (Flight SQL's CommandStatementIngest, ADBC's
//! `adbc_ingest`) through the same atomic write path as INSERT and CTAS: the incoming stream is
//! planned as a one-shot table and written without being collected.

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::Column as DFColumn;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, lit};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::streaming::PartitionStream;
use tarn_catalog::{CatalogError, Table};
use tarn_sql::{ObjectName, TableDefinition};

use super::{resolve, writes};
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;
use crate::write::{self, Mode, WriteJob};

/// What to do when the target table exists or does not (ADBC's ingest modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestMode {
    /// Create the table; fail if it exists.
    Create,
    /// Append to the table; fail if it does not exist.
    Append,
    /// Replace the table's contents (and columns), creating it if needed.
    Replace,
    /// Append, creating the table first if needed.
    CreateAppend,
}

/// A stream that can be scanned once.
struct OneShot {
    schema: SchemaRef,
    stream: Mutex<Option<SendableRecordBatchStream>>,
}

impl std::fmt::Debug for OneShot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneShot")
    }
}

impl PartitionStream for OneShot {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let taken = self.stream.lock().ok().and_then(|mut s| s.take());
        taken
            .map(|s| same_schema(self.schema.clone(), s))
            .unwrap_or_else(|| {
                let error = EngineError::Internal("an ingest stream can be read only once".into());
                Box::pin(
                    datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
                        self.schema.clone(),
                        futures::stream::once(async move { Err(error.into_datafusion()) }),
                    ),
                )
            })
    }
}

/// The stream, failing at the first batch whose columns differ from the declared schema's (a
/// client may change the schema mid-stream): such a batch must not be written as if it matched.
fn same_schema(schema: SchemaRef, stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
    use futures::StreamExt;
    let expected = schema.clone();
    let checked = stream.map(move |batch| {
        let batch = batch?;
        let same = batch.schema().fields().len() == expected.fields().len()
            && batch
                .schema()
                .fields()
                .iter()
                .zip(expected.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if same {
            Ok(batch)
        } else {
            Err(EngineError::InvalidParameter(format!(
                "an ingested batch has columns ({}) unlike the stream's first ({})",
                describe(&batch.schema()),
                describe(&expected)
            ))
            .into_datafusion())
        }
    });
    Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, checked))
}

fn describe(schema: &SchemaRef) -> String {
    let fields: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect();
    fields.join(", ")
}

fn frame_of(
    session: &Session,
    input: SendableRecordBatchStream,
) -> Result<datafusion::prelude::DataFrame> {
    let schema = input.schema();
    let source = OneShot {
        schema: schema.clone(),
        stream: Mutex::new(Some(input)),
    };
    let table = StreamingTable::try_new(schema, vec![Arc::new(source)])?;
    Ok(session.ctx.read_table(Arc::new(table))?)
}

/// Writes `input` into `name` according to `mode`; returns the rows written.
pub(crate) async fn ingest(
    session: &Session,
    name: &ObjectName,
    mode: IngestMode,
    input: SendableRecordBatchStream,
) -> Result<Output> {
    session.check_writable("ingest")?;
    let (db, table_name) = resolve(session, name);
    let existing = session
        .engine
        .metastore()
        .get_table(&db, &table_name)
        .await?;
    let statement = format!("INGEST INTO {db}.{table_name}");
    match (existing, mode) {
        (Some(_), IngestMode::Create) => Err(CatalogError::TableExists {
            db,
            table: table_name,
        }
        .into()),
        (None, IngestMode::Append) => Err(CatalogError::TableNotFound {
            db,
            table: table_name,
        }
        .into()),
        (None, _) => create(session, name, input, statement).await,
        (Some(t), IngestMode::Append | IngestMode::CreateAppend) => {
            let supplied = supplied_columns(&t, &input.schema());
            let frame = shaped_like(&t, frame_of(session, input)?)?;
            writes::append_all(session, t, statement, frame, (false, supplied), "INSERT").await
        }
        (Some(t), IngestMode::Replace)
            if t.partition_keys.is_empty() && same_columns(&t, &input.schema()) =>
        {
            let frame = shaped_like(&t, frame_of(session, input)?)?;
            let job = WriteJob {
                table: t,
                mode: Mode::Overwrite,
                static_values: vec![],
                statement,
                create: false,
                replaces: None,
                columns: vec![],
            };
            let rows = write::run(session, job, frame).await?;
            Ok(Output::Command {
                tag: "INSERT".into(),
                rows: Some(rows),
            })
        }
        (Some(old), IngestMode::Replace) => {
            // Different columns or partitioning: the old table is dropped and the new one
            // created with its data in one commit; until then readers see the old table.
            session.require_owner(&old).await?;
            create_or_replace(session, name, input, (statement, Some(&old))).await
        }
    }
}

async fn create(
    session: &Session,
    name: &ObjectName,
    input: SendableRecordBatchStream,
    statement: String,
) -> Result<Output> {
    create_or_replace(session, name, input, (statement, None)).await
}

async fn create_or_replace(
    session: &Session,
    name: &ObjectName,
    input: SendableRecordBatchStream,
    (statement, replacing): (String, Option<&Table>),
) -> Result<Output> {
    let definition = TableDefinition {
        external: false,
        query: None,
        name: Some(name.clone()),
        if_not_exists: false,
        columns: vec![],
        comment: None,
        partition_keys: vec![],
        stored_as: None,
        field_delimiter: None,
        header: None,
        location: None,
        properties: vec![],
    };
    let frame = frame_of(session, input)?;
    writes::create_from_frame(
        session,
        &definition,
        resolve(session, name),
        frame,
        (statement, replacing),
    )
    .await
}

/// The table's columns the ingested data supplies (the rest become NULL): INSERT is needed on
/// exactly these, as for `INSERT INTO t (a, b)`.
fn supplied_columns(table: &Table, schema: &SchemaRef) -> Vec<String> {
    table
        .columns
        .iter()
        .chain(&table.partition_keys)
        .filter(|c| {
            schema
                .fields()
                .iter()
                .any(|f| f.name().eq_ignore_ascii_case(&c.name))
        })
        .map(|c| c.name.clone())
        .collect()
}

/// Whether the incoming columns are the table's, by name and type.
fn same_columns(table: &Table, schema: &SchemaRef) -> bool {
    let Ok(existing) = table.arrow_schema() else {
        return false;
    };
    existing.fields().len() == schema.fields().len()
        && existing.fields().iter().zip(schema.fields()).all(|(a, b)| {
            use datafusion::arrow::datatypes::DataType::*;
            let same_kind = matches!(
                (a.data_type(), b.data_type()),
                (Utf8, Utf8 | Utf8View | LargeUtf8) | (Binary, Binary | BinaryView | LargeBinary)
            );
            a.name().eq_ignore_ascii_case(b.name()) && (same_kind || a.data_type() == b.data_type())
        })
}

/// The incoming columns matched to the table's by name (case-insensitive), cast to their types;
/// columns the input lacks are NULL, columns the table lacks are an error.
fn shaped_like(
    table: &Table,
    frame: datafusion::prelude::DataFrame,
) -> Result<datafusion::prelude::DataFrame> {
    let incoming: Vec<(String, datafusion::arrow::datatypes::DataType)> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let columns: Vec<&tarn_catalog::Column> =
        table.columns.iter().chain(&table.partition_keys).collect();
    if let Some((extra, _)) = incoming
        .iter()
        .find(|(n, _)| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(n)))
    {
        return Err(EngineError::InvalidParameter(format!(
            "column \"{extra}\" of the ingested data does not exist in table {}",
            table.qualified_name()
        )));
    }
    let mut exprs = Vec::new();
    for c in columns {
        let target = c.data_type()?;
        let expr = match incoming
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&c.name))
        {
            Some((n, from)) => {
                write::to_column_type(Expr::Column(DFColumn::new_unqualified(n)), from, target)
            }
            None => {
                datafusion::logical_expr::cast(lit(datafusion::common::ScalarValue::Null), target)
            }
        };
        exprs.push(expr.alias(c.name.as_str()));
    }
    Ok(frame.select(exprs)?)
}
