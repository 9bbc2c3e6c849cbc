//! Column statistics calls (Trino writes them after an INSERT and reads them to plan; Hive's
//! ANALYZE … FOR COLUMNS): Hive's `ColumnStatistics` structs to and from the catalog's model.

use std::collections::BTreeMap;

use tarn_engine::Session;
use tarn_engine::catalog::{
    ColumnStatistics, ColumnStatsData, HiveDecimal, StoredColumnStats, Table, paths,
};

use super::thrift::{Struct, TType, Value};
use super::{Args, CallError, Reply};

/// `Err(CallError::Unimplemented)` for a method this module does not serve.
pub async fn call(session: &Session, name: &str, a: &Args) -> Reply {
    match name {
        "update_table_column_statistics" | "update_partition_column_statistics" => {
            set(session, &[a.strct(1)?], false).await?;
            Ok(Some(Value::Bool(true)))
        }
        "set_aggr_stats_for" => {
            let req = a.strct(1)?;
            set(session, &req.structs(1), req.bool(2).unwrap_or(false)).await?;
            Ok(Some(Value::Bool(true)))
        }
        "get_table_column_statistics" => {
            let column = a.str(3)?;
            let (t, found) = stats_of(session, a, None, &column).await?;
            Ok(Some(Value::Struct(statistics(&t, None, found))))
        }
        "get_partition_column_statistics" => {
            let (part, column) = (a.str(3)?, a.str(4)?);
            let (t, found) = stats_of(session, a, Some(&part), &column).await?;
            Ok(Some(Value::Struct(statistics(&t, Some(&part), found))))
        }
        "get_table_statistics_req" => {
            let req = a.strct(1)?;
            let (db, name) = (req_str(req, 1)?, req_str(req, 2)?);
            let (_, stored) = session
                .metadata()
                .column_statistics(&db, &name, None, &req.strings(3))
                .await?;
            let objs = stored.into_iter().map(|s| column_obj(&s.stats));
            Ok(Some(Value::Struct(
                Struct::new().with(1, Value::structs(objs)),
            )))
        }
        "get_partitions_statistics_req" => {
            let req = a.strct(1)?;
            let (db, name) = (req_str(req, 1)?, req_str(req, 2)?);
            let names = req.strings(4);
            let (t, stored) = session
                .metadata()
                .column_statistics(&db, &name, Some(&names), &req.strings(3))
                .await?;
            Ok(Some(Value::Struct(
                Struct::new().with(1, by_partition(&t, stored)),
            )))
        }
        "get_aggr_stats_for" => {
            let req = a.strct(1)?;
            let (db, name) = (req_str(req, 1)?, req_str(req, 2)?);
            let agg = session
                .metadata()
                .aggregate_column_statistics(&db, &name, &req.strings(4), &req.strings(3))
                .await?;
            let objs = agg.columns.iter().map(column_obj);
            Ok(Some(Value::Struct(
                Struct::new()
                    .with(1, Value::structs(objs))
                    .with(2, Value::I64(agg.partitions_found as i64)),
            )))
        }
        "delete_table_column_statistics" => {
            let column = a.opt_str(3);
            delete(session, a, None, column).await
        }
        "delete_partition_column_statistics" => {
            let (part, column) = (a.str(3)?, a.opt_str(4));
            delete(session, a, Some(part), column).await
        }
        _ => Err(CallError::Unimplemented),
    }
}

/// One column's stored statistics (and the table), or Hive's NoSuchObjectException.
async fn stats_of(
    session: &Session,
    a: &Args,
    partition: Option<&String>,
    column: &str,
) -> Result<(Table, StoredColumnStats), CallError> {
    let names = partition.map(|p| vec![p.clone()]);
    let (t, found) = session
        .metadata()
        .column_statistics(
            &a.str(1)?,
            &a.str(2)?,
            names.as_deref(),
            &[column.to_string()],
        )
        .await?;
    match found.into_iter().next() {
        Some(s) => Ok((t, s)),
        None => {
            let of = partition.map_or(String::new(), |p| format!(" of partition {p}"));
            Err(CallError::no_such(&format!(
                "statistics of column '{column}'{of} of {}",
                t.qualified_name()
            )))
        }
    }
}

