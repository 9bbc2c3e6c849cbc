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
use object_store::{ObjectStore, ObjectStoreExt};
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
    hidden: bool,
    sender: Option<mpsc::Sender<RecordBatch>>,
    handle: JoinHandle<Result<Vec<DataFile>>>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

impl Group {
    /// Queues rows; sends a concatenated batch once enough are pending (or `flush`).
    async fn push(&mut self, piece: Option<RecordBatch>, flush: bool) -> Result<bool> {
        if let Some(piece) = piece {
            self.pending_rows += piece.num_rows();
            self.pending.push(piece);
        }
        if self.pending.is_empty() || (!flush && self.pending_rows < MIN_ROWS_PER_SEND) {
            return Ok(true);
        }
        let schema = self.pending[0].schema();
        let batch = datafusion::arrow::compute::concat_batches(&schema, &self.pending)?;
        self.pending.clear();
        self.pending_rows = 0;
        Ok(match &self.sender {
            Some(sender) => sender.send(batch).await.is_ok(),
            None => false,
        })
    }
}

/// Writes the whole stream; returns one [`PartitionWrite`] per partition that received rows.
pub(super) async fn write_all(
    job: &WriteJob,
    seen: &HashMap<String, Seen>,
    write_id: &str,
    store: Arc<dyn ObjectStore>,
    options: &FileOptions,
    mut stream: SendableRecordBatchStream,
) -> Result<Vec<PartitionWrite>> {
    let n_data = job.table.columns.len();
    // The stream's own types (e.g. Utf8View) are written as they are.
    let stream_schema = stream.schema();
    let data_schema: SchemaRef = Arc::new(datafusion::arrow::datatypes::Schema::new(
        stream_schema.fields()[..n_data].to_vec(),
    ));
    let mut splitter = Splitter::new(&job.table)?;
    let mut groups: Vec<Group> = Vec::new();
    let mut failure: Option<EngineError> = None;
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        };
        let split = match splitter.split(&batch, n_data) {
            Ok(s) => s,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        for (key, values, rows) in split {
            let gid = match splitter.group_of(&key) {
                Some(gid) => gid,
                None => {
                    let group =
                        open_group(job, seen, write_id, &store, options, &data_schema, values);
                    groups.push(group);
                    splitter.remember(key, groups.len() - 1);
                    groups.len() - 1
                }
            };
            let piece = RecordBatch::try_new(data_schema.clone(), rows)?;
            if !groups[gid].push(Some(piece), false).await? {
                failure = Some(EngineError::Internal("a partition writer stopped".into()));
                break;
            }
        }
        if failure.is_some() {
            break;
        }
    }
    if failure.is_none() {
        for g in &mut groups {
            if !g.push(None, true).await? {
                failure = Some(EngineError::Internal("a partition writer stopped".into()));
                break;
            }
        }
    }
    finish(groups, &store, failure).await
}

/// Closes every writer, renames hidden files into place, and reports the files; on any failure
/// deletes everything written and returns the first error.
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
                writes.push((write, g.hidden));
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
    let mut out = Vec::with_capacity(writes.len());
    for (mut write, hidden) in writes {
        if hidden {
            for file in &mut write.files {
                file.path = reveal(store, &file.path).await?;
            }
        }
        out.push(write);
    }
    Ok(out)
}

/// Renames `.part-…` to `part-…` in the same directory.
async fn reveal(store: &Arc<dyn ObjectStore>, location: &str) -> Result<String> {
    let (dir, name) = location.rsplit_once('/').unwrap_or(("", location));
    let visible = format!("{dir}/{}", name.trim_start_matches('.'));
    let (_, from) = parse_location(location)?;
    let (_, to) = parse_location(&visible)?;
    store
        .rename(&from, &to)
        .await
        .map_err(|e| EngineError::Storage {
            location: location.to_string(),
            message: e.to_string(),
        })?;
    Ok(visible)
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
    let (location, change, expected, hidden) =
        target(&job.table, job.mode, &values, seen.get(&name), write_id);
    let (sender, receiver) = mpsc::channel(CHANNEL_DEPTH);
    let task = PartitionTask {
        store: store.clone(),
        directory: location.clone(),
        hidden,
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
        hidden,
        sender: Some(sender),
        handle,
        pending: Vec::new(),
        pending_rows: 0,
    }
}

/// Writes one partition's files, rolling to a new file at the target size.
struct PartitionTask {
    store: Arc<dyn ObjectStore>,
    directory: String,
    hidden: bool,
    write_id: String,
    schema: SchemaRef,
    options: FileOptions,
}

impl PartitionTask {
    fn file_location(&self, seq: usize) -> String {
        let ext = self.options.format.extension();
        let dot = if self.hidden { "." } else { "" };
        paths::join(
            &self.directory,
            &format!("{dot}part-{}-{seq:05}{ext}", self.write_id),
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
    groups: HashMap<Vec<u8>, usize>,
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
            groups: HashMap::new(),
            format: FormatOptions::default(),
        })
    }

    fn group_of(&self, key: &[u8]) -> Option<usize> {
        self.groups.get(key).copied()
    }

    fn remember(&mut self, key: Vec<u8>, gid: usize) {
        self.groups.insert(key, gid);
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
