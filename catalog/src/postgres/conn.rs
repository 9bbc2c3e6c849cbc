//! [`Conn`] over a tokio-postgres client, for the metastore logic that runs on tokio's
//! blocking pool, driven with [`tokio::runtime::Handle::block_on`]: statements are prepared once
//! per connection (with the parameter types the values give), and the statements of one call
//! go out together: one round trip.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use futures::FutureExt;
use tokio::runtime::Handle;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Row as PgRow};

use crate::error::{CatalogError, Result};
use crate::rdbms::conn::{Conn, Dialect, Row, Value};

/// How long one statement may take before the call fails as unavailable (a server that stopped
/// answering without closing the connection).
pub(super) const STATEMENT_DEADLINE: Duration = Duration::from_secs(60);

/// A client inside the transaction the store opened; `begin` is sent with the first statement
/// (pipelined: no round trip of its own).
pub(super) struct PgConn<'a> {
    pub client: &'a Client,
    pub handle: Handle,
    pub begin: RefCell<Option<String>>,
    /// Counts the round trips (waits for the server) this store made.
    pub round_trips: &'a AtomicU64,
    /// For the cancel request of a statement past its deadline.
    pub tls: &'a super::tls::MakeRustls,
    /// The statements prepared on this connection.
    pub prepared: &'a Prepared,
}

type Statement<'s> = (&'s str, &'s [Value]);

/// Statements prepared on one connection, by SQL and parameter types: PostgreSQL parses and
/// plans each once per connection rather than once per call.
#[derive(Default)]
pub(super) struct Prepared(RefCell<HashMap<(String, Vec<Type>), tokio_postgres::Statement>>);

/// Statements kept per connection at most (dynamic SQL — IN lists of every length — would grow
/// without end): past it the cache starts over.
const MAX_PREPARED: usize = 256;

impl PgConn<'_> {
    /// Sends the statements together (with a pending BEGIN before them) and waits once for
    /// all their results: one round trip however many there are.
    fn run(&self, statements: &[Statement<'_>]) -> Result<Vec<(Vec<PgRow>, u64)>> {
        let begin = self.begin.borrow_mut().take();
        let client = self.client;
        let keys: Vec<(String, Vec<Type>)> = statements
            .iter()
            .map(|(sql, args)| (placeholders(sql), args.iter().map(Value::pg_type).collect()))
            .collect();
        let prepared = self.prepare(&keys)?;
        let prepared: Vec<_> = prepared
            .into_iter()
            .zip(&keys)
            .zip(statements)
            .map(|((statement, key), (_, args))| {
                (statement, key, args.iter().map(PgArg).collect::<Vec<_>>())
            })
            .collect();
        let work = async move {
            let begun = async {
                match &begin {
                    Some(b) => client.batch_execute(b).await,
                    None => Ok(()),
                }
            };
            let all = futures::future::try_join_all(
                prepared
                    .iter()
                    .map(|(statement, key, args)| execute(client, statement.as_ref(), key, args)),
            );
            let (began, out) = tokio::join!(begun, all);
            began?;
            out
        };
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(
            statements = statements.len(),
            first = statements.first().map_or("", |s| s.0),
            "catalog round trip"
        );
        self.wait(work)
    }

    /// The prepared statements for `keys` (`None` for a bulk statement, which runs unnamed),
    /// preparing (together, one round trip) those this connection has not prepared yet.
    fn prepare(
        &self,
        keys: &[(String, Vec<Type>)],
    ) -> Result<Vec<Option<tokio_postgres::Statement>>> {
        let mut cache = self.prepared.0.borrow_mut();
        let missing: Vec<&(String, Vec<Type>)> = keys
            .iter()
            .filter(|k| worth_preparing(k) && !cache.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            let client = self.client;
            let prepare = futures::future::try_join_all(
                missing
                    .iter()
                    .map(|(sql, types)| client.prepare_typed(sql, types)),
            );
            self.round_trips.fetch_add(1, Ordering::Relaxed);
            let statements = self.wait(prepare)?;
            if cache.len() + statements.len() > MAX_PREPARED {
                cache.clear();
            }
            for (key, statement) in missing.into_iter().zip(statements) {
                cache.insert(key.clone(), statement);
            }
        }
        Ok(keys.iter().map(|k| cache.get(k).cloned()).collect())
    }

    /// Blocks on `work` within the statement deadline; past it the server is asked to cancel
    /// the statement (the connection is then dropped, ending any transaction).
    pub fn wait<T>(
        &self,
        work: impl std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        let outcome = self
            .handle
            .block_on(async { tokio::time::timeout(STATEMENT_DEADLINE, work).await });
        match outcome {
            Ok(result) => result.map_err(pg_error),
            Err(_) => {
                let cancel = self.client.cancel_token();
                let _ = self.handle.block_on(async {
                    tokio::time::timeout(
                        Duration::from_secs(5),
                        cancel.cancel_query(self.tls.clone()),
                    )
                    .await
                });
                Err(CatalogError::Unavailable(format!(
                    "the catalog database did not answer within {STATEMENT_DEADLINE:?}"
                )))
            }
        }
    }

    /// Ends the transaction, if one began. A write's COMMIT is waited for (its outcome is the
    /// call's); a read's COMMIT and a failed call's ROLLBACK are sent without waiting: the
    /// connection answers requests in order, so its next user is behind them.
    pub fn finish(&self, write: bool, ok: bool) -> Result<()> {
        if self.begin.borrow().is_some() {
            return Ok(()); // no statement ran: no transaction was opened
        }
        match (ok, write) {
            (true, true) => {
                self.round_trips.fetch_add(1, Ordering::Relaxed);
                self.wait(self.client.batch_execute("COMMIT"))
                    .map_err(|e| match e {
                        CatalogError::Unavailable(m) => CatalogError::CommitOutcomeUnknown(m),
                        other => other,
                    })
            }
            (true, false) => {
                drop(self.client.batch_execute("COMMIT").now_or_never());
                Ok(())
            }
            (false, _) => {
                drop(self.client.batch_execute("ROLLBACK").now_or_never());
                Ok(())
            }
        }
    }
}

