#!/usr/bin/env bash
# POST /predict benchmark, one run, side by side: Vigil (embedded node) and a
# minimal FastAPI + XGBoost service on the same model, each loaded by wrk with
# keep-alive connections. Prints requests/s and p50/p99/p99.9 per run and the
# medians. Needs: build/vigil, wrk, python3 with fastapi uvicorn xgboost.
# Usage: tests/bench/http_bench.sh [runs=3] [seconds=15] [connections=32]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-3}; secs=${2:-15}; conns=${3:-32}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # bounded: 300 s (first start may train the bootstrap model)
  for _ in $(seq 1 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "server at $1 did not come up" >&2; return 1
}
vport=$(free_port); fport=$(free_port)
"$root/build/vigil" run --http-port "$vport" --rate 100 --registry "$work/registry" >vigil.log 2>&1 &
wait_http "http://127.0.0.1:$vport/ready"
model=$(ls -d "$work"/registry/v*/model.json | head -1)
VIGIL_MODEL="$model" python3 -m uvicorn --app-dir "$root/tests/bench/fastapi_baseline" app:app \
  --port "$fport" --log-level warning >fastapi.log 2>&1 &
wait_http "http://127.0.0.1:$fport/docs"
bench() {  # name port -> appends "rps p50 p99 p999" to $name.runs
  local out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$root/tests/bench/predict.lua" "http://127.0.0.1:$2/predict")
  local rps p50 p99 p999
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  read -r p50 p99 p999 < <(echo "$out" | awk '$1=="PCT" {print $2, $3, $4}')
  echo "$rps $p50 $p99 $p999" >>"$1.runs"
  printf '%-8s run: %10.0f req/s  p50 %8.3f ms  p99 %8.3f ms  p99.9 %8.3f ms\n' "$1" "$rps" "$p50" "$p99" "$p999"
}
for i in $(seq 1 "$runs"); do bench vigil "$vport"; bench fastapi "$fport"; done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for name in vigil fastapi; do
  for col in 1 2 3 4; do awk -v c=$col '{print $c}' "$name.runs" | median >"$name.m$col"; done
  printf '%-8s median of %d: %10.0f req/s  p50 %8.3f ms  p99 %8.3f ms  p99.9 %8.3f ms\n' "$name" "$runs" \
    "$(cat $name.m1)" "$(cat $name.m2)" "$(cat $name.m3)" "$(cat $name.m4)"
done
awk -v a="$(cat vigil.m1)" -v b="$(cat fastapi.m1)" -v c="$(cat vigil.m3)" -v d="$(cat fastapi.m3)" \
  'BEGIN {printf "ratio vigil/fastapi: throughput %.1fx, p99 latency %.1fx lower\n", a/b, d/c}'
