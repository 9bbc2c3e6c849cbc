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
    /// `RENAME TO` (tables and views): the data stays where it is.
    Rename {
        to: ObjectName,
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
    /// `SET name = value` / `RESET name` (value `None`) of a session setting (search_path,
    /// TimeZone, statement_timeout, ...). Not `datafusion.*`, which DataFusion handles.
    SetVariable {
        name: String,
        value: Option<String>,
    },
    /// `RESET ALL`.
    ResetAll,
    /// `SHOW name`, or `SHOW ALL` (`None`).
    ShowVariable {
        name: Option<String>,
    },
    /// BEGIN / COMMIT / ROLLBACK / SAVEPOINT ...
    Transaction(TransactionStatement),
    /// `DECLARE name … CURSOR [WITH HOLD] FOR query`.
    DeclareCursor {
        name: String,
        binary: bool,
        scroll: bool,
        hold: bool,
        query: QueryText,
    },
    /// `FETCH` (or `MOVE`, which skips rows without returning them).
    Fetch {
        name: String,
        count: FetchCount,
        move_only: bool,
    },
    /// `CLOSE name`, or `CLOSE ALL` (`None`).
    CloseCursor {
        name: Option<String>,
    },
    /// `DISCARD ALL | PLANS | SEQUENCES | TEMP`: connection poolers reset a session with
    /// `DISCARD ALL` before handing it to the next client.
    Discard {
        all: bool,
    },
    /// CREATE USER|ROLE (`login_by_default`: CREATE USER, which implies LOGIN).
    CreateUser {
        name: String,
        if_not_exists: bool,
        options: Vec<UserOption>,
        login_by_default: bool,
    },
    /// GRANT privileges ON object TO grantees.
    Grant {
        privileges: PrivilegeList,
        object: GrantObject,
        grantees: Vec<RoleSpec>,
        with_grant_option: bool,
    },
    /// REVOKE [GRANT OPTION FOR] privileges ON object FROM grantees.
    Revoke {
        privileges: PrivilegeList,
        object: GrantObject,
        grantees: Vec<RoleSpec>,
        grant_option_for: bool,
        cascade: bool,
    },
    /// GRANT role, … TO member, … [WITH ADMIN OPTION].
    GrantRole {
        roles: Vec<String>,
        members: Vec<RoleSpec>,
        admin_option: bool,
    },
    /// REVOKE [ADMIN OPTION FOR] role, … FROM member, ….
    RevokeRole {
        roles: Vec<String>,
        members: Vec<RoleSpec>,
        admin_option_for: bool,
    },
    /// ALTER DEFAULT PRIVILEGES [FOR ROLE …] [IN SCHEMA …] GRANT|REVOKE … ON TABLES ….
    AlterDefaultPrivileges {
        for_roles: Vec<String>,
        schemas: Vec<String>,
        grant: bool,
        privileges: PrivilegeList,
        grantees: Vec<RoleSpec>,
        /// WITH GRANT OPTION (grant) or GRANT OPTION FOR (revoke).
        grant_option: bool,
    },
    /// ALTER TABLE|VIEW|SCHEMA|DATABASE name OWNER TO role.
    AlterOwner {
        object: OwnedObject,
        owner: RoleSpec,
    },
    /// ALTER USER|ROLE.
    AlterUser {
        name: String,
        options: Vec<UserOption>,
    },
    /// DROP USER|ROLE.
    DropUser {
        name: String,
        if_exists: bool,
    },
    /// `COPY t [(cols)] FROM STDIN [options]`: rows streamed by the client.
    CopyFromStdin {
        name: ObjectName,
        columns: Vec<String>,
        options: CopyOptions,
    },
    /// `COPY t [(cols)] | (query) TO STDOUT [options]`: rows streamed to the client.
    CopyToStdout {
        source: CopySource,
        options: CopyOptions,
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
    /// `TRUNCATE [TABLE] [ONLY] t [, …] [CONTINUE|RESTART IDENTITY] [CASCADE|RESTRICT]`.
    Truncate {
        tables: Vec<ObjectName>,
    },
    /// `CREATE [UNIQUE] INDEX … ON table …`: tarn keeps no indexes (see the engine).
    CreateIndex {
        table: ObjectName,
        unique: bool,
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

impl Statement {
    /// The verb of the CommandComplete tag when the statement returns rows (`FETCH 10`,
    /// `SELECT 10`).
    pub fn rows_verb(&self) -> &'static str {
        match self {
            Statement::Fetch { .. } => "FETCH",
            _ => "SELECT",
        }
    }
}

/// How many rows a FETCH or MOVE takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchCount {
    Rows(u64),
    All,
}

/// Transaction control statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionStatement {
    /// `read_only`: `Some(true)` for READ ONLY, `Some(false)` for READ WRITE, `None` when not
    /// said (the session's default_transaction_read_only applies).
    Begin {
        read_only: Option<bool>,
    },
    Commit,
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
}

/// Options of CREATE/ALTER USER|ROLE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserOption {
    /// `PASSWORD 'x'` or `PASSWORD NULL` (`None`).
    Password(Option<String>),
    Superuser(bool),
    Login(bool),
    CreateRole(bool),
    Inherit(bool),
    /// `IN ROLE r, …`: the new role becomes a member of these.
    InRole(Vec<String>),
    /// `ROLE r, …` / `USER r, …`: these become members of the new role.
    Members(Vec<String>),
}

/// Who a GRANT names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSpec {
    Name(String),
    Public,
    CurrentUser,
    SessionUser,
}

/// The privileges of a GRANT/REVOKE, lower-case as written, each with optional columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivilegeList {
    All { columns: Vec<String> },
    Named(Vec<(String, Vec<String>)>),
}

/// What a GRANT/REVOKE is on. Schemas are tarn databases; DATABASE is the catalog clients
/// connect to (`tarn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantObject {
    Tables(Vec<ObjectName>),
    AllTablesInSchema(Vec<String>),
    Schemas(Vec<String>),
    Databases(Vec<String>),
}

/// An object whose owner ALTER … OWNER TO changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedObject {
    Table(ObjectName),
    Schema(String),
}

/// What COPY … TO STDOUT reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    Table {
        name: ObjectName,
        columns: Vec<String>,
    },
    Query(QueryText),
}

/// The data format of COPY over the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CopyFormat {
    /// PostgreSQL's text format: tab-separated, `\N` for NULL, backslash escapes.
    #[default]
    Text,
    Csv,
    Binary,
}

/// COPY options as written (validated where they are used).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyOptions {
    pub format: CopyFormat,
    pub header: bool,
    pub delimiter: Option<String>,
    pub null: Option<String>,
    pub quote: Option<String>,
    pub escape: Option<String>,
}
