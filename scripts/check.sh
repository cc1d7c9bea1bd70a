#!/usr/bin/env bash
# The project's test command: formatting, lints (warnings are errors), every test, then the course
# tool's own checks: the pages' expected output against real runs (the lab link's too), the tour of
# every pair, and the exercises' proof (each fails as shipped, each solution passes). It ends with
# one line: what passed, and what was skipped and why (a check that did not run is never counted as
# passed). Needs only the Rust toolchain (cargo, rustfmt, clippy); python3, strace, iproute2,
# mdbook, chromium, and user namespaces with /dev/net/tun (the lab link) widen what runs, and each
# one missing is named in that last line.
set -euo pipefail
cd "$(dirname "$0")/.."

passed=()
# Each test that cannot run here writes one line to this file (test_support::skip), so the summary
# can name it: `cargo test` itself shows a test that returned early as "ok".
export COURSE_SKIPPED="$PWD/target/check-skipped.txt"
mkdir -p target/check
: >"$COURSE_SKIPPED"
state="$PWD/target/check"
rm -f "$state"/*.rc

# Never a silent screen: every line goes through `shown`, which notes when it came; `heartbeat`
# says what is still running whenever 2 s pass without one (one crate's long compile, one long
# test). Cargo writes into the pipe without colours or its progress bar, so ask for colours when
# the screen is a terminal.
[[ -t 1 ]] && export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-always}
shown() {
    local prefix=${1:-}
    while IFS= read -r line; do
        printf '%s%s\n' "$prefix" "$line"
        echo "${EPOCHREALTIME/./}" >"$state/last"
    done
}
heartbeat() {
    local began=${EPOCHREALTIME/./} now last
    while sleep 0.5; do
        now=${EPOCHREALTIME/./}
        last=$(<"$state/last") || true
        [[ $last =~ ^[0-9]+$ ]] || last=$now # read while being written
        if ((now - last > 2000000)); then
            printf 'check: … still running: %s (%d s into the check)\n' "$(<"$state/step")" \
                $(((now - began) / 1000000))
            echo "$now" >"$state/last"
        fi
    done
}
echo "${EPOCHREALTIME/./}" >"$state/last"
echo "starting" >"$state/step"
heartbeat &
ticking=$!
# However it ends, the last line says how: a failed step's own output is above it.
finished=false
ending() {
    kill "$ticking" 2>/dev/null || true
    $finished || printf '\ncheck: FAILED at: %s (its output is above)\n' "$(<"$state/step")"
}
trap ending EXIT

# One step: said, run with its output shown, counted as passed when it succeeds.
step() {
    local name=$1 what=$2
    shift 2
    printf '\ncheck: %s\n' "$what" | shown
    echo "$what" >"$state/step"
    "$@" 2>&1 | shown
    passed+=("$name")
}

step fmt "cargo fmt --all --check" cargo fmt --all --check
step clippy "cargo clippy --workspace --all-targets --locked -- -D warnings" \
    cargo clippy --workspace --all-targets --locked -- -D warnings

# every test binary below runs with its DNS queries logged: one that sends any fails
echo "scripts/dns-guard --env" >"$state/step"
guard=$(scripts/dns-guard --env 2>"$state/guard") || {
    shown <"$state/guard"
    exit 1
}
shown <"$state/guard"
eval "$guard"
step build "cargo test --workspace --locked --no-run (every test built once)" \
    cargo test --workspace --locked --no-run
# The programs the runs below start that no test target builds: the lab's wire (transcripts'
# lab blocks and the lab tests run with COURSE_NO_BUILD, so a wire not built would skip them).
step bins "cargo build --workspace --bins --locked (every program, the lab's wire among them)" \
    cargo build --workspace --bins --locked

# Most of the time in the tests is spent waiting on sockets and timeouts, not computing, so they
# run in three lanes at once (cargo test runs its test binaries one after another), each line
# marked with its lane: the course tool's trace tests (they take turns, so they are a lane of
# their own), its other tests with every crate's unit tests, and the lessons' tests followed by
# the pages' check. Every lane selects the whole workspace and names its test files: the build
# above is then the one every lane runs (`--exclude course` resolves dependencies' features
# differently, and cargo would rebuild the lessons and swap their binaries under the other lanes'
# feet). Every test file is in one lane, whatever the folders hold.
lane() {
    local name=$1
    shift
    (rc=0 && "$@" 2>&1 || rc=$? && echo "exit $rc" >"$state/$name.rc") | shown "[$name] "
}
course_tests=()
lesson_tests=()
for file in crates/*/tests/*.rs; do
    name=$(basename "$file" .rs)
    case $file in
    crates/course/tests/trace.rs) ;;
    crates/course/*) course_tests+=(--test "$name") ;;
    *) lesson_tests+=(--test "$name") ;;
    esac
done
printf '\ncheck: %s\n' "cargo test --workspace --locked, cargo course transcripts --check, cargo course tour and cargo course exercise --dev-check (three lanes at once)" | shown
echo "the tests, the pages' check, the tour and the exercises' proof" >"$state/step"
# The exercises' proof (each fails as shipped, each solution passes) follows the trace tests, the
# shortest lane, on the programs the build above made (COURSE_NO_BUILD: a build of the exercises
# alone would resolve features its own way and rebuild what the other lanes are running).
lane trace bash -c 'cargo test --locked --workspace --test trace &&
    COURSE_NO_BUILD=1 cargo course exercise --dev-check' &
trace=$!
lane course cargo test --locked --workspace --lib --bins "${course_tests[@]}" &
course=$!
# The tour ends this lane, on the programs the build made: a build of the lessons alone would
# resolve their dependencies' features on its own (libc's, say) and compile them again, 2 s or so.
lane lessons bash -c 'cargo test --locked --workspace "$@" && cargo test --locked --workspace --doc &&
    COURSE_NO_BUILD=1 cargo course transcripts --check && COURSE_NO_BUILD=1 cargo course tour' \
    lanes "${lesson_tests[@]}" &
lessons=$!
wait "$trace" "$course" "$lessons"
failed=()
for name in trace course lessons; do
    [[ "$(cat "$state/$name.rc" 2>/dev/null)" == "exit 0" ]] || failed+=("$name")
done
if ((${#failed[@]})); then
    echo "the tests: the lines marked [${failed[*]}] above say what failed" >"$state/step"
    exit 1
fi
passed+=(tests transcripts exercises tour)

skipped=$(sort -u "$COURSE_SKIPPED" | sed 's/^/; skipped: /' | tr -d '\n')
finished=true
printf '\ncheck: passed: %s%s\n' "${passed[*]}" "${skipped:-; nothing skipped}"
