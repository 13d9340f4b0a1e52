-- POST an anonymous feedback per request: `wrk ... -s feedback.lua URL -- PATHS_FILE NONCE`,
-- PATHS_FILE holding one `/api/v1/books/{id}/feedbacks` path a line. Reviewer names are
-- unique per request (the run's NONCE, the thread, a counter and a random number), ratings
-- 0 to 5; every answer outside 2xx is counted (see report.lua).

local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "report.lua")

response = count_answer

local paths = {}
local nonce = "x"
local sent = 0
local headers = { ["Content-Type"] = "application/json" }
local comment = "Read it in two sittings; the middle drags, the ending earns it."

function init(args)
   local file = assert(io.open(args[1], "r"), "cannot open the paths file " .. tostring(args[1]))
   for line in file:lines() do
      if line ~= "" then
         table.insert(paths, line)
      end
   end
   file:close()
   assert(#paths > 0, "no paths in " .. args[1])
   nonce = args[2] or nonce
   math.randomseed(os.time() + 7919 * (thread_id or 0))
end

function request()
   sent = sent + 1
   local body = string.format(
      '{"first_name": "Bench%s", "last_name": "T%d-%d-%d", "comment": "%s", "rating": %d}',
      nonce, thread_id or 0, sent, math.random(0, 999999), comment, math.random(0, 5))
   return wrk.format("POST", paths[(sent - 1) % #paths + 1], headers, body)
end
