-- wrk script: each connection waits $WRK_DELAY_MS (default 2) before each request, so the 64
-- connections offer a fixed load below saturation (about 64 / (delay + latency) requests a second)
-- instead of wrk's default closed loop, which measures latency at saturation. Prints the same
-- line as wrk_percentiles.lua. wrk times a request from its send, so a server that falls behind
-- the offered rate shows it in req/s, not in the percentiles (no coordinated-omission correction:
-- read the percentiles only where req/s matches the offered rate).
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "2")

delay = function()
  return delay_ms
end

done = function(summary, latency, requests)
  io.write(string.format("rps=%.0f", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format(" p%g=%.2f", p, latency:percentile(p) / 1000))
  end
  io.write(string.format(" max=%.2f\n", latency.max / 1000))
end
