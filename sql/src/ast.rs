//! Statements tarn runs itself, against the metastore.

pub use crate::cursor::QueryText;

/// A possibly database-qualified object name; identifiers are lower-cased unless quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectName {
    pub database: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.database {
            Some(db) => write!(f, "{db}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A column definition as written: the type is a Hive type string (validated by the catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    /// `None` only in DataFusion's `PARTITIONED BY (col)` form naming a column without a type.
    pub data_type: Option<String>,
    pub comment: Option<String>,
}

/// `k='v', …` pairs from a PARTITION clause; `None` is NULL.
pub type PartitionSpecPairs = Vec<(String, Option<String>)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDatabase {
    pub name: String,
    pub if_not_exists: bool,
    pub comment: Option<String>,
    pub location: Option<String>,
    pub properties: Vec<(String, String)>,
}

/// CREATE [EXTERNAL] TABLE in Hive's, Spark's or DataFusion's form (clauses in any order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableDefinition {
    /// EXTERNAL, or a LOCATION given: the data is not the table's to delete.
    pub external: bool,
    /// `AS <query>` (CTAS).
    pub query: Option<QueryText>,
    pub name: Option<ObjectName>,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDef>,
    pub comment: Option<String>,
    pub partition_keys: Vec<ColumnDef>,
    /// PARQUET, CSV, JSON, TEXTFILE, … as written (upper-cased).
    pub stored_as: Option<String>,
    pub field_delimiter: Option<String>,
    pub header: Option<bool>,
    pub location: Option<String>,
    /// TBLPROPERTIES and DataFusion OPTIONS, in order.
    pub properties: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterTableAction {
    AddPartitions {
        if_not_exists: bool,
        partitions: Vec<(PartitionSpecPairs, Option<String>)>,
    },
    DropPartitions {
        if_exists: bool,
        partitions: Vec<PartitionSpecPairs>,
    },
    SetProperties(Vec<(String, String)>),
    UnsetProperties {
        if_exists: bool,
        keys: Vec<String>,
    },
    SetLocation {
        partition: Option<PartitionSpecPairs>,
        location: String,
    },
}

/// MSCK REPAIR TABLE's modes (Hive 3): ADD is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairMode {
    Add,
    Drop,
    Sync,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentTarget {
    Table(ObjectName),
    Column { table: ObjectName, column: String },
}

/// INSERT INTO|OVERWRITE [TABLE] t [(cols)] [PARTITION (k='v' | k, …)] <query>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertStatement {
    pub table: ObjectName,
    pub overwrite: bool,
    pub columns: Vec<String>,
    /// Partition clause: `Some(value)` for a static key (`k='v'`, `k=NULL` is `Some(None)`),
    /// `None` for a dynamic key (`k`).
    pub partition: Vec<(String, Option<Option<String>>)>,
    pub query: QueryText,
}

/// One classified statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    CreateDatabase(CreateDatabase),
    DropDatabase {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    Use {
        database: String,
    },
    ShowDatabases {
        pattern: Option<String>,
    },
    /// CREATE [EXTERNAL] TABLE, with or without AS <query>.
    CreateTable(TableDefinition),
    /// INSERT INTO / INSERT OVERWRITE.
    Insert(InsertStatement),
    /// `SET tarn.<name> = value` / `RESET tarn.<name>` (value `None`): tarn's session settings.
    SetTarn {
        name: String,
        value: Option<String>,
    },
    /// VACUUM t [RETAIN n HOURS].
    Vacuum {
        name: ObjectName,
        retain_hours: Option<u64>,
    },
    /// COPY t FROM 'location' [STORED AS fmt] [WITH HEADER ROW] [DELIMITER 'x'].
    CopyFrom {
        name: ObjectName,
        location: String,
        stored_as: Option<String>,
        header: bool,
        delimiter: Option<String>,
    },
    DropTable {
        name: ObjectName,
        if_exists: bool,
    },
    AlterTable {
        name: ObjectName,
        action: AlterTableAction,
    },
    MsckRepair {
        name: ObjectName,
        mode: RepairMode,
    },
    ShowTables {
        database: Option<String>,
        pattern: Option<String>,
    },
    ShowPartitions {
        name: ObjectName,
        partial: PartitionSpecPairs,
    },
    ShowCreateTable {
        name: ObjectName,
    },
    Describe {
        name: ObjectName,
        extended: bool,
    },
    ShowColumns {
        name: ObjectName,
    },
    CommentOn {
        target: CommentTarget,
        comment: Option<String>,
    },
    /// Anything else: DataFusion plans it (queries, SET, EXPLAIN, COPY, …). `line`/`column`
    /// (1-based) locate the statement in the submitted text, for error positions.
    DataFusion {
        sql: String,
        line: u64,
        column: u64,
    },
}