/// Hive answers `NoSuchObjectException` when a named column has no statistics, and `true`
/// when asked to delete all of them, whether or not there were any.
async fn delete(
    session: &Session,
    a: &Args,
    partition: Option<String>,
    column: Option<String>,
) -> Reply {
    let (db, name) = (a.str(1)?, a.str(2)?);
    let deleted = session
        .metadata()
        .delete_column_statistics(&db, &name, partition.as_deref(), column.as_deref())
        .await?;
    if let (false, Some(column)) = (deleted, &column) {
        return Err(CallError::no_such(&format!(
            "statistics of column '{column}' of {db}.{name}"
        )));
    }
    Ok(Some(Value::Bool(true)))
}

/// Records `ColumnStatistics` structs ({1: desc {1: isTblLevel, 2: db, 3: table, 4: partName},
/// 2: list<ColumnStatisticsObj>}) of one table, all or nothing.
async fn set(session: &Session, all: &[&Struct], merge: bool) -> Result<(), CallError> {
    let mut target: Option<(String, String)> = None;
    let mut updates = Vec::with_capacity(all.len());
    for s in all {
        let desc = s
            .strct(1)
            .ok_or_else(|| CallError::invalid("statsDesc is required"))?;
        let (db, name) = (req_str(desc, 2)?, req_str(desc, 3)?);
        match &target {
            None => target = Some((db, name)),
            Some((d, n)) if d.eq_ignore_ascii_case(&db) && n.eq_ignore_ascii_case(&name) => {}
            Some(_) => {
                return Err(CallError::invalid(
                    "statistics of one request must all be of one table",
                ));
            }
        }
        let partition = if desc.bool(1).unwrap_or(true) {
            None
        } else {
            Some(
                desc.str(4)
                    .ok_or_else(|| CallError::invalid("partition statistics need partName"))?,
            )
        };
        let mut stats = Vec::new();
        for o in s.structs(2) {
            stats.extend(column_from(o)?);
        }
        updates.push((partition, stats));
    }
    let Some((db, name)) = target else {
        return Ok(());
    };
    session
        .metadata()
        .set_column_statistics(&db, &name, updates, merge)
        .await?;
    Ok(())
}

/// A `ColumnStatistics` struct of one column of a table or partition.
fn statistics(t: &Table, partition: Option<&String>, s: StoredColumnStats) -> Struct {
    let desc = Struct::new()
        .with(1, Value::Bool(partition.is_none()))
        .with(2, Value::string(&t.database))
        .with(3, Value::string(&t.name))
        .with_opt(4, partition.map(|p| Value::string(p.as_str())))
        .with(5, Value::I64(s.last_analyzed));
    Struct::new()
        .with(1, Value::Struct(desc))
        .with(2, Value::structs([column_obj(&s.stats)]))
}

/// `map<partition name, list<ColumnStatisticsObj>>`, names as Hive writes them.
fn by_partition(t: &Table, stored: Vec<StoredColumnStats>) -> Value {
    let keys: Vec<String> = t.partition_keys.iter().map(|k| k.name.clone()).collect();
    let mut map: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for s in stored {
        let name = paths::partition_name(&keys, &s.partition.unwrap_or_default());
        map.entry(name)
            .or_default()
            .push(Value::Struct(column_obj(&s.stats)));
    }
    Value::Map(
        TType::String,
        TType::List,
        map.into_iter()
            .map(|(k, v)| (Value::string(k), Value::List(TType::Struct, v)))
            .collect(),
    )
}

