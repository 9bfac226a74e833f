#!/usr/bin/env bash
# Issue 4's benchmark: time to build the kernel profile from BTF and kallsyms on a fixture image, and time to load the
# fixture kernel's full ISF, each beside Volatility 3's time for the same step, on the same machine in the same run.
# Writes docs/benchmarks/profile.md (date, machine, figures). Results of the run in bench/target/profile/.
#
#   Sonde, whole command in a fresh JVM (hyperfine):  sonde symbols show IMAGE               (BTF + kallsyms)
#                                                      sonde symbols show --symbols ISF IMAGE (ISF: streaming parse,
#                                                                                              cold binary cache)
#                                                      the same with the binary cache warm
#   Volatility 3 (hyperfine, venv python):             peer_isf.py load ISF        (ISF into a symbol table, validated)
#                                                      peer_isf.py construct IMAGE (automagic: layers, ISF by banner,
#                                                                                   kernel module; fresh cache)
#   In one warm JVM (WarmTimings): profile build, ISF streaming parse, ISF from the binary cache; first and warm runs.
#
# Needs: a built checkout (mvn -DskipTests package), the Volatility venv (scripts/setup-python.sh), hyperfine.
# Environment: SONDE_BENCH_IMAGE (default: the cached tiny ELF capture, else the committed capture decompressed),
#              SONDE_BENCH_RUNS (default 5), SONDE_BENCH_DOC (default docs/benchmarks/profile.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=bench/common.sh
source "$here/common.sh"
doc=${SONDE_BENCH_DOC:-$repo/docs/benchmarks/profile.md}
out="$here/target/profile"
rm -rf "$out" && mkdir -p "$out"
isfcache="$out/sonde-cache"

log "image $image; ISF $isf"
# hyperfine wants --prepare once per command, in order: only the cold-ISF run empties Sonde's cache
hyperfine -N --runs "$runs" --warmup 1 --export-json "$out/hyperfine.json" \
  --prepare "true" --prepare "rm -rf $isfcache" --prepare "true" --prepare "true" --prepare "true" \
  -n "sonde: profile from BTF+kallsyms (fresh JVM)" "$repo/sonde symbols show $image" \
  -n "sonde: full ISF, streaming parse (fresh JVM, cold cache)" \
     "env SONDE_CACHE=$isfcache $repo/sonde symbols show --symbols $isf $image" \
  -n "sonde: full ISF from the binary cache (fresh JVM)" \
     "env SONDE_CACHE=$isfcache $repo/sonde symbols show --symbols $isf $image" \
  -n "volatility: load the full ISF into a symbol table" "$volpy $here/peer_isf.py load $isf" \
  -n "volatility: construct the kernel (automagic, ISF by banner, cold cache)" \
     "$volpy $here/peer_isf.py construct $image $isfdir" >&2 || die "hyperfine failed"
log "inner timings"
"$volpy" "$here/peer_isf.py" load "$isf" >"$out/vol-load.json"
"$volpy" "$here/peer_isf.py" construct "$image" "$isfdir" >"$out/vol-construct.json"
java -cp "$here/target/benchmarks.jar:$here/target/lib/*" dev.sonde.bench.WarmTimings profile "$image" "$isf" "$runs" \
  >"$out/warm.json"
python3 "$here/bench_report.py" profile "$out" "$doc" "$image" "$isf"
log "wrote $doc"
