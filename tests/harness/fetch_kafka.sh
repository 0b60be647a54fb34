#!/usr/bin/env bash
# Fetch Apache Kafka (broker + tools + all runtime deps) from Maven Central as
# plain jars, so integration tests can run a real KRaft broker without a
# tarball download.  Idempotent: a stamp file short-circuits later runs.
#
# Usage: fetch_kafka.sh            -> prints the libs directory on stdout
# Env:   VIGIL_CACHE_DIR           cache root (default: $HOME/.cache/vigil)
#        VIGIL_KAFKA_VERSION       Kafka version (default: 4.1.1)
set -euo pipefail

KAFKA_VERSION="${VIGIL_KAFKA_VERSION:-4.1.1}"
SCALA_VERSION="2.13"
LOG4J_VERSION="2.24.3"
CACHE_DIR="${VIGIL_CACHE_DIR:-$HOME/.cache/vigil}"
BASE="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$BASE/libs"
STAMP="$BASE/.fetched"

log() { echo "[fetch_kafka] $*" >&2; }

if [[ -f "$STAMP" && -d "$LIBS" ]] && compgen -G "$LIBS/kafka_${SCALA_VERSION}-*.jar" >/dev/null; then
  echo "$LIBS"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || { log "mvn not found (apt-get install maven)"; exit 1; }
command -v java >/dev/null 2>&1 || { log "java not found (need JDK/JRE 17+)"; exit 1; }

mkdir -p "$BASE"
# Serialize concurrent fetches (e.g. parallel ctest jobs).
exec 9>"$BASE/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 900 9 || { log "timed out waiting for fetch lock"; exit 1; }
  if [[ -f "$STAMP" && -d "$LIBS" ]]; then echo "$LIBS"; exit 0; fi
fi

# kafka_2.13 alone does not pull everything a KRaft broker + StorageTool needs
# (no logging backend, and kafka-tools is needed for admin CLIs), so list the
# extra runtime artifacts explicitly.
cat > "$BASE/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>vigil.harness</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <properties>
    <kafka.version>${KAFKA_VERSION}</kafka.version>
    <log4j.version>${LOG4J_VERSION}</log4j.version>
  </properties>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${SCALA_VERSION}</artifactId><version>\${kafka.version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>\${kafka.version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-metadata</artifactId><version>\${kafka.version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-raft</artifactId><version>\${kafka.version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>\${kafka.version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>\${kafka.version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>\${kafka.version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>\${log4j.version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>\${log4j.version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>\${log4j.version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId><version>\${log4j.version}</version></dependency>
  </dependencies>
</project>
POM

TMP_LIBS="$BASE/libs.tmp.$$"
rm -rf "$TMP_LIBS"
trap 'rm -rf "$TMP_LIBS"' EXIT
log "resolving Kafka $KAFKA_VERSION and runtime deps with Maven (first run downloads; may take minutes)..."
MVN_TIMEOUT="${VIGIL_MVN_TIMEOUT:-1200}"
if ! timeout "$MVN_TIMEOUT" mvn -q -B -f "$BASE/pom.xml" \
      -Dmaven.repo.local="${VIGIL_M2_REPO:-$HOME/.m2/repository}" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$TMP_LIBS" >&2; then
  log "mvn failed (or timed out after ${MVN_TIMEOUT}s)"
  exit 1
fi
compgen -G "$TMP_LIBS/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" >/dev/null \
  || { log "kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar missing after resolve"; exit 1; }

rm -rf "$LIBS"
mv "$TMP_LIBS" "$LIBS"
trap - EXIT
date -u +%FT%TZ > "$STAMP"
log "$(ls "$LIBS" | wc -l) jars in $LIBS"
echo "$LIBS"
