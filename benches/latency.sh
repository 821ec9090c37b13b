#!/usr/bin/env bash
# Latency mode: how close a run comes to its critical path when every round trip costs RTT.
#
#   benches/latency.sh                                  # RTT 20 and 100 ms, 3 interleaved rounds
#   LAT_RTTS="20" LAT_ROUNDS=1 LAT_CASES=500 benches/latency.sh
#   LAT_WORKLOADS=suite LAT_BASELINE_BIN=/tmp/old/gws-conform LAT_BASELINE_SRC=/tmp/old benches/latency.sh
#   LAT_WORKLOADS=users LAT_RTTS=20 LAT_BASELINE_BIN=... LAT_BASELINE_SRC=... benches/latency.sh
#
# LAT_WORKLOADS: the rows to run (default "suite accepting corpus"). LAT_BASELINE_BIN: a second binary
# (an earlier version, built apart) run right after this one on the same proxy in every round of
# `suite` and `accepting`, from LAT_BASELINE_SRC (a folder holding that version's cases/, schemas/ and
# profiles/, e.g. `git archive COMMIT cases schemas profiles | tar -x -C DIR`); the table then adds
# each pair's wall-time ratio (this binary / baseline). LAT_RUNS_OUT: keep the runs file (JSON lines).
#
# Starts reference servers (`gws-conform serve`) on 127.0.0.1, each behind benches/delay_proxy.py (a
# TCP proxy adding RTT/2 each way to every chunk, one RTT per new connection), and runs with default
# settings:
#   suite      the whole embedded suite: gws-conform run --target PROXY --profile profiles/reference.toml
#   accepting  the same, against a server with the conforming variants that take the suite's
#              "accept and notify nothing" alternatives (its absence windows then fall on the longest
#              serial group: the absence-window study of RESULTS.md)
#   users      a lab with few users that answers slowly: the proxy adds LAT_SERVICE_MS (default 250) to
#              every answer, and for each N of LAT_USERS (default "4 8 21") the whole suite runs twice:
#              "roles" with the role->user map `init --agents N` writes (role slot s on user
#              (s - 1) % N + 1; by LAT_BASELINE_BIN from LAT_BASELINE_SRC when given, as "before"),
#              and "pool" with `[pool] users = agent1..agentN` and the roles whose lab user is special
#              pinned to the same users as in "roles". Its table adds the balanced bound: max(total
#              case time / N, the longest case), from each run's report
#   corpus     benches/gen_corpus.py's LAT_CASES cases over 16 serial groups (csrf = false), with
#              gws-conform, and with Hurl 8.0.1 running the same requests as one file per serial group
#              with --jobs 16
# For each run it prints the wall time (process start to exit) beside the critical path computed from
# the run's own report (benches/critical_path.py: the longest serial group's exchanges and
# notification waits; for Hurl, the longest file's curl totals), and the ratio.
#
# Bounded: each run is killed after LAT_RUN_SECONDS (default 300), the proxies exit by themselves after
# 1 h, the whole takes about 5 min at the defaults. Loopback only. Installs Hurl 8.0.1 (cargo install
# hurl@8.0.1 --locked, about 2 min the first time) when missing, as benches/compare.sh does.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RTTS=${LAT_RTTS:-"20 100"}
ROUNDS=${LAT_ROUNDS:-3}
CASES=${LAT_CASES:-1000}
RUN_SECONDS=${LAT_RUN_SECONDS:-300}
GROUPS_N=16 # gen_corpus.py's agents: one serial group each
WORKLOADS=${LAT_WORKLOADS:-"suite accepting corpus"}
USERS_N=${LAT_USERS:-"4 8 21"}
SERVICE_MS=${LAT_SERVICE_MS:-250}
BASE_BIN=${LAT_BASELINE_BIN:-}
BASE_SRC=${LAT_BASELINE_SRC:-}
if [ -n "$BASE_BIN" ] && { [ ! -x "$BASE_BIN" ] || [ ! -d "$BASE_SRC/cases" ] || [ ! -f "$BASE_SRC/profiles/reference.toml" ]; }; then
    echo "latency.sh: LAT_BASELINE_BIN needs an executable, and LAT_BASELINE_SRC a folder with its cases/ and profiles/reference.toml" >&2
    exit 2
