#!/usr/bin/env bash
# Fetch the Kafka broker's jars from Maven Central into deploy/kafka/libs (idempotent).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stamp="$here/libs/.pom.sha256"
want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
command -v mvn >/dev/null || { echo "fetch.sh: Maven (mvn) is required to fetch Kafka's jars" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch.sh: Java 17+ is required to run Kafka" >&2; exit 1; }
rm -rf "$here/libs"
echo "fetching Apache Kafka jars from Maven Central ..." >&2
mvn -B -q -f "$here/pom.xml" \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$here/libs"
echo "$want" > "$stamp"
