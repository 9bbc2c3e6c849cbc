//! Read-ahead for Parquet files on object stores.
//!
//! DataFusion's Parquet reader fetches one row group's column chunks, decodes them, and only
//! then asks for the next row group: on a store with 20–100 ms per request every row group
//! costs a round trip during which the partition does nothing. This reader notes which column
//! chunks the scan asks for and, while the current row group is decoded, already fetches the
//! same columns of the next row groups this reader will scan ([`DEPTH`], [`AHEAD_BYTES`]) (those whose first page
//! lies in its byte range, as DataFusion assigns them). Fetches run on the I/O runtime, so
//! busy query threads never delay them. A prefetch that fails or does not cover a request is
//! simply not used: the request goes to the store as it would have, with its retries, so
//! read-ahead can cost bytes (a row group the scan then prunes) but never a wrong or failed
//! read. Pending prefetches are aborted when the reader is dropped (LIMIT, cancel).
//!
//! To spend few bytes on selective scans (row groups pruned by statistics, bloom filters,
//! dynamic join filters or a LIMIT), a reader that skips one of its row groups fetches only the
//! next one ahead until it has read two consecutive ones again (so a selective scan wastes at
//! most one prefetch per skip, after the first); a reader that goes back (row groups read in
//! another order, e.g. a sort pushed into the scan) stops reading ahead.

use std::collections::{BTreeSet, VecDeque};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::catalog::Session;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::ParquetSource;
use datafusion::datasource::physical_plan::parquet::{
    CachedParquetFileReaderFactory, ParquetFileReaderFactory,
};
// (The footer cache holds this one; `parquet::reader` has a namesake.)
use datafusion::datasource::physical_plan::parquet::metadata::CachedParquetMetaData;
use datafusion::datasource::physical_plan::{FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

mod opening;

pub(crate) use opening::arm;
use opening::{Opening, key_of};

/// Row groups fetched ahead of the one being decoded, per reader, at most…
pub(crate) const DEPTH: usize = 8;
/// …and bytes ahead per reader (at least one row group), and bytes fetched early per partition
/// ([`arm`]): the buffers are outside the memory pool, so they are kept small against it (with
/// two partitions a scan holds at most 64 MiB ahead, and 64 MiB early until taken).
pub(crate) const AHEAD_BYTES: u64 = 32 << 20;

/// A finished or running prefetch, awaitable by several requests (filter pushdown asks for a
/// row group's predicate columns and its other columns separately).
type Fetch = Shared<BoxFuture<'static, Option<Arc<Vec<Bytes>>>>>;

/// Creates [`ReadAhead`] readers; metadata goes through DataFusion's cached reader (the footer
/// cache shared with planning).
#[derive(Debug)]
pub(crate) struct ReadAheadFactory {
    inner: CachedParquetFileReaderFactory,
    store: Arc<dyn ObjectStore>,
    metadata_cache: Arc<FileMetadataCache>,
    io: tokio::runtime::Handle,
    /// First row groups fetched since execution started ([`arm`]).
    opening: Option<Arc<Opening>>,
}

impl ReadAheadFactory {
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        metadata_cache: Arc<FileMetadataCache>,
        io: tokio::runtime::Handle,
    ) -> Self {
        Self {
            inner: CachedParquetFileReaderFactory::new(store.clone(), metadata_cache.clone()),
            store,
            metadata_cache,
            io,
            opening: None,
        }
    }

    fn with_opening(mut self, opening: Arc<Opening>) -> Self {
        self.opening = Some(opening);
        self
    }
}

