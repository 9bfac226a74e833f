# The sonde command with its runtime: a JRE, the libvirt client library, and Python with jep and volatility3 for the
# Volatility bridge (made by the same scripts/setup-python.sh as on a host).
#
# No registry is reachable where Sonde is developed, so the base image is a build argument: any Debian 12
# (bookworm) root filesystem imported with `docker import`. scripts/docker-base-image.sh makes one (debootstrap
# --variant=minbase, cached under /var/cache/sonde/docker) and tags it sonde-base:bookworm.
#
# Two ways to build, both from the repository root:
#   docker build --build-arg BASE_IMAGE=sonde-base:bookworm -t sonde .
#       from source: Maven builds the jar inside the build (needs Maven Central; a few minutes)
#   mvn -DskipTests package && docker build --build-arg BASE_IMAGE=sonde-base:bookworm --target prebuilt -t sonde .
#       the jar built outside (cli/target/sonde.jar + cli/target/lib) copied in: what the tests build
# Both need the Debian and PyPI mirrors during the build (apt-get, pip). Stages are ordered so that the legacy
# builder, which builds every stage up to the target, never runs Maven for --target prebuilt.
#
#   docker run --rm -v "$PWD/fixtures/images:/images:ro" sonde analyze /images/tiny-6.1.0-57-amd64/memory.elf.xz
ARG BASE_IMAGE=sonde-base:bookworm

# ---- runtime: everything but the jar ---------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
COPY scripts/setup-python.sh /tmp/setup-python.sh
# Jep compiles against the JDK's headers and links libpython at pip-install time; the compilers, headers and the JDK
# are removed afterwards (the JRE and libpython3.11 stay, installed explicitly).
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      openjdk-17-jre-headless libvirt0 python3 python3-venv libpython3.11 ca-certificates \
      openjdk-17-jdk-headless python3-dev gcc libc6-dev \
 && SONDE_HOME=/opt/sonde bash /tmp/setup-python.sh >/dev/null \
 && apt-get purge -y -q openjdk-17-jdk-headless python3-dev libpython3.11-dev gcc libc6-dev \
 && apt-get autoremove -y -q --purge \
 && rm -rf /var/lib/apt/lists/* /tmp/setup-python.sh /root/.cache \
 && . /opt/sonde/python.env && "$SONDE_PYTHON" -c 'import volatility3.framework' \
 && ! ldd "$SONDE_JEP_LIBRARY" | grep -v libjvm | grep 'not found' \
 && printf '%s\n' '#!/bin/sh' \
      '# The environment of the Volatility bridge (written by scripts/setup-python.sh), exported for the JVM.' \
      'set -a; . /opt/sonde/python.env; set +a' \
      'exec java ${SONDE_JAVA_OPTS:-} -jar /opt/sonde/sonde.jar "$@"' > /usr/local/bin/sonde \
 && chmod 755 /usr/local/bin/sonde
ENV SONDE_HOME=/opt/sonde SONDE_CACHE=/var/cache/sonde
ENTRYPOINT ["sonde"]
CMD ["--help"]

# ---- prebuilt: the jar built outside ---------------------------------------------------------------------------
FROM runtime AS prebuilt
COPY cli/target/lib /opt/sonde/lib
COPY cli/target/sonde.jar /opt/sonde/sonde.jar

# ---- build: the jar from source --------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless maven \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Each module's pom.xml and src/ (.dockerignore lets nothing else in); bench is only needed as a pom.
COPY pom.xml ./
COPY bench/pom.xml bench/
COPY analyzer/ analyzer/
COPY snapshotter/ snapshotter/
COPY rollback-controller/ rollback-controller/
# Not cli/ whole: .dockerignore lets the prebuilt jar in, for the prebuilt target.
COPY cli/pom.xml cli/
COPY cli/src cli/src
RUN mvn -B -q -pl cli -am -DskipTests package

# ---- default: from source --------------------------------------------------------------------------------------
FROM runtime
COPY --from=build /src/cli/target/lib /opt/sonde/lib
COPY --from=build /src/cli/target/sonde.jar /opt/sonde/sonde.jar
