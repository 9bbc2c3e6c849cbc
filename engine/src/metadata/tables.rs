//! Tables through a metastore protocol: listing, reading, creating, altering and dropping,
//! with Hive's and Spark's conventions (SerDe classes, `spark.sql.sources.*`) mapped onto
//! tarn's model.

use std::collections::BTreeMap;

use tarn_catalog::{
    CatalogError, Column, HiveStorage, Privilege, StorageFormat, Table, TableType, paths,
};

use super::Metadata;
use crate::error::{EngineError, Result};
use crate::statements::locations::{self, MANAGED_LOCATION};

/// Spark keeps a data source table's case-preserving schema in these parameters (split into
/// parts when long), and its partition columns after it.
const SPARK_PROVIDER: &str = "spark.sql.sources.provider";
const SPARK_SCHEMA: &str = "spark.sql.sources.schema";

impl Metadata<'_> {
    /// The tables of a database (matching a Hive pattern) this role may see.
    pub async fn tables(&self, db: &str, pattern: Option<&str>) -> Result<Vec<Table>> {
        let db = self.database(db).await?;
        let mut tables = self.metastore().list_tables(&db.name, None).await?;
        if let Some(matcher) = super::hive_pattern(pattern) {
            tables.retain(|t| matcher.matches(&t.name));
        }
        self.session.visible_tables(tables).await
    }

    /// A table's definition: one catalog snapshot (database, table, grants), then SELECT on the
    /// whole table, which reading its metadata and partitions needs. Missing and unreadable
    /// tables are both "not found": names a role may not read are not revealed.
    pub async fn table(&self, db: &str, name: &str) -> Result<Table> {
        let (db, name) = (db.to_lowercase(), name.to_lowercase());
        let snapshot = self.metastore().table_snapshot(&db, &name).await?;
        let not_found = || {
            EngineError::Catalog(CatalogError::TableNotFound {
                db: db.clone(),
                table: name.clone(),
            })
        };
        let table = snapshot.table.ok_or_else(not_found)?;
        let access = self.session.access().await?;
        let grants = crate::authz::TableGrants::from_parts(snapshot.grants, snapshot.database);
        // SELECT on every column (a table grant, or column grants covering all): partition
        // values are data of the key columns, and the definition names them all.
        if grants
            .require(&access, &table, Privilege::Select, None)
            .is_err()
        {
            return Err(not_found());
        }
        Ok(table)
    }

    /// Creates a table or view. Without a location (or at `<database>/<name>`) a table is
    /// managed: tarn makes and owns its directory. Elsewhere the location role is needed and
    /// the table may not overlap another, as CREATE EXTERNAL TABLE.
    pub async fn create_table(&self, mut table: Table, location: Option<&str>) -> Result<()> {
        table.database = table.database.to_lowercase();
        table.name = table.name.to_lowercase();
        super::check_name(&table.name, "table")?;
        locations::check_properties(table.parameters.keys())?;
        apply_spark_schema(&mut table)?;
        table.format = format_of(table.hive.as_ref(), &table.parameters)?;
        self.session.require_create_in(&table.database).await?;
        if self
            .metastore()
            .get_table(&table.database, &table.name)
            .await?
            .is_some()
        {
            return Err(CatalogError::TableExists {
                db: table.database,
                table: table.name,
            }
            .into());
        }
        let db = self.database(&table.database).await?;
        let default = paths::join(&db.location, &table.name);
        table.location = match (table.table_type, location.filter(|l| !l.is_empty())) {
            (TableType::View, _) => String::new(),
            (_, None) => self.managed(&mut table, default, true).await?,
            // A client that names the default directory (Spark does, and keeps it in the SerDe
            // `path`) gets exactly that directory or an error, never another one.
            (_, Some(l)) if self.is_location(l, &default) => {
                self.managed(&mut table, default, false).await?
            }
            (_, Some(l)) => {
                // Only a directory tarn made is ever deleted: a table the client placed is
                // external, whatever it called itself.
                if table.table_type == TableType::Managed {
                    table.table_type = TableType::External;
                }
                locations::table_location(self.session, l, None).await?
            }
        };
        if table.table_type == TableType::View && table.view_text.is_none() {
            return Err(EngineError::InvalidParameter(
                "a view needs its query text".into(),
            ));
        }
        table.owner = Some(self.session.current_role());
        table.create_time = crate::statements::now();
        table.version = 0;
        let location = table.location.clone();
        self.metastore().create_table(table, false).await?;
        make_local_dir(&location).await;
        Ok(())
    }

    /// A table at its default directory `default`: checked like CREATE TABLE's; a managed one
    /// is recorded as tarn's own (DROP deletes it), an external one is not (its data stays).
    /// With `elsewhere`, a managed table whose default is taken gets a directory of its own.
    async fn managed(&self, table: &mut Table, default: String, elsewhere: bool) -> Result<String> {
        let location = if table.table_type == TableType::Managed && elsewhere {
            locations::managed_directory(self.session, &default, None).await?
        } else {
            locations::check_managed(self.session, &default, None).await?;
            default
        };
        if table.table_type == TableType::Managed {
            table
                .parameters
                .insert(MANAGED_LOCATION.into(), location.clone());
        }
        Ok(location)
    }

    /// Replaces a table's definition (its owner only). The name, partition keys, owner and
    /// tarn's own parameters stay; a new location needs the location role; the change is
    /// optimistic against the version read here.
    pub async fn alter_table(&self, db: &str, name: &str, mut new: Table) -> Result<()> {
        let old = self.table_for_change(db, name).await?;
        self.session.require_owner(&old).await?;
        if !new.name.eq_ignore_ascii_case(&old.name)
            || !new.database.eq_ignore_ascii_case(&old.database)
        {
            return Err(EngineError::NotSupported(
                "renaming a table or moving it to another database".into(),
            ));
        }
        let keys = |t: &Table| {
            t.partition_keys
                .iter()
                .map(|k| (k.name.clone(), k.hive_type.clone()))
                .collect::<Vec<_>>()
        };
        apply_spark_schema(&mut new)?;
        if keys(&new) != keys(&old) {
            return Err(EngineError::InvalidParameter(
                "the partition columns of a table cannot be changed".into(),
            ));
        }
        new.parameters.remove(MANAGED_LOCATION);
        locations::check_properties(new.parameters.keys())?;
        new.format = format_of(new.hive.as_ref(), &new.parameters)?;
        let moved = old.table_type != TableType::View
            && !self.is_location(&new.location, &old.location)
            && new.location.trim_end_matches('/') != old.location.trim_end_matches('/');
        new.location = if moved {
            locations::table_location(self.session, &new.location, None).await?
        } else {
            if let Some(own) = old.parameters.get(MANAGED_LOCATION) {
                new.parameters.insert(MANAGED_LOCATION.into(), own.clone());
            }
            old.location.clone()
        };
        if old.table_type == TableType::View {
            new.table_type = TableType::View;
        } else if new.table_type == TableType::View {
            return Err(EngineError::InvalidParameter(
                "a table cannot become a view".into(),
            ));
        } else if !old.parameters.contains_key(MANAGED_LOCATION) || moved {
            // Only the directory tarn made is ever deleted: a table cannot become managed.
            new.table_type = TableType::External;
        }
        spark_stats_to_hive(&old, &mut new);
        new.database = old.database.clone();
        new.name = old.name.clone();
        new.owner = old.owner.clone();
        new.create_time = old.create_time;
        new.version = old.version;
        Ok(self.metastore().alter_table(new).await?)
    }

    /// Renames a table or view (its owner only; into another database also needs CREATE
    /// there). The data stays in its directory, which the table keeps owning; grants follow.
    pub async fn rename_table(&self, db: &str, name: &str, to_db: &str, to: &str) -> Result<()> {
        let table = self.table_for_change(db, name).await?;
        self.session.require_owner(&table).await?;
        let (to_db, to) = (to_db.to_lowercase(), to.to_lowercase());
        super::check_name(&to, "table")?;
        if to_db != table.database {
            self.session.require_create_in(&to_db).await?;
        }
        Ok(self
            .metastore()
            .rename_table(
                (&table.database, &table.name),
                (&to_db, &to),
                Some(table.version),
            )
            .await?)
    }

    /// Drops a table or view (its owner only); a managed table's directory goes with it when
    /// `delete_data` and nothing else uses it.
    pub async fn drop_table(&self, db: &str, name: &str, delete_data: bool) -> Result<()> {
        let table = self.table_for_change(db, name).await?;
        self.session.require_owner(&table).await?;
        let dropped = self
            .metastore()
            .drop_table(&table.database, &table.name, false, Some(table.version))
            .await?;
        if let Some(dropped) = dropped.filter(|_| delete_data) {
            crate::statements::table::delete_managed_data(self.session, &dropped).await?;
        }
        Ok(())
    }

    /// A table about to change: it must exist and be visible (ownership is checked after).
    pub(super) async fn table_for_change(&self, db: &str, name: &str) -> Result<Table> {
        let (db, name) = (db.to_lowercase(), name.to_lowercase());
        let table = self.metastore().get_table(&db, &name).await?;
        let table = table.ok_or(CatalogError::TableNotFound {
            db: db.clone(),
            table: name.clone(),
        })?;
        if !self.session.can_see(&table).await? {
            return Err(CatalogError::TableNotFound { db, table: name }.into());
        }
        Ok(table)
    }

    /// Checks a privilege on a table already read.
    pub(super) async fn require(&self, table: &Table, p: Privilege) -> Result<()> {
        self.session.require_table(table, p).await
    }
}

