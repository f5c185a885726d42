-- POSTs the file named by BODY_FILE to the gateway; paced when DELAY_MS is set (ms between a
-- connection's requests). Prints one RESULT line that bench/ingest.py parses.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("API_KEY")

local pace = tonumber(os.getenv("DELAY_MS") or "")
if pace then
  function delay() return pace end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %.1f %.1f %.1f\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9)))
end
