//! A cursor over one statement's tokens (whitespace and comments skipped) with the small set of
//! helpers the statement parsers need.

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::ast::{ObjectName, PartitionSpecPairs};
use crate::error::{Result, SqlError};

pub(crate) struct Cursor<'a> {
    all: &'a [TokenWithSpan],
    /// Index into `all` of each significant token.
    index: Vec<usize>,
    tokens: Vec<&'a TokenWithSpan>,
    pos: usize,
}

/// The source text of a query embedded in a statement (INSERT … SELECT, CTAS), with where it
/// starts in the submitted text (1-based) so errors can point into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryText {
    pub sql: String,
    pub line: u64,
    pub column: u64,
}

impl<'a> Cursor<'a> {
    pub fn new(all: &'a [TokenWithSpan]) -> Self {
        let index: Vec<usize> = all
            .iter()
            .enumerate()
            .filter(|(_, t)| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .map(|(i, _)| i)
            .collect();
        let tokens = index.iter().map(|i| &all[*i]).collect();
        Self {
            all,
            index,
            tokens,
            pos: 0,
        }
    }

    /// Everything from the current token to the end, as written; consumes it.
    pub fn rest_as_query(&mut self) -> crate::error::Result<QueryText> {
        let Some(&start) = self.index.get(self.pos) else {
            return Err(self.error("expected a query"));
        };
        let first = &self.all[start];
        let sql: String = self.all[start..]
            .iter()
            .map(|t| t.token.to_string())
            .collect();
        self.pos = self.tokens.len();
        Ok(QueryText {
            sql: sql.trim().to_string(),
            line: first.span.start.line,
            column: first.span.start.column,
        })
    }

    /// The text up to the parenthesis matching one just consumed (which is consumed too).
    pub fn until_matching_paren(&mut self) -> crate::error::Result<QueryText> {
        let Some(&start) = self.index.get(self.pos) else {
            return Err(self.error("expected a query"));
        };
        let mut depth = 1;
        while let Some(tok) = self.peek() {
            match tok {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                let end = self.index[self.pos];
                let first = &self.all[start];
                let sql: String = self.all[start..end]
                    .iter()
                    .map(|t| t.token.to_string())
                    .collect();
                self.pos += 1;
                return Ok(QueryText {
                    sql: sql.trim().to_string(),
                    line: first.span.start.line,
                    column: first.span.start.column,
                });
            }
            self.pos += 1;
        }
        Err(self.error("missing ')'"))
    }

    pub fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos).map(|t| &t.token)
    }

    pub fn peek_nth(&self, n: usize) -> Option<&'a Token> {
        self.tokens.get(self.pos + n).map(|t| &t.token)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    pub fn next(&mut self) -> Option<&'a Token> {
        let t = self.peek();
        self.pos += 1;
        t
    }

    pub fn error(&self, message: impl Into<String>) -> SqlError {
        let at = self.tokens.get(self.pos).or(self.tokens.last());
        let (line, column) = at
            .map(|t| (t.span.start.line, t.span.start.column))
            .unwrap_or((1, 1));
        let found = match self.peek() {
            Some(t) => format!(", found '{t}'"),
            None => ", found end of statement".to_string(),
        };
        SqlError::Syntax {
            message: format!("{}{found}", message.into()),
            line,
            column,
        }
    }

    /// Whether the next token is the unquoted keyword `kw` (case-insensitive).
    /// Whether the tokens after the next one are `name [. name] OWNER` (ALTER VIEW v OWNER TO).
    pub fn peek_owner_to(&self) -> bool {
        self.peek_after_name("owner")
    }

    /// Whether the tokens after the current one are a (dotted) name followed by keyword `kw`:
    /// `VIEW a.b OWNER`, `VIEW "tarn"."a"."b" RENAME`.
    pub fn peek_after_name(&self, kw: &str) -> bool {
        let word = |n: usize| matches!(self.peek_nth(n), Some(Token::Word(_)));
        if !word(1) {
            return false;
        }
        let mut at = 1;
        while at < 5 && self.peek_nth(at + 1) == Some(&Token::Period) && word(at + 2) {
            at += 2;
        }
        is_keyword(self.peek_nth(at + 1), kw)
    }

    pub fn peek_keyword(&self, kw: &str) -> bool {
        is_keyword(self.peek(), kw)
    }

    pub fn peek_keywords(&self, kws: &[&str]) -> bool {
        kws.iter()
            .enumerate()
            .all(|(i, kw)| is_keyword(self.peek_nth(i), kw))
    }

    pub fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.peek_keyword(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the keyword sequence only if all of it is there.
    pub fn eat_keywords(&mut self, kws: &[&str]) -> bool {
        if self.peek_keywords(kws) {
            self.pos += kws.len();
            true
        } else {
            false
        }
    }

    pub fn expect_keyword(&mut self, kw: &str) -> Result<()> {
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(self.error(format!("expected {kw}")))
        }
    }

    pub fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, token: &Token) -> Result<()> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(format!("expected '{token}'")))
        }
    }

    pub fn expect_end(&mut self) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("unexpected input"))
        }
    }

    /// An identifier: unquoted ones are lower-cased (Hive names are case-insensitive).
    pub fn ident(&mut self) -> Result<String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                self.pos += 1;
                Ok(if w.quote_style.is_some() {
                    w.value.clone()
                } else {
                    w.value.to_lowercase()
                })
            }
            Some(Token::DoubleQuotedString(s)) => {
                self.pos += 1;
                Ok(s.clone())
            }
            _ => Err(self.error("expected an identifier")),
        }
    }

    /// `table`, `database.table`, or `tarn.database.table` (the catalog's own name first, as
    /// Postgres tools qualify relations; any other catalog is another database).
    pub fn object_name(&mut self) -> Result<ObjectName> {
        let first = self.ident()?;
        if !self.eat(&Token::Period) {
            return Ok(ObjectName {
                database: None,
                name: first,
            });
        }
        let second = self.ident()?;
        if !self.eat(&Token::Period) {
            return Ok(ObjectName {
                database: Some(first),
                name: second,
            });
        }
        let third = self.ident()?;
        // Identifiers are already folded: a quoted "TARN" is another name, as in Postgres.
        if first != crate::CATALOG {
            return Err(SqlError::NotSupported(format!(
                "cross-database references: \"{first}.{second}.{third}\" (this server is database \"{}\")",
                crate::CATALOG
            )));
        }
        Ok(ObjectName {
            database: Some(second),
            name: third,
        })
    }

    pub fn string(&mut self) -> Result<String> {
        match self.peek() {
            Some(Token::SingleQuotedString(s))
            | Some(Token::DoubleQuotedString(s))
            | Some(Token::EscapedStringLiteral(s)) => {
                self.pos += 1;
                Ok(s.clone())
            }
            // `$$…$$` and `$tag$…$tag$` (dbt writes comments so).
            Some(Token::DollarQuotedString(d)) => {
                let value = d.value.clone();
                self.pos += 1;
                Ok(value)
            }
            _ => Err(self.error("expected a string literal")),
        }
    }

    /// A literal value as text: string, number, TRUE/FALSE or a bare word; NULL is `None`.
    pub fn literal(&mut self) -> Result<Option<String>> {
        let negative = self.eat(&Token::Minus);
        let value = match self.peek() {
            Some(Token::Number(n, _)) => n.clone(),
            Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("null") =>
            {
                self.pos += 1;
                return Ok(None);
            }
            Some(Token::Word(w)) => w.value.clone(),
            _ => return self.string().map(Some),
        };
        self.pos += 1;
        Ok(Some(if negative { format!("-{value}") } else { value }))
    }

    /// `(k='v', k2=3, …)`.
    pub fn partition_spec(&mut self) -> Result<PartitionSpecPairs> {
        self.expect(&Token::LParen)?;
        let mut pairs = Vec::new();
        loop {
            let key = self.ident()?;
            self.expect(&Token::Eq)?;
            pairs.push((key, self.literal()?));
            if !self.eat(&Token::Comma) {
                break;
            }
        }
        self.expect(&Token::RParen)?;
        Ok(pairs)
    }

    /// `('k'='v', …)` (Hive) or `('k' 'v', …)` (DataFusion OPTIONS).
    pub fn properties(&mut self) -> Result<Vec<(String, String)>> {
        self.expect(&Token::LParen)?;
        let mut props = Vec::new();
        if self.eat(&Token::RParen) {
            return Ok(props);
        }
        loop {
            let key = match self.peek() {
                Some(Token::Word(_)) => self.dotted_word()?,
                _ => self.string()?,
            };
            self.eat(&Token::Eq);
            let value = self.literal()?.unwrap_or_default();
            props.push((key, value));
            if !self.eat(&Token::Comma) {
                break;
            }
        }
        self.expect(&Token::RParen)?;
        Ok(props)
    }

    /// `a.b.c` as written (used for unquoted option keys).
    fn dotted_word(&mut self) -> Result<String> {
        let mut parts = vec![self.ident()?];
        while self.eat(&Token::Period) {
            parts.push(self.ident()?);
        }
        Ok(parts.join("."))
    }

    /// Collects the text of a type up to a top-level `,`, `)` or the keyword COMMENT. Tracks
    /// `<>` and `()` nesting, splitting the tokenizer's `>>` into two closers.
    pub fn type_text(&mut self) -> Result<String> {
        let mut text = String::new();
        let mut depth: i32 = 0;
        while let Some(tok) = self.peek() {
            match tok {
                Token::Comma | Token::RParen if depth == 0 => break,
                Token::Word(_)
                    if depth == 0 && !text.is_empty() && self.peek_keyword("comment") =>
                {
                    break;
                }
                Token::Lt | Token::LParen => depth += 1,
                Token::Gt | Token::RParen => depth -= 1,
                Token::ShiftRight => depth -= 2,
                _ => {}
            }
            if depth < 0 {
                return Err(self.error("unbalanced '>' in type"));
            }
            if matches!(tok, Token::Word(_)) && text.ends_with(|c: char| c.is_alphanumeric()) {
                text.push(' ');
            }
            text.push_str(&tok.to_string());
            self.pos += 1;
        }
        if text.is_empty() {
            return Err(self.error("expected a type"));
        }
        Ok(text)
    }
}

pub(crate) fn is_keyword(token: Option<&Token>, kw: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
}