impl ParquetFileReaderFactory for ReadAheadFactory {
    fn create_reader(
        &self,
        partition_index: usize,
        file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> datafusion::common::Result<Box<dyn AsyncFileReader + Send>> {
        let opening = self.opening.clone().map(|o| {
            let file = key_of(&file);
            o.acquire(&file);
            (o, file)
        });
        let location = file.object_meta.location.clone();
        let object = file.object_meta.clone();
        let range = file
            .range
            .as_ref()
            .map(|r| (r.start as u64)..(r.end as u64));
        let inner = self
            .inner
            .create_reader(partition_index, file, metadata_size_hint, metrics)?;
        Ok(Box::new(ReadAhead {
            inner,
            store: self.store.clone(),
            location,
            range,
            io: self.io.clone(),
            cache: self.metadata_cache.clone(),
            object,
            layout: None,
            disabled: false,
            columns: BTreeSet::new(),
            ahead: VecDeque::new(),
            opening,
            took_early: false,
            pattern: Pattern::default(),
        }))
    }
}

/// The file's footer from DataFusion's cache (planning and the scan's opener read it through the
/// cache before any data): a lookup, never I/O. Without it, no read-ahead.
fn cached_metadata(
    cache: &Arc<FileMetadataCache>,
    object: &ObjectMeta,
) -> Option<Arc<ParquetMetaData>> {
    let entry = cache.get(&object.location)?;
    if !entry.is_valid_for(object) {
        return None;
    }
    let metadata = entry
        .file_metadata
        .as_any()
        .downcast_ref::<CachedParquetMetaData>()?;
    Some(metadata.parquet_metadata().clone())
}

/// The file's layout, as seen by a reader of `range`, from the cached footer.
fn cached_layout(
    cache: &Arc<FileMetadataCache>,
    object: &ObjectMeta,
    range: Option<&Range<u64>>,
) -> Option<Arc<Layout>> {
    let metadata = cached_metadata(cache, object)?;
    Some(Arc::new(Layout::of(&metadata, range)))
}

/// Starts fetching row group `group`'s `chunks` of `location` on the I/O runtime.
fn fetch_ahead(
    io: &tokio::runtime::Handle,
    store: &Arc<dyn ObjectStore>,
    location: &Path,
    group: usize,
    chunks: Vec<Range<u64>>,
) -> Ahead {
    let (store, location, wanted) = (store.clone(), location.clone(), chunks.clone());
    let task = io.spawn(async move { store.get_ranges(&location, &wanted).await });
    let abort = task.abort_handle();
    let fetch = async move { task.await.ok()?.ok().map(Arc::new) }
        .boxed()
        .shared();
    Ahead {
        group,
        chunks,
        fetch,
        abort,
    }
}

/// Where each row group's column chunks are, and which row groups this reader scans.
#[derive(Default)]
struct Layout {
    /// Byte range of every column chunk, per row group.
    chunks: Vec<Vec<Range<u64>>>,
    /// Row groups in this reader's byte range, in file order.
    mine: Vec<usize>,
}

impl Layout {
    fn of(metadata: &ParquetMetaData, range: Option<&Range<u64>>) -> Self {
        let mut chunks = Vec::new();
        let mut mine = Vec::new();
        for (i, group) in metadata.row_groups().iter().enumerate() {
            chunks.push(group.columns().iter().map(chunk_range).collect());
            // As DataFusion assigns row groups to file ranges: by the first page's offset.
            let first = group.columns().first().map(|c| {
                c.dictionary_page_offset()
                    .unwrap_or_else(|| c.data_page_offset()) as u64
            });
            if range.is_none_or(|r| first.is_some_and(|o| r.contains(&o))) {
                mine.push(i);
            }
        }
        Self { chunks, mine }
    }

