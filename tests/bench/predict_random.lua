-- wrk script: POST /predict bodies built at start-up, cycled per request.
-- Users and merchants are drawn from 20,000 and 10,000 distinct ids, so
-- every shard works. VIGIL_ITEMS (env) = transactions per request
-- (1 = one object, n > 1 = an array of n).
local items = tonumber(os.getenv("VIGIL_ITEMS") or "1")
local bodies, next_body = {}, 1
local countries = {"DE", "FR", "NL", "ES", "IT", "PL"}
local categories = {"grocery", "electronics", "travel", "fashion", "restaurants"}

local function transaction(n)
  return string.format(
    '{"transaction_id":"b-%d","user_id":"u-%d","amount":%.2f,"currency":"EUR",' ..
    '"merchant":{"id":"m-%d","category":"%s"},"timestamp":"2024-02-%02dT%02d:%02d:00Z",' ..
    '"location":{"country":"%s","lat":%.3f,"lon":%.3f},"device_id":"d-%d","channel":"online"}',
    n, math.random(0, 19999), math.random(100, 50000) / 100, math.random(0, 9999),
    categories[math.random(#categories)], math.random(1, 28), math.random(0, 23), math.random(0, 59),
    countries[math.random(#countries)], 48 + math.random() * 6, 2 + math.random() * 12,
    math.random(0, 49999))
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  local count = items == 1 and 20000 or 200
  for i = 1, count do
    if items == 1 then
      bodies[i] = transaction(i)
    else
      local parts = {}
      for k = 1, items do parts[k] = transaction(i * items + k) end
      bodies[i] = "[" .. table.concat(parts, ",") .. "]"
    end
  end
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

-- wrk reports no p99.9: print the percentiles (ms) on one parsable line.
done = function(summary, latency, requests)
  io.write(string.format("PCT %.3f %.3f %.3f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
