//! A storage-neutral partition predicate that a metastore can answer from its index.
//!
//! The engine translates the partition-column part of a query's filters into this tree. A store
//! must return at least every partition the predicate accepts (a superset is allowed: the engine
//! re-checks candidates exactly), and should answer without loading the table's other partitions.

/// A typed partition key value as the store indexes it.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// Integer keys (tinyint..bigint) compare numerically.
    Int(i64),
    /// String, varchar, char and date (ISO `YYYY-MM-DD`) keys compare as text.
    Text(String),
}

/// Comparison operators on one partition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl CmpOp {
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::NotEq => "<>",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
        }
    }
}

/// A predicate over a table's partition keys, by key position.
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionFilter {
    /// Every partition.
    All,
    And(Vec<PartitionFilter>),
    Or(Vec<PartitionFilter>),
    Cmp {
        key: usize,
        op: CmpOp,
        value: KeyValue,
    },
    In {
        key: usize,
        values: Vec<KeyValue>,
    },
    IsNull {
        key: usize,
    },
    IsNotNull {
        key: usize,
    },
}

impl PartitionFilter {
    /// Conjunction that drops `All` terms and flattens nested ANDs.
    pub fn and(filters: Vec<PartitionFilter>) -> PartitionFilter {
        let mut terms = Vec::new();
        for f in filters {
            match f {
                PartitionFilter::All => {}
                PartitionFilter::And(inner) => terms.extend(inner),
                other => terms.push(other),
            }
        }
        match terms.len() {
            0 => PartitionFilter::All,
            1 => terms.remove(0),
            _ => PartitionFilter::And(terms),
        }
    }

    /// Disjunction: any `All` term makes the whole disjunction `All`.
    pub fn or(filters: Vec<PartitionFilter>) -> PartitionFilter {
        if filters.is_empty() || filters.contains(&PartitionFilter::All) {
            return PartitionFilter::All;
        }
        PartitionFilter::Or(filters)
    }
}

/// Whether a partition key of this Hive type is indexed with a typed value that orders correctly.
pub fn indexed_kind(hive_type: &str) -> Option<IndexKind> {
    let base = hive_type.split('(').next().unwrap_or(hive_type);
    match base {
        "tinyint" | "smallint" | "int" | "bigint" => Some(IndexKind::Int),
        "string" | "varchar" | "char" | "date" => Some(IndexKind::Text),
        _ => None,
    }
}

/// How a key's values are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    Int,
    Text,
}
