//! The statements tarn runs itself (not DataFusion): catalog DDL, writes (INSERT, CTAS, COPY),
//! maintenance (MSCK, VACUUM), roles and grants, SHOW and DESCRIBE — against the metastore and
//! the write funnel, after the authorizer's checks.

pub(crate) mod alter;
pub(crate) mod copy_stdio;
mod database;
mod describe;
mod grants;
pub(crate) mod ingest;
pub(crate) mod locations;
pub(crate) mod msck;
pub(crate) mod roles;
mod show;
pub(crate) mod table;
mod truncate;
mod vacuum;
pub(crate) mod views;
mod writes;

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use tarn_catalog::Table;
use tarn_sql::{ObjectName, Statement};

use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;

/// The setting that, turned off by a superuser, lets VACUUM go below the minimum retention.
pub(crate) const VACUUM_RETENTION_CHECK: &str = "tarn.vacuum_retention_check";

/// The command name of a statement that writes (data, the catalog or users), for the
/// read-only transaction check; `None` for reads.
fn write_name(statement: &Statement) -> Option<&'static str> {
    Some(match statement {
        Statement::CreateDatabase(_) => "CREATE DATABASE",
        Statement::DropDatabase { .. } => "DROP DATABASE",
        Statement::CreateTable(t) if t.query.is_some() => "CREATE TABLE AS",
        Statement::CreateTable(_) => "CREATE TABLE",
        Statement::Insert(_) => "INSERT",
        Statement::Vacuum { .. } => "VACUUM",
        Statement::CopyFrom { .. } | Statement::CopyFromStdin { .. } => "COPY FROM",
        Statement::CreateUser { .. } => "CREATE ROLE",
        Statement::AlterUser { .. } => "ALTER ROLE",
        Statement::DropUser { .. } => "DROP ROLE",
        Statement::DropTable { .. } => "DROP TABLE",
        Statement::AlterTable { .. } => "ALTER TABLE",
        Statement::MsckRepair { .. } => "MSCK REPAIR TABLE",
        Statement::CommentOn { .. } => "COMMENT",
        Statement::CreateIndex { .. } => "CREATE INDEX",
        Statement::Truncate { .. } => "TRUNCATE",
        _ => return None,
    })
}

