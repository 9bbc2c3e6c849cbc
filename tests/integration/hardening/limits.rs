//! Input that used to recurse without bound or grow without limit.

use tarn::ErrorKind;

use crate::support::TestLake;

/// `array<array<…>>` nested 100k deep in CREATE TABLE is refused with a data type error
/// instead of overflowing the stack, and the session keeps working.
#[tokio::test]
async fn deeply_nested_column_types_are_refused() {
    let lake = TestLake::new();
    let session = lake.tarn.session("alice");
    let levels = 100_000;
    let ty = "array<".repeat(levels) + "int" + &">".repeat(levels);
    let err = session
        .query(&format!("CREATE TABLE deep (a {ty})"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DatatypeMismatch, "{err}");
    assert!(err.to_string().contains("nest at most"), "{err}");
    assert!(
        err.to_string().len() < 2_000,
        "the message quotes a prefix only"
    );
    session
        .query("CREATE TABLE shallow (a array<array<int>>)")
        .await
        .expect("ordinary nesting still works");
}