/// Statistics Spark computed (ANALYZE TABLE) are recorded where tarn and Hive keep theirs
/// (`numRows`, `totalSize`), so pg clients and other engines see the same numbers.
fn spark_stats_to_hive(old: &Table, new: &mut Table) {
    use tarn_catalog::stats_keys::{NUM_ROWS, TOTAL_SIZE};
    for (spark, hive) in [
        ("spark.sql.statistics.numRows", NUM_ROWS),
        ("spark.sql.statistics.totalSize", TOTAL_SIZE),
    ] {
        if let Some(v) = new.parameters.get(spark).cloned()
            && old.parameters.get(spark) != Some(&v)
            && v.parse::<u64>().is_ok()
        {
            new.parameters.insert(hive.to_string(), v);
        }
    }
}

/// Hive creates a managed table's directory; Spark's writers expect it (object stores have no
/// directories).
async fn make_local_dir(location: &str) {
    if location.starts_with('/') {
        let _ = tokio::fs::create_dir_all(location).await;
    }
}

/// The file format a Hive storage descriptor (or Spark's provider parameter) names.
pub fn format_of(
    hive: Option<&HiveStorage>,
    params: &BTreeMap<String, String>,
) -> Result<StorageFormat> {
    let serde_param = |keys: &[&str]| {
        hive.and_then(|h| keys.iter().find_map(|k| h.serde_params.get(*k).cloned()))
    };
    let delimiter = |default: u8| -> Result<u8> {
        match serde_param(&["field.delim", "separatorChar", "sep", "delimiter"]) {
            None => Ok(default),
            Some(d) if d.len() == 1 => Ok(d.as_bytes()[0]),
            Some(d) => Err(EngineError::InvalidParameter(format!(
                "field delimiter must be a single byte, got '{d}'"
            ))),
        }
    };
    let header = serde_param(&["header", "skip.header.line.count"])
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v.trim() == "1");
    // Iceberg catalogs (pyiceberg, Spark's and Trino's Iceberg) mark their tables so; the
    // storage descriptor they send says text, which is not what the directory holds.
    let is = |key: &str, needle: &str| {
        params
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(key) && v.to_lowercase().contains(needle))
    };
    if is("table_type", "iceberg") || is("storage_handler", "iceberg") {
        return Ok(StorageFormat::Iceberg);
    }
    if let Some(provider) = params.get(SPARK_PROVIDER) {
        return match provider.to_lowercase().as_str() {
            "parquet" | "org.apache.spark.sql.parquet" => Ok(StorageFormat::Parquet),
            "csv" | "com.databricks.spark.csv" => Ok(StorageFormat::Csv {
                delimiter: delimiter(b',')?,
                header,
            }),
            "json" => Ok(StorageFormat::Json),
            "orc" => Ok(StorageFormat::Orc),
            "hive" => hive_format(hive, delimiter, header),
            other => Err(EngineError::NotSupported(format!(
                "Spark data source '{other}' (tarn reads parquet, csv, json; orc is registered only)"
            ))),
        };
    }
    hive_format(hive, delimiter, header)
}

