//! `COPY … FROM STDIN` and `COPY … TO STDOUT`: the client streams the data over the wire.

use datafusion::sql::sqlparser::tokenizer::Token;

use crate::ast::{CopyFormat, CopyOptions, CopySource, Statement};
use crate::cursor::{Cursor, is_keyword};
use crate::error::Result;

/// Recognises `COPY t [(cols)] FROM STDIN …`, `COPY t [(cols)] TO STDOUT …` and
/// `COPY (query) TO STDOUT …`; anything else is left to the other COPY forms.
pub(crate) fn copy_stdio(c: &mut Cursor) -> Result<Option<Statement>> {
    if !is_stdio(c) {
        return Ok(None);
    }
    c.next();
    // A table name never starts with a parenthesis; a query always does here.
    let source = if c.peek() == Some(&Token::LParen) {
        CopySource::Query(parenthesised_query(c)?)
    } else {
        let name = c.object_name()?;
        let columns = if c.eat(&Token::LParen) {
            let mut cols = vec![c.ident()?];
            while c.eat(&Token::Comma) {
                cols.push(c.ident()?);
            }
            c.expect(&Token::RParen)?;
            cols
        } else {
            vec![]
        };
        CopySource::Table { name, columns }
    };
    let to_stdout = if c.eat_keyword("from") {
        c.expect_keyword("stdin")?;
        false
    } else {
        c.expect_keyword("to")?;
        c.expect_keyword("stdout")?;
        true
    };
    let options = options(c)?;
    c.expect_end()?;
    Ok(Some(match (to_stdout, source) {
        (true, source) => Statement::CopyToStdout { source, options },
        (false, CopySource::Table { name, columns }) => Statement::CopyFromStdin {
            name,
            columns,
            options,
        },
        (false, CopySource::Query(_)) => return Err(c.error("COPY (query) FROM is not valid")),
    }))
}

/// Whether the statement names STDIN or STDOUT at its FROM/TO.
fn is_stdio(c: &Cursor) -> bool {
    let mut depth = 0i32;
    let mut i = 1;
    while let Some(tok) = c.peek_nth(i) {
        match tok {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if depth == 0 && (is_keyword(Some(tok), "from") || is_keyword(Some(tok), "to")) => {
                let next = c.peek_nth(i + 1);
                return is_keyword(next, "stdin") || is_keyword(next, "stdout");
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// `( query )` as text.
fn parenthesised_query(c: &mut Cursor) -> Result<crate::ast::QueryText> {
    c.expect(&Token::LParen)?;
    let query = c.until_matching_paren()?;
    Ok(query)
}

/// `[WITH] (option [value], …)` or the pre-9.0 forms `BINARY`, `CSV [HEADER]`,
/// `DELIMITER [AS] 'c'`, `NULL [AS] 's'`.
fn options(c: &mut Cursor) -> Result<CopyOptions> {
    let mut o = CopyOptions::default();
    c.eat_keyword("with");
    if c.eat(&Token::LParen) {
        loop {
            let name = c.ident()?;
            match name.as_str() {
                "format" => {
                    o.format = match c.ident()?.as_str() {
                        "text" => CopyFormat::Text,
                        "csv" => CopyFormat::Csv,
                        "binary" => CopyFormat::Binary,
                        other => {
                            return Err(c.error(format!("COPY format \"{other}\" not recognized")));
                        }
                    }
                }
                "header" => {
                    o.header = match c.peek() {
                        Some(Token::Comma) | Some(Token::RParen) => true,
                        _ => !matches!(
                            c.literal()?
                                .as_deref()
                                .map(str::to_ascii_lowercase)
                                .as_deref(),
                            Some("false" | "off" | "0")
                        ),
                    }
                }
                "delimiter" => o.delimiter = Some(c.string()?),
                "null" => o.null = Some(c.string()?),
                "quote" => o.quote = Some(c.string()?),
                "escape" => o.escape = Some(c.string()?),
                "encoding" => {
                    let e = c.string()?;
                    if !e.eq_ignore_ascii_case("utf8") && !e.eq_ignore_ascii_case("utf-8") {
                        return Err(c.error("COPY supports only UTF8 encoding"));
                    }
                }
                other => return Err(c.error(format!("option \"{other}\" not recognized"))),
            }
            if !c.eat(&Token::Comma) {
                break;
            }
        }
        c.expect(&Token::RParen)?;
        return Ok(o);
    }
    loop {
        if c.eat_keyword("binary") {
            o.format = CopyFormat::Binary;
        } else if c.eat_keyword("csv") {
            o.format = CopyFormat::Csv;
        } else if c.eat_keyword("header") {
            o.header = true;
        } else if c.eat_keyword("delimiter") {
            c.eat_keyword("as");
            o.delimiter = Some(c.string()?);
        } else if c.eat_keyword("null") {
            c.eat_keyword("as");
            o.null = Some(c.string()?);
        } else if c.eat_keyword("quote") {
            c.eat_keyword("as");
            o.quote = Some(c.string()?);
        } else {
            return Ok(o);
        }
    }
}
