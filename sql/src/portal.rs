//! SQL-level cursors, as ODBC drivers and Tableau use them: `DECLARE … CURSOR FOR`, `FETCH`,
//! `MOVE`, `CLOSE`.

use datafusion::sql::sqlparser::tokenizer::Token;

use crate::ast::{FetchCount, Statement};
use crate::cursor::Cursor;
use crate::error::{Result, SqlError};

/// `DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH | WITHOUT} HOLD]
/// FOR query`.
pub(crate) fn declare(c: &mut Cursor) -> Result<Statement> {
    c.expect_keyword("declare")?;
    let name = c.ident()?;
    let binary = c.eat_keyword("binary");
    let _ = c.eat_keyword("asensitive") || c.eat_keyword("insensitive");
    let scroll = if c.eat_keywords(&["no", "scroll"]) {
        false
    } else {
        c.eat_keyword("scroll")
    };
    c.expect_keyword("cursor")?;
    let hold = if c.eat_keywords(&["with", "hold"]) {
        true
    } else {
        c.eat_keywords(&["without", "hold"]);
        false
    };
    c.expect_keyword("for")?;
    let query = c.rest_as_query()?;
    Ok(Statement::DeclareCursor {
        name,
        binary,
        scroll,
        hold,
        query,
    })
}

/// `FETCH | MOVE [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name`. Backward directions
/// need scrollable cursors, which tarn does not have.
pub(crate) fn fetch(c: &mut Cursor) -> Result<Statement> {
    let move_only = c.eat_keyword("move");
    if !move_only {
        c.expect_keyword("fetch")?;
    }
    let count = if c.eat_keyword("next") {
        FetchCount::Rows(1)
    } else if c.eat_keyword("forward") {
        count(c)?.unwrap_or(FetchCount::Rows(1))
    } else if ["prior", "backward", "first", "last", "absolute", "relative"]
        .iter()
        .any(|k| c.peek_keyword(k))
    {
        return Err(SqlError::NotSupported(
            "only forward fetching is supported (cursors are NO SCROLL)".into(),
        ));
    } else {
        count(c)?.unwrap_or(FetchCount::Rows(1))
    };
    let _ = c.eat_keyword("from") || c.eat_keyword("in");
    let name = c.ident()?;
    c.expect_end()?;
    Ok(Statement::Fetch {
        name,
        count,
        move_only,
    })
}

fn count(c: &mut Cursor) -> Result<Option<FetchCount>> {
    if c.eat_keyword("all") {
        return Ok(Some(FetchCount::All));
    }
    match c.peek() {
        Some(Token::Number(n, _)) => {
            let n = n
                .parse::<u64>()
                .map_err(|_| c.error("expected a row count"))?;
            c.next();
            Ok(Some(FetchCount::Rows(n)))
        }
        _ => Ok(None),
    }
}

/// `CLOSE name | ALL`.
pub(crate) fn close(c: &mut Cursor) -> Result<Statement> {
    c.expect_keyword("close")?;
    let name = if c.eat_keyword("all") {
        None
    } else {
        Some(c.ident()?)
    };
    c.expect_end()?;
    Ok(Statement::CloseCursor { name })
}

/// `DISCARD ALL | PLANS | SEQUENCES | TEMP | TEMPORARY`.
pub(crate) fn discard(c: &mut Cursor) -> Result<Statement> {
    c.expect_keyword("discard")?;
    let all = c.eat_keyword("all");
    if !all
        && !["plans", "sequences", "temp", "temporary"]
            .iter()
            .any(|k| c.eat_keyword(k))
    {
        return Err(c.error("expected ALL, PLANS, SEQUENCES or TEMP"));
    }
    c.expect_end()?;
    Ok(Statement::Discard { all })
}

#[cfg(test)]
mod tests {
    use crate::ast::{FetchCount, Statement};
    use crate::parse_statements;

    fn one(sql: &str) -> Statement {
        let mut s = parse_statements(sql).unwrap();
        assert_eq!(s.len(), 1);
        s.remove(0)
    }

    #[test]
    fn declare_fetch_move_close() {
        match one("DECLARE c1 NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM t WHERE x = 1") {
            Statement::DeclareCursor {
                name,
                hold,
                scroll,
                query,
                ..
            } => {
                assert_eq!(name, "c1");
                assert!(hold && !scroll);
                assert_eq!(query.sql, "SELECT * FROM t WHERE x = 1");
            }
            other => panic!("{other:?}"),
        }
        let cases = [
            ("FETCH 100 FROM c1", FetchCount::Rows(100), false),
            ("FETCH FORWARD 5 IN c1", FetchCount::Rows(5), false),
            ("FETCH NEXT FROM c1", FetchCount::Rows(1), false),
            ("FETCH c1", FetchCount::Rows(1), false),
            ("FETCH ALL c1", FetchCount::All, false),
            ("FETCH FORWARD ALL FROM c1", FetchCount::All, false),
            ("MOVE 10 IN c1", FetchCount::Rows(10), true),
        ];
        for (sql, expected, is_move) in cases {
            assert_eq!(
                one(sql),
                Statement::Fetch {
                    name: "c1".into(),
                    count: expected,
                    move_only: is_move
                },
                "{sql}"
            );
        }
        assert_eq!(one("CLOSE ALL"), Statement::CloseCursor { name: None });
        assert_eq!(
            one("close c1"),
            Statement::CloseCursor {
                name: Some("c1".into())
            }
        );
        assert!(parse_statements("FETCH BACKWARD 1 FROM c1").is_err());
        assert_eq!(one("DISCARD ALL"), Statement::Discard { all: true });
        assert_eq!(one("discard plans"), Statement::Discard { all: false });
        assert!(parse_statements("DISCARD everything").is_err());
        assert!(parse_statements("DECLARE c CURSOR").is_err());
    }
}
