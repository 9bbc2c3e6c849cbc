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
            let same = |p: &&Struct| {
                p.str(2).is_some_and(|d| d.eq_ignore_ascii_case(&db))
                    && p.str(3).is_some_and(|n| n.eq_ignore_ascii_case(&t))
            };
            if !parts.iter().all(same) {
                return Err(CallError::meta(
                    "add_partitions: all partitions must be of one table",
                ));
            }
            let new = parts.iter().map(|p| convert::partition_from(p)).collect();
            let (_, added) = session
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
        "rename_partition" => {
            let to = convert::partition_from(a.strct(4)?);
            let renamed = session
                .metadata()
                .rename_partition(&a.str(1)?, &a.str(2)?, a.strings(3), to)
                .await;
            // Hive answers a missing source or a taken target with InvalidOperationException.
            match renamed.map_err(CallError::from) {
                Err(CallError::Exception(
                    super::idl::Exc::NoSuchObject | super::idl::Exc::AlreadyExists,
                    m,
                )) => Err(CallError::Exception(super::idl::Exc::InvalidOperation, m)),
                other => other.map(|_| None),
            }
        }
        "partition_name_has_valid_characters" => Ok(Some(Value::Bool(true))),
        "lock" => lock(session, a).await,
        "check_lock" => {
            let id = a
                .strct(1)?
                .i64(1)
                .ok_or_else(|| CallError::invalid("lockid is required"))?;
            match session.metadata().check_lock(id).await? {
                Some(state) => Ok(Some(lock_response(id, state))),
                None => Err(no_such_lock(id)),
            }
        }
        "heartbeat" => {
            let Some(id) = a.strct(1)?.i64(1) else {
                return Ok(None);
            };
            match session.metadata().check_lock(id).await? {
                Some(_) => Ok(None),
                None => Err(no_such_lock(id)),
            }
        }
        "unlock" => {
            let id = a
                .strct(1)?
                .i64(1)
                .ok_or_else(|| CallError::invalid("lockid is required"))?;
            if session.metadata().unlock(id).await? {
                Ok(None)
            } else {
                Err(no_such_lock(id))
            }
        }
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
    let (table, added) = session
        .metadata()
        .add_partitions(&db, &t, vec![convert::partition_from(p)], false)
        .await?;
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
    let (table, added) = session
        .metadata()
        .add_partitions(&db, &t, new, if_not_exists)
        .await?;
    let mut result = Struct::new();
    if req.bool(5).unwrap_or(true) {
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

/// Hive's LockRequest: components of (type SHARED_READ=1 | SHARED_WRITE=2 | EXCLUSIVE=3,
/// level DB=1 | TABLE=2 | PARTITION=3, database, table). A partition lock is taken on its whole
/// table (coarser, never weaker); only shared reads share.
async fn lock(session: &Session, a: &Args) -> Reply {
    use tarn_engine::catalog::{LockMode, LockTarget};
    let req = a.strct(1)?;
    let mut targets = vec![];
    for c in req.structs(1) {
        let mode = match c.i32(1) {
            Some(1) => LockMode::Shared,
            Some(2 | 3) => LockMode::Exclusive,
            other => return Err(CallError::meta(format!("unknown lock type {other:?}"))),
        };
        let database = req_str(c, 3)?;
        let table = match c.i32(2) {
            Some(1) => None,
            _ => Some(
                c.str(4)
                    .ok_or_else(|| CallError::meta("a table lock needs a table name"))?,
            ),
        };
        targets.push(LockTarget {
            database,
            table,
            mode,
        });
    }
    let (id, state) = session.metadata().lock(targets).await?;
    Ok(Some(lock_response(id, state)))
}

/// LockResponse {1: lockid, 2: state (ACQUIRED=1, WAITING=2)}.
fn lock_response(id: i64, state: tarn_engine::catalog::LockState) -> Value {
    let state = match state {
        tarn_engine::catalog::LockState::Acquired => 1,
        tarn_engine::catalog::LockState::Waiting => 2,
    };
    Value::Struct(
        Struct::new()
            .with(1, Value::I64(id))
            .with(2, Value::I32(state)),
    )
}

fn no_such_lock(id: i64) -> CallError {
    CallError::Exception(
        super::idl::Exc::NoSuchLock,
        format!("lock {id} does not exist"),
    )
}
