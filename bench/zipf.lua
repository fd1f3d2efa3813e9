-- wrk script: each request asks for /data/<id>, id drawn from 10,000 keys with a Zipf law
-- (P(rank k) proportional to 1/k), so a few keys are hot and a long tail is cold, as on a real site.
local keys = 10000
local exponent = 1.0
local cumulative = {}
local total = 0

function init(args)
  math.randomseed(tonumber(args[1]) or os.time())
  for k = 1, keys do
    total = total + 1 / (k ^ exponent)
    cumulative[k] = total
  end
end

function request()
  local target = math.random() * total
  local low, high = 1, keys
  while low < high do
    local mid = math.floor((low + high) / 2)
    if cumulative[mid] < target then low = mid + 1 else high = mid end
  end
  return wrk.format(nil, "/data/" .. (low - 1))
end