/// Whether a statement is kept prepared: the ones calls repeat, not the bulk inserts of
/// thousands of parameters (planned once per run either way, and costly to keep).
fn worth_preparing((_, types): &(String, Vec<Type>)) -> bool {
    types.len() <= 64
}

async fn execute(
    client: &Client,
    statement: Option<&tokio_postgres::Statement>,
    (sql, types): &(String, Vec<Type>),
    args: &[PgArg<'_>],
) -> std::result::Result<(Vec<PgRow>, u64), tokio_postgres::Error> {
    let stream = match statement {
        Some(statement) => {
            client
                .query_raw(statement, args.iter().map(|a| a as &dyn ToSql))
                .await?
        }
        None => {
            let typed = args
                .iter()
                .zip(types)
                .map(|(a, t)| (a as &dyn ToSql, t.clone()));
            client.query_typed_raw(sql, typed).await?
        }
    };
    let mut stream = std::pin::pin!(stream);
    let mut rows = Vec::new();
    while let Some(row) = futures::StreamExt::next(&mut stream).await {
        rows.push(row?);
    }
    let affected = stream.rows_affected().unwrap_or(0);
    Ok((rows, affected))
}

impl Conn for PgConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64> {
        Ok(self.run(&[(sql, args)])?.remove(0).1)
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        self.run(&[(sql, args)])?
            .remove(0)
            .0
            .iter()
            .map(row)
            .collect()
    }

    fn query_many(&self, statements: &[Statement<'_>]) -> Result<Vec<Vec<Row>>> {
        self.run(statements)?
            .into_iter()
            .map(|(rows, _)| rows.iter().map(row).collect())
            .collect()
    }
}

/// `?N` placeholders (outside quoted text) become PostgreSQL's `$N`.
pub(super) fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

impl Value {
    /// The type a parameter is sent as: integers are BIGINT (every integer column is), text and
    /// NULLs TEXT (a NULL bound for another type is written `CAST(?N AS …)` in the SQL).
    fn pg_type(&self) -> Type {
        match self {
            Value::Int(_) => Type::INT8,
            Value::Text(_) | Value::Null => Type::TEXT,
        }
    }
}

#[derive(Debug)]
struct PgArg<'a>(&'a Value);

impl ToSql for PgArg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(t) => t.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn row(r: &PgRow) -> Result<Row> {
    let values = r
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| column(r, i, c.type_()))
        .collect::<Result<Vec<_>>>()?;
    Ok(Row(values))
}

fn column(r: &PgRow, i: usize, ty: &Type) -> Result<Value> {
    let get = |e: tokio_postgres::Error| CatalogError::Corrupt(e.to_string());
    let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    Ok(match *ty {
        Type::INT8 => int(r.try_get::<_, Option<i64>>(i).map_err(get)?),
        Type::INT4 => int(r.try_get::<_, Option<i32>>(i).map_err(get)?.map(i64::from)),
        Type::INT2 => int(r.try_get::<_, Option<i16>>(i).map_err(get)?.map(i64::from)),
        Type::BOOL => int(r.try_get::<_, Option<bool>>(i).map_err(get)?.map(i64::from)),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => r
            .try_get::<_, Option<String>>(i)
            .map_err(get)?
            .map_or(Value::Null, Value::Text),
        ref other => {
            return Err(CatalogError::Corrupt(format!(
                "catalog column {i} has the unexpected type {other}"
            )));
        }
    })
}

/// Serialization failures and deadlocks are conflicts (retry); a closed or failed connection
/// is unavailability; anything else the server refused is a storage error.
pub(super) fn pg_error(e: tokio_postgres::Error) -> CatalogError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            CatalogError::Conflict(e.to_string())
        }
        Some(c) if c.code().starts_with("08") || c.code().starts_with("57P") => {
            CatalogError::Unavailable(e.to_string())
        }
        Some(_) => CatalogError::Storage(match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        }),
        None if e.is_closed() || io_caused(&e) => CatalogError::Unavailable(e.to_string()),
        None => CatalogError::Storage(e.to_string()),
    }
}

/// Whether an error without a SQLSTATE came from the network.
fn io_caused(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_outside_quotes_become_dollars() {
        assert_eq!(
            placeholders("SELECT '?1', \"?2\" FROM t WHERE a = ?1 AND b = ?12 OR c = ?"),
            "SELECT '?1', \"?2\" FROM t WHERE a = $1 AND b = $12 OR c = ?"
        );
    }
}
