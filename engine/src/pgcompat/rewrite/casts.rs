//! Casts and comparisons DataFusion does not plan: PostgreSQL's OID alias types (`regclass`,
//! `regtype`, `regnamespace`) and type names, and arrays compared with their text form.

use datafusion::sql::sqlparser::ast::{CastKind, DataType, Expr, ObjectNamePart};

use super::call;

/// The operand and target type of a `CAST(x AS t)` / `x::t`.
fn cast_parts(expr: &Expr) -> Option<(&Expr, &DataType)> {
    match expr {
        Expr::Cast {
            expr, data_type, ..
        } => Some((expr.as_ref(), data_type)),
        _ => None,
    }
}

/// `CAST(expr AS data_type)`.
fn cast_to(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    }
}

/// Casts to PostgreSQL's OID alias types as functions that look names up:
/// `'name'::regclass` as `to_regclass('name')`, other `x::regclass` as `regclass(x)` (names are
/// looked up, OIDs pass through); `::regtype` and `::regnamespace` likewise.
pub(super) fn reg_lookup(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::Value;
    let (inner, data_type) = cast_parts(expr)?;
    let function = match (reg_type(data_type)?, inner) {
        ("regclass", Expr::Value(v)) if matches!(v.value, Value::SingleQuotedString(_)) => {
            "to_regclass"
        }
        // A parameter or column: a name is looked up, a number is already an OID.
        ("regclass", _) => "regclass",
        ("regtype", _) => "tarn_regtype",
        ("regnamespace", _) => "tarn_regnamespace",
        ("regproc", _) => "tarn_regproc",
        _ => return None,
    };
    Some(call(function, vec![inner.clone()]))
}

/// `x::regclass::text` (and regtype, regnamespace) print the object's name, as PostgreSQL's
/// output functions for those types do: the looked-up OID goes through a naming function.
pub(super) fn reg_name(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::DataType as T;
    let (inner, data_type) = cast_parts(expr)?;
    if !matches!(data_type, T::Text | T::Varchar(_) | T::String(_)) {
        return None;
    }
    let Expr::Function(f) = inner else {
        return None;
    };
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else {
        return None;
    };
    let naming = match name.value.as_str() {
        "regclass" | "to_regclass" => "tarn_regclass_name",
        "tarn_regnamespace" => "tarn_regnamespace_name",
        "tarn_regproc" => "tarn_regproc_name",
        "tarn_regtype" | "to_regtype" => {
            let null = Expr::Value(datafusion::sql::sqlparser::ast::Value::Null.into());
            return Some(call("format_type", vec![inner.clone(), null]));
        }
        _ => return None,
    };
    Some(call(naming, vec![inner.clone()]))
}

/// `regclass`, `regtype`, … when `data_type` names one of the OID alias types.
fn reg_type(data_type: &DataType) -> Option<&'static str> {
    use datafusion::sql::sqlparser::ast::DataType as T;
    let name = match data_type {
        T::Regclass => return Some("regclass"),
        T::Custom(name, modifiers) if modifiers.is_empty() => match name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => i.value.to_ascii_lowercase(),
            _ => return None,
        },
        _ => return None,
    };
    ["regclass", "regtype", "regnamespace", "regproc"]
        .into_iter()
        .find(|r| *r == name)
}

/// `'{r,v}'::text[]` (an array in PostgreSQL's text form, as pgcli and ORMs write them) as
/// `make_array(CAST('r' AS TEXT), CAST('v' AS TEXT))`: DataFusion cannot cast text to a list.
pub(super) fn array_literal_cast(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, DataType as T, Value};
    let Expr::Cast {
        expr: inner,
        data_type: T::Array(ArrayElemTypeDef::SquareBracket(element, _)),
        ..
    } = expr
    else {
        return None;
    };
    let Expr::Value(v) = inner.as_ref() else {
        return None;
    };
    let Value::SingleQuotedString(text) = &v.value else {
        return None;
    };
    let body = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let element = plain_type(element).unwrap_or_else(|| element.as_ref().clone());
    let items = crate::pgcompat::functions::array_elements(body)?
        .into_iter()
        .map(|item| match item {
            None => Expr::Value(Value::Null.into()),
            Some(text) => cast_to(
                Expr::Value(Value::SingleQuotedString(text).into()),
                element.clone(),
            ),
        })
        .collect();
    Some(call("make_array", items))
}

