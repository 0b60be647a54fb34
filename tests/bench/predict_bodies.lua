-- wrk script: POST /predict bodies read at start-up from VIGIL_BODIES (one
-- transaction per line, as `vigil simulate` writes them without labels),
-- cycled per request. VIGIL_ITEMS = transactions per request (1 = one
-- object, n > 1 = an array of n consecutive lines). Requests are formatted
-- once, at start-up: formatting one per request in Lua cost the load
-- generator, which shares the cores with the server, about a third more CPU
-- per request than the requests themselves (measured: wrk 20 against 14.5 us
-- of CPU per single /predict), and that CPU went missing from the server.
local items = tonumber(os.getenv("VIGIL_ITEMS") or "1")
local bodies, next_body = {}, 1

function init(args)
  local lines = {}
  for line in io.lines(os.getenv("VIGIL_BODIES")) do lines[#lines + 1] = line end
  if items == 1 then
    bodies = lines
  else
    for i = 1, #lines - items + 1, items do
      bodies[#bodies + 1] = "[" .. table.concat(lines, ",", i, i + items - 1) .. "]"
    end
  end
  for i = 1, #bodies do
    bodies[i] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
  end
  -- Threads start at different places, so they do not send the same body.
  next_body = math.random(#bodies)
end

function request()
  local formatted = bodies[next_body]
  next_body = next_body % #bodies + 1
  return formatted
end

-- wrk reports no p99.9: print the percentiles (ms) on one parsable line.
done = function(summary, latency, requests)
  io.write(string.format("PCT %.3f %.3f %.3f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
