#!/usr/bin/env bash
# Whole-command benchmark of `sonde analyze` against its peer, Volatility 3, and Sonde's peak memory on a large image;
# writes docs/benchmarks/analyze.md from the results of this run:
#   1. hyperfine, same run, same machine, both from a cold start (a fresh JVM; fresh vol processes with their cache
#      directory emptied before every run): `sonde analyze IMAGE --format json` (processes with the cross-view check,
#      maps, open files and whatever else analyze does in this checkout) against `vol` running linux.pslist,
#      linux.proc.Maps, linux.lsof and linux.elfs back to back (-r json, the fixture ISF through a symbols directory);
#   2. bench/compare_analyze.py: the process (pid), map (pid, start, end) and fd (pid, fd) sets of both outputs;
#   3. the task_struct scan modes on the large image (--no-scan, the default slab scan, --full-scan);
#   4. peak memory of `sonde analyze` on the large image (maximum RSS from /usr/bin/time -v, and the peak of the
#      anonymous part, sampled from /proc/PID/status every 50 ms: RSS also counts the image's page-cache pages the
#      memory-mapped reader touched, which are shared and reclaimable);
#   5. bench/analyze_report.py writes the table with date and machine.
# Results of the run are kept in bench/target/analyze/ (replaced on every run).
#
# Environment:
#   SONDE_CACHE                 where the captures are (default /var/cache/sonde)
#   SONDE_BENCH_IMAGE           image for the comparison (default the debian capture's memory.elf)
#   SONDE_BENCH_BIG_IMAGE       image for the memory figure (default the 2 GiB tiny capture, made with
#                               TINY_MEMORY_MIB=2048 SONDE_FORMATS=elf fixtures/tiny/capture.sh $SONDE_CACHE/captures/tiny-2g-6.1.0-57-amd64)
#   SONDE_BENCH_RUNS            hyperfine runs per command (default 3, plus 1 warm-up that fills the page cache for both)
#   SONDE_BENCH_WARMUP          warm-up runs per command (default 1)
#   SONDE_BENCH_DOC             where to write the report (default docs/benchmarks/analyze.md)
#   SONDE_BENCH_SKIP_BUILD=1    use the jar already built
#   SONDE_HOME                  where the Volatility venv is (default /opt/sonde)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
KVER=6.1.0-57-amd64
cache=${SONDE_CACHE:-/var/cache/sonde}
image=${SONDE_BENCH_IMAGE:-$cache/captures/debian-$KVER/memory.elf}
big=${SONDE_BENCH_BIG_IMAGE:-$cache/captures/tiny-2g-$KVER/memory.elf}
runs=${SONDE_BENCH_RUNS:-3}
warmup=${SONDE_BENCH_WARMUP:-1}
doc=${SONDE_BENCH_DOC:-$repo/docs/benchmarks/analyze.md}
vol="${SONDE_HOME:-/opt/sonde}/venv/bin/vol"
volpy="${SONDE_HOME:-/opt/sonde}/venv/bin/python"
isf="$repo/fixtures/isf/linux-image-$KVER.json.xz"
out="$here/target/analyze"
volcache="$out/vol-cache"
symbols="$out/symbols"
plugins=(linux.pslist linux.proc.Maps linux.lsof linux.elfs)

log() { printf '[bench-analyze %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[bench-analyze] ERROR: %s\n' "$*" >&2; exit 1; }

for tool in java mvn python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is not installed (apt-get install time)"
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
[[ -f $image ]] || die "no image $image (make it with fixtures/debian/capture.sh, or set SONDE_BENCH_IMAGE)"
if [[ ! -f $big ]]; then
  log "SKIPPED: the memory figure: no $big (make it with TINY_MEMORY_MIB=2048 SONDE_FORMATS=elf fixtures/tiny/capture.sh $(dirname "$big"))"
fi

rm -rf "$out"
mkdir -p "$out" "$volcache" "$symbols/linux" "$(dirname "$doc")"
cp "$isf" "$symbols/linux/"

