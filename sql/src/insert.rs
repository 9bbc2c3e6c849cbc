//! INSERT INTO / INSERT OVERWRITE, VACUUM and COPY … FROM.

use datafusion::sql::sqlparser::tokenizer::Token;

use crate::ast::{InsertStatement, Statement};
use crate::cursor::Cursor;
use crate::error::Result;

/// `INSERT INTO|OVERWRITE [TABLE] t [(cols)] [PARTITION (…)] <query>`.
pub(crate) fn insert(c: &mut Cursor) -> Result<Statement> {
    c.next();
    let overwrite = if c.eat_keyword("overwrite") {
        true
    } else {
        c.expect_keyword("into")?;
        false
    };
    c.eat_keyword("table");
    let table = c.object_name()?;
    let mut columns = Vec::new();
    let mut partition = Vec::new();
    loop {
        if c.eat_keyword("partition") {
            partition = partition_clause(c)?;
        } else if c.peek() == Some(&Token::LParen) && columns.is_empty() && !looks_like_query(c) {
            columns = ident_list(c)?;
        } else {
            break;
        }
    }
    let query = c.rest_as_query()?;
    Ok(Statement::Insert(InsertStatement {
        table,
        overwrite,
        columns,
        partition,
        query,
    }))
}

/// `(SELECT …)` or `(VALUES …)` after the table name is the query, not a column list.
fn looks_like_query(c: &Cursor) -> bool {
    ["select", "values", "with"]
        .iter()
        .any(|kw| crate::cursor::is_keyword(c.peek_nth(1), kw))
}

fn ident_list(c: &mut Cursor) -> Result<Vec<String>> {
    c.expect(&Token::LParen)?;
    let mut names = vec![c.ident()?];
    while c.eat(&Token::Comma) {
        names.push(c.ident()?);
    }
    c.expect(&Token::RParen)?;
    Ok(names)
}

/// `(k='v', k2, k3=NULL)`: static keys carry a value, dynamic ones none.
fn partition_clause(c: &mut Cursor) -> Result<Vec<(String, Option<Option<String>>)>> {
    c.expect(&Token::LParen)?;
    let mut keys = Vec::new();
    loop {
        let key = c.ident()?;
        let value = if c.eat(&Token::Eq) {
            Some(c.literal()?)
        } else {
            None
        };
        keys.push((key, value));
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    c.expect(&Token::RParen)?;
    Ok(keys)
}

/// `VACUUM t [RETAIN n HOURS]`.
pub(crate) fn vacuum(c: &mut Cursor) -> Result<Statement> {
    c.next();
    c.eat_keyword("table");
    let name = c.object_name()?;
    let retain_hours = if c.eat_keyword("retain") {
        let n = c.literal()?.unwrap_or_default();
        let hours: u64 = n
            .parse()
            .map_err(|_| c.error("expected a whole number of hours"))?;
        c.expect_keyword("hours")?;
        Some(hours)
    } else {
        None
    };
    c.expect_end()?;
    Ok(Statement::Vacuum { name, retain_hours })
}

/// `COPY t FROM 'location' [STORED AS fmt] [WITH HEADER ROW] [DELIMITER 'x']`; `None` for
/// DataFusion's `COPY … TO`.
pub(crate) fn copy_from(c: &mut Cursor) -> Result<Option<Statement>> {
    if let Some(stdio) = crate::copy::copy_stdio(c)? {
        return Ok(Some(stdio));
    }
    let is_from = matches!(c.peek_nth(1), Some(Token::Word(_)))
        && (crate::cursor::is_keyword(c.peek_nth(2), "from")
            || (c.peek_nth(2) == Some(&Token::Period)
                && crate::cursor::is_keyword(c.peek_nth(4), "from")));
    if !is_from {
        return Ok(None);
    }
    c.next();
    let name = c.object_name()?;
    c.expect_keyword("from")?;
    let location = c.string()?;
    let (mut stored_as, mut header, mut delimiter) = (None, false, None);
    while !c.at_end() {
        if c.eat_keywords(&["stored", "as"]) {
            stored_as = Some(c.ident()?.to_uppercase());
        } else if c.eat_keywords(&["with", "header", "row"]) {
            header = true;
        } else if c.eat_keyword("delimiter") {
            delimiter = Some(c.string()?);
        } else {
            return Err(c.error("expected STORED AS, WITH HEADER ROW or DELIMITER"));
        }
    }
    Ok(Some(Statement::CopyFrom {
        name,
        location,
        stored_as,
        header,
        delimiter,
    }))
}
