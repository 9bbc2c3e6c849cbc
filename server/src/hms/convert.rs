//! tarn's catalog model to and from the metastore's Thrift structs (field ids from Hive's IDL).
//! Every struct Spark dereferences is always filled (empty lists and maps, never absent).

use std::collections::BTreeMap;

use tarn_engine::catalog::{
    Column, Database, HiveStorage, Partition, StorageFormat, Table, TableType, paths, stats_keys,
};
use tarn_engine::metadata::NewPartition;

use super::CallError;
use super::thrift::{Struct, TType, Value};

/// tarn's own table parameter, never shown to or taken from clients.
const MANAGED_LOCATION: &str = "tarn.managed_location";
/// Hive's PrincipalType.USER.
const USER: i32 = 1;

/// A location as Hive clients expect a URI (local paths as `file:` URIs).
pub fn location_uri(location: &str) -> String {
    if location.starts_with('/') {
        format!("file:{location}")
    } else {
        location.to_string()
    }
}

pub fn database(db: &Database) -> Struct {
    Struct::new()
        .with(1, Value::string(db.name.as_str()))
        .with(2, Value::string(db.description.clone().unwrap_or_default()))
        .with(3, Value::string(location_uri(&db.location)))
        .with(4, Value::string_map(&db.parameters))
        .with_opt(6, db.owner.clone().map(Value::string))
        .with_opt(7, db.owner.as_ref().map(|_| Value::I32(USER)))
}

/// A database from a client, and the location it asked for (empty: the default).
pub fn database_from(s: &Struct) -> Result<(Database, Option<String>), CallError> {
    let db = Database {
        name: s
            .str(1)
            .ok_or_else(|| CallError::invalid("a database needs a name"))?,
        description: s.str(2).filter(|d| !d.is_empty()),
        location: String::new(),
        parameters: s.string_map(4),
        owner: None,
        create_time: 0,
    };
    Ok((db, s.str(3)))
}

fn field_schema(c: &Column) -> Value {
    Value::Struct(
        Struct::new()
            .with(1, Value::string(c.name.as_str()))
            .with(2, Value::string(c.hive_type.as_str()))
            .with_opt(3, c.comment.clone().map(Value::string)),
    )
}

pub fn columns(cols: &[Column]) -> Value {
    Value::List(TType::Struct, cols.iter().map(field_schema).collect())
}

fn columns_from(s: &Struct, id: i16) -> Result<Vec<Column>, CallError> {
    s.structs(id)
        .iter()
        .map(|c| {
            let name = c
                .str(1)
                .ok_or_else(|| CallError::invalid("a column needs a name"))?;
            let ty = c
                .str(2)
                .ok_or_else(|| CallError::invalid("a column needs a type"))?;
            Column::new(name, &ty, c.str(3).filter(|s| !s.is_empty()))
                .map_err(|e| CallError::invalid(&e.to_string()))
        })
        .collect()
}

/// The storage descriptor Hive clients expect for a table (or, with `location`, a partition).
fn storage_descriptor(t: &Table, location: &str) -> Struct {
    let hive = t.hive.clone().unwrap_or_else(|| default_storage(&t.format));
    let serde = Struct::new()
        .with_opt(1, hive.serde_name.clone().map(Value::string))
        .with(
            2,
            Value::string(
                hive.serde_lib
                    .clone()
                    .unwrap_or_else(|| t.format.serde_lib().into()),
            ),
        )
        .with(3, Value::string_map(&hive.serde_params));
    let skewed = Struct::new()
        .with(1, Value::List(TType::String, vec![]))
        .with(2, Value::List(TType::List, vec![]))
        .with(3, Value::Map(TType::List, TType::String, vec![]));
    let sort = hive.sort_cols.iter().map(|(c, o)| {
        Struct::new()
            .with(1, Value::string(c.as_str()))
            .with(2, Value::I32(*o))
    });
    Struct::new()
        .with(1, columns(&t.columns))
        .with_opt(
            2,
            (!location.is_empty()).then(|| Value::string(location_uri(location))),
        )
        .with(
            3,
            Value::string(
                hive.input_format
                    .clone()
                    .unwrap_or_else(|| t.format.input_format().into()),
            ),
        )
        .with(
            4,
            Value::string(
                hive.output_format
                    .clone()
                    .unwrap_or_else(|| t.format.output_format().into()),
            ),
        )
        .with(5, Value::Bool(hive.compressed))
        .with(
            6,
            Value::I32(if hive.num_buckets == 0 {
                -1
            } else {
                hive.num_buckets
            }),
        )
        .with(7, Value::Struct(serde))
        .with(8, Value::strings(hive.bucket_cols.clone()))
        .with(9, Value::structs(sort))
        .with(10, Value::string_map(&hive.sd_params))
        .with(11, Value::Struct(skewed))
        .with(12, Value::Bool(false))
}

