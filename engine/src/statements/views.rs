//! Views: stored in the metastore (Hive's VIRTUAL_VIEW with the query text), planned again each
//! time a query references them, so they always see the current tables.

use datafusion::logical_expr::{CreateView, DropView};
use tarn_catalog::{Column, StorageFormat, Table, TableType, hive_types};

use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::provider::database_for_schema;
use crate::session::Session;

fn split_name(session: &Session, name: &datafusion::common::TableReference) -> (String, String) {
    let db = name
        .schema()
        .map(database_for_schema)
        .unwrap_or_else(|| session.current_database());
    (db, name.table().to_lowercase())
}

pub(crate) async fn create(session: &Session, view: CreateView) -> Result<Output> {
    session.check_writable("CREATE VIEW")?;
    if view.temporary {
        return Err(EngineError::NotSupported("temporary views".into()));
    }
    let definition = view.definition.clone().ok_or_else(|| {
        EngineError::InvalidParameter("a view needs its defining query text".into())
    })?;
    let query = view_query(&definition);
    let (database, name) = split_name(session, &view.name);
    let columns = view
        .input
        .schema()
        .fields()
        .iter()
        .map(|f| {
            Ok(Column {
                name: f.name().to_lowercase(),
                hive_type: hive_types::from_arrow(f.data_type())
                    .unwrap_or_else(|_| "string".into()),
                comment: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let table = Table {
        database: database.clone(),
        name: name.clone(),
        table_type: TableType::View,
        columns,
        partition_keys: vec![],
        location: String::new(),
        format: StorageFormat::Parquet,
        parameters: Default::default(),
        owner: Some(session.current_role()),
        create_time: super::now(),
        version: 0,
        view_text: Some(query),
        hive: None,
    };
    let store = session.engine.metastore();
    session.require_create_in(&database).await?;
    if view.or_replace
        && let Some(existing) = store.get_table(&database, &name).await?
    {
        if existing.table_type != TableType::View {
            return Err(EngineError::InvalidParameter(format!(
                "\"{database}.{name}\" is a table, not a view"
            )));
        }
        // Replaced in place: owner and privileges stay, as in PostgreSQL.
        session.require_owner(&existing).await?;
        let replaced = Table {
            owner: existing.owner,
            create_time: existing.create_time,
            version: existing.version,
            ..table
        };
        store.alter_table(replaced).await?;
        return Ok(Output::command("CREATE VIEW"));
    }
    store.create_table(table, false).await?;
    Ok(Output::command("CREATE VIEW"))
}

/// The query of `CREATE [OR REPLACE] VIEW v [(cols)] AS <query>`: DataFusion keeps the whole
/// statement as the definition. Column renames are applied by planning the statement's input,
/// so the stored text keeps them: `SELECT * FROM (<query>) AS v(cols)`.
fn view_query(definition: &str) -> String {
    use datafusion::sql::sqlparser::ast::Statement;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    match Parser::parse_sql(&GenericDialect {}, definition)
        .ok()
        .and_then(|mut s| s.pop())
    {
        Some(Statement::CreateView(view)) if view.columns.is_empty() => view.query.to_string(),
        Some(Statement::CreateView(view)) => {
            let columns: Vec<String> = view.columns.iter().map(|c| c.name.to_string()).collect();
            format!(
                "SELECT * FROM ({}) AS {}({})",
                view.query,
                view.name,
                columns.join(", ")
            )
        }
        _ => definition.to_string(),
    }
}

pub(crate) async fn drop(session: &Session, view: DropView) -> Result<Output> {
    session.check_writable("DROP VIEW")?;
    let (database, name) = split_name(session, &view.name);
    let store = session.engine.metastore();
    match store.get_table(&database, &name).await? {
        Some(t) if t.table_type != TableType::View => Err(EngineError::InvalidParameter(format!(
            "\"{database}.{name}\" is not a view (use DROP TABLE)"
        ))),
        Some(existing) => {
            session.require_owner(&existing).await?;
            store
                .drop_table(&database, &name, false, Some(existing.version))
                .await?;
            Ok(Output::command("DROP VIEW"))
        }
        None if view.if_exists => Ok(Output::command("DROP VIEW")),
        None => Err(tarn_catalog::CatalogError::TableNotFound {
            db: database,
            table: name,
        }
        .into()),
    }
}
