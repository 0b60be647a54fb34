#!/usr/bin/env bash
# What a /predict forwarded to another cluster member costs. Two nodes (a,
# b) read one topic of 4 partitions from a real broker, with Redis
# (tests/harness), all on this machine. The stream first brings 200,000
# simulated transactions of 20,000 users, so every user has history on the
# node that reads their partition. Then wrk posts single /predict requests
# to node a, rounds alternating:
#   local    users whose partitions a reads: a's gateway answers
#   forward  users whose partitions b reads: a forwards each to b over the
#            middleman, b's gateway answers, a relays the decision
# Prints every run and the medians: req/s, p50/p99/p99.9, and the CPU time
# per transaction of node a and of node b (user + system time from /proc),
# then what forwarding adds, and the bytes a forwarded transaction puts on
# the cluster link (request JSON + rendered decision; CAF's framing adds its
# own header and type names, measured in the same run from the link's bytes).
# Needs build/vigil, wrk, and the harness's Kafka (fetched by mvn on first use).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}; secs=${2:-10}; conns=${3:-32}
# shellcheck source=tests/bench/bench_services.sh
source "$root/tests/bench/bench_services.sh"
topic=bench-cluster; users=20000; history=200000; requests=40000; token=bench-cluster-token
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
wait_http() {  # bounded: 300 s (the first node trains the bootstrap model)
  for _ in $(seq 1 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "server at $1 did not come up" >&2; return 1
}
echo "producing $history simulated transactions of $users users..." >&2
"$root/build/vigil" simulate --seed 1 --users "$users" --count "$history" --rate 0 --brokers "$kafka" \
  --topic "$topic" >/dev/null 2>&1
declare -A port pid
for node in a b; do
  port[$node]=$(free_port)
  VIGIL_AUTH_TOKEN=$token "$root/build/vigil" run --brokers "$kafka" --redis "$redis" --registry "$work/registry" \
    --http-port "${port[$node]}" --set "input_topic=$topic,consumer_group=$topic,node_name=$node,readback_decisions=0,max_connections_per_client=256,labels_path=$work/labels-$node.jsonl,auth_token_path=$work/token-$node" \
    >"$node.log" 2>&1 &
  pid[$node]=$!
  pids+=("$!")
  wait_http "http://127.0.0.1:${port[$node]}/health"
done
echo "waiting for both nodes to read two partitions each and drain the stream..." >&2
for _ in $(seq 1 600); do
  view=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:${port[a]}/cluster" || true)
  done_records=$(( $(metric "${port[a]}" vigil_records_in_total || echo 0) + $(metric "${port[b]}" vigil_records_in_total || echo 0) ))
  settled=$(echo "$view" | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
except Exception:
    print(0); sys.exit()
ok = v.get("live_members") == 2 and all(len(m.get("partitions", [])) == 2 and m["link"] in ("self", "up") for m in v["members"])
print(1 if ok else 0)')
  [[ $settled == 1 && $done_records -ge $history ]] && break
  sleep 1
done
[[ $settled == 1 ]] || { echo "the two nodes did not settle on two partitions each" >&2; exit 1; }
partitions_a=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:${port[a]}/cluster" |
  python3 -c 'import json, sys; v = json.load(sys.stdin); print(",".join(str(p) for m in v["members"] if m["link"] == "self" for p in m["partitions"]))')
# Later transactions of the same simulated world, split by who reads each
# user's partition (librdkafka's default partitioner: CRC-32 of the key).
"$root/build/vigil" simulate --seed 1 --users "$users" --count $((history + requests)) 2>/dev/null |
  tail -n "$requests" | python3 -c '
import json, sys, zlib
mine = {int(p) for p in sys.argv[1].split(",")}
with open("local.jsonl", "w") as local, open("forward.jsonl", "w") as forward:
    for line in sys.stdin:
        t = json.loads(line); t.pop("label", None)
        out = local if zlib.crc32(t["user_id"].encode()) % 4 in mine else forward
        out.write(json.dumps(t, separators=(",", ":")) + "\n")' "$partitions_a"
echo "node a reads partitions $partitions_a; $(wc -l <local.jsonl) local and $(wc -l <forward.jsonl) forwarded request bodies" >&2

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
cluster_ports=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:${port[a]}/cluster" |
  python3 -c 'import json, sys; print(" ".join(str(m["cluster_port"]) for m in json.load(sys.stdin)["members"]))')
