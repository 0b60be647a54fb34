-- wrk script: POST one transaction to /predict on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"transaction_id":"bench-1","user_id":"u-42","amount":87.5,"currency":"EUR",' ..
           '"merchant":{"id":"m-7","category":"electronics"},"timestamp":"2024-02-01T12:00:00Z",' ..
           '"location":{"country":"DE","lat":52.5,"lon":13.4},"device_id":"d-1","channel":"online"}'

-- wrk reports no p99.9: print the percentiles (ms) on one parsable line.
done = function(summary, latency, requests)
  io.write(string.format("PCT %.3f %.3f %.3f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
