//! pg_stats from the catalog's statistics: for tables tarn wrote, every data file's row count
//! and per-column null count and min/max are in the catalog; summed over the table's partitions
//! they give `null_frac` and `histogram_bounds` (`{min,max}`). Partition columns are summarised
//! from the partition values (`n_distinct` is their number). Tables registered from outside
//! (whose files are listed, not indexed) have no statistics and no rows here.

use std::cmp::Ordering;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;

use super::{B, F32, I32, Rows, T, boolean, no_text, text};
use crate::introspect::{Relation, RelationKind};

/// One column's statistics over a whole table.
#[derive(Debug, Clone)]
pub(crate) struct ColumnSummary {
    schema: String,
    table: String,
    column: String,
    rows: u64,
    nulls: u64,
    min: Option<ScalarValue>,
    max: Option<ScalarValue>,
    /// Distinct values, when known exactly (partition columns).
    distinct: Option<u64>,
}

/// The summaries of columns `access` may SELECT (as PostgreSQL's pg_stats view filters with
/// has_column_privilege): statistics are the column's data in brief.
pub(crate) async fn readable(
    metastore: &dyn tarn_catalog::Metastore,
    access: &crate::authz::Access,
    summaries: Vec<ColumnSummary>,
) -> crate::error::Result<Vec<ColumnSummary>> {
    use crate::authz::TableAccess;
    if access.superuser {
        return Ok(summaries);
    }
    let mut verdicts = crate::authz::SelectVerdicts::new(metastore, access);
    let mut out = Vec::new();
    for s in summaries {
        let database = crate::provider::database_for_schema(&s.schema);
        let keep = match verdicts.of(&database, &s.table).await? {
            Some((TableAccess::Full, _)) => true,
            Some((TableAccess::Columns(columns), _)) => columns.contains(&s.column),
            None => false,
        };
        if keep {
            out.push(s);
        }
    }
    Ok(out)
}

/// Reads the statistics of every tarn-written table in `relations`.
pub(crate) async fn collect(
    metastore: &dyn tarn_catalog::Metastore,
    relations: &[Relation],
) -> crate::error::Result<Vec<ColumnSummary>> {
    let mut out = Vec::new();
    for r in relations.iter().filter(|r| r.kind == RelationKind::Table) {
        let database = crate::provider::database_for_schema(&r.schema);
        let partitions = metastore
            .list_partitions(&database, &r.name, &tarn_catalog::PartitionFilter::All)
            .await?;
        if partitions.is_empty() || partitions.iter().any(|p| p.files.is_none()) {
            continue;
        }
        let data_columns = r.columns.fields().len() - r.partition_columns.len();
        for (i, field) in r.columns.fields().iter().enumerate() {
            let mut summary = ColumnSummary {
                schema: r.schema.clone(),
                table: r.name.clone(),
                column: field.name().clone(),
                rows: 0,
                nulls: 0,
                min: None,
                max: None,
                distinct: None,
            };
            if i >= data_columns {
                partition_column(
                    &mut summary,
                    &partitions,
                    i - data_columns,
                    field.data_type(),
                );
            } else {
                data_column(&mut summary, &partitions, field.data_type());
            }
            out.push(summary);
        }
    }
    Ok(out)
}

fn data_column(summary: &mut ColumnSummary, partitions: &[tarn_catalog::Partition], t: &DataType) {
    let parse = |v: &Option<String>| {
        v.as_ref()
            .and_then(|s| ScalarValue::try_from_string(s.clone(), t).ok())
    };
    for file in partitions.iter().flat_map(|p| p.files.iter().flatten()) {
        summary.rows += file.rows;
        match file.columns.get(&summary.column) {
            Some(stats) => {
                summary.nulls += stats.null_count;
                widen(&mut summary.min, parse(&stats.min), Ordering::Less);
                widen(&mut summary.max, parse(&stats.max), Ordering::Greater);
            }
            // A column the file does not have (added later) is NULL in every row.
            None => summary.nulls += file.rows,
        }
    }
}

fn partition_column(
    summary: &mut ColumnSummary,
    partitions: &[tarn_catalog::Partition],
    key: usize,
    t: &DataType,
) {
    let mut distinct = std::collections::BTreeSet::new();
    for p in partitions {
        let rows: u64 = p.files.iter().flatten().map(|f| f.rows).sum();
        summary.rows += rows;
        match p.values.get(key).cloned().flatten() {
            None => summary.nulls += rows,
            Some(value) => {
                let parsed = ScalarValue::try_from_string(value.clone(), t).ok();
                widen(&mut summary.min, parsed.clone(), Ordering::Less);
                widen(&mut summary.max, parsed, Ordering::Greater);
                distinct.insert(value);
            }
        }
    }
    summary.distinct = Some(distinct.len() as u64);
}

/// Keeps the smaller (`Less`) or larger (`Greater`) of the two.
fn widen(current: &mut Option<ScalarValue>, candidate: Option<ScalarValue>, keep: Ordering) {
    let Some(candidate) = candidate else { return };
    let replace = match current {
        None => true,
        Some(c) => candidate.partial_cmp(c) == Some(keep),
    };
    if replace {
        *current = Some(candidate);
    }
}

pub(super) fn rows(summaries: &[ColumnSummary]) -> Rows {
    let mut rows = Rows::new(&[
        ("schemaname", T),
        ("tablename", T),
        ("attname", T),
        ("inherited", B),
        ("null_frac", F32),
        ("avg_width", I32),
        ("n_distinct", F32),
        ("most_common_vals", T),
        ("most_common_freqs", T),
        ("histogram_bounds", T),
        ("correlation", F32),
        ("most_common_elems", T),
        ("most_common_elem_freqs", T),
        ("elem_count_histogram", T),
    ]);
    for s in summaries {
        let null_frac = if s.rows == 0 {
            0.0
        } else {
            s.nulls as f32 / s.rows as f32
        };
        let bounds = match (&s.min, &s.max) {
            (Some(min), Some(max)) => text(format!("{{{},{}}}", bound(min), bound(max))),
            _ => no_text(),
        };
        rows.push(vec![
            text(&s.schema),
            text(&s.table),
            text(&s.column),
            boolean(false),
            ScalarValue::Float32(Some(null_frac)),
            ScalarValue::Int32(None),
            // PostgreSQL's 0 means "unknown".
            ScalarValue::Float32(Some(s.distinct.map_or(0.0, |d| d as f32))),
            no_text(),
            no_text(),
            bounds,
            ScalarValue::Float32(None),
            no_text(),
            no_text(),
            no_text(),
        ]);
    }
    rows
}

/// An array element in PostgreSQL's text form (quoted when it has to be).
fn bound(value: &ScalarValue) -> String {
    let text = value.to_string();
    let plain = !text.is_empty()
        && !text
            .chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
    if plain {
        text
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
