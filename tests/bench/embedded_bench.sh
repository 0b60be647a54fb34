#!/usr/bin/env bash
# Embedded pipeline throughput (no broker): `vigil run --count COUNT --rate 0`,
# the simulator feeding the actors, decisions (with their feature vectors)
# written to decisions.jsonl, checkpoints to the snapshot file. Steady state:
# decisions per second between 20% and 90% of COUNT, read from /metrics
# every 0.2 s, so start-up, model load and the final checkpoint are outside
# it. Baseline, in the same round: the same simulator writing COUNT records
# as JSON lines to a file (`vigil simulate`), the feed without features,
# model or actors. Prints every run, the medians and Vigil / baseline.
# Usage: tests/bench/embedded_bench.sh [ROUNDS=3] [COUNT=2000000]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
vigil=${VIGIL_BIN:-$root/build/vigil}  # another build for A/B runs
rounds=${1:-3}; count=${2:-2000000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
decided() { curl -s "localhost:$1/metrics" 2>/dev/null | awk '/^vigil_decisions_total/ {s += $2} END {print s + 0}'; }

steady_run() {  # prints decisions/s between 20% and 90% of count
  rm -f decisions.jsonl vigil-state.snapshot labels.jsonl
  local port; port=$(free_port)
  "$vigil" run --count "$count" --rate 0 --http-port "$port" --registry registry >vigil.log 2>&1 &
  local pid=$! t0="" n0=0 n now
  while kill -0 "$pid" 2>/dev/null; do
    n=$(decided "$port"); now=$(date +%s.%N)
    if [ -z "$t0" ] && [ "$n" -ge $((count / 5)) ]; then t0=$now; n0=$n; fi
    if [ -n "$t0" ] && [ "$n" -ge $((count * 9 / 10)) ]; then
      awk -v a="$n" -v b="$n0" -v c="$now" -v d="$t0" 'BEGIN {printf "%d\n", (a - b) / (c - d)}'
      wait "$pid" || true
      return
    fi
    sleep 0.2
  done
  echo "vigil run ended before 90% of $count decisions" >&2; return 1
}

feed_run() {  # prints records/s of the simulator alone, written as JSON lines
  local t0 t1; t0=$(date +%s.%N)
  "$vigil" simulate --count "$count" --out feed.jsonl 2>/dev/null
  t1=$(date +%s.%N); rm -f feed.jsonl
  awk -v n="$count" -v a="$t1" -v b="$t0" 'BEGIN {printf "%d\n", n / (a - b)}'
}

# The first start trains the bootstrap model: outside the measurement.
"$vigil" run --count 1000 --rate 0 --http-port "$(free_port)" --registry registry >warmup.log 2>&1
: >vigil.txt; : >feed.txt
for r in $(seq 1 "$rounds"); do
  v=$(steady_run); f=$(feed_run)
  echo "$v" >>vigil.txt; echo "$f" >>feed.txt
  echo "round $r: vigil $v decisions/s, simulator alone $f records/s, ratio $(awk -v a="$v" -v b="$f" 'BEGIN {printf "%.2f", a / b}')"
done
mv=$(median <vigil.txt); mf=$(median <feed.txt)
echo "median of $rounds: vigil $mv decisions/s (steady state, $count records), simulator alone $mf records/s, vigil / simulator $(awk -v a="$mv" -v b="$mf" 'BEGIN {printf "%.2f", a / b}')"
