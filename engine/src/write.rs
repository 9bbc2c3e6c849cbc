//! The atomic write path: INSERT INTO / INSERT OVERWRITE / CTAS / COPY FROM.
//!
//! 1. Snapshot the partitions the write may touch (location, version): what it "saw".
//! 2. Plan the input query, project and cast it to the table's columns (by position, or by the
//!    INSERT column list), add static partition values.
//! 3. Stream it once, split rows by partition, and write each partition's files: appends into
//!    the partition's directory, overwrites and new partitions into a new directory.
//! 4. Publish everything with one metastore transaction that re-checks the snapshot (optimistic
//!    concurrency). A conflict or any failure deletes what was written and publishes nothing.

mod demux;
mod files;
mod input;

use std::collections::HashMap;
use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt};
use tarn_catalog::{
    CatalogError, Change, CommitOutcome, Expected, Partition, PartitionFilter, PartitionSpec,
    PartitionWrite, PendingWrite, Table, WriteCommit, paths,
};

use crate::error::{EngineError, Result};
use crate::provider::parse_location;
use crate::session::Session;

pub(crate) use files::FileOptions;
pub(crate) use input::{InputSpec, plan_input, plan_query};

/// Casts `expr` (of type `from`) to a table column's type, keeping string and binary view /
/// large variants as they are: Parquet stores them alike and a cast would copy every value.
pub(crate) fn to_column_type(
    expr: datafusion::logical_expr::Expr,
    from: &datafusion::arrow::datatypes::DataType,
    to: datafusion::arrow::datatypes::DataType,
) -> datafusion::logical_expr::Expr {
    use datafusion::arrow::datatypes::DataType::*;
    let same_kind = matches!(
        (from, &to),
        (Utf8 | Utf8View | LargeUtf8, Utf8) | (Binary | BinaryView | LargeBinary, Binary)
    );
    if same_kind {
        expr
    } else {
        datafusion::logical_expr::cast(expr, to)
    }
}

/// Append, or replace what the write touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Append,
    Overwrite,
}

/// One write statement, planned.
#[derive(Clone)]
pub(crate) struct WriteJob {
    pub table: Table,
    pub mode: Mode,
    /// Per partition key: `Some(value)` for a static key (`None` value = NULL partition).
    pub static_values: Vec<Option<Option<String>>>,
    pub statement: String,
    /// CTAS: create the table in the publishing transaction.
    pub create: bool,
    /// With `create`: the existing table of that name (at this version) is dropped in the same
    /// transaction (Flight ingest's replace): readers see the old table or the new one.
    pub replaces: Option<i64>,
    /// The data columns the statement names (`INSERT INTO t (a, b)`); empty = all. What
    /// column-level INSERT grants must cover, with the partition keys (always written).
    pub columns: Vec<String>,
}

/// What the writer saw of one partition.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub location: String,
    pub version: i64,
}

/// The writer's part of a write id: 32 random bits after the catalog's write number (see
/// [`tarn_catalog::Metastore::begin_write`]), so ids are unique across servers sharing a
/// catalog even if numbers were ever reused.
pub(crate) fn write_id_suffix() -> String {
    let mut random = [0u8; 4];
    if getrandom::fill(&mut random).is_err() {
        // Without the OS's randomness, the pid and clock still separate writers.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        random = (std::process::id() ^ nanos.rotate_left(13)).to_le_bytes();
    }
    format!("{:08x}", u32::from_le_bytes(random))
}

pub(crate) fn partition_name(table: &Table, values: &PartitionSpec) -> String {
    if table.partition_keys.is_empty() {
        return String::new();
    }
    let keys: Vec<String> = table
        .partition_keys
        .iter()
        .map(|k| k.name.clone())
        .collect();
    paths::partition_name(&keys, values)
}

/// Where a partition's files go, and what the commit must find there.
pub(crate) fn target(
    table: &Table,
    mode: Mode,
    values: &PartitionSpec,
    seen: Option<&Seen>,
    write_id: &str,
) -> (String, Change, Expected) {
    let name = partition_name(table, values);
    let default = if name.is_empty() {
        table.location.clone()
    } else {
        paths::join(&table.location, &name)
    };
    match (mode, seen) {
        // Appends go into the live directory under their final names: readers of the catalog's
        // file index do not know them yet, readers that list skip them while the write is
        // pending (see `begin_write`).
        (Mode::Append, Some(s)) => (
            s.location.clone(),
            Change::Append,
            Expected::AtLocation(s.location.clone()),
        ),
        (Mode::Append, None) => (
            default.clone(),
            Change::Append,
            Expected::AtLocation(default),
        ),
        // Overwrites never touch the live directory: a new one replaces it in the commit.
        (Mode::Overwrite, Some(s)) => (
            paths::join(&default, &format!("_tarn_{write_id}")),
            Change::Replace,
            Expected::AtVersion(s.version),
        ),
        (Mode::Overwrite, None) => (
            paths::join(&default, &format!("_tarn_{write_id}")),
            Change::Replace,
            Expected::Absent,
        ),
    }
}

