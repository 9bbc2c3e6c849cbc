//! Column-level SELECT privileges. A role granted `SELECT (a, b) ON t` resolves `t` to this
//! wrapper: which columns a query reads is known only once DataFusion has pushed projections
//! and filters down, so the check runs when the scan is planned, against the final projection
//! and every pushed-down filter. `SELECT *` then fails as in PostgreSQL, while
//! `SELECT a FROM t WHERE b > 0` and `count(*)` succeed.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use crate::error::EngineError;

/// A table readable only in some columns.
#[derive(Debug)]
pub(crate) struct ColumnGuard {
    inner: Arc<dyn TableProvider>,
    allowed: HashSet<String>,
    /// "table t", for the error.
    relation: String,
}

impl ColumnGuard {
    pub(crate) fn new(
        inner: Arc<dyn TableProvider>,
        allowed: HashSet<String>,
        relation: String,
    ) -> Self {
        Self {
            inner,
            allowed,
            relation,
        }
    }

    fn check<'a>(&self, columns: impl Iterator<Item = &'a str>) -> datafusion::common::Result<()> {
        for column in columns {
            if !self.allowed.contains(column) {
                return Err(EngineError::PermissionDenied(format!(
                    "permission denied for {} (column {column})",
                    self.relation
                ))
                .into_datafusion());
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TableProvider for ColumnGuard {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let schema = self.inner.schema();
        let projected: Vec<&str> = match projection {
            Some(indices) => indices
                .iter()
                .filter_map(|i| schema.fields().get(*i).map(|f| f.name().as_str()))
                .collect(),
            None => schema.fields().iter().map(|f| f.name().as_str()).collect(),
        };
        self.check(projected.into_iter())?;
        let mut filtered = Vec::new();
        for filter in filters {
            for column in filter.column_refs() {
                filtered.push(column.name.clone());
            }
        }
        self.check(filtered.iter().map(String::as_str))?;
        self.inner.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::common::Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }
}
