//! Hive's partition filter language (`get_partitions_by_filter`): `dt = "2024-01-02" and
//! (y) in (2024, 2025) or s like "x.*"`, as Spark, Hive and Trino send it. A parsed filter
//! gives the catalog an indexable superset ([`HiveFilter::to_catalog`]) and then decides each
//! candidate exactly ([`HiveFilter::matches`]), so a call returns exactly the matching
//! partitions.

use std::cmp::Ordering;

use tarn_catalog::{CmpOp, IndexKind, KeyValue, PartitionFilter, Table, indexed_kind};

use crate::error::{EngineError, Result};

mod parse;

/// How deeply parentheses may nest (the parser recurses).
const MAX_DEPTH: usize = 64;

/// A parsed filter over a table's partition keys (by key position).
#[derive(Debug, Clone, PartialEq)]
pub enum HiveFilter {
    And(Vec<HiveFilter>),
    Or(Vec<HiveFilter>),
    Not(Box<HiveFilter>),
    Cmp {
        key: usize,
        op: CmpOp,
        value: Literal,
    },
    In {
        key: usize,
        values: Vec<Literal>,
    },
    /// Hive's LIKE takes a Java regular expression (`.*`, `.`).
    Like {
        key: usize,
        pattern: String,
    },
}

/// A literal: quoted strings and integers.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Int(i64),
}

impl HiveFilter {
    /// Parses `text` against the table's partition keys. An empty filter accepts everything.
    pub fn parse(table: &Table, text: &str) -> Result<HiveFilter> {
        parse::parse(table, text)
    }

    /// A predicate the catalog can answer from its index that accepts at least every partition
    /// this filter accepts.
    pub fn to_catalog(&self, table: &Table) -> PartitionFilter {
        let kind = |key: usize| indexed_kind(&table.partition_keys[key].hive_type);
        let indexed = |key: usize, v: &Literal| match (kind(key), v) {
            (Some(IndexKind::Int), Literal::Int(i)) => Some(KeyValue::Int(*i)),
            // The default partition's name selects NULL, which the index does not order.
            (Some(IndexKind::Text), Literal::Text(s))
                if s != tarn_catalog::paths::DEFAULT_PARTITION_NAME =>
            {
                Some(KeyValue::Text(s.clone()))
            }
            _ => None,
        };
        match self {
            HiveFilter::And(fs) => {
                PartitionFilter::and(fs.iter().map(|f| f.to_catalog(table)).collect())
            }
            HiveFilter::Or(fs) => {
                PartitionFilter::or(fs.iter().map(|f| f.to_catalog(table)).collect())
            }
            HiveFilter::Cmp { key, op, value } => match indexed(*key, value) {
                Some(value) => PartitionFilter::Cmp {
                    key: *key,
                    op: *op,
                    value,
                },
                None => PartitionFilter::All,
            },
            HiveFilter::In { key, values } => {
                match values
                    .iter()
                    .map(|v| indexed(*key, v))
                    .collect::<Option<Vec<_>>>()
                {
                    Some(values) => PartitionFilter::In { key: *key, values },
                    None => PartitionFilter::All,
                }
            }
            HiveFilter::Not(_) | HiveFilter::Like { .. } => PartitionFilter::All,
        }
    }

    /// Whether a partition may satisfy the filter: decided exactly where tarn can (integer and
    /// text keys, the LIKE forms clients send), and `true` where it cannot (other key types,
    /// other regular expressions): callers re-filter, and a subset would lose partitions.
    pub fn matches(&self, table: &Table, values: &[Option<String>]) -> bool {
        self.eval(table, values) != Some(false)
    }

