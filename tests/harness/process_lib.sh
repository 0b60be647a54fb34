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
