//! [`HiveTable`]: a DataFusion table over a catalogued (optionally partitioned) Hive table.
//!
//! The catalog decides which files a query reads: partition filters are answered by the
//! metastore's index, and only the surviving partitions' directories are listed. The scan is a
//! plain DataFusion file scan, so Parquet predicate pushdown, page index and statistics pruning
//! all apply.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, FieldRef, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::TableProvider;
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, Statistics};
use datafusion::common::{DataFusionError, ScalarValue, project_schema};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectMeta;
use tarn_catalog::{DataFile, Metastore, PartitionFilter, Table, paths};

use super::cached_scan::{ScanRequest, with_scan_cache};
use super::format::{file_format, parse_location};
use super::listing::{FooterReader, ListingCache};
use super::pruning::{PartitionKey, evaluate_partitions, to_partition_filter};
use super::read_ahead::with_read_ahead;
use super::scan_cache::ScanCache;
use crate::error::{EngineError, Result};

/// How many partition directories are listed concurrently.
const LIST_CONCURRENCY: usize = 32;

/// A catalogued table as DataFusion sees it.
pub struct HiveTable {
    table: Table,
    schema: SchemaRef,
    file_schema: SchemaRef,
    partition_fields: Vec<FieldRef>,
    keys: Vec<PartitionKey>,
    metastore: Arc<dyn Metastore>,
    caches: TableCaches,
    /// Identifies `file_schema` in scan cache keys.
    schema_id: u64,
}

/// The engine-wide caches a table scan uses.
#[derive(Clone)]
pub struct TableCaches {
    /// Directory listings and Parquet footer statistics.
    pub listing: Arc<ListingCache>,
    /// Decoded Parquet columns.
    pub scan: Arc<ScanCache>,
}

impl std::fmt::Debug for HiveTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HiveTable({})", self.table.qualified_name())
    }
}

/// `schema` with its first `data_columns` top-level Utf8 fields as Utf8View (partition
/// columns keep their types: their values come from the catalog).
fn view_strings(schema: &SchemaRef, data_columns: usize) -> SchemaRef {
    let fields: Vec<FieldRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match f.data_type() {
            DataType::Utf8 if i < data_columns => {
                Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View))
            }
            _ => f.clone(),
        })
        .collect();
    Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
}

impl HiveTable {
    pub fn try_new(
        table: Table,
        metastore: Arc<dyn Metastore>,
        caches: TableCaches,
    ) -> Result<Self> {
        let (schema, file_schema) = match table.format {
            // Parquet strings are read as Utf8View, the type DataFusion's reader produces: no
            // copy into a contiguous Utf8 buffer per batch (5–11% of a full scan's CPU); the pg
            // encoder reads views, Flight sends plain Utf8 (see server/src/flight/stream.rs).
            tarn_catalog::StorageFormat::Parquet => (
                view_strings(&table.arrow_schema()?, table.columns.len()),
                view_strings(&table.file_schema()?, table.columns.len()),
            ),
            _ => (table.arrow_schema()?, table.file_schema()?),
        };
        let n_data = table.columns.len();
        let partition_fields: Vec<FieldRef> = schema.fields()[n_data..].to_vec();
        let keys = table
            .partition_keys
            .iter()
            .zip(&partition_fields)
            .map(|(col, field)| {
                PartitionKey::new(&col.name, field.data_type().clone(), &col.hive_type)
            })
            .collect();
        Ok(Self {
            schema_id: super::scan_cache::schema_id(&file_schema),
            table,
            schema,
            file_schema,
            partition_fields,
            keys,
            metastore,
            caches,
        })
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    fn partition_names(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.name.as_str()).collect()
    }

    /// The partitions to read, each with its typed partition values and, when tarn wrote it,
    /// its file list from the catalog, with the table's write state read in the same snapshot
    /// (see `TarnFiles`): one catalog round trip.
    async fn directories(
        &self,
        state: &dyn Session,
        partition_filters: &[Expr],
    ) -> Result<(Vec<ScanUnit>, tarn_catalog::WriteState)> {
        let index_filter = if self.keys.is_empty() {
            // Tables tarn wrote keep their file index in one unnamed partition.
            PartitionFilter::All
        } else {
            to_partition_filter(partition_filters, &self.keys)
        };
        let (candidates, write_state) = self
            .metastore
            .scan_state(
                &self.table.database,
                &self.table.name,
                &self.table.location,
                &index_filter,
            )
            .await?;
        if self.keys.is_empty() {
            let unit = match candidates.into_iter().next() {
                Some(p) => ScanUnit {
                    location: p.location,
                    values: vec![],
                    files: p.files,
                    written: p.written_files,
                    version: p.version,
                },
                // A managed table no write has committed to holds nothing, whatever its
                // directory holds (a predecessor's leftovers, say).
                None if self.table.table_type == tarn_catalog::TableType::Managed => {
                    return Ok((vec![], write_state));
                }
                None => ScanUnit {
                    location: self.table.location.clone(),
                    values: vec![],
                    files: None,
                    written: vec![],
                    version: self.table.version,
                },
            };
            return Ok((vec![unit], write_state));
        }
        let survivors = evaluate_partitions(state, candidates, &self.keys, partition_filters)?;
        let units = survivors
            .into_iter()
            .map(|(p, values)| ScanUnit {
                location: p.location,
                values,
                files: p.files,
                written: p.written_files,
                version: p.version,
            })
            .collect();
        Ok((units, write_state))
    }

