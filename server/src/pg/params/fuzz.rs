//! Arbitrary client bytes through the parameter decoders: every supported OID (and its array
//! type), text and binary, with and without an inferred type. Nothing may panic; malformed or
//! out-of-range values are 22P02 / 22003 / 22008 errors.

use datafusion::arrow::datatypes::{DataType, IntervalUnit, TimeUnit};
use proptest::prelude::*;
use tarn_engine::ErrorKind;

use super::super::encode::Format;
use super::super::types::{array_of, oid};
use super::decode;

const OIDS: &[u32] = &[
    0,
    oid::BOOL,
    oid::BYTEA,
    oid::CHAR,
    oid::NAME,
    oid::INT8,
    oid::INT2,
    oid::INT4,
    oid::TEXT,
    oid::OID,
    oid::JSON,
    oid::FLOAT4,
    oid::FLOAT8,
    oid::UNKNOWN,
    oid::BPCHAR,
    oid::VARCHAR,
    oid::DATE,
    oid::TIME,
    oid::TIMESTAMP,
    oid::TIMESTAMPTZ,
    oid::INTERVAL,
    oid::NUMERIC,
    oid::UUID,
    oid::JSONB,
];

fn inferred_types() -> Vec<Option<DataType>> {
    vec![
        None,
        Some(DataType::Int32),
        Some(DataType::Int64),
        Some(DataType::Decimal128(10, 2)),
        Some(DataType::Date32),
        Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        Some(DataType::Interval(IntervalUnit::MonthDayNano)),
        Some(DataType::Utf8View),
    ]
}

fn every_oid() -> impl Iterator<Item = u32> {
    OIDS.iter().flat_map(|o| [*o, array_of(*o)])
}

/// Decodes `bytes` every way a client could ask for; errors must carry a data-error kind.
fn decode_every_way(bytes: &[u8]) {
    for declared in every_oid() {
        for inferred in inferred_types() {
            for format in [Format::Text, Format::Binary] {
                if let Err(e) = decode(0, Some(bytes), format, declared, inferred.as_ref()) {
                    assert!(
                        matches!(
                            e.kind(),
                            ErrorKind::InvalidTextRepresentation
                                | ErrorKind::NumericOverflow
                                | ErrorKind::DatetimeOverflow
                        ),
                        "{declared} {format:?} {inferred:?}: {:?} {e}",
                        e.kind()
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        decode_every_way(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,24}") {
        decode_every_way(text.as_bytes());
        decode_every_way(format!("\\x{text}").as_bytes());
    }

    /// Fixed-width binary values of every size a type reads (1, 2, 4, 8, 16 bytes).
    #[test]
    fn fixed_width_binary_never_panics(
        bytes in prop_oneof![Just(1usize), Just(2), Just(4), Just(8), Just(16)]
            .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n)),
    ) {
        decode_every_way(&bytes);
    }
}

/// The cases found in review, as fixed regressions.
#[test]
fn known_panics_are_errors() {
    let text = |s: &str, oid| decode(0, Some(s.as_bytes()), Format::Text, oid, None);
    let binary = |b: &[u8], oid| decode(0, Some(b), Format::Binary, oid, None);
    // Hex digits around a multi-byte character: no slice inside the character.
    let e = text("\\xé0", oid::BYTEA).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTextRepresentation, "{e}");
    assert!(text("\\x0é", oid::BYTEA).is_err());
    let e = text("\\x0é0", oid::BYTEA).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTextRepresentation, "{e}");
    assert!(text("\\xa€", oid::BYTEA).is_err());
    // Dates and timestamps beyond the epoch shift.
    let e = binary(&i32::MAX.to_be_bytes(), oid::DATE).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DatetimeOverflow, "{e}");
    let e = binary(&i64::MAX.to_be_bytes(), oid::TIMESTAMP).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DatetimeOverflow, "{e}");
    let e = binary(&i64::MAX.to_be_bytes(), oid::TIMESTAMPTZ).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DatetimeOverflow, "{e}");
    // A numeric whose weight is the largest i16 (the digit-group counter used to overflow).
    let numeric = [0, 1, 0x7f, 0xff, 0, 0, 0, 2, 0, 1];
    let e = binary(&numeric, oid::NUMERIC).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NumericOverflow, "{e}");
}
