-- wrk script for bench/loadtest.py: a mixed read workload, as a city's users and clients
-- send it (web maps paging and panning, QGIS fetching by id, catalogue searches).
-- Reads LOADTEST_POINTS (features in bench_points, ids 1..N), LOADTEST_LAYERS (the other
-- collections, comma-separated) and writes the run's figures as JSON to $WRK_JSON.

local points = tonumber(os.getenv("LOADTEST_POINTS") or "1000000")
local layers = {}
for id in string.gmatch(os.getenv("LOADTEST_LAYERS") or "", "[^,]+") do
  layers[#layers + 1] = id
end
-- Catalogue words in Greek (percent-encoded UTF-8, unaccented as users type them) and English.
local words = {
  "%CE%BD%CE%BF%CE%BC%CE%BF%CE%B9",             -- νομοι
  "%CE%B4%CE%B7%CE%BC%CE%BF%CE%B9",             -- δημοι
  "%CF%83%CE%B5%CE%B9%CF%83%CE%BC%CE%BF%CE%B9", -- σεισμοι
  "municipalities", "seismic%20stations", "benchmark", "settlements",
}

-- {weight, function returning a path}
local kinds = {
  {20, function()  -- a page of the big layer, anywhere in it
    return string.format("/collections/bench_points/items?f=json&limit=100&offset=%d",
      math.random(0, points - 100))
  end},
  {10, function()  -- the first page of a small layer
    return string.format("/collections/%s/items?f=json&limit=50", layers[math.random(#layers)])
  end},
  {20, function()  -- a map pan: ~10 x 10 km in Greece
    local x, y = 19.6 + math.random() * 9.7, 34.9 + math.random() * 6.7
    return string.format("/collections/bench_points/items?f=json&limit=100&bbox=%.4f,%.4f,%.4f,%.4f",
      x, y, x + 0.12, y + 0.09)
  end},
  {20, function()  -- one feature by id
    return string.format("/collections/bench_points/items/%d?f=json", math.random(1, points))
  end},
  {10, function()  -- CQL2 text on an indexed field: code = N
    return string.format("/collections/bench_points/items?f=json&limit=50&filter=code%%3D%d",
      math.random(0, 999))
  end},
  {10, function()  -- a catalogue search
    return "/collections/catalogue/items?f=json&q=" .. words[math.random(#words)]
  end},
  {10, function()  -- collection documents
    if math.random() < 0.3 then return "/collections?f=json" end
    local id = math.random(#layers + 2)
    return "/collections/" .. (layers[id] or (id == #layers + 1 and "bench_points" or "catalogue"))
      .. "?f=json"
  end},
}
local total = 0
for _, k in ipairs(kinds) do total = total + k[1] end

local threads = {}
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("seed", counter)
  threads[#threads + 1] = thread
end

init = function(args)
  math.randomseed(os.time() * 1000 + seed)
  statuses = {}  -- status code -> count, per thread
end

request = function()
  local r = math.random(total)
  for _, k in ipairs(kinds) do
    r = r - k[1]
    if r <= 0 then return wrk.format("GET", k[2]()) end
  end
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      merged[code] = (merged[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(merged) do
    parts[#parts + 1] = string.format('"%d": %d', code, n)
  end
  local e = summary.errors
  local out = io.open(os.getenv("WRK_JSON"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "statuses": {%s}}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    table.concat(parts, ", ")))
  out:close()
end