/// `x = ANY($1)` (pgcli, pgjdbc's setArray): the client sends the array in text form and often
/// with no declared type, so DataFusion cannot type the placeholder. Compared as text instead:
/// `array_has(tarn_pg_array($1), CAST(x AS TEXT))`, and `x <> ALL($1)` as its negation.
pub(super) fn array_parameter(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, DataType as T, UnaryOperator, Value};
    let (left, right, negated) = match expr {
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } => (left, right, false),
        Expr::AllOp {
            left,
            compare_op: BinaryOperator::NotEq,
            right,
        } => (left, right, true),
        _ => return None,
    };
    let parameter = match right.as_ref() {
        Expr::Nested(inner) => inner.as_ref(),
        other => other,
    };
    if !matches!(parameter, Expr::Value(v) if matches!(v.value, Value::Placeholder(_))) {
        return None;
    }
    let text = cast_to(left.as_ref().clone(), T::Text);
    let has = call(
        "array_has",
        vec![call("tarn_pg_array", vec![parameter.clone()]), text],
    );
    Some(if negated {
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: Box::new(Expr::Nested(Box::new(has))),
        }
    } else {
        has
    })
}

/// `generate_subscripts(a, 1)` (SQLAlchemy, pgcli: paired with `unnest(a)` in a SELECT list) as
/// `unnest(range(1, cardinality(a) + 1))`: DataFusion zips several unnests of one SELECT list
/// the way PostgreSQL zips set-returning functions.
pub(super) fn subscripts(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{
        BinaryOperator, DataType as T, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
    };
    let Expr::Function(f) = expr else {
        return None;
    };
    let is_subscripts = matches!(f.name.0.last(), Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("generate_subscripts"));
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let [
        FunctionArg::Unnamed(FunctionArgExpr::Expr(array)),
        FunctionArg::Unnamed(FunctionArgExpr::Expr(_)),
    ] = list.args.as_slice()
    else {
        return None;
    };
    if !is_subscripts {
        return None;
    }
    let length = cast_to(call("cardinality", vec![array.clone()]), T::BigInt(None));
    let one = || Expr::Value(Value::Number("1".into(), false).into());
    let end = Expr::BinaryOp {
        left: Box::new(length),
        op: BinaryOperator::Plus,
        right: Box::new(one()),
    };
    Some(call("unnest", vec![call("range", vec![one(), end])]))
}

/// `array_column = '{0}'` (psql's pg_policy query): DataFusion cannot cast text to an array,
/// so the other side is compared in PostgreSQL's array text form instead.
pub(super) fn array_literal_comparison(expr: &mut Expr) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, Value};
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    if !matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq) {
        return;
    }
    let is_array_literal = |e: &Expr| matches!(e, Expr::Value(v) if matches!(&v.value, Value::SingleQuotedString(s) if s.starts_with('{') && s.ends_with('}')));
    let other = if is_array_literal(right) && !matches!(left.as_ref(), Expr::Value(_)) {
        left
    } else if is_array_literal(left) && !matches!(right.as_ref(), Expr::Value(_)) {
        right
    } else {
        return;
    };
    **other = call("tarn_array_text", vec![other.as_ref().clone()]);
}

/// Postgres type names DataFusion does not know (`pg_catalog.text`, `regclass`, `oid`, …) as
/// the types tarn represents them with: OIDs and reg* types are integers.
pub(super) fn plain_type(
    data_type: &datafusion::sql::sqlparser::ast::DataType,
) -> Option<datafusion::sql::sqlparser::ast::DataType> {
    use datafusion::sql::sqlparser::ast::DataType as T;
    if matches!(data_type, T::Regclass) {
        return Some(T::BigInt(None));
    }
    let T::Custom(name, modifiers) = data_type else {
        return None;
    };
    if !modifiers.is_empty() {
        return None;
    }
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let last = match parts.as_slice() {
        [t] => t.as_str(),
        [schema, t] if schema == "pg_catalog" => t.as_str(),
        _ => return None,
    };
    Some(match last {
        "text" | "name" | "varchar" | "bpchar" | "char" => T::Text,
        "oid" | "regclass" | "regtype" | "regproc" | "regprocedure" | "regnamespace"
        | "regrole" | "int8" | "xid" => T::BigInt(None),
        "int4" => T::Int(None),
        "int2" => T::SmallInt(None),
        "bool" => T::Boolean,
        "float8" => T::Double(datafusion::sql::sqlparser::ast::ExactNumberInfo::None),
        "float4" => T::Real,
        "date" => T::Date,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn array_text_forms_split_like_postgres() {
        let split = |s: &str| crate::pgcompat::functions::array_elements(s);
        let some = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        assert_eq!(split("r, p ,f"), Some(some(&["r", "p", "f"])));
        assert_eq!(
            split("\"a,b\",NULL,\"NULL\""),
            Some(vec![Some("a,b".into()), None, Some("NULL".into())])
        );
        assert_eq!(split(""), Some(vec![]));
        assert_eq!(split("{1},{2}"), None);
    }
}
