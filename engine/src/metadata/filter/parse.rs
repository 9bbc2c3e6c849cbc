//! The grammar of Hive's partition filters (`Filter.g`): a tokenizer and a recursive-descent
//! parser with bounded depth.

use tarn_catalog::{CmpOp, IndexKind, Table, indexed_kind};

use super::{HiveFilter, Literal, MAX_DEPTH, bad};
use crate::error::Result;

/// Parses `text` against the table's partition keys (empty: accept everything).
pub(super) fn parse(table: &Table, text: &str) -> Result<HiveFilter> {
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
