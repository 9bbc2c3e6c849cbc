//! Splitting the input stream by partition and writing each partition's files concurrently.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use object_store::ObjectStore;
use tarn_catalog::{DataFile, PartitionSpec, PartitionWrite, paths};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::files::{FileOptions, FileWriter};
use super::{Seen, WriteJob, delete_quietly, partition_name, target};
use crate::error::{EngineError, Result};
use crate::provider::parse_location;

/// Batches in flight per partition writer.
const CHANNEL_DEPTH: usize = 4;

/// Rows are gathered per partition into batches of at least this many before encoding, so
/// many partitions per input batch do not turn into many tiny writes.
const MIN_ROWS_PER_SEND: usize = 8192;

struct Group {
    write: PartitionWrite,
    sender: Option<mpsc::Sender<RecordBatch>>,
    handle: JoinHandle<Result<Vec<DataFile>>>,
}

/// Rows of one partition waiting in one demux task.
struct Pending {
    sender: mpsc::Sender<RecordBatch>,
    batches: Vec<RecordBatch>,
    rows: usize,
}

impl Pending {
    /// Queues rows; sends a concatenated batch once enough are pending (or on `flush`).
    async fn push(&mut self, piece: Option<RecordBatch>, flush: bool) -> Result<()> {
        if let Some(piece) = piece {
            self.rows += piece.num_rows();
            self.batches.push(piece);
        }
        if self.batches.is_empty() || (!flush && self.rows < MIN_ROWS_PER_SEND) {
            return Ok(());
        }
        let schema = self.batches[0].schema();
        let batch = datafusion::arrow::compute::concat_batches(&schema, &self.batches)?;
        self.batches.clear();
        self.rows = 0;
        self.sender
            .send(batch)
            .await
            .map_err(|_| EngineError::Internal("a partition writer stopped".into()))
    }
}

/// Partition key bytes -> index into the writers.
type Writers = (HashMap<Vec<u8>, usize>, Vec<Group>);

/// What every demux task shares: the job, and one writer per partition (opened by whichever
/// task meets the partition first), so parallel demux still writes one file per partition.
struct Shared {
    job: WriteJob,
    seen: HashMap<String, Seen>,
    write_id: String,
    store: Arc<dyn ObjectStore>,
    options: FileOptions,
    data_schema: SchemaRef,
    groups: std::sync::Mutex<Writers>,
}

impl Shared {
    /// The writer for a partition key, opening it on first sight.
    fn writer_for(
        &self,
        key: &[u8],
        values: PartitionSpec,
    ) -> Result<(usize, mpsc::Sender<RecordBatch>)> {
        let mut guard = self
            .groups
            .lock()
            .map_err(|_| EngineError::Internal("writer map lock".into()))?;
        let (by_key, groups) = &mut *guard;
        if let Some(&gid) = by_key.get(key) {
            let sender = groups[gid]
                .sender
                .clone()
                .ok_or_else(|| EngineError::Internal("writer closed".into()))?;
            return Ok((gid, sender));
        }
        let group = open_group(
            &self.job,
            &self.seen,
            &self.write_id,
            &self.store,
            &self.options,
            &self.data_schema,
            values,
        );
        let sender = group
            .sender
            .clone()
            .ok_or_else(|| EngineError::Internal("writer closed".into()))?;
        groups.push(group);
        by_key.insert(key.to_vec(), groups.len() - 1);
        Ok((groups.len() - 1, sender))
    }
}

/// Writes every input partition's stream (demuxed in parallel); returns one [`PartitionWrite`]
/// per table partition that received rows.
pub(super) async fn write_all(
    job: &WriteJob,
    seen: &HashMap<String, Seen>,
    write_id: &str,
    store: Arc<dyn ObjectStore>,
    options: &FileOptions,
    streams: Vec<SendableRecordBatchStream>,
) -> Result<Vec<PartitionWrite>> {
    let n_data = job.table.columns.len();
    // The stream's own types (e.g. Utf8View) are written as they are.
    let data_schema: SchemaRef = match streams.first() {
        Some(s) => Arc::new(datafusion::arrow::datatypes::Schema::new(
            s.schema().fields()[..n_data].to_vec(),
        )),
        None => job.table.file_schema()?,
    };
    let shared = Arc::new(Shared {
        job: job.clone(),
        seen: seen.clone(),
        write_id: write_id.to_string(),
        store: store.clone(),
        options: options.clone(),
        data_schema,
        groups: Default::default(),
    });
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|s| tokio::spawn(demux(shared.clone(), s)))
        .collect();
    let mut failure: Option<EngineError> = None;
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(EngineError::Internal(format!("demux task: {e}")))),
        }
    }
    let groups = match shared.groups.lock() {
        Ok(mut g) => std::mem::take(&mut g.1),
        Err(_) => return Err(EngineError::Internal("writer map lock".into())),
    };
    finish(groups, &store, failure).await
}

