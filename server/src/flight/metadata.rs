//! Flight SQL metadata: catalogs, schemas, tables, table types, SqlInfo, XDBC type info and
//! (empty) key listings, read from the live catalog through the engine on every call, so they
//! agree with what queries see.

use std::sync::{Arc, LazyLock};

use arrow_flight::sql::metadata::{
    GetCatalogsBuilder, GetTablesBuilder, SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo,
    XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    CommandGetDbSchemas, CommandGetTables, Nullable, Searchable, SqlInfo, SqlNullOrdering,
    SqlSupportedCaseSensitivity, SqlSupportedTransaction, SupportedSqlGrammar, XdbcDataType,
};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use tarn_engine::introspect::RelationKind;
use tarn_engine::provider::CATALOG_NAME;
use tarn_engine::{ErrorKind, Session};
use tonic::Status;

use super::status::{self, status};
use super::stream::wire_schema;

fn arrow_status(e: impl std::fmt::Display) -> Status {
    status(ErrorKind::Internal, e.to_string())
}

/// The one catalog: tarn's.
pub fn catalogs() -> Result<RecordBatch, Status> {
    let mut builder = GetCatalogsBuilder::new();
    builder.append(CATALOG_NAME);
    builder.build().map_err(arrow_status)
}

/// Schemas (tarn databases) matching the command's filters.
pub async fn schemas(
    session: &Session,
    command: CommandGetDbSchemas,
) -> Result<RecordBatch, Status> {
    let mut builder = command.into_builder();
    for schema in session
        .list_schemas()
        .await
        .map_err(|e| status::from_engine(&e))?
    {
        builder.append(CATALOG_NAME, schema);
    }
    builder.build().map_err(arrow_status)
}

/// Tables and views matching the command's filters, with their Arrow schemas when asked.
pub async fn tables(session: &Session, command: CommandGetTables) -> Result<RecordBatch, Status> {
    let schema_pattern = command.db_schema_filter_pattern.clone();
    let table_pattern = command.table_name_filter_pattern.clone();
    let catalog_matches = command
        .catalog
        .as_deref()
        .is_none_or(|c| c.is_empty() || c == CATALOG_NAME);
    let mut builder: GetTablesBuilder = command.into_builder();
    if catalog_matches {
        let relations = session
            .list_relations(schema_pattern.as_deref(), table_pattern.as_deref())
            .await
            .map_err(|e| status::from_engine(&e))?;
        for r in relations {
            let columns = wire_schema(&r.columns);
            builder
                .append(
                    CATALOG_NAME,
                    &r.schema,
                    &r.name,
                    r.kind.sql_name(),
                    &columns,
                )
                .map_err(arrow_status)?;
        }
    }
    builder.build().map_err(arrow_status)
}

/// The kinds of relation tarn has.
pub fn table_types() -> Result<RecordBatch, Status> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "table_type",
        DataType::Utf8,
        false,
    )]));
    let names: Vec<&str> = RelationKind::ALL.iter().map(|k| k.sql_name()).collect();
    RecordBatch::try_new(
        schema,
        vec![Arc::new(datafusion::arrow::array::StringArray::from(names))],
    )
    .map_err(arrow_status)
}

/// What tarn supports, stated truthfully.
pub static SQL_INFO: LazyLock<Option<SqlInfoData>> = LazyLock::new(|| {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "tarn");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    b.append(SqlInfo::FlightSqlServerArrowVersion, "1.5");
    b.append(SqlInfo::FlightSqlServerReadOnly, false);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    b.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::None as i32,
    );
    b.append(SqlInfo::FlightSqlServerCancel, true);
    b.append(SqlInfo::FlightSqlServerBulkIngestion, true);
    b.append(SqlInfo::FlightSqlServerIngestTransactionsSupported, false);
    b.append(SqlInfo::FlightSqlServerStatementTimeout, 0i32);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, true);
    b.append(SqlInfo::SqlDdlTable, true);
    b.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i32,
    );
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32,
    );
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    b.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedHigh as i32,
    );
    b.append(SqlInfo::SqlSearchStringEscape, "\\");
    b.append(SqlInfo::SqlExtraNameCharacters, "");
    b.append(SqlInfo::SqlSupportsColumnAliasing, true);
    b.append(SqlInfo::SqlNullPlusNullIsNull, true);
    b.append(SqlInfo::SqlSupportsTableCorrelationNames, true);
    b.append(SqlInfo::SqlSupportsExpressionsInOrderBy, true);
    b.append(SqlInfo::SqlSupportsLikeEscapeClause, true);
    b.append(SqlInfo::SqlSupportsNonNullableColumns, false);
    b.append(
        SqlInfo::SqlSupportedGrammar,
        (1 << SupportedSqlGrammar::SqlMinimumGrammar as i32)
            | (1 << SupportedSqlGrammar::SqlCoreGrammar as i32),
    );
    b.append(SqlInfo::SqlSchemaTerm, "schema");
    b.append(SqlInfo::SqlCatalogTerm, "catalog");
    b.append(SqlInfo::SqlProcedureTerm, "procedure");
    b.append(SqlInfo::SqlCatalogAtStart, true);
    b.append(SqlInfo::SqlSelectForUpdateSupported, false);
    b.append(SqlInfo::SqlStoredProceduresSupported, false);
    b.append(SqlInfo::SqlCorrelatedSubqueriesSupported, true);
    b.append(SqlInfo::SqlTransactionsSupported, false);
    b.append(SqlInfo::SqlDataDefinitionCausesTransactionCommit, true);
    b.append(SqlInfo::SqlKeywords, &KEYWORDS[..]);
    b.build().ok()
});

