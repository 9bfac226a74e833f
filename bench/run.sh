#!/usr/bin/env bash
# Runs Sonde's benchmarks and regenerates docs/benchmarks.md from the results of this run:
#   1. builds the repository (mvn -DskipTests package: the sonde launcher and bench/target/benchmarks.jar);
#   2. the JMH suite (bench/src/main/java/dev/sonde/bench) on the fixture captures, results in JSON;
#   3. the same workloads done with Volatility 3's own layers (bench/peer_vol.py, in the Volatility venv);
#   4. a whole-command comparison with hyperfine: `./sonde info IMAGE` against
#      `vol --offline -q --cache-path DIR -f IMAGE banners.Banners` on the ELF, kdump and save captures;
#   5. bench/report.py writes docs/benchmarks.md (figures, machine, date, capture used).
# Results of the run are kept in bench/target/results/ (replaced on every run). About 10-15 minutes.
#
# Needs: the captures of the guest (fixtures/GUEST/capture.sh; absent ones are skipped and reported), the Volatility
# venv (scripts/setup-python.sh), hyperfine (installed with apt-get when missing and running as root).
# Environment:
#   SONDE_CACHE            where the captures are (default /var/cache/sonde)
#   SONDE_BENCH_GUEST      capture to use: debian (default; 256 MiB Debian 12 server) or tiny (128 MiB busybox)
#   SONDE_BENCH_RUNS       hyperfine runs per command (default 5, plus 1 warm-up)
#   SONDE_BENCH_QUICK=1    one short JMH iteration each and 2 hyperfine runs: a smoke test of this script, not figures
#   SONDE_BENCH_DOC        where to write the report (default docs/benchmarks.md of this checkout)
#   SONDE_BENCH_SKIP_BUILD=1  use the jars already built
#   SONDE_HOME             where the Volatility venv is (default /opt/sonde)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
KVER=6.1.0-57-amd64
guest=${SONDE_BENCH_GUEST:-debian}
cache=${SONDE_CACHE:-/var/cache/sonde}
capdir="$cache/captures/$guest-$KVER"
runs=${SONDE_BENCH_RUNS:-5}
quick=${SONDE_BENCH_QUICK:-0}
doc=${SONDE_BENCH_DOC:-$repo/docs/benchmarks.md}
vol="${SONDE_HOME:-/opt/sonde}/venv/bin/vol"
volpy="${SONDE_HOME:-/opt/sonde}/venv/bin/python"
isf="$repo/fixtures/isf/linux-image-$KVER.json.xz"
out="$here/target/results"
volcache="$here/target/vol-cache"

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites -------------------------------------------------------------------------------------------
for tool in java mvn python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if ! command -v hyperfine >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing hyperfine (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine >&2 || die "apt-get install hyperfine failed"
  else
    die "hyperfine is not installed (apt-get install hyperfine)"
  fi
fi
[[ -x $vol && -x $volpy ]] || die "Volatility 3 is not installed in ${SONDE_HOME:-/opt/sonde}/venv: run scripts/setup-python.sh"
[[ -f $isf ]] || die "the fixture ISF $isf is missing"
[[ $guest =~ ^[a-z0-9-]+$ ]] || die "SONDE_BENCH_GUEST must be a fixture guest name (debian, tiny)"

formats=()
for f in elf kdump save; do
  if [[ -f $capdir/memory.$f ]]; then
    formats+=("$f")
  else
    log "SKIPPED: $capdir/memory.$f is absent (make it with fixtures/$guest/capture.sh); its benchmarks are skipped"
  fi
done
((${#formats[@]} > 0)) || die "no capture of the $guest guest in $capdir: run fixtures/$guest/capture.sh" \
  "(or choose another one with SONDE_BENCH_GUEST=tiny)"

rm -rf "$out"
mkdir -p "$out" "$volcache" "$(dirname "$doc")"

# ---- build -----------------------------------------------------------------------------------------------------
if [[ $quick == 1 ]]; then
  runs=2
fi
if [[ ${SONDE_BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building (mvn -q -B -DskipTests package)"
  (cd "$repo" && mvn -q -B -DskipTests package) >&2 || die "the build failed"
fi
[[ -f $here/target/benchmarks.jar ]] || die "$here/target/benchmarks.jar is missing (build with mvn -DskipTests package)"
[[ -f $repo/cli/target/sonde.jar ]] || die "$repo/cli/target/sonde.jar is missing (build with mvn -DskipTests package)"

# ---- machine -----------------------------------------------------------------------------------------------------
log "recording the machine"
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel=$(uname -sr)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "java=$(java -version 2>&1 | head -2 | tail -1)"
  echo "hyperfine=$(hyperfine --version)"
  echo "volatility=$("$volpy" -c 'from volatility3.framework import constants; print(constants.PACKAGE_VERSION)' 2>/dev/null || echo unknown)"
  echo "python=$("$volpy" --version 2>&1)"
  echo "revision=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo 'not a git checkout')"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "busy_start=$(ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 >= 20 {printf "%s%s %s%%", sep, $2, $1; sep=", "}')"
  echo "guest=$guest"
  echo "capture_dir=$capdir"
  echo "quick=$quick"
  echo "runs=$runs"
} >"$out/machine.env"

# ---- JMH -------------------------------------------------------------------------------------------------------
jmh_opts=(-p "guest=$guest" -rf json -rff "$out/jmh.json")
if [[ $quick == 1 ]]; then
  jmh_opts+=(-wi 1 -i 1 -w 1s -r 1s)
fi
log "JMH suite on $capdir (log: $out/jmh.log)"
# Benchmarks whose capture is absent fail their setup with "SKIPPED: ..."; JMH reports them and goes on.
(cd "$repo" && SONDE_CACHE="$cache" java -jar "$here/target/benchmarks.jar" "${jmh_opts[@]}") 2>&1 | tee "$out/jmh.log" >&2 \
  || log "JMH exited with an error (see $out/jmh.log)"
[[ -s $out/jmh.json ]] || die "JMH wrote no results ($out/jmh.log)"

# ---- single checked runs (outputs for the report; the peer needs VMCOREINFO) ---------------------------------------
for f in "${formats[@]}"; do
  img="$capdir/memory.$f"
  rc=0
  (cd "$repo" && ./sonde info "$img") >"$out/sonde-info.$f.txt" 2>&1 || rc=$?
  echo "$rc" >"$out/sonde-info.$f.rc"
  rc=0
  "$vol" --offline -q --cache-path "$volcache" -f "$img" banners.Banners >"$out/vol-banners.$f.txt" 2>&1 || rc=$?
  echo "$rc" >"$out/vol-banners.$f.rc"
done
if [[ -f $capdir/memory.elf ]]; then
  (cd "$repo" && ./sonde info --format json "$capdir/memory.elf") >"$out/sonde-info.elf.json" \
    || die "sonde info --format json $capdir/memory.elf failed"
fi

# ---- Volatility 3 doing the JMH workloads --------------------------------------------------------------------------
if [[ -f $capdir/memory.elf ]]; then
  log "Volatility 3 peer workloads (log: $out/peer.log)"
  peer_reps=3
  [[ $quick == 1 ]] && peer_reps=1
  "$volpy" "$here/peer_vol.py" --capture-dir "$capdir" --isf "$isf" --info "$out/sonde-info.elf.json" \
    --out "$out/peer.json" --reps "$peer_reps" 2> >(tee "$out/peer.log" >&2) \
    || log "the Volatility peer script failed (see $out/peer.log)"
fi

# ---- whole command: sonde info vs vol banners.Banners ---------------------------------------------------------------
for f in "${formats[@]}"; do
  img="$capdir/memory.$f"
  log "hyperfine on memory.$f ($runs runs + 1 warm-up each)"
  hyperfine --style basic --warmup 1 --runs "$runs" --ignore-failure \
    --export-json "$out/hyperfine.$f.json" \
    -n "sonde info" "cd $(printf '%q' "$repo") && ./sonde info $(printf '%q' "$img")" \
    -n "vol banners.Banners" \
    "$(printf '%q' "$vol") --offline -q --cache-path $(printf '%q' "$volcache") -f $(printf '%q' "$img") banners.Banners" \
    >&2 || log "hyperfine failed on memory.$f"
done
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.env"

# ---- report --------------------------------------------------------------------------------------------------------
python3 "$here/report.py" --results "$out" --capture-dir "$capdir" --out "$doc"
log "wrote $doc"
