//! The Hive data model: databases, tables, partitions and their parameters.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::error::Result;
use crate::hive_types;

/// Hive's statistics parameter keys, kept on tables and partitions.
pub mod stats_keys {
    pub const NUM_FILES: &str = "numFiles";
    pub const NUM_ROWS: &str = "numRows";
    pub const TOTAL_SIZE: &str = "totalSize";
    pub const RAW_DATA_SIZE: &str = "rawDataSize";
    pub const COLUMN_STATS_ACCURATE: &str = "COLUMN_STATS_ACCURATE";
    /// Hive keeps a table's comment in its parameters under this key.
    pub const COMMENT: &str = "comment";
    /// Hive's marker for external tables.
    pub const EXTERNAL: &str = "EXTERNAL";
    /// Seconds since the epoch of the last DDL change, as Hive records it.
    pub const LAST_DDL_TIME: &str = "transient_lastDdlTime";
}

/// A Hive database (shown to Postgres clients as a schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Database {
    pub name: String,
    pub description: Option<String>,
    pub location: String,
    pub parameters: BTreeMap<String, String>,
    pub owner: Option<String>,
    pub create_time: i64,
}

/// Hive's table types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableType {
    External,
    Managed,
    View,
}

impl TableType {
    /// The name Hive records in TBL_TYPE.
    pub fn hive_name(self) -> &'static str {
        match self {
            TableType::External => "EXTERNAL_TABLE",
            TableType::Managed => "MANAGED_TABLE",
            TableType::View => "VIRTUAL_VIEW",
        }
    }

    pub fn from_hive_name(name: &str) -> Option<Self> {
        match name {
            "EXTERNAL_TABLE" => Some(TableType::External),
            "MANAGED_TABLE" => Some(TableType::Managed),
            "VIRTUAL_VIEW" => Some(TableType::View),
            _ => None,
        }
    }
}

/// A column: name, Hive type string (canonical, lower case) and comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub hive_type: String,
    pub comment: Option<String>,
}

impl Column {
    /// A column whose type string is validated and canonicalised.
    pub fn new(name: impl Into<String>, hive_type: &str, comment: Option<String>) -> Result<Self> {
        let canonical = hive_types::canonicalize(hive_type)?;
        Ok(Self {
            name: name.into().to_lowercase(),
            hive_type: canonical,
            comment,
        })
    }

    pub fn data_type(&self) -> Result<DataType> {
        hive_types::to_arrow(&self.hive_type)
    }

    pub fn field(&self) -> Result<Field> {
        Ok(Field::new(&self.name, self.data_type()?, true))
    }
}

/// How a table's files are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum StorageFormat {
    Parquet,
    Csv {
        delimiter: u8,
        header: bool,
    },
    Json,
    /// Recorded for other engines; tarn cannot read or write ORC files.
    Orc,
    /// An Iceberg table registered by an Iceberg catalog client (`table_type=ICEBERG`, its
    /// `metadata_location`): its data is not a directory of files to list, and tarn does not
    /// read Iceberg metadata, so it is registered only.
    Iceberg,
}

impl StorageFormat {
    pub fn name(&self) -> &'static str {
        match self {
            StorageFormat::Parquet => "PARQUET",
            StorageFormat::Csv { .. } => "CSV",
            StorageFormat::Json => "JSON",
            StorageFormat::Orc => "ORC",
            StorageFormat::Iceberg => "ICEBERG",
        }
    }

    /// The SerDe library Hive records for this format.
    pub fn serde_lib(&self) -> &'static str {
        match self {
            StorageFormat::Parquet => "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            StorageFormat::Csv { .. } => "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            StorageFormat::Json => "org.apache.hive.hcatalog.data.JsonSerDe",
            StorageFormat::Orc => "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
            StorageFormat::Iceberg => "org.apache.iceberg.mr.hive.HiveIcebergSerDe",
        }
    }

    pub fn input_format(&self) -> &'static str {
        match self {
            StorageFormat::Parquet => {
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
            }
            StorageFormat::Orc => "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
            StorageFormat::Iceberg => "org.apache.iceberg.mr.hive.HiveIcebergInputFormat",
            _ => "org.apache.hadoop.mapred.TextInputFormat",
        }
    }

    pub fn output_format(&self) -> &'static str {
        match self {
            StorageFormat::Parquet => {
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
            }
            StorageFormat::Orc => "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
            StorageFormat::Iceberg => "org.apache.iceberg.mr.hive.HiveIcebergOutputFormat",
            _ => "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        }
    }

    /// The file name extension writers use, and that readers accept when non-empty.
    pub fn extension(&self) -> &'static str {
        match self {
            StorageFormat::Parquet => ".parquet",
            StorageFormat::Csv { .. } => ".csv",
            StorageFormat::Json => ".json",
            StorageFormat::Orc => ".orc",
            StorageFormat::Iceberg => "",
        }
    }
}

