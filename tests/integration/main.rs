//! Integration tests: one binary, one module per area.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod embed;
mod pruning;
