-- wrk script: every request asks for a path no request asked for before (/data/m<run>-<n>), so
-- every response is a miss the cache stores: the cost of storing. The run prefix comes from the
-- command line (`wrk ... -s miss.lua URL -- <prefix>`), so two runs against one server never meet.
local prefix = "m"
local counter = 0

function init(args)
  prefix = "m" .. (args[1] or tostring(os.time())) .. "-"
end

function request()
  counter = counter + 1
  return wrk.format(nil, "/data/" .. prefix .. counter)
end