fi
has() { [[ " $WORKLOADS " == *" $1 "* ]]; }
ACCEPTING="--variant empty-channels-noop --variant async-switch-password --variant async-unknown-value --variant async-dynamic-number"

say() { echo "latency.sh: $*" >&2; }

# --- tools --------------------------------------------------------------------------------------------
# shellcheck source=benches/tools.sh
. "$ROOT/benches/tools.sh"
HAVE_HURL=0
if has corpus; then
    find_hurl
fi

say "building the release binary"
cargo build --release --quiet
BIN="$ROOT/target/release/gws-conform"

WORK=$(mktemp -d /tmp/gws-latency.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -n "${LAT_RUNS_OUT:-}" ] && [ -f "$WORK/runs" ]; then cp "$WORK/runs" "$LAT_RUNS_OUT"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

GWS_PASSWORD="lat-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
GWS_AGENT_LOGIN_PASSWORD="switch-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
export GWS_PASSWORD GWS_AGENT_LOGIN_PASSWORD

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    say "nothing listens on port $1"; exit 2
}

# serve NAME ARGS...: a reference server; its port in $WORK/port-NAME.
serve() {
    local name=$1 port
    shift
    port=$(free_port)
    # shellcheck disable=SC2068
    "$BIN" serve --addr "127.0.0.1:$port" $@ >"$WORK/server-$name.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    echo "$port" >"$WORK/port-$name"
}
# proxy NAME RTT: a delay proxy in front of server NAME; its port in $WORK/port-NAME-RTT. (Not called
# as $(proxy ...): a subshell would lose the pid and run the EXIT trap.)
proxy() {
    local port
    port=$(free_port)
    local service=0
    if [ "$1" = users ]; then service=$SERVICE_MS; fi
    python3 "$ROOT/benches/delay_proxy.py" "$port" "$(cat "$WORK/port-$1")" "$2" --service-ms "$service" \
        --max-seconds 3600 &
    PIDS+=($!)
    wait_port "$port"
    echo "$port" >"$WORK/port-$1-$2"
}

for s in $WORKLOADS; do
    case $s in
    suite) serve suite ;;
    accepting) serve accepting $ACCEPTING ;;
    corpus) serve corpus --no-csrf ;;
    users) serve users ;;
    *) say "unknown workload $s (suite, accepting, users, corpus)"; exit 2 ;;
    esac
done

now() { date +%s.%N; }

# timed KEY RTT KIND REPORT CMD...: runs CMD (bounded), then appends one JSON line to $WORK/runs.
timed() {
    local key=$1 rtt=$2 kind=$3 report=$4 rc=0 t0 t1
    shift 4
    t0=$(now)
    timeout "$RUN_SECONDS" "$@" >"$WORK/out.txt" 2>&1 || rc=$?
    t1=$(now)
    if [ "$rc" -ne 0 ]; then say "$key (RTT $rtt ms) exited $rc:"; tail -3 "$WORK/out.txt" >&2; fi
    local cp='{}'
    if [ -f "$report" ]; then cp=$(python3 "$ROOT/benches/critical_path.py" "$kind" "$report" "$rtt"); fi
    python3 -c 'import json,sys; print(json.dumps({"key": sys.argv[1], "rtt": float(sys.argv[2]), "wall_ms": (float(sys.argv[4]) - float(sys.argv[3])) * 1000, "rc": int(sys.argv[5]), "cp": json.loads(sys.argv[6])}))' \
        "$key" "$rtt" "$t0" "$t1" "$rc" "$cp" >>"$WORK/runs"
}

