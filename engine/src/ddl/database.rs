//! CREATE / DROP DATABASE, USE.

use tarn_catalog::{CatalogError, Database, paths};
use tarn_sql::CreateDatabase;

use super::{now, table::delete_managed_data};
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;

pub(super) async fn create(session: &Session, c: CreateDatabase) -> Result<Output> {
    if c.name.eq_ignore_ascii_case(crate::provider::SYSTEM_SCHEMA) {
        return Err(EngineError::InvalidParameter(format!(
            "'{}' is reserved for tarn's system tables",
            c.name
        )));
    }
    let inner = &session.engine.inner;
    let location = match &c.location {
        Some(l) => inner.roots.check(l)?,
        None => paths::join(&inner.warehouse, &format!("{}.db", c.name.to_lowercase())),
    };
    let db = Database {
        name: c.name.to_lowercase(),
        description: c.comment,
        location,
        parameters: c.properties.into_iter().collect(),
        owner: Some(session.user().to_string()),
        create_time: now(),
    };
    session
        .engine
        .metastore()
        .create_database(db, c.if_not_exists)
        .await?;
    Ok(Output::command("CREATE DATABASE"))
}

pub(super) async fn drop(
    session: &Session,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<Output> {
    if name.eq_ignore_ascii_case(&session.current_database()) {
        return Err(EngineError::InvalidParameter(format!(
            "cannot drop the current database '{name}'; USE another database first"
        )));
    }
    let dropped = session
        .engine
        .metastore()
        .drop_database(name, if_exists, cascade)
        .await?;
    for table in &dropped {
        delete_managed_data(session, table).await?;
    }
    Ok(Output::command("DROP DATABASE"))
}

pub(super) async fn use_database(session: &Session, name: &str) -> Result<Output> {
    let name = &crate::provider::database_for_schema(name);
    match session.engine.metastore().get_database(name).await? {
        Some(db) => {
            session.set_current_database(&db.name);
            Ok(Output::command("SET"))
        }
        None => Err(CatalogError::DatabaseNotFound(name.to_string()).into()),
    }
}