if [[ ${SONDE_BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building (mvn -q -B -DskipTests package)"
  (cd "$repo" && mvn -q -B -DskipTests package) >&2 || die "the build failed"
fi
[[ -f $repo/cli/target/sonde.jar ]] || die "$repo/cli/target/sonde.jar is missing (build with mvn -DskipTests package)"

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
  echo "revision=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo 'not a git checkout')"
  echo "image=$image ($(du -m "$image" | cut -f1) MiB)"
  echo "big_image=$big"
  echo "runs=$runs"
  echo "warmup=$warmup"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.env"

# The launcher's class-data-sharing archive is made by the first run after a build (see ./sonde): make it now, so every
# timed run is the same fresh JVM a user gets from the second run on.
"$repo/sonde" info "$image" >/dev/null 2>&1 || die "sonde info $image failed"

# ---- 1. sonde analyze vs the four Volatility plugins -----------------------------------------------------------
q() { printf '%q' "$1"; }
{
  echo "set -e"
  for p in "${plugins[@]}"; do
    echo "$(q "$vol") --offline -q --cache-path $(q "$volcache") -s $(q "$symbols") -r json -f $(q "$image") $p >$(q "$out/vol-$p.json") 2>$(q "$out/vol-$p.err")"
  done
} >"$out/vol-plugins.sh"
sonde_cmd="$(q "$repo/sonde") analyze $(q "$image") --format json >$(q "$out/sonde.json") 2>$(q "$out/sonde.err")"
log "hyperfine: sonde analyze vs vol ${plugins[*]} ($runs runs + $warmup warm-up each)"
hyperfine --style basic --warmup "$warmup" --runs "$runs" \
  --prepare "rm -rf $(q "$volcache") && mkdir -p $(q "$volcache")" \
  --export-json "$out/hyperfine-peer.json" \
  -n "sonde analyze" "$sonde_cmd" \
  -n "vol pslist+proc.Maps+lsof+elfs" "bash $(q "$out/vol-plugins.sh")" >&2

# ---- 2. the sets -----------------------------------------------------------------------------------------------
log "comparing the process, map and fd sets"
python3 "$here/compare_analyze.py" "$out/sonde.json" "$out/vol-linux.pslist.json" "$out/vol-linux.proc.Maps.json" \
  "$out/vol-linux.lsof.json" --json "$out/compare.json" | tee "$out/compare.txt" >&2

# ---- 3 and 4. the large image ------------------------------------------------------------------------------------
if [[ -f $big ]]; then
  log "hyperfine: scan modes on $big"
  hyperfine --style basic --warmup "$warmup" --runs "$runs" --export-json "$out/hyperfine-scan.json" \
    -n "no scan (--no-scan)" "$(q "$repo/sonde") analyze $(q "$big") --format json --no-scan >/dev/null 2>&1" \
    -n "slab scan (default)" "$(q "$repo/sonde") analyze $(q "$big") --format json >/dev/null 2>&1" \
    -n "full scan (--full-scan)" "$(q "$repo/sonde") analyze $(q "$big") --format json --full-scan >/dev/null 2>&1" >&2
  for which in image big; do
    img=$image
    [[ $which == big ]] && img=$big
    log "peak memory of sonde analyze on $img"
    /usr/bin/time -v "$repo/sonde" analyze "$img" --format json >/dev/null 2>"$out/time-$which.txt" &
    timepid=$!
    sleep 0.05
    javapid=$(pgrep -P "$timepid" || true)
    peak_anon=0
    while kill -0 "$timepid" 2>/dev/null; do
      if [[ -n $javapid && -r /proc/$javapid/status ]]; then
        a=$(awk '/^RssAnon:/ {print $2}' "/proc/$javapid/status" 2>/dev/null || echo 0)
        ((${a:-0} > peak_anon)) && peak_anon=$a
      fi
      sleep 0.05
    done
    wait "$timepid" || die "sonde analyze failed on $img (see $out/time-$which.txt)"
    echo "max_rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time-$which.txt")" >"$out/memory-$which.env"
    echo "peak_anon_kb=$peak_anon" >>"$out/memory-$which.env"
    echo "elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time-$which.txt")" >>"$out/memory-$which.env"
    echo "image_mib=$(du -m "$img" | cut -f1)" >>"$out/memory-$which.env"
  done
fi
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.env"

python3 "$here/analyze_report.py" "$out" "$doc"
log "wrote $doc"
