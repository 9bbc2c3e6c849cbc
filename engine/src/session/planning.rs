//! The DataFusion state a session plans with, kept between statements.
//!
//! `SessionContext::state()` clones the whole `SessionState` (its function registries are
//! hash maps of a few hundred entries, keyed by `String`), and building a `TaskContext` clones
//! them again: three such clones per statement were most of a `SELECT 1`'s server time. The
//! session keeps one state and task context instead, rebuilt only after something changed the
//! context's state (SET, USE, a new time zone, DataFusion statements that write its config, or
//! anyone holding [`Session::context`]); the kept plans (`plan_cache`) go with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::execution::{SessionState, TaskContext};

use super::Session;

/// A state to plan with and the task context to execute its plans with.
pub(crate) struct Planning {
    pub state: SessionState,
    pub task: Arc<TaskContext>,
    generation: u64,
}

/// The kept state, and how many times the context's state may have changed.
#[derive(Default)]
pub(crate) struct PlanningCache {
    slot: std::sync::Mutex<Option<Planning>>,
    generation: AtomicU64,
}

impl Session {
    /// The state to plan one statement with (the kept one, or a fresh clone of the context's),
    /// with the statement's start time for now() and friends. Give it back with
    /// [`Session::keep_planning`].
    pub(crate) fn planning(&self) -> Planning {
        let generation = self.planning.generation.load(Ordering::Acquire);
        let kept = self
            .planning
            .slot
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .filter(|p| p.generation == generation);
        let mut planning = kept.unwrap_or_else(|| {
            let state = self.ctx.state();
            let task = Arc::new(TaskContext::from(&state));
            Planning {
                state,
                task,
                generation,
            }
        });
        planning.state.mark_start_execution();
        planning
    }

    /// Keeps `planning` for the next statement, unless the context changed meanwhile.
    pub(crate) fn keep_planning(&self, planning: Planning) {
        if planning.generation != self.planning.generation.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut slot) = self.planning.slot.lock() {
            *slot = Some(planning);
        }
    }

    /// Forgets the kept state: the context's state changed (or may have).
    pub(crate) fn replan(&self) {
        self.plans.clear();
        self.planning.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut slot) = self.planning.slot.lock() {
            *slot = None;
        }
    }
}
