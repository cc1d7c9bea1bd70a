#!/usr/bin/env bash
# The project's test command: formatting, lints (warnings are errors), every test, then the course
# tool's own checks: the pages' expected output against real runs, and the tour of every pair. It
# ends with one line: what passed, and what was skipped and why (a check that did not run is never
# counted as passed). Needs only the Rust toolchain (cargo, rustfmt, clippy); python3, strace,
# iproute2, mdbook and chromium widen what runs, and each one missing is named in that last line.
set -euo pipefail
cd "$(dirname "$0")/.."

passed=()
# Each test that cannot run here writes one line to this file (test_support::skip), so the summary
# can name it: `cargo test` itself shows a test that returned early as "ok".
export COURSE_SKIPPED="$PWD/target/check-skipped.txt"
mkdir -p target
: >"$COURSE_SKIPPED"

say() { printf '\ncheck: %s\n' "$*"; }

say "cargo fmt --all --check"
cargo fmt --all --check
passed+=(fmt)

say "cargo clippy --workspace --all-targets --locked -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
passed+=(clippy)

say "cargo test --workspace --locked, and cargo course transcripts --check (built once, then in three lanes at once, each line marked with its lane)"
eval "$(scripts/dns-guard --env)" # every test binary below runs with its DNS queries logged: one that sends any fails
cargo test --workspace --locked --no-run
# Most of the time in these is spent waiting on sockets and timeouts, not computing, so the lanes
# below run at once (cargo test runs its test binaries one after another). sed -u: line by line.
log="$PWD/target/check-lanes"
mkdir -p "$log"
lane() {
    local name=$1
    shift
    (rc=0 && "$@" 2>&1 || rc=$? && echo "exit $rc" >"$log/$name.rc") | sed -u "s/^/[$name] /"
}
rm -f "$log"/*.rc
# Three lanes: the course tool's trace tests (they take turns, so they are a lane of their own),
# its other tests, and the lessons' tests followed by the pages' check. Every test file is in one
# lane: the first two take crates/course/tests/ between them, whatever files it holds.
course_tests=()
for file in crates/course/tests/*.rs; do
    name=$(basename "$file" .rs)
    [[ $name == trace ]] || course_tests+=(--test "$name")
done
lane trace cargo test --locked -p course --test trace &
trace=$!
lane course cargo test --locked -p course --lib --bins "${course_tests[@]}" &
course=$!
lane lessons bash -c 'cargo test --locked --workspace --exclude course &&
    COURSE_NO_BUILD=1 cargo course transcripts --check' &
lessons=$!
wait "$trace" "$course" "$lessons"
failed=()
for name in trace course lessons; do
    [[ "$(cat "$log/$name.rc" 2>/dev/null)" == "exit 0" ]] || failed+=("$name")
done
if ((${#failed[@]})); then
    say "FAILED: the lines marked [${failed[*]}] above say what"
    exit 1
fi
passed+=(tests transcripts)

say "cargo course tour"
cargo course tour
passed+=(tour)

skipped=$(sort -u "$COURSE_SKIPPED" | sed 's/^/; skipped: /' | tr -d '\n')
say "passed: ${passed[*]}${skipped:-; nothing skipped}"
