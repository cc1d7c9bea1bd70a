#!/usr/bin/env bash
# compare.sh — hold a lesson next to your own copy of its Python listing: run both against the same
# loopback peer, mask what differs from run to run, and show the two outputs side by side.
#
#   scripts/compare.sh LESSON LISTING.py [ARGS...]
#
# LESSON is a lesson's package name; LISTING.py is your copy of the book's listing (the course does
# not ship the book's code). ARGS go to both sides unchanged, except that an argument that is exactly
# the word PORT is replaced by the port of the peer this script starts. Without ARGS:
#
#   socket-info   127.0.0.1 PORT              peer: tcp-listener on 127.0.0.1, a free port
#   udp-client    127.0.0.1 PORT              peer: udp-echo-server on 127.0.0.1; both read `hello`
#   http-fetch    127.0.0.1 PORT /hello.txt   peer: `python3 -m http.server` serving a temp dir
#   dns-validate  127.0.0.1                   no peer (lookups only)
#   addr-info     localhost                   no peer (lookups only)
#   tcp-listener, udp-echo-server             servers: each side in turn on the listing's port 51423,
#                                             then a scripted client connects three times / sends
#                                             three datagrams to 127.0.0.1:51423
#
# The listing runs with `${PYTHON:-python2}`; PYTHON may hold a command with arguments. With pyenv,
# whose python2 shim needs a version chosen, either of these works:
#   PYENV_VERSION=2.7.18 scripts/compare.sh socket-info ~/fpnp/connect.py
#   PYTHON='env PYENV_VERSION=2.7.18 python2' scripts/compare.sh socket-info ~/fpnp/connect.py
#
# Compared: standard output only, after masking ephemeral ports in address tuples and `port N`
# (the peer's port, 51423 and 0 are kept), the values of HTTP Date:/Last-Modified:/Expires: headers,
# and CRs at line ends. Not differences: the lesson's `Listening on ...` banner (a documented
# addition) and anything on stderr (shown, not compared). Exit codes are compared when both sides
# ended by themselves. Exit status: 0 same, 1 different (or the comparison could not run), 2 usage.
#
# Client lessons talk only to 127.0.0.1 (or localhost): a listing that connects to a fixed host
# elsewhere (the Information Example's www.google.com) is refused — make it read HOST and PORT from
# sys.argv as the lesson does. Every run has a time limit; every process started is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LISTING_PORT=51423 # the port the book's server listings bind

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}
usage_error() {
    printf 'error: %s\n' "$1" >&2
    printf 'usage: %s LESSON LISTING.py [ARGS...]   (--help for more)\n' "$0" >&2
    exit 2
}
die() {
    printf 'compare: error: %s\n' "$1" >&2
    exit 1
}

# --- the command line ------------------------------------------------------------------------------

[[ ${1:-} == -h || ${1:-} == --help ]] && { usage; exit 0; }
(($# >= 2)) || usage_error "give a LESSON and your copy of its LISTING.py"
LESSON=$1
LISTING=$2
shift 2
ARGS=("$@")

STDIN_TEXT=""  # what the lesson and the listing read on stdin
PARTNER=""     # the peer a client lesson talks to
case $LESSON in
socket-info)
    KIND=client PARTNER=tcp-listener LIMIT=15
    DEFAULT=(127.0.0.1 PORT) ;;
udp-client)
    # The listing waits for replies forever; the lesson stops 5 s after the last one. So the
    # listing is stopped at the limit, and that is not counted as a difference.
    KIND=client PARTNER=udp-echo-server LIMIT=8 STDIN_TEXT=hello
    DEFAULT=(127.0.0.1 PORT) ;;
http-fetch)
    # Both sides sleep 10 s before sending the request, as the listing does.
    KIND=client PARTNER=http.server LIMIT=30
    DEFAULT=(127.0.0.1 PORT /hello.txt) ;;
