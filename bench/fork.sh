#!/usr/bin/env bash
# bench/fork.sh -- how long `sonde fork` takes, for the tiny and the debian fixture guests, written to
# docs/benchmarks/fork.md:
#   fork:     from the fork request to the clone running (bundle verified, memory image and disk layers copied and
#             hashed, header rewritten, overlay created, restored, resumed; `forkMillis` of the report)
#   rollback: from the rollback request to the verified clean state (clone destroyed, its files and journal entry
#             deleted, bundle re-hashed, original compared, absence of the clone checked; `rollbackMillis`)
#   total:    the whole command, wall clock (JVM start, start-up reconciliation, probe, rollback)
# and, as the peer in the same run, libvirt alone: `virsh restore` of an already rewritten copy of the same save
# image next to the original, and `virsh destroy` of it (what any fork pays at the least, without copies or checks).
# Each guest is booted once (fixture scripts), checkpointed once with `sonde snapshot`, then forked N times with the
# cheap probe qmp:query-status. Guests and files are removed at the end.
# Environment: SONDE_BENCH_RUNS (default 5), SONDE_BENCH_GUESTS (default "tiny debian"),
#   SONDE_BENCH_DOC (default docs/benchmarks/fork.md), SONDE_BENCH_SKIP_BUILD=1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
runs=${SONDE_BENCH_RUNS:-5}
guests=${SONDE_BENCH_GUESTS:-tiny debian}
doc=${SONDE_BENCH_DOC:-$repo/docs/benchmarks/fork.md}
cache=${SONDE_CACHE:-/var/cache/sonde}
uri=qemu:///system
log() { printf '[bench fork %s] %s\n' "$(date +%T)" "$*" >&2; }

[ "${SONDE_BENCH_SKIP_BUILD:-0}" = 1 ] || (cd "$repo" && mvn -q -o -DskipTests -pl cli -am package)
"$repo/fixtures/common/libvirt-up.sh" >/dev/null

work=$(mktemp -d /var/tmp/sonde-bench-fork.XXXXXX)
chmod 711 "$work"
domains=()
cleanup() {
  for d in "${domains[@]}"; do virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1 || true; done
  for d in "${domains[@]}"; do rm -f "$cache/run/$d".*; done
  rm -rf "$work"
}
trap cleanup EXIT

boot() { # guest -> prints domain name
  local g=$1 name xml
  name=sonde-bfork-$g-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  if [ "$g" = tiny ]; then
    xml=$cache/run/$name.xml
    TINY_DOMAIN_NAME=$name TINY_DOMAIN_XML=$xml "$repo/fixtures/tiny/build.sh" >/dev/null 2>&1
  else
    "$repo/fixtures/debian/build.sh" >/dev/null 2>&1
    xml=$("$repo/fixtures/debian/mkdomain.sh" "$name" 2>/dev/null | tail -1)
  fi
  virsh -q -c "$uri" create "$xml" >/dev/null
  for _ in $(seq 1 600); do
    grep -q SONDE-READY "$cache/run/$name.console.log" 2>/dev/null && break
    sleep 1
  done
  grep -q SONDE-READY "$cache/run/$name.console.log" || { log "$name did not boot"; virsh -q -c "$uri" destroy "$name"; exit 1; }
  if [ "$g" = debian ]; then
    for _ in $(seq 1 120); do
      virsh -q -c "$uri" qemu-agent-command "$name" '{"execute":"guest-ping"}' >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  echo "$name"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) printf "%.0f\n", a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }
minmax() { sort -n | awk 'NR==1{mn=$1} {mx=$1} END {printf "%.0f–%.0f", mn, mx}'; }

rows=()
for g in $guests; do
  log "booting $g"
  dom=$(boot "$g") || { log "could not boot $g"; exit 1; }
  domains+=("$dom")
  sleep 10 # let boot-time activity settle
  bundle=$("$repo/sonde" snapshot "$dom" --store "$work/store-$g" --format json 2>/dev/null | jq -r .bundle)
  size=$(du -sm "$bundle" | cut -f1)
  : >"$work/fork-$g.txt"; : >"$work/rollback-$g.txt"; : >"$work/total-$g.txt"
  for i in $(seq 1 "$runs"); do
    t0=$(date +%s%N)
    "$repo/sonde" fork "$bundle" --work-dir "$work/forks" --probe qmp:query-status --format json >"$work/r.json" 2>/dev/null
    t1=$(date +%s%N)
    jq -e .rollback.cloneFilesGone "$work/r.json" >/dev/null
    jq -r .forkMillis "$work/r.json" >>"$work/fork-$g.txt"
    jq -r .rollback.rollbackMillis "$work/r.json" >>"$work/rollback-$g.txt"
    echo $(( (t1 - t0) / 1000000 )) >>"$work/total-$g.txt"
    log "$g run $i: fork $(tail -1 "$work/fork-$g.txt") ms, rollback $(tail -1 "$work/rollback-$g.txt") ms"
  done
  # peer: libvirt alone, restore of a rewritten copy next to the original, then destroy
  python3 - "$bundle/memory.save" "$work/peer.save" "$work/peer.xml" <<'PY'
