#!/usr/bin/env bash
# Before and after, side by side: two gws-conform binaries (A: after, B: before) alternate on one
# corpus of N bench cases (benches/gen_corpus.py) against one reference server (B's `serve --no-csrf`
# on 127.0.0.1), A B A B ..., so that drift on this shared machine falls on both alike. Prints each
# binary's medians (wall, CPU = user + sys, peak RSS, from /usr/bin/time -v) and the median of the
# pair-by-pair ratios A/B.
#
#   benches/pair.sh AFTER_BIN BEFORE_BIN [N] [PAIRS] [JOBS]      # defaults: 10000 7 2
#
# Build the "before" binary from another checkout (a second worktree with its own target folder: two
# worktrees sharing one target folder overwrite each other's binary). Loopback only; every run sends
# exactly N requests.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
A=$(realpath "${1:?usage: pair.sh AFTER_BIN BEFORE_BIN [N] [PAIRS] [JOBS]}")
B=$(realpath "${2:?usage: pair.sh AFTER_BIN BEFORE_BIN [N] [PAIRS] [JOBS]}")
N=${3:-10000}
PAIRS=${4:-7}
JOBS=${5:-2}

say() { echo "pair.sh: $*" >&2; }
# shellcheck source=benches/tools.sh
. "$ROOT/benches/tools.sh"
need_gnu_time
bench_workspace gws-pair "$B"
C="$WORK/corpus"
python3 "$ROOT/benches/gen_corpus.py" "$N" "$C" "$BASE" "$(nproc)" >/dev/null

# one KEY BIN: one timed run; appends "wall cpu rss_kib exit" to $WORK/KEY.
one() {
    local key=$1 bin=$2 rc=0
    rm -rf "$WORK/reports"
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$bin" run --target "$BASE" \
        --profile "$C/profile.toml" --cases "$C/cases" --jobs "$JOBS" --quiet \
        --report-dir "$WORK/reports" >/dev/null 2>"$WORK/err.txt" || rc=$?
    if [ "$rc" -ne 0 ]; then say "$key exited $rc:"; tail -3 "$WORK/err.txt" >&2; fi
    read -r e u s m < <(tail -1 "$WORK/time.txt")
    echo "$e $(python3 -c "print($u + $s)") $m $rc" >>"$WORK/$key"
}

one warm "$A"
one warm "$B"
for p in $(seq "$PAIRS"); do
    say "pair $p/$PAIRS"
    one a "$A"
    one b "$B"
done

python3 - "$WORK" "$N" "$PAIRS" "$JOBS" <<'PY'
import os, statistics, sys
work, n, pairs, jobs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = {k: [list(map(float, l.split())) for l in open(os.path.join(work, k))] for k in ("a", "b")}
med = lambda k, i: statistics.median(r[i] for r in rows[k])
ratio = lambda i: statistics.median(a[i] / b[i] for a, b in zip(rows["a"], rows["b"]) if b[i] > 0)
ok = all(r[3] == 0 for k in rows for r in rows[k])
print(f"N = {n}, --jobs {jobs}, {pairs} pairs{'' if ok else ' (SOME RUNS FAILED)'}")
print("| | wall s | CPU s | peak RSS MiB |")
print("|---|---:|---:|---:|")
for k, name in (("b", "before"), ("a", "after")):
    print(f"| {name} | {med(k, 0):.3f} | {med(k, 1):.3f} | {med(k, 2) / 1024:.1f} |")
print(f"| after / before (median of pairs) | {ratio(0):.2f}x | {ratio(1):.2f}x | {ratio(2):.2f}x |")
PY
