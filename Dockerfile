# The sonde command with its runtime: a JRE, the libvirt client library, and Python with jep and volatility3
# for the Volatility bridge. No registry is reachable where Sonde is developed, so the base image is a build
# argument: any Debian 12 (bookworm) root filesystem imported with `docker import` works, e.g.
#   debootstrap bookworm /tmp/rootfs && tar -C /tmp/rootfs -c . | docker import - sonde-base:bookworm
#   docker build --build-arg BASE_IMAGE=sonde-base:bookworm -t sonde .
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless maven \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pom.xml ./
COPY analyzer/pom.xml analyzer/
COPY snapshotter/pom.xml snapshotter/
COPY rollback-controller/pom.xml rollback-controller/
COPY cli/pom.xml cli/
COPY analyzer/src analyzer/src
COPY snapshotter/src snapshotter/src
COPY rollback-controller/src rollback-controller/src
COPY cli/src cli/src
RUN mvn -B -q -DskipTests package

FROM ${BASE_IMAGE}
# Jep compiles against the JDK's headers and libpython at pip-install time; the compiler is removed afterwards.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      openjdk-17-jdk-headless libvirt0 python3 python3-venv python3-dev gcc libc6-dev ca-certificates \
 && JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 python3 -m venv /opt/sonde/venv \
 && JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 /opt/sonde/venv/bin/pip install --no-cache-dir jep==4.3.1 volatility3==2.28.2 \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/cli/target/sonde.jar /opt/sonde/sonde.jar
COPY --from=build /src/cli/target/lib /opt/sonde/lib
RUN printf '#!/bin/sh\nexec java ${SONDE_JAVA_OPTS:-} -jar /opt/sonde/sonde.jar "$@"\n' > /usr/local/bin/sonde \
 && chmod +x /usr/local/bin/sonde
ENV SONDE_HOME=/opt/sonde SONDE_CACHE=/var/cache/sonde
ENTRYPOINT ["sonde"]
CMD ["--help"]
