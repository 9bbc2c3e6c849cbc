//! Arrow types as Postgres types: the OID (and size) each Arrow type is reported as, and the
//! Arrow type a client-named parameter OID binds as.

use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};

/// Postgres type OIDs (pg_type.oid) tarn uses.
pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// PostgreSQL's built-in range types: (range OID, name, subtype OID, multirange OID). Tarn has
/// no range values, but lists them in pg_type / pg_range as PostgreSQL does (Npgsql and psycopg
/// load them).
pub const RANGES: &[(u32, &str, u32, u32)] = &[
    (3904, "int4range", oid::INT4, 4451),
    (3906, "numrange", oid::NUMERIC, 4532),
    (3908, "tsrange", oid::TIMESTAMP, 4533),
    (3910, "tstzrange", oid::TIMESTAMPTZ, 4534),
    (3912, "daterange", oid::DATE, 4535),
    (3926, "int8range", oid::INT8, 4536),
];

/// The element OID and the array OID of each array-capable type.
const ARRAY_OIDS: &[(u32, u32)] = &[
    (3904, 3905),
    (3906, 3907),
    (3908, 3909),
    (3910, 3911),
    (3912, 3913),
    (3926, 3927),
    (oid::BOOL, 1000),
    (oid::BYTEA, 1001),
    (oid::INT2, 1005),
    (oid::INT4, 1007),
    (oid::TEXT, 1009),
    (oid::VARCHAR, 1015),
    (oid::INT8, 1016),
    (oid::FLOAT4, 1021),
    (oid::FLOAT8, 1022),
    (oid::DATE, 1182),
    (oid::TIME, 1183),
    (oid::TIMESTAMP, 1115),
    (oid::TIMESTAMPTZ, 1185),
    (oid::INTERVAL, 1187),
    (oid::NUMERIC, 1231),
    (oid::UUID, 2951),
    (oid::JSON, 199),
    (oid::JSONB, 3807),
];

/// The array type of an element type (`text` for types without one).
pub fn array_of(element: u32) -> u32 {
    ARRAY_OIDS
        .iter()
        .find(|(e, _)| *e == element)
        .map(|(_, a)| *a)
        .unwrap_or(oid::TEXT)
}

/// The element type of an array OID.
pub fn element_of(array: u32) -> Option<u32> {
    ARRAY_OIDS
        .iter()
        .find(|(_, a)| *a == array)
        .map(|(e, _)| *e)
}

/// Whether a field carries Arrow's canonical UUID or JSON extension type.
fn extension(field: &Field) -> Option<&str> {
    field
        .metadata()
        .get("ARROW:extension:name")
        .map(String::as_str)
}

/// The Postgres type OID a column is reported as. Types without an exact equivalent map to the
/// next wider type (unsigned integers, Float16); nested types other than lists are sent as text.
pub fn pg_type(field: &Field) -> u32 {
    match extension(field) {
        Some("arrow.uuid") => return oid::UUID,
        Some("arrow.json") => return oid::JSON,
        _ => {}
    }
    type_oid(field.data_type())
}

pub fn type_oid(data_type: &DataType) -> u32 {
    use DataType::*;
    match data_type {
        Boolean => oid::BOOL,
        Int8 | Int16 | UInt8 => oid::INT2,
        Int32 | UInt16 => oid::INT4,
        Int64 | UInt32 => oid::INT8,
        UInt64 => oid::NUMERIC,
        Float16 | Float32 => oid::FLOAT4,
        Float64 => oid::FLOAT8,
        Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => oid::NUMERIC,
        Utf8 | LargeUtf8 | Utf8View => oid::TEXT,
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => oid::BYTEA,
        Date32 | Date64 => oid::DATE,
        Time32(_) | Time64(_) => oid::TIME,
        Timestamp(_, None) => oid::TIMESTAMP,
        Timestamp(_, Some(_)) => oid::TIMESTAMPTZ,
        Interval(_) | Duration(_) => oid::INTERVAL,
        List(f) | LargeList(f) | FixedSizeList(f, _) | ListView(f) | LargeListView(f) => {
            array_of(pg_type(f))
        }
        Dictionary(_, value) => type_oid(value),
        RunEndEncoded(_, values) => pg_type(values),
        Null | Struct(_) | Map(..) | Union(..) => oid::TEXT,
    }
}

/// pg_type.typlen of a reported type (-1 = variable length).
pub fn type_size(oid: u32) -> i16 {
    match oid {
        oid::BOOL | oid::CHAR => 1,
        oid::INT2 => 2,
        oid::INT4 | oid::FLOAT4 | oid::DATE | oid::OID => 4,
        oid::INT8 | oid::FLOAT8 | oid::TIME | oid::TIMESTAMP | oid::TIMESTAMPTZ => 8,
        oid::INTERVAL | oid::UUID => 16,
        oid::NAME => 64,
        _ => -1,
    }
}

/// The Arrow type a parameter declared with `oid` binds as; `None` for unknown/unspecified OIDs,
/// which take the type DataFusion infers (or text).
pub fn arrow_type(oid: u32) -> Option<DataType> {
    Some(match oid {
        oid::BOOL => DataType::Boolean,
        oid::BYTEA => DataType::Binary,
        oid::INT2 => DataType::Int16,
        oid::INT4 | oid::OID => DataType::Int32,
        oid::INT8 => DataType::Int64,
        oid::FLOAT4 => DataType::Float32,
        oid::FLOAT8 => DataType::Float64,
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::CHAR | oid::JSON | oid::JSONB => {
            DataType::Utf8
        }
        oid::UUID => DataType::Utf8,
        oid::NUMERIC => DataType::Decimal128(38, 10),
        oid::DATE => DataType::Date32,
        oid::TIME => DataType::Time64(TimeUnit::Microsecond),
        oid::TIMESTAMP => DataType::Timestamp(TimeUnit::Microsecond, None),
        oid::TIMESTAMPTZ => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        oid::INTERVAL => DataType::Interval(IntervalUnit::MonthDayNano),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn arrow_types_map_to_pg_types() {
        let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        let cases = [
            (DataType::Boolean, oid::BOOL),
            (DataType::Int8, oid::INT2),
            (DataType::UInt16, oid::INT4),
            (DataType::UInt32, oid::INT8),
            (DataType::UInt64, oid::NUMERIC),
            (DataType::Float16, oid::FLOAT4),
            (DataType::Float64, oid::FLOAT8),
            (DataType::Decimal128(10, 2), oid::NUMERIC),
            (DataType::Utf8View, oid::TEXT),
            (DataType::LargeBinary, oid::BYTEA),
            (DataType::Date32, oid::DATE),
            (DataType::Time64(TimeUnit::Nanosecond), oid::TIME),
            (
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                oid::TIMESTAMP,
            ),
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                oid::TIMESTAMPTZ,
            ),
            (
                DataType::Interval(IntervalUnit::MonthDayNano),
                oid::INTERVAL,
            ),
            (list(DataType::Int64), 1016),
            (list(DataType::Utf8), 1009),
            (
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                oid::TEXT,
            ),
        ];
        for (t, expected) in cases {
            assert_eq!(type_oid(&t), expected, "{t}");
        }
        let uuid = Field::new("u", DataType::FixedSizeBinary(16), true)
            .with_metadata([("ARROW:extension:name".to_string(), "arrow.uuid".to_string())].into());
        assert_eq!(pg_type(&uuid), oid::UUID);
        assert_eq!(element_of(1016), Some(oid::INT8));
        assert_eq!(arrow_type(oid::INT4), Some(DataType::Int32));
        assert_eq!(arrow_type(0), None);
    }
}
