//! Metastore calls that read: databases, tables, partitions, and the empty answers for
//! objects tarn does not keep (functions, indexes, constraints, column statistics).

use tarn_engine::Session;
use tarn_engine::catalog::{Table, TableType};
use tarn_engine::metadata::HiveFilter;

use super::convert;
use super::names_cache::NamesCache;
use super::thrift::{Struct, TType, Value};
use super::{Args, CallError, Reply};

/// `Err(CallError::Unimplemented)` for a method this module does not serve.
pub async fn call(session: &Session, cache: &NamesCache, name: &str, a: &Args) -> Reply {
    match name {
        "get_all_databases" => databases(session, None).await,
        "get_databases" => databases(session, a.opt_str(1).as_deref()).await,
        "get_database" => get_database(session, a).await,
        "get_all_tables" => tables(session, &a.str(1)?, None, None).await,
        "get_tables" => tables(session, &a.str(1)?, a.opt_str(2).as_deref(), None).await,
        "get_tables_by_type" => {
            tables(
                session,
                &a.str(1)?,
                a.opt_str(2).as_deref(),
                a.opt_str(3).as_deref(),
            )
            .await
        }
        "get_table_meta" => table_meta(session, a).await,
        "get_table" => get_table(session, &a.str(1)?, &a.str(2)?)
            .await
            .map(|t| Some(Value::Struct(t))),
        "get_table_req" => {
            let req = a.strct(1)?;
            let t = get_table(session, &req_str(req, 1)?, &req_str(req, 2)?).await;
            t.map(|t| Some(Value::Struct(Struct::new().with(1, Value::Struct(t)))))
        }
        "get_table_objects_by_name" => tables_by_name(session, &a.str(1)?, &a.strings(2))
            .await
            .map(Some),
        "get_table_objects_by_name_req" => {
            let req = a.strct(1)?;
            let t = tables_by_name(session, &req_str(req, 1)?, &req.strings(2)).await;
            t.map(|t| Some(Value::Struct(Struct::new().with(1, t))))
        }
        "get_fields" | "get_fields_with_environment_context" => fields(session, a, false).await,
        "get_schema" | "get_schema_with_environment_context" => fields(session, a, true).await,
        "get_partitions" | "get_partitions_with_auth" => partitions(session, a, None).await,
        "get_partitions_by_filter" => {
            partitions(session, a, Some(a.opt_str(3).unwrap_or_default())).await
        }
        "get_num_partitions_by_filter" => {
            let t = table(session, a).await?;
            let f = parse_filter(&t, &a.opt_str(3).unwrap_or_default())?;
            let n = session
                .metadata()
                .partitions(&t, Some(&f), None)
                .await?
                .len();
            Ok(Some(Value::I32(n as i32)))
        }
        "get_partition_names" => partition_names(session, cache, a).await,
        "get_partitions_ps" | "get_partitions_ps_with_auth" => {
            let t = table(session, a).await?;
            let parts = session
                .metadata()
                .partitions_by_values(&t, &a.strings(3), a.max_parts(4))
                .await?;
            Ok(Some(convert::partitions(&t, &parts)))
        }
        "get_partition_names_ps" => {
            let t = table(session, a).await?;
            let parts = session
                .metadata()
                .partitions_by_values(&t, &a.strings(3), a.max_parts(4))
                .await?;
            Ok(Some(names(&t, &parts)))
        }
        "get_partitions_by_names" => by_names(session, a).await,
        "get_partition" | "get_partition_with_auth" => {
            let t = table(session, a).await?;
            let p = session.metadata().partition(&t, &a.strings(3)).await?;
            Ok(Some(Value::Struct(convert::partition(&t, &p))))
        }
        "get_partition_by_name" => {
            let t = table(session, a).await?;
            let values = convert::values_from_name(&t, &a.str(3)?)?;
            let p = session.metadata().partition(&t, &values).await?;
            Ok(Some(Value::Struct(convert::partition(&t, &p))))
        }
        "partition_name_to_vals" => Ok(Some(Value::strings(
            name_pairs(&a.str(1)?)?.into_iter().map(|(_, v)| v),
        ))),
        "partition_name_to_spec" => {
            let pairs = name_pairs(&a.str(1)?)?;
            let map = pairs
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>();
            Ok(Some(Value::string_map(&map)))
        }
        "get_functions" | "get_index_names" => Ok(Some(Value::List(TType::String, vec![]))),
        "get_indexes" => Ok(Some(Value::List(TType::Struct, vec![]))),
        "get_all_functions" | "get_primary_keys" | "get_foreign_keys" => Ok(Some(Value::Struct(
            Struct::new().with(1, Value::List(TType::Struct, vec![])),
        ))),
        "get_function" => Err(CallError::no_such("function")),
        _ => Err(CallError::Unimplemented),
    }
}

