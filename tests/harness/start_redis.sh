#!/usr/bin/env bash
# Start a throwaway redis-server on 127.0.0.1 for integration tests.
#
# Usage:  start_redis.sh <workdir>
#   - no persistence (--save '' --appendonly no), files under <workdir>;
#     VIGIL_REDIS_AOF=1: an append-only file fsynced on every write instead
#     (a restart on the same <workdir> loads it)
#   - on a free port, or on $VIGIL_REDIS_PORT (chaos tests restart a killed
#     server where its clients expect it)
#   - waits (bounded, $VIGIL_REDIS_START_TIMEOUT s, default 10) for PING
#   - writes <workdir>/redis.pid and <workdir>/redis.addr
#   - prints "127.0.0.1:<port>" as the last line on stdout
# Stop with: stop_redis.sh <workdir>
# Env: REDIS_SERVER / REDIS_CLI override the binaries (default: from PATH).
set -euo pipefail

log() { echo "[start_redis] $*" >&2; }
[[ $# -eq 1 ]] || { echo "usage: $0 <workdir>" >&2; exit 2; }
mkdir -p "$1"
WORKDIR="$(cd "$1" && pwd)"
REDIS_SERVER="${REDIS_SERVER:-redis-server}"
REDIS_CLI="${REDIS_CLI:-redis-cli}"
START_TIMEOUT="${VIGIL_REDIS_START_TIMEOUT:-10}"
for b in "$REDIS_SERVER" "$REDIS_CLI" python3; do
  command -v "$b" >/dev/null 2>&1 || { log "$b not found (apt-get install redis-server)"; exit 1; }
done

PIDFILE="$WORKDIR/redis.pid"
# A live process from a previous start still owns this workdir?
source "$(dirname "$0")/process_lib.sh"
if owns_pidfile "$PIDFILE" 'redis'; then
  log "redis already running for $WORKDIR (pid $(cat "$PIDFILE")); stop it first"
  exit 1
fi

PORT="${VIGIL_REDIS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
PERSISTENCE=(--appendonly no)
[[ "${VIGIL_REDIS_AOF:-0}" == 1 ]] && PERSISTENCE=(--appendonly yes --appendfsync always)

# Fully redirected stdio so $(start_redis.sh) does not hang on the pipe.
nohup "$REDIS_SERVER" --bind 127.0.0.1 --port "$PORT" --protected-mode yes \
  --save '' "${PERSISTENCE[@]}" --dir "$WORKDIR" --daemonize no \
  --logfile "$WORKDIR/redis.log" </dev/null >"$WORKDIR/redis.out" 2>&1 &
PID=$!
echo "$PID" > "$PIDFILE"
stop_with_owner "$PID"

fail() {
  log "$1"; tail -n 30 "$WORKDIR/redis.log" "$WORKDIR/redis.out" >&2 2>/dev/null || true
  kill -KILL "$PID" 2>/dev/null || true
  rm -f "$PIDFILE"; exit 1
}

deadline=$((SECONDS + START_TIMEOUT))
# A port chosen free can be taken before redis-server binds it: a fresh
# start on a new port, up to three times (not when the port was given).
retry_if_port_taken() {
  [[ -z "${VIGIL_REDIS_PORT:-}" && "${VIGIL_REDIS_PORT_RETRIES:-0}" -lt 3 ]] || return 0
  grep -qs "Address already in use" "$WORKDIR/redis.log" "$WORKDIR/redis.out" || return 0
  log "port $PORT was taken before redis-server bound it: starting again on a new port"
  rm -f "$PIDFILE" "$WORKDIR/redis.log"
  VIGIL_REDIS_PORT_RETRIES=$((${VIGIL_REDIS_PORT_RETRIES:-0} + 1)) exec "$0" "$@"
}
until [[ "$(timeout 2 "$REDIS_CLI" -h 127.0.0.1 -p "$PORT" ping 2>/dev/null || true)" == "PONG" ]]; do
  kill -0 "$PID" 2>/dev/null || { retry_if_port_taken "$@"; fail "redis-server exited during startup"; }
  (( SECONDS < deadline )) || fail "redis not ready after ${START_TIMEOUT}s"
  sleep 0.1
done

echo "127.0.0.1:$PORT" > "$WORKDIR/redis.addr"
log "redis ready (pid $PID)"
echo "127.0.0.1:$PORT"
