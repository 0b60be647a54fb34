#!/usr/bin/env bash
# Memory under a sustained stream of unique ids sent with
# /predict?update=true, the attack of issue 9: every request creates 1,000
# users and 1,000 merchants never seen before. Runs the embedded node twice
# in the same run, with the default bound on keys HTTP creates
# (max_http_keys 20,000) and with it effectively off (10,000,000), and
# prints after each round of 10,000 new ids: resident memory, the
# checkpoint file's size and the users held.
# Usage: tests/bench/state_memory.sh [rounds=10]. Needs build/vigil and curl.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-10}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
token=bench-token-123
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
python3 - "$rounds" <<'PY'
import json, sys, time
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
for r in range(int(sys.argv[1]) * 10):
    body = [{"transaction_id": f"t{r}-{i}", "user_id": f"attacker-user-{r}-{i}", "amount": 12.5, "currency": "EUR",
             "merchant": {"id": f"attacker-merchant-{r}-{i}", "category": "grocery"}, "timestamp": now,
             "location": {"country": "DE"}} for i in range(1000)]
    open(f"body-{r}.json", "w").write(json.dumps(body))
PY
measure() {  # $1 = max_http_keys
  local port pid dir=$work/node-$1
  mkdir -p "$dir"; port=$(free_port)
  (cd "$dir" && exec "$root/build/vigil" run --http-port "$port" --rate 100 --registry "$work/registry" \
    --set max_http_keys=$1,auth_token=$token,snapshot_interval_ms=500 >vigil.log 2>&1) &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  sleep 2
  report() {
    local rss keys
    rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")  # the subshell exec'ed vigil
    keys=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^vigil_state_keys\{stage="user"/ {s += $2} END {print s + 0}')
    printf '%-10s %-8s %8s MB %8s MB %10s\n' "$1" "$2" "$rss" \
      "$(( $(stat -c %s "$dir/vigil-state.snapshot" 2>/dev/null || echo 0) / 1048576 ))" "$keys"
  }
  report "$1" baseline
  for r in $(seq 0 $((rounds - 1))); do
    for i in $(seq 0 9); do
      curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data-binary "@body-$((r * 10 + i)).json" "http://127.0.0.1:$port/predict?update=true"
    done
    sleep 1.5  # a checkpoint
    report "$1" "$(( (r + 1) * 10000 ))"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
printf '%-10s %-8s %11s %11s %10s\n' max_keys new_ids rss snapshot users_held
measure 20000
measure 10000000
