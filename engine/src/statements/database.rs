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
    {
        let access = session.access().await?;
        crate::authz::require_catalog(
            inner.metastore.as_ref(),
            &access,
            tarn_catalog::Privilege::Create,
        )
        .await?;
    }
    let location = match &c.location {
        Some(l) => super::locations::database_location(session, l).await?,
        None => paths::join(&inner.warehouse, &format!("{}.db", c.name.to_lowercase())),
    };
    let db = Database {
        name: c.name.to_lowercase(),
        description: c.comment,
        location,
        parameters: c.properties.into_iter().collect(),
        owner: Some(session.current_role()),
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
    let metastore = session.engine.metastore();
    match metastore.get_database(name).await? {
        Some(db) => session.require_database_owner(&db).await?,
        None if if_exists => return Ok(Output::command("DROP DATABASE")),
        None => return Err(CatalogError::DatabaseNotFound(name.to_string()).into()),
    }
    let dropped = metastore.drop_database(name, if_exists, cascade).await?;
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
