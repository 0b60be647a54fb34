# Sourced by the harness scripts: is a recorded pid still our live server?
# alive PID: exists and is not a zombie (an exited child reparented to a slow
# reaper still answers kill -0).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$st" != "Z" && "$st" != "X" ]]
}
# owns_pidfile PIDFILE REGEX: the pid in PIDFILE is alive and its command line
# matches REGEX (guards against a reused pid).
owns_pidfile() {
  local p; p="$(cat "$1" 2>/dev/null || true)"
  [[ "$p" =~ ^[0-9]+$ ]] && alive "$p" || return 1
  tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "$2"
}
# stop_with_owner SERVER_PID: when VIGIL_HARNESS_OWNER names the test process
# that started the server, a background watcher stops the server (SIGTERM,
# then SIGKILL after 10 s) once that process is gone, so a test binary that
# crashes or is killed leaves no broker or redis-server running.
stop_with_owner() {
  local owner="${VIGIL_HARNESS_OWNER:-}"
  [[ "$owner" =~ ^[0-9]+$ ]] || return 0
  nohup bash -c "$(declare -f alive)"'
    while alive "$1" && alive "$2"; do sleep 1; done
    alive "$2" || exit 0
    kill -TERM "$2" 2>/dev/null
    for _ in $(seq 1 50); do alive "$2" || exit 0; sleep 0.2; done
    kill -KILL "$2" 2>/dev/null' _ "$owner" "$1" </dev/null >/dev/null 2>&1 &
}
