//! tarn-server: the network front ends, thin translations onto the engine seam
//! ([`tarn_engine::Session`]): the Postgres wire protocol and Arrow Flight SQL.

pub mod flight;
pub mod hms;
pub mod pg;

pub use flight::{FlightConfig, FlightServer};
pub use hms::{HmsConfig, HmsServer};
pub use pg::{AuthMethod, PgConfig, PgServer, ServerError, TlsConfig};
