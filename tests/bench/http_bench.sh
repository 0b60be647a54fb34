#!/usr/bin/env bash
# HTTP benchmark, one run of each measurement per round, rounds alternating:
#   health     GET /health (the server's own ceiling, no actors touched)
#   predict    POST /predict, one transaction
#   array100   POST /predict, arrays of 100 transactions
#   fastapi    the FastAPI + XGBoost baseline, the same single-transaction load
# then /health alone and /health while four clients post 1,000-item
# ?explain=true arrays. Prints every run, the medians, and the ratios
# /predict to /health and Vigil to FastAPI from the same run. Each run also
# gives the server's CPU time per transaction (user + system time of its
# process over the run, from /proc): unlike req/s, it hardly moves when
# something else on this shared machine takes the cores.
#
# Traffic is realistic: the node first replays 1,000,000 simulated
# transactions of 100,000 users at 10,000 merchants (so users have their
# history), then serves while the requests carry 100,000 later transactions
# of the same simulated world (read-only: state stays as the stream left it). The share of flagged decisions, which get exact TreeSHAP
# reasons, is printed.
# Needs build/vigil and wrk; the baseline's Python packages are installed
# into a cached virtualenv on first use.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}; secs=${2:-10}; conns=${3:-32}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
venv="${VIGIL_CACHE_DIR:-$HOME/.cache/vigil}/bench-venv"
if ! "$venv/bin/python" -c 'import fastapi, uvicorn, xgboost' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q fastapi uvicorn xgboost numpy >&2
fi
mul() { awk -v a="$1" -v b="$2" 'BEGIN {print a * b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # bounded: 300 s (first start may train the bootstrap model)
  for _ in $(seq 1 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "server at $1 did not come up" >&2; return 1
}
# A node reads back its newest 100,000 decisions after it is ready (about
# 1.7 s of CPU on a background thread); measuring during that measured it.
wait_read_back() {  # LOG; bounded: 120 s
  for _ in $(seq 1 240); do grep -q "read back" "$1" && return 0; sleep 0.5; done
  echo "the node in $1 did not finish reading back its decisions" >&2; return 1
}
vport=$(free_port); fport=$(free_port)
users=100000; history=1000000; requests=100000
echo "warming state: $history simulated transactions of $users users..." >&2
"$root/build/vigil" run --http-port 0 --rate 0 --count "$history" --registry "$work/registry" \
  --set simulator_users=$users >warmup.log 2>&1
# The requests start 50,000 transactions after the warm-up's end: the node's
# own stream (100/s) continues from there and must not reach them, or they
# would repeat what its state already holds and look like fraud.
ahead=50000
"$root/build/vigil" simulate --seed 1 --users "$users" --count $((history + ahead + requests)) 2>/dev/null |
  tail -n "$requests" | python3 -c '
import json, sys
for line in sys.stdin:
    t = json.loads(line); t.pop("label", None); print(json.dumps(t, separators=(",", ":")))' >bodies.jsonl
export VIGIL_BODIES="$work/bodies.jsonl"
# No checkpoint during the runs: the embedded file store rewrites its whole
# file (here ~430 MB) on every checkpoint, which is not what is measured.
# Every load generator connects from one address, as a proxy would: the
# per-client connection limit is raised to the server's.
"$root/build/vigil" run --http-port "$vport" --rate 100 --count $((history * 2)) --registry "$work/registry" \
  --set simulator_users=$users,snapshot_interval_ms=3600000,max_connections_per_client=256 >vigil.log 2>&1 &
vpid=$!
wait_http "http://127.0.0.1:$vport/ready"
wait_read_back vigil.log
model=$(ls -d "$work"/registry/v*/model.json | head -1)
VIGIL_MODEL="$model" "$venv/bin/python" -m uvicorn --app-dir "$root/tests/bench/fastapi_baseline" app:app \
  --port "$fport" --log-level warning >fastapi.log 2>&1 &
fpid=$!
wait_http "http://127.0.0.1:$fport/docs"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
hz=$(getconf CLK_TCK)
# run NAME ITEMS PID URL SCRIPT [wrk options] -> appends "rps p50 p99 p999
# cpu_us" to NAME.runs; cpu_us is PID's CPU time per transaction.
run() {
  local name=$1 items=$2 pid=$3 url=$4 script=$5; shift 5
  local out rps p50 p99 p999 before after requests cpu
  before=$(cpu_ticks "$pid")
  out=$(VIGIL_ITEMS=$items wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$root/tests/bench/$script" "$@" "$url")
  after=$(cpu_ticks "$pid")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" -v i="$items" 'BEGIN {print t * 1e6 / hz / (n * i)}')
  read -r p50 p99 p999 < <(echo "$out" | awk '$1=="PCT" {print $2, $3, $4}')
  echo "$rps $p50 $p99 $p999 $cpu" >>"$name.runs"
  printf '%-16s run: %9.0f req/s %11.0f tx/s  p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  CPU %6.1f us/tx\n' \
    "$name" "$rps" "$(mul "$rps" "$items")" "$p50" "$p99" "$p999" "$cpu"
}
v="http://127.0.0.1:$vport"
for _ in $(seq 1 "$rounds"); do
  run health 1 "$vpid" "$v/health" percentiles.lua
  run predict 1 "$vpid" "$v/predict" predict_bodies.lua
  run array100 100 "$vpid" "$v/predict" predict_bodies.lua
  run fastapi 1 "$fpid" "http://127.0.0.1:$fport/predict" predict_bodies.lua
done
# Isolation: /health with the same wrk settings, alone and while four
# clients post 1,000-item explained arrays as fast as they are answered.
for _ in $(seq 1 "$rounds"); do
  run health_alone 1 "$vpid" "$v/health" percentiles.lua
  VIGIL_ITEMS=1000 wrk -t1 -c4 -d"$((secs + 4))s" --timeout 60s -s "$root/tests/bench/predict_bodies.lua" \
    "$v/predict?explain=true" >explain.out 2>&1 &
  explain=$!
  sleep 2
  run health_explain 1 "$vpid" "$v/health" percentiles.lua  # CPU includes the explain load
  wait "$explain" || true
  echo "  explain load: $(awk '/Requests\/sec/ {print $2}' explain.out) req/s of 1,000 items" \
       "($(awk '/Non-2xx/ {print $4}' explain.out) non-2xx)"
done

flagged=$(head -n 2000 bodies.jsonl | python3 -c '
import json, sys, urllib.request
n = f = 0
for line in sys.stdin:
    r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], line.encode(), {"Content-Type": "application/json"}))
    n += 1; f += json.load(r)["decision"] != "approve"
