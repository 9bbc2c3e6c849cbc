//! Column statistics as the Hive metastore keeps them (its TAB_COL_STATS and PART_COL_STATS):
//! per column of a table or of one partition, a kind-specific summary that cost-based
//! optimizers (Trino, Hive, Impala) read and that engines write after they load data.
//!
//! The catalog stores what a client computed; it does not derive them. A write through tarn
//! makes the touched partitions' (and the table's) column statistics stale, so the commit
//! removes them rather than serve numbers that no longer describe the data.

mod combine;

use serde::{Deserialize, Serialize};

pub use combine::{combine, decimal_cmp};

/// A decimal as Hive sends it: the unscaled value as big-endian two's complement bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiveDecimal {
    pub unscaled: Vec<u8>,
    pub scale: i16,
}

/// The summary of one column, by kind (Hive's `ColumnStatisticsData` union). `bit_vectors` is
/// an engine's distinct-value sketch, kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnStatsData {
    Boolean {
        num_trues: i64,
        num_falses: i64,
        num_nulls: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bit_vectors: Option<Vec<u8>>,
    },
    Long {
        low: Option<i64>,
        high: Option<i64>,
        num_nulls: i64,
        num_dvs: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bit_vectors: Option<Vec<u8>>,
    },
    Double {
        low: Option<f64>,
        high: Option<f64>,
        num_nulls: i64,
        num_dvs: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bit_vectors: Option<Vec<u8>>,
    },
    String {
        max_len: i64,
        avg_len: f64,
        num_nulls: i64,
        num_dvs: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bit_vectors: Option<Vec<u8>>,
    },
    Binary {
        max_len: i64,
        avg_len: f64,
        num_nulls: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bit_vectors: Option<Vec<u8>>,
    },
    Decimal {
        low: Option<HiveDecimal>,
        high: Option<HiveDecimal>,
        num_nulls: i64,
        num_dvs: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bit_vectors: Option<Vec<u8>>,
    },
    /// Dates as days since 1970-01-01.
    Date {
        low: Option<i64>,
        high: Option<i64>,
        num_nulls: i64,
        num_dvs: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bit_vectors: Option<Vec<u8>>,
    },
}

impl ColumnStatsData {
    /// The kind's name, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ColumnStatsData::Boolean { .. } => "boolean",
            ColumnStatsData::Long { .. } => "long",
            ColumnStatsData::Double { .. } => "double",
            ColumnStatsData::String { .. } => "string",
            ColumnStatsData::Binary { .. } => "binary",
            ColumnStatsData::Decimal { .. } => "decimal",
            ColumnStatsData::Date { .. } => "date",
        }
    }

    /// The counts, which are never negative, and the averages, which are finite.
    pub fn counts_and_averages(&self) -> (Vec<i64>, Vec<f64>) {
        use ColumnStatsData::*;
        match self {
            Boolean {
                num_trues,
                num_falses,
                num_nulls,
                ..
            } => (vec![*num_trues, *num_falses, *num_nulls], vec![]),
            Long {
                num_nulls, num_dvs, ..
            }
            | Decimal {
                num_nulls, num_dvs, ..
            }
            | Date {
                num_nulls, num_dvs, ..
            } => (vec![*num_nulls, *num_dvs], vec![]),
            Double {
                low,
                high,
                num_nulls,
                num_dvs,
                ..
            } => (
                vec![*num_nulls, *num_dvs],
                low.iter().chain(high.iter()).copied().collect(),
            ),
            String {
                max_len,
                avg_len,
                num_nulls,
                num_dvs,
                ..
            } => (vec![*max_len, *num_nulls, *num_dvs], vec![*avg_len]),
            Binary {
                max_len,
                avg_len,
                num_nulls,
                ..
            } => (vec![*max_len, *num_nulls], vec![*avg_len]),
        }
    }
}

/// One column's statistics. `column` is lower case (Hive's column names are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStatistics {
    pub column: String,
    /// The column's Hive type name as the writer gave it.
    pub column_type: String,
    pub data: ColumnStatsData,
}

/// New statistics of the table (`partition` `None`) or of one of its partitions.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsUpdate {
    pub partition: Option<crate::PartitionSpec>,
    pub stats: Vec<ColumnStatistics>,
}

/// Statistics as stored: of the table (`partition` `None`) or of one partition, with the time
/// (seconds since the epoch) they were written.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredColumnStats {
    pub partition: Option<crate::PartitionSpec>,
    pub last_analyzed: i64,
    pub stats: ColumnStatistics,
}
