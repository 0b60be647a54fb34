# Sourced by the cluster benches: a scratch folder ($work, the current
# directory from here on), a Kafka broker ($kafka) and a Redis ($redis)
# from tests/harness, and a cleanup on exit that kills every pid the bench
# appends to $pids, stops both services and removes the folder. Needs $root.
work=$(mktemp -d)
H="$root/tests/harness"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$H/stop_kafka.sh" "$work/kafka" >/dev/null 2>&1 || true
  "$H/stop_redis.sh" "$work/redis" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
kafka=$("$H/start_kafka.sh" "$work/kafka" | tail -1)
redis=$("$H/start_redis.sh" "$work/redis" | tail -1)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
