use std::io::Cursor;

use super::*;

fn sample() -> Struct {
    Struct::new()
        .with(1, Value::string("name"))
        .with(2, Value::I32(-7))
        .with(3, Value::I64(1 << 40))
        .with(4, Value::Bool(true))
        .with(5, Value::Double(1.5))
        .with(6, Value::strings(["a", "b"]))
        .with(
            7,
            Value::Map(
                TType::String,
                TType::String,
                vec![(Value::string("k"), Value::string("v"))],
            ),
        )
        .with(8, Value::Struct(Struct::new().with(1, Value::I16(3))))
        .with(9, Value::Set(TType::Byte, vec![Value::Byte(1)]))
}

fn roundtrip(strict: bool) {
    let header = Header {
        name: "get_table".into(),
        kind: MessageType::Call,
        seq: 42,
        strict,
    };
    let mut enc = Encoder::default();
    enc.header(&header);
    enc.write_struct(&sample());
    let mut d = Decoder::new(Cursor::new(enc.buf), 1 << 20);
    assert_eq!(d.header(None).unwrap(), header);
    assert_eq!(d.read_struct().unwrap(), sample());
}

#[test]
fn strict_and_old_style_headers_roundtrip() {
    roundtrip(true);
    roundtrip(false);
}

#[test]
fn typed_accessors() {
    let s = sample();
    assert_eq!(s.str(1).as_deref(), Some("name"));
    assert_eq!(s.i32(2), Some(-7));
    assert_eq!(s.i64(3), Some(1 << 40));
    assert_eq!(s.bool(4), Some(true));
    assert_eq!(s.strings(6), ["a", "b"]);
    assert_eq!(s.string_map(7).get("k").map(String::as_str), Some("v"));
    assert_eq!(s.strct(8).and_then(|s| s.i16(1)), Some(3));
    assert_eq!(s.str(2), None);
}

#[test]
fn hostile_input_is_an_error_not_a_panic_or_a_huge_allocation() {
    // A string claiming 2 GiB.
    let mut buf = vec![11u8, 0, 1];
    buf.extend_from_slice(&i32::MAX.to_be_bytes());
    assert!(
        Decoder::new(Cursor::new(buf), 1 << 20)
            .read_struct()
            .is_err()
    );
    // A list claiming a billion elements, then nothing.
    let mut buf = vec![15u8, 0, 1, 8];
    buf.extend_from_slice(&1_000_000_000i32.to_be_bytes());
    assert!(
        Decoder::new(Cursor::new(buf), 1 << 20)
            .read_struct()
            .is_err()
    );
    // A negative length.
    let mut buf = vec![11u8, 0, 1];
    buf.extend_from_slice(&(-5i32).to_be_bytes());
    assert!(
        Decoder::new(Cursor::new(buf), 1 << 20)
            .read_struct()
            .is_err()
    );
    // Structs nested 100k deep.
    let mut buf = Vec::new();
    for _ in 0..100_000 {
        buf.extend_from_slice(&[12, 0, 1]);
    }
    assert!(
        Decoder::new(Cursor::new(buf), 1 << 20)
            .read_struct()
            .is_err()
    );
    // An unknown type byte, a bad version, a truncated message.
    assert!(
        Decoder::new(Cursor::new(vec![99u8, 0, 1]), 1 << 20)
            .read_struct()
            .is_err()
    );
    assert!(
        Decoder::new(Cursor::new(vec![0x80, 0x02, 0, 1]), 1 << 20)
            .header(None)
            .is_err()
    );
    assert!(
        Decoder::new(Cursor::new(vec![8u8, 0, 1, 0]), 1 << 20)
            .read_struct()
            .is_err()
    );
    // Over the message budget.
    let mut enc = Encoder::default();
    enc.write_struct(&Struct::new().with(1, Value::string("x".repeat(100))));
    assert!(
        Decoder::new(Cursor::new(enc.buf), 50)
            .read_struct()
            .is_err()
    );
}

#[test]
fn spliced_fields_encode_as_the_tree_does() {
    let inner = sample();
    let tree = Struct::new()
        .with(1, Value::I32(7))
        .with(6, Value::Struct(inner.clone()));
    let mut rest = inner.clone();
    rest.fields.retain(|(id, _)| *id != 1);
    let mut spliced = encode_fields(&Struct::new().with_opt(1, inner.get(1).cloned()));
    spliced.extend(encode_fields(&rest));
    spliced.push(0);
    let by_bytes = Struct::new()
        .with(1, Value::I32(7))
        .with(6, Value::Encoded(TType::Struct, spliced.into()));
    let (mut a, mut b) = (Encoder::default(), Encoder::default());
    a.write_struct(&tree);
    b.write_struct(&by_bytes);
    // The first field moved to the front of the inner struct: same fields, decoded equal.
    let decoded = Decoder::new(Cursor::new(b.buf), 1 << 20)
        .read_struct()
        .unwrap();
    let expected = Decoder::new(Cursor::new(a.buf), 1 << 20)
        .read_struct()
        .unwrap();
    let sorted = |s: &Struct| {
        let mut f = s.strct(6).unwrap().fields.clone();
        f.sort_by_key(|(id, _)| *id);
        f
    };
    assert_eq!(sorted(&decoded), sorted(&expected));
    assert_eq!(decoded.i32(1), Some(7));
}
