#!/usr/bin/env bash
# Creates (idempotently) the Python environment of Sonde's Volatility bridge:
#   ${SONDE_HOME:-/opt/sonde}/venv      venv on Debian's /usr/bin/python3 with
#                                       jep + volatility3 (pinned below)
#   ${SONDE_HOME:-/opt/sonde}/python.env  shell-sourceable variables for Java:
#       SONDE_PYTHON         the venv's python
#       SONDE_PYTHONHOME     the base interpreter's prefix (Debian: /usr); set it as
#                            PYTHONHOME of the JVM only if Python can't find its stdlib
#       SONDE_PYTHONPATH     the venv's site-packages (put on sys.path of the
#                            embedded interpreter: jep's own package lives there)
#       SONDE_JEP_LIBRARY    absolute path of libjep.so
#       SONDE_JEP_LIBRARY_DIR  its directory (-Djava.library.path=...)
#       SONDE_JEP_JAR        jep-X.Y.Z.jar shipped in the wheel
#       SONDE_VOL            the venv's `vol` command
# A second run with the same pins is a fast no-op. FORCE=1 rebuilds the venv.
# Prints the path of libjep.so on stdout.
#
# Loading Jep from Java 17 (tested: SubInterpreter and SharedInterpreter, with
# ctypes/lzma/volatility3 imports; no PYTHONHOME, PYTHONPATH or LD_PRELOAD needed):
#   classpath: $SONDE_JEP_JAR
#   jep.MainInterpreter.setJepLibraryPath(SONDE_JEP_LIBRARY);   // or -Djava.library.path=$SONDE_JEP_LIBRARY_DIR
#   JepConfig cfg = new JepConfig().addIncludePaths(SONDE_PYTHONPATH);
#   SharedInterpreter.setConfig(cfg);   // before the first SharedInterpreter; or new SubInterpreter(cfg)
# The site-packages dir must be on sys.path: jep's own Python package is there.
#
# Why /usr/bin/python3: Jep embeds CPython in the JVM and needs libpython3.X.so;
# Debian's interpreter has it (libpython3.11), while a pyenv `python3` on PATH
# is usually built without --enable-shared.
set -euo pipefail

# Must equal the org.ninia:jep jar version in the root pom.xml (4.3.1 is the newest on Maven Central).
JEP_VERSION=4.3.1
VOLATILITY3_VERSION=2.28.2
# Build tools for jep (built from its sdist); pinned to the versions it was tested with.
PIP_VERSION=26.3
SETUPTOOLS_VERSION=84.2.1
WHEEL_VERSION=0.48.0

SONDE_HOME=${SONDE_HOME:-/opt/sonde}
VENV="$SONDE_HOME/venv"
ENVFILE="$SONDE_HOME/python.env"
BASE_PY=${SONDE_BASE_PYTHON:-/usr/bin/python3}
STAMP="$VENV/.sonde-setup"
WANT_STAMP="jep==$JEP_VERSION volatility3==$VOLATILITY3_VERSION setuptools==$SETUPTOOLS_VERSION base=$BASE_PY"

log() { printf '[setup-python %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[setup-python] ERROR: %s\n' "$*" >&2; exit 1; }

# ---- fast path ------------------------------------------------------------------
if [[ "${FORCE:-0}" != 1 && -f $STAMP && "$(cat "$STAMP")" == "$WANT_STAMP" && -s $ENVFILE ]]; then
    # shellcheck disable=SC1090
    . "$ENVFILE"
    if [[ -f ${SONDE_JEP_LIBRARY:-/nonexistent} && -x ${SONDE_PYTHON:-/nonexistent} ]]; then
        log "already set up: $VENV (jep $JEP_VERSION, volatility3 $VOLATILITY3_VERSION)"
        echo "$SONDE_JEP_LIBRARY"
        exit 0
    fi
fi

# ---- system packages --------------------------------------------------------------
need_pkgs=()
for p in python3-venv python3-dev gcc; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
    log "apt-get install ${need_pkgs[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2; then
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2 \
            || die "apt-get install ${need_pkgs[*]} failed"
    fi
fi

[[ -x $BASE_PY ]] || die "$BASE_PY not found"
case "$(readlink -f "$BASE_PY")" in
    *pyenv*) die "$BASE_PY is a pyenv build; use Debian's /usr/bin/python3" ;;
esac

# Jep needs a JDK (jni.h) at build time.
if [[ -z ${JAVA_HOME:-} || ! -f ${JAVA_HOME:-}/include/jni.h ]]; then
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
[[ -f $JAVA_HOME/include/jni.h ]] || die "no JDK with include/jni.h at $JAVA_HOME (apt-get install openjdk-17-jdk-headless)"
export JAVA_HOME

# ---- venv ---------------------------------------------------------------------
if [[ "${FORCE:-0}" == 1 ]]; then
    log "FORCE=1: removing $VENV"
    rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
    log "creating venv $VENV on $BASE_PY ($("$BASE_PY" --version))"
    mkdir -p "$SONDE_HOME"
    "$BASE_PY" -m venv "$VENV"
fi
PY="$VENV/bin/python"
pipi() { "$PY" -m pip install --no-input --disable-pip-version-check --quiet "$@" >&2; }

log "pip install jep==$JEP_VERSION volatility3==$VOLATILITY3_VERSION (jep compiles: ~1 min)"
# jep's build links against the running interpreter's libpython; build it
# without isolation so it uses the venv's setuptools/wheel (no numpy support needed).
pipi "pip==$PIP_VERSION" "setuptools==$SETUPTOOLS_VERSION" "wheel==$WHEEL_VERSION"
pipi --no-build-isolation "jep==$JEP_VERSION"
pipi "volatility3==$VOLATILITY3_VERSION"

JEP_LIB=$(find "$VENV" -name 'libjep*.so' -print -quit)
[[ -n $JEP_LIB ]] || die "libjep*.so not found under $VENV"
JEP_JAR=$(find "$VENV" -name 'jep-*.jar' -print -quit)
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
BASE_PREFIX=$("$PY" -c 'import sys; print(sys.base_prefix)')
# libjvm.so is resolved by the JVM that loads libjep; anything else must resolve.
if ldd "$JEP_LIB" | grep -v '^\s*libjvm\.so' | grep -q 'not found'; then
    ldd "$JEP_LIB" >&2
    die "$JEP_LIB has unresolved libraries"
fi
"$PY" -c 'import volatility3.framework as f; print("volatility3", f.constants.PACKAGE_VERSION)' >&2 \
    || die "import check failed"

tmp=$(mktemp "$ENVFILE.XXXXXX")
cat >"$tmp" <<EOF
# Written by scripts/setup-python.sh ($WANT_STAMP)
SONDE_PYTHON=$PY
SONDE_PYTHONHOME=$BASE_PREFIX
SONDE_PYTHONPATH=$SITE
SONDE_JEP_LIBRARY=$JEP_LIB
SONDE_JEP_LIBRARY_DIR=$(dirname "$JEP_LIB")
SONDE_JEP_JAR=$JEP_JAR
SONDE_VOL=$VENV/bin/vol
EOF
chmod 644 "$tmp"
mv "$tmp" "$ENVFILE"
echo "$WANT_STAMP" >"$STAMP"
log "libjep: $JEP_LIB"
log "wrote $ENVFILE"
echo "$JEP_LIB"