fn req_str(s: &Struct, id: i16) -> Result<String, CallError> {
    s.str(id)
        .ok_or_else(|| CallError::invalid(&format!("field {id} is required")))
}

fn req_i64(s: &Struct, id: i16, what: &str) -> Result<i64, CallError> {
    s.i64(id)
        .ok_or_else(|| CallError::invalid(&format!("{what} is required")))
}

fn double(s: &Struct, id: i16) -> Option<f64> {
    match s.get(id) {
        Some(Value::Double(d)) => Some(*d),
        _ => None,
    }
}

fn binary(s: &Struct, id: i16) -> Option<Vec<u8>> {
    match s.get(id) {
        Some(Value::Binary(b)) => Some(b.clone()),
        _ => None,
    }
}

/// ColumnStatisticsObj {1: colName, 2: colType, 3: ColumnStatisticsData (a union)}; `None`
/// for a kind Hive 2.3 does not have (newer clients' timestamp statistics), which is skipped.
fn column_from(o: &Struct) -> Result<Option<ColumnStatistics>, CallError> {
    let column = req_str(o, 1)?;
    let column_type = req_str(o, 2)?;
    let union = o
        .strct(3)
        .ok_or_else(|| CallError::invalid("statsData is required"))?;
    let mut set = (1..=7).filter_map(|id| union.strct(id).map(|s| (id, s)));
    let (kind, d) = match (set.next(), set.next()) {
        (Some(one), None) => one,
        (None, None) if !union.fields.is_empty() => return Ok(None),
        _ => {
            return Err(CallError::invalid(&format!(
                "statistics of column '{column}' must set exactly one kind"
            )));
        }
    };
    let nulls = req_i64(d, 3, "numNulls")?;
    let data = match kind {
        1 => ColumnStatsData::Boolean {
            num_trues: req_i64(d, 1, "numTrues")?,
            num_falses: req_i64(d, 2, "numFalses")?,
            num_nulls: nulls,
            bit_vectors: binary(d, 4),
        },
        2 => ColumnStatsData::Long {
            low: d.i64(1),
            high: d.i64(2),
            num_nulls: nulls,
            num_dvs: req_i64(d, 4, "numDVs")?,
            bit_vectors: binary(d, 5),
        },
        3 => ColumnStatsData::Double {
            low: double(d, 1),
            high: double(d, 2),
            num_nulls: nulls,
            num_dvs: req_i64(d, 4, "numDVs")?,
            bit_vectors: binary(d, 5),
        },
        4 => ColumnStatsData::String {
            max_len: req_i64(d, 1, "maxColLen")?,
            avg_len: double(d, 2).ok_or_else(|| CallError::invalid("avgColLen is required"))?,
            num_nulls: nulls,
            num_dvs: req_i64(d, 4, "numDVs")?,
            bit_vectors: binary(d, 5),
        },
        5 => ColumnStatsData::Binary {
            max_len: req_i64(d, 1, "maxColLen")?,
            avg_len: double(d, 2).ok_or_else(|| CallError::invalid("avgColLen is required"))?,
            num_nulls: nulls,
            bit_vectors: binary(d, 4),
        },
        6 => ColumnStatsData::Decimal {
            low: d.strct(1).map(decimal_from).transpose()?,
            high: d.strct(2).map(decimal_from).transpose()?,
            num_nulls: nulls,
            num_dvs: req_i64(d, 4, "numDVs")?,
            bit_vectors: binary(d, 5),
        },
        _ => ColumnStatsData::Date {
            low: d.strct(1).and_then(|x| x.i64(1)),
            high: d.strct(2).and_then(|x| x.i64(1)),
            num_nulls: nulls,
            num_dvs: req_i64(d, 4, "numDVs")?,
            bit_vectors: binary(d, 5),
        },
    };
    Ok(Some(ColumnStatistics {
        column,
        column_type,
        data,
    }))
}