    async fn files(
        &self,
        state: &dyn Session,
        directories: Vec<ScanUnit>,
        tarn_files: &TarnFiles,
    ) -> Result<Option<(ObjectStoreUrl, Vec<PartitionedFile>)>> {
        let Some(first) = directories.first() else {
            return Ok(None);
        };
        let (store_url, _) = parse_location(&first.location)?;
        let store = state.runtime_env().object_store(&store_url)?;
        let version = self.table.version;
        let listing = &self.caches.listing;
        let file_schema = &self.file_schema;
        let store_key = store_url.as_str().to_string();
        let parquet = matches!(self.table.format, tarn_catalog::StorageFormat::Parquet);
        let footer_reader = FooterReader {
            store: store.clone(),
            metadata_cache: state.runtime_env().cache_manager.get_file_metadata_cache(),
        };
        let footer_reader = &footer_reader;
        let per_dir = futures::stream::iter(directories)
            .map(|unit| {
                let store = store.clone();
                let store_key = store_key.clone();
                let expected = store_url.clone();
                async move {
                    let (url, dir) = parse_location(&unit.location)?;
                    if url != expected {
                        return Err(EngineError::NotSupported(format!(
                            "partitions of one table on different object stores ({})",
                            unit.location
                        )));
                    }
                    if let Some(indexed) = &unit.files {
                        // Written by tarn: the catalog is the file index, no LIST needed.
                        return indexed_files(indexed, &unit.values, &expected, file_schema);
                    }
                    // Cached per table version (planning) and partition version (every commit
                    // to the partition bumps it, so a cached listing never predates a commit
                    // whose files `written` lists).
                    let store_key = format!("{store_key}@{version}");
                    let version = unit.version;
                    let files = tarn_files.filter(
                        listing.list(&store, &store_key, &dir, version).await?,
                        &unit.written,
                    );
                    let footers = if parquet {
                        listing
                            .parquet_statistics(
                                footer_reader,
                                &store_key,
                                &dir,
                                &files,
                                version,
                                file_schema,
                            )
                            .await
                    } else {
                        Arc::new(vec![None; files.len()])
                    };
                    Ok::<_, EngineError>(to_partitioned_files(
                        &files,
                        &footers,
                        &unit.values,
                        file_schema,
                    ))
                }
            })
            .buffered(LIST_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        let files = per_dir.into_iter().flatten().collect();
        Ok(Some((store_url, files)))
    }
}

/// One partition to scan.
struct ScanUnit {
    location: String,
    values: Vec<ScalarValue>,
    files: Option<Vec<DataFile>>,
    /// Listed partitions: the files tarn's commits put there.
    written: Vec<String>,
    /// The partition's version (its listing is cached per version).
    version: i64,
}

/// Which of tarn's files (named `tarn-<write id>-…`) a listing reader may read: those a commit
/// recorded in the partition (read with the partition itself), and those of writes that were
/// finished when the scan started — neither pending nor failed then, nor begun later in this
/// catalog — which covers a table created again over a location tarn wrote into before.
/// Files of writes running, failed, killed or reclaimed are never read; other engines' files
/// always are. The state is read before the partitions and the listing (cached per partition
/// version, which every commit bumps), so a write that commits while the scan lists is either
/// wholly in or wholly out.
struct TarnFiles {
    unfinished: std::collections::HashSet<String>,
    catalog_id: String,
    /// Write numbers above this began after the scan started.
    last: String,
}

impl TarnFiles {
    fn new(state: tarn_catalog::WriteState) -> Self {
        Self {
            unfinished: state.pending.into_iter().map(|p| p.write_id).collect(),
            last: tarn_catalog::write_sequence_prefix(state.last_sequence),
            catalog_id: state.catalog_id,
        }
    }

