#!/usr/bin/env bash
# A/B of two vigil builds on the HTTP bench's traffic:
#   tests/bench/http_ab.sh BINARY_A BINARY_B [ROUNDS] [SECONDS]
# Both servers start from copies of one warmed state (1,000,000 simulated
# transactions of 100,000 users, as tests/bench/http_bench.sh) and run side
# by side; during each measurement the other server is stopped (SIGSTOP),
# so it takes no CPU. Rounds alternate A and B: /health, arrays of 100,
# single /predict, each with wrk -t2 -c32. Prints every run and the medians.
#
# Each server's own stream (100 transactions/s) reaches the requests' event
# times after about 8 minutes; from then on the requests repeat history,
# look like fraud and get TreeSHAP reasons, and the figures mean nothing.
# Keep ROUNDS x SECONDS x 6 well under that (the default: 3 x 8 s).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
a=$(realpath "$1"); b=$(realpath "$2"); rounds=${3:-3}; secs=${4:-8}
work=$(mktemp -d)
trap 'kill -CONT $(jobs -p) 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }
users=100000; history=1000000; requests=100000; ahead=50000
echo "warming state: $history simulated transactions of $users users..." >&2
mkdir warm && (cd warm && "$a" run --http-port 0 --rate 0 --count "$history" --registry "$work/warm/registry" \
  --set simulator_users=$users >../warmup.log 2>&1)
"$a" simulate --seed 1 --users "$users" --count $((history + ahead + requests)) 2>/dev/null |
  tail -n "$requests" | python3 -c '
import json, sys
for line in sys.stdin:
    t = json.loads(line); t.pop("label", None); print(json.dumps(t, separators=(",", ":")))' >bodies.jsonl
export VIGIL_BODIES="$work/bodies.jsonl"
serve() {  # NAME BINARY PORT: a server on its own copy of the warmed state
  cp -r warm "$1"
  (cd "$1" && exec "$2" run --http-port "$3" --rate 100 --count $((history * 2)) --registry "$work/$1/registry" \
    --set simulator_users=$users,snapshot_interval_ms=3600000,max_connections_per_client=256 >../"$1".log 2>&1) &
}
pa=$(free_port); pb=$(free_port)
serve A "$a" "$pa"; serve B "$b" "$pb"
wait_http "http://127.0.0.1:$pa/ready"; wait_http "http://127.0.0.1:$pb/ready"
# Each node reads back its newest decisions after it is ready (about 1.7 s
# of CPU on a background thread): wait for both before measuring.
for log in A.log B.log; do
  for _ in $(seq 1 240); do grep -q "read back" "$log" && break; sleep 0.5; done
done
pid_of() { ss -ltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
pid_a=$(pid_of "$pa"); pid_b=$(pid_of "$pb")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run() {  # NAME PORT PID ITEMS PATH -> a line, and "tx/s cpu" appended to NAME.runs
  local before after out rps n
  before=$(cpu_ticks "$3")
  out=$(VIGIL_ITEMS=$4 wrk -t2 -c32 -d"${secs}s" --latency -s "$root/tests/bench/predict_bodies.lua" \
    "http://127.0.0.1:$2$5")
  after=$(cpu_ticks "$3")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$out" | awk -v name="$1" -v rps="$rps" -v it="$4" -v t=$((after - before)) -v n="$n" -v hz="$hz" '
    $1 == "PCT" {cpu = t * 1e6 / hz / (n * it)
      printf "%-12s %9.0f tx/s  p50 %7.3f ms  p99 %7.3f ms  CPU %6.1f us/tx\n", name, rps * it, $2, $3, cpu
      print rps * it, cpu >> (name ".runs")}'
}
for _ in $(seq 1 "$rounds"); do
  for side in A B; do
    if [ $side = A ]; then port=$pa; pid=$pid_a; other=$pid_b; else port=$pb; pid=$pid_b; other=$pid_a; fi
    kill -STOP "$other"; kill -CONT "$pid"; sleep 1
    run "$side-health" "$port" "$pid" 1 /health
    run "$side-array100" "$port" "$pid" 100 /predict
    run "$side-predict" "$port" "$pid" 1 /predict
  done
done
kill -CONT "$pid_a" "$pid_b"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
for m in health array100 predict; do
  for side in A B; do
    printf '%-12s median of %d: %9.0f tx/s  CPU %6.1f us/tx\n' "$side-$m" "$rounds" \
      "$(cut -d' ' -f1 "$side-$m.runs" | median)" "$(cut -d' ' -f2 "$side-$m.runs" | median)"
  done
done
