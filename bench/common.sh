# Shared set-up of bench/profile.sh and bench/vol-bridge.sh (sourced).
KVER=6.1.0-57-amd64
runs=${SONDE_BENCH_RUNS:-5}
home=${SONDE_HOME:-/opt/sonde}
vol="$home/venv/bin/vol"
volpy="$home/venv/bin/python"
isf="$repo/fixtures/isf/linux-image-$KVER.json.xz"
isfdir=$(dirname "$isf")
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
command -v hyperfine >/dev/null || die "hyperfine is not installed (apt-get install hyperfine)"
[[ -x $vol && -x $volpy ]] || die "Volatility 3 is not installed in $home/venv: run scripts/setup-python.sh"
[[ -f $repo/cli/target/sonde.jar && -f $repo/bench/target/benchmarks.jar ]] \
  || die "build first: (cd $repo && mvn -q -DskipTests package)"
image=${SONDE_BENCH_IMAGE:-${SONDE_CACHE:-/var/cache/sonde}/captures/tiny-$KVER/memory.elf}
if [[ ! -f $image ]]; then
  # the committed capture, decompressed once (Volatility reads no xz)
  image="$repo/bench/target/tiny-$KVER.elf"
  [[ -f $image ]] || xz -dc "$repo/fixtures/images/tiny-$KVER/memory.elf.xz" >"$image"
fi
