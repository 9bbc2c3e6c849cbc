//! Hive's partition filter language (`get_partitions_by_filter`): `dt = "2024-01-02" and
//! (y) in (2024, 2025) or s like "x.*"`, as Spark, Hive and Trino send it. A parsed filter
//! gives the catalog an indexable superset ([`HiveFilter::to_catalog`]) and then decides each
//! candidate exactly ([`HiveFilter::matches`]), so a call returns exactly the matching
//! partitions.

use std::cmp::Ordering;

use tarn_catalog::{CmpOp, IndexKind, KeyValue, PartitionFilter, Table, indexed_kind};

use crate::error::{EngineError, Result};

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
        let tokens = tokenize(text)?;
        if tokens.is_empty() {
            return Ok(HiveFilter::And(vec![]));
        }
        let mut p = Parser {
            table,
            tokens,
            pos: 0,
            depth: 0,
        };
        let f = p.or()?;
        if p.pos != p.tokens.len() {
            return Err(bad(format!("unexpected '{}'", p.tokens[p.pos].text())));
        }
        Ok(f)
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
/// run), `.` (one character) and `\`-escaped literals. Other metacharacters were refused at
/// parse time.
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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Ident(s) => s.clone(),
            Token::Str(s) => format!("\"{s}\""),
            Token::Int(i) => i.to_string(),
            Token::Op(o) => o.to_string(),
            Token::LParen => "(".into(),
            Token::RParen => ")".into(),
            Token::Comma => ",".into(),
        }
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self, Token::Ident(s) if s.eq_ignore_ascii_case(k))
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::LParen);
                i += 1;
            }
            ')' => {
                out.push(Token::RParen);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("unterminated string".into())),
                        Some(&q) if q == c => break,
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token::Str(s));
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = ["!=", "<>", "<=", ">="].into_iter().find(|o| two == *o);
                let op = match (op, c) {
                    (Some(o), _) => o,
                    (None, '=') => "=",
                    (None, '<') => "<",
                    (None, '>') => ">",
                    _ => return Err(bad(format!("unexpected '{c}'"))),
                };
                i += op.len();
                out.push(Token::Op(op));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Token::Int(
                    s.parse().map_err(|_| bad(format!("number '{s}'")))?,
                ));
            }
            c if c.is_alphanumeric() || c == '_' || c == '`' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '`' || *c == '.')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().filter(|c| **c != '`').collect();
                out.push(Token::Ident(word));
            }
            other => return Err(bad(format!("unexpected '{other}'"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    table: &'a Table,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Result<Token> {
        let t = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or_else(|| bad("unexpected end".into()))?;
        self.pos += 1;
        Ok(t)
    }

    fn expect(&mut self, t: Token) -> Result<()> {
        let got = self.next()?;
        if got != t {
            return Err(bad(format!(
                "expected '{}', got '{}'",
                t.text(),
                got.text()
            )));
        }
        Ok(())
    }

    fn eat_keyword(&mut self, k: &str) -> bool {
        let hit = self.peek().is_some_and(|t| t.keyword(k));
        self.pos += hit as usize;
        hit
    }

    fn or(&mut self) -> Result<HiveFilter> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(bad("nested too deeply".into()));
        }
        let mut terms = vec![self.and()?];
        while self.eat_keyword("or") {
            terms.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            HiveFilter::Or(terms)
        })
    }

    fn and(&mut self) -> Result<HiveFilter> {
        let mut terms = vec![self.term()?];
        while self.eat_keyword("and") {
            terms.push(self.term()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            HiveFilter::And(terms)
        })
    }

    fn term(&mut self) -> Result<HiveFilter> {
        if self.eat_keyword("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(bad("nested too deeply".into()));
            }
            let inner = self.term()?;
            self.depth -= 1;
            return Ok(HiveFilter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::LParen) {
            // `(key) in (…)` or a parenthesised expression.
            if let (Some(Token::Ident(_)), Some(Token::RParen), Some(t)) = (
                self.tokens.get(self.pos + 1),
                self.tokens.get(self.pos + 2),
                self.tokens.get(self.pos + 3),
            ) && (t.keyword("in") || t.keyword("not"))
            {
                self.pos += 1;
                let key = self.key()?;
                self.expect(Token::RParen)?;
                return self.in_list(key);
            }
            self.pos += 1;
            let f = self.or()?;
            self.expect(Token::RParen)?;
            return Ok(f);
        }
        if let Some(Token::Ident(_)) = self.peek() {
            let key = self.key()?;
            return self.after_key(key);
        }
        // `value op key`
        let value = self.literal(None)?;
        let Token::Op(op) = self.next()? else {
            return Err(bad("expected a comparison".into()));
        };
        let key = self.key()?;
        let value = self.typed(key, value);
        Ok(HiveFilter::Cmp {
            key,
            op: flip(cmp_op(op)?),
            value,
        })
    }

    fn after_key(&mut self, key: usize) -> Result<HiveFilter> {
        match self.next()? {
            Token::Op(op) => {
                let value = self.literal(Some(key))?;
                Ok(HiveFilter::Cmp {
                    key,
                    op: cmp_op(op)?,
                    value,
                })
            }
            t if t.keyword("like") => match self.next()? {
                Token::Str(pattern) => Ok(HiveFilter::Like { key, pattern }),
                t => Err(bad(format!("LIKE needs a string, got '{}'", t.text()))),
            },
            t if t.keyword("in") || t.keyword("not") => {
                self.pos -= 1;
                self.in_list(key)
            }
            t if t.keyword("between") => self.between(key, false),
            t => Err(bad(format!("unexpected '{}'", t.text()))),
        }
    }

    fn in_list(&mut self, key: usize) -> Result<HiveFilter> {
        let negated = self.eat_keyword("not");
        if self.eat_keyword("between") {
            return self.between(key, negated);
        }
        if !self.eat_keyword("in") {
            return Err(bad("expected IN".into()));
        }
        self.expect(Token::LParen)?;
        let mut values = vec![self.literal(Some(key))?];
        while self.peek() == Some(&Token::Comma) {
            self.pos += 1;
            values.push(self.literal(Some(key))?);
        }
        self.expect(Token::RParen)?;
        let f = HiveFilter::In { key, values };
        Ok(if negated {
            HiveFilter::Not(Box::new(f))
        } else {
            f
        })
    }

    fn between(&mut self, key: usize, negated: bool) -> Result<HiveFilter> {
        let low = self.literal(Some(key))?;
        if !self.eat_keyword("and") {
            return Err(bad("BETWEEN needs AND".into()));
        }
        let high = self.literal(Some(key))?;
        let f = HiveFilter::And(vec![
            HiveFilter::Cmp {
                key,
                op: CmpOp::GtEq,
                value: low,
            },
            HiveFilter::Cmp {
                key,
                op: CmpOp::LtEq,
                value: high,
            },
        ]);
        Ok(if negated {
            HiveFilter::Not(Box::new(f))
        } else {
            f
        })
    }

    fn key(&mut self) -> Result<usize> {
        match self.next()? {
            Token::Ident(name) => self
                .table
                .partition_keys
                .iter()
                .position(|k| k.name.eq_ignore_ascii_case(&name))
                .ok_or_else(|| {
                    bad(format!(
                        "'{name}' is not a partition column of {}",
                        self.table.qualified_name()
                    ))
                }),
            t => Err(bad(format!(
                "expected a partition column, got '{}'",
                t.text()
            ))),
        }
    }

    fn literal(&mut self, key: Option<usize>) -> Result<Literal> {
        let lit = match self.next()? {
            Token::Str(s) => Literal::Text(s),
            Token::Int(i) => Literal::Int(i),
            // DATE'2024-01-01' (Hive 3 clients)
            Token::Ident(d) if d.eq_ignore_ascii_case("date") => match self.next()? {
                Token::Str(s) => Literal::Text(s),
                t => return Err(bad(format!("unexpected '{}'", t.text()))),
            },
            t => return Err(bad(format!("expected a value, got '{}'", t.text()))),
        };
        Ok(match key {
            Some(k) => self.typed(k, lit),
            None => lit,
        })
    }

    /// Literals as the key's type compares them: quoted numbers for an integer key compare
    /// numerically, unquoted numbers for a string key compare as text.
    fn typed(&self, key: usize, lit: Literal) -> Literal {
        let kind = indexed_kind(&self.table.partition_keys[key].hive_type);
        match (kind, lit) {
            (Some(IndexKind::Int), Literal::Text(s)) => match s.trim().parse() {
                Ok(i) => Literal::Int(i),
                Err(_) => Literal::Text(s),
            },
            (Some(IndexKind::Text), Literal::Int(i)) => Literal::Text(i.to_string()),
            (_, lit) => lit,
        }
    }
}

fn cmp_op(op: &str) -> Result<CmpOp> {
    Ok(match op {
        "=" => CmpOp::Eq,
        "!=" | "<>" => CmpOp::NotEq,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::LtEq,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::GtEq,
        other => return Err(bad(format!("operator '{other}'"))),
    })
}

/// `value op key` as `key op' value`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::LtEq => CmpOp::GtEq,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::GtEq => CmpOp::LtEq,
        other => other,
    }
}

/// Whether a LIKE pattern uses only the regular-expression forms [`regex_like`] decides
/// (others match "maybe").
fn simple_pattern(p: &str) -> bool {
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if chars.next().is_some_and(|c| c.is_alphanumeric()) {
                    // \d, \w, \s …: character classes.
                    return false;
                }
            }
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
