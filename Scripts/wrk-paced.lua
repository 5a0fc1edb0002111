-- Paced load for Debian's wrk (which, unlike wrk2, has no --rate): the connections of each wrk
-- thread share one schedule of send times RATE/threads per second apart, and delay() holds each
-- request until its slot. A slow server makes the slots pile up, and the late requests go out at
-- once (up to the connection count in flight), so the offered rate stays RATE while the server
-- keeps up. wrk's latency is from each request's send to its response.
--
-- Usage: wrk -t1 -c4 -d10s --latency -s Scripts/wrk-paced.lua URL -- RATE [THREADS]
-- RATE is requests/s for the whole wrk process; pass THREADS when -t is not 1.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } skygate_timespec;
  int clock_gettime(int clock, skygate_timespec *now);
]]
local now_ts = ffi.new("skygate_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, now_ts) -- CLOCK_MONOTONIC
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local interval_ms, next_due

function init(args)
  local rate = tonumber(args[1]) or 500
  local threads = tonumber(args[2]) or 1
  interval_ms = 1000 * threads / rate
end

function delay()
  local now = now_ms()
  -- Never bank more than a few slots of idle time: a pause must not turn into a burst.
  if next_due == nil or next_due < now - 4 * interval_ms then next_due = now end
  local wait = next_due - now
  next_due = next_due + interval_ms
  if wait < 0 then return 0 end
  return math.floor(wait + 0.5)
end
