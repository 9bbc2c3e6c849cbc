//! Hive type strings <-> Arrow data types.
//!
//! Hive type names are case-insensitive and may nest (`array<map<string,struct<a:int>>>`). Parsing
//! produces a small tree that renders back to Hive's canonical lower-case spelling and maps to
//! Arrow one way; the Arrow -> Hive direction widens types Hive lacks (unsigned integers).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};

use crate::error::{CatalogError, Result};

/// Hive's default precision and scale for a bare `decimal`.
const DEFAULT_DECIMAL: (u8, i8) = (10, 0);
/// Hive's maximum decimal precision.
const MAX_DECIMAL_PRECISION: u8 = 38;
/// How deeply `array`/`map`/`struct` may nest. The parser, the renderer and the Arrow mapping
/// all recurse, and type strings come from users (`CREATE TABLE`), so the depth is bounded:
/// no real schema comes near this, while 100k levels would exhaust a thread's stack.
pub const MAX_NESTING_DEPTH: usize = 64;
/// How much of an offending type string an error message quotes.
const MAX_QUOTED_TYPE: usize = 200;

/// A parsed Hive type.
#[derive(Debug, Clone, PartialEq)]
pub enum HiveType {
    Primitive(&'static str),
    Decimal(u8, i8),
    Varchar(u32),
    Char(u32),
    Array(Box<HiveType>),
    Map(Box<HiveType>, Box<HiveType>),
    Struct(Vec<(String, HiveType)>),
}

/// Primitive Hive names, their aliases, and the Arrow type each reads as.
const PRIMITIVES: &[(&str, &str, DataType)] = &[
    ("tinyint", "tinyint", DataType::Int8),
    ("smallint", "smallint", DataType::Int16),
    ("int", "int", DataType::Int32),
    ("integer", "int", DataType::Int32),
    ("bigint", "bigint", DataType::Int64),
    ("float", "float", DataType::Float32),
    ("double", "double", DataType::Float64),
    ("string", "string", DataType::Utf8),
    ("text", "string", DataType::Utf8),
    ("bool", "boolean", DataType::Boolean),
    // Postgres's internal names, which its tools (pg_dump, dbt's column types) also write.
    ("int2", "smallint", DataType::Int16),
    ("int4", "int", DataType::Int32),
    ("int8", "bigint", DataType::Int64),
    ("float4", "float", DataType::Float32),
    ("float8", "double", DataType::Float64),
    ("bytea", "binary", DataType::Binary),
    ("real", "float", DataType::Float32),
    ("boolean", "boolean", DataType::Boolean),
    ("binary", "binary", DataType::Binary),
    ("date", "date", DataType::Date32),
    (
        "timestamp",
        "timestamp",
        DataType::Timestamp(TimeUnit::Microsecond, None),
    ),
];

/// Parses a Hive type string.
pub fn parse(type_name: &str) -> Result<HiveType> {
    let mut parser = TypeParser {
        src: type_name,
        pos: 0,
        depth: 0,
    };
    let ty = parser.parse_type()?;
    parser.skip_ws();
    if parser.pos != parser.src.len() {
        return Err(parser.error("unexpected trailing characters"));
    }
    Ok(ty)
}

/// Validates a type string and returns Hive's canonical spelling of it.
pub fn canonicalize(type_name: &str) -> Result<String> {
    Ok(parse(type_name)?.to_string())
}

/// The Arrow type a Hive type string reads as.
pub fn to_arrow(type_name: &str) -> Result<DataType> {
    Ok(parse(type_name)?.to_arrow())
}

/// The Hive type string an Arrow type is stored as (widening where Hive has no equivalent).
pub fn from_arrow(data_type: &DataType) -> Result<String> {
    check_arrow_depth(data_type, 0)?;
    Ok(hive_of_arrow(data_type)?.to_string())
}

/// Refuses Arrow types nested deeper than [`MAX_NESTING_DEPTH`] before mapping them, so that
/// every Hive type tarn stores parses back.
fn check_arrow_depth(dt: &DataType, depth: usize) -> Result<()> {
    if depth > MAX_NESTING_DEPTH {
        return Err(CatalogError::InvalidType {
            type_name: quoted(&dt.to_string()),
            reason: format!("types may nest at most {MAX_NESTING_DEPTH} levels deep"),
        });
    }
    use DataType::*;
    match dt {
        List(f) | LargeList(f) | ListView(f) | LargeListView(f) | FixedSizeList(f, _) => {
            check_arrow_depth(f.data_type(), depth + 1)
        }
        Map(f, _) => check_arrow_depth(f.data_type(), depth),
        Struct(fields) => fields
            .iter()
            .try_for_each(|f| check_arrow_depth(f.data_type(), depth + 1)),
        Dictionary(_, value) => check_arrow_depth(value, depth),
        RunEndEncoded(_, value) => check_arrow_depth(value.data_type(), depth),
        _ => Ok(()),
    }
}

/// The start of a (possibly huge, user-supplied) type string, for error messages.
fn quoted(type_name: &str) -> String {
    match type_name.char_indices().nth(MAX_QUOTED_TYPE) {
        Some((cut, _)) => format!("{}...", &type_name[..cut]),
        None => type_name.to_string(),
    }
}

impl HiveType {
    pub fn to_arrow(&self) -> DataType {
        match self {
            HiveType::Primitive(name) => primitive_arrow(name),
            HiveType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            HiveType::Varchar(_) | HiveType::Char(_) => DataType::Utf8,
            HiveType::Array(item) => {
                DataType::List(Arc::new(Field::new("item", item.to_arrow(), true)))
            }
            HiveType::Map(k, v) => {
                let entries = Fields::from(vec![
                    Field::new("key", k.to_arrow(), false),
                    Field::new("value", v.to_arrow(), true),
                ]);
                let entries = Field::new("entries", DataType::Struct(entries), false);
                DataType::Map(Arc::new(entries), false)
            }
            HiveType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(n, t)| Field::new(n, t.to_arrow(), true))
                    .collect(),
            ),
        }
    }
}

