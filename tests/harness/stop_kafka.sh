#!/usr/bin/env bash
# Stop a broker started by start_kafka.sh: SIGTERM, then SIGKILL after 10 s.
# Usage: stop_kafka.sh <workdir>      (no-op if nothing is running)
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 <workdir>" >&2; exit 2; }
PIDFILE="$1/kafka.pid"
GRACE="${VIGIL_STOP_GRACE:-10}"
# Alive = exists and is not a zombie (an exited child reparented to a slow
# reaper still answers kill -0).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$st" != "Z" && "$st" != "X" ]]
}

[[ -f "$PIDFILE" ]] || exit 0
PID="$(cat "$PIDFILE")"
[[ "$PID" =~ ^[0-9]+$ ]] || { rm -f "$PIDFILE"; exit 0; }

# Only signal the process if it is still our broker (guards against pid reuse).
if alive "$PID" && tr '\0' ' ' < "/proc/$PID/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
  kill -TERM "$PID" 2>/dev/null || true
  deadline=$((SECONDS + GRACE))
  while alive "$PID" && (( SECONDS < deadline )); do sleep 0.2; done
  if alive "$PID"; then
    echo "[stop_kafka] pid $PID still alive after ${GRACE}s, sending SIGKILL" >&2
    kill -KILL "$PID" 2>/dev/null || true
    for _ in $(seq 1 25); do alive "$PID" || break; sleep 0.2; done
  fi
fi
rm -f "$PIDFILE" "$1/kafka.bootstrap"