fn decimal_from(d: &Struct) -> Result<HiveDecimal, CallError> {
    Ok(HiveDecimal {
        unscaled: binary(d, 1).ok_or_else(|| CallError::invalid("Decimal.unscaled is required"))?,
        scale: d
            .i16(3)
            .ok_or_else(|| CallError::invalid("Decimal.scale is required"))?,
    })
}

fn column_obj(s: &ColumnStatistics) -> Struct {
    let bits = |b: &Option<Vec<u8>>| b.clone().map(Value::Binary);
    let (kind, data) = match &s.data {
        ColumnStatsData::Boolean {
            num_trues,
            num_falses,
            num_nulls,
            bit_vectors,
        } => (
            1,
            Struct::new()
                .with(1, Value::I64(*num_trues))
                .with(2, Value::I64(*num_falses))
                .with(3, Value::I64(*num_nulls))
                .with_opt(4, bits(bit_vectors)),
        ),
        ColumnStatsData::Long {
            low,
            high,
            num_nulls,
            num_dvs,
            bit_vectors,
        } => (
            2,
            bounded(
                low.map(Value::I64),
                high.map(Value::I64),
                *num_nulls,
                *num_dvs,
            )
            .with_opt(5, bits(bit_vectors)),
        ),
        ColumnStatsData::Double {
            low,
            high,
            num_nulls,
            num_dvs,
            bit_vectors,
        } => (
            3,
            bounded(
                low.map(Value::Double),
                high.map(Value::Double),
                *num_nulls,
                *num_dvs,
            )
            .with_opt(5, bits(bit_vectors)),
        ),
        ColumnStatsData::String {
            max_len,
            avg_len,
            num_nulls,
            num_dvs,
            bit_vectors,
        } => (
            4,
            Struct::new()
                .with(1, Value::I64(*max_len))
                .with(2, Value::Double(*avg_len))
                .with(3, Value::I64(*num_nulls))
                .with(4, Value::I64(*num_dvs))
                .with_opt(5, bits(bit_vectors)),
        ),
        ColumnStatsData::Binary {
            max_len,
            avg_len,
            num_nulls,
            bit_vectors,
        } => (
            5,
            Struct::new()
                .with(1, Value::I64(*max_len))
                .with(2, Value::Double(*avg_len))
                .with(3, Value::I64(*num_nulls))
                .with_opt(4, bits(bit_vectors)),
        ),
        ColumnStatsData::Decimal {
            low,
            high,
            num_nulls,
            num_dvs,
            bit_vectors,
        } => {
            let dec = |d: &HiveDecimal| {
                Value::Struct(
                    Struct::new()
                        .with(1, Value::Binary(d.unscaled.clone()))
                        .with(3, Value::I16(d.scale)),
                )
            };
            (
                6,
                bounded(
                    low.as_ref().map(dec),
                    high.as_ref().map(dec),
                    *num_nulls,
                    *num_dvs,
                )
                .with_opt(5, bits(bit_vectors)),
            )
        }
        ColumnStatsData::Date {
            low,
            high,
            num_nulls,
            num_dvs,
            bit_vectors,
        } => {
            let day = |d: i64| Value::Struct(Struct::new().with(1, Value::I64(d)));
            (
                7,
                bounded(low.map(day), high.map(day), *num_nulls, *num_dvs)
                    .with_opt(5, bits(bit_vectors)),
            )
        }
    };
    Struct::new()
        .with(1, Value::string(&s.column))
        .with(2, Value::string(&s.column_type))
        .with(
            3,
            Value::Struct(Struct::new().with(kind, Value::Struct(data))),
        )
}

/// The shape shared by the kinds with bounds: {1: low, 2: high, 3: numNulls, 4: numDVs}.
fn bounded(low: Option<Value>, high: Option<Value>, nulls: i64, dvs: i64) -> Struct {
    Struct::new()
        .with_opt(1, low)
        .with_opt(2, high)
        .with(3, Value::I64(nulls))
        .with(4, Value::I64(dvs))
}
