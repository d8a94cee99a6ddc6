-- wrk script: each connection waits $WRK_DELAY_MS (default 2) before each request, so the 64
-- connections offer a fixed load below saturation (about 64 / (delay + latency) requests a second)
-- instead of wrk's default closed loop, which measures latency at saturation. Prints the same
-- line as wrk_percentiles.lua. wrk times a request from its send, so a server that falls behind
-- the offered rate shows it in req/s, not in the percentiles (no coordinated-omission correction:
-- read the percentiles only where req/s matches the offered rate).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_percentiles.lua")  -- done(): the line of percentiles

local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "2")

delay = function()
  return delay_ms
end
