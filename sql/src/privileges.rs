//! GRANT / REVOKE (privileges and role membership), ALTER DEFAULT PRIVILEGES and
//! `… OWNER TO`, in PostgreSQL's syntax. Privilege names are checked by the engine, which knows
//! which apply to which object.

use datafusion::sql::sqlparser::tokenizer::Token;

use crate::ast::{GrantObject, PrivilegeList, RoleSpec, Statement};
use crate::cursor::{Cursor, is_keyword};
use crate::error::Result;

/// `GRANT …` (the cursor is at GRANT).
pub(crate) fn grant(c: &mut Cursor) -> Result<Statement> {
    c.next();
    let items = privilege_items(c)?;
    if c.eat_keyword("on") {
        let privileges = to_privileges(c, items)?;
        let object = grant_object(c)?;
        c.expect_keyword("to")?;
        let grantees = role_specs(c)?;
        let with_grant_option = c.eat_keywords(&["with", "grant", "option"]);
        granted_by(c)?;
        c.expect_end()?;
        return Ok(Statement::Grant {
            privileges,
            object,
            grantees,
            with_grant_option,
        });
    }
    let roles = role_names(c, items)?;
    c.expect_keyword("to")?;
    let members = role_specs(c)?;
    let admin_option = c.eat_keywords(&["with", "admin", "option"]);
    granted_by(c)?;
    c.expect_end()?;
    Ok(Statement::GrantRole {
        roles,
        members,
        admin_option,
    })
}

/// `REVOKE …` (the cursor is at REVOKE).
pub(crate) fn revoke(c: &mut Cursor) -> Result<Statement> {
    c.next();
    let grant_option_for = c.eat_keywords(&["grant", "option", "for"]);
    let admin_option_for = !grant_option_for && c.eat_keywords(&["admin", "option", "for"]);
    let items = privilege_items(c)?;
    if !admin_option_for && c.eat_keyword("on") {
        let privileges = to_privileges(c, items)?;
        let object = grant_object(c)?;
        c.expect_keyword("from")?;
        let grantees = role_specs(c)?;
        granted_by(c)?;
        let cascade = cascade(c);
        c.expect_end()?;
        return Ok(Statement::Revoke {
            privileges,
            object,
            grantees,
            grant_option_for,
            cascade,
        });
    }
    let roles = role_names(c, items)?;
    c.expect_keyword("from")?;
    let members = role_specs(c)?;
    granted_by(c)?;
    cascade(c);
    c.expect_end()?;
    Ok(Statement::RevokeRole {
        roles,
        members,
        admin_option_for,
    })
}

/// `ALTER DEFAULT PRIVILEGES [FOR ROLE r, …] [IN SCHEMA s, …] GRANT … ON TABLES TO … | REVOKE …`
/// (after ALTER DEFAULT PRIVILEGES).
pub(crate) fn alter_default_privileges(c: &mut Cursor) -> Result<Statement> {
    let mut for_roles = Vec::new();
    let mut schemas = Vec::new();
    loop {
        if c.eat_keyword("for") {
            if !(c.eat_keyword("role") || c.eat_keyword("user")) {
                return Err(c.error("expected ROLE or USER"));
            }
            for_roles = names(c)?;
        } else if c.eat_keywords(&["in", "schema"]) {
            schemas = names(c)?;
        } else {
            break;
        }
    }
    let grant = if c.eat_keyword("grant") {
        true
    } else if c.eat_keyword("revoke") {
        false
    } else {
        return Err(c.error("expected GRANT or REVOKE"));
    };
    let grant_option_for = !grant && c.eat_keywords(&["grant", "option", "for"]);
    let items = privilege_items(c)?;
    let privileges = to_privileges(c, items)?;
    c.expect_keyword("on")?;
    if !c.eat_keyword("tables") {
        return Err(crate::error::SqlError::NotSupported(
            "default privileges on objects other than TABLES (tarn has no sequences, functions or types of its own)"
                .into(),
        ));
    }
    c.expect_keyword(if grant { "to" } else { "from" })?;
    let grantees = role_specs(c)?;
    let with_grant_option = grant && c.eat_keywords(&["with", "grant", "option"]);
    if !grant {
        cascade(c);
    }
    c.expect_end()?;
    Ok(Statement::AlterDefaultPrivileges {
        for_roles,
        schemas,
        grant,
        privileges,
        grantees,
        grant_option: with_grant_option || grant_option_for,
    })
}

