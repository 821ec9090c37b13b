#!/usr/bin/env bash
# Side-by-side benchmark: gws-conform against Hurl 8.0.1, wrk and the reqwest floor (examples/reqwest_floor.rs:
# the same requests on the same HTTP client and runtime, nothing checked or recorded), in ONE run against ONE
# reference server (release build, `gws-conform serve --no-csrf` on 127.0.0.1), on generated corpora of N
# cases of the Sample 1 / Sample 5 kind (benches/gen_corpus.py). Prints one table (cases/s, ratios, peak RSS).
#
#   benches/compare.sh                      # N = 1000 and 10000, 3 interleaved rounds, wrk 5 s a run
#   BENCH_SIZES="1000" BENCH_ROUNDS=1 WRK_SECONDS=3 benches/compare.sh
#
# Each tool runs at three concurrencies: 1, the core count, and BENCH_WIDE (default 4 x cores). At the
# core count the loopback round trip, not the CPU, still bounds a lean client (the floor idles part of
# the time), so a tool's best mode is often the wide one; every "best" below is the best of the three.
# One more Hurl row writes Hurl's own reports (HTML, JUnit, TAP, JSON) at the wide concurrency: the
# like-for-like comparison, since gws-conform writes report.json, HTML, JUnit, TAP and Markdown on every run.
# It is printed apart and never counted as Hurl's best.
#
# Every load is bounded: gws-conform, the floor and Hurl send exactly N requests; wrk runs WRK_SECONDS (at most 30).
# Loopback only. Installs Hurl (cargo install hurl@8.0.1 --locked), wrk and GNU time when missing, and
# says so plainly when it cannot. Rates are medians over the rounds; the rounds interleave the tools so
# that noise on this shared machine falls on all of them alike. Compare ratios, not absolute numbers.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CORES=$(nproc)
SIZES=${BENCH_SIZES:-"1000 10000"}
ROUNDS=${BENCH_ROUNDS:-3}
WIDE=${BENCH_WIDE:-$((4 * CORES))}
# The corpus has 16 agents (gen_corpus.py), so 16 serial groups and 16 non-empty Hurl files at most.
if [ "$WIDE" -gt 16 ]; then WIDE=16; fi
WRK_SECONDS=${WRK_SECONDS:-5}
if [ "$WRK_SECONDS" -gt 30 ]; then WRK_SECONDS=30; fi

say() { echo "compare.sh: $*" >&2; }

# --- tools --------------------------------------------------------------------------------------------
# shellcheck source=benches/tools.sh
. "$ROOT/benches/tools.sh"
need_gnu_time
HAVE_WRK=1
if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk (apt-get install -y wrk)"
    apt_install wrk || { say "CANNOT INSTALL wrk: the wrk rows are left out"; HAVE_WRK=0; }
fi
find_hurl

# --- the harness and the server -----------------------------------------------------------------------
say "building the release binary and the reqwest floor (examples/reqwest_floor.rs)"
cargo build --release --quiet --bin gws-conform --example reqwest_floor
BIN="$ROOT/target/release/gws-conform"
FLOOR="$ROOT/target/release/examples/reqwest_floor"

bench_workspace gws-bench "$BIN"
say "reference server pid $SERVER_PID on $BASE"

# --- measuring ----------------------------------------------------------------------------------------
now() { date +%s.%N; }

# measure KEY N CMD...: runs CMD under /usr/bin/time -v; appends "rate rss_kib exit" to $WORK/KEY.
measure() {
    local key=$1 n=$2
    shift 2
    local t0 t1 rc=0
    t0=$(now)
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>&1 || rc=$?
    t1=$(now)
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
    if [ "$rc" -ne 0 ]; then
        say "$key exited $rc:"; tail -5 "$WORK/out.txt" >&2
    fi
    python3 -c "import sys; print($n / ($t1 - $t0), $rss, $rc)" >>"$WORK/$key"
}

