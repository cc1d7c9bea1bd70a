#!/usr/bin/env bash
# The project's test command: formatting, lints (warnings are errors), then every test.
# Needs only the Rust toolchain (cargo, rustfmt, clippy); run from anywhere in the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
