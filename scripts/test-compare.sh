#!/usr/bin/env bash
# test-compare.sh — tests for scripts/compare.sh, with stand-in listings it writes itself.
#
#   scripts/test-compare.sh        (from any directory; needs python3 for the stand-ins)
#
# The course does not ship the book's listings, so each test writes a small Python 3 stand-in into
# a temp dir (deleted at the end) that prints what the listing prints — or, on purpose, something
# else — and runs compare.sh on it with PYTHON=python3, checking compare.sh's exit status:
# 0 same, 1 different, 2 usage. The server tests use port 51423, the listing's port, so nothing else
# may be listening there. Last line: `N passed, N failed`; the exit status is non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPARE=$ROOT/scripts/compare.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0

if ! command -v python3 >/dev/null; then
    # Not a failure of compare.sh: the stand-ins are Python, and this machine has none.
    echo "test-compare: skipped, python3 not found (the stand-in listings need it)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
# Build once up front, so a broken build is reported once and the first test is not slow.
cargo build --manifest-path "$ROOT/Cargo.toml" --workspace --locked --quiet

# expect STATUS NAME LESSON LISTING [ARGS...]: run compare.sh with PYTHON=python3 and check its exit
# status; on a mismatch show what it printed. Every run is bounded by `timeout`.
expect() {
    local want=$1 name=$2 status=0
    shift 2
    PYTHON=python3 timeout 60 "$COMPARE" "$@" >"$WORK/out" 2>&1 || status=$?
    if ((status == want)); then
        echo "ok    $name (exit $status)"
        passed=$((passed + 1))
    else
        echo "FAIL  $name: compare.sh exited $status, expected $want; it printed:"
        sed 's/^/      /' "$WORK/out"
        failed=$((failed + 1))
    fi
}

# also NAME GREP-ARGS...: an extra check on the last run's output.
also() {
    local name=$1
    shift
    if grep -q "$@" "$WORK/out"; then
        echo "ok    $name"
        passed=$((passed + 1))
    else
        echo "FAIL  $name: no line matching '${*: -1}' in:"
        sed 's/^/      /' "$WORK/out"
        failed=$((failed + 1))
    fi
}

# --- the stand-ins ---------------------------------------------------------------------------------

# socket-info: the Information Example's lines, with host and port from sys.argv. Python 2's
# `print "x",` then `print "done."` prints "x done."; end=" " does the same here.
cat >"$WORK/info.py" <<'EOF'
import socket, sys
print("Creating socket...", end=" ")
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print("done.")
print("Looking up port number...", end=" ")
port = int(sys.argv[2])
print("done.")
print("Connecting to remote host on port %d..." % port, end=" ")
s.connect((sys.argv[1], port))
print("done.")
print("Connected from", s.getsockname())
print("Connected to", s.getpeername())
sys.exit(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
EOF
sed 's/print("done.")/print("finished.")/' "$WORK/info.py" >"$WORK/info-other-word.py"
# Same output, but exit 3: a difference only in the exit code.
sed 's/^sys.exit(.*/sys.exit(3)/' "$WORK/info.py" >"$WORK/info-exit3.py"

# A listing with a fixed remote host, as the book's Information Example has. compare.sh must refuse
# it before running it; were it run anyway, it only writes a marker file (the connect is dead code).
cat >"$WORK/fixed-host.py" <<EOF
import socket
open("$WORK/fixed-host-ran", "w").close()
if False:
    socket.socket().connect(("www.example.com", 80))
EOF

# tcp-listener: the chapter 3 server on the listing's port (loopback here), and a variant whose
# words differ.
cat >"$WORK/server.py" <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 51423))
s.listen(5)
print("Waiting for connections...")
while True:
    client, address = s.accept()
    print("Got connection from", client.getpeername())
    client.close()
EOF
sed 's/Got connection from/Got a connection from/' "$WORK/server.py" >"$WORK/server-other-word.py"

# udp-echo-server: the chapter 3 echo server (loopback here).
cat >"$WORK/udpecho.py" <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 51423))
while True:
    message, address = s.recvfrom(8192)
    print("Got data from", address)
    s.sendto(message, address)
EOF