/// A table (or view) in the metastore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub database: String,
    pub name: String,
    pub table_type: TableType,
    pub columns: Vec<Column>,
    pub partition_keys: Vec<Column>,
    pub location: String,
    pub format: StorageFormat,
    pub parameters: BTreeMap<String, String>,
    pub owner: Option<String>,
    pub create_time: i64,
    /// Bumped by the store on every change to the table or its partitions; readers use it to
    /// invalidate caches (file listings) without asking the store again.
    #[serde(default)]
    pub version: i64,
    /// A view's defining query (Hive's viewOriginalText); `None` for tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_text: Option<String>,
    /// What a Hive Metastore client stored beyond tarn's own model (SerDe, formats, buckets):
    /// kept so the table reads back to Spark and Hive as they wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hive: Option<HiveStorage>,
}

/// A Hive storage descriptor's details tarn does not interpret itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HiveStorage {
    pub serde_name: Option<String>,
    pub serde_lib: Option<String>,
    pub serde_params: BTreeMap<String, String>,
    pub input_format: Option<String>,
    pub output_format: Option<String>,
    pub sd_params: BTreeMap<String, String>,
    pub compressed: bool,
    pub num_buckets: i32,
    pub bucket_cols: Vec<String>,
    /// Sort columns and their order (Hive: 1 ascending, 0 descending).
    pub sort_cols: Vec<(String, i32)>,
    /// A view's expanded text (Hive's viewExpandedText).
    pub view_expanded_text: Option<String>,
}

impl Table {
    /// Data columns followed by partition columns, as Hive presents them.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        let fields = self
            .columns
            .iter()
            .chain(&self.partition_keys)
            .map(Column::field)
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Schema::new(fields)))
    }

    /// The schema of the files alone (no partition columns).
    pub fn file_schema(&self) -> Result<SchemaRef> {
        let fields = self
            .columns
            .iter()
            .map(Column::field)
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Schema::new(fields)))
    }

    pub fn comment(&self) -> Option<&str> {
        self.parameters.get(stats_keys::COMMENT).map(String::as_str)
    }

    pub fn is_partitioned(&self) -> bool {
        !self.partition_keys.is_empty()
    }

    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }
}

/// Partition key values in key order; `None` is Hive's default (NULL) partition.
pub type PartitionSpec = Vec<Option<String>>;

/// A partition of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// One value per partition key, in key order. `None` is the NULL partition.
    pub values: PartitionSpec,
    pub location: String,
    pub parameters: BTreeMap<String, String>,
    pub create_time: i64,
    /// Bumped by every write to the partition (optimistic concurrency).
    #[serde(default)]
    pub version: i64,
    /// The data files, when tarn wrote the partition and the catalog is its file index; `None`
    /// for partitions registered from outside (ADD PARTITION, MSCK), whose directory is listed.
    #[serde(default)]
    pub files: Option<Vec<crate::write::DataFile>>,
    /// For a listed partition (`files` is `None`): the files tarn's own commits put there. A
    /// listing reader takes tarn-named files ([`crate::paths::tarn_write_id`]) only from this
    /// record, so a write that is running, failed or was killed is never read, while files
    /// other engines put in the directory are.
    #[serde(default)]
    pub written_files: Vec<String>,
}

impl Partition {
    /// A partition registered from outside (its directory is listed when read).
    pub fn external(values: PartitionSpec, location: String, create_time: i64) -> Self {
        Self {
            values,
            location,
            parameters: BTreeMap::new(),
            create_time,
            version: 0,
            files: None,
            written_files: vec![],
        }
    }
}

/// A table or partition whose location overlaps a given one (see
/// [`crate::Metastore::locations_overlapping`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationUse {
    pub database: String,
    pub table: String,
    /// The partition's name (`k=v/…`), or `None` for the table's own location.
    pub partition: Option<String>,
    pub location: String,
}