/// Splits one input stream by partition and feeds the partitions' writers.
async fn demux(shared: Arc<Shared>, mut stream: SendableRecordBatchStream) -> Result<()> {
    let n_data = shared.job.table.columns.len();
    let splitter = Splitter::new(&shared.job.table)?;
    let mut local: HashMap<Vec<u8>, Pending> = HashMap::new();
    while let Some(batch) = stream.next().await {
        for (key, values, rows) in splitter.split(&batch?, n_data)? {
            let piece = RecordBatch::try_new(shared.data_schema.clone(), rows)?;
            if !local.contains_key(&key) {
                let (_, sender) = shared.writer_for(&key, values)?;
                local.insert(
                    key.clone(),
                    Pending {
                        sender,
                        batches: vec![],
                        rows: 0,
                    },
                );
            }
            if let Some(pending) = local.get_mut(&key) {
                pending.push(Some(piece), false).await?;
            }
        }
    }
    for pending in local.values_mut() {
        pending.push(None, true).await?;
    }
    Ok(())
}

/// Closes every writer and reports the files; on any failure deletes everything written and
/// returns the first error. Files keep the names they were written under: nothing is renamed
/// (object stores have no rename), the commit alone publishes them.
async fn finish(
    mut groups: Vec<Group>,
    store: &Arc<dyn ObjectStore>,
    mut failure: Option<EngineError>,
) -> Result<Vec<PartitionWrite>> {
    for g in &mut groups {
        g.sender = None;
    }
    let mut writes = Vec::with_capacity(groups.len());
    let mut written: Vec<String> = Vec::new();
    for g in groups {
        match g.handle.await {
            Ok(Ok(files)) => {
                written.extend(files.iter().map(|f| f.path.clone()));
                let mut write = g.write;
                write.files = files;
                writes.push(write);
            }
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => {
                failure = failure.or(Some(EngineError::Internal(format!("writer task: {e}"))))
            }
        }
    }
    if let Some(e) = failure {
        delete_quietly(store, &written).await;
        return Err(e);
    }
    Ok(writes)
}

fn open_group(
    job: &WriteJob,
    seen: &HashMap<String, Seen>,
    write_id: &str,
    store: &Arc<dyn ObjectStore>,
    options: &FileOptions,
    schema: &SchemaRef,
    values: PartitionSpec,
) -> Group {
    let name = partition_name(&job.table, &values);
    let (location, change, expected) =
        target(&job.table, job.mode, &values, seen.get(&name), write_id);
    let (sender, receiver) = mpsc::channel(CHANNEL_DEPTH);
    let task = PartitionTask {
        store: store.clone(),
        directory: location.clone(),
        write_id: write_id.to_string(),
        schema: schema.clone(),
        options: options.clone(),
    };
    let handle = tokio::spawn(task.run(receiver));
    Group {
        write: PartitionWrite {
            values,
            location,
            change,
            expected,
            files: vec![],
        },
        sender: Some(sender),
        handle,
    }
}

/// Writes one partition's files, rolling to a new file at the target size.
struct PartitionTask {
    store: Arc<dyn ObjectStore>,
    directory: String,
    write_id: String,
    schema: SchemaRef,
    options: FileOptions,
}

impl PartitionTask {
    fn file_location(&self, seq: usize) -> String {
        let ext = self.options.format.extension();
        paths::join(
            &self.directory,
            &paths::tarn_file_name(&self.write_id, seq, ext),
        )
    }

