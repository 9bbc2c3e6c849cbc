//! Session statements of the Postgres dialect: SET / RESET / SHOW of settings, transaction
//! control, and user management. They change session state (or the user list), never data.

use datafusion::sql::sqlparser::tokenizer::Token;

use crate::ast::{Statement, TransactionStatement, UserOption};
use crate::cursor::{Cursor, is_keyword};
use crate::error::Result;

/// `SET …` / `RESET …` of anything but DataFusion's own `datafusion.*` options.
pub(crate) fn set_or_reset(c: &mut Cursor) -> Result<Option<Statement>> {
    if is_keyword(c.peek_nth(1), "datafusion") {
        return Ok(None);
    }
    if c.eat_keyword("reset") {
        let name = if c.eat_keyword("all") {
            None
        } else {
            Some(setting_name(c)?)
        };
        c.expect_end()?;
        return Ok(Some(match name {
            Some(name) => Statement::SetVariable { name, value: None },
            None => Statement::ResetAll,
        }));
    }
    c.expect_keyword("set")?;
    if !c.eat_keyword("session") {
        c.eat_keyword("local");
    }
    let statement = if is_keyword(c.peek(), "role")
        && !matches!(c.peek_nth(1), Some(Token::Eq))
        && !is_keyword(c.peek_nth(1), "to")
    {
        // SET ROLE name | NONE: the role whose privileges the session uses.
        c.next();
        let value = if c.eat_keyword("none") {
            None
        } else {
            Some(match c.peek() {
                Some(Token::SingleQuotedString(_)) => c.string()?,
                _ => c.ident()?,
            })
        };
        Statement::SetVariable {
            name: "role".into(),
            value,
        }
    } else if c.eat_keywords(&["time", "zone"]) {
        let value = if c.eat_keyword("local") || c.eat_keyword("default") {
            None
        } else {
            Some(value_list(c)?)
        };
        Statement::SetVariable {
            name: "timezone".into(),
            value,
        }
    } else if c.eat_keyword("names") {
        Statement::SetVariable {
            name: "client_encoding".into(),
            value: Some(value_list(c)?),
        }
    } else if c.eat_keyword("transaction") {
        return transaction_modes(c).map(|modes| Some(modes.into_set("transaction_")));
    } else if c.eat_keywords(&["characteristics", "as", "transaction"]) {
        return transaction_modes(c).map(|modes| Some(modes.into_set("default_transaction_")));
    } else {
        let name = setting_name(c)?;
        if !(c.eat(&Token::Eq) || c.eat_keyword("to")) {
            return Err(c.error("expected = or TO"));
        }
        let value = if c.eat_keyword("default") {
            None
        } else {
            Some(value_list(c)?)
        };
        Statement::SetVariable { name, value }
    };
    c.expect_end()?;
    Ok(Some(statement))
}

/// `SHOW <setting>` / `SHOW ALL` / `SHOW TRANSACTION ISOLATION LEVEL` (not `datafusion.*`).
pub(crate) fn show_variable(c: &mut Cursor) -> Result<Option<Statement>> {
    if is_keyword(c.peek(), "datafusion") {
        return Ok(None);
    }
    let name = if c.eat_keyword("all") {
        None
    } else if c.eat_keywords(&["transaction", "isolation", "level"]) {
        Some("transaction_isolation".to_string())
    } else if c.eat_keywords(&["time", "zone"]) {
        Some("timezone".to_string())
    } else {
        Some(setting_name(c)?)
    };
    c.expect_end()?;
    Ok(Some(Statement::ShowVariable { name }))
}

/// A setting name, possibly dotted (`tarn.batch_id`), lower-cased.
fn setting_name(c: &mut Cursor) -> Result<String> {
    let mut name = c.ident()?.to_lowercase();
    while c.eat(&Token::Period) {
        name.push('.');
        name.push_str(&c.ident()?.to_lowercase());
    }
    Ok(name)
}

