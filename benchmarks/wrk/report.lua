-- Shared by the API benchmark's wrk scripts (loaded with dofile): every thread counts the
-- answers outside 2xx, and done() prints one line "WRK_JSON {...}" that benchmarks/api.py
-- reads: requests, duration, socket errors, non-2xx answers and latency percentiles (µs).

local threads = {}
local next_id = 0

-- setup() runs in the main Lua state once per thread before it starts: number the threads
-- and keep them, so done() can read what each counted.
function setup(thread)
   thread:set("thread_id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

non2xx = 0
first_error = nil

-- A script that must see every answer sets `response = count_answer`: wrk then hands each
-- answer to Lua, which costs a little; without it only wrk's own errors.status (answers with
-- a status of 400 or more) is counted.
function count_answer(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_error == nil then
         first_error = tostring(status) .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

local function quoted(text)
   text = string.gsub(text, '\\', '\\\\')
   text = string.gsub(text, '"', '\\"')
   text = string.gsub(text, '[%c]', ' ')
   return '"' .. text .. '"'
end

function done(summary, latency, requests)
   local bad, sample = 0, nil
   for _, thread in ipairs(threads) do
      bad = bad + (thread:get("non2xx") or 0)
      sample = sample or thread:get("first_error")
   end
   local e = summary.errors
   local parts = {
      string.format('"requests": %d', summary.requests),
      string.format('"duration_us": %d', summary.duration),
      string.format('"bytes": %d', summary.bytes),
      string.format('"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}',
         e.connect, e.read, e.write, e.status, e.timeout),
      string.format('"non2xx": %d', bad),
      string.format('"counted_answers": %s', tostring(response ~= nil)),
      string.format('"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}',
         latency:percentile(50), latency:percentile(90), latency:percentile(99),
         latency.max, latency.mean),
   }
   if sample ~= nil then
      table.insert(parts, '"first_error": ' .. quoted(sample))
   end
   io.write("WRK_JSON {" .. table.concat(parts, ", ") .. "}\n")
end