fn primitive_arrow(name: &str) -> DataType {
    PRIMITIVES
        .iter()
        .find(|(alias, _, _)| *alias == name)
        .map(|(_, _, dt)| dt.clone())
        .unwrap_or(DataType::Utf8)
}

impl std::fmt::Display for HiveType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HiveType::Primitive(name) => f.write_str(name),
            HiveType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            HiveType::Varchar(n) => write!(f, "varchar({n})"),
            HiveType::Char(n) => write!(f, "char({n})"),
            HiveType::Array(item) => write!(f, "array<{item}>"),
            HiveType::Map(k, v) => write!(f, "map<{k},{v}>"),
            HiveType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}:{ty}")?;
                }
                f.write_str(">")
            }
        }
    }
}

fn hive_of_arrow(dt: &DataType) -> Result<HiveType> {
    use DataType::*;
    let prim = |n: &'static str| Ok(HiveType::Primitive(n));
    match dt {
        Null | Utf8 | LargeUtf8 | Utf8View => prim("string"),
        Boolean => prim("boolean"),
        Int8 => prim("tinyint"),
        Int16 | UInt8 => prim("smallint"),
        Int32 | UInt16 => prim("int"),
        Int64 | UInt32 => prim("bigint"),
        UInt64 => Ok(HiveType::Decimal(20, 0)),
        Float16 | Float32 => prim("float"),
        Float64 => prim("double"),
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s)
            if *p <= MAX_DECIMAL_PRECISION =>
        {
            Ok(HiveType::Decimal(*p, *s))
        }
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => prim("binary"),
        Date32 | Date64 => prim("date"),
        Timestamp(_, _) => prim("timestamp"),
        List(f) | LargeList(f) | ListView(f) | LargeListView(f) | FixedSizeList(f, _) => {
            Ok(HiveType::Array(Box::new(hive_of_arrow(f.data_type())?)))
        }
        Map(entries, _) => match entries.data_type() {
            Struct(kv) if kv.len() == 2 => Ok(HiveType::Map(
                Box::new(hive_of_arrow(kv[0].data_type())?),
                Box::new(hive_of_arrow(kv[1].data_type())?),
            )),
            other => Err(unsupported(other)),
        },
        Struct(fields) => Ok(HiveType::Struct(
            fields
                .iter()
                .map(|f| Ok((f.name().to_lowercase(), hive_of_arrow(f.data_type())?)))
                .collect::<Result<_>>()?,
        )),
        Dictionary(_, value) => hive_of_arrow(value),
        RunEndEncoded(_, value) => hive_of_arrow(value.data_type()),
        other => Err(unsupported(other)),
    }
}

fn unsupported(dt: &DataType) -> CatalogError {
    CatalogError::InvalidType {
        type_name: dt.to_string(),
        reason: "no Hive equivalent".into(),
    }
}

