#!/usr/bin/env bash
# Demo benchmark: the wall time of README command (a), `./sonde demo`, on this machine, with warm fixture caches and
# from cold, and the time of each of its steps (from its demo.json); after every run, whether a domain of the demo is
# left in libvirt. Writes docs/benchmarks/demo.md with the date, the machine and the load.
#   warm:   the fixture images under $SONDE_CACHE (default /var/cache/sonde) exist; two runs into one output
#           directory (the second run of the acceptance)
#   cold:   SONDE_CACHE points to an empty directory: the fixture scripts build everything (tiny: scenario binaries and
#           initramfs; debian: debootstrap from the network, customisation, disk and initramfs)
#   cold-no-debootstrap (debian): an empty cache seeded with the cached debootstrap tarball only
# Needs ./sonde built (scripts/setup), root, libvirt. About 15 minutes with --cold-debian, 7 without.
# Usage: bench/demo.sh [--cold-debian] [--fresh-clone]
#   --cold-debian  also the fully cold debian run, debootstrap included
#   --fresh-clone  also README command (a) as written, in a fresh `git clone` of this checkout's HEAD:
#                  `scripts/setup && ./sonde demo` (setup timed on its own; packages already installed)
# Environment: SONDE_BENCH_DOC (default docs/benchmarks/demo.md of this checkout)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
doc=${SONDE_BENCH_DOC:-$repo/docs/benchmarks/demo.md}
cold_debian=0
fresh_clone=0
for a in "$@"; do
  case $a in
    --cold-debian) cold_debian=1 ;;
    --fresh-clone) fresh_clone=1 ;;
    *) echo "usage: bench/demo.sh [--cold-debian] [--fresh-clone]" >&2; exit 2 ;;
  esac
done
sonde_cmd="$repo/sonde"
warm_cache=${SONDE_CACHE:-/var/cache/sonde}
log() { printf '[bench-demo %s] %s\n' "$(date +%T)" "$*" >&2; }

work=$(mktemp -d /tmp/sonde-bench-demo.XXXXXX)
chmod 0755 "$work"
# kept when the report cannot be written, so no measurement is lost
trap 'if [ -f "$doc.ok" ]; then rm -rf "$work" "$doc.ok"; else echo "[bench-demo] raw results kept in $work" >&2; fi' EXIT
results="$work/results.tsv"
: >"$results"
# libvirt's own latency: when the QEMU user cannot open /dev/kvm, libvirtd re-probes QEMU on many calls (see
# fixtures/common/libvirt-up.sh), and define/restore take tens of seconds; recorded so slow runs can be told apart
caps_time() { local t0 t1; t0=$(date +%s.%N); virsh -c qemu:///system capabilities >/dev/null 2>&1 || true; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'; }
caps_time >"$work/caps.start"

# run LABEL GUEST OUT [CACHE]: one `./sonde demo`, its wall time, exit code and what it left behind
run() {
  local label=$1 guest=$2 out=$3 cache=${4:-$warm_cache} load0 t0 t1 rc left names
  load0=$(cut -d' ' -f1 /proc/loadavg)
  log "$label: ./sonde demo --guest $guest --out $out (SONDE_CACHE=$cache)"
  t0=$(date +%s.%N)
  rc=0
  SONDE_CACHE=$cache "$sonde_cmd" demo --guest "$guest" --out "$out" >"$work/$label.out" 2>"$work/$label.err" || rc=$?
  t1=$(date +%s.%N)
  left="?"
  names=$(grep -oE 'sonde-demo-[0-9a-f]{8}|clone sf-[0-9a-f]+' "$work/$label.err" | sed 's/^clone //' | sort -u)
  if [ -n "$names" ]; then
    left=$(virsh -c qemu:///system list --all --name | grep -cxF "$names" || true)
  fi
  printf '%s\t%s\t%.1f\t%s\t%s\t%s\t%s\n' "$label" "$guest" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rc" "$load0" \
      "$(cut -d' ' -f1 /proc/loadavg)" "$left" >>"$results"
  [ -f "$out/demo.json" ] && cp "$out/demo.json" "$work/$label.json"
  log "$label: exit $rc, $(tail -1 "$results" | cut -f3) s"
}

run tiny-warm-1 tiny "$work/out-tiny"
run tiny-warm-2 tiny "$work/out-tiny"
run debian-warm-1 debian "$work/out-debian"
run debian-warm-2 debian "$work/out-debian"

mkdir -m 0755 "$work/cache-tiny"
run tiny-cold tiny "$work/out-tiny-cold" "$work/cache-tiny"

mkdir -m 0755 -p "$work/cache-deb/debian"
ln "$warm_cache/debian/base-rootfs.tar" "$work/cache-deb/debian/base-rootfs.tar" 2>/dev/null \
    || cp "$warm_cache/debian/base-rootfs.tar" "$work/cache-deb/debian/base-rootfs.tar"
cp "$warm_cache/debian/base.stamp" "$work/cache-deb/debian/base.stamp"
run debian-cold-no-debootstrap debian "$work/out-deb-cold" "$work/cache-deb"

if [ "$cold_debian" = 1 ]; then
  mkdir -m 0755 "$work/cache-deb-cold"
  run debian-cold debian "$work/out-deb-cold2" "$work/cache-deb-cold"
fi

if [ "$fresh_clone" = 1 ]; then
  log "fresh clone of $repo (HEAD): scripts/setup"
  git clone -q "$repo" "$work/clone"
  load0=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s.%N)
  rc=0
  (cd "$work/clone" && scripts/setup) >"$work/setup.log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  printf '%s\t%s\t%.1f\t%s\t%s\t%s\t%s\n' "fresh-clone-scripts-setup" "-" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
      "$rc" "$load0" "$(cut -d' ' -f1 /proc/loadavg)" "-" >>"$results"
  sonde_cmd="$work/clone/sonde"
  (cd "$work/clone" && run fresh-clone-sonde-demo debian "$work/clone/sonde-demo")
  sonde_cmd="$repo/sonde"
fi

caps_time >"$work/caps.end"
mkdir -p "$(dirname "$doc")"
python3 - "$work" "$doc" <<'PY'
import json, os, subprocess, sys, datetime
work, doc = sys.argv[1], sys.argv[2]
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return "?"
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, "results.tsv")) if l.strip()]
cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
java = sh("java -version 2>&1 | head -1")
libvirt = sh("libvirtd --version | cut -d' ' -f3")
out = []
out.append("# `sonde demo`: wall time of README command (a)\n")
out.append(f"Written by `bench/demo.sh` on {datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%MZ')}, machine: "
           f"{os.cpu_count()} cores ({cpu}), {mem}, {java}; libvirt {libvirt}, "
           f"QEMU TCG (no KVM). The machine is shared with other jobs (load average at the start and end of each run "
           f"below): figures are indicative. Target of issue 10: the whole demo within 5 minutes.\n")