read -r cport1 cport2 <<<"$cluster_ports"
link_bytes() {  # both ways on every link between a and b (client ends only: each connection once), from the kernel's TCP counters
  ss -tinH "( dport = :$cport1 or dport = :$cport2 )" |
    awk '{for (i = 1; i <= NF; i++) {if ($i ~ /^bytes_acked:/) {split($i, a, ":"); s += a[2]} if ($i ~ /^bytes_received:/) {split($i, b, ":"); s += b[2]}}} END {print s + 0}'
}
run() {  # NAME BODIES -> appends "rps p50 p99 p999 cpu_a cpu_b link_bytes_per_tx" to NAME.runs
  local name=$1 bodies=$2 out rps p50 p99 p999 a0 a1 b0 b1 l0 l1 n
  a0=$(cpu_ticks "${pid[a]}"); b0=$(cpu_ticks "${pid[b]}"); l0=$(link_bytes)
  out=$(VIGIL_BODIES="$work/$bodies" VIGIL_ITEMS=1 wrk -t2 -c"$conns" -d"${secs}s" --latency \
    -s "$root/tests/bench/predict_bodies.lua" "http://127.0.0.1:${port[a]}/predict")
  a1=$(cpu_ticks "${pid[a]}"); b1=$(cpu_ticks "${pid[b]}"); l1=$(link_bytes)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  if echo "$out" | grep -q "Non-2xx"; then echo "$name: $(echo "$out" | grep Non-2xx)" >&2; fi
  read -r p50 p99 p999 < <(echo "$out" | awk '$1=="PCT" {print $2, $3, $4}')
  awk -v rps="$rps" -v p50="$p50" -v p99="$p99" -v p999="$p999" -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v hz="$hz" \
      -v n="$n" -v l=$((l1 - l0)) 'BEGIN {printf "%s %s %s %s %.2f %.2f %.0f\n", rps, p50, p99, p999, a * 1e6 / hz / n, b * 1e6 / hz / n, l / n}' \
    >>"$name.runs"
  tail -1 "$name.runs" | awk -v name="$name" '{printf "%-8s run: %8.0f req/s  p50 %6.3f ms  p99 %6.3f ms  p99.9 %7.3f ms  CPU a %6.1f us/tx  b %6.1f us/tx  link %5.0f B/tx\n", name, $1, $2, $3, $4, $5, $6, $7}'
}
forwarded_before=$(metric "${port[a]}" vigil_predict_forwarded_total || echo 0)
for _ in $(seq 1 "$rounds"); do
  run local local.jsonl
  run forward forward.jsonl
done
forwarded_after=$(metric "${port[a]}" vigil_predict_forwarded_total || echo 0)
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
for name in local forward; do
  for col in 1 2 3 4 5 6 7; do awk -v c=$col '{print $c}' "$name.runs" | median >"$name.m$col"; done
  printf '%-8s median of %d: %8.0f req/s  p50 %6.3f ms  p99 %6.3f ms  p99.9 %7.3f ms  CPU a %6.1f us/tx  b %6.1f us/tx  link %5.0f B/tx\n' \
    "$name" "$rounds" "$(cat $name.m1)" "$(cat $name.m2)" "$(cat $name.m3)" "$(cat $name.m4)" "$(cat $name.m5)" \
    "$(cat $name.m6)" "$(cat $name.m7)"
done
request=$(head -n 1000 forward.jsonl | awk '{s += length($0)} END {printf "%.0f", s / NR}')
decision=$(head -n 200 forward.jsonl | while read -r body; do
  curl -sf -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:${port[b]}/predict" | wc -c; done |
  awk '{s += $1} END {printf "%.0f", s / NR}')
awk -v lr="$(cat local.m1)" -v fr="$(cat forward.m1)" -v la="$(cat local.m5)" -v fa="$(cat forward.m5)" \
    -v fb="$(cat forward.m6)" -v lb="$(cat local.m6)" -v lp="$(cat local.m3)" -v fp="$(cat forward.m3)" 'BEGIN {
  printf "forwarded / local (same run): req/s %.2f, p99 %.2fx; CPU per transaction, both nodes: %.1f us against %.1f us (+%.1f us)\n",
    fr / lr, fp / lp, fa + fb, la + lb, fa + fb - la - lb }'
echo "payload of a forwarded transaction: request JSON $request B + rendered decision $decision B = $((request + decision)) B; on the link (TCP payload both ways, CAF framing included): $(cat forward.m7) B"
echo "vigil_predict_forwarded_total on a rose by $((forwarded_after - forwarded_before)) over the runs"