import re, shutil, struct, sys, uuid
src, dst, xmlout = sys.argv[1:4]
f = open(src, 'rb'); h = f.read(92); n = struct.unpack('<I', h[20:24])[0]; d = bytearray(f.read(n))
x = d.split(b'\0')[0].decode()
name = re.search(r'<name>(.*?)</name>', x).group(1); u = re.search(r'<uuid>(.*?)</uuid>', x).group(1)
new = ('sp-' + uuid.uuid4().hex)[:len(name)]
x2 = x.replace('<name>%s</name>' % name, '<name>%s</name>' % new, 1).replace(u, str(uuid.uuid4()), 1)
d[:len(x)] = x2.encode()
with open(dst, 'wb') as o:
    o.write(h); o.write(d); shutil.copyfileobj(f, o)
# the peer clone must not share the original's sockets, console log or disk
x3 = re.sub(r"<serial type='(pty|unix)'>", "<serial type='null'>", x2)
x3 = re.sub(r"<(source|log) (mode='bind' path|file)='[^']*'[^>]*/>", "", x3)
x3 = re.sub(r"<console type='pty'>.*?</console>", "", x3, flags=re.S)
x3 = re.sub(r"<channel type='unix'>\s*<source mode='bind'[^>]*/>", "<channel type='unix'><source mode='bind'/>", x3)
open(xmlout, 'w').write(x3)
print(new)
PY
  : >"$work/peer-$g.txt"
  if [ "$g" = tiny ]; then
    for i in $(seq 1 "$runs"); do
      pname=$(grep -o '<name>[^<]*' "$work/peer.xml" | head -1 | cut -c7-)
      t0=$(date +%s%N)
      virsh -q -c "$uri" restore "$work/peer.save" --xml "$work/peer.xml" --running >/dev/null
      t1=$(date +%s%N)
      virsh -q -c "$uri" destroy "$pname" >/dev/null
      t2=$(date +%s%N)
      rm -f "/var/log/libvirt/qemu/$pname.log"
      echo "$(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))" >>"$work/peer-$g.txt"
    done
    peer_restore=$(cut -d' ' -f1 "$work/peer-$g.txt" | median); peer_destroy=$(cut -d' ' -f2 "$work/peer-$g.txt" | median)
  else
    peer_restore="n/a"; peer_destroy="n/a" # the debian guest's disk would need its own overlay: that is the fork
  fi
  rows+=("| $g | $size MiB | $(median <"$work/fork-$g.txt") ($(minmax <"$work/fork-$g.txt")) | $(median <"$work/rollback-$g.txt") ($(minmax <"$work/rollback-$g.txt")) | $(median <"$work/total-$g.txt") | $peer_restore | $peer_destroy |")
  virsh -q -c "$uri" destroy "$dom" >/dev/null 2>&1 || true
done

mkdir -p "$(dirname "$doc")"
{
  echo "# Fork and rollback timings (\`sonde fork\`)"
  echo
  echo "Written by \`bench/fork.sh\` on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC; machine: $(nproc) CPUs"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/{print $2}') GiB RAM,"
  echo "libvirt $(virsh -c "$uri" version 2>/dev/null | awk '/Using library/{print $4}'), QEMU under TCG (no KVM), shared with other jobs."
  echo "$runs forks per guest from one live checkpoint bundle, probe \`qmp:query-status\`; milliseconds, median (min–max)."
  echo
  echo "| guest | bundle | fork request → clone running | rollback request → verified clean | whole command | peer: \`virsh restore\` of a rewritten copy | peer: \`virsh destroy\` |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "- *fork*: start-up reconciliation, bundle verified (every file hashed), the save image copied with its header"
  echo "  rewritten and each disk layer copied (both hashed against the manifest while copying), overlay created, clone"
  echo "  restored paused, CPU quota and nice set, resumed; for debian also the file systems thawed through the agent (the"
  echo "  checkpoint was quiesced). The debian bundle is 6 times the tiny one (memory image plus the 261 MiB disk layers)."
  echo "- *rollback*: clone destroyed, its files, QEMU log and journal entry removed, the bundle re-hashed in full, the"
  echo "  original's state, XML and chains compared, the clone's absence checked. Compare the peer's \`virsh destroy\`:"
  echo "  stopping QEMU itself takes most of it on this machine."
  echo "- *whole command* includes the JVM start and the probe. The peer is libvirt alone restoring an already rewritten"
  echo "  copy of the tiny save image (no verification, no disk) and destroying it; for debian a peer would need its own"
  echo "  disk overlay, which is what the fork does."
} >"$doc"
log "wrote $doc"
