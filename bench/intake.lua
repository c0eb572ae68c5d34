-- intake.lua - wrk script for bench/intake: POSTs JSON PQRSD intakes and
-- counts the answers by status, so the runner can compare the 201s with the
-- rows stored.
--
-- With BENCH_OUT=PREFIX in the environment it also writes, for the runner's
-- checks and for merging several wrk processes (one per instance):
--   PREFIX.radicados.N  the radicado of every 201 answer of thread N, a line each
--   PREFIX.latency      wrk's whole latency histogram: "microseconds count" lines
local threads = {}
local out = os.getenv("BENCH_OUT")

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  created, other = 0, 0
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if out then
    radicados = assert(io.open(out .. ".radicados." .. tid, "w"))
    radicados:setvbuf("full", 65536)
  end
end

function request()
  n = n + 1
  local body = string.format(
    '{"kind":"pqrsd","type":"peticion","subject":"Solicitud de prueba %d",' ..
    '"body":"Solicito copia del contrato de obra número %d del municipio.",' ..
    '"requester":{"person_type":"natural","name":"Persona Prueba","email":"p%d@correo.example.com"},' ..
    '"data_consent":true}', n, n, n)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
    if radicados then
      radicados:write(body:match('"radicado":"([^"]*)"') or "?", "\n")
    end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format("BENCH created=%d other=%d requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
    c, o, summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  if out then
    -- latency(i): the i-th distinct latency recorded and how many requests had it.
    local f = assert(io.open(out .. ".latency", "w"))
    for i = 1, #latency do
      local v, k = latency(i)
      f:write(string.format("%d %d\n", v, k))
    end
    f:close()
  end
end
