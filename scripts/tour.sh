#!/usr/bin/env bash
# tour.sh — the course in one command, offline: build the workspace, then run every lesson pair on
# loopback and check that each side did what its listing does.
#
#   scripts/tour.sh            (from any directory; needs bash, cargo, coreutils' `timeout`)
#
# Each step starts its server on port 0 (a free port the kernel picks), reads the address from the
# server's `Listening on (...)` line, runs the client against it with a time limit, prints both
# sides' output, and checks what they printed (not only their exit codes). Every process the tour
# starts is stopped when it ends, fails, or is interrupted with Ctrl-C. Only 127.0.0.1 is used.
# Exit status: 0 when every step passed, 1 when any step misbehaved (named in the summary).
# python3 serves files for the http-fetch step; without it that step is skipped, not failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# --- plumbing --------------------------------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tour.XXXXXX")
PIDS=() # every background process we start, so the trap can stop them all

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
# On Ctrl-C or kill, exit (which runs the EXIT trap) with the usual 128+signal status.
trap 'echo; echo "tour: interrupted"; exit 130' INT
trap 'exit 143' TERM

PASSED=()
FAILED=()
SKIPPED=()
step_failed=0 # set by `bad` during a step

say() { printf '%s\n' "$*"; }
# Print a file indented, so each side's output stands apart from the tour's own words.
show() {
    if [[ -s $1 ]]; then sed 's/^/    /; s/\r$//' "$1"; else say "    (no output)"; fi
}
bad() {
    say "  FAIL: $*"
    step_failed=1
}
heading() {
    say ""
    say "=== $* ==="
}
finish_step() { # NAME
    if ((step_failed)); then FAILED+=("$1"); else PASSED+=("$1"); fi
    step_failed=0
}

# Process plumbing (start, bounded, wait_for) shared with compare.sh.
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# The port out of `Listening on ('127.0.0.1', 43567)` (or Python's http.server `... port 43567 ...`).
port_in() { grep -m1 -oE "$2" "$1" | grep -oE '[0-9]+$'; }

# stop NAME PID: stop a server we started; a server that already died on its own is a failure.
stop() {
    if kill -0 "$2" 2>/dev/null; then
        kill "$2" 2>/dev/null || true
        wait "$2" 2>/dev/null || true
    else
        local status=0
        wait "$2" 2>/dev/null || status=$?
        bad "$1 exited by itself (status $status) while it should have been serving"
        show "$WORK/$1.err"
    fi
}

# run NAME SECONDS CMD... [<INPUT]: run a client to completion (stdout/stderr to files); sets
# STATUS. A client that hangs gets status 124 at the time limit instead of stalling the tour.
run() {
    local name=$1 limit=$2
    shift 2
    STATUS=0
    bounded "$limit" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || STATUS=$?
    if ((STATUS == 124)); then bad "$name did not finish within $limit s"; fi
}

# A lesson is skipped only while its crate has not been written yet. Once all seven exist this
# never triggers — and the summary says loudly if it did.
have() {
    local lesson
    for lesson in "$@"; do
        [[ -d $ROOT/crates/$lesson ]] || return 1
    done
}
skip() { # NAME WHY
    say "  skipped ($2)"
    SKIPPED+=("$1: $2")
}

# --- build -----------------------------------------------------------------------------------------

say "tour: building the workspace (cargo build --workspace --locked)..."
if ! cargo build --manifest-path "$ROOT/Cargo.toml" --workspace --locked --quiet; then
    say "tour: FAILED: build — cargo build --workspace failed (see above)"
    exit 1
fi
# Where cargo put the binaries: ask it, so CARGO_TARGET_DIR (relative or absolute) and any
# build.target-dir in a cargo config are respected, not guessed.
target_dir=$(cargo metadata --manifest-path "$ROOT/Cargo.toml" --format-version 1 --no-deps |
    grep -oE '"target_directory":"[^"]*"' | cut -d'"' -f4)
BIN=$target_dir/debug
say "tour: binaries in $BIN"

# --- 1. socket-info -> tcp-listener ----------------------------------------------------------------

