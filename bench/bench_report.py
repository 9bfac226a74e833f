"""Writes docs/benchmarks/{profile,vol-bridge}.md from the results of bench/profile.sh or bench/vol-bridge.sh."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

kind, out, doc, image, isf = sys.argv[1:6]


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return "%s, %d CPUs, %s RAM, %s, %s, Python %s" % (cpu, os.cpu_count(), mem, platform.platform(), java,
                                                      platform.python_version())


def hyperfine_rows(path):
    rows = []
    for r in json.load(open(path))["results"]:
        rows.append("| %s | %.2f s | ± %.2f s | %.2f s | %.2f s | %.2f s | %d |" % (
            r["command"], r["mean"], r["stddev"] or 0, r["min"], r["max"], r["user"] + r["system"], len(r["times"])))
    return ["| step | wall mean | σ | min | max | CPU (user+sys) mean | runs |",
            "| --- | --- | --- | --- | --- | --- | --- |"] + rows + [
            "", "Load average at the end of the run: %s (the machine is shared: compare CPU time when wall times"
            " are noisy)." % " ".join(open("/proc/loadavg").read().split()[:3])]


def warm_rows(warm):
    rows = ["| step (one JVM) | first run | warm runs (median) | warm runs |", "| --- | --- | --- | --- |"]
    for name, v in warm.items():
        if isinstance(v, dict):
            w = v["warm"]
            rows.append("| %s | %.0f ms | %s | %s |" % (name, v["first"],
                        ("%.0f ms" % statistics.median(w)) if w else "-", ", ".join("%.0f" % x for x in w) or "-"))
    return rows


now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
lines = []
warm = json.load(open(os.path.join(out, "warm.json")))
if kind == "profile":
    vl = json.load(open(os.path.join(out, "vol-load.json")))
    vc = json.load(open(os.path.join(out, "vol-construct.json")))
    lines += ["# Kernel profile: BTF + kallsyms vs full ISF, Sonde vs Volatility 3", "",
              "Written by `bench/profile.sh` on %s." % now, "", "Machine: %s." % machine(), "",
              "Image: `%s` (%.0f MiB). ISF: `%s` (dwarf2json, %.1f MiB xz)." % (
                  image, os.path.getsize(image) / 2**20, os.path.relpath(isf), os.path.getsize(isf) / 2**20), "",
              "## Whole commands, fresh process each (hyperfine)", ""]
    lines += hyperfine_rows(os.path.join(out, "hyperfine.json"))
    lines += ["", "Sonde's commands include JVM start, opening the image and the profile's cross-checks (with `--symbols` the"
              " ISF is also checked against the image's own BTF, so that row includes the BTF profile); Volatility's"
              " include interpreter start and importing the framework. The Volatility rows are the peers of the Sonde"
              " rows above them: loading the ISF (vs Sonde's ISF rows), and everything Volatility does before a plugin"
              " can read kernel objects (vs Sonde's profile from BTF+kallsyms, which needs no ISF at all).", "",
              "## Inside one process", "", "Sonde (`WarmTimings profile`):", ""]
    lines += warm_rows(warm)
    lines += ["", "Volatility 3 (`peer_isf.py`, measured inside the Python process, one cold run each):", "",
              "| step | seconds |", "| --- | --- |",
              "| import the framework | %.2f |" % vl["import"],
              "| load the full ISF into a symbol table (JSON parse + schema validation, cold) | %.2f |" % vl["isf_load"],
              "| load it again, validation remembered (as later `vol` runs) | %.2f |" % vl["isf_load_validated_before"],
              "| import the plugins | %.2f |" % vc["plugins_import"],
              "| construct the kernel for linux.pslist (automagic: layers, ISF found by banner, loaded; cold caches) | %.2f |"
              % vc["construct_kernel"], ""]
else:
    lines += ["# Volatility 3 through the bridge vs the `vol` command line vs the native analyzer", "",
              "Written by `bench/vol-bridge.sh` on %s." % now, "", "Machine: %s." % machine(), "",
              "Image: `%s` (%.0f MiB); plugin `linux.pslist.PsList` with the fixture kernel's ISF; the native analyzer"
              " lists the same processes (plus maps, files and findings are computed for `--view processes` too) from"
              " the kernel's own BTF and kallsyms." % (image, os.path.getsize(image) / 2**20), "",
              "## Whole commands, fresh process each (hyperfine)", ""]
    lines += hyperfine_rows(os.path.join(out, "hyperfine.json"))
    lines += ["", "## Inside one JVM (`WarmTimings bridge`)", "",
              "The interpreter starts once per process (%d ms here, paid by the first run); later runs reuse it and the"
              " imported framework. Every Volatility run still redoes its automagic (layer stacking, ISF lookup and"
              " load), which dominates a warm run." % warm.get("interpreter_start", 0), ""]
    lines += warm_rows(warm)
    lines += [""]
os.makedirs(os.path.dirname(doc), exist_ok=True)
with open(doc, "w") as f:
    f.write("\n".join(lines))
print(doc)