# udp-client: reads a line, sends it, prints the reply. It stops after one reply (the listing would
# wait for more until stopped) to keep the test short.
cat >"$WORK/udp.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
print("Enter data to transmit: ")
s.send(sys.stdin.readline().strip().encode())
print("Looking for replies; press Ctrl-C or Ctrl-Break to stop.")
print("Received:", s.recv(2048).decode())
EOF

# http-fetch: the error-handling example's happy path. It accepts the lesson's `--pause 0` so both
# sides skip the 10-second sleep; the Date: and Last-Modified: headers must be masked.
cat >"$WORK/fetch.py" <<'EOF'
import socket, sys
args = sys.argv[1:]
if args[0] == "--pause":
    args = args[2:]
host, port, path = args
s = socket.create_connection((host, int(port)))
print("sleeping")
print("Continuing.", flush=True)
s.sendall(("GET %s HTTP/1.0\r\n\r\n" % path).encode())
s.shutdown(socket.SHUT_WR)
while True:
    buf = s.recv(2048)
    if not buf:
        break
    sys.stdout.buffer.write(buf)
EOF

# dns-validate: the forward-confirmed reverse lookup of chapter 4.
cat >"$WORK/validate.py" <<'EOF'
import socket, sys
try:
    hostname = socket.gethostbyaddr(sys.argv[1])[0]
    ipaddrs = [x[4][0] for x in socket.getaddrinfo(hostname, None, 0, socket.SOCK_STREAM)]
except socket.herror:
    print("No host names available for %s; this may be normal." % sys.argv[1])
    sys.exit(0)
if sys.argv[1] not in ipaddrs:
    print("Got hostname %s, but on forward lookup," % hostname)
    print("original IP %s did not appear in IP address list." % sys.argv[1])
    sys.exit(1)
print("Validated hostname:", hostname)
EOF

# --- the tests -------------------------------------------------------------------------------------

echo "test-compare: compare.sh with stand-in listings (PYTHON=python3)"

expect 2 "usage: no arguments"
expect 2 "usage: unknown lesson" no-such-lesson "$WORK/info.py"
expect 2 "usage: the listing file does not exist" socket-info "$WORK/missing.py"
# 127.0.0.2 is loopback too (so even a broken check sends nothing off this machine), but it is
# not where the peer listens.
expect 2 "usage: a client lesson's HOST must be where the peer listens" socket-info "$WORK/info.py" 127.0.0.2 PORT

expect 2 "a listing with a fixed remote host is refused" socket-info "$WORK/fixed-host.py"
if [[ -e $WORK/fixed-host-ran ]]; then
    echo "FAIL  ... and it was run anyway"
    failed=$((failed + 1))
else
    echo "ok    ... and it was not run"
    passed=$((passed + 1))
fi

expect 0 "socket-info: the same lines (default ARGS, ephemeral port masked)" socket-info "$WORK/info.py"
also "socket-info: both columns are shown" -E "Connected from \('127\.0\.0\.1', <port>\) +Connected from"
expect 0 "socket-info: explicit ARGS with the word PORT" socket-info "$WORK/info.py" localhost PORT
expect 1 "socket-info: one word differs" socket-info "$WORK/info-other-word.py"
also "socket-info: the differing line is marked" -E "finished\. +\| "
expect 1 "socket-info: only the exit code differs" socket-info "$WORK/info-exit3.py"

expect 0 "tcp-listener: the same lines on 51423 (Listening-on banner dropped)" tcp-listener "$WORK/server.py"
also "tcp-listener: the scripted client's connections were closed" -F "connection 3: closed by the server"
expect 1 "tcp-listener: one word differs" tcp-listener "$WORK/server-other-word.py"

expect 0 "udp-echo-server: the same lines, every datagram echoed" udp-echo-server "$WORK/udpecho.py"
also "udp-echo-server: the scripted client saw the echoes" -E "datagram 3: echoed +datagram 3: echoed"

expect 0 "udp-client: both read 'hello' on stdin and print its echo" udp-client "$WORK/udp.py"
expect 0 "http-fetch: the same response with dates masked" http-fetch "$WORK/fetch.py" --pause 0 127.0.0.1 PORT /hello.txt
also "http-fetch: the Date: header was masked" -E "^Date: <date> +Date: <date>$"
expect 0 "dns-validate: the same verdict for 127.0.0.1" dns-validate "$WORK/validate.py"

echo "$passed passed, $failed failed"
((failed == 0))