pub(crate) async fn execute(session: &Session, statement: Statement) -> Result<Output> {
    if let Some(what) = write_name(&statement) {
        session.check_writable(what)?;
    }
    match statement {
        Statement::CreateDatabase(c) => database::create(session, c).await,
        Statement::DropDatabase {
            name,
            if_exists,
            cascade,
        } => database::drop(session, &name, if_exists, cascade).await,
        Statement::Use { database } => database::use_database(session, &database).await,
        Statement::ShowDatabases { pattern } => show::databases(session, pattern.as_deref()).await,
        Statement::CreateTable(t) if t.external => table::create_external(session, t).await,
        Statement::CreateTable(t) if t.query.is_some() => writes::create_as(session, t).await,
        Statement::CreateTable(t) => writes::create_managed(session, t).await,
        Statement::Insert(i) => writes::insert(session, i).await,
        Statement::Vacuum { name, retain_hours } => {
            writes::vacuum(session, &name, retain_hours).await
        }
        Statement::CopyFrom {
            name,
            location,
            stored_as,
            header,
            delimiter,
        } => {
            writes::copy_from(
                session,
                &name,
                &location,
                stored_as.as_deref(),
                header,
                delimiter.as_deref(),
            )
            .await
        }
        Statement::CreateUser {
            name,
            if_not_exists,
            options,
            login_by_default,
        } => roles::create(session, &name, if_not_exists, &options, login_by_default).await,
        Statement::AlterUser { name, options } => roles::alter(session, &name, &options).await,
        Statement::DropUser { name, if_exists } => roles::drop(session, &name, if_exists).await,
        Statement::GrantRole {
            roles,
            members,
            admin_option,
        } => roles::grant_roles(session, &roles, &members, admin_option).await,
        Statement::RevokeRole {
            roles,
            members,
            admin_option_for,
        } => roles::revoke_roles(session, &roles, &members, admin_option_for).await,
        Statement::Grant {
            privileges,
            object,
            grantees,
            with_grant_option,
        } => grants::grant(session, &privileges, &object, &grantees, with_grant_option).await,
        Statement::Revoke {
            privileges,
            object,
            grantees,
            grant_option_for,
            cascade,
        } => {
            let how = (grant_option_for, cascade);
            grants::revoke(session, &privileges, &object, &grantees, how).await
        }
        Statement::AlterDefaultPrivileges {
            for_roles,
            schemas,
            grant,
            privileges,
            grantees,
            grant_option,
        } => {
            grants::alter_default_privileges(
                session,
                (&for_roles, &schemas),
                grant,
                &privileges,
                &grantees,
                grant_option,
            )
            .await
        }
        Statement::AlterOwner { object, owner } => {
            grants::alter_owner(session, &object, &owner).await
        }
        Statement::DropTable { name, if_exists } => table::drop(session, &name, if_exists).await,
        Statement::AlterTable { name, action } => alter::run(session, &name, action).await,
        Statement::MsckRepair { name, mode } => msck::repair(session, &name, mode).await,
        Statement::ShowTables { database, pattern } => {
            show::tables(session, database, pattern.as_deref()).await
        }
        Statement::ShowPartitions { name, partial } => {
            show::partitions(session, &name, &partial).await
        }
        Statement::ShowCreateTable { name } => describe::show_create(session, &name).await,
        Statement::Describe { name, extended } => {
            describe::describe(session, &name, extended).await
        }
        Statement::ShowColumns { name } => show::columns(session, &name).await,
        Statement::CommentOn { target, comment } => {
            table::comment_on(session, target, comment).await
        }
        Statement::Truncate { tables } => truncate::run(session, &tables).await,
        Statement::CreateIndex { table, unique } => {
            table::create_index(session, &table, unique).await
        }
        Statement::CopyToStdout { source, .. } => copy_stdio::copy_out(session, source).await,
        Statement::CopyFromStdin { .. } => Err(EngineError::NotSupported(
            "COPY … FROM STDIN needs a client connection that sends the data (psql's \\copy, a driver's COPY API)".into(),
        )),
        Statement::DataFusion { .. }
        | Statement::SetTarn { .. }
        | Statement::SetVariable { .. }
        | Statement::ResetAll
        | Statement::ShowVariable { .. }
        | Statement::DeclareCursor { .. }
        | Statement::Fetch { .. }
        | Statement::CloseCursor { .. }
        | Statement::Discard { .. }
        | Statement::Transaction(_) => Err(EngineError::Internal(
            "session statement routed to the catalog".into(),
        )),
    }
}

/// `(database, table)` for a possibly unqualified name.
pub(crate) fn resolve(session: &Session, name: &ObjectName) -> (String, String) {
    let db = match &name.database {
        Some(db) => crate::provider::database_for_schema(db),
        None => session.current_database(),
    };
    (db, name.name.to_lowercase())
}

/// The table, or an "undefined table" error; a table the session may not see at all (no
/// privilege on it) is "permission denied".
pub(crate) async fn load_table(session: &Session, name: &ObjectName) -> Result<Table> {
    let (db, table) = resolve(session, name);
    let table = session
        .engine
        .metastore()
        .get_table(&db, &table)
        .await?
        .ok_or(EngineError::Catalog(
            tarn_catalog::CatalogError::TableNotFound { db, table },
        ))?;
    session.require_visible(&table).await?;
    Ok(table)
}

/// A result of string columns (SHOW, DESCRIBE).
pub(crate) fn string_rows(columns: &[&str], rows: Vec<Vec<Option<String>>>) -> Result<Output> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays = (0..columns.len())
        .map(|i| {
            let col: StringArray = rows.iter().map(|r| r.get(i).cloned().flatten()).collect();
            Arc::new(col) as _
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    Output::batches(schema, vec![batch])
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
