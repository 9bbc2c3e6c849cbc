//! The Postgres-compatibility layer: everything that makes a tarn session look like a
//! PostgreSQL 16 server to its clients, kept apart from the engine's core (sessions, statements,
//! catalog services, authorization, writes) so the layers read top-down.
//!
//! - `catalog`: the `pg_catalog` schema and tarn's `information_schema` views, built from the
//!   metastore per query (only what the session may see);
//! - `functions`: PostgreSQL's functions clients call (`version()`, `current_schema()`,
//!   `has_table_privilege`, `pg_get_userbyid`, …), registered per session;
//! - `rewrite`: rewrites of parsed statements DataFusion cannot plan as written (`pg_catalog.f()`,
//!   `OPERATOR(…)`, `ARRAY(subquery)`, PostgreSQL's casts and reg types, subqueries over empty
//!   catalogs);
//! - `types`: PostgreSQL type OIDs and names for Arrow types (the pg wire front end encodes with
//!   them).
//!
//! The core reaches this layer in two places only: a session registers the functions and runs
//! the rewrite before planning (`session.rs`), and the catalog provider serves `pg_catalog`
//! (`provider/catalog.rs`). Flight SQL sessions get the same behaviour for SQL text; nothing here
//! knows about wire protocols.

pub mod catalog;
pub(crate) mod functions;
pub(crate) mod rewrite;
pub mod types;
