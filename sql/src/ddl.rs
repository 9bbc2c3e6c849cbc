//! CREATE DATABASE, CREATE EXTERNAL TABLE (Hive and DataFusion forms) and ALTER TABLE.

use datafusion::sql::sqlparser::tokenizer::Token;

use crate::ast::{
    AlterTableAction, ColumnDef, CreateDatabase, ObjectName, Statement, TableDefinition,
};
use crate::cursor::Cursor;
use crate::error::{Result, SqlError};

/// CREATE …: returns `None` for forms DataFusion plans itself (CREATE VIEW, CREATE TABLE AS, …).
pub(crate) fn create(c: &mut Cursor) -> Result<Option<Statement>> {
    c.next();
    if c.eat_keyword("database") || c.eat_keyword("schema") {
        return create_database(c).map(Some);
    }
    if c.peek_keywords(&["unbounded", "external"]) {
        return Err(SqlError::NotSupported("UNBOUNDED EXTERNAL tables".into()));
    }
    if c.eat_keywords(&["external", "table"]) {
        return create_table(c, true).map(|t| Some(Statement::CreateTable(t)));
    }
    if c.eat_keyword("table") {
        return create_table(c, false).map(|t| Some(Statement::CreateTable(t)));
    }
    if c.peek_keyword("index") || c.peek_keywords(&["unique", "index"]) {
        return create_index(c).map(Some);
    }
    if c.eat_keyword("user") {
        return crate::session::create_user(c, true).map(Some);
    }
    if c.eat_keyword("role") {
        return crate::session::create_user(c, false).map(Some);
    }
    Ok(None)
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table [USING m] (…) …`;
/// only the table and uniqueness matter (the rest describes an index tarn does not build).
fn create_index(c: &mut Cursor) -> Result<Statement> {
    let unique = c.eat_keyword("unique");
    c.expect_keyword("index")?;
    c.eat_keyword("concurrently");
    c.eat_keywords(&["if", "not", "exists"]);
    if !c.peek_keyword("on") {
        c.ident()?;
    }
    c.expect_keyword("on")?;
    c.eat_keyword("only");
    let table = c.object_name()?;
    if c.eat_keyword("using") {
        c.ident()?;
    }
    c.expect(&Token::LParen)?;
    while c.peek().is_some() {
        c.next();
    }
    Ok(Statement::CreateIndex { table, unique })
}

fn create_database(c: &mut Cursor) -> Result<Statement> {
    let if_not_exists = c.eat_keywords(&["if", "not", "exists"]);
    let mut db = CreateDatabase {
        name: c.ident()?,
        if_not_exists,
        comment: None,
        location: None,
        properties: vec![],
    };
    while !c.at_end() {
        if c.eat_keyword("comment") {
            db.comment = Some(c.string()?);
        } else if c.eat_keyword("location") || c.eat_keywords(&["managedlocation"]) {
            db.location = Some(c.string()?);
        } else if c.eat_keywords(&["with", "dbproperties"]) {
            db.properties = c.properties()?;
        } else {
            return Err(c.error("expected COMMENT, LOCATION or WITH DBPROPERTIES"));
        }
    }
    Ok(Statement::CreateDatabase(db))
}

fn column_def(c: &mut Cursor, type_required: bool) -> Result<ColumnDef> {
    let name = c.ident()?;
    let data_type = if matches!(c.peek(), Some(Token::Comma | Token::RParen)) && !type_required {
        None
    } else {
        Some(strip_nullability(&c.type_text()?))
    };
    let comment = if c.eat_keyword("comment") {
        Some(c.string()?)
    } else {
        None
    };
    Ok(ColumnDef {
        name,
        data_type,
        comment,
    })
}

/// `bigint NOT NULL` → `bigint`: tarn columns are nullable, as Hive's are.
fn strip_nullability(t: &str) -> String {
    let lower = t.to_lowercase();
    for suffix in [" not null", " null"] {
        if lower.ends_with(suffix) {
            return t[..t.len() - suffix.len()].trim().to_string();
        }
    }
    t.to_string()
}

fn column_list(c: &mut Cursor, type_required: bool) -> Result<Vec<ColumnDef>> {
    c.expect(&Token::LParen)?;
    let mut cols = Vec::new();
    loop {
        cols.push(column_def(c, type_required)?);
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    c.expect(&Token::RParen)?;
    Ok(cols)
}

fn create_table(c: &mut Cursor, external: bool) -> Result<TableDefinition> {
    let mut t = TableDefinition {
        external,
        if_not_exists: c.eat_keywords(&["if", "not", "exists"]),
        name: Some(c.object_name()?),
        ..Default::default()
    };
    if c.peek() == Some(&Token::LParen) {
        t.columns = column_list(c, true)?;
    }
    while !c.at_end() {
        if !external && c.eat_keyword("as") {
            t.query = Some(c.rest_as_query()?);
            break;
        }
        external_table_clause(c, &mut t)?;
    }
    if external && t.location.is_none() {
        return Err(c.error("CREATE EXTERNAL TABLE needs a LOCATION"));
    }
    // Spark: CREATE TABLE … LOCATION makes an external table.
    t.external = t.external || t.location.is_some();
    if t.query.is_some() && !t.columns.is_empty() {
        return Err(SqlError::NotSupported(
            "a column list together with AS <query>".into(),
        ));
    }
    Ok(t)
}

fn external_table_clause(c: &mut Cursor, t: &mut TableDefinition) -> Result<()> {
    if c.eat_keyword("comment") {
        t.comment = Some(c.string()?);
    } else if c.eat_keywords(&["partitioned", "by"]) {
        t.partition_keys = column_list(c, false)?;
    } else if c.eat_keywords(&["row", "format"]) {
        row_format(c, t)?;
    } else if c.eat_keywords(&["stored", "as"]) || c.eat_keyword("using") {
        t.stored_as = Some(c.ident()?.to_uppercase());
    } else if c.eat_keyword("location") {
        t.location = Some(c.string()?);
    } else if c.eat_keyword("tblproperties") || c.eat_keyword("options") {
        t.properties.extend(c.properties()?);
    } else if c.eat_keywords(&["with", "header", "row"]) {
        t.header = Some(true);
    } else if c.eat_keyword("delimiter") {
        t.field_delimiter = Some(c.string()?);
    } else if c.peek_keywords(&["compression", "type"]) || c.peek_keywords(&["with", "order"]) {
        return Err(SqlError::NotSupported(
            "COMPRESSION TYPE and WITH ORDER on external tables".into(),
        ));
    } else {
        return Err(c.error(
            "expected COMMENT, PARTITIONED BY, ROW FORMAT, STORED AS, LOCATION, TBLPROPERTIES or OPTIONS",
        ));
    }
    Ok(())
}

fn row_format(c: &mut Cursor, t: &mut TableDefinition) -> Result<()> {
    if c.eat_keyword("serde") {
        let serde = c.string()?;
        t.properties.push(("serde".into(), serde));
        if c.eat_keywords(&["with", "serdeproperties"]) {
            t.properties.extend(c.properties()?);
        }
        return Ok(());
    }
    c.expect_keyword("delimited")?;
    loop {
        if c.eat_keywords(&["fields", "terminated", "by"]) {
            t.field_delimiter = Some(c.string()?);
        } else if c.eat_keywords(&["escaped", "by"]) {
            t.properties.push(("escape.delim".into(), c.string()?));
        } else if c.eat_keywords(&["lines", "terminated", "by"]) {
            let lines = c.string()?;
            if lines != "\n" && lines != "\\n" {
                return Err(SqlError::NotSupported(
                    "line terminators other than '\\n'".into(),
                ));
            }
        } else if c.eat_keywords(&["null", "defined", "as"]) {
            t.properties
                .push(("serialization.null.format".into(), c.string()?));
        } else {
            return Ok(());
        }
    }
}

/// ALTER TABLE name ADD/DROP PARTITION, SET/UNSET TBLPROPERTIES, [PARTITION (…)] SET LOCATION.
pub(crate) fn alter_table(c: &mut Cursor) -> Result<Option<Statement>> {
    c.next();
    if c.eat_keyword("user") || c.eat_keyword("role") {
        return crate::session::alter_user(c).map(Some);
    }
    if c.eat_keywords(&["default", "privileges"]) {
        return crate::privileges::alter_default_privileges(c).map(Some);
    }
    if c.eat_keyword("schema") || c.eat_keyword("database") {
        let name = c.ident()?;
        if c.eat_keyword("owner") {
            let owner = crate::privileges::owner_to(c)?;
            return Ok(Some(Statement::AlterOwner {
                object: crate::ast::OwnedObject::Schema(name),
                owner,
            }));
        }
        return Err(c.error("expected OWNER TO"));
    }
    if c.peek_keywords(&["view"]) && c.peek_after_name("rename") {
        c.next();
        let name = c.object_name()?;
        return rename(c, name).map(Some);
    }
    if c.peek_keywords(&["view"]) && c.peek_owner_to() {
        c.next();
        let name = c.object_name()?;
        c.next();
        let owner = crate::privileges::owner_to(c)?;
        return Ok(Some(Statement::AlterOwner {
            object: crate::ast::OwnedObject::Table(name),
            owner,
        }));
    }
    if !c.eat_keyword("table") {
        return Ok(None);
    }
    let name = c.object_name()?;
    if c.eat_keyword("owner") {
        let owner = crate::privileges::owner_to(c)?;
        return Ok(Some(Statement::AlterOwner {
            object: crate::ast::OwnedObject::Table(name),
            owner,
        }));
    }
    if c.peek_keyword("rename") {
        return rename(c, name).map(Some);
    }
    let action = if c.eat_keyword("add") {
        let if_not_exists = c.eat_keywords(&["if", "not", "exists"]);
        let mut partitions = Vec::new();
        while c.eat_keyword("partition") {
            let spec = c.partition_spec()?;
            let location = if c.eat_keyword("location") {
                Some(c.string()?)
            } else {
                None
            };
            partitions.push((spec, location));
        }
        if partitions.is_empty() {
            return Err(c.error("expected PARTITION"));
        }
        AlterTableAction::AddPartitions {
            if_not_exists,
            partitions,
        }
    } else if c.eat_keyword("drop") {
        let if_exists = c.eat_keywords(&["if", "exists"]);
        let mut partitions = Vec::new();
        loop {
            c.expect_keyword("partition")?;
            partitions.push(c.partition_spec()?);
            if !c.eat(&Token::Comma) {
                break;
            }
        }
        c.eat_keyword("purge");
        AlterTableAction::DropPartitions {
            if_exists,
            partitions,
        }
    } else if c.eat_keywords(&["set", "tblproperties"]) {
        AlterTableAction::SetProperties(c.properties()?)
    } else if c.eat_keywords(&["unset", "tblproperties"]) {
        let if_exists = c.eat_keywords(&["if", "exists"]);
        AlterTableAction::UnsetProperties {
            if_exists,
            keys: string_list(c)?,
        }
    } else if c.eat_keywords(&["set", "location"]) {
        AlterTableAction::SetLocation {
            partition: None,
            location: c.string()?,
        }
    } else if c.eat_keyword("partition") {
        let spec = c.partition_spec()?;
        c.expect_keywords_set_location()?;
        AlterTableAction::SetLocation {
            partition: Some(spec),
            location: c.string()?,
        }
    } else {
        return Err(SqlError::NotSupported(format!(
            "this form of ALTER TABLE {name} (supported: ADD/DROP PARTITION, SET/UNSET TBLPROPERTIES, SET LOCATION)"
        )));
    };
    c.expect_end()?;
    Ok(Some(Statement::AlterTable { name, action }))
}

/// `RENAME TO [database.]name` (Postgres takes a bare name; Hive may move the table).
fn rename(c: &mut Cursor, name: ObjectName) -> Result<Statement> {
    c.expect_keyword("rename")?;
    c.expect_keyword("to")?;
    let to = c.object_name()?;
    c.expect_end()?;
    Ok(Statement::AlterTable {
        name,
        action: AlterTableAction::Rename { to },
    })
}

impl Cursor<'_> {
    fn expect_keywords_set_location(&mut self) -> Result<()> {
        if self.eat_keywords(&["set", "location"]) {
            Ok(())
        } else {
            Err(self.error("expected SET LOCATION"))
        }
    }
}

/// `('a', 'b', …)`.
fn string_list(c: &mut Cursor) -> Result<Vec<String>> {
    c.expect(&Token::LParen)?;
    let mut items = vec![c.string()?];
    while c.eat(&Token::Comma) {
        items.push(c.string()?);
    }
    c.expect(&Token::RParen)?;
    Ok(items)
}