const KEYWORDS: [&str; 14] = [
    "CLUSTERED",
    "COPY",
    "DESCRIBE",
    "EXTERNAL",
    "LOCATION",
    "MSCK",
    "OVERWRITE",
    "PARTITION",
    "PARTITIONED",
    "REPAIR",
    "STORED",
    "TBLPROPERTIES",
    "USE",
    "VACUUM",
];

pub fn sql_info() -> Result<&'static SqlInfoData, Status> {
    SQL_INFO
        .as_ref()
        .ok_or_else(|| status(ErrorKind::Internal, "SqlInfo table failed to build"))
}

fn xdbc(name: &str, data_type: XdbcDataType, column_size: Option<i32>) -> XdbcTypeInfo {
    XdbcTypeInfo {
        type_name: name.into(),
        data_type,
        column_size,
        literal_prefix: None,
        literal_suffix: None,
        create_params: None,
        nullable: Nullable::NullabilityNullable,
        case_sensitive: matches!(data_type, XdbcDataType::XdbcVarchar),
        searchable: Searchable::Full,
        unsigned_attribute: Some(false),
        fixed_prec_scale: false,
        auto_increment: Some(false),
        local_type_name: Some(name.to_lowercase()),
        minimum_scale: None,
        maximum_scale: None,
        sql_data_type: data_type,
        datetime_subcode: None,
        num_prec_radix: None,
        interval_precision: None,
    }
}

/// The column types tarn tables can have (Hive's), as XDBC types.
pub static XDBC_TYPES: LazyLock<Option<XdbcTypeInfoData>> = LazyLock::new(|| {
    use XdbcDataType::*;
    let mut b = XdbcTypeInfoDataBuilder::new();
    let quoted = |mut t: XdbcTypeInfo| {
        t.literal_prefix = Some("'".into());
        t.literal_suffix = Some("'".into());
        t
    };
    b.append(xdbc("BOOLEAN", XdbcBit, Some(1)));
    b.append(xdbc("TINYINT", XdbcTinyint, Some(3)));
    b.append(xdbc("SMALLINT", XdbcSmallint, Some(5)));
    b.append(xdbc("INT", XdbcInteger, Some(10)));
    b.append(xdbc("BIGINT", XdbcBigint, Some(19)));
    b.append(xdbc("FLOAT", XdbcReal, Some(7)));
    b.append(xdbc("DOUBLE", XdbcDouble, Some(15)));
    b.append(XdbcTypeInfo {
        create_params: Some(vec!["precision".into(), "scale".into()]),
        fixed_prec_scale: true,
        minimum_scale: Some(0),
        maximum_scale: Some(38),
        num_prec_radix: Some(10),
        ..xdbc("DECIMAL", XdbcDecimal, Some(38))
    });
    b.append(quoted(xdbc("STRING", XdbcVarchar, Some(i32::MAX))));
    b.append(quoted(xdbc("BINARY", XdbcVarbinary, Some(i32::MAX))));
    b.append(quoted(xdbc("DATE", XdbcDate, Some(10))));
    b.append(quoted(xdbc("TIMESTAMP", XdbcTimestamp, Some(29))));
    b.build().ok()
});

pub fn xdbc_types() -> Result<&'static XdbcTypeInfoData, Status> {
    XDBC_TYPES
        .as_ref()
        .ok_or_else(|| status(ErrorKind::Internal, "XDBC type table failed to build"))
}

/// Primary and foreign keys: tarn tables have none, so these are empty with the right columns.
pub fn empty_keys(foreign: bool) -> Result<RecordBatch, Status> {
    RecordBatch::try_new_with_options(
        keys_schema(foreign),
        keys_schema(foreign)
            .fields()
            .iter()
            .map(|f| datafusion::arrow::array::new_empty_array(f.data_type()))
            .collect(),
        &Default::default(),
    )
    .map_err(arrow_status)
}

/// The result schemas of GetPrimaryKeys and of the foreign-key RPCs, as the spec gives them.
pub fn keys_schema(foreign: bool) -> SchemaRef {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let fields = if foreign {
        vec![
            text("pk_catalog_name", true),
            text("pk_db_schema_name", true),
            text("pk_table_name", false),
            text("pk_column_name", false),
            text("fk_catalog_name", true),
            text("fk_db_schema_name", true),
            text("fk_table_name", false),
            text("fk_column_name", false),
            Field::new("key_sequence", DataType::Int32, false),
            text("fk_key_name", true),
            text("pk_key_name", true),
            Field::new("update_rule", DataType::UInt8, false),
            Field::new("delete_rule", DataType::UInt8, false),
        ]
    } else {
        vec![
            text("catalog_name", true),
            text("db_schema_name", true),
            text("table_name", false),
            text("column_name", false),
            Field::new("key_sequence", DataType::Int32, false),
            text("key_name", true),
        ]
    };
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_tables_build() {
        assert!(sql_info().is_ok());
        assert!(xdbc_types().unwrap().record_batch(None).unwrap().num_rows() >= 12);
        assert_eq!(empty_keys(true).unwrap().num_columns(), 13);
        assert_eq!(empty_keys(false).unwrap().num_rows(), 0);
        assert_eq!(table_types().unwrap().num_rows(), 3);
    }
}
