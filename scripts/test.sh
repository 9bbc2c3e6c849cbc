#!/usr/bin/env bash
# The project's test command: unit tests, the .slt corpus, integration tests (incl. the binary
# and real clients: psql, psycopg). Installs the non-Rust test dependencies first, idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
export TARN_TEST_VENV="${TARN_TEST_VENV:-$HOME/.cache/tarn/venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tarn/target}"
cargo test --workspace --locked "$@"