    /// The row group whose column chunks hold every range, and those chunks' columns.
    fn locate(&self, ranges: &[Range<u64>]) -> Option<(usize, Vec<usize>)> {
        let first = ranges.first()?;
        let group = self
            .chunks
            .iter()
            .position(|cs| cs.iter().any(|c| contains(c, first)))?;
        let mut columns = Vec::new();
        for r in ranges {
            let column = self.chunks[group].iter().position(|c| contains(c, r))?;
            columns.push(column);
        }
        Some((group, columns))
    }
}

/// A column chunk's bytes (empty when the footer has negative offsets or sizes: corrupt, and
/// then read, and reported, by DataFusion, not here).
fn chunk_range(c: &datafusion::parquet::file::metadata::ColumnChunkMetaData) -> Range<u64> {
    let start = c
        .dictionary_page_offset()
        .unwrap_or_else(|| c.data_page_offset());
    match (u64::try_from(start), u64::try_from(c.compressed_size())) {
        (Ok(start), Ok(len)) => start..start.saturating_add(len),
        _ => 0..0,
    }
}

fn contains(chunk: &Range<u64>, r: &Range<u64>) -> bool {
    chunk.start <= r.start && r.end <= chunk.end
}

/// One row group's chunks being fetched ahead.
struct Ahead {
    group: usize,
    chunks: Vec<Range<u64>>,
    fetch: Fetch,
    abort: tokio::task::AbortHandle,
}

/// The requested ranges cut from prefetched `chunks`, if all of them are there.
async fn serve(chunks: Vec<Range<u64>>, fetch: Fetch, ranges: &[Range<u64>]) -> Option<Vec<Bytes>> {
    let at = |r: &Range<u64>| chunks.iter().position(|c| contains(c, r));
    if !ranges.iter().all(|r| at(r).is_some()) {
        return None;
    }
    let data = fetch.await?;
    // A short answer (the file changed under the scan) is not used: the demand read reports it.
    let complete = data.len() == chunks.len()
        && data
            .iter()
            .zip(&chunks)
            .all(|(d, c)| d.len() as u64 == c.end - c.start);
    if !complete {
        return None;
    }
    ranges
        .iter()
        .map(|r| {
            let i = at(r)?;
            let from = (r.start - chunks[i].start) as usize;
            let to = (r.end - chunks[i].start) as usize;
            Some(data[i].slice(from..to))
        })
        .collect()
}

/// A Parquet reader that fetches the next row groups' chunks while the current one decodes.
struct ReadAhead {
    inner: Box<dyn AsyncFileReader + Send>,
    store: Arc<dyn ObjectStore>,
    location: Path,
    range: Option<Range<u64>>,
    io: tokio::runtime::Handle,
    cache: Arc<FileMetadataCache>,
    object: ObjectMeta,
    /// From the footer cache at the first data read.
    layout: Option<Arc<Layout>>,
    /// Reads went out of order, or the footer was not cached: no read-ahead.
    disabled: bool,
    /// Every column the scan asked for so far (prefetches cover all of them).
    columns: BTreeSet<usize>,
    ahead: VecDeque<Ahead>,
    /// Where the file's first row group may already be being fetched: taken at the first read
    /// of row group data (DataFusion reads bloom filters through one reader and then decodes
    /// through another).
    opening: Option<(Arc<Opening>, opening::Key)>,
    took_early: bool,
    pattern: Pattern,
}

/// How a reader walks its row groups: the one asked for last, and how many of its row groups
/// in a row (none skipped) were asked for up to it.
#[derive(Default)]
struct Pattern {
    last: Option<usize>,
    streak: usize,
}

impl Pattern {
    /// Notes that `group` is asked for, of the reader's row groups `mine`: how many row groups
    /// to fetch ahead of it ([`DEPTH`]; one after a row group was skipped, until two in a row
    /// were read again), or `None` once reads went backwards.
    fn follow(&mut self, mine: &[usize], group: usize) -> Option<usize> {
        match self.last {
            Some(last) if group < last => return None,
            Some(last) if group == last => {}
            Some(last) => {
                let next = mine.iter().copied().find(|g| *g > last);
                self.streak = if next == Some(group) {
                    self.streak + 1
                } else {
                    1
                };
            }
            // Optimistic when the scan starts at its first row group: most read them all.
            None => self.streak = if mine.first() == Some(&group) { 2 } else { 1 },
        }
        self.last = Some(group);
        Some(if self.streak >= 2 { DEPTH } else { 1 })
    }
}

impl ReadAhead {
    /// Stops reading ahead for good (reads went out of order): prefetches are aborted.
    fn stop(&mut self) {
        for ahead in self.ahead.drain(..) {
            ahead.abort.abort();
        }
        self.disabled = true;
    }

    /// Drops prefetches of row groups before `group` and starts those of the next row groups
    /// of this reader after it: one while the reads are not yet known to be sequential, then
    /// up to [`DEPTH`], with at most [`AHEAD_BYTES`] fetched ahead in all.
    fn schedule(&mut self, layout: &Layout, group: usize, depth: usize) {
        while self.ahead.front().is_some_and(|a| a.group < group) {
            if let Some(stale) = self.ahead.pop_front() {
                stale.abort.abort();
            }
        }
        let size = |chunks: &[Range<u64>]| chunks.iter().map(|c| c.end - c.start).sum::<u64>();
        let mut bytes: u64 = self
            .ahead
            .iter()
            .filter(|a| a.group > group)
            .map(|a| size(&a.chunks))
            .sum();
        let next = layout.mine.iter().copied().filter(|g| *g > group);
        for (n, g) in next.take(depth).enumerate() {
            if self.ahead.iter().any(|a| a.group == g) {
                continue;
            }
            let chunks: Vec<Range<u64>> = self
                .columns
                .iter()
                .filter_map(|c| layout.chunks[g].get(*c).cloned())
                .collect();
            bytes += size(&chunks);
            if bytes > AHEAD_BYTES && (n > 0 || !self.ahead.is_empty()) {
                break;
            }
            let ahead = fetch_ahead(&self.io, &self.store, &self.location, g, chunks);
            self.ahead.push_back(ahead);
        }
    }

