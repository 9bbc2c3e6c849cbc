//! A stored view becomes a DataFusion `ViewTable`: its query is planned (resolving its tables
//! through the same metastore catalog) whenever a statement references it.

use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionConfig;

use super::{CATALOG_NAME, TarnCatalogList};
use crate::engine::EngineInner;
use crate::error::EngineError;

/// Views may use views, up to this depth (a view that reaches itself fails instead of looping).
const MAX_VIEW_DEPTH: usize = 16;

tokio::task_local! {
    static DEPTH: usize;
}

/// Plans a view's query as its owner: the tables it reads are checked with the owner's
/// privileges, so granting SELECT on a view exposes exactly what the view shows.
pub(crate) async fn plan_view(
    engine: &Arc<EngineInner>,
    view: &tarn_catalog::Table,
    sql: &str,
) -> datafusion::common::Result<Arc<ViewTable>> {
    let database = view.database.as_str();
    let depth = DEPTH.try_with(|d| *d).unwrap_or(0);
    if depth >= MAX_VIEW_DEPTH {
        return Err(EngineError::InvalidParameter(format!(
            "views nested deeper than {MAX_VIEW_DEPTH} levels (does a view refer to itself?)"
        ))
        .into_datafusion());
    }
    let config = SessionConfig::new()
        .with_default_catalog_and_schema(CATALOG_NAME, database)
        .with_create_default_catalog_and_schema(false);
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(engine.runtime.clone())
        .with_default_features()
        .with_catalog_list(Arc::new(TarnCatalogList::new(
            engine.clone(),
            crate::authz::Identity::view_owner(view.owner.as_deref()),
        )))
        .build();
    let plan = DEPTH
        .scope(depth + 1, async { state.create_logical_plan(sql).await })
        .await?;
    Ok(Arc::new(ViewTable::new(plan, Some(sql.to_string()))))
}
