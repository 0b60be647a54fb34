#!/usr/bin/env bash
# Shared by stop_kafka.sh and stop_redis.sh: SIGTERM, then SIGKILL after a
# grace period, to a server started by the matching start script.
# Usage: stop_service.sh <name> <pidfile> <cmdline-regex> [files to remove...]
# No-op if nothing is running. The regex guards against a reused pid.
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 <name> <pidfile> <cmdline-regex> [files...]" >&2; exit 2; }
NAME="$1"; PIDFILE="$2"; MATCH="$3"; shift 3
GRACE="${VIGIL_STOP_GRACE:-10}"
source "$(dirname "$0")/process_lib.sh"

[[ -f "$PIDFILE" ]] || exit 0
PID="$(cat "$PIDFILE")"
[[ "$PID" =~ ^[0-9]+$ ]] || { rm -f "$PIDFILE"; exit 0; }

if owns_pidfile "$PIDFILE" "$MATCH"; then
  kill -TERM "$PID" 2>/dev/null || true
  deadline=$((SECONDS + GRACE))
  while alive "$PID" && (( SECONDS < deadline )); do sleep 0.1; done
  if alive "$PID"; then
    echo "[stop_$NAME] pid $PID still alive after ${GRACE}s, sending SIGKILL" >&2
    kill -KILL "$PID" 2>/dev/null || true
    for _ in $(seq 1 25); do alive "$PID" || break; sleep 0.2; done
  fi
fi
rm -f "$PIDFILE" "$@"
