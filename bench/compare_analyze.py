#!/usr/bin/env python3
"""Compares `sonde analyze --format json` with Volatility 3's linux.pslist, linux.proc.Maps and linux.lsof JSON output
(`vol -r json`): the process (pid), map (pid, start, end) and fd (pid, fd) sets. Prints each set's size on both sides,
every difference, and a verdict line per set; writes the same as JSON with --json. Exit 0 always: differences are
reported and explained in docs/benchmarks/analyze.md, not failures of this script.

Usage: compare_analyze.py SONDE.json PSLIST.json MAPS.json LSOF.json [--json OUT]
"""
import json
import sys


def rows(path):
    """Volatility's JSON renderer nests child rows under __children; flatten them."""
    with open(path) as f:
        data = json.load(f)
    out = []
    stack = list(data)
    while stack:
        r = stack.pop()
        out.append(r)
        stack.extend(r.get("__children", []))
    return out


def num(v):
    return int(v, 16) if isinstance(v, str) and v.startswith("0x") else int(v)


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        sonde = json.load(f)
    pslist, maps, lsof = rows(argv[2]), rows(argv[3]), rows(argv[4])
    comm = {p["pid"]: p["comm"] for p in sonde["processes"]}
    comm.update({r["PID"]: r["COMM"] for r in pslist if "COMM" in r})
    sets = {
        "processes (pid)": ({p["pid"] for p in sonde["processes"]},
                            {r["PID"] for r in pslist if r.get("TID", r["PID"]) == r["PID"]}),
        "maps (pid, start, end)": ({(m["pid"], num(m["start"]), num(m["end"])) for m in sonde["maps"]},
                                   {(r["PID"], r["Start"], r["End"]) for r in maps}),
        "fds (pid, fd)": ({(f["pid"], f["fd"]) for f in sonde["files"]},
                          {(r["PID"], r["FD"]) for r in lsof}),
    }
    report = {}
    for name, (s, v) in sets.items():
        only_s = sorted(s - v)
        only_v = sorted(v - s)
        report[name] = {"sonde": len(s), "volatility": len(v), "common": len(s & v),
                        "only_sonde": [list(x) if isinstance(x, tuple) else x for x in only_s],
                        "only_volatility": [list(x) if isinstance(x, tuple) else x for x in only_v]}
        verdict = "identical" if not only_s and not only_v else "DIFFERENT"
        print(f"{name}: sonde {len(s)}, volatility {len(v)}, common {len(s & v)}: {verdict}")
        for label, items in (("only in sonde", only_s), ("only in volatility", only_v)):
            for x in items[:50]:
                pid = x[0] if isinstance(x, tuple) else x
                shown = "(%s)" % ", ".join(hex(e) if i > 0 and name.startswith("maps") else str(e)
                                          for i, e in enumerate(x)) if isinstance(x, tuple) else str(x)
                print(f"  {label}: {shown} {comm.get(pid, '?')}")
            if len(items) > 50:
                print(f"  {label}: ... {len(items) - 50} more")
    if "--json" in argv:
        with open(argv[argv.index("--json") + 1], "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