# measure_wrk KEY CONNS LUA: wrk's own Requests/sec; the request count is what wrk reports.
measure_wrk() {
    local key=$1 conns=$2 lua=$3 threads rc=0
    threads=$((conns < CORES ? conns : CORES))
    /usr/bin/time -v -o "$WORK/time.txt" wrk -t"$threads" -c"$conns" -d"${WRK_SECONDS}s" -s "$lua" "$BASE" \
        >"$WORK/out.txt" 2>&1 || rc=$?
    local rate rss
    rate=$(awk '/Requests\/sec/ {print $2}' "$WORK/out.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
    echo "${rate:-0} $rss $rc" >>"$WORK/$key"
}

for N in $SIZES; do
    C="$WORK/corpus-$N"
    python3 "$ROOT/benches/gen_corpus.py" "$N" "$C" "$BASE" "$CORES" "$WIDE"
    say "corpus of $N cases in $C"
    # Warm the server and the page cache once (not timed).
    "$BIN" run --target "$BASE" --profile "$C/profile.toml" --cases "$C/cases" --jobs "$CORES" --quiet \
        --report-dir "$WORK/reports-warm-$N" >/dev/null 2>&1 || say "warm-up run of $N cases did not pass"
    for r in $(seq "$ROUNDS"); do
        say "N=$N round $r/$ROUNDS"
        for j in 1 "$CORES" "$WIDE"; do
            measure "gws-j$j-$N" "$N" "$BIN" run --target "$BASE" --profile "$C/profile.toml" --cases "$C/cases" \
                --jobs "$j" --quiet --report-dir "$WORK/reports-$N-j$j-$r"
            rm -rf "$WORK/reports-$N-j$j-$r"
        done
        # The same requests with nothing read, checked, recorded or reported: what the HTTP client,
        # the kernel and the server cost by themselves.
        for j in 1 "$CORES" "$WIDE"; do
            measure "floor-j$j-$N" "$N" "$FLOOR" "$C/profile.toml" "$N" "$j"
        done
        if [ "$HAVE_HURL" = 1 ]; then
            measure "hurl-one-$N" "$N" "$HURL" --test --jobs 1 "$C/hurl/all.hurl"
            measure "hurl-split-$N" "$N" "$HURL" --test --jobs "$CORES" "$C"/hurl/split/*.hurl
            measure "hurl-wide-$N" "$N" "$HURL" --test --jobs "$WIDE" "$C"/hurl/wide/*.hurl
            # Like for like: Hurl writing the reports it has for what gws-conform writes on every run
            # (report.json, HTML, JUnit, TAP). A row of its own, never taken as Hurl's best.
            rm -rf "$WORK/hurl-reports"
            measure "hurl-reports-$N" "$N" "$HURL" --test --jobs "$WIDE" \
                --report-html "$WORK/hurl-reports/html" --report-junit "$WORK/hurl-reports/junit.xml" \
                --report-tap "$WORK/hurl-reports/report.tap" --report-json "$WORK/hurl-reports/json" \
                "$C"/hurl/wide/*.hurl
            rm -rf "$WORK/hurl-reports"
        fi
        if [ "$HAVE_WRK" = 1 ]; then
            measure_wrk "wrk-c1-$N" 1 "$C/wrk.lua"
            measure_wrk "wrk-c$CORES-$N" "$CORES" "$C/wrk.lua"
            measure_wrk "wrk-c$WIDE-$N" "$WIDE" "$C/wrk.lua"
        fi
    done
    rm -rf "$C"
done

# --- the table ----------------------------------------------------------------------------------------
python3 - "$WORK" "$CORES" "$SIZES" "$HAVE_HURL" "$HAVE_WRK" "$WIDE" <<'PY'
import os, statistics, sys
work, cores, sizes, have_hurl, have_wrk = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4] == "1", sys.argv[5] == "1"
wide = int(sys.argv[6])

def get(key):
    path = os.path.join(work, key)
    if not os.path.exists(path):
        return None
    rows = [line.split() for line in open(path)]
    rates = [float(r[0]) for r in rows]
    rss = max(int(r[1]) for r in rows) / 1024.0
    ok = all(r[2] == "0" for r in rows)
    return statistics.median(rates), rss, ok

def fmt_rate(v):
    return "n/a" if v is None else f"{v[0]:,.0f}" + ("" if v[2] else " (FAILED)")

def fmt_rss(v):
    return "n/a" if v is None else f"{v[1]:.1f}"

def ratio(a, b):
    return "n/a" if a is None or b is None or b[0] == 0 else f"{a[0] / b[0]:.2f}x"

print()
print(f"| N | tool / mode | concurrency | cases/s (median) | peak RSS MiB | vs Hurl, same conc. | vs wrk, same conc. |")
print("|---:|---|---:|---:|---:|---:|---:|")
summary = []
for n in sizes:
    g1, gc, gw = get(f"gws-j1-{n}"), get(f"gws-j{cores}-{n}"), get(f"gws-j{wide}-{n}")
    h1, hc, hw = get(f"hurl-one-{n}"), get(f"hurl-split-{n}"), get(f"hurl-wide-{n}")
    w1, wc, ww = get(f"wrk-c1-{n}"), get(f"wrk-c{cores}-{n}"), get(f"wrk-c{wide}-{n}")
    f1, fc, fw = get(f"floor-j1-{n}"), get(f"floor-j{cores}-{n}"), get(f"floor-j{wide}-{n}")
    hr = get(f"hurl-reports-{n}")
    rows = [
        ("gws-conform --jobs 1", 1, g1, h1, w1),
        (f"gws-conform --jobs {cores}", cores, gc, hc, wc),
        (f"gws-conform --jobs {wide}", wide, gw, hw, ww),
        ("reqwest floor (examples/reqwest_floor.rs), 1 at a time", 1, f1, h1, w1),
        (f"reqwest floor, {cores} at a time", cores, fc, hc, wc),
        (f"reqwest floor, {wide} at a time", wide, fw, hw, ww),
        ("Hurl 8.0.1, one file", 1, h1, None, None),
        (f"Hurl 8.0.1, {cores} files, --jobs {cores}", cores, hc, None, None),
        (f"Hurl 8.0.1, {wide} files, --jobs {wide}", wide, hw, None, None),
        (f"Hurl 8.0.1, {wide} files, --jobs {wide}, writing HTML, JUnit, TAP and JSON reports", wide, hr, None, None),
        ("wrk, 1 connection", 1, w1, None, None),
        (f"wrk, {cores} connections", cores, wc, None, None),
        (f"wrk, {wide} connections", wide, ww, None, None),
    ]
    for name, conc, v, vh, vw in rows:
        if v is None:
            continue
        print(f"| {n} | {name} | {conc} | {fmt_rate(v)} | {fmt_rss(v)} | {ratio(v, vh) if vh else ''} | {ratio(v, vw) if vw else ''} |")
    # A mode whose runs did not all exit 0 is shown in the table as FAILED, never taken as a best.
    best = lambda *modes: max([x for x in modes if x and x[2]], key=lambda x: x[0], default=None)
    summary.append((n, best(g1, gc, gw), best(h1, hc, hw), (g1, gc, gw), best(f1, fc, fw), (gw, hr)))

print()
labels = ("--jobs 1", f"--jobs {cores}", f"--jobs {wide}")
for n, best_g, best_h, gs, best_f, (gw, hr) in summary:
    rss = ", ".join(f"{label} {fmt_rss(g)} MiB" for label, g in zip(labels, gs))
    print(f"N={n}: best gws-conform / best Hurl = {ratio(best_g, best_h)}; "
          f"best reqwest floor / best Hurl = {ratio(best_f, best_h)}; "
          f"best gws-conform / best floor = {ratio(best_g, best_f)}; peak RSS {rss}")
    # As for the bests: a mode whose runs did not all exit 0 gives no ratio.
    passed = lambda x: x if x and x[2] else None
    print(f"N={n}, like for like (both writing their reports, --jobs {wide}): "
          f"gws-conform / Hurl = {ratio(passed(gw), passed(hr))}")
if len(summary) >= 2:
    (n0, _, _, a_s, _, _), (n1, _, _, b_s, _, _) = summary[0], summary[-1]
    for label, a, b in zip(labels, a_s, b_s):
        if a and b:
            print(f"peak RSS {label}: {n1} cases / {n0} cases = {b[1] / a[1]:.3f} ({b[1]:.1f} MiB vs {a[1]:.1f} MiB)")
if not have_hurl:
    print("Hurl 8.0.1 could not be installed: no Hurl rows.")
if not have_wrk:
    print("wrk could not be installed: no wrk rows.")
PY