    fn readable(&self, write_id: &str, recorded: bool) -> bool {
        if recorded {
            return true;
        }
        let ours = write_id.get(14..22) == Some(self.catalog_id.as_str());
        let later = ours && write_id.get(..14).is_some_and(|n| n > self.last.as_str());
        !later && !self.unfinished.contains(write_id)
    }

    /// A listed directory's files without the tarn files the scan may not read.
    fn filter(&self, listed: Arc<Vec<ObjectMeta>>, written: &[String]) -> Arc<Vec<ObjectMeta>> {
        let recorded: std::collections::HashSet<&str> = written
            .iter()
            .filter_map(|w| w.rsplit('/').next())
            .collect();
        let hidden = |meta: &ObjectMeta| {
            meta.location.filename().is_some_and(|name| {
                paths::tarn_write_id(name)
                    .is_some_and(|id| !self.readable(id, recorded.contains(name)))
            })
        };
        if !listed.iter().any(hidden) {
            return listed;
        }
        Arc::new(listed.iter().filter(|m| !hidden(m)).cloned().collect())
    }
}

fn indexed_files(
    files: &[DataFile],
    values: &[ScalarValue],
    store: &ObjectStoreUrl,
    file_schema: &SchemaRef,
) -> Result<Vec<PartitionedFile>> {
    files
        .iter()
        .map(|f| {
            let (url, path) = parse_location(&f.path)?;
            if &url != store {
                return Err(EngineError::NotSupported(format!(
                    "file on another object store: {}",
                    f.path
                )));
            }
            let meta = ObjectMeta {
                location: path,
                last_modified: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
                size: f.size,
                e_tag: None,
                version: None,
            };
            let mut file = PartitionedFile::from(meta);
            file.partition_values = values.to_vec();
            file.statistics = Some(Arc::new(file_statistics(f, values, file_schema)));
            Ok(file)
        })
        .collect()
}

/// The catalog's per-file statistics as DataFusion's: exact row and null counts, min/max as
/// inexact bounds (Parquet may truncate long values), exact partition values.
fn file_statistics(f: &DataFile, values: &[ScalarValue], file_schema: &SchemaRef) -> Statistics {
    let rows = f.rows as usize;
    let bound = |text: &Option<String>, data_type: &DataType| {
        text.as_ref()
            .and_then(|t| ScalarValue::try_from_string(t.clone(), data_type).ok())
            .map(Precision::Inexact)
            .unwrap_or(Precision::Absent)
    };
    let mut columns: Vec<ColumnStatistics> = file_schema
        .fields()
        .iter()
        .map(|field| match f.columns.get(field.name()) {
            Some(c) => ColumnStatistics {
                null_count: Precision::Exact(c.null_count as usize),
                min_value: bound(&c.min, field.data_type()),
                max_value: bound(&c.max, field.data_type()),
                ..ColumnStatistics::new_unknown()
            },
            None => ColumnStatistics::new_unknown(),
        })
        .collect();
    columns.extend(partition_statistics(values, Precision::Exact(rows)));
    Statistics {
        num_rows: Precision::Exact(rows),
        total_byte_size: Precision::Inexact(f.size as usize),
        column_statistics: columns,
    }
}

fn to_partitioned_files(
    files: &[ObjectMeta],
    footers: &[Option<Arc<Statistics>>],
    values: &[ScalarValue],
    file_schema: &SchemaRef,
) -> Vec<PartitionedFile> {
    files
        .iter()
        .zip(footers)
        .map(|(meta, footer)| {
            let mut file = PartitionedFile::from(meta.clone());
            file.partition_values = values.to_vec();
            let stats = match footer {
                Some(footer) => with_partition_values(footer, values),
                None => listed_statistics(meta, values, file_schema),
            };
            file.statistics = Some(Arc::new(stats));
            file
        })
        .collect()
}

/// A file's footer statistics (its data columns) extended by its partition values.
fn with_partition_values(footer: &Statistics, values: &[ScalarValue]) -> Statistics {
    let mut stats = footer.clone();
    let rows = stats.num_rows;
    stats
        .column_statistics
        .extend(partition_statistics(values, rows));
    stats
}

/// What a listed file whose footer was not read (CSV, JSON, an unreadable footer) is known to
/// hold: its size, as an inexact byte count, and its partition values.
fn listed_statistics(
    meta: &ObjectMeta,
    values: &[ScalarValue],
    file_schema: &SchemaRef,
) -> Statistics {
    let mut columns: Vec<ColumnStatistics> = file_schema
        .fields()
        .iter()
        .map(|_| ColumnStatistics::new_unknown())
        .collect();
    columns.extend(partition_statistics(values, Precision::Absent));
    Statistics {
        num_rows: Precision::Absent,
        total_byte_size: Precision::Inexact(meta.size as usize),
        column_statistics: columns,
    }
}

/// Each partition column of a file holds exactly its partition value (or only NULLs).
fn partition_statistics(
    values: &[ScalarValue],
    rows: Precision<usize>,
) -> impl Iterator<Item = ColumnStatistics> + '_ {
    values.iter().map(move |value| {
        if value.is_null() {
            // DataFusion's own helper would claim no nulls here; the NULL partition is all nulls.
            ColumnStatistics {
                null_count: rows,
                ..ColumnStatistics::new_unknown()
            }
        } else {
            ColumnStatistics {
                null_count: Precision::Exact(0),
                min_value: Precision::Exact(value.clone()),
                max_value: Precision::Exact(value.clone()),
                distinct_count: Precision::Exact(1),
                ..ColumnStatistics::new_unknown()
            }
        }
    })
}