heading "socket-info → tcp-listener (ch. 2 Information Example; ch. 3 TCP server)"
if have socket-info tcp-listener; then
    start tcp-listener "$BIN/tcp-listener" --bind 127.0.0.1 0
    server=$LAST_PID
    if wait_for "$WORK/tcp-listener.out" 10 "$server" -E '^Listening on '; then
        port=$(port_in "$WORK/tcp-listener.out" "^Listening on \('127\.0\.0\.1', [0-9]+")
        say "\$ tcp-listener --bind 127.0.0.1 0   (serving on port $port)"
        say "\$ socket-info 127.0.0.1 $port"
        run socket-info 20 "$BIN/socket-info" 127.0.0.1 "$port"
        show "$WORK/socket-info.out"
        ((STATUS == 0)) || { bad "socket-info exited with status $STATUS"; show "$WORK/socket-info.err"; }
        # The point of the lesson: getsockname() on the client is the address the server's
        # accept() reports, and getpeername() is the server's own address.
        from=$(grep -m1 -oE "^Connected from \('127\.0\.0\.1', [0-9]+\)" "$WORK/socket-info.out" |
            sed 's/^Connected from //') || true
        grep -qxF "Connected to ('127.0.0.1', $port)" "$WORK/socket-info.out" ||
            bad "socket-info did not print: Connected to ('127.0.0.1', $port)"
        if [[ -z $from ]]; then
            bad "socket-info printed no 'Connected from (...)' line"
        elif ! wait_for "$WORK/tcp-listener.out" 5 "$server" -xF "Got connection from $from"; then
            bad "tcp-listener did not log 'Got connection from $from'"
        fi
        stop tcp-listener "$server"
        say "  tcp-listener printed:"
        show "$WORK/tcp-listener.out"
        ((step_failed)) || say "  ok: socket-info connected from $from, and tcp-listener logged that same address"
    else
        bad "tcp-listener printed no 'Listening on' line within 10 s"
        show "$WORK/tcp-listener.err"
    fi
    finish_step "socket-info → tcp-listener"
else
    skip "socket-info → tcp-listener" "not built yet"
fi

# --- 2. udp-client -> udp-echo-server --------------------------------------------------------------

heading "udp-client → udp-echo-server (ch. 2 UDP Example; ch. 3 UDP Echo Server)"
if have udp-client udp-echo-server; then
    start udp-echo-server "$BIN/udp-echo-server" --bind 127.0.0.1 0
    server=$LAST_PID
    if wait_for "$WORK/udp-echo-server.out" 10 "$server" -E '^Listening on '; then
        port=$(port_in "$WORK/udp-echo-server.out" "^Listening on \('127\.0\.0\.1', [0-9]+")
        say "\$ udp-echo-server --bind 127.0.0.1 0   (serving on port $port)"
        say "\$ echo hello | udp-client --timeout 2 127.0.0.1 $port"
        run udp-client 20 "$BIN/udp-client" --timeout 2 127.0.0.1 "$port" <<<hello
        show "$WORK/udp-client.out"
        ((STATUS == 0)) || { bad "udp-client exited with status $STATUS"; show "$WORK/udp-client.err"; }
        grep -qxF "Received: hello" "$WORK/udp-client.out" ||
            bad "udp-client did not print 'Received: hello' (the echo of what it sent)"
        wait_for "$WORK/udp-echo-server.out" 5 "$server" -E "^Got data from \('127\.0\.0\.1', [0-9]+\)$" ||
            bad "udp-echo-server did not log 'Got data from (...)'"
        stop udp-echo-server "$server"
        say "  udp-echo-server printed:"
        show "$WORK/udp-echo-server.out"
        ((step_failed)) || say "  ok: 'hello' went out and came back, and the server logged its sender"
    else
        bad "udp-echo-server printed no 'Listening on' line within 10 s"
        show "$WORK/udp-echo-server.err"
    fi
    finish_step "udp-client → udp-echo-server"
else
    skip "udp-client → udp-echo-server" "not built yet"
fi

# --- 3. http-fetch -> python3 -m http.server -------------------------------------------------------

heading "http-fetch → python3 -m http.server (ch. 2 Error Handling Example)"
if ! have http-fetch; then
    skip "http-fetch → http.server" "not built yet"
elif ! command -v python3 >/dev/null; then
    # The only HTTP server every machine with Python has; the lesson itself does not need it.
    skip "http-fetch → http.server" "python3 not found, so no local HTTP server"