/// `value [, value …]` joined with ", " as PostgreSQL shows list settings (search_path).
fn value_list(c: &mut Cursor) -> Result<String> {
    let mut values = Vec::new();
    loop {
        let value = match c.peek() {
            Some(Token::Word(w)) if w.quote_style == Some('"') => {
                c.next();
                format!("\"{}\"", w.value)
            }
            _ => c
                .literal()?
                .ok_or_else(|| c.error("NULL is not a setting value"))?,
        };
        values.push(value);
        if !c.eat(&Token::Comma) {
            return Ok(values.join(", "));
        }
    }
}

/// The modes of BEGIN / SET TRANSACTION.
#[derive(Debug, Default)]
struct TransactionModes {
    isolation: Option<String>,
    read_only: Option<bool>,
}

impl TransactionModes {
    /// SET TRANSACTION … (`prefix` "transaction_") or SET SESSION CHARACTERISTICS AS
    /// TRANSACTION … ("default_transaction_") as one setting. The access mode wins when both
    /// are given: tarn has one isolation level, so only READ ONLY changes behaviour.
    fn into_set(self, prefix: &str) -> Statement {
        match (self.read_only, self.isolation) {
            (Some(read_only), _) => Statement::SetVariable {
                name: format!("{prefix}read_only"),
                value: Some(if read_only { "on" } else { "off" }.into()),
            },
            (None, isolation) => Statement::SetVariable {
                name: format!("{prefix}isolation"),
                value: isolation,
            },
        }
    }
}

/// `[ISOLATION LEVEL <level>] [READ ONLY | READ WRITE] [[NOT] DEFERRABLE]`, comma-separated.
fn transaction_modes(c: &mut Cursor) -> Result<TransactionModes> {
    let mut modes = TransactionModes::default();
    while !c.at_end() {
        if c.eat_keywords(&["isolation", "level"]) {
            let level = if c.eat_keyword("serializable") {
                "serializable"
            } else if c.eat_keywords(&["repeatable", "read"]) {
                "repeatable read"
            } else if c.eat_keywords(&["read", "committed"]) {
                "read committed"
            } else if c.eat_keywords(&["read", "uncommitted"]) {
                "read uncommitted"
            } else {
                return Err(c.error("expected an isolation level"));
            };
            modes.isolation = Some(level.to_string());
        } else if c.eat_keywords(&["read", "only"]) {
            modes.read_only = Some(true);
        } else if c.eat_keywords(&["read", "write"]) {
            modes.read_only = Some(false);
        } else if !(c.eat_keyword("deferrable") || c.eat_keywords(&["not", "deferrable"])) {
            return Err(c.error("expected a transaction mode"));
        }
        c.eat(&Token::Comma);
    }
    Ok(modes)
}

/// BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK [TO SAVEPOINT], ABORT, SAVEPOINT, RELEASE.
pub(crate) fn transaction(c: &mut Cursor) -> Result<Option<Statement>> {
    let work = |c: &mut Cursor| {
        let _ = c.eat_keyword("work") || c.eat_keyword("transaction");
    };
    let statement = if c.eat_keyword("begin") {
        work(c);
        TransactionStatement::Begin {
            read_only: transaction_modes(c)?.read_only,
        }
    } else if c.eat_keywords(&["start", "transaction"]) {
        TransactionStatement::Begin {
            read_only: transaction_modes(c)?.read_only,
        }
    } else if c.eat_keyword("commit") || c.eat_keyword("end") {
        work(c);
        c.eat_keywords(&["and", "no", "chain"]);
        TransactionStatement::Commit
    } else if c.eat_keyword("rollback") || c.eat_keyword("abort") {
        work(c);
        if c.eat_keyword("to") {
            c.eat_keyword("savepoint");
            TransactionStatement::RollbackTo(c.ident()?)
        } else {
            c.eat_keywords(&["and", "no", "chain"]);
            TransactionStatement::Rollback
        }
    } else if c.eat_keyword("savepoint") {
        TransactionStatement::Savepoint(c.ident()?)
    } else if c.eat_keyword("release") {
        c.eat_keyword("savepoint");
        TransactionStatement::Release(c.ident()?)
    } else {
        return Ok(None);
    };
    c.expect_end()?;
    Ok(Some(Statement::Transaction(statement)))
}

