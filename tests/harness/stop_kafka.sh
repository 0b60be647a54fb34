#!/usr/bin/env bash
# Stop a broker started by start_kafka.sh: SIGTERM, then SIGKILL after 10 s.
# Usage: stop_kafka.sh <workdir>      (no-op if nothing is running)
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 <workdir>" >&2; exit 2; }
exec "$(dirname "$0")/stop_service.sh" kafka "$1/kafka.pid" 'kafka\.Kafka' "$1/kafka.bootstrap"