/// `OWNER TO role` (after the object's name).
pub(crate) fn owner_to(c: &mut Cursor) -> Result<RoleSpec> {
    c.expect_keyword("to")?;
    let role = role_spec(c)?;
    c.expect_end()?;
    Ok(role)
}

/// `name [(col, …)], …` up to ON / TO / FROM.
fn privilege_items(c: &mut Cursor) -> Result<Vec<(String, Vec<String>)>> {
    let mut items = Vec::new();
    loop {
        let mut name = c.ident()?;
        if name == "all" && c.eat_keyword("privileges") {
            name = "all".into();
        }
        let columns = if c.eat(&Token::LParen) {
            let cols = names(c)?;
            c.expect(&Token::RParen)?;
            cols
        } else {
            vec![]
        };
        items.push((name, columns));
        if !c.eat(&Token::Comma) {
            return Ok(items);
        }
    }
}

fn to_privileges(c: &Cursor, items: Vec<(String, Vec<String>)>) -> Result<PrivilegeList> {
    if let [(name, columns)] = items.as_slice()
        && name == "all"
    {
        return Ok(PrivilegeList::All {
            columns: columns.clone(),
        });
    }
    if items.iter().any(|(name, _)| name == "all") {
        return Err(c.error("ALL cannot be combined with other privileges"));
    }
    Ok(PrivilegeList::Named(items))
}

fn role_names(c: &Cursor, items: Vec<(String, Vec<String>)>) -> Result<Vec<String>> {
    items
        .into_iter()
        .map(|(name, columns)| {
            if columns.is_empty() {
                Ok(name)
            } else {
                Err(c.error("expected ON"))
            }
        })
        .collect()
}

/// `[TABLE] t, … | ALL TABLES IN SCHEMA s, … | SCHEMA s, … | DATABASE d, …`.
fn grant_object(c: &mut Cursor) -> Result<GrantObject> {
    if c.eat_keywords(&["all", "tables", "in", "schema"]) {
        return Ok(GrantObject::AllTablesInSchema(names(c)?));
    }
    if c.eat_keyword("schema") {
        return Ok(GrantObject::Schemas(names(c)?));
    }
    if c.eat_keyword("database") {
        return Ok(GrantObject::Databases(names(c)?));
    }
    if c.peek_keywords(&["function"])
        || c.peek_keywords(&["sequence"])
        || c.peek_keywords(&["all", "sequences"])
        || c.peek_keywords(&["all", "functions"])
        || c.peek_keywords(&["type"])
        || c.peek_keywords(&["language"])
        || c.peek_keywords(&["tablespace"])
        || c.peek_keywords(&["foreign"])
        || c.peek_keywords(&["large"])
    {
        return Err(crate::error::SqlError::NotSupported(
            "privileges on objects other than tables, views, schemas and the database".into(),
        ));
    }
    c.eat_keyword("table");
    let mut tables = vec![c.object_name()?];
    while c.eat(&Token::Comma) {
        tables.push(c.object_name()?);
    }
    Ok(GrantObject::Tables(tables))
}

fn role_spec(c: &mut Cursor) -> Result<RoleSpec> {
    let unquoted = |kw: &str| matches!(c.peek(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw));
    let spec = if unquoted("public") {
        RoleSpec::Public
    } else if unquoted("current_user") || unquoted("current_role") {
        RoleSpec::CurrentUser
    } else if unquoted("session_user") {
        RoleSpec::SessionUser
    } else {
        c.eat_keyword("group");
        return Ok(RoleSpec::Name(c.ident()?));
    };
    c.next();
    Ok(spec)
}

fn role_specs(c: &mut Cursor) -> Result<Vec<RoleSpec>> {
    let mut specs = vec![role_spec(c)?];
    while c.eat(&Token::Comma) {
        specs.push(role_spec(c)?);
    }
    Ok(specs)
}

