//! tarn-server: the network front ends, thin translations onto the engine seam
//! ([`tarn_engine::Session`]): the Postgres wire protocol now, Arrow Flight SQL next.

pub mod pg;

pub use pg::{AuthMethod, PgConfig, PgServer, ServerError, TlsConfig};