    /// Three-valued: `None` is "cannot tell". NULL (default-partition) values satisfy no
    /// comparison but an equality with the default partition's name, which Hive stores.
    fn eval(&self, table: &Table, values: &[Option<String>]) -> Option<bool> {
        match self {
            HiveFilter::And(fs) => fs
                .iter()
                .try_fold(Some(true), |acc, f| match (acc, f.eval(table, values)) {
                    (_, Some(false)) => Err(()),
                    (Some(true), x) => Ok(x),
                    (None, _) => Ok(None),
                    (Some(false), _) => Err(()),
                })
                .unwrap_or(Some(false)),
            HiveFilter::Or(fs) => fs
                .iter()
                .try_fold(Some(false), |acc, f| match (acc, f.eval(table, values)) {
                    (_, Some(true)) => Err(()),
                    (Some(false), x) => Ok(x),
                    (None, _) => Ok(None),
                    (Some(true), _) => Err(()),
                })
                .map_or(Some(true), |r| r),
            HiveFilter::Not(f) => f.eval(table, values).map(|b| !b),
            HiveFilter::Cmp { key, op, value } => {
                let o = compare(table, *key, values.get(*key)?.as_deref(), value)?;
                Some(match o {
                    None => false,
                    Some(o) => match op {
                        CmpOp::Eq => o == Ordering::Equal,
                        CmpOp::NotEq => o != Ordering::Equal,
                        CmpOp::Lt => o == Ordering::Less,
                        CmpOp::LtEq => o != Ordering::Greater,
                        CmpOp::Gt => o == Ordering::Greater,
                        CmpOp::GtEq => o != Ordering::Less,
                    },
                })
            }
            HiveFilter::In { key, values: list } => {
                let v = values.get(*key)?.as_deref();
                let mut unknown = false;
                for l in list {
                    match compare(table, *key, v, l) {
                        Some(Some(Ordering::Equal)) => return Some(true),
                        None => unknown = true,
                        _ => {}
                    }
                }
                if unknown { None } else { Some(false) }
            }
            HiveFilter::Like { key, pattern } => {
                if !simple_pattern(pattern) {
                    return None;
                }
                let v = values.get(*key)?.as_deref();
                Some(v.is_some_and(|v| regex_like(pattern.as_bytes(), v.as_bytes())))
            }
        }
    }
}

/// How a stored value compares with a literal: `Some(None)` never (NULL), `None` when tarn
/// cannot tell (a key type it does not compare).
fn compare(
    table: &Table,
    key: usize,
    stored: Option<&str>,
    lit: &Literal,
) -> Option<Option<Ordering>> {
    let default_name =
        matches!(lit, Literal::Text(s) if s == tarn_catalog::paths::DEFAULT_PARTITION_NAME);
    let Some(v) = stored else {
        return Some(default_name.then_some(Ordering::Equal));
    };
    if default_name {
        // A non-NULL value is never the default partition.
        return Some(Some(v.cmp(tarn_catalog::paths::DEFAULT_PARTITION_NAME)));
    }
    match indexed_kind(&table.partition_keys[key].hive_type) {
        Some(IndexKind::Int) => {
            let a = v.trim().parse::<i64>().ok()?;
            let b = match lit {
                Literal::Int(i) => *i,
                Literal::Text(s) => s.trim().parse::<i64>().ok()?,
            };
            Some(Some(a.cmp(&b)))
        }
        Some(IndexKind::Text) => Some(Some(match lit {
            Literal::Int(i) => v.cmp(i.to_string().as_str()),
            Literal::Text(s) => v.cmp(s.as_str()),
        })),
        None => None,
    }
}

/// Hive's LIKE patterns are Java regular expressions; the forms clients send are `.*` (any
/// run), `.` (one character) and `\`-escaped literals; patterns with other metacharacters
/// are not decided here (see [`simple_pattern`]).
fn regex_like(p: &[u8], v: &[u8]) -> bool {
    // Iterative wildcard matching with one backtrack point (linear in practice, never
    // exponential).
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    let text = std::str::from_utf8(v).unwrap_or_default();
    let chars: Vec<char> = text.chars().collect();
    let pat: Vec<char> = std::str::from_utf8(p).unwrap_or_default().chars().collect();
    while vi < chars.len() {
        if pi + 1 < pat.len() && pat[pi] == '.' && pat[pi + 1] == '*' {
            star = Some((pi + 2, vi));
            pi += 2;
            continue;
        }
        let (literal, width) = match pat.get(pi) {
            Some('\\') => (pat.get(pi + 1).copied(), 2),
            Some(c) => (Some(*c), 1),
            None => (None, 0),
        };
        let single = literal.is_some_and(|c| (c == '.' && width == 1) || c == chars[vi]);
        if single {
            pi += width;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    while pi + 1 < pat.len() && pat[pi] == '.' && pat[pi + 1] == '*' {
        pi += 2;
    }
    pi == pat.len()
}

/// Whether a LIKE pattern uses only the regular-expression forms [`regex_like`] decides
/// (others match "maybe").
fn simple_pattern(p: &str) -> bool {
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // \d, \w, \s …: character classes; \. and the like: literals.
            '\\' if chars.next().is_some_and(|c| c.is_alphanumeric()) => return false,
            '\\' => {}
            '.' if chars.peek() == Some(&'*') => {
                chars.next();
            }
            '.' => {}
            '*' | '+' | '?' | '[' | ']' | '(' | ')' | '{' | '}' | '|' | '^' | '$' => return false,
            _ => {}
        }
    }
    true
}

fn bad(message: String) -> EngineError {
    EngineError::InvalidParameter(format!("partition filter: {message}"))
}

#[cfg(test)]
mod tests;
