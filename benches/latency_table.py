#!/usr/bin/env python3
"""Prints benches/latency.sh's table from its runs file (one JSON line per run)."""

import collections
import json
import statistics
import sys


def main():
    every = [json.loads(line) for line in open(sys.argv[1])]
    users_table([r for r in every if r["key"].startswith("users ")])
    runs = [r for r in every if not r["key"].startswith("users ")]
    if not runs:
        return
    by = collections.OrderedDict()
    for r in runs:
        by.setdefault((r["rtt"], r["key"]), []).append(r)
    print()
    print("| RTT | workload / tool | runs | wall s (median) | critical path s | wall / critical"
          " (median, min-max) | longest group: cases, exchanges (added) | its floor s | "
          "its CometD set-up s | its absence windows s | all absence windows s |")
    print("|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for (rtt, key), rs in by.items():
        ok = [r for r in rs if r["cp"].get("critical_ms")]
        failed = sum(1 for r in rs if r["rc"] != 0)
        wall = statistics.median(r["wall_ms"] for r in rs) / 1000
        if not ok:
            print(f"| {rtt:.0f} ms | {key} | {len(rs)} | {wall:.2f} | n/a | n/a | | | | | |")
            continue
        ratios = sorted(r["wall_ms"] / r["cp"]["critical_ms"] for r in ok)
        crit = statistics.median(r["cp"]["critical_ms"] for r in ok) / 1000
        # The breakdown of the run whose ratio is the median.
        mid = sorted(ok, key=lambda r: r["wall_ms"] / r["cp"]["critical_ms"])[len(ok) // 2]
        top = mid["cp"]["longest"]
        cases = top.get("cases", top.get("exchanges"))
        added = top.get("added_exchanges")
        exch = f"{cases}, {top['exchanges']}" + (f" ({added})" if added is not None else "")
        sec = lambda v: "" if v is None else f"{v / 1000:.2f}"  # noqa: E731
        note = f" ({failed} exited non-zero)" if failed else ""
        print(f"| {rtt:.0f} ms | {key}{note} | {len(rs)} | {wall:.2f} | {crit:.2f} | "
              f"**{statistics.median(ratios):.2f}x** ({ratios[0]:.2f}-{ratios[-1]:.2f}) | {exch} | "
              f"{sec(top.get('floor_ms'))} | {sec(top.get('cometd_ms'))} | {sec(top.get('absence_ms'))} | "
              f"{sec(mid['cp'].get('absence_ms_all'))} |")
    pairs(runs)


def users_table(runs):
    """The `users` workload: each run's wall time beside its balanced bound (max(total case time /
    users, the longest case)) and its critical path (the busiest user's chain), "roles" and "pool"
    side by side for each number of users."""
    if not runs:
        return
    by = collections.OrderedDict()
    for r in runs:
        by.setdefault((r["rtt"], r["key"]), []).append(r)
    print()
    print("| RTT | users / scheduling | runs | wall s (median) | balanced bound s | wall / balanced"
          " (median, min-max) | critical path s (busiest user) | cases run |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for (rtt, key), rs in by.items():
        users = int(key.split()[1].split("/")[0])
        ok = [r for r in rs if r["cp"].get("total_case_ms")]
        failed = sum(1 for r in rs if r["rc"] != 0)
        wall = statistics.median(r["wall_ms"] for r in rs) / 1000
        note = f" ({failed} exited non-zero)" if failed else ""
        if not ok:
            print(f"| {rtt:.0f} ms | {key}{note} | {len(rs)} | {wall:.2f} | n/a | n/a | n/a | |")
            continue
        bound = lambda r: max(r["cp"]["total_case_ms"] / users, r["cp"]["longest_case_ms"])  # noqa: E731
        ratios = sorted(r["wall_ms"] / bound(r) for r in ok)
        med = lambda f: statistics.median(f(r) for r in ok) / 1000  # noqa: E731
        print(f"| {rtt:.0f} ms | {key}{note} | {len(rs)} | {wall:.2f} | {med(bound):.2f} | "
              f"**{statistics.median(ratios):.2f}x** ({ratios[0]:.2f}-{ratios[-1]:.2f}) | "
              f"{med(lambda r: r['cp']['critical_ms']):.2f} | {ok[0]['cp']['cases']} |")


def pairs(runs):
    """With a baseline (LAT_BASELINE_BIN): each run beside the baseline's run that followed it."""
    base = collections.OrderedDict()
    for r in runs:
        if r["key"].endswith(" (baseline)"):
            base.setdefault((r["rtt"], r["key"][: -len(" (baseline)")]), []).append(r)
    if not base:
        return
    print()
    print("| RTT | workload | pairs | wall before, median | wall after, median | after / before (median,"
          " min-max) | critical path before | after | wall / critical before | after |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (rtt, key), before in base.items():
        after = [r for r in runs if r["rtt"] == rtt and r["key"] == key]
        ps = list(zip(after, before))
        if not ps:
            continue
        ratios = sorted(a["wall_ms"] / b["wall_ms"] for a, b in ps)
        med = lambda rs, f: statistics.median(f(r) for r in rs)  # noqa: E731
        crit = lambda r: r["cp"].get("critical_ms") or float("nan")  # noqa: E731
        print(f"| {rtt:.0f} ms | {key} | {len(ps)} | {med(before, lambda r: r['wall_ms']) / 1000:.2f} s | "
              f"{med(after, lambda r: r['wall_ms']) / 1000:.2f} s | **{statistics.median(ratios):.3f}x** "
              f"({ratios[0]:.3f}-{ratios[-1]:.3f}) | {med(before, crit) / 1000:.2f} s | "
              f"{med(after, crit) / 1000:.2f} s | {med(before, lambda r: r['wall_ms'] / crit(r)):.2f}x | "
              f"{med(after, lambda r: r['wall_ms'] / crit(r)):.2f}x |")


if __name__ == "__main__":
    main()