/// `CREATE USER|ROLE name [WITH] option …` (after CREATE USER|ROLE).
pub(crate) fn create_user(c: &mut Cursor, login_by_default: bool) -> Result<Statement> {
    let if_not_exists = c.eat_keywords(&["if", "not", "exists"]);
    let name = c.ident()?;
    let options = user_options(c)?;
    Ok(Statement::CreateUser {
        name,
        if_not_exists,
        options,
        login_by_default,
    })
}

/// `ALTER USER|ROLE name [WITH] option …` (after ALTER USER).
pub(crate) fn alter_user(c: &mut Cursor) -> Result<Statement> {
    let name = c.ident()?;
    let options = user_options(c)?;
    Ok(Statement::AlterUser { name, options })
}

/// `DROP USER|ROLE [IF EXISTS] name` (after DROP USER).
pub(crate) fn drop_user(c: &mut Cursor) -> Result<Statement> {
    let if_exists = c.eat_keywords(&["if", "exists"]);
    let name = c.ident()?;
    c.expect_end()?;
    Ok(Statement::DropUser { name, if_exists })
}

/// A role attribute that is a plain flag: (keyword, its negation, the option it sets).
type Flag = (&'static str, &'static str, fn(bool) -> UserOption);

const FLAGS: &[Flag] = &[
    ("superuser", "nosuperuser", UserOption::Superuser),
    ("login", "nologin", UserOption::Login),
    ("createrole", "nocreaterole", UserOption::CreateRole),
    ("inherit", "noinherit", UserOption::Inherit),
];

/// Attributes PostgreSQL has that mean nothing in tarn (no databases to create, no
/// replication, no row-level security): accepted and ignored.
const IGNORED: &[&str] = &[
    "createdb",
    "nocreatedb",
    "replication",
    "noreplication",
    "bypassrls",
    "nobypassrls",
];

fn user_options(c: &mut Cursor) -> Result<Vec<UserOption>> {
    c.eat_keyword("with");
    let mut options = Vec::new();
    'next: while !c.at_end() {
        if c.eat_keyword("password") || c.eat_keywords(&["encrypted", "password"]) {
            options.push(UserOption::Password(c.literal()?));
            continue;
        }
        for (yes, no, option) in FLAGS {
            if c.eat_keyword(yes) {
                options.push(option(true));
                continue 'next;
            }
            if c.eat_keyword(no) {
                options.push(option(false));
                continue 'next;
            }
        }
        if IGNORED.iter().any(|kw| c.eat_keyword(kw)) {
            continue;
        }
        if c.eat_keywords(&["in", "role"]) || c.eat_keywords(&["in", "group"]) {
            options.push(UserOption::InRole(role_list(c)?));
        } else if c.eat_keyword("role") || c.eat_keyword("user") {
            options.push(UserOption::Members(role_list(c)?));
        } else if c.eat_keywords(&["connection", "limit"]) {
            c.literal()?;
        } else if c.peek_keywords(&["valid", "until"]) || c.peek_keyword("admin") {
            return Err(crate::error::SqlError::NotSupported(
                "VALID UNTIL and ADMIN role options".into(),
            ));
        } else {
            return Err(c.error(
                "expected PASSWORD, [NO]SUPERUSER, [NO]LOGIN, [NO]CREATEROLE, [NO]INHERIT, IN ROLE or ROLE",
            ));
        }
    }
    Ok(options)
}

fn role_list(c: &mut Cursor) -> Result<Vec<String>> {
    let mut names = vec![c.ident()?];
    while c.eat(&Token::Comma) {
        names.push(c.ident()?);
    }
    Ok(names)
}