/// All partition names of a readable table, from the reply cache when the table has not
/// changed since it was kept (see [`NamesCache`]).
async fn partition_names(session: &Session, cache: &NamesCache, a: &Args) -> Reply {
    let t = table(session, a).await?;
    let max = a.max_parts(3);
    if max.is_none()
        && let Some(encoded) = cache.get(&t.database, &t.name, t.version)
    {
        return Ok(Some(Value::Encoded(TType::List, encoded)));
    }
    let names = session.metadata().partition_names(&t, max).await?;
    let reply = Value::strings(names);
    if max.is_none() {
        let encoded = super::thrift::encode(&reply);
        cache.put(&t.database, &t.name, t.version, encoded.clone());
        return Ok(Some(Value::Encoded(TType::List, encoded)));
    }
    Ok(Some(reply))
}

fn req_str(s: &Struct, id: i16) -> Result<String, CallError> {
    s.str(id)
        .ok_or_else(|| CallError::invalid(&format!("field {id} is required")))
}

async fn databases(session: &Session, pattern: Option<&str>) -> Reply {
    let dbs = session.metadata().databases(pattern).await?;
    Ok(Some(Value::strings(dbs.into_iter().map(|d| d.name))))
}

async fn get_database(session: &Session, a: &Args) -> Reply {
    let db = session.metadata().database(&a.str(1)?).await?;
    Ok(Some(Value::Struct(convert::database(&db))))
}

async fn tables(session: &Session, db: &str, pattern: Option<&str>, kind: Option<&str>) -> Reply {
    let tables = session.metadata().tables(db, pattern).await?;
    let kind = kind.and_then(TableType::from_hive_name);
    Ok(Some(Value::strings(
        tables
            .into_iter()
            .filter(|t| kind.is_none_or(|k| t.table_type == k))
            .map(|t| t.name),
    )))
}

async fn table_meta(session: &Session, a: &Args) -> Reply {
    let types = a.strings(3);
    let mut out = vec![];
    for db in session
        .metadata()
        .databases(a.opt_str(1).as_deref())
        .await?
    {
        for t in session
            .metadata()
            .tables(&db.name, a.opt_str(2).as_deref())
            .await?
        {
            if types.is_empty() || types.iter().any(|ty| ty == t.table_type.hive_name()) {
                out.push(
                    Struct::new()
                        .with(1, Value::string(t.database.as_str()))
                        .with(2, Value::string(t.name.as_str()))
                        .with(3, Value::string(t.table_type.hive_name()))
                        .with_opt(4, t.comment().map(Value::string)),
                );
            }
        }
    }
    Ok(Some(Value::structs(out)))
}

pub async fn get_table(session: &Session, db: &str, name: &str) -> Result<Struct, CallError> {
    Ok(convert::table(&session.metadata().table(db, name).await?))
}

/// The readable tables among `names` (Hive skips missing ones).
async fn tables_by_name(session: &Session, db: &str, names: &[String]) -> Result<Value, CallError> {
    session.metadata().database(db).await?;
    let mut out = vec![];
    for name in names {
        if let Ok(t) = session.metadata().table(db, name).await {
            out.push(convert::table(&t));
        }
    }
    Ok(Value::structs(out))
}

async fn fields(session: &Session, a: &Args, with_keys: bool) -> Reply {
    let t = table(session, a).await?;
    let mut cols = t.columns.clone();
    if with_keys {
        cols.extend(t.partition_keys.iter().cloned());
    }
    Ok(Some(convert::columns(&cols)))
}

/// The table named by arguments 1 and 2 (readable by this role).
pub async fn table(session: &Session, a: &Args) -> Result<Table, CallError> {
    Ok(session.metadata().table(&a.str(1)?, &a.str(2)?).await?)
}

fn parse_filter(t: &Table, filter: &str) -> Result<HiveFilter, CallError> {
    HiveFilter::parse(t, filter).map_err(|e| CallError::meta(e.to_string()))
}

async fn partitions(session: &Session, a: &Args, filter: Option<String>) -> Reply {
    let t = table(session, a).await?;
    let filter = filter.map(|f| parse_filter(&t, &f)).transpose()?;
    let max_id = if filter.is_some() { 4 } else { 3 };
    let parts = session
        .metadata()
        .partitions(&t, filter.as_ref(), a.max_parts(max_id))
        .await?;
    Ok(Some(convert::partitions(&t, &parts)))
}

async fn by_names(session: &Session, a: &Args) -> Reply {
    let t = table(session, a).await?;
    let found = session
        .metadata()
        .partitions_by_names(&t, &a.strings(3))
        .await?;
    Ok(Some(convert::partitions(&t, &found)))
}

fn names(t: &Table, parts: &[tarn_engine::catalog::Partition]) -> Value {
    Value::strings(parts.iter().map(|p| convert::partition_name(t, p)))
}

/// `k1=v1/k2=v2` as unescaped pairs.
fn name_pairs(name: &str) -> Result<Vec<(String, String)>, CallError> {
    name.split('/')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| CallError::meta(format!("invalid partition name '{name}'")))?;
            Ok((
                tarn_engine::catalog::paths::unescape_path_name(k),
                tarn_engine::catalog::paths::unescape_path_name(v),
            ))
        })
        .collect()
}
