#!/usr/bin/env bash
# What sharing merchant state across a cluster costs on the stream. One
# topic of 6 partitions (so three nodes read two each: with 4, one node of
# three reads half the stream and the run measures it alone) on a real
# broker, with Redis (tests/harness), all on
# this machine's two cores. Each round reads the whole topic three times,
# each time in a consumer group of its own (so from offset 0, with fresh
# merchant shards):
#   single   one node outside any cluster (cluster_port=-1): merchants in
#            its own checkpoint, the baseline
#   one      one clustered node: its merchant requests go to its own host,
#            which logs them in Redis
#   three    three clustered nodes: a merchant's part goes to whichever
#            node holds its shard, two thirds of them over the middleman
# A configuration's throughput is the decisions published between 30% and
# 95% of the topic, over the time between (start-up and the group's first
# rebalances are outside that window). Prints every run, the medians, the
# ratios to `single` measured in the same round, CPU per transaction (all
# nodes, user + system from /proc), merchant requests and their bytes per
# transaction by where the holder was, Redis commands per transaction
# (total_commands_processed: the commands a Lua script runs count, and the
# EVAL itself) and the broker's CPU per transaction. Before the rounds, each
# configuration's idle cost: the nodes' and the broker's CPU a second with
# nothing to read.
# Needs build/vigil (or VIGIL_BIN: another build, for A/B runs) and the
# harness's Kafka (fetched by mvn on first use).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
vigil=${VIGIL_BIN:-$root/build/vigil}
rounds=${1:-3}; records=${2:-300000}
export VIGIL_KAFKA_PARTITIONS=6
# shellcheck source=tests/bench/bench_services.sh
source "$root/tests/bench/bench_services.sh"
redis_port=${redis##*:}
topic=bench-stream; token=bench-stream-token
hz=$(getconf CLK_TCK)
wait_http() {  # URL [SECONDS]
  for _ in $(seq 1 $((2 * ${2:-300}))); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "server at $1 did not come up" >&2; return 1
}
redis_calls() { redis-cli -p "$redis_port" info stats | awk -F: '/^total_commands_processed/ {print $2 + 0}'; }

echo "producing $records simulated transactions..." >&2
"$vigil" simulate --seed 7 --users $((records / 20)) --count "$records" --rate 0 --brokers "$kafka" \
  --topic "$topic" >/dev/null 2>&1
# The first start trains the bootstrap model (minutes); it is kept in a
# cache folder for later runs of the bench, and the runs load it.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vigil-bench-registry
if [[ ! -f $cache/index.json ]]; then
  echo "training the bootstrap model once (kept in $cache)..." >&2
  # An embedded run of one record: it trains, scores it, and exits.
  "$vigil" run --registry "$work/registry" --http-port 0 --set "simulator_count=1" >warm.log 2>&1
  mkdir -p "$(dirname "$cache")"; rm -rf "$cache"; cp -r "$work/registry" "$cache"
fi
cp -r "$cache" "$work/registry"

start_nodes() {  # NAME NODES CLUSTER_PORT ROUND TOPIC: sets ports and node_pids, waits for every node's /health
  local name=$1 nodes=$2 cport=$3 round=$4 input=$5 i
  ports=(); node_pids=()
  for i in $(seq 1 "$nodes"); do
    ports+=("$(free_port)")
    VIGIL_AUTH_TOKEN=$token "$vigil" run --brokers "$kafka" --redis "$redis" --registry "$work/registry" \
      --http-port "${ports[-1]}" --set "input_topic=$input,consumer_group=bench-$name-$round,node_name=$name-$round-$i,cluster_port=$cport,readback_decisions=0,labels_path=$work/labels-$name-$i.jsonl,auth_token_path=$work/token-$name-$i" \
      >"$name-$round-$i.log" 2>&1 &
    node_pids+=("$!"); pids+=("$!")
  done
  for p in "${ports[@]}"; do wait_http "http://127.0.0.1:$p/health"; done
}
stop_nodes() {
  local p
  for p in "${node_pids[@]}"; do kill "$p"; done
  for p in "${node_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, clock ticks
cpu() { local s=0 p; for p in "${node_pids[@]}"; do s=$((s + $(ticks_of "$p"))); done; echo "$s"; }
broker_cpu() { ticks_of "$(cat "$work/kafka/kafka.pid")"; }

# What the nodes cost with nothing to read: each process's fixed work (CAF's
# scheduler and clock, consumer and producer threads, the cluster's rounds)
# and the broker's for its consumers' empty fetches, CPU ms per second over
# 5 s after 5 s of rest.
idle() {  # NAME NODES CLUSTER_PORT
  local c0 c1 g0 g1
  start_nodes "$1" "$2" "$3" idle bench-idle
  sleep 5
  c0=$(cpu); g0=$(broker_cpu); sleep 5; c1=$(cpu); g1=$(broker_cpu)
  stop_nodes
  awk -v name="$1" -v c=$((c1 - c0)) -v g=$((g1 - g0)) -v hz="$hz" 'BEGIN {
    printf "%-6s idle: nodes %4.0f ms of CPU a second, broker %4.0f\n", name, c * 1000 / hz / 5, g * 1000 / hz / 5 }'
}

run() {  # NAME NODES CLUSTER_PORT ROUND -> appends "tx/s cpu_us_per_tx self_req peer_req self_bytes peer_bytes redis_calls broker_cpu_us_per_tx" per tx
  local name=$1 nodes=$2 cport=$3 round=$4
  local c0 c1 g0 g1 t30 t95 done_now first=0 r0
  r0=$(redis_calls)
  start_nodes "$name" "$nodes" "$cport" "$round" "$topic"
  # One curl and one awk for all nodes, every 250 ms: the poll runs on the
  # cores it measures, and a process pair per node every 100 ms took ~8 ms
  # of CPU each, 12% of the machine for three nodes against 4% for one.
  # The rate stays exact: it divides the decisions counted at the two polls
  # by the time between them.
  local urls=(); for p in "${ports[@]}"; do urls+=("http://127.0.0.1:$p/metrics"); done
  decided() { curl -sf "${urls[@]}" | awk '$1 ~ /^vigil_decisions_total/ {s += $2} END {printf "%.0f", s}'; }
  counters() { local p; for p in "${ports[@]}"; do curl -sf "http://127.0.0.1:$p/metrics"; done |
    awk '$1 ~ /^vigil_merchant_requests_total\{holder="self"/ {a += $2} $1 ~ /^vigil_merchant_requests_total\{holder="peer"/ {b += $2}
         $1 ~ /^vigil_merchant_request_bytes_total\{holder="self"/ {c += $2} $1 ~ /^vigil_merchant_request_bytes_total\{holder="peer"/ {d += $2}
         END {printf "%.0f %.0f %.0f %.0f\n", a, b, c, d}'; }
  local lo=$((records * 30 / 100)) hi=$((records * 95 / 100)) k0 k1 q0 q1
  for _ in $(seq 1 6000); do
    done_now=$(decided)
    if [[ $first == 0 && $done_now -ge $lo ]]; then
      first=1; t30=$(date +%s.%N); c0=$(cpu); g0=$(broker_cpu); k0=$(counters); q0=$(redis_calls); d30=$done_now
    fi
    if [[ $first == 1 && $done_now -ge $hi ]]; then
      t95=$(date +%s.%N); c1=$(cpu); g1=$(broker_cpu); k1=$(counters); q1=$(redis_calls); d95=$done_now; break
    fi
    sleep 0.25
  done
  [[ -n ${t95:-} ]] || { echo "$name: the stream did not drain" >&2; exit 1; }
  stop_nodes
  read -r a0 b0 e0 f0 <<<"$k0"; read -r a1 b1 e1 f1 <<<"$k1"
  awk -v n=$((d95 - d30)) -v t0="$t30" -v t1="$t95" -v c=$((c1 - c0)) -v g=$((g1 - g0)) -v hz="$hz" -v a=$((a1 - a0)) -v b=$((b1 - b0)) \
      -v e=$((e1 - e0)) -v f=$((f1 - f0)) -v q=$((q1 - q0)) 'BEGIN {
    printf "%.0f %.2f %.4f %.4f %.2f %.2f %.3f %.2f\n", n / (t1 - t0), c * 1e6 / hz / n, a / n, b / n, e / n, f / n, q / n,
      g * 1e6 / hz / n }' \
    >>"$name.runs"
  tail -1 "$name.runs" | awk -v name="$name" '{printf "%-6s run: %7.0f tx/s  CPU %6.1f us/tx  merchant requests/tx self %.4f peer %.4f  bytes/tx self %6.2f peer %6.2f  Redis commands/tx %.3f  broker CPU %5.1f us/tx\n", name, $1, $2, $3, $4, $5, $6, $7, $8}'
}
# A warm-up read, not counted: the broker's first reads of a topic (cold
# JIT, page cache) are several times slower than later ones and would
# favour whichever configuration runs last.
run warmup 1 -1 0 >/dev/null
"$vigil" simulate --seed 8 --users 10 --count 1 --rate 0 --brokers "$kafka" --topic bench-idle >/dev/null 2>&1
idle single 1 -1
idle one 1 0
idle three 3 0
# Each round runs the three in a rotated order, so a drift of the machine
# over the bench does not favour one of them.
configurations=("single 1 -1" "one 1 0" "three 3 0")
for round in $(seq 1 "$rounds"); do
  for k in 0 1 2; do
    read -r name nodes cport <<<"${configurations[$(((round - 1 + k) % 3))]}"
    run "$name" "$nodes" "$cport" "$round"
  done
  awk -v s="$(tail -1 single.runs | cut -d' ' -f1)" -v o="$(tail -1 one.runs | cut -d' ' -f1)" \
      -v t="$(tail -1 three.runs | cut -d' ' -f1)" 'BEGIN {printf "round: one / single %.2f, three / single %.2f\n", o / s, t / s}' \
    >>ratios.runs
  tail -1 ratios.runs
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
for name in single one three; do
  m=()
  for col in 1 2 3 4 5 6 7 8; do m+=("$(awk -v c=$col '{print $c}' "$name.runs" | median)"); done
  printf '%-6s median of %d: %7.0f tx/s  CPU %6.1f us/tx  merchant requests/tx self %.4f peer %.4f  bytes/tx self %6.2f peer %6.2f  Redis commands/tx %.3f  broker CPU %5.1f us/tx\n' \
    "$name" "$rounds" "${m[@]}"
done
# Each round's ratios against its own single, then their medians (plain
# awk: Debian's default awk has no asort).
per_round=$(paste -d' ' <(cut -d' ' -f1 single.runs) <(cut -d' ' -f1 one.runs) <(cut -d' ' -f1 three.runs))
printf 'median ratio to single (each against its own round): one %.2f, three %.2f\n' \
  "$(awk '{print $2 / $1}' <<<"$per_round" | median)" "$(awk '{print $3 / $1}' <<<"$per_round" | median)"
