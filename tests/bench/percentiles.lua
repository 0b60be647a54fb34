-- wrk script for GET endpoints: prints p50/p99/p99.9 (ms) on one line.
done = function(summary, latency, requests)
  io.write(string.format("PCT %.3f %.3f %.3f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