/// The partitions a write may touch, by name.
pub(crate) async fn snapshot(session: &Session, job: &WriteJob) -> Result<HashMap<String, Seen>> {
    if job.create {
        return Ok(HashMap::new());
    }
    let filter = static_filter(&job.table, &job.static_values);
    let partitions: Vec<Partition> = session
        .engine
        .metastore()
        .list_partitions(&job.table.database, &job.table.name, &filter)
        .await?;
    Ok(partitions
        .into_iter()
        .map(|p| {
            (
                partition_name(&job.table, &p.values),
                Seen {
                    location: p.location,
                    version: p.version,
                },
            )
        })
        .collect())
}

/// Static keys narrow the snapshot (a superset is fine: the commit re-checks).
fn static_filter(table: &Table, statics: &[Option<Option<String>>]) -> PartitionFilter {
    let terms = statics
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let kind = tarn_catalog::indexed_kind(&table.partition_keys.get(i)?.hive_type)?;
            match v.as_ref()? {
                None => Some(PartitionFilter::IsNull { key: i }),
                Some(value) => {
                    let key_value = match kind {
                        tarn_catalog::IndexKind::Int => {
                            tarn_catalog::KeyValue::Int(value.trim().parse().ok()?)
                        }
                        tarn_catalog::IndexKind::Text => {
                            tarn_catalog::KeyValue::Text(value.clone())
                        }
                    };
                    Some(PartitionFilter::Cmp {
                        key: i,
                        op: tarn_catalog::CmpOp::Eq,
                        value: key_value,
                    })
                }
            }
        })
        .collect();
    PartitionFilter::and(terms)
}

/// The one privilege check every write passes: CREATE in the database for a write that creates
/// its table (CTAS, ingest), INSERT otherwise, and DELETE too for an overwrite (it removes
/// rows).
async fn authorize(session: &Session, job: &WriteJob) -> Result<()> {
    use tarn_catalog::Privilege;
    if job.create {
        return session.require_create_in(&job.table.database).await;
    }
    let mut columns = job.columns.clone();
    if !columns.is_empty() {
        columns.extend(job.table.partition_keys.iter().map(|k| k.name.clone()));
    }
    session
        .require_columns(&job.table, Privilege::Insert, &columns)
        .await?;
    // An overwrite removes rows; so does a write under a batch id, which replaces the rows
    // earlier runs of that batch wrote (anyone's).
    if matches!(job.mode, Mode::Overwrite) || session.explicit_batch_id().is_some() {
        session.require_table(&job.table, Privilege::Delete).await?;
    }
    // An external table's location was chosen by whoever pointed it there: writing into it is
    // writing server files.
    if job.table.table_type == tarn_catalog::TableType::External {
        session
            .require_location_role(
                tarn_catalog::acl::predefined::WRITE_SERVER_FILES,
                "write into an external table's location",
            )
            .await?;
    }
    Ok(())
}

