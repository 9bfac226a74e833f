#!/usr/bin/env bash
# Makes (idempotently) the base image of the Dockerfile without any registry: `debootstrap --variant=minbase` of
# Debian 12 (bookworm) into a cached tarball, then `docker import` as sonde-base:bookworm.
#
#   $SONDE_CACHE/docker/base-bookworm-minbase.tar   the debootstrap result (cache; the slow part, ~2 min)
#   $SONDE_CACHE/docker/base.stamp                  its inputs (suite, variant, mirrors, local CA certificates)
#
# A second run with the same inputs only checks that the image exists (and re-imports the tarball if the daemon
# lost it). Prints the image name on stdout. Environment: SONDE_CACHE (default /var/cache/sonde),
# DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR (default: this machine's apt sources), SONDE_BASE_IMAGE
# (default sonde-base:bookworm). Run as root.
set -euo pipefail
SONDE_CACHE=${SONDE_CACHE:-/var/cache/sonde}
OUT=$SONDE_CACHE/docker
IMAGE=${SONDE_BASE_IMAGE:-sonde-base:bookworm}
SUITE=bookworm
log() { printf '[docker-base] %s\n' "$*" >&2; }
die() { printf '[docker-base] ERROR: %s\n' "$*" >&2; exit 1; }

. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/fixtures/common/apt-mirror.sh"

command -v docker >/dev/null || die "missing tool: docker"
docker info >/dev/null 2>&1 || die "the Docker daemon does not answer (start dockerd)"

# The host's local CA certificates (Debian's /usr/local/share/ca-certificates: e.g. the CA of a TLS-inspecting
# proxy) are trusted in the image too, so that pip and Maven reach their registries from inside a build here.
LOCAL_CAS=/usr/local/share/ca-certificates
local_cas() { find "$LOCAL_CAS" -maxdepth 1 -type f -name '*.crt' 2>/dev/null | sort; }
key=$(printf 'suite=%s\nvariant=minbase\nmirror=%s\nsecurity=%s\n' "$SUITE" "$MIRROR" "$SECURITY_MIRROR"
      local_cas | xargs -r sha256sum)
mkdir -p "$OUT"
exec 9>>"$OUT/.lock"
flock 9

if ! [ -f "$OUT/base-bookworm-minbase.tar" ] || [ "$key" != "$(cat "$OUT/base.stamp" 2>/dev/null)" ]; then
  [ "$(id -u)" = 0 ] || die "must run as root (debootstrap)"
  command -v debootstrap >/dev/null || die "missing tool: debootstrap"
  work=$(mktemp -d "$OUT/.rootfs.XXXXXX")
  trap 'rm -rf --one-file-system "$work"' EXIT
  log "debootstrap --variant=minbase $SUITE from $MIRROR"
  start=$SECONDS
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$work/root" "$MIRROR" >&2
  cat >"$work/root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  if [ -n "$(local_cas)" ]; then
    log "trusting the host's local CA certificates: $(local_cas | xargs -r -n1 basename | tr '\n' ' ')"
    local_cas | xargs -r cp -t "$work/root/usr/local/share/ca-certificates/"
    chroot "$work/root" update-ca-certificates >&2
  fi
  # Like Debian's own container images: no recommends, no caches in the layers.
  printf 'APT::Install-Recommends "false";\n' >"$work/root/etc/apt/apt.conf.d/90sonde-no-recommends"
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/root" -cf "$work/base.tar" .
  mv "$work/base.tar" "$OUT/base-bookworm-minbase.tar"
  printf '%s\n' "$key" >"$OUT/base.stamp"
  log "debootstrap took $((SECONDS - start)) s"
  docker image rm -f "$IMAGE" >/dev/null 2>&1 || true
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "docker import $OUT/base-bookworm-minbase.tar as $IMAGE"
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' "$OUT/base-bookworm-minbase.tar" "$IMAGE" >&2
fi
echo "$IMAGE"
