#!/usr/bin/env bash
# Fetch Apache Kafka (broker + admin tools + all runtime deps) from Maven
# Central as plain jars, so integration tests can run a real KRaft broker
# without downloading the release tarball.  Idempotent: once the stamp file
# matches the generated pom, later runs do nothing (no mvn, no network).
#
# Usage: fetch_kafka.sh          -> prints the libs directory on stdout
# Env:   VIGIL_CACHE_DIR         cache root (default: $HOME/.cache/vigil)
#        VIGIL_KAFKA_VERSION     Kafka version (default: 4.1.1; 4.x needs Java 17+)
#        VIGIL_M2_REPO           Maven local repo (default: $HOME/.m2/repository)
#        VIGIL_MVN_TIMEOUT       seconds allowed for the mvn resolve (default: 1200)
set -euo pipefail

KAFKA_VERSION="${VIGIL_KAFKA_VERSION:-4.1.1}"
SCALA_VERSION="2.13"
LOG4J_VERSION="2.24.3"   # what Kafka 4.1 ships with
CACHE_DIR="${VIGIL_CACHE_DIR:-$HOME/.cache/vigil}"
BASE="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$BASE/libs"
STAMP="$BASE/.fetched"

log() { echo "[fetch_kafka] $*" >&2; }

# kafka_2.13 alone pulls most of the broker, but list the KRaft modules
# explicitly, add kafka-tools (TopicCommand, console producer/consumer) and a
# log4j2 backend: Kafka 4.x compiles against slf4j-api 1.7.x, so the binding
# must be log4j-slf4j-impl (slf4j 1.x), NOT log4j-slf4j2-impl.
POM="$(cat <<POMEOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>vigil.harness</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${SCALA_VERSION}</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-metadata</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-raft</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <!-- kafka-tools drags in Connect's REST stack (jetty, jersey) which only
         Connect-related tools use; leave it out. -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${KAFKA_VERSION}</version>
      <exclusions>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
        <exclusion><groupId>com.fasterxml.jackson.jakarta.rs</groupId><artifactId>jackson-jakarta-rs-json-provider</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>${LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>${LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
POMEOF
)"
POM_SUM="$(printf '%s' "$POM" | sha256sum | cut -d' ' -f1)"

is_fetched() {
  [[ -f "$STAMP" && "$(head -n 1 "$STAMP")" == "$POM_SUM" \
     && -f "$LIBS/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" ]]
}

if is_fetched; then echo "$LIBS"; exit 0; fi

command -v mvn >/dev/null 2>&1 || { log "mvn not found (apt-get install maven)"; exit 1; }

mkdir -p "$BASE"
# Serialize concurrent fetches (e.g. parallel test jobs); bounded wait.
exec 9>"$BASE/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 900 9 || { log "timed out waiting for fetch lock $BASE/.lock"; exit 1; }
  if is_fetched; then echo "$LIBS"; exit 0; fi
fi

printf '%s\n' "$POM" > "$BASE/pom.xml"
TMP_LIBS="$BASE/libs.tmp.$$"
rm -rf "$TMP_LIBS"
trap 'rm -rf "$TMP_LIBS"' EXIT
MVN_TIMEOUT="${VIGIL_MVN_TIMEOUT:-1200}"
log "resolving Kafka $KAFKA_VERSION + runtime deps with Maven (log: $BASE/mvn.log)..."
if ! timeout "$MVN_TIMEOUT" mvn -q -B -Dstyle.color=never -f "$BASE/pom.xml" \
      -Dmaven.repo.local="${VIGIL_M2_REPO:-$HOME/.m2/repository}" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$TMP_LIBS" >"$BASE/mvn.log" 2>&1; then
  log "mvn failed (or timed out after ${MVN_TIMEOUT}s); tail of $BASE/mvn.log:"
  tail -n 40 "$BASE/mvn.log" >&2 || true
  exit 1
fi
[[ -f "$TMP_LIBS/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" ]] \
  || { log "kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar missing after resolve"; exit 1; }

rm -rf "$LIBS"
mv "$TMP_LIBS" "$LIBS"
trap - EXIT
{ echo "$POM_SUM"; date -u +%FT%TZ; } > "$STAMP"
log "$(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS"
echo "$LIBS"
