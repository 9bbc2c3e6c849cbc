//! Plans of repeated constant statements, kept per session.
//!
//! Connection pools and BI tools send the same tiny statements over and over (`SELECT 1`
//! validation queries, `SELECT $1::int` probes); for them DataFusion's parse → plan → optimize →
//! physical-plan pipeline is nearly all of the cost. A plan is kept only when running it again
//! certainly gives the same answer: it reads no table (tables change; pg_catalog tables are
//! built at planning time), calls only immutable functions (not now(), random(),
//! current_setting(), …) and is a query, not a command. Logical plans are kept by SQL text,
//! physical plans by the (parameter-bound) logical plan. Both are forgotten when the session's
//! DataFusion state changes (`Session::replan`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_plan::ExecutionPlan;

/// How many plans of each kind a session keeps (all are dropped when full: the statements
/// worth keeping come back at once).
const CAPACITY: usize = 64;

#[derive(Default)]
pub(crate) struct PlanCache {
    logical: Mutex<HashMap<String, LogicalPlan>>,
    physical: Mutex<HashMap<LogicalPlan, Arc<dyn ExecutionPlan>>>,
}

impl PlanCache {
    pub fn logical(&self, sql: &str) -> Option<LogicalPlan> {
        self.logical.lock().ok()?.get(sql).cloned()
    }

    pub fn keep_logical(&self, sql: &str, plan: &LogicalPlan) {
        if !is_constant(plan) {
            return;
        }
        if let Ok(mut plans) = self.logical.lock() {
            if plans.len() >= CAPACITY {
                plans.clear();
            }
            plans.insert(sql.to_string(), plan.clone());
        }
    }

    pub fn physical(&self, plan: &LogicalPlan) -> Option<Arc<dyn ExecutionPlan>> {
        self.physical.lock().ok()?.get(plan).cloned()
    }

    pub fn keep_physical(&self, plan: LogicalPlan, physical: &Arc<dyn ExecutionPlan>) {
        if !is_constant(&plan) || has_placeholders(&plan) {
            return;
        }
        if let Ok(mut plans) = self.physical.lock() {
            if plans.len() >= CAPACITY {
                plans.clear();
            }
            plans.insert(plan, physical.clone());
        }
    }

    pub fn clear(&self) {
        if let Ok(mut plans) = self.logical.lock() {
            plans.clear();
        }
        if let Ok(mut plans) = self.physical.lock() {
            plans.clear();
        }
    }
}

/// Whether running `plan` again certainly gives the same rows (see the module documentation).
pub(crate) fn is_constant(plan: &LogicalPlan) -> bool {
    let mut constant = true;
    let _ = plan.apply_with_subqueries(|node| {
        let node_ok = matches!(
            node,
            LogicalPlan::Projection(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::Values(_)
                | LogicalPlan::EmptyRelation(_)
                | LogicalPlan::SubqueryAlias(_)
                | LogicalPlan::Sort(_)
                | LogicalPlan::Limit(_)
                | LogicalPlan::Aggregate(_)
                | LogicalPlan::Union(_)
                | LogicalPlan::Distinct(_)
                | LogicalPlan::Join(_)
                | LogicalPlan::Unnest(_)
                | LogicalPlan::Subquery(_)
        );
        if !node_ok {
            constant = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::ScalarFunction(f) = e
                    && f.func.signature().volatility != Volatility::Immutable
                {
                    constant = false;
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(if constant {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    constant
}

fn has_placeholders(plan: &LogicalPlan) -> bool {
    plan.get_parameter_types()
        .map(|types| !types.is_empty())
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn plan(ctx: &SessionContext, sql: &str) -> LogicalPlan {
        ctx.state().create_logical_plan(sql).await.unwrap()
    }

    #[tokio::test]
    async fn only_constant_queries_are_kept() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (x int)").await.unwrap();
        assert!(is_constant(&plan(&ctx, "SELECT 1").await));
        assert!(is_constant(
            &plan(&ctx, "SELECT $1::int + 1, upper('a')").await
        ));
        assert!(!is_constant(&plan(&ctx, "SELECT now()").await));
        assert!(!is_constant(&plan(&ctx, "SELECT random()").await));
        assert!(!is_constant(&plan(&ctx, "SELECT x FROM t").await));
        assert!(!is_constant(
            &plan(&ctx, "SELECT (SELECT max(x) FROM t)").await
        ));

        let cache = PlanCache::default();
        let constant = plan(&ctx, "SELECT 1").await;
        cache.keep_logical("SELECT 1", &constant);
        assert_eq!(cache.logical("SELECT 1"), Some(constant));
        cache.keep_logical("SELECT x FROM t", &plan(&ctx, "SELECT x FROM t").await);
        assert!(cache.logical("SELECT x FROM t").is_none());
        cache.clear();
        assert!(cache.logical("SELECT 1").is_none());
    }
}
