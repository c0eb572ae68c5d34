-- whatsapp.lua - wrk script for bench/whatsapp: POSTs pre-generated signed
-- WhatsApp webhook deliveries (bench/whatsapp_gen.py) and counts the answers
-- by status, so the runner can compare the 200s with the rows stored.
--
--   wrk -tT ... -s bench/whatsapp.lua URL -- PREFIX
--
-- Thread i (from 0) reads PREFIX.i, its own slice, one delivery a line
-- ("<64 hex signature><raw JSON body>"), and sends each delivery once. If it
-- runs out it starts over and counts the repeats in `exhausted` (a repeat is
-- a duplicate wamid: answered 200, stores nothing), which the runner reports
-- as a failure: generate more.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  ok, other, exhausted = 0, 0, 0
  sigs, bodies = {}, {}
  local f = assert(io.open(args[1] .. "." .. tid, "rb"))
  local data = f:read("*a")
  f:close()
  local n = 0
  for line in data:gmatch("[^\n]+") do
    n = n + 1
    sigs[n] = "sha256=" .. line:sub(1, 64)
    bodies[n] = line:sub(65)
  end
  total, i, wrapped = n, 0, false
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["User-Agent"] = "facebookexternalua"
end

function request()
  i = i + 1
  if i > total then
    i = 1
    wrapped = true
  end
  if wrapped then
    exhausted = exhausted + 1
  end
  wrk.headers["X-Hub-Signature-256"] = sigs[i]
  return wrk.format(nil, nil, nil, bodies[i])
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local o, x, e, loaded = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    x = x + t:get("other")
    e = e + t:get("exhausted")
    loaded = loaded + t:get("total")
  end
  io.write(string.format("BENCH ok=%d other=%d requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d exhausted=%d loaded=%d\n",
    o, x, summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    e, loaded))
end
