#!/usr/bin/env bash
# Stop a redis-server started by start_redis.sh: SIGTERM, SIGKILL after 10 s.
# Usage: stop_redis.sh <workdir>      (no-op if nothing is running)
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 <workdir>" >&2; exit 2; }
exec "$(dirname "$0")/stop_service.sh" redis "$1/redis.pid" 'redis-server' "$1/redis.addr"