/// A recursive-descent parser over a Hive type string; `depth` counts the open `<`s so that
/// nesting stays within [`MAX_NESTING_DEPTH`].
struct TypeParser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl TypeParser<'_> {
    fn error(&self, reason: &str) -> CatalogError {
        CatalogError::InvalidType {
            type_name: quoted(self.src),
            reason: format!("{reason} at position {}", self.pos),
        }
    }

    /// Enters one `<...>` level, refusing to go deeper than [`MAX_NESTING_DEPTH`].
    fn open(&mut self) -> Result<()> {
        self.expect('<')?;
        self.depth += 1;
        if self.depth > MAX_NESTING_DEPTH {
            return Err(self.error(&format!(
                "types may nest at most {MAX_NESTING_DEPTH} levels deep"
            )));
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.expect('>')?;
        self.depth -= 1;
        Ok(())
    }

    fn skip_ws(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.src[self.pos..].chars().next()
    }

    fn expect(&mut self, c: char) -> Result<()> {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            Err(self.error(&format!("expected '{c}'")))
        }
    }

    fn word(&mut self) -> Result<String> {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error("expected a name"));
        }
        self.pos += len;
        Ok(rest[..len].to_string())
    }

    /// Consumes `words` (case-insensitive) if they come next, else nothing.
    fn eat_words(&mut self, words: &[&str]) -> bool {
        let save = self.pos;
        for w in words {
            if !self.word().is_ok_and(|got| got.eq_ignore_ascii_case(w)) {
                self.pos = save;
                return false;
            }
        }
        true
    }

    fn number(&mut self) -> Result<u32> {
        let w = self.word()?;
        w.parse().map_err(|_| self.error("expected a number"))
    }

    fn parse_type(&mut self) -> Result<HiveType> {
        let name = self.word()?.to_lowercase();
        match name.as_str() {
            "array" => {
                self.open()?;
                let item = self.parse_type()?;
                self.close()?;
                Ok(HiveType::Array(Box::new(item)))
            }
            "map" => {
                self.open()?;
                let key = self.parse_type()?;
                self.expect(',')?;
                let value = self.parse_type()?;
                self.close()?;
                Ok(HiveType::Map(Box::new(key), Box::new(value)))
            }
            "struct" => self.parse_struct(),
            "decimal" | "numeric" => self.parse_decimal(),
            // DataFusion and Postgres spell unbounded strings `varchar` / `text`.
            "varchar" if self.peek() != Some('(') => Ok(HiveType::Primitive("string")),
            "varchar" => Ok(HiveType::Varchar(self.parse_length()?)),
            "char" if self.peek() == Some('(') => Ok(HiveType::Char(self.parse_length()?)),
            "char" => Ok(HiveType::Char(1)),
            // Postgres's spellings: `character varying(n)`, `character(n)`.
            "character" if self.eat_words(&["varying"]) => {
                if self.peek() == Some('(') {
                    Ok(HiveType::Varchar(self.parse_length()?))
                } else {
                    Ok(HiveType::Primitive("string"))
                }
            }
            "character" if self.peek() == Some('(') => Ok(HiveType::Char(self.parse_length()?)),
            "character" => Ok(HiveType::Char(1)),
            // `timestamp[(p)] [without time zone]`: Postgres's name for Hive's timestamp (a
            // wall-clock time). The zoned kind has no Hive equivalent and stays unknown.
            "timestamp" => {
                if self.peek() == Some('(') {
                    // Fractional digits: Hive's timestamp keeps what it is given.
                    self.expect('(')?;
                    self.number()?;
                    self.expect(')')?;
                }
                if self.eat_words(&["with", "time", "zone"]) {
                    return Err(CatalogError::InvalidType {
                        type_name: quoted(self.src),
                        reason: "timestamp with time zone has no Hive type; use timestamp".into(),
                    });
                }
                self.eat_words(&["without", "time", "zone"]);
                Ok(HiveType::Primitive("timestamp"))
            }
            "double" => {
                // Hive accepts `double precision`.
                let save = self.pos;
                if !self
                    .word()
                    .is_ok_and(|w| w.eq_ignore_ascii_case("precision"))
                {
                    self.pos = save;
                }
                Ok(HiveType::Primitive("double"))
            }
            other => PRIMITIVES
                .iter()
                .find(|(alias, _, _)| *alias == other)
                .map(|(_, canonical, _)| HiveType::Primitive(canonical))
                .ok_or_else(|| CatalogError::InvalidType {
                    type_name: quoted(self.src),
                    reason: format!("unknown type '{other}'"),
                }),
        }
    }

    fn parse_struct(&mut self) -> Result<HiveType> {
        self.open()?;
        let mut fields = Vec::new();
        if self.peek() == Some('>') {
            return Err(self.error("a struct needs at least one field"));
        }
        loop {
            let name = self.word()?.to_lowercase();
            self.expect(':')?;
            fields.push((name, self.parse_type()?));
            match self.peek() {
                Some(',') => self.pos += 1,
                _ => break,
            }
        }
        self.close()?;
        Ok(HiveType::Struct(fields))
    }

    fn parse_decimal(&mut self) -> Result<HiveType> {
        if self.peek() != Some('(') {
            return Ok(HiveType::Decimal(DEFAULT_DECIMAL.0, DEFAULT_DECIMAL.1));
        }
        self.expect('(')?;
        let precision = self.number()?;
        let scale = if self.peek() == Some(',') {
            self.pos += 1;
            self.number()?
        } else {
            0
        };
        self.expect(')')?;
        if precision == 0 || precision > u32::from(MAX_DECIMAL_PRECISION) || scale > precision {
            return Err(self.error("decimal precision must be 1..=38 and scale <= precision"));
        }
        Ok(HiveType::Decimal(precision as u8, scale as i8))
    }

    fn parse_length(&mut self) -> Result<u32> {
        self.expect('(')?;
        let n = self.number()?;
        self.expect(')')?;
        if n == 0 {
            return Err(self.error("length must be positive"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_spellings_are_their_hive_types() {
        for (pg, hive) in [
            ("timestamp without time zone", "timestamp"),
            ("TIMESTAMP(6) WITHOUT TIME ZONE", "timestamp"),
            ("timestamp(0)", "timestamp"),
            ("character varying(256)", "varchar(256)"),
            ("character varying", "string"),
            ("character(2)", "char(2)"),
            ("character", "char(1)"),
            ("char", "char(1)"),
            ("int2", "smallint"),
            ("int4", "int"),
            ("int8", "bigint"),
            ("float4", "float"),
            ("float8", "double"),
            ("bytea", "binary"),
            ("numeric(10,2)", "decimal(10,2)"),
            ("array<character varying(3)>", "array<varchar(3)>"),
        ] {
            assert_eq!(canonicalize(pg).unwrap(), hive, "{pg}");
        }
        for bad in [
            "timestamp with time zone",
            "timestamp without zone",
            "character varying(0)",
            "timestamp(x)",
        ] {
            assert!(canonicalize(bad).is_err(), "{bad}");
        }
    }

    fn list(dt: DataType) -> DataType {
        DataType::List(Arc::new(Field::new("item", dt, true)))
    }

    #[test]
    fn every_hive_type_maps_to_arrow_and_back() {
        let cases: Vec<(&str, &str, DataType)> = vec![
            ("tinyint", "tinyint", DataType::Int8),
            ("SMALLINT", "smallint", DataType::Int16),
            ("int", "int", DataType::Int32),
            ("integer", "int", DataType::Int32),
            ("bigint", "bigint", DataType::Int64),
            ("float", "float", DataType::Float32),
            ("double", "double", DataType::Float64),
            ("double precision", "double", DataType::Float64),
            ("decimal", "decimal(10,0)", DataType::Decimal128(10, 0)),
            (
                "decimal(12, 2)",
                "decimal(12,2)",
                DataType::Decimal128(12, 2),
            ),
            ("DECIMAL(38)", "decimal(38,0)", DataType::Decimal128(38, 0)),
            ("string", "string", DataType::Utf8),
            ("text", "string", DataType::Utf8),
            ("bool", "boolean", DataType::Boolean),
            ("real", "float", DataType::Float32),
            ("varchar(20)", "varchar(20)", DataType::Utf8),
            ("VARCHAR", "string", DataType::Utf8),
            ("text", "string", DataType::Utf8),
            ("bool", "boolean", DataType::Boolean),
            ("real", "float", DataType::Float32),
            ("char(3)", "char(3)", DataType::Utf8),
            ("boolean", "boolean", DataType::Boolean),
            ("binary", "binary", DataType::Binary),
            ("date", "date", DataType::Date32),
            (
                "timestamp",
                "timestamp",
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ),
            ("array<int>", "array<int>", list(DataType::Int32)),
            (
                "array< array<string> >",
                "array<array<string>>",
                list(list(DataType::Utf8)),
            ),
        ];
        for (input, canonical, arrow) in cases {
            assert_eq!(canonicalize(input).unwrap(), canonical, "{input}");
            assert_eq!(to_arrow(input).unwrap(), arrow, "{input}");
            // Arrow -> Hive is lossy only for varchar/char (both read as string).
            let back = from_arrow(&arrow).unwrap();
            let expected_back = match canonical {
                c if c.starts_with("varchar") || c.starts_with("char") => "string",
                c => c,
            };
            assert_eq!(back, expected_back, "{input}");
        }
    }

    #[test]
    fn nested_map_and_struct_round_trip() {
        let s = "map<string,struct<a:int,b:array<decimal(5,2)>>>";
        let arrow = to_arrow(s).unwrap();
        assert!(matches!(arrow, DataType::Map(_, false)));
        assert_eq!(from_arrow(&arrow).unwrap(), s);
        assert_eq!(canonicalize("STRUCT< A : INT >").unwrap(), "struct<a:int>");
    }

    #[test]
    fn arrow_types_without_hive_equivalent_widen() {
        assert_eq!(from_arrow(&DataType::UInt8).unwrap(), "smallint");
        assert_eq!(from_arrow(&DataType::UInt16).unwrap(), "int");
        assert_eq!(from_arrow(&DataType::UInt32).unwrap(), "bigint");
        assert_eq!(from_arrow(&DataType::UInt64).unwrap(), "decimal(20,0)");
        assert_eq!(from_arrow(&DataType::Utf8View).unwrap(), "string");
        assert_eq!(from_arrow(&DataType::LargeBinary).unwrap(), "binary");
        assert_eq!(from_arrow(&DataType::Date64).unwrap(), "date");
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(from_arrow(&dict).unwrap(), "string");
        assert!(from_arrow(&DataType::Duration(TimeUnit::Second)).is_err());
    }

    fn nested_arrays(levels: usize) -> String {
        "array<".repeat(levels) + "int" + &">".repeat(levels)
    }

    #[test]
    fn nesting_is_bounded() {
        assert!(canonicalize(&nested_arrays(MAX_NESTING_DEPTH)).is_ok());
        for levels in [MAX_NESTING_DEPTH + 1, 100_000] {
            let err = canonicalize(&nested_arrays(levels)).unwrap_err();
            assert!(err.to_string().contains("nest at most"), "{err}");
            assert!(err.to_string().len() < 1_000, "the message quotes a prefix");
        }
        let deep_struct = "struct<a:".repeat(100_000) + "int" + &">".repeat(100_000);
        assert!(canonicalize(&deep_struct).is_err());
        let deep_map = "map<int,".repeat(100_000) + "int" + &">".repeat(100_000);
        assert!(canonicalize(&deep_map).is_err());
    }

    proptest::proptest! {
        /// Arbitrary text, and text made of type-string pieces: an error or a canonical
        /// spelling that parses back to itself, never a panic.
        #[test]
        fn arbitrary_type_strings_parse_or_fail(
            text in proptest::prop_oneof![
                "\\PC{0,40}",
                proptest::strategy::Strategy::prop_map(
                    proptest::collection::vec(
                        proptest::sample::select(vec![
                            "array", "map", "struct", "<", ">", ",", ":", "int", "string",
                            "decimal", "(", ")", "10", "a", " ", "varchar", "double precision",
                        ]),
                        0..40,
                    ),
                    |parts| parts.concat(),
                ),
            ]
        ) {
            if let Ok(canonical) = canonicalize(&text) {
                proptest::prop_assert_eq!(canonicalize(&canonical).ok(), Some(canonical.clone()));
            }
        }
    }

    #[test]
    fn deep_arrow_types_are_refused() {
        let mut dt = DataType::Int32;
        for _ in 0..=MAX_NESTING_DEPTH {
            dt = list(dt);
        }
        assert!(
            from_arrow(&dt)
                .unwrap_err()
                .to_string()
                .contains("nest at most")
        );
    }

    #[test]
    fn malformed_types_are_rejected_with_a_reason() {
        for bad in [
            "",
            "integr",
            "array<int",
            "map<int>",
            "struct<>",
            "decimal(0,0)",
            "decimal(39,2)",
            "decimal(5,6)",
            "varchar(0)",
            "int extra",
        ] {
            let err = canonicalize(bad).unwrap_err();
            assert!(
                matches!(err, CatalogError::InvalidType { .. }),
                "{bad}: {err}"
            );
        }
    }
}
