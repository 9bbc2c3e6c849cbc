//! Integration tests: one binary, one module per area.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod commit;
mod deps;
mod embed;
mod faults;
mod flight;
mod hardening;
mod hms;
mod pg;
mod pruning;
mod read_ahead;
mod s3;
mod scan_cache;
mod security;
mod shared;
mod writes;