caps = [open(os.path.join(work, f)).read().strip() if os.path.exists(os.path.join(work, f)) else "?" for f in ("caps.start", "caps.end")]
out.append(f"libvirt latency: `virsh capabilities` took {caps[0]} s at the start and {caps[1]} s at the end (well under a "
           "second when libvirt's QEMU capabilities are cached; seconds when libvirtd re-probes QEMU because its QEMU user "
           "cannot open /dev/kvm, which slows every define and restore, hence the boot and fork steps).\n")
out.append("Warm: the fixture images are cached under `/var/cache/sonde`; run 2 goes into the same output directory as "
           "run 1. Cold: `SONDE_CACHE` is an empty directory, so the fixture scripts build everything first; "
           "*cold-no-debootstrap*: an empty cache seeded with the cached debootstrap tarball only. *fresh-clone*: README "
           "command (a) as written in a `git clone` of the checkout: `scripts/setup` (packages already installed: the "
           "Python environment check and the Maven build), then `./sonde demo` (warm fixture caches). `left` counts the "
           "demo's domains (guest and clone) in `virsh list --all` after the run (must be 0).\n")
steps_all = []
for r in rows:
    p = os.path.join(work, r[0] + ".json")
    steps = json.load(open(p)).get("steps", {}) if os.path.exists(p) else {}
    steps_all.append(steps)
names = []
for s in steps_all:
    for k in s:
        if k not in names:
            names.append(k)
short = {n: n.replace("knowledge base from the checkpoint's disk", "knowledge base").replace("analyze the checkpoint", "analyze")
         .replace("fork, probe, roll back", "fork+probes+rollback") for n in names}
hdr = ["run", "guest", "wall s", "exit", "load start/end", "left"] + [short[n] + " s" for n in names]
out.append("| " + " | ".join(hdr) + " |")
out.append("| " + " | ".join(["---", "---"] + ["---:"] * (len(hdr) - 2)) + " |")
for r, s in zip(rows, steps_all):
    label, guest, wall, rc, l0, l1, left = r
    cells = [label, guest, wall, rc, f"{l0} / {l1}", left]
    for n in names:
        v = s.get(n)
        cells.append("-" if v is None else f"{v:.1f}")
    out.append("| " + " | ".join(cells) + " |")
out.append("")
out.append("Step `boot` is the guest's boot to its readiness marker; `guest image` runs the fixture scripts "
           "(with warm caches they only check their input hashes). No peer: no other tool does this pipeline end to "
           "end; the per-step commands have their own benchmarks (snapshot.md, fork.md, kb.md, analyze.md).\n")
open(doc, "w").write("\n".join(out))
open(doc + ".ok", "w").close()
print(doc)
PY
log "wrote $doc"