/// What a tarn-created table looks like to Hive clients.
fn default_storage(format: &StorageFormat) -> HiveStorage {
    let mut serde_params = BTreeMap::new();
    match format {
        StorageFormat::Csv { delimiter, header } => {
            let d = (*delimiter as char).to_string();
            serde_params.insert("field.delim".into(), d.clone());
            serde_params.insert("serialization.format".into(), d);
            if *header {
                serde_params.insert("skip.header.line.count".into(), "1".into());
            }
        }
        _ => {
            serde_params.insert("serialization.format".into(), "1".into());
        }
    }
    HiveStorage {
        serde_lib: Some(format.serde_lib().into()),
        serde_params,
        input_format: Some(format.input_format().into()),
        output_format: Some(format.output_format().into()),
        num_buckets: -1,
        ..Default::default()
    }
}

pub fn table(t: &Table) -> Struct {
    let mut params = t.parameters.clone();
    params.remove(MANAGED_LOCATION);
    let view = t.table_type == TableType::View;
    let expanded = t
        .hive
        .as_ref()
        .and_then(|h| h.view_expanded_text.clone())
        .or_else(|| t.view_text.clone());
    Struct::new()
        .with(1, Value::string(t.name.as_str()))
        .with(2, Value::string(t.database.as_str()))
        .with(3, Value::string(t.owner.clone().unwrap_or_default()))
        .with(4, Value::I32(t.create_time as i32))
        .with(5, Value::I32(0))
        .with(6, Value::I32(0))
        .with(7, Value::Struct(storage_descriptor(t, &t.location)))
        .with(8, columns(&t.partition_keys))
        .with(9, Value::string_map(&params))
        .with_opt(
            10,
            view.then(|| Value::string(t.view_text.clone().unwrap_or_default())),
        )
        .with_opt(
            11,
            view.then(|| Value::string(expanded.unwrap_or_default())),
        )
        .with(12, Value::string(t.table_type.hive_name()))
        .with(14, Value::Bool(false))
}

/// A table from a client, and the location it asked for. The format is decided by the
/// engine from the SerDe and Spark's parameters.
pub fn table_from(s: &Struct) -> Result<(Table, Option<String>), CallError> {
    let empty = Struct::new();
    let sd = s.strct(7).unwrap_or(&empty);
    let serde = sd.strct(7).unwrap_or(&empty);
    let table_type = s
        .str(12)
        .and_then(|t| TableType::from_hive_name(&t))
        .unwrap_or(TableType::Managed);
    let params = s.string_map(9);
    let table_type = match table_type {
        TableType::Managed
            if params
                .get(stats_keys::EXTERNAL)
                .is_some_and(|v| v.eq_ignore_ascii_case("true")) =>
        {
            TableType::External
        }
        t => t,
    };
    let serde_params = serde.string_map(3);
    // Spark's data source tables keep the real path in the SerDe's `path` and may give the
    // storage descriptor a placeholder location.
    let location = sd
        .str(2)
        .filter(|l| !l.is_empty() && !l.contains("__PLACEHOLDER__"))
        .or_else(|| serde_params.get("path").cloned());
    let hive = HiveStorage {
        serde_name: serde.str(1),
        serde_lib: serde.str(2),
        serde_params,
        input_format: sd.str(3),
        output_format: sd.str(4),
        sd_params: sd.string_map(10),
        compressed: sd.bool(5).unwrap_or(false),
        num_buckets: sd.i32(6).unwrap_or(-1),
        bucket_cols: sd.strings(8),
        sort_cols: sd
            .structs(9)
            .iter()
            .map(|o| (o.str(1).unwrap_or_default(), o.i32(2).unwrap_or(1)))
            .collect(),
        view_expanded_text: s.str(11),
    };
    let table = Table {
        database: s
            .str(2)
            .ok_or_else(|| CallError::invalid("a table needs a database name"))?,
        name: s
            .str(1)
            .ok_or_else(|| CallError::invalid("a table needs a name"))?,
        table_type,
        columns: columns_from(sd, 1)?,
        partition_keys: columns_from(s, 8)?,
        location: location.clone().unwrap_or_default(),
        format: StorageFormat::Parquet,
        parameters: params,
        owner: None,
        create_time: 0,
        version: 0,
        view_text: s.str(10).filter(|_| table_type == TableType::View),
        hive: Some(hive),
    };
    Ok((table, location))
}

