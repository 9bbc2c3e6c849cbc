//! pg_stat_activity: one row per live session the front ends registered
//! ([`crate::activity`]), with the columns monitoring tools and psql read.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;

use super::{DATABASE_OID, I32, O, Rows, T, no_text, oid_value, role_oid, text};
use crate::activity::ActivityRow;

fn timestamptz() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn at(micros: Option<i64>) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(micros, Some("UTC".into()))
}

pub(super) fn rows(activity: &[ActivityRow]) -> Rows {
    let mut rows = Rows::new(&[
        ("datid", O),
        ("datname", T),
        ("pid", I32),
        ("usesysid", O),
        ("usename", T),
        ("application_name", T),
        ("client_addr", T),
        ("backend_start", timestamptz()),
        ("xact_start", timestamptz()),
        ("query_start", timestamptz()),
        ("state_change", timestamptz()),
        ("wait_event_type", T),
        ("wait_event", T),
        ("state", T),
        ("query", T),
        ("backend_type", T),
    ]);
    for a in activity {
        rows.push(vec![
            oid_value(DATABASE_OID),
            text(&a.database),
            ScalarValue::Int32(Some(a.pid)),
            oid_value(role_oid(&a.user)),
            text(&a.user),
            text(&a.application_name),
            a.client_addr.clone().map_or_else(no_text, text),
            at(Some(a.backend_start)),
            at(None),
            at(a.query_start),
            at(a.query_start),
            no_text(),
            no_text(),
            text(a.state),
            text(&a.query),
            text("client backend"),
        ]);
    }
    rows
}
