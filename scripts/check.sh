#!/usr/bin/env bash
# The project's test command: formatting, lints (warnings are errors), every test, then the course
# tool's own checks: the pages' expected output against real runs, and the tour of every pair.
# Needs only the Rust toolchain (cargo, rustfmt, clippy), and python3 for http-fetch's partner.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
eval "$(scripts/dns-guard --env)" # every test binary below runs with its DNS queries logged: one that sends any fails
cargo test --workspace --locked
cargo course transcripts --check
cargo course tour