    /// The prefetch of `group`, if one was started.
    fn prefetch_of(&self, group: usize) -> Option<(Vec<Range<u64>>, Fetch)> {
        let ahead = self.ahead.iter().find(|a| a.group == group)?;
        Some((ahead.chunks.clone(), ahead.fetch.clone()))
    }
}

impl AsyncFileReader for ReadAhead {
    fn get_bytes(
        &mut self,
        range: Range<u64>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Bytes>> {
        self.inner.get_bytes(range)
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Vec<Bytes>>> {
        async move {
            if self.layout.is_none() && !self.disabled {
                self.layout = cached_layout(&self.cache, &self.object, self.range.as_ref());
                self.disabled = self.layout.is_none();
            }
            if self.disabled {
                return self.inner.get_byte_ranges(ranges).await;
            }
            let located = self.layout.clone().and_then(|l| {
                let (group, columns) = l.locate(&ranges)?;
                Some((l, group, columns))
            });
            let Some((layout, group, columns)) = located else {
                return self.inner.get_byte_ranges(ranges).await;
            };
            let Some(depth) = self.pattern.follow(&layout.mine, group) else {
                self.stop();
                return self.inner.get_byte_ranges(ranges).await;
            };
            self.columns.extend(columns);
            if !self.took_early {
                self.took_early = true;
                if let Some((opening, file)) = &self.opening
                    && let Some(early) = opening.take(file)
                {
                    self.ahead.push_front(early);
                }
            }
            self.schedule(&layout, group, depth);
            if let Some((chunks, fetch)) = self.prefetch_of(group)
                && let Some(data) = serve(chunks, fetch, &ranges).await
            {
                return Ok(data);
            }
            self.inner.get_byte_ranges(ranges).await
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, datafusion::parquet::errors::Result<Arc<ParquetMetaData>>> {
        self.inner.get_metadata(options)
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        for ahead in &self.ahead {
            ahead.abort.abort();
        }
        if let Some((opening, file)) = &self.opening {
            opening.release(file);
        }
    }
}

/// `plan` (DataFusion's Parquet scan) reading through [`ReadAheadFactory`] when its files are on
/// an object store; scans of local files and other plans are returned unchanged.
pub(crate) fn with_read_ahead(
    plan: Arc<dyn ExecutionPlan>,
    state: &dyn Session,
    url: &ObjectStoreUrl,
) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
    if url.as_str().starts_with("file://") {
        return Ok(plan);
    }
    let Ok(io) = tokio::runtime::Handle::try_current() else {
        return Ok(plan);
    };
    let Some(exec) = plan.downcast_ref::<DataSourceExec>() else {
        return Ok(plan);
    };
    let Some(config) = exec.data_source().downcast_ref::<FileScanConfig>() else {
        return Ok(plan);
    };
    let Some(source) = config.file_source().downcast_ref::<ParquetSource>() else {
        return Ok(plan);
    };
    let runtime = state.runtime_env();
    let factory = ReadAheadFactory::new(
        runtime.object_store(url)?,
        runtime.cache_manager.get_file_metadata_cache(),
        io,
    );
    Ok(reading_through(config, source, factory))
}

/// The scan of `config` with its Parquet reads going through `factory`.
fn reading_through(
    config: &FileScanConfig,
    source: &ParquetSource,
    factory: ReadAheadFactory,
) -> Arc<dyn ExecutionPlan> {
    let source = source
        .clone()
        .with_parquet_file_reader_factory(Arc::new(factory));
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(Arc::new(source))
        .build();
    DataSourceExec::from_data_source(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::metadata::ParquetMetaDataReader;
    use datafusion::parquet::file::properties::WriterProperties;

    /// Four row groups of 100 rows, two columns.
    pub(super) fn file() -> (Bytes, ParquetMetaData) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("s", DataType::Utf8, false),
        ]));
        let ids = Int64Array::from_iter_values(0..400);
        let s = StringArray::from_iter_values((0..400).map(|i| format!("row {i}")));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(s)]).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(100))
            .build();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let bytes = Bytes::from(out);
        let metadata = ParquetMetaDataReader::new()
            .parse_and_finish(&bytes)
            .unwrap();
        (bytes, metadata)
    }

    #[test]
    fn row_groups_are_split_between_readers_as_datafusion_splits_them() {
        let (bytes, metadata) = file();
        assert_eq!(Layout::of(&metadata, None).mine, vec![0, 1, 2, 3]);
        let size = bytes.len() as u64;
        let mid = size / 2;
        let first = Layout::of(&metadata, Some(&(0..mid))).mine;
        let second = Layout::of(&metadata, Some(&(mid..size))).mine;
        assert!(
            !first.is_empty() && !second.is_empty(),
            "{first:?} {second:?}"
        );
        let mut both = [first, second].concat();
        both.sort();
        assert_eq!(
            both,
            vec![0, 1, 2, 3],
            "each row group read by exactly one reader"
        );
    }

    #[test]
    fn read_ahead_deepens_on_sequential_reads_and_stops_on_backward_ones() {
        let mine = [0, 2, 3, 4, 5, 7];
        let mut late = Pattern::default();
        assert_eq!(late.follow(&mine, 2), Some(1), "first row group skipped");
        let mut p = Pattern::default();
        assert_eq!(
            p.follow(&mine, 0),
            Some(DEPTH),
            "first read: most scans read on"
        );
        assert_eq!(p.follow(&mine, 0), Some(DEPTH), "the same row group again");
        assert_eq!(
            p.follow(&mine, 2),
            Some(DEPTH),
            "the next of its row groups"
        );
        assert_eq!(p.follow(&mine, 3), Some(DEPTH));
        assert_eq!(p.follow(&mine, 5), Some(1), "one pruned: back to one ahead");
        assert_eq!(p.follow(&mine, 7), Some(DEPTH));
        assert_eq!(p.follow(&mine, 4), None, "backwards: no more read-ahead");
    }

    #[test]
    fn requests_are_located_by_their_column_chunks() {
        let (_, metadata) = file();
        let layout = Layout::of(&metadata, None);
        let chunk = |g: usize, c: usize| layout.chunks[g][c].clone();
        assert_eq!(layout.locate(&[chunk(2, 1)]), Some((2, vec![1])));
        let part = chunk(1, 0).start + 1..chunk(1, 0).end - 1;
        assert_eq!(
            layout.locate(&[part, chunk(1, 1)]),
            Some((1, vec![0, 1])),
            "pages within a chunk"
        );
        let spanning = chunk(0, 0).start..chunk(0, 1).end;
        assert_eq!(layout.locate(&[spanning]), None, "not one chunk");
        let footer = chunk(3, 1).end + 10..chunk(3, 1).end + 20;
        assert_eq!(layout.locate(&[footer]), None, "not data");
        assert_eq!(Layout::default().locate(&[chunk(0, 0)]), None);
    }

    #[tokio::test]
    async fn prefetched_chunks_serve_exactly_the_requested_bytes() {
        let (bytes, metadata) = file();
        let layout = Layout::of(&metadata, None);
        let chunks = layout.chunks[1].clone();
        let data: Vec<Bytes> = chunks
            .iter()
            .map(|c| bytes.slice(c.start as usize..c.end as usize))
            .collect();
        let fetch: Fetch = futures::future::ready(Some(Arc::new(data)))
            .boxed()
            .shared();
        let wanted = vec![
            chunks[1].start + 3..chunks[1].end,
            chunks[0].start..chunks[0].start + 7,
        ];
        let served = serve(chunks.clone(), fetch.clone(), &wanted).await.unwrap();
        for (range, got) in wanted.iter().zip(&served) {
            assert_eq!(got, &bytes.slice(range.start as usize..range.end as usize));
        }
        let elsewhere = layout.chunks[2][0].clone();
        assert!(serve(chunks.clone(), fetch, &[elsewhere]).await.is_none());
        let failed: Fetch = futures::future::ready(None).boxed().shared();
        assert!(
            serve(chunks, failed, &wanted).await.is_none(),
            "a failed prefetch is not used"
        );
    }
}