    async fn run(self, mut receiver: mpsc::Receiver<RecordBatch>) -> Result<Vec<DataFile>> {
        let mut files = Vec::new();
        let mut current: Option<FileWriter> = None;
        let mut seq = 0;
        while let Some(batch) = receiver.recv().await {
            let writer = match current.as_mut() {
                Some(w) => w,
                None => {
                    let location = self.file_location(seq);
                    seq += 1;
                    let (_, path) = parse_location(&location)?;
                    current.insert(FileWriter::create(
                        self.store.clone(),
                        path,
                        location,
                        self.schema.clone(),
                        &self.options,
                    )?)
                }
            };
            writer.write(&batch).await?;
            if writer.size() >= self.options.target_file_size
                && let Some(done) = current.take()
            {
                files.push(done.finish(&self.schema).await?);
            }
        }
        if let Some(done) = current.take() {
            files.push(done.finish(&self.schema).await?);
        }
        Ok(files)
    }
}

/// Groups rows by their partition key values.
struct Splitter {
    converter: Option<RowConverter>,
    format: FormatOptions<'static>,
}

type Piece = (Vec<u8>, PartitionSpec, Vec<ArrayRef>);

impl Splitter {
    fn new(table: &tarn_catalog::Table) -> Result<Self> {
        let converter = if table.partition_keys.is_empty() {
            None
        } else {
            let fields = table
                .partition_keys
                .iter()
                .map(|k| Ok(SortField::new(k.data_type()?)))
                .collect::<Result<Vec<_>>>()?;
            Some(RowConverter::new(fields)?)
        };
        Ok(Self {
            converter,
            format: FormatOptions::default(),
        })
    }

    /// The batch's rows per partition: (key bytes, Hive values, data columns).
    fn split(&self, batch: &RecordBatch, n_data: usize) -> Result<Vec<Piece>> {
        let data: Vec<ArrayRef> = batch.columns()[..n_data].to_vec();
        let Some(converter) = &self.converter else {
            return Ok(vec![(vec![], vec![], data)]);
        };
        let keys = &batch.columns()[n_data..];
        let rows = converter.convert_columns(keys)?;
        // Keys borrow from `rows`: no allocation per row.
        let mut slots: HashMap<&[u8], usize> = HashMap::new();
        let mut members: Vec<Vec<u32>> = Vec::new();
        let mut keys_in_order: Vec<&[u8]> = Vec::new();
        let mut previous: Option<(&[u8], usize)> = None;
        for i in 0..batch.num_rows() {
            let key = rows.row(i).data();
            // Runs of equal keys (sorted or clustered input) skip the hash lookup.
            let slot = match previous {
                Some((k, slot)) if k == key => slot,
                _ => *slots.entry(key).or_insert_with(|| {
                    members.push(Vec::new());
                    keys_in_order.push(key);
                    members.len() - 1
                }),
            };
            previous = Some((key, slot));
            members[slot].push(i as u32);
        }
        // One `take` for the whole batch in partition order, then zero-copy slices.
        let ordered = if members.len() == 1 {
            data.clone()
        } else {
            let all = UInt32Array::from_iter_values(members.iter().flatten().copied());
            data.iter()
                .map(|c| take(c.as_ref(), &all, None))
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut pieces = Vec::with_capacity(members.len());
        let mut offset = 0;
        for (key, indices) in keys_in_order.into_iter().zip(&members) {
            let first = indices[0] as usize;
            let values = keys
                .iter()
                .map(|k| hive_value(k, first, &self.format))
                .collect::<Result<_>>()?;
            let columns = ordered
                .iter()
                .map(|c| c.slice(offset, indices.len()))
                .collect();
            offset += indices.len();
            pieces.push((key.to_vec(), values, columns));
        }
        Ok(pieces)
    }
}

/// A key value as Hive writes it in partition names (NULL and '' are the default partition).
fn hive_value(array: &ArrayRef, row: usize, format: &FormatOptions) -> Result<Option<String>> {
    if array.is_null(row) {
        return Ok(None);
    }
    let text = ArrayFormatter::try_new(array.as_ref(), format)?
        .value(row)
        .to_string();
    Ok(paths::normalize_value(Some(&text)))
}
