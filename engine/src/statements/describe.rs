//! DESCRIBE [EXTENDED|FORMATTED] and SHOW CREATE TABLE, in Hive's layouts.

use tarn_catalog::{Column, StorageFormat, Table, stats_keys};
use tarn_sql::ObjectName;

use super::{load_table, string_rows};
use crate::error::Result;
use crate::output::Output;
use crate::session::Session;

type Row = Vec<Option<String>>;

fn column_row(c: &Column) -> Row {
    vec![
        Some(c.name.clone()),
        Some(c.hive_type.clone()),
        c.comment.clone(),
    ]
}

fn section(title: &str) -> [Row; 2] {
    [
        vec![Some(String::new()), None, None],
        vec![Some(title.to_string()), None, None],
    ]
}

fn info(label: &str, value: impl Into<String>) -> Row {
    vec![Some(format!("{label}:")), Some(value.into()), None]
}

pub(super) async fn describe(
    session: &Session,
    name: &ObjectName,
    extended: bool,
) -> Result<Output> {
    let table = load_table(session, name).await?;
    let mut rows: Vec<Row> = table
        .columns
        .iter()
        .chain(&table.partition_keys)
        .map(column_row)
        .collect();
    if !table.partition_keys.is_empty() {
        rows.extend(section("# Partition Information"));
        rows.push(vec![
            Some("# col_name".into()),
            Some("data_type".into()),
            Some("comment".into()),
        ]);
        rows.extend(table.partition_keys.iter().map(column_row));
    }
    if extended {
        rows.extend(detailed_info(&table));
    }
    string_rows(&["col_name", "data_type", "comment"], rows)
}

fn detailed_info(t: &Table) -> Vec<Row> {
    let mut rows: Vec<Row> = section("# Detailed Table Information").into();
    rows.push(info("Database", &t.database));
    rows.push(info("Table", &t.name));
    rows.push(info("Owner", t.owner.clone().unwrap_or_default()));
    rows.push(info("CreateTime", format_time(t.create_time)));
    rows.push(info("Location", &t.location));
    rows.push(info("Table Type", t.table_type.hive_name()));
    rows.push(vec![Some("Table Parameters:".into()), None, None]);
    for (k, v) in &t.parameters {
        rows.push(vec![Some(String::new()), Some(k.clone()), Some(v.clone())]);
    }
    rows.extend(section("# Storage Information"));
    rows.push(info("SerDe Library", t.format.serde_lib()));
    rows.push(info("InputFormat", t.format.input_format()));
    rows.push(info("OutputFormat", t.format.output_format()));
    if let StorageFormat::Csv { delimiter, header } = &t.format {
        rows.push(vec![Some("Storage Desc Params:".into()), None, None]);
        rows.push(vec![
            Some(String::new()),
            Some("field.delim".into()),
            Some(escape_char(*delimiter)),
        ]);
        rows.push(vec![
            Some(String::new()),
            Some("skip.header.line.count".into()),
            Some(if *header { "1" } else { "0" }.into()),
        ]);
    }
    rows
}

fn format_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn escape_char(b: u8) -> String {
    match b {
        b'\t' => "\\t".into(),
        b if b.is_ascii_graphic() || b == b' ' => (b as char).to_string(),
        b => format!("\\u{b:04x}"),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn column_ddl(c: &Column) -> String {
    match &c.comment {
        Some(comment) => format!("  `{}` {} COMMENT {}", c.name, c.hive_type, quote(comment)),
        None => format!("  `{}` {}", c.name, c.hive_type),
    }
}

/// Hive's SHOW CREATE TABLE text; tarn parses it back.
pub(crate) fn create_table_ddl(t: &Table) -> String {
    let mut out = format!("CREATE EXTERNAL TABLE `{}`.`{}`(\n", t.database, t.name);
    out.push_str(
        &t.columns
            .iter()
            .map(column_ddl)
            .collect::<Vec<_>>()
            .join(",\n"),
    );
    out.push(')');
    if let Some(comment) = t.comment() {
        out.push_str(&format!("\nCOMMENT {}", quote(comment)));
    }
    if !t.partition_keys.is_empty() {
        let keys = t
            .partition_keys
            .iter()
            .map(column_ddl)
            .collect::<Vec<_>>()
            .join(",\n");
        out.push_str(&format!("\nPARTITIONED BY (\n{keys})"));
    }
    let stored = match &t.format {
        StorageFormat::Csv { delimiter, .. } => format!(
            "\nROW FORMAT DELIMITED FIELDS TERMINATED BY {}\nSTORED AS CSV",
            quote(&escape_char(*delimiter))
        ),
        other => format!("\nSTORED AS {}", other.name()),
    };
    out.push_str(&stored);
    out.push_str(&format!("\nLOCATION {}", quote(&t.location)));
    let mut props: Vec<(String, String)> = t
        .parameters
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                stats_keys::COMMENT | stats_keys::EXTERNAL | stats_keys::LAST_DDL_TIME
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let StorageFormat::Csv { header: true, .. } = t.format {
        props.retain(|(k, _)| k != "skip.header.line.count");
        props.push(("skip.header.line.count".into(), "1".into()));
    }
    if !props.is_empty() {
        let body = props
            .iter()
            .map(|(k, v)| format!("  {}={}", quote(k), quote(v)))
            .collect::<Vec<_>>()
            .join(",\n");
        out.push_str(&format!("\nTBLPROPERTIES (\n{body})"));
    }
    out
}

pub(super) async fn show_create(session: &Session, name: &ObjectName) -> Result<Output> {
    let table = load_table(session, name).await?;
    string_rows(
        &["createtab_stmt"],
        vec![vec![Some(create_table_ddl(&table))]],
    )
}
