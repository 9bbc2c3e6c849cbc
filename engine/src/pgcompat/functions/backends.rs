//! Functions about server processes: `pg_backend_pid()` (the pid the pg front end announced in
//! BackendKeyData), `pg_cancel_backend(pid)` and `pg_terminate_backend(pid)` over the engine's
//! session registry ([`crate::activity`]). Signalling another role's backend is for
//! superusers (42501), as in PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Signature, TypeSignature, Volatility};

use super::{PgFunction, SessionFacts};

/// The pid argument, whatever integer type the planner chose.
fn pid_arg(args: &[ScalarValue]) -> Option<i32> {
    match args.first()? {
        ScalarValue::Int32(Some(v)) => Some(*v),
        ScalarValue::Int64(Some(v)) => i32::try_from(*v).ok(),
        ScalarValue::Int16(Some(v)) => Some(i32::from(*v)),
        ScalarValue::UInt32(Some(v)) => i32::try_from(*v).ok(),
        _ => None,
    }
}

type Signal = fn(&crate::activity::Activity, i32, &str, bool) -> crate::Result<bool>;

/// Runs a signal as the session's user; NULL for a NULL pid; `false` for an unknown pid.
fn signal(
    facts: &SessionFacts,
    args: &[ScalarValue],
    send: Signal,
) -> datafusion::common::Result<ScalarValue> {
    let Some(pid) = pid_arg(args) else {
        return Ok(ScalarValue::Boolean(None));
    };
    let sent = send(
        &facts.activity,
        pid,
        &facts.identity.current_role(),
        facts.superuser,
    )
    .map_err(crate::EngineError::into_datafusion)?;
    Ok(ScalarValue::Boolean(Some(sent)))
}

fn one_integer() -> Signature {
    Signature::one_of(
        vec![
            TypeSignature::Exact(vec![DataType::Int32]),
            TypeSignature::Exact(vec![DataType::Int64]),
        ],
        // Volatile: never folded into a constant while planning.
        Volatility::Volatile,
    )
}

/// The functions of this module, for `register`.
pub(super) fn functions(facts: &Arc<SessionFacts>) -> Vec<PgFunction> {
    let f = super::maker(facts);
    vec![
        f(
            "pg_backend_pid",
            Signature::exact(vec![], Volatility::Stable),
            DataType::Int32,
            |facts, _, _| {
                let pid = facts.backend_pid.load(Ordering::Relaxed);
                Ok(ScalarValue::Int32(Some(pid)))
            },
        ),
        f(
            "pg_cancel_backend",
            one_integer(),
            DataType::Boolean,
            |facts, args, _| signal(facts, args, crate::activity::Activity::cancel),
        ),
        f(
            "pg_terminate_backend",
            one_integer(),
            DataType::Boolean,
            |facts, args, _| signal(facts, args, crate::activity::Activity::terminate),
        ),
    ]
}
