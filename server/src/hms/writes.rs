//! Metastore calls that change the catalog. Each goes through the engine's metadata service,
//! so privileges, location rules and optimistic versions are exactly those of SQL.

use tarn_engine::Session;

use super::convert;
use super::reads::table;
use super::thrift::{Struct, Value};
use super::{Args, CallError, Reply};

/// `Err(CallError::Unimplemented)` for a method this module does not serve.
pub async fn call(session: &Session, name: &str, a: &Args) -> Reply {
    match name {
        "create_database" => {
            let (db, location) = convert::database_from(a.strct(1)?)?;
            session
                .metadata()
                .create_database(db, location.as_deref())
                .await?;
            Ok(None)
        }
        "alter_database" => {
            let (db, _) = convert::database_from(a.strct(2)?)?;
            session.metadata().alter_database(&a.str(1)?, db).await?;
            Ok(None)
        }
        "drop_database" => {
            let (delete, cascade) = (a.bool(2), a.bool(3));
            session
                .metadata()
                .drop_database(&a.str(1)?, delete, cascade)
                .await?;
            Ok(None)
        }
        "create_table"
        | "create_table_with_environment_context"
        | "create_table_with_constraints" => {
            let (t, location) = convert::table_from(a.strct(1)?)?;
            session
                .metadata()
                .create_table(t, location.as_deref())
                .await?;
            Ok(None)
        }
        "alter_table" | "alter_table_with_environment_context" | "alter_table_with_cascade" => {
            let (t, _) = convert::table_from(a.strct(3)?)?;
            session
                .metadata()
                .alter_table(&a.str(1)?, &a.str(2)?, t)
                .await?;
            Ok(None)
        }
        "drop_table" | "drop_table_with_environment_context" => {
            session
                .metadata()
                .drop_table(&a.str(1)?, &a.str(2)?, a.bool(3))
                .await?;
            Ok(None)
        }
        "add_partition" | "add_partition_with_environment_context" => add_one(session, a).await,
        "add_partitions" => {
            let parts = a.structs(1);
            let Some(first) = parts.first() else {
                return Ok(Some(Value::I32(0)));
            };
            let (db, t) = (req_str(first, 2)?, req_str(first, 3)?);
            let new = parts.iter().map(|p| convert::partition_from(p)).collect();
            let added = session
                .metadata()
                .add_partitions(&db, &t, new, false)
                .await?;
            Ok(Some(Value::I32(added.len() as i32)))
        }
        "add_partitions_req" => add_req(session, a).await,
        "drop_partition" | "drop_partition_with_environment_context" => {
            let (db, t) = (a.str(1)?, a.str(2)?);
            let values = vec![a.strings(3)];
            session
                .metadata()
                .drop_partitions(&db, &t, values, a.bool(4), false)
                .await?;
            Ok(Some(Value::Bool(true)))
        }
        "drop_partition_by_name" | "drop_partition_by_name_with_environment_context" => {
            let t = table(session, a).await?;
            let values = convert::values_from_name(&t, &a.str(3)?)?;
            let md = session.metadata();
            md.drop_partitions(&t.database, &t.name, vec![values], a.bool(4), false)
                .await?;
            Ok(Some(Value::Bool(true)))
        }
        "drop_partitions_req" => drop_req(session, a).await,
        "alter_partition" | "alter_partition_with_environment_context" => {
            let p = convert::partition_from(a.strct(3)?);
            session
                .metadata()
                .alter_partitions(&a.str(1)?, &a.str(2)?, vec![p])
                .await?;
            Ok(None)
        }
        "alter_partitions" | "alter_partitions_with_environment_context" => {
            let parts = a
                .structs(3)
                .iter()
                .map(|p| convert::partition_from(p))
                .collect();
            session
                .metadata()
                .alter_partitions(&a.str(1)?, &a.str(2)?, parts)
                .await?;
            Ok(None)
        }
        "partition_name_has_valid_characters" => Ok(Some(Value::Bool(true))),
        _ => Err(CallError::Unimplemented),
    }
}

fn req_str(s: &Struct, id: i16) -> Result<String, CallError> {
    s.str(id)
        .ok_or_else(|| CallError::invalid(&format!("field {id} is required")))
}

async fn add_one(session: &Session, a: &Args) -> Reply {
    let p = a.strct(1)?;
    let (db, t) = (req_str(p, 2)?, req_str(p, 3)?);
    let added = session
        .metadata()
        .add_partitions(&db, &t, vec![convert::partition_from(p)], false)
        .await?;
    let table = session.metadata().table(&db, &t).await?;
    let first = added
        .first()
        .ok_or_else(|| CallError::meta("partition not added"))?;
    Ok(Some(Value::Struct(convert::partition(&table, first))))
}

/// Spark's way to register partitions: `ifNotExists` skips existing ones, `needResult`
/// returns those added.
async fn add_req(session: &Session, a: &Args) -> Reply {
    let req = a.strct(1)?;
    let (db, t) = (req_str(req, 1)?, req_str(req, 2)?);
    let new = req
        .structs(3)
        .iter()
        .map(|p| convert::partition_from(p))
        .collect();
    let if_not_exists = req.bool(4).unwrap_or(false);
    let added = session
        .metadata()
        .add_partitions(&db, &t, new, if_not_exists)
        .await?;
    let mut result = Struct::new();
    if req.bool(5).unwrap_or(true) {
        let table = session.metadata().table(&db, &t).await?;
        result = result.with(1, convert::partitions(&table, &added));
    }
    Ok(Some(Value::Struct(result)))
}

async fn drop_req(session: &Session, a: &Args) -> Reply {
    let req = a.strct(1)?;
    let (db, name) = (req_str(req, 1)?, req_str(req, 2)?);
    let t = session.metadata().table(&db, &name).await?;
    let names = req.strct(3).map(|s| s.strings(1)).unwrap_or_default();
    if req.strct(3).is_some_and(|s| s.get(2).is_some()) {
        return Err(CallError::meta(
            "dropping partitions by expression is not supported; name them",
        ));
    }
    let values = names
        .iter()
        .map(|n| convert::values_from_name(&t, n))
        .collect::<Result<Vec<_>, _>>()?;
    let if_exists = req.bool(5).unwrap_or(true);
    let dropped = session
        .metadata()
        .drop_partitions(&db, &name, values, req.bool(4).unwrap_or(false), if_exists)
        .await?;
    let mut result = Struct::new();
    if req.bool(8).unwrap_or(true) {
        result = result.with(1, convert::partitions(&t, &dropped));
    }
    Ok(Some(Value::Struct(result)))
}
