#!/usr/bin/env bash
# Measure what a newcomer meets (issue 17's goals), on a fresh clone of this checkout's HEAD:
#   cold and warm `cargo course tour`, and cold and warm `scripts/check.sh` (with --check-sh):
#   the wall time, the time to the first line on the terminal, and the longest silent stretch.
# Crates are fetched first (a newcomer's first build downloads them once; that is the network, not
# the course). Run it on an otherwise idle machine: it measures, it does not judge.
#   usage: scripts/measure.sh [--check-sh]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/course-measure.XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone -q "$here" "$work/clone"
cd "$work/clone"
cargo fetch --locked -q

# Run "$@" with every line (stdout and stderr) stamped; print the figures.
measure() {
    local what="$1"
    shift
    local start end status=0
    start=$(date +%s.%N)
    # In a terminal (script(1) gives it one), as a newcomer runs it: cargo then draws its progress
    # bar, and each redraw (a carriage return) counts as output, as it does on a screen.
    script -qefc "$(printf '%q ' "$@")" /dev/null </dev/null 2>&1 | stdbuf -oL tr '\r' '\n' |
        while IFS= read -r line; do printf '%s\n' "$(date +%s.%N)"; done >"$work/stamps" || status=$?
    end=$(date +%s.%N)
    python3 - "$what" "$start" "$end" "$work/stamps" "$status" <<'PY'
import sys
what, start, end, path, status = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
stamps = [float(l) for l in open(path) if l.strip()]
first = stamps[0] - start if stamps else float("nan")
gaps = [b - a for a, b in zip([start] + stamps, stamps + [end])]
print(f"{what}: {end - start:.1f} s in all, first line after {first:.2f} s, "
      f"longest silence {max(gaps):.1f} s, {len(stamps)} lines, exit {status}")
PY
}

measure "cold cargo course tour" cargo course tour
measure "warm cargo course tour" cargo course tour
if [[ "${1:-}" == "--check-sh" ]]; then
    cargo clean -q
    measure "cold scripts/check.sh" bash scripts/check.sh
    measure "warm scripts/check.sh" bash scripts/check.sh
fi
