#!/usr/bin/env python3
"""The critical path of a run, from the run's own report, for benches/latency.sh.

    critical_path.py gws REPORT_JSON RTT_MS      # a gws-conform report.json
    critical_path.py hurl HURL_REPORT_JSON RTT_MS  # Hurl's --report-json (DIR/report.json)

Prints one JSON object. A serial group's path is what its cases must do one after another: the sum
of its exchanges' durations (each a round trip as measured, a new connection's set-up included) and
of its notification waits (`wait_ms`: an absence waits its whole window). The critical path is the
longest group's. Everything else a run spends (starting the process, the preflight, CometD set-up
and goodbye, turn-taking between cases, rendering reports) is overhead on top of it.

Also printed, for the longest group: its floor (one RTT per request the cases declare, plus the
waits: what an ideal client on warm connections would need), how many exchanges the harness added
(CSRF token fetches, the REST login before a CometD session), the CometD set-up time, the absence
windows waited, and the cases' own durations summed (what the group took, turn-taking aside).
For Hurl there is one group per file (the files run in parallel, the entries of one file in order),
and each entry's time is curl's total.
"""

import collections
import json
import sys


def gws(path, rtt_ms):
    rep = json.load(open(path))
    groups = collections.defaultdict(lambda: collections.Counter())
    for c in rep["cases"]:
        g = groups[c.get("group") or "(no group)"]
        g["cases"] += 1
        g["case_ms"] += c["duration_ms"]
        for s in c["steps"]:
            if not s["ran"]:
                continue
            g["steps"] += 1
            g["exchanges"] += len(s["exchanges"])
            g["exchange_ms"] += sum(e["duration_ms"] for e in s["exchanges"])
            g["wait_ms"] += s.get("wait_ms") or 0
            g["cometd_ms"] += s.get("cometd_ms") or 0
            g["cometd_steps"] += 1 if s.get("cometd_ms") is not None else 0
            if (s.get("wait_ms") or 0) > 0 and not any(
                n.get("matched") for n in s.get("notifications", [])
            ):
                g["absence_ms"] += s["wait_ms"]
    for g in groups.values():
        g["path_ms"] = g["exchange_ms"] + g["wait_ms"]
        # One round trip per request a case declares (a step), on a warm connection.
        g["floor_ms"] = g["steps"] * rtt_ms + g["wait_ms"]
        g["added_exchanges"] = g["exchanges"] - g["steps"]
    name, top = max(groups.items(), key=lambda kv: kv[1]["path_ms"])
    return {
        "groups": len(groups),
        "cases": sum(g["cases"] for g in groups.values()),
        "critical_ms": top["path_ms"],
        "group": name,
        "longest": dict(top),
        "report_ms": rep["summary"]["duration_ms"],
        "absence_ms_all": sum(g["absence_ms"] for g in groups.values()),
        # For the balanced bound of a run over U users: max(total / U, longest case).
        "total_case_ms": sum(c["duration_ms"] for c in rep["cases"]),
        "longest_case_ms": max((c["duration_ms"] for c in rep["cases"]), default=0),
    }


def hurl(path, rtt_ms):
    rep = json.load(open(path))
    files = []
    for f in rep:
        us = 0
        n = 0
        for e in f.get("entries", []):
            for call in e.get("calls", []):
                us += call.get("timings", {}).get("total", 0)
                n += 1
        files.append((us / 1000.0, n, f.get("filename", "?")))
    path_ms, n, name = max(files)
    return {
        "groups": len(files),
        "cases": sum(f[1] for f in files),
        "critical_ms": round(path_ms),
        "group": name,
        "longest": {"exchanges": n, "floor_ms": n * rtt_ms, "path_ms": round(path_ms)},
    }


def main():
    kind, path, rtt = sys.argv[1], sys.argv[2], float(sys.argv[3])
    print(json.dumps(gws(path, rtt) if kind == "gws" else hurl(path, rtt)))


if __name__ == "__main__":
    main()
