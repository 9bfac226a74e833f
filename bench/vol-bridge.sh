#!/usr/bin/env bash
# Issue 9's benchmark: a Volatility plugin (linux.pslist.PsList) through Sonde's embedded bridge vs the `vol` command
# line on the same image, and the native analyzer vs both, in the same run. Writes docs/benchmarks/vol-bridge.md.
#
#   whole commands, fresh process each (hyperfine): sonde vol linux.pslist.PsList IMAGE --symbols DIR
#                                                   vol -f IMAGE -s DIR linux.pslist.PsList
#                                                   sonde analyze --view processes IMAGE (native, BTF + kallsyms)
#   in one JVM (WarmTimings): the bridge's first run (interpreter start-up paid once) and warm runs, then the native
#   analyzer's first and warm runs.
#
# Needs and environment: as bench/profile.sh (SONDE_BENCH_IMAGE, SONDE_BENCH_RUNS, SONDE_BENCH_DOC).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=bench/common.sh
source "$here/common.sh"
doc=${SONDE_BENCH_DOC:-$repo/docs/benchmarks/vol-bridge.md}
out="$here/target/vol-bridge"
rm -rf "$out" && mkdir -p "$out/volcache"

log "image $image"
hyperfine -N --runs "$runs" --warmup 1 --export-json "$out/hyperfine.json" \
  -n "sonde vol linux.pslist.PsList (bridge, fresh JVM)" \
     "$repo/sonde vol linux.pslist.PsList $image --symbols $isfdir --format json --cache $out/volcache" \
  -n "vol linux.pslist.PsList (command line)" \
     "$vol --offline -q -r json --cache-path $out/volcache -s $isfdir -f $image linux.pslist.PsList" \
  -n "sonde analyze --view processes (native)" \
     "$repo/sonde analyze --view processes --format json $image" >&2 || die "hyperfine failed"
java -cp "$here/target/benchmarks.jar:$here/target/lib/*" dev.sonde.bench.WarmTimings bridge "$image" "$isfdir" "$runs" \
  >"$out/warm.json"
python3 "$here/bench_report.py" vol-bridge "$out" "$doc" "$image" "$isf"
log "wrote $doc"