print(f"{f / n:.3f}")' "$v/predict")
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A items=([health]=1 [predict]=1 [array100]=100 [fastapi]=1 [health_alone]=1 [health_explain]=1)
echo
for name in health predict array100 fastapi health_alone health_explain; do
  for col in 1 2 3 4 5; do awk -v c=$col '{print $c}' "$name.runs" | median >"$name.m$col"; done
  printf '%-16s median of %d: %9.0f req/s %11.0f tx/s  p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  CPU %6.1f us/tx\n' \
    "$name" "$rounds" "$(cat $name.m1)" "$(mul "$(cat $name.m1)" "${items[$name]}")" \
    "$(cat $name.m2)" "$(cat $name.m3)" "$(cat $name.m4)" "$(cat $name.m5)"
done
printf 'ratio /predict to /health (req/s, same run): %.2f; server CPU per request /health to /predict: %.2f\n' \
  "$(ratio "$(cat predict.m1)" "$(cat health.m1)")" "$(ratio "$(cat health.m5)" "$(cat predict.m5)")"
printf 'ratio vigil /predict to fastapi (req/s): %.1fx; p99 %.1fx lower\n' \
  "$(ratio "$(cat predict.m1)" "$(cat fastapi.m1)")" "$(ratio "$(cat fastapi.m3)" "$(cat predict.m3)")"
echo "flagged share of the /predict traffic (review or decline, with TreeSHAP reasons): $flagged"
printf '/health p99 alone %.3f ms, under four 1,000-item explain clients %.3f ms\n' \
  "$(cat health_alone.m3)" "$(cat health_explain.m3)"
