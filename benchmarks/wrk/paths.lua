-- GET a list of paths round robin: `wrk ... -s paths.lua URL -- PATHS_FILE` (one path a line).
-- Each thread starts at its own offset; the requests are formatted once, in init().

local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests = {}
local index = 0

function init(args)
   local file = assert(io.open(args[1], "r"), "cannot open the paths file " .. tostring(args[1]))
   for line in file:lines() do
      if line ~= "" then
         table.insert(requests, wrk.format("GET", line))
      end
   end
   file:close()
   assert(#requests > 0, "no paths in " .. args[1])
   index = ((thread_id or 0) * 7919) % #requests
end

function request()
   index = index % #requests + 1
   return requests[index]
end