# users_profile KIND N SRC OUT: the reference profile of SRC (roles: its role->user map folded onto N
# users as `init --agents N` does; pool: a [pool] of those N users, the special roles pinned).
users_profile() {
    python3 - "$1" "$2" "$3/profiles/reference.toml" "$4" <<'PY'
import re, sys
kind, n, src, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(src).read()
head, _, agents = text.partition("[agents.")
agents = "[agents." + agents
fold = lambda m: 'username = "agent%d"' % ((int(m.group(1)) - 1) % n + 1)
agents = re.sub(r'username = "agent(\d+)"', fold, agents)
if kind == "pool":
    # Roles whose lab user must be a particular one (src/load/catalogue.rs): pinned, the rest pooled.
    pinned = {"sample4", "params", "multimedia", "auth", "notify4", "notify", "sample6"}
    blocks = re.findall(r'(\[agents\.(\w+)\]\n(?:[^\[]*))', agents)
    users = ", ".join('"agent%d"' % i for i in range(1, n + 1))
    agents = '[pool]\nusers = [%s]\npassword = "${env:GWS_PASSWORD}"\n\n' % users
    agents += "".join(b for b, role in blocks if role in pinned)
open(out, "w").write(head + agents)
PY
}

declare -A PROXY
for rtt in $RTTS; do
    for s in $WORKLOADS; do
        proxy "$s" "$rtt"
        PROXY[$s-$rtt]=$(cat "$WORK/port-$s-$rtt")
    done
    if has corpus; then
        python3 "$ROOT/benches/gen_corpus.py" "$CASES" "$WORK/corpus-$rtt" "http://127.0.0.1:${PROXY[corpus-$rtt]}" "$GROUPS_N"
    fi
done
say "servers and proxies up; $ROUNDS round(s) of RTT $RTTS ms"

n=0
for r in $(seq "$ROUNDS"); do
    for rtt in $RTTS; do
        say "round $r/$ROUNDS, RTT $rtt ms"
        if has users; then
            for users in $USERS_N; do
                src=${BASE_SRC:-$ROOT}
                users_profile roles "$users" "$src" "$WORK/roles-$users.toml"
                users_profile pool "$users" "$ROOT" "$WORK/pool-$users.toml"
                n=$((n + 1))
                cd "$src"
                timed "users $users/roles" "$rtt" gws "$WORK/r$n/report.json" \
                    "${BASE_BIN:-$BIN}" run -q --target "http://127.0.0.1:${PROXY[users-$rtt]}" \
                    --profile "$WORK/roles-$users.toml" --report-dir "$WORK/r$n"
                cd "$ROOT"
                n=$((n + 1))
                timed "users $users/pool" "$rtt" gws "$WORK/r$n/report.json" \
                    "$BIN" run -q --target "http://127.0.0.1:${PROXY[users-$rtt]}" \
                    --profile "$WORK/pool-$users.toml" --report-dir "$WORK/r$n"
            done
        fi
        for s in suite accepting; do
            has "$s" || continue
            n=$((n + 1))
            timed "$s/gws-conform" "$rtt" gws "$WORK/r$n/report.json" \
                "$BIN" run -q --target "http://127.0.0.1:${PROXY[$s-$rtt]}" --profile profiles/reference.toml \
                --report-dir "$WORK/r$n"
            if [ -n "$BASE_BIN" ]; then
                # From the baseline's own folder: its cases and profile (not this version's).
                n=$((n + 1))
                cd "$BASE_SRC"
                timed "$s/gws-conform (baseline)" "$rtt" gws "$WORK/r$n/report.json" \
                    "$BASE_BIN" run -q --target "http://127.0.0.1:${PROXY[$s-$rtt]}" \
                    --profile profiles/reference.toml --report-dir "$WORK/r$n"
                cd "$ROOT"
            fi
        done
        if ! has corpus; then
            rm -rf "$WORK"/r*/
            continue
        fi
        C="$WORK/corpus-$rtt"
        n=$((n + 1))
        timed "corpus/gws-conform" "$rtt" gws "$WORK/r$n/report.json" \
            "$BIN" run -q --target "http://127.0.0.1:${PROXY[corpus-$rtt]}" --profile "$C/profile.toml" \
            --cases "$C/cases" --report-dir "$WORK/r$n"
        if [ "$HAVE_HURL" = 1 ]; then
            n=$((n + 1))
            timed "corpus/Hurl 8.0.1" "$rtt" hurl "$WORK/r$n/report.json" \
                "$HURL" --test --jobs "$GROUPS_N" --report-json "$WORK/r$n" "$C"/hurl/split/*.hurl
        fi
        rm -rf "$WORK"/r*/
    done
done

python3 "$ROOT/benches/latency_table.py" "$WORK/runs"