/// Runs a planned write end to end; returns the rows written.
pub(crate) async fn run(
    session: &Session,
    job: WriteJob,
    input: datafusion::prelude::DataFrame,
) -> Result<u64> {
    if job.table.table_type == tarn_catalog::TableType::View {
        return Err(EngineError::InvalidParameter(format!(
            "cannot write into view {}",
            job.table.qualified_name()
        )));
    }
    authorize(session, &job).await?;
    let seen = snapshot(session, &job).await?;
    let (store_url, _) = parse_location(&job.table.location)?;
    let store = session.ctx.state().runtime_env().object_store(&store_url)?;
    let options = FileOptions::from_table(&job.table.format, &job.table.parameters)?;
    let streams = input.execute_stream_partitioned().await?;
    let metastore = session.engine.metastore().clone();
    let write_id = metastore
        .begin_write(PendingWrite {
            write_id: write_id_suffix(),
            database: job.table.database.clone(),
            table: job.table.name.clone(),
            started_at: chrono::Utc::now().timestamp(),
            user: session.user().to_string(),
            statement: job.statement.clone(),
            failed: false,
            location: job.table.location.clone(),
        })
        .await?;
    // Any way out but a commit (an error, a cancel dropping this future) marks the intent
    // failed: its files may be half-written, and VACUUM reclaims them.
    let mut intent = Intent {
        metastore: metastore.clone(),
        write_id: write_id.clone(),
        settled: false,
    };
    let written = demux::write_all(&job, &seen, &write_id, store.clone(), &options, streams).await;
    let mut written = match written {
        Ok(w) => w,
        Err(e) => return Err(intent.fail(e).await),
    };
    add_empty_static_overwrite(&job, &seen, &write_id, &mut written);
    let staged: Vec<String> = written
        .iter()
        .flat_map(|w| w.files.iter().map(|f| f.path.clone()))
        .collect();
    if let Err(e) = files::make_durable(&staged).await {
        return Err(intent.fail(e).await);
    }
    let commit = WriteCommit {
        write_id: write_id.clone(),
        database: job.table.database.clone(),
        table: job.table.name.clone(),
        batch_id: session.batch_id(&write_id),
        replaces_batch: session.explicit_batch_id().is_some(),
        statement: job.statement.clone(),
        user: session.user().to_string(),
        writes: written,
        create_table: job.create.then(|| job.table.clone()),
        replace_table: job.replaces,
    };
    // From here the client learns the commit's real outcome: a cancel no longer interrupts.
    crate::cancel::point_of_no_return();
    let outcome = metastore.commit_write(commit).await;
    intent.settled = true;
    match outcome {
        Ok(CommitOutcome { rows, .. }) => Ok(rows),
        // The connection to a shared catalog failed with the COMMIT in flight (or the call's
        // task died): it may have landed. Nothing is deleted and the intent stays: if the
        // commit landed the files are the table's, if not the intent hides them until VACUUM
        // reclaims them.
        Err(e @ (CatalogError::CommitOutcomeUnknown(_) | CatalogError::TaskFailed(_))) => {
            Err(e.into())
        }
        Err(e) => {
            // The catalog refused the commit (a definite answer): nothing references the
            // files, so they go, and the intent with them once they are all gone.
            let cleaned = delete_all(&store, &staged).await;
            let _ = metastore.abandon_write(&write_id, cleaned).await;
            Err(e.into())
        }
    }
}

/// A begun write until it commits or is abandoned; dropped unsettled, it marks the intent
/// failed (in the background: a drop cannot wait).
struct Intent {
    metastore: Arc<dyn tarn_catalog::Metastore>,
    write_id: String,
    settled: bool,
}

impl Intent {
    /// The write failed: its intent is marked failed before the error reaches the client.
    async fn fail(&mut self, error: EngineError) -> EngineError {
        self.settled = true;
        let _ = self.metastore.abandon_write(&self.write_id, false).await;
        error
    }
}

impl Drop for Intent {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let metastore = self.metastore.clone();
        let write_id = std::mem::take(&mut self.write_id);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = metastore.abandon_write(&write_id, false).await;
            });
        }
    }
}

/// INSERT OVERWRITE … PARTITION (all keys static) with no rows still replaces that partition.
fn add_empty_static_overwrite(
    job: &WriteJob,
    seen: &HashMap<String, Seen>,
    write_id: &str,
    written: &mut Vec<PartitionWrite>,
) {
    let all_static = job.static_values.iter().all(Option::is_some);
    if job.mode != Mode::Overwrite || !all_static || !written.is_empty() {
        return;
    }
    let values: PartitionSpec = job
        .static_values
        .iter()
        .map(|v| v.clone().flatten())
        .collect();
    let name = partition_name(&job.table, &values);
    let (location, change, expected) =
        target(&job.table, job.mode, &values, seen.get(&name), write_id);
    written.push(PartitionWrite {
        values,
        location,
        change,
        expected,
        files: vec![],
    });
}

/// Deletes files; whether every one is gone (a missing file counts as gone).
pub(crate) async fn delete_all(store: &Arc<dyn ObjectStore>, locations: &[String]) -> bool {
    let mut all = true;
    for location in locations {
        let gone = match parse_location(location) {
            Ok((_, path)) => matches!(
                store.delete(&path).await,
                Ok(()) | Err(object_store::Error::NotFound { .. })
            ),
            Err(_) => false,
        };
        all &= gone;
    }
    all
}

/// Best-effort removal of files a failed write left (VACUUM catches anything missed).
pub(crate) async fn delete_quietly(store: &Arc<dyn ObjectStore>, locations: &[String]) {
    for location in locations {
        if let Ok((_, path)) = parse_location(location) {
            let _ = store.delete(&path).await;
        }
    }
}