else
    mkdir "$WORK/site"
    printf 'Hello from the tour.\nThis file is the body http-fetch should print.\n' >"$WORK/site/hello.txt"
    # -u: unbuffered, or the "Serving HTTP on ... port N" line would sit in Python's buffer.
    start http.server python3 -u -m http.server --bind 127.0.0.1 0 --directory "$WORK/site"
    server=$LAST_PID
    if wait_for "$WORK/http.server.out" 10 "$server" -E ' port [0-9]+ '; then
        port=$(port_in "$WORK/http.server.out" "on 127\.0\.0\.1 port [0-9]+")
        say "\$ python3 -m http.server --bind 127.0.0.1 0 --directory SITE   (serving on port $port)"
        # --pause 0: the listing's 10-second sleep is for an experiment, not for the tour.
        say "\$ http-fetch --pause 0 127.0.0.1 $port /hello.txt"
        run http-fetch 20 "$BIN/http-fetch" --pause 0 127.0.0.1 "$port" /hello.txt
        show "$WORK/http-fetch.out"
        ((STATUS == 0)) || { bad "http-fetch exited with status $STATUS"; show "$WORK/http-fetch.err"; }
        head -n2 "$WORK/http-fetch.out" | tr -d '\r' | paste -sd' ' | grep -qx 'sleeping Continuing\.' ||
            bad "http-fetch did not start with 'sleeping' then 'Continuing.'"
        grep -qE '^HTTP/1\.[01] 200 ' "$WORK/http-fetch.out" || bad "http-fetch printed no '200' status line"
        # The body is everything after the first empty (CR LF) line of the response.
        sed '1,/^\r$/d' "$WORK/http-fetch.out" >"$WORK/body"
        cmp -s "$WORK/body" "$WORK/site/hello.txt" ||
            bad "the body http-fetch printed is not the served file byte for byte"
        stop http.server "$server"
        say "  http.server logged (stderr):"
        show "$WORK/http.server.err"
        ((step_failed)) || say "  ok: the body http-fetch printed is the served file, byte for byte"
    else
        bad "python3 -m http.server did not say which port it serves within 10 s"
        show "$WORK/http.server.err"
    fi
    finish_step "http-fetch → http.server"
fi

# --- 4. dns-validate 127.0.0.1 ---------------------------------------------------------------------

heading "dns-validate 127.0.0.1 (ch. 4 reverse lookup checked by a forward lookup)"
if have dns-validate; then
    say "\$ dns-validate 127.0.0.1"
    run dns-validate 20 "$BIN/dns-validate" 127.0.0.1
    show "$WORK/dns-validate.out"
    # Exit 0 covers both outcomes the listing treats as fine: a validated name, and no name at all.
    ((STATUS == 0)) || { bad "dns-validate exited with status $STATUS"; show "$WORK/dns-validate.err"; }
    [[ -s $WORK/dns-validate.out ]] || bad "dns-validate printed nothing"
    ((step_failed)) || say "  ok: exit 0"
    finish_step "dns-validate"
else
    skip "dns-validate" "not built yet"
fi

# --- 5. addr-info localhost ------------------------------------------------------------------------

heading "addr-info localhost (ch. 4 getaddrinfo)"
if have addr-info; then
    say "\$ addr-info localhost"
    run addr-info 20 "$BIN/addr-info" localhost
    show "$WORK/addr-info.out"
    ((STATUS == 0)) || { bad "addr-info exited with status $STATUS"; show "$WORK/addr-info.err"; }
    # localhost resolves through /etc/hosts, so one of its loopback addresses must appear in a tuple.
    grep -qE "\('(127\.0\.0\.1|::1)'" "$WORK/addr-info.out" ||
        bad "addr-info printed no tuple with 127.0.0.1 or ::1"
    ((step_failed)) || say "  ok: exit 0 and a loopback address among the tuples"
    finish_step "addr-info"
else
    skip "addr-info" "not built yet"
fi

# --- summary ---------------------------------------------------------------------------------------

say ""
for name in "${SKIPPED[@]}"; do say "tour: SKIPPED $name"; done
if ((${#SKIPPED[@]})); then
    say "tour: WARNING: the tour is incomplete — ${#SKIPPED[@]} step(s) skipped"
fi
for name in "${FAILED[@]}"; do say "tour: FAILED $name"; done
say "tour: ${#PASSED[@]} passed, ${#FAILED[@]} failed, ${#SKIPPED[@]} skipped"
((${#FAILED[@]} == 0))
