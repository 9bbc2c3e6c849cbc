//! Arrow type <-> Postgres type OID mapping: lives in the engine (pg_catalog needs it); the wire
//! front end uses it from there.

pub use tarn_engine::pg_types::*;