fn names(c: &mut Cursor) -> Result<Vec<String>> {
    let mut names = vec![c.ident()?];
    while c.eat(&Token::Comma) {
        names.push(c.ident()?);
    }
    Ok(names)
}

/// `GRANTED BY role` is accepted only as the current user (as PostgreSQL before 16 did).
fn granted_by(c: &mut Cursor) -> Result<()> {
    if c.eat_keywords(&["granted", "by"]) {
        let who = role_spec(c)?;
        if who != RoleSpec::CurrentUser {
            return Err(crate::error::SqlError::NotSupported(
                "GRANTED BY another role".into(),
            ));
        }
    }
    Ok(())
}

fn cascade(c: &mut Cursor) -> bool {
    if c.eat_keyword("cascade") {
        return true;
    }
    c.eat_keyword("restrict");
    false
}

/// Whether the statement starts a privilege statement this module parses.
pub(crate) fn starts(first: Option<&Token>) -> bool {
    is_keyword(first, "grant") || is_keyword(first, "revoke")
}

#[cfg(test)]
mod tests {
    use crate::ast::{GrantObject, PrivilegeList, RoleSpec, Statement};
    use crate::parse_statements;

    fn one(sql: &str) -> Statement {
        parse_statements(sql).unwrap().remove(0)
    }

    #[test]
    fn grants_on_tables_schemas_and_columns() {
        let Statement::Grant {
            privileges,
            object,
            grantees,
            with_grant_option,
        } = one("GRANT SELECT (a, b), INSERT ON TABLE s.t, u TO alice, PUBLIC WITH GRANT OPTION")
        else {
            panic!()
        };
        assert_eq!(
            privileges,
            PrivilegeList::Named(vec![
                ("select".into(), vec!["a".into(), "b".into()]),
                ("insert".into(), vec![])
            ])
        );
        let GrantObject::Tables(tables) = object else {
            panic!()
        };
        assert_eq!(tables.len(), 2);
        assert_eq!(
            grantees,
            vec![RoleSpec::Name("alice".into()), RoleSpec::Public]
        );
        assert!(with_grant_option);
        assert!(matches!(
            one("GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA raw TO etl"),
            Statement::Grant {
                privileges: PrivilegeList::All { .. },
                object: GrantObject::AllTablesInSchema(_),
                ..
            }
        ));
        assert!(matches!(
            one("REVOKE GRANT OPTION FOR USAGE ON SCHEMA raw FROM etl CASCADE"),
            Statement::Revoke {
                grant_option_for: true,
                cascade: true,
                object: GrantObject::Schemas(_),
                ..
            }
        ));
        assert!(matches!(
            one("GRANT CONNECT ON DATABASE tarn TO \"Bob\""),
            Statement::Grant {
                object: GrantObject::Databases(_),
                ..
            }
        ));
    }

    #[test]
    fn role_membership_and_defaults() {
        assert_eq!(
            one("GRANT analysts, etl TO alice WITH ADMIN OPTION"),
            Statement::GrantRole {
                roles: vec!["analysts".into(), "etl".into()],
                members: vec![RoleSpec::Name("alice".into())],
                admin_option: true
            }
        );
        assert_eq!(
            one("REVOKE ADMIN OPTION FOR analysts FROM alice"),
            Statement::RevokeRole {
                roles: vec!["analysts".into()],
                members: vec![RoleSpec::Name("alice".into())],
                admin_option_for: true
            }
        );
        let Statement::AlterDefaultPrivileges {
            for_roles,
            schemas,
            grant,
            ..
        } = one(
            "ALTER DEFAULT PRIVILEGES FOR ROLE etl IN SCHEMA clean GRANT SELECT ON TABLES TO analysts",
        )
        else {
            panic!()
        };
        assert_eq!(
            (for_roles, schemas, grant),
            (vec!["etl".into()], vec!["clean".into()], true)
        );
        assert!(parse_statements("GRANT EXECUTE ON FUNCTION f() TO a").is_err());
        assert!(parse_statements("GRANT SELECT, ALL ON t TO a").is_err());
    }
}