fn hive_format(
    hive: Option<&HiveStorage>,
    delimiter: impl Fn(u8) -> Result<u8>,
    header: bool,
) -> Result<StorageFormat> {
    let lib = hive
        .and_then(|h| h.serde_lib.as_deref())
        .unwrap_or_default();
    let input = hive
        .and_then(|h| h.input_format.as_deref())
        .unwrap_or_default();
    let has =
        |needle: &str| lib.to_lowercase().contains(needle) || input.to_lowercase().contains(needle);
    if has("parquet") || (lib.is_empty() && input.is_empty()) {
        Ok(StorageFormat::Parquet)
    } else if has("orc") {
        Ok(StorageFormat::Orc)
    } else if has("json") {
        Ok(StorageFormat::Json)
    } else if has("opencsv") {
        Ok(StorageFormat::Csv {
            delimiter: delimiter(b',')?,
            header,
        })
    } else if has("lazysimpleserde") || input.ends_with("TextInputFormat") {
        Ok(StorageFormat::Csv {
            delimiter: delimiter(1)?,
            header,
        })
    } else {
        Err(EngineError::NotSupported(format!(
            "tables stored with SerDe '{lib}' and input format '{input}'"
        )))
    }
}

/// Honours Spark's schema parameters: for a data source table Spark writes a placeholder
/// column list to the storage descriptor and the real (case-preserving) schema here.
fn apply_spark_schema(table: &mut Table) -> Result<()> {
    let Some(json) = spark_schema_json(&table.parameters) else {
        return Ok(());
    };
    let columns = super::spark_schema::columns(&json)?;
    let part_names: Vec<String> = match table.parameters.get("spark.sql.sources.schema.numPartCols")
    {
        Some(n) => {
            let n: usize = n.parse().map_err(|_| bad_param("numPartCols"))?;
            (0..n)
                .map(|i| {
                    table
                        .parameters
                        .get(&format!("spark.sql.sources.schema.partCol.{i}"))
                        .map(|c| c.to_lowercase())
                        .ok_or_else(|| bad_param("partCol"))
                })
                .collect::<Result<_>>()?
        }
        None => table
            .partition_keys
            .iter()
            .map(|k| k.name.clone())
            .collect(),
    };
    let (keys, data): (Vec<Column>, Vec<Column>) = columns
        .into_iter()
        .partition(|c| part_names.contains(&c.name));
    let keys = part_names
        .iter()
        .map(|n| {
            keys.iter()
                .find(|k| &k.name == n)
                .cloned()
                .ok_or_else(|| bad_param("partCol"))
        })
        .collect::<Result<Vec<_>>>()?;
    table.columns = data;
    table.partition_keys = keys;
    Ok(())
}

fn bad_param(what: &str) -> EngineError {
    EngineError::InvalidParameter(format!("malformed Spark schema parameter ({what})"))
}

/// The schema JSON, joined from its parts when Spark split it.
fn spark_schema_json(params: &BTreeMap<String, String>) -> Option<String> {
    if let Some(s) = params.get(SPARK_SCHEMA) {
        return Some(s.clone());
    }
    let n: usize = params
        .get("spark.sql.sources.schema.numParts")?
        .parse()
        .ok()?;
    (0..n.min(10_000))
        .map(|i| {
            params
                .get(&format!("spark.sql.sources.schema.part.{i}"))
                .cloned()
        })
        .collect::<Option<Vec<_>>>()
        .map(|parts| parts.concat())
}
