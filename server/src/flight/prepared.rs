//! Flight SQL prepared statements: planned once, bound with parameter batches sent by DoPut,
//! run per parameter row. The statement lives in the client's session until it is closed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use tarn_engine::{ErrorKind, Prepared};
use tonic::Status;

use super::status::{self, status};
use super::stream::{wire_schema, wire_type};

/// At most this many open prepared statements per session.
const MAX_PER_SESSION: usize = 4096;

/// One prepared statement.
pub(crate) struct PreparedStatement {
    /// The statement's text, as pg_stat_activity shows it while it runs.
    pub sql: String,
    pub prepared: Prepared,
    /// The bound parameter rows (DoPut); empty until bound.
    params: Mutex<Vec<RecordBatch>>,
}

impl PreparedStatement {
    /// The result columns as clients receive them (empty for statements without rows).
    pub fn dataset_schema(&self) -> SchemaRef {
        self.prepared
            .schema
            .as_ref()
            .map(wire_schema)
            .unwrap_or_else(|| Arc::new(Schema::empty()))
    }

    /// `$1..$n` with their types; `Null` where the statement leaves a type open.
    pub fn parameter_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .prepared
            .param_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let data_type = t.as_ref().map(wire_type).unwrap_or(DataType::Null);
                Field::new(format!("${}", i + 1), data_type, true)
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    pub fn bind(&self, batches: Vec<RecordBatch>) {
        if let Ok(mut params) = self.params.lock() {
            *params = batches;
        }
    }

    /// One parameter list per bound row; one empty list when nothing is bound and the
    /// statement takes no parameters.
    pub fn parameter_rows(&self) -> Result<Vec<Vec<ScalarValue>>, Status> {
        let batches = self.params.lock().map(|p| p.clone()).unwrap_or_default();
        rows_of(&batches, &self.prepared.param_types)
    }
}

/// Parameter rows from `batches`, each value cast to its parameter's type when known.
pub(crate) fn rows_of(
    batches: &[RecordBatch],
    types: &[Option<DataType>],
) -> Result<Vec<Vec<ScalarValue>>, Status> {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if total == 0 {
        if types.is_empty() {
            return Ok(vec![vec![]]);
        }
        return Err(status(
            ErrorKind::InvalidParameter,
            format!(
                "the statement takes {} parameters, but none are bound",
                types.len()
            ),
        ));
    }
    let mut rows = Vec::with_capacity(total);
    for batch in batches {
        if batch.num_columns() != types.len() {
            return Err(status(
                ErrorKind::InvalidParameter,
                format!(
                    "{} parameter values bound, but the statement takes {}",
                    batch.num_columns(),
                    types.len()
                ),
            ));
        }
        for row in 0..batch.num_rows() {
            let mut values = Vec::with_capacity(types.len());
            for (column, ty) in batch.columns().iter().zip(types) {
                let value =
                    ScalarValue::try_from_array(column, row).map_err(status::from_datafusion)?;
                let value = match ty {
                    Some(ty) if value.data_type() != *ty => value.cast_to(ty).map_err(|e| {
                        status(
                            ErrorKind::DatatypeMismatch,
                            format!("parameter ${}: {e}", values.len() + 1),
                        )
                    })?,
                    _ => value,
                };
                values.push(value);
            }
            rows.push(values);
        }
    }
    Ok(rows)
}

/// A session's prepared statements by handle.
#[derive(Default)]
pub(crate) struct PreparedStatements {
    by_handle: Mutex<HashMap<String, Arc<PreparedStatement>>>,
}

impl PreparedStatements {
    pub fn insert(&self, sql: &str, prepared: Prepared) -> Result<String, Status> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| status(ErrorKind::Internal, e.to_string()))?;
        let handle: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let mut map = self.lock()?;
        if map.len() >= MAX_PER_SESSION {
            return Err(status(
                ErrorKind::ResourcesExhausted,
                "too many open prepared statements in this session; close some",
            ));
        }
        map.insert(
            handle.clone(),
            Arc::new(PreparedStatement {
                sql: sql.to_string(),
                prepared,
                params: Mutex::new(vec![]),
            }),
        );
        Ok(handle)
    }

    pub fn get(&self, handle: &[u8]) -> Result<Arc<PreparedStatement>, Status> {
        let handle = std::str::from_utf8(handle).unwrap_or_default();
        self.lock()?.get(handle).cloned().ok_or_else(|| {
            status(
                ErrorKind::InvalidStatementName,
                "prepared statement does not exist (closed?)",
            )
        })
    }

    pub fn remove(&self, handle: &[u8]) -> Result<(), Status> {
        let handle = std::str::from_utf8(handle).unwrap_or_default();
        self.lock()?.remove(handle);
        Ok(())
    }

    fn lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<String, Arc<PreparedStatement>>>, Status> {
        self.by_handle
            .lock()
            .map_err(|_| status(ErrorKind::Internal, "prepared statements poisoned"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};

    #[test]
    fn rows_are_cast_to_parameter_types() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec!["x", "y"])),
            ],
        )
        .unwrap();
        let types = [Some(DataType::Int32), None];
        let rows = rows_of(std::slice::from_ref(&batch), &types).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], ScalarValue::Int32(Some(1)));
        assert_eq!(rows[1][0], ScalarValue::Int32(None));
        assert_eq!(rows[1][1], ScalarValue::Utf8(Some("y".into())));
        assert!(rows_of(&[batch], &[None]).is_err());
        assert_eq!(rows_of(&[], &[]).unwrap(), vec![Vec::<ScalarValue>::new()]);
        assert!(rows_of(&[], &[None]).is_err());
    }
}
