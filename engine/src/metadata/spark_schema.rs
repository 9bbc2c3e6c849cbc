//! Spark's schema JSON (`spark.sql.sources.schema`, a `StructType` as `DataType.json`) to
//! Hive columns.

use serde_json::Value;
use tarn_catalog::Column;

use crate::error::{EngineError, Result};

/// The columns of a Spark `StructType` JSON document, names lower-cased as Hive stores them.
pub(super) fn columns(json: &str) -> Result<Vec<Column>> {
    let doc: Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    let fields = doc
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no fields"))?;
    fields
        .iter()
        .map(|f| {
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("field name"))?;
            let ty = hive_type(f.get("type").ok_or_else(|| bad("field type"))?, 0)?;
            let comment = f
                .get("metadata")
                .and_then(|m| m.get("comment"))
                .and_then(Value::as_str)
                .map(str::to_string);
            Ok(Column::new(name, &ty, comment)?)
        })
        .collect()
}

/// Spark's type (a name, or an object for nested types) as a Hive type string.
fn hive_type(t: &Value, depth: usize) -> Result<String> {
    if depth > tarn_catalog::hive_types::MAX_NESTING_DEPTH {
        return Err(bad("types nested too deeply"));
    }
    if let Some(name) = t.as_str() {
        return primitive(name);
    }
    let kind = t
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("type"))?;
    match kind {
        "array" => Ok(format!(
            "array<{}>",
            hive_type(
                t.get("elementType").ok_or_else(|| bad("elementType"))?,
                depth + 1
            )?
        )),
        "map" => Ok(format!(
            "map<{},{}>",
            hive_type(t.get("keyType").ok_or_else(|| bad("keyType"))?, depth + 1)?,
            hive_type(
                t.get("valueType").ok_or_else(|| bad("valueType"))?,
                depth + 1
            )?
        )),
        "struct" => {
            let fields = t
                .get("fields")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("fields"))?;
            let inner = fields
                .iter()
                .map(|f| {
                    let name = f
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("name"))?;
                    let ty = hive_type(f.get("type").ok_or_else(|| bad("type"))?, depth + 1)?;
                    Ok(format!("{}:{ty}", name.to_lowercase()))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(format!("struct<{}>", inner.join(",")))
        }
        other => Err(bad(&format!("type '{other}'"))),
    }
}

fn primitive(name: &str) -> Result<String> {
    let hive = match name {
        "byte" => "tinyint",
        "short" => "smallint",
        "integer" => "int",
        "long" => "bigint",
        "float" => "float",
        "double" => "double",
        "boolean" => "boolean",
        "binary" => "binary",
        "date" => "date",
        "timestamp" | "timestamp_ntz" => "timestamp",
        "string" => "string",
        s if s.starts_with("decimal(") || s.starts_with("varchar(") || s.starts_with("char(") => s,
        other => return Err(bad(&format!("type '{other}'"))),
    };
    Ok(hive.to_string())
}

fn bad(what: &str) -> EngineError {
    EngineError::InvalidParameter(format!("malformed Spark schema parameter: {what}"))
}

#[cfg(test)]
mod tests {
    use super::columns;

    #[test]
    fn spark_struct_json_maps_to_hive_columns() {
        let json = r#"{"type":"struct","fields":[
            {"name":"Id","type":"long","nullable":true,"metadata":{}},
            {"name":"amount","type":"decimal(12,2)","nullable":true,"metadata":{"comment":"eur"}},
            {"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},
            {"name":"m","type":{"type":"map","keyType":"string","valueType":"integer","valueContainsNull":true},"nullable":true,"metadata":{}},
            {"name":"s","type":{"type":"struct","fields":[{"name":"A","type":"date","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
            {"name":"dt","type":"string","nullable":true,"metadata":{}}]}"#;
        let cols = columns(json).unwrap();
        let got: Vec<(String, String)> = cols
            .iter()
            .map(|c| (c.name.clone(), c.hive_type.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("id", "bigint"),
                ("amount", "decimal(12,2)"),
                ("tags", "array<string>"),
                ("m", "map<string,int>"),
                ("s", "struct<a:date>"),
                ("dt", "string"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(cols[1].comment.as_deref(), Some("eur"));
        assert!(columns(r#"{"type":"struct","fields":[{"name":"x","type":"variant"}]}"#).is_err());
        assert!(columns("not json").is_err());
    }
}
