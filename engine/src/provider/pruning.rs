//! Partition pruning against the catalog.
//!
//! Two steps. First the partition-column filters are translated into a [`PartitionFilter`] the
//! metastore answers from its index; the translation may over-approximate (anything it cannot
//! express becomes `All`). Then the candidates are checked exactly by evaluating the original
//! filters with DataFusion over a batch of the candidates' typed values, so Hive typing, casts,
//! functions and NULL partitions behave as they do on data columns.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::{and, cast};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use tarn_catalog::{CmpOp, IndexKind, KeyValue, Partition, PartitionFilter, indexed_kind};

use crate::error::Result;

/// A partition key as the pruner needs it: name, Arrow type and index kind.
#[derive(Debug, Clone)]
pub struct PartitionKey {
    pub name: String,
    pub data_type: DataType,
    pub kind: Option<IndexKind>,
}

impl PartitionKey {
    pub fn new(name: &str, data_type: DataType, hive_type: &str) -> Self {
        Self {
            name: name.to_string(),
            data_type,
            kind: indexed_kind(hive_type),
        }
    }
}

/// Translates filters (already restricted to partition columns) into an index predicate that
/// accepts at least every partition the filters accept.
pub fn to_partition_filter(filters: &[Expr], keys: &[PartitionKey]) -> PartitionFilter {
    PartitionFilter::and(filters.iter().map(|f| translate(f, keys)).collect())
}

fn translate(expr: &Expr, keys: &[PartitionKey]) -> PartitionFilter {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => PartitionFilter::and(vec![translate(left, keys), translate(right, keys)]),
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => PartitionFilter::or(vec![translate(left, keys), translate(right, keys)]),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => comparison(left, *op, right, keys),
        Expr::Between(b) if !b.negated => PartitionFilter::and(vec![
            comparison(&b.expr, Operator::GtEq, &b.low, keys),
            comparison(&b.expr, Operator::LtEq, &b.high, keys),
        ]),
        Expr::InList(list) if !list.negated => {
            let Some((key, kind)) = key_of(&list.expr, keys) else {
                return PartitionFilter::All;
            };
            let values: Option<Vec<_>> = list.list.iter().map(|v| key_value(v, kind)).collect();
            match values {
                Some(values) => PartitionFilter::In { key, values },
                None => PartitionFilter::All,
            }
        }
        Expr::IsNull(inner) => match key_of(inner, keys) {
            Some((key, _)) => PartitionFilter::IsNull { key },
            None => PartitionFilter::All,
        },
        Expr::IsNotNull(inner) => match key_of(inner, keys) {
            Some((key, _)) => PartitionFilter::IsNotNull { key },
            None => PartitionFilter::All,
        },
        _ => PartitionFilter::All,
    }
}

fn comparison(left: &Expr, op: Operator, right: &Expr, keys: &[PartitionKey]) -> PartitionFilter {
    let (col, lit, op) = match (key_of(left, keys), key_of(right, keys)) {
        (Some(k), None) => (k, right, op),
        (None, Some(k)) => match op.swap() {
            Some(swapped) => (k, left, swapped),
            None => return PartitionFilter::All,
        },
        _ => return PartitionFilter::All,
    };
    let cmp = match op {
        Operator::Eq => CmpOp::Eq,
        Operator::NotEq => CmpOp::NotEq,
        Operator::Lt => CmpOp::Lt,
        Operator::LtEq => CmpOp::LtEq,
        Operator::Gt => CmpOp::Gt,
        Operator::GtEq => CmpOp::GtEq,
        _ => return PartitionFilter::All,
    };
    match key_value(lit, col.1) {
        Some(value) => PartitionFilter::Cmp {
            key: col.0,
            op: cmp,
            value,
        },
        None => PartitionFilter::All,
    }
}

/// The indexed partition key an expression is (a column, possibly under a lossless cast).
fn key_of(expr: &Expr, keys: &[PartitionKey]) -> Option<(usize, IndexKind)> {
    let column = match expr {
        Expr::Column(c) => c,
        Expr::Cast(c) => match c.expr.as_ref() {
            Expr::Column(col) => {
                let key = keys.iter().find(|k| k.name == col.name)?;
                let widening = key.data_type.is_integer() && c.field.data_type().is_integer();
                if !widening {
                    return None;
                }
                col
            }
            _ => return None,
        },
        _ => return None,
    };
    let idx = keys.iter().position(|k| k.name == column.name)?;
    Some((idx, keys[idx].kind?))
}

fn key_value(expr: &Expr, kind: IndexKind) -> Option<KeyValue> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match (kind, value) {
        (_, v) if v.is_null() => None,
        (IndexKind::Int, v) if v.data_type().is_integer() => {
            v.cast_to(&DataType::Int64).ok().and_then(|i| match i {
                ScalarValue::Int64(Some(i)) => Some(KeyValue::Int(i)),
                _ => None,
            })
        }
        (IndexKind::Text, ScalarValue::Utf8(Some(s)))
        | (IndexKind::Text, ScalarValue::LargeUtf8(Some(s)))
        | (IndexKind::Text, ScalarValue::Utf8View(Some(s))) => Some(KeyValue::Text(s.clone())),
        (IndexKind::Text, ScalarValue::Date32(Some(_))) => Some(KeyValue::Text(value.to_string())),
        _ => None,
    }
}

/// The typed values of the candidate partitions, one array per key.
fn typed_values(partitions: &[Partition], keys: &[PartitionKey]) -> Result<Vec<ArrayRef>> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let raw: StringArray = partitions
                .iter()
                .map(|p| p.values.get(i).cloned().flatten())
                .collect();
            // A value that does not parse as the key's type reads as NULL, as in Hive.
            Ok(cast(&raw, &key.data_type)?)
        })
        .collect()
}

/// Removes table qualifiers so filters resolve against the bare partition schema.
fn unqualify(expr: &Expr) -> Result<Expr> {
    Ok(expr
        .clone()
        .transform(|e| match e {
            Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(
                c.name,
            )))),
            other => Ok(Transformed::no(other)),
        })?
        .data)
}

/// Keeps the candidates the filters accept exactly, returning each with its typed values.
pub fn evaluate_partitions(
    state: &dyn Session,
    candidates: Vec<Partition>,
    keys: &[PartitionKey],
    filters: &[Expr],
) -> Result<Vec<(Partition, Vec<ScalarValue>)>> {
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let schema: SchemaRef = Arc::new(Schema::new(
        keys.iter()
            .map(|k| Field::new(&k.name, k.data_type.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let columns = typed_values(&candidates, keys)?;
    let batch = RecordBatch::try_new(schema.clone(), columns.clone())?;
    let mut keep = BooleanArray::from(vec![true; candidates.len()]);
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    for filter in filters {
        let physical = state.create_physical_expr(unqualify(filter)?, &df_schema)?;
        let result = physical.evaluate(&batch)?.into_array(batch.num_rows())?;
        let result = cast(&result, &DataType::Boolean)?;
        let result = result.as_any().downcast_ref::<BooleanArray>().cloned();
        keep = and(
            &keep,
            &result.unwrap_or_else(|| BooleanArray::from(vec![false; 0])),
        )?;
    }
    let mut out = Vec::new();
    for (row, partition) in candidates.into_iter().enumerate() {
        if keep.is_valid(row) && keep.value(row) {
            let values = columns
                .iter()
                .map(|c| ScalarValue::try_from_array(c, row))
                .collect::<datafusion::common::Result<Vec<_>>>()?;
            out.push((partition, values));
        }
    }
    Ok(out)
}