/// A partition's values as Hive sends them: unescaped, NULL as the default partition name.
fn values(p: &Partition) -> Value {
    Value::strings(p.values.iter().map(|v| {
        v.clone()
            .unwrap_or_else(|| paths::DEFAULT_PARTITION_NAME.to_string())
    }))
}

pub fn partition(t: &Table, p: &Partition) -> Struct {
    partition_with(t, storage_descriptor(t, ""), p)
}

/// A partition with its storage descriptor: the table's, at the partition's location.
fn partition_with(t: &Table, mut sd: Struct, p: &Partition) -> Struct {
    if !p.location.is_empty() {
        sd.fields.retain(|(id, _)| *id != 2);
        sd.fields
            .push((2, Value::string(location_uri(&p.location))));
    }
    partition_fields(t, p, Value::Struct(sd))
}

fn partition_fields(t: &Table, p: &Partition, sd: Value) -> Struct {
    Struct::new()
        .with(1, values(p))
        .with(2, Value::string(t.database.as_str()))
        .with(3, Value::string(t.name.as_str()))
        .with(4, Value::I32(p.create_time as i32))
        .with(5, Value::I32(0))
        .with(6, sd)
        .with(7, Value::string_map(&p.parameters))
}

/// Many partitions of one table: the table's storage descriptor is built and encoded once,
/// each partition's copy differs only in its location (spliced in as bytes, so a month of
/// partitions is not thousands of value trees).
pub fn partitions(t: &Table, ps: &[Partition]) -> Value {
    let sd = storage_descriptor(t, "");
    let mut rest = sd.clone();
    rest.fields.retain(|(id, _)| *id != 2);
    let rest = super::thrift::encode_fields(&rest);
    let table_location = sd.get(2).cloned();
    Value::structs(ps.iter().map(|p| {
        let location = if p.location.is_empty() {
            table_location.clone()
        } else {
            Some(Value::string(location_uri(&p.location)))
        };
        let head = super::thrift::encode_fields(&Struct::new().with_opt(2, location));
        let mut encoded = Vec::with_capacity(head.len() + rest.len() + 1);
        encoded.extend_from_slice(&head);
        encoded.extend_from_slice(&rest);
        encoded.push(0);
        partition_fields(
            t,
            p,
            Value::Encoded(super::thrift::TType::Struct, encoded.into()),
        )
    }))
}

/// Hive's partition name, `k1=v1/k2=v2` with escaped values.
pub fn partition_name(t: &Table, p: &Partition) -> String {
    let keys: Vec<String> = t.partition_keys.iter().map(|k| k.name.clone()).collect();
    paths::partition_name(&keys, &p.values)
}

pub fn partition_from(s: &Struct) -> NewPartition {
    NewPartition {
        values: s.strings(1),
        location: s
            .strct(6)
            .and_then(|sd| sd.str(2))
            .filter(|l| !l.is_empty()),
        parameters: s.string_map(7),
    }
}

/// Values from a partition name (`k1=v1/k2=v2`, escaped) in the table's key order.
pub fn values_from_name(t: &Table, name: &str) -> Result<Vec<String>, CallError> {
    let keys: Vec<String> = t.partition_keys.iter().map(|k| k.name.clone()).collect();
    let spec = paths::parse_partition_path(&keys, name).ok_or_else(|| {
        CallError::no_such(&format!("partition {name} of {}", t.qualified_name()))
    })?;
    Ok(spec
        .into_iter()
        .map(|v| v.unwrap_or_else(|| paths::DEFAULT_PARTITION_NAME.to_string()))
        .collect())
}
