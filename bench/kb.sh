#!/usr/bin/env bash
# Known-binary knowledge base benchmark: writes docs/benchmarks/kb.md.
#   1. import rate of the debian fixture guest's disk (qcow2 + ext4 read in Java, every ELF file hashed, dpkg read):
#      `sonde kb import DISK` (files/s and MB/s as the command reports them, wall time measured here);
#   2. import of the .deb files of the packages the guest's processes map (fixtures/debian/fetch-debs.sh);
#   3. matching time per image: `sonde analyze --kb KB IMAGE` on the debian and tiny captures, the time of the
#      matching step as the command reports it (the memory analysis itself is measured in docs/benchmarks.md);
#   4. peer, same machine, same run: e2fsprogs + coreutils doing the read-everything part of (1) natively:
#      qemu-img convert to raw, debugfs rdump of the whole tree, sha256sum of every file.
# Needs the debian fixture disk (fixtures/debian/build.sh), the captures (fixtures/GUEST/capture.sh) and a built
# checkout (mvn -q -DskipTests package). Environment: SONDE_CACHE (default /var/cache/sonde), SONDE_BENCH_RUNS
# (default 3), SONDE_BENCH_DOC (default docs/benchmarks/kb.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cache=${SONDE_CACHE:-/var/cache/sonde}
runs=${SONDE_BENCH_RUNS:-3}
doc=${SONDE_BENCH_DOC:-$repo/docs/benchmarks/kb.md}
disk=$cache/debian/disk.qcow2
debs=$cache/debs/bookworm
KVER=6.1.0-57-amd64
log() { printf '[bench kb %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[bench kb] ERROR: %s\n' "$*" >&2; exit 1; }
[ -f "$disk" ] || die "missing $disk (fixtures/debian/build.sh)"
[ -d "$debs" ] || die "missing $debs (fixtures/debian/fetch-debs.sh)"
[ -f "$repo/cli/target/sonde.jar" ] || die "build first: mvn -q -DskipTests package"
work=$(mktemp -d /tmp/sonde-bench-kb.XXXXXX)
trap 'rm -rf "$work"' EXIT
sonde() { "$repo/sonde" "$@"; }
now() { date +%s.%N; }

rows_import=""
for i in $(seq 1 "$runs"); do
  rm -f "$work/disk.kb"*
  t0=$(now)
  line=$(sonde kb import --kb "$work/disk.kb" "$disk" 2>/dev/null)
  t1=$(now)
  log "disk import run $i: $line"
  rows_import+="| disk $i | $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") | ${line#*: } |"$'\n'
done
for i in $(seq 1 "$runs"); do
  rm -f "$work/debs.kb"*
  t0=$(now)
  line=$(sonde kb import --kb "$work/debs.kb" "$debs" 2>/dev/null)
  t1=$(now)
  log "deb import run $i: $line"
  rows_import+="| .deb files $i | $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") | ${line#*: } |"$'\n'
done
kbsize=$(du -k "$work/disk.kb" | cut -f1)

rows_match=""
for guest in debian tiny; do
  img=$cache/captures/$guest-$KVER/memory.elf
  [ -f "$img" ] || { log "no $img: skipped"; rows_match+="| $guest | (no capture: skipped) | | |"$'\n'; continue; }
  for kb in disk debs; do
    for i in $(seq 1 "$runs"); do
      t0=$(now)
      msg=$(sonde analyze --kb "$work/$kb.kb" --view binaries --format csv "$img" 2>&1 >/dev/null | grep 'sonde: kb:' || true)
      t1=$(now)
      log "$guest/$kb run $i: $msg"
      ms=$(sed -n 's/.* matched in \([0-9]*\) ms.*/\1/p' <<<"$msg")
      n=$(sed -n 's/sonde: kb: \([0-9]*\) binaries.*/\1/p' <<<"$msg")
      verdicts=$(sed -n 's/.*: \({.*}\)$/\1/p' <<<"$msg")
      rows_match+="| $guest | $kb | $i | $n | $ms | $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") | $verdicts |"$'\n'
    done
  done
done

rows_peer=""
if command -v debugfs >/dev/null; then
  for i in $(seq 1 "$runs"); do
    rm -rf "$work/raw.img" "$work/tree"; mkdir "$work/tree"
    t0=$(now)
    qemu-img convert -f qcow2 -O raw "$disk" "$work/raw.img"
    debugfs -R "rdump / $work/tree" "$work/raw.img" >/dev/null 2>&1
    nfiles=$(find "$work/tree" -type f | wc -l)
    mb=$(du -sm "$work/tree" | cut -f1)
    find "$work/tree" -type f -print0 | xargs -0 sha256sum >/dev/null 2>&1 || true
    t1=$(now)
    dt=$(echo "$t1 - $t0" | bc)
    rows_peer+="| qemu-img convert + debugfs rdump + sha256sum (every file, not only ELF) $i | $(printf '%.2f' "$dt") | $nfiles files, ~$mb MB, $(printf '%.0f' "$(echo "$nfiles / $dt" | bc -l)") files/s |"$'\n'
    log "peer run $i: $dt s"
  done
  rm -rf "$work/raw.img" "$work/tree"
fi

mkdir -p "$(dirname "$doc")"
{
  echo "# Known-binary knowledge base: import and matching"
  echo
  echo "Written by \`bench/kb.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo),"
  echo "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(java -version 2>&1 | head -1). The machine is shared with other jobs: figures are indicative."
  echo
  echo "## Import (sonde kb import)"
  echo
  echo "Disk: \`$disk\` (the debian fixture guest's ext4 root in qcow2, $(du -h "$disk" | cut -f1) allocated). Files and MB are"
  echo "every regular file listed and every byte read (the first bytes of each file, all of each ELF file). KB size after"
  echo "the disk import: ${kbsize} KiB."
  echo
  echo "| source, run | wall s | what the command reports |"
  echo "| --- | ---: | --- |"
  printf '%s' "$rows_import"
  echo
  if [ -n "$rows_peer" ]; then
    echo "Peer (native tools, reading and hashing every file of the same disk, including non-ELF files, without dpkg):"
    echo
    echo "| peer, run | wall s | |"
    echo "| --- | ---: | --- |"
    printf '%s' "$rows_peer"
    echo
  fi
  echo "## Matching (sonde analyze --kb)"
  echo
  echo "Time of the matching step alone (knowledge-base lookups of every executable mapping's build-id and resident"
  echo "page hashes) as the command reports it, and the whole command's wall time (memory analysis included)."
  echo
  echo "| image | KB | run | binaries | matching ms | whole command s | verdicts |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
  printf '%s' "$rows_match"
} >"$doc"
log "wrote $doc"
