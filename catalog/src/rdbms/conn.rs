//! What the metastore's SQL needs from a database connection, in terms neither SQLite's nor
//! PostgreSQL's: statements with `?N` placeholders, parameters and rows of integers and text.
//!
//! The metastore logic is written once against [`Conn`]; each store adapts its driver to it and
//! says, through [`Dialect`], the few places where the SQL differs.

use crate::error::{CatalogError, Result};

/// A parameter or column value. Booleans are integers 0/1 in both stores' schemas.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v.into())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Clone + Into<Value>> From<&Option<T>> for Value {
    fn from(v: &Option<T>) -> Self {
        v.clone().map_or(Value::Null, Into::into)
    }
}

/// `args![a, b, …]`: a statement's parameters.
macro_rules! args {
    ($($e:expr),* $(,)?) => { &[$($crate::rdbms::conn::Value::from($e)),*][..] };
}
pub(crate) use args;

/// Owned statements as [`Conn::query_many`] takes them.
pub fn borrowed(statements: &[(String, Vec<Value>)]) -> Vec<(&str, &[Value])> {
    statements
        .iter()
        .map(|(sql, args)| (sql.as_str(), args.as_slice()))
        .collect()
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| CatalogError::Corrupt(format!("result row has no column {i}")))
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?
            .ok_or_else(|| CatalogError::Corrupt(format!("column {i} is NULL")))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Text(t) => Err(CatalogError::Corrupt(format!(
                "column {i} holds text '{t}' where an integer was expected"
            ))),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool> {
        Ok(self.int(i)? != 0)
    }

    pub fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?
            .ok_or_else(|| CatalogError::Corrupt(format!("column {i} is NULL")))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t.clone())),
            Value::Int(v) => Err(CatalogError::Corrupt(format!(
                "column {i} holds the integer {v} where text was expected"
            ))),
        }
    }
}

/// Where the two stores' SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A partition key value as the `part_keys.value` column stores it. SQLite keeps typed
    /// values (integers sort before text, numerically); PostgreSQL's column is text (`COLLATE
    /// "C"`), so integers are encoded to sort the same way: `0` + the sign-flipped value in 16
    /// hex digits, before every text value, which gets a `1` in front.
    pub fn key_value(self, v: Value) -> Value {
        match (self, v) {
            (Dialect::Sqlite, v) | (Dialect::Postgres, v @ Value::Null) => v,
            (Dialect::Postgres, Value::Int(i)) => {
                Value::Text(format!("0{:016x}", (i as u64) ^ (1 << 63)))
            }
            (Dialect::Postgres, Value::Text(t)) => Value::Text(format!("1{t}")),
        }
    }

    /// The typed value of a stored partition key value (the inverse of [`Dialect::key_value`]).
    pub fn typed_key_value(self, v: Value) -> Value {
        let Value::Text(t) = &v else { return v };
        if self == Dialect::Sqlite {
            return v;
        }
        if let Some(text) = t.strip_prefix('1') {
            return Value::Text(text.to_string());
        }
        match t.strip_prefix('0').map(|h| u64::from_str_radix(h, 16)) {
            Some(Ok(bits)) => Value::Int((bits ^ (1 << 63)) as i64),
            _ => v,
        }
    }

    /// The text at `key` of a JSON object held in a text column.
    pub fn json_text(self, column: &str, key: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({column}, '$.{key}')"),
            Dialect::Postgres => format!("(({column})::jsonb ->> '{key}')"),
        }
    }
}

/// A connection (inside the transaction the store opened for the call).
pub trait Conn {
    fn dialect(&self) -> Dialect;
    /// Runs a statement; returns the rows it changed.
    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64>;
    /// Runs a query; returns all its rows.
    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>>;

    /// Runs independent queries; a networked store sends them together (one round trip).
    fn query_many(&self, statements: &[(&str, &[Value])]) -> Result<Vec<Vec<Row>>> {
        statements
            .iter()
            .map(|(sql, args)| self.query(sql, args))
            .collect()
    }
}

impl dyn Conn + '_ {
    /// The first row, if any.
    pub fn query_opt(&self, sql: &str, args: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The one row a query must return.
    pub fn query_one(&self, sql: &str, args: &[Value]) -> Result<Row> {
        self.query_opt(sql, args)?
            .ok_or_else(|| CatalogError::Corrupt(format!("no row for: {sql}")))
    }

    /// The integer a query returns (a count, an id).
    pub fn query_int(&self, sql: &str, args: &[Value]) -> Result<i64> {
        self.query_one(sql, args)?.int(0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Dialect, Value};

    /// Encoded PostgreSQL key values sort as SQLite's typed ones: integers numerically, then
    /// text in byte order.
    #[test]
    fn postgres_key_values_sort_like_sqlite_typed_values() {
        let ordered = [
            Value::Int(i64::MIN),
            Value::Int(-5),
            Value::Int(-1),
            Value::Int(0),
            Value::Int(3),
            Value::Int(10),
            Value::Int(i64::MAX),
            Value::Text(String::new()),
            Value::Text("2024-01-01".into()),
            Value::Text("a".into()),
            Value::Text("ab".into()),
        ];
        let encoded: Vec<String> = ordered
            .iter()
            .map(|v| match Dialect::Postgres.key_value(v.clone()) {
                Value::Text(t) => t,
                other => panic!("{other:?}"),
            })
            .collect();
        let mut sorted = encoded.clone();
        sorted.sort();
        assert_eq!(encoded, sorted);
        for v in &ordered {
            let stored = Dialect::Postgres.key_value(v.clone());
            assert_eq!(&Dialect::Postgres.typed_key_value(stored), v);
        }
        assert_eq!(Dialect::Sqlite.key_value(Value::Int(3)), Value::Int(3));
    }
}