/// Spreads files over `n` groups, largest first onto the lightest group.
fn group_files(mut files: Vec<PartitionedFile>, n: usize) -> Vec<FileGroup> {
    let n = n.max(1).min(files.len().max(1));
    files.sort_by_key(|f| std::cmp::Reverse(f.object_meta.size));
    let mut groups: Vec<(u64, Vec<PartitionedFile>)> = (0..n).map(|_| (0, vec![])).collect();
    for file in files {
        let lightest = groups.iter_mut().min_by_key(|(size, _)| *size).map(|g| {
            g.0 += file.object_meta.size;
            &mut g.1
        });
        if let Some(group) = lightest {
            group.push(file);
        }
    }
    groups
        .into_iter()
        .filter(|(_, g)| !g.is_empty())
        .map(|(_, g)| FileGroup::new(g))
        .collect()
}

#[async_trait]
impl TableProvider for HiveTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        // First: a table tarn cannot read (ORC, Iceberg) is an error even when empty.
        let format =
            file_format(&self.table.format, state).map_err(EngineError::into_datafusion)?;
        let names = self.partition_names();
        let partition_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| !names.is_empty() && expr_applicable_for_cols(&names, f))
            .cloned()
            .collect();
        let (directories, write_state) = self
            .directories(state, &partition_filters)
            .await
            .map_err(EngineError::into_datafusion)?;
        let tarn_files = TarnFiles::new(write_state);
        let found = self
            .files(state, directories, &tarn_files)
            .await
            .map_err(EngineError::into_datafusion)?;
        let Some((store_url, files)) = found.filter(|(_, files)| !files.is_empty()) else {
            let projected = project_schema(&self.schema, projection)?;
            return Ok(Arc::new(EmptyExec::new(projected)));
        };
        let table_schema = TableSchema::builder(self.file_schema.clone())
            .with_table_partition_cols(self.partition_fields.clone())
            .build();
        let source = format.file_source(table_schema);
        // Statistics only when every file has them: a partial sum would be wrong, not inexact.
        let all_known = files.iter().all(|f| f.statistics.is_some());
        let groups = group_files(files, state.config().target_partitions());
        let mut builder = FileScanConfigBuilder::new(store_url.clone(), source);
        if all_known {
            let per_file = groups
                .iter()
                .flat_map(|g| g.iter())
                .filter_map(|f| f.statistics.as_deref());
            let stats = Statistics::try_merge_iter(per_file, &self.schema)?;
            builder = builder.with_statistics(stats);
        }
        builder = builder.with_file_groups(groups);
        let config = builder
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        let plan = format.create_physical_plan(state, config).await?;
        match self.table.format {
            tarn_catalog::StorageFormat::Parquet => {
                let plan = with_read_ahead(plan, state, &store_url)?;
                let request = ScanRequest {
                    store_key: store_url.as_str(),
                    projection,
                    file_columns: self.file_schema.fields().len(),
                    schema_id: self.schema_id,
                    limit,
                    target_partitions: state.config().target_partitions(),
                };
                with_scan_cache(plan, &self.caches.scan, &request)
            }
            // Parquet names the file itself; text decoders do not.
            _ => Ok(super::named_errors::name_files_in_errors(plan)),
        }
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::common::Result<Vec<TableProviderFilterPushDown>> {
        let names = self.partition_names();
        Ok(filters
            .iter()
            .map(|f| {
                if !names.is_empty() && expr_applicable_for_cols(&names, f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Inexact
                }
            })
            .collect())
    }
}

impl From<EngineError> for DataFusionError {
    fn from(e: EngineError) -> Self {
        e.into_datafusion()
    }
}