dns-validate) KIND=lookup LIMIT=15 DEFAULT=(127.0.0.1) ;;
addr-info) KIND=lookup LIMIT=15 DEFAULT=(localhost) ;;
tcp-listener) KIND=server PROTO=tcp DEFAULT=() ;;
udp-echo-server) KIND=server PROTO=udp DEFAULT=() ;;
*) usage_error "unknown lesson '$LESSON' (one of: socket-info tcp-listener udp-client udp-echo-server http-fetch dns-validate addr-info)" ;;
esac
((${#ARGS[@]})) || ARGS=("${DEFAULT[@]}")

[[ -f $LISTING && -r $LISTING ]] || usage_error "cannot read the listing '$LISTING'"
LISTING=$(cd "$(dirname "$LISTING")" && pwd)/$(basename "$LISTING")

# The interpreter: a command line, split on spaces (so `env PYENV_VERSION=2.7.18 python2` works).
read -r -a PY <<<"${PYTHON:-python2}"
((${#PY[@]})) || usage_error "PYTHON is empty"
if ! "${PY[@]}" -c pass >/dev/null 2>&1; then
    usage_error "cannot run the interpreter '${PYTHON:-python2}'. Set PYTHON to the one that runs your listing,
e.g. PYTHON=python3; with pyenv, PYENV_VERSION=2.7.18 $0 ... or PYTHON='env PYENV_VERSION=2.7.18 python2'"
fi

is_loopback() { [[ $1 == 127.0.0.1 || $1 == localhost ]]; }

# A listing with a fixed remote host would send traffic off this machine. This is a check on the
# text, not a sandbox: it catches the book's `s.connect(("www.google.com", port))`.
while IFS= read -r fixed_host; do
    host=${fixed_host#*[\'\"]}
    host=${host%[\'\"]}
    if [[ -n $host ]] && ! is_loopback "$host"; then
        usage_error "line ${fixed_host%%:*} of $LISTING connects to the fixed host '$host'; compare.sh talks only
to this machine. Make the listing take HOST and PORT from sys.argv (as the lesson does), then run
  $0 $LESSON $LISTING 127.0.0.1 PORT"
    fi
done < <(grep -noE "connect\(\(\s*['\"][^'\"]*['\"]" "$LISTING" || true)

# A client lesson's HOST (its first argument that is not a --flag or a flag's value) must be where
# the peer listens.
if [[ $KIND == client ]]; then
    host=""
    for ((i = 0; i < ${#ARGS[@]}; i++)); do
        case ${ARGS[i]} in
        --*=*) ;;
        -*) ((i += 1)) ;; # every flag of these lessons takes a value
        *) host=${ARGS[i]}; break ;;
        esac
    done
    [[ -z $host ]] || is_loopback "$host" ||
        usage_error "HOST '$host' is not 127.0.0.1 or localhost, where the peer compare.sh starts listens"
fi

# --- plumbing --------------------------------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX")
PIDS=() # every background process we start, so the trap can stop them all
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Process plumbing (start, bounded, wait_for) shared with tour.sh.
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# port_bound tcp|udp PORT: is a socket listening (TCP) or bound (UDP) on PORT? Read from /proc, so
# it works whatever the server prints — the book's servers print nothing when they start.
port_bound() {
    local hex files state
    hex=$(printf '%04X' "$2")
    if [[ $1 == tcp ]]; then files=(/proc/net/tcp /proc/net/tcp6) state=0A; else files=(/proc/net/udp /proc/net/udp6) state=07; fi
    awk -v port=":$hex" -v state="$state" \
        'substr($2, length($2) - 4) == port && $4 == state { found = 1 } END { exit !found }' \
        "${files[@]}" 2>/dev/null
}
[[ $KIND != server || -r /proc/net/tcp ]] ||
    die "the server lessons need /proc/net (Linux) to see when a server is up"

# --- build the lesson (and its Rust peer) ----------------------------------------------------------

packages=(-p "$LESSON")
[[ $PARTNER == tcp-listener || $PARTNER == udp-echo-server ]] && packages+=(-p "$PARTNER")
cargo build --manifest-path "$ROOT/Cargo.toml" --locked --quiet "${packages[@]}" ||
    die "cargo build ${packages[*]} failed"
# Ask cargo where the binaries are, so CARGO_TARGET_DIR and cargo config are respected.
BIN=$(cargo metadata --manifest-path "$ROOT/Cargo.toml" --format-version 1 --no-deps |
    grep -oE '"target_directory":"[^"]*"' | cut -d'"' -f4)/debug

# --- the peer for a client lesson ------------------------------------------------------------------

PEER_PORT=""
case $PARTNER in
tcp-listener | udp-echo-server)
    start peer "$BIN/$PARTNER" --bind 127.0.0.1 0
    wait_for "$WORK/peer.out" 10 "$LAST_PID" -E '^Listening on ' ||
        die "$PARTNER did not start: $(cat "$WORK/peer.err")"
    PEER_PORT=$(grep -m1 -oE "^Listening on \('127\.0\.0\.1', [0-9]+" "$WORK/peer.out" | grep -oE '[0-9]+$')
    PEER_DESC="$PARTNER on 127.0.0.1 port $PEER_PORT" ;;
http.server)
    command -v python3 >/dev/null || die "http-fetch's peer is 'python3 -m http.server', and python3 is not installed"
    mkdir "$WORK/site"
    printf 'Hello from compare.sh.\nBoth sides should print this file after the headers.\n' >"$WORK/site/hello.txt"
    # -u: unbuffered, or the "Serving HTTP on ... port N" line would stay in Python's buffer.
    start peer python3 -u -m http.server --bind 127.0.0.1 0 --directory "$WORK/site"
    wait_for "$WORK/peer.out" 10 "$LAST_PID" -E ' port [0-9]+ ' ||
        die "python3 -m http.server did not start: $(cat "$WORK/peer.err")"
    PEER_PORT=$(grep -m1 -oE 'port [0-9]+' "$WORK/peer.out" | grep -oE '[0-9]+$')
    PEER_DESC="python3 -m http.server on 127.0.0.1 port $PEER_PORT, serving /hello.txt" ;;
esac
for ((i = 0; i < ${#ARGS[@]}; i++)); do
    [[ ${ARGS[i]} == PORT && -n $PEER_PORT ]] && ARGS[i]=$PEER_PORT
done

# --- running one side ------------------------------------------------------------------------------

printf '%s' "${STDIN_TEXT:+$STDIN_TEXT$'\n'}" >"$WORK/stdin"
# Unbuffered, so a listing stopped by a signal has already written everything it printed.
export PYTHONUNBUFFERED=1

# run_client SIDE CMD...: run one side to completion within LIMIT; sets END[SIDE].
declare -A END
run_client() {
    local side=$1 status=0
    shift
    bounded "$LIMIT" "$@" <"$WORK/stdin" >"$WORK/$side.out" 2>"$WORK/$side.err" || status=$?
    if ((status == 124)); then END[$side]="stopped after $LIMIT s"; else END[$side]="exit $status"; fi
}

# The scripted client for the server lessons, through bash's own /dev/tcp and /dev/udp. Its
# observations become part of the compared output, so a server that does not close or does not
# echo shows up as a difference too.
scripted_client() {
    local i msg got
    echo "--- what the scripted client saw ---"
    for i in 1 2 3; do
        if [[ $PROTO == tcp ]]; then
            # Connect, then read until the server closes the connection (the listing closes at once).
            if bounded 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LISTING_PORT && cat <&3 >/dev/null" 2>/dev/null; then
                echo "connection $i: closed by the server"
            else
                echo "connection $i: refused, or still open after 5 s"
            fi
        else
            msg="datagram $i"
            # `head -c` reads the whole datagram in one read and prints the bytes that came back.
            # shellcheck disable=SC2016 # $1 is expanded by the inner bash
            bounded 3 bash -c 'exec 3<>/dev/udp/127.0.0.1/'"$LISTING_PORT"' && printf %s "$1" >&3 && head -c ${#1} <&3' \
                _ "$msg" >"$WORK/echo" 2>/dev/null || true
            got=$(<"$WORK/echo")
            if [[ $got == "$msg" ]]; then echo "$msg: echoed"; else echo "$msg: no echo within 3 s"; fi
        fi
    done
}

# run_server SIDE CMD...: start one side on 51423, play the scripted client, stop it.
run_server() {
    local side=$1 pid status deadline size
    shift
    port_bound "$PROTO" "$LISTING_PORT" && die "port $LISTING_PORT/$PROTO is in use (is a lesson still running?)"
    start "$side" "$@"
    pid=$LAST_PID
    deadline=$((SECONDS + 10))
    until port_bound "$PROTO" "$LISTING_PORT"; do
        if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then break; fi
        sleep 0.1
    done
    if port_bound "$PROTO" "$LISTING_PORT"; then
        scripted_client >"$WORK/$side.client"
        # Let the last line reach the file: stop when it has not grown for 0.3 s (at most 3 s).
        deadline=$((SECONDS + 3))
        size=-1
        while ((size != $(wc -c <"$WORK/$side.out"))) && ((SECONDS < deadline)); do
            size=$(wc -c <"$WORK/$side.out")
            sleep 0.3
        done
    else
        echo "--- the server never bound port $LISTING_PORT/$PROTO ---" >"$WORK/$side.client"
    fi
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        END[$side]="stopped at the end (a server)"
    else
        status=0
        wait "$pid" 2>/dev/null || status=$?
        END[$side]="exit $status (by itself, before it was stopped)"
    fi
    cat "$WORK/$side.client" >>"$WORK/$side.out"
}

run_side() {
    if [[ $KIND == server ]]; then run_server "$@"; else run_client "$@"; fi
}

interpreter_name=$(basename "${PY[-1]}")
say_run() { printf '$ %s\n' "$*"; }
echo "compare: $LESSON against $LISTING"
[[ -n $PARTNER ]] && echo "peer: $PEER_DESC"
[[ -n $STDIN_TEXT ]] && echo "stdin (both sides): $STDIN_TEXT"
if [[ $KIND == server ]]; then
    echo "each side in turn on port $LISTING_PORT; then a scripted client makes three $([[ $PROTO == tcp ]] && echo connections || echo datagrams) to 127.0.0.1:$LISTING_PORT"
fi
say_run "${PYTHON:-python2}" "$LISTING" "${ARGS[@]}"
run_side python "${PY[@]}" "$LISTING" "${ARGS[@]}"
say_run "$LESSON" "${ARGS[@]}"
run_side rust "$BIN/$LESSON" "${ARGS[@]}"

# --- mask and compare ------------------------------------------------------------------------------

keep="0|$LISTING_PORT${PEER_PORT:+|$PEER_PORT}"
# The ports kept are wrapped in @@ while the others become <port>, then unwrapped. CRs are dropped
# because a raw CR would wreck the side-by-side columns (both sides print the same server's bytes).
mask() {
    sed -E \
        -e 's/\r$//' \
        -e "s/(\('[^']*', )($keep)([,)])/\1@@\2@@\3/g" \
        -e "s/(\('[^']*', )[0-9]+/\1<port>/g" \
        -e "s/\<(port )($keep)\>/\1@@\2@@/g" \
        -e 's/\<(port )[0-9]+\>/\1<port>/g' \
        -e 's/@@([0-9]+)@@/\1/g' \
        -e 's/^(Date|Last-Modified|Expires): .*/\1: <date>/I' \
        "$1"
}
mask "$WORK/python.out" >"$WORK/python.masked"
# The lesson's documented addition: its `Listening on (...)` banner (the listings print none).
grep -v '^Listening on (' "$WORK/rust.out" | mask /dev/stdin >"$WORK/rust.masked" || true
# Output that stops mid-line (Python's sys.stdout.write(buf)) gets a visible marker, so it shows as
# a difference in the columns rather than as diff's bare `\`.
for side in python rust; do
    if [[ -s $WORK/$side.masked && -n $(tail -c1 "$WORK/$side.masked") ]]; then
        printf '\n[no newline at the end]\n' >>"$WORK/$side.masked"
    fi
done

# As wide as the terminal (or COLUMNS); 160 when the output goes to a file or a pipe.
width=${COLUMNS:-0}
((width >= 80)) || { [[ -t 1 ]] && width=$(tput cols 2>/dev/null || echo 0); } || true
((width >= 80)) || width=160
((width <= 200)) || width=200
half=$(((width - 3) / 2))
echo
printf '%-*.*s   %.*s\n' "$half" "$half" "LISTING ($interpreter_name): ${END[python]}" "$half" "LESSON ($LESSON): ${END[rust]}"
printf '%-*s   %s\n' "$half" "$(printf '%*s' "$half" '' | tr ' ' -)" "$(printf '%*s' "$half" '' | tr ' ' -)"
same=1
diff -y -t -W "$width" "$WORK/python.masked" "$WORK/rust.masked" || same=0

for side in python rust; do
    if [[ -s $WORK/$side.err ]]; then
        echo
        echo "stderr of the $([[ $side == python ]] && echo listing || echo lesson) (not compared):"
        sed 's/^/    /' "$WORK/$side.err"
    fi
done

# Exit codes count only when both sides ended by themselves.
if [[ ${END[python]} == "exit "[0-9]* && ${END[rust]} == "exit "[0-9]* && ${END[python]} != "${END[rust]}" ]]; then
    echo
    echo "compare: the exit codes differ: listing ${END[python]}, lesson ${END[rust]}"
    same=0
fi

echo
if ((same)); then
    echo "compare: SAME — the outputs agree once ephemeral ports and dates are masked"
    exit 0
fi
echo "compare: DIFFERENT — see the lines marked |, < or > above"
exit 1
