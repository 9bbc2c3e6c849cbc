#!/usr/bin/env bash
# The project's test command: unit tests, the .slt corpus, integration tests (incl. the binary).
# Installs nothing yet: every test dependency is a Rust crate. Front-end work (psql, Python
# clients, PostgreSQL) will add idempotent installs here.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tarn/target}"
cargo test --workspace --locked "$@"
