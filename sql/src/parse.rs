//! Statement splitting and classification.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::ast::{CommentTarget, RepairMode, Statement};
use crate::cursor::{Cursor, is_keyword};
use crate::ddl;
use crate::error::{Result, SqlError};

/// Splits `sql` on top-level semicolons and classifies each non-empty statement.
pub fn parse_statements(sql: &str) -> Result<Vec<Statement>> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| SqlError::Syntax {
            message: e.message.clone(),
            line: e.location.line,
            column: e.location.column,
        })?;
    split(&tokens)
        .into_iter()
        .filter(|stmt| {
            stmt.iter()
                .any(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        })
        .map(classify)
        .collect()
}

fn split(tokens: &[TokenWithSpan]) -> Vec<&[TokenWithSpan]> {
    tokens.split(|t| t.token == Token::SemiColon).collect()
}

/// The SQL text of `tokens`. String literals are written back escaped: the tokenizer unescapes
/// them (`'it''s'` holds `it's`) and `Token`'s Display does not escape again.
fn text_of(tokens: &[TokenWithSpan]) -> String {
    let s: String = tokens.iter().map(|t| token_text(&t.token)).collect();
    s.trim().to_string()
}

fn token_text(token: &Token) -> String {
    match token {
        Token::SingleQuotedString(s) => format!("'{}'", s.replace('\'', "''")),
        Token::EscapedStringLiteral(s) => {
            format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        other => other.to_string(),
    }
}

fn classify(tokens: &[TokenWithSpan]) -> Result<Statement> {
    let mut c = Cursor::new(tokens);
    let first = c.peek();
    let stmt = if is_keyword(first, "create") {
        ddl::create(&mut c)?
    } else if is_keyword(first, "drop") {
        drop(&mut c)?
    } else if is_keyword(first, "alter") {
        ddl::alter_table(&mut c)?
    } else if is_keyword(first, "use") {
        c.next();
        let database = c.ident()?;
        c.expect_end()?;
        Some(Statement::Use { database })
    } else if is_keyword(first, "show") {
        show(&mut c)?
    } else if is_keyword(first, "describe") || is_keyword(first, "desc") {
        Some(describe(&mut c)?)
    } else if is_keyword(first, "truncate") {
        Some(truncate(&mut c)?)
    } else if is_keyword(first, "msck") {
        Some(msck(&mut c)?)
    } else if is_keyword(first, "comment") {
        Some(comment_on(&mut c)?)
    } else if (is_keyword(first, "set") || is_keyword(first, "reset"))
        && is_keyword(c.peek_nth(1), "tarn")
    {
        Some(set_tarn(&mut c)?)
    } else if is_keyword(first, "set") || is_keyword(first, "reset") {
        crate::session::set_or_reset(&mut c)?
    } else if [
        "begin",
        "start",
        "commit",
        "end",
        "rollback",
        "abort",
        "savepoint",
        "release",
    ]
    .iter()
    .any(|kw| is_keyword(first, kw))
    {
        crate::session::transaction(&mut c)?
    } else if is_keyword(first, "insert") {
        Some(crate::insert::insert(&mut c)?)
    } else if is_keyword(first, "vacuum") {
        Some(crate::insert::vacuum(&mut c)?)
    } else if is_keyword(first, "declare") {
        Some(crate::portal::declare(&mut c)?)
    } else if is_keyword(first, "fetch") || is_keyword(first, "move") {
        Some(crate::portal::fetch(&mut c)?)
    } else if is_keyword(first, "close") {
        Some(crate::portal::close(&mut c)?)
    } else if is_keyword(first, "discard") {
        Some(crate::portal::discard(&mut c)?)
    } else if crate::privileges::starts(first) {
        Some(if is_keyword(first, "grant") {
            crate::privileges::grant(&mut c)?
        } else {
            crate::privileges::revoke(&mut c)?
        })
    } else if is_keyword(first, "copy") {
        crate::insert::copy_from(&mut c)?
    } else {
        None
    };
    Ok(stmt.unwrap_or_else(|| {
        let start = tokens
            .iter()
            .find(|t| !matches!(t.token, Token::Whitespace(_)))
            .map(|t| (t.span.start.line, t.span.start.column))
            .unwrap_or((1, 1));
        Statement::DataFusion {
            sql: text_of(tokens),
            line: start.0,
            column: start.1,
        }
    }))
}

fn drop(c: &mut Cursor) -> Result<Option<Statement>> {
    c.next();
    if c.eat_keyword("database") || c.eat_keyword("schema") {
        let if_exists = c.eat_keywords(&["if", "exists"]);
        let name = c.ident()?;
        let cascade = c.eat_keyword("cascade");
        if !cascade {
            c.eat_keyword("restrict");
        }
        c.expect_end()?;
        return Ok(Some(Statement::DropDatabase {
            name,
            if_exists,
            cascade,
        }));
    }
    if c.eat_keyword("user") || c.eat_keyword("role") {
        return crate::session::drop_user(c).map(Some);
    }
    if c.eat_keyword("table") {
        let if_exists = c.eat_keywords(&["if", "exists"]);
        let name = c.object_name()?;
        // Postgres's CASCADE / RESTRICT are accepted: views name their tables in their text
        // (as in Hive), so no object depends on a table in a way a drop must follow.
        if !c.eat_keyword("cascade") {
            c.eat_keyword("restrict");
        }
        c.eat_keyword("purge");
        c.expect_end()?;
        return Ok(Some(Statement::DropTable { name, if_exists }));
    }
    Ok(None)
}

fn truncate(c: &mut Cursor) -> Result<Statement> {
    c.next();
    c.eat_keyword("table");
    let mut tables = Vec::new();
    loop {
        c.eat_keyword("only");
        tables.push(c.object_name()?);
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    if !c.eat_keywords(&["continue", "identity"]) {
        c.eat_keywords(&["restart", "identity"]);
    }
    if !c.eat_keyword("cascade") {
        c.eat_keyword("restrict");
    }
    c.expect_end()?;
    Ok(Statement::Truncate { tables })
}

fn like_pattern(c: &mut Cursor) -> Result<Option<String>> {
    if c.eat_keyword("like") {
        return Ok(Some(c.string()?));
    }
    // Hive also accepts a bare pattern string: SHOW TABLES 'ev*'.
    if matches!(c.peek(), Some(Token::SingleQuotedString(_))) {
        return Ok(Some(c.string()?));
    }
    Ok(None)
}

fn show(c: &mut Cursor) -> Result<Option<Statement>> {
    c.next();
    let stmt = if c.eat_keyword("databases") || c.eat_keyword("schemas") {
        Statement::ShowDatabases {
            pattern: like_pattern(c)?,
        }
    } else if c.eat_keyword("tables") {
        let database = if c.eat_keyword("in") || c.eat_keyword("from") {
            Some(c.ident()?)
        } else {
            None
        };
        Statement::ShowTables {
            database,
            pattern: like_pattern(c)?,
        }
    } else if c.eat_keyword("partitions") {
        let name = c.object_name()?;
        let partial = if c.eat_keyword("partition") {
            c.partition_spec()?
        } else {
            vec![]
        };
        Statement::ShowPartitions { name, partial }
    } else if c.eat_keywords(&["create", "table"]) {
        Statement::ShowCreateTable {
            name: c.object_name()?,
        }
    } else if c.eat_keyword("columns") {
        if !(c.eat_keyword("from") || c.eat_keyword("in")) {
            return Err(c.error("expected FROM or IN"));
        }
        let mut name = c.object_name()?;
        if c.eat_keyword("from") || c.eat_keyword("in") {
            name.database = Some(c.ident()?);
        }
        Statement::ShowColumns { name }
    } else {
        return crate::session::show_variable(c);
    };
    c.expect_end()?;
    Ok(Some(stmt))
}

fn set_tarn(c: &mut Cursor) -> Result<Statement> {
    let reset = c.eat_keyword("reset");
    if !reset {
        c.next();
    }
    c.expect_keyword("tarn")?;
    c.expect(&Token::Period)?;
    let name = format!("tarn.{}", c.ident()?);
    if reset {
        c.expect_end()?;
        return Ok(Statement::SetTarn { name, value: None });
    }
    if !(c.eat(&Token::Eq) || c.eat_keyword("to")) {
        return Err(c.error("expected = or TO"));
    }
    let value = c.literal()?;
    c.expect_end()?;
    Ok(Statement::SetTarn { name, value })
}

fn describe(c: &mut Cursor) -> Result<Statement> {
    c.next();
    let extended = c.eat_keyword("extended") || c.eat_keyword("formatted");
    c.eat_keyword("table");
    let name = c.object_name()?;
    c.expect_end()?;
    Ok(Statement::Describe { name, extended })
}

fn msck(c: &mut Cursor) -> Result<Statement> {
    c.next();
    c.expect_keyword("repair")?;
    c.expect_keyword("table")?;
    let name = c.object_name()?;
    let mode = if c.eat_keyword("add") {
        RepairMode::Add
    } else if c.eat_keyword("drop") {
        RepairMode::Drop
    } else if c.eat_keyword("sync") {
        RepairMode::Sync
    } else {
        c.expect_end()?;
        return Ok(Statement::MsckRepair {
            name,
            mode: RepairMode::Add,
        });
    };
    c.expect_keyword("partitions")?;
    c.expect_end()?;
    Ok(Statement::MsckRepair { name, mode })
}

fn comment_on(c: &mut Cursor) -> Result<Statement> {
    c.next();
    c.expect_keyword("on")?;
    let target = if c.eat_keyword("table") {
        CommentTarget::Table(c.object_name()?)
    } else if c.eat_keyword("column") {
        let mut parts = vec![c.ident()?];
        while c.eat(&Token::Period) {
            parts.push(c.ident()?);
        }
        let column = parts.pop().unwrap_or_default();
        let table = match parts.as_slice() {
            [t] => crate::ObjectName {
                database: None,
                name: t.clone(),
            },
            [d, t] => crate::ObjectName {
                database: Some(d.clone()),
                name: t.clone(),
            },
            [catalog, d, t] if catalog == crate::CATALOG => crate::ObjectName {
                database: Some(d.clone()),
                name: t.clone(),
            },
            _ => return Err(c.error("expected [[tarn.]database.]table.column")),
        };
        CommentTarget::Column { table, column }
    } else {
        return Err(c.error("expected TABLE or COLUMN"));
    };
    c.expect_keyword("is")?;
    let comment = c.literal()?;
    c.expect_end()?;
    Ok(Statement::CommentOn { target, comment })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod quoting_tests {
    use crate::ast::Statement;

    #[test]
    fn quotes_inside_strings_survive_splitting() {
        let statements = super::parse_statements(r"SELECT 'it''s', E'a\'b\\c'; SELECT 1").unwrap();
        let Statement::DataFusion { sql, .. } = &statements[0] else {
            panic!("{statements:?}")
        };
        assert_eq!(sql, r"SELECT 'it''s', E'a\'b\\c'");
    }
}
