#!/usr/bin/env bash
# The project's test command: formatting, lints (warnings are errors), then every test.
# Needs only the Rust toolchain (cargo, rustfmt, clippy); run from anywhere in the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# The course's own scripts, so they cannot rot: the offline tour of every lesson pair, and the tests
# of compare.sh (python3 stand-ins; they bind the listing's port 51423, so nothing else may hold it).
scripts/tour.sh
scripts/test-compare.sh
