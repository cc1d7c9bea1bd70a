# shellcheck shell=bash disable=SC2034  # LAST_PID is read by the scripts that source this
# Process plumbing shared by tour.sh and compare.sh (sourced, not run). The caller sets WORK (a
# scratch folder) and PIDS (an array); its EXIT trap kills every pid in PIDS.

# start NAME CMD...: run CMD in the background, stdout to $WORK/NAME.out, stderr to NAME.err.
start() {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
    PIDS+=("$!")
    LAST_PID=$!
}

# bounded SECONDS CMD...: run CMD under `timeout` and wait for it. As a background job, not in the
# foreground: `timeout` gives CMD a process group of its own, so Ctrl-C reaches only this script,
# and bash runs a trap during `wait` at once but only after a foreground command has finished.
bounded() {
    # `<&0`: a background job's stdin would otherwise be /dev/null, not the caller's redirection.
    timeout "$@" <&0 &
    PIDS+=("$!")
    wait "$!"
}

# wait_for FILE SECONDS PID GREP-ARGS...: poll FILE until `grep -q GREP-ARGS` finds a line; fails
# at the deadline or when process PID has exited without printing it.
wait_for() {
    local file=$1 deadline=$((SECONDS + $2)) pid=$3
    shift 3
    until grep -q "$@" "$file" 2>/dev/null; do
        if ((SECONDS >= deadline)) || ! kill -0 "$pid" 2>/dev/null; then
            grep -q "$@" "$file" 2>/dev/null
            return
        fi
        sleep 0.1
    done
}

