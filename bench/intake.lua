-- intake.lua - wrk script for bench/intake: POSTs JSON PQRSD intakes and
-- counts the answers by status, so the runner can compare the 201s with the
-- rows stored.
--
-- With BENCH_CORPUS=FILE (a corpus in data/corpus's JSONL format) the
-- intakes are realistic: each takes, round-robin, a line's subject, text and
-- type (and petition class), the sender's address as the requester's e-mail
-- or the phone as the requester's phone. The strings are spliced in as the
-- corpus line escapes them (valid JSON string contents, never decoded), and
-- a counter in the subject ("#INSTANCE.N", BENCH_INSTANCE) keeps every
-- request distinct. Without it, every request is the same short petition
-- but for the counter.
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

-- The raw (still JSON-escaped) contents of the string value of key in a
-- corpus line, or nil. Inside a JSON string every '"' is escaped, so the
-- pattern below only matches a key.
local function field(line, key)
  local _, e = line:find('"' .. key .. '"%s*:%s*"')
  if not e then return nil end
  local i = e + 1
  while i <= #line do
    local ch = line:byte(i)
    if ch == 92 then
      i = i + 2
    elseif ch == 34 then
      return line:sub(e + 1, i - 1)
    else
      i = i + 1
    end
  end
  return nil
end

local function load_corpus(path)
  local docs = {}
  for line in assert(io.open(path)):lines() do
    local text = field(line, "text")
    if text and text ~= "" then
      local from = field(line, "from") or ""
      local who
      if from:find("@", 1, true) then
        who = '"email":"' .. from .. '"'
      elseif from:match("^%+?%d+$") then
        who = '"phone":"' .. from .. '"'
      else
        who = '"email":"persona@correo.example.com"'
      end
      local t = field(line, "type") or "peticion"
      local class = field(line, "petition_class") or ""
      local subject = field(line, "subject") or ""
      if subject == "" then subject = "Solicitud" end
      table.insert(docs, {
        head = '{"kind":"pqrsd","type":"' .. t .. '",' ..
          ((t == "peticion" and class ~= "") and ('"petition_class":"' .. class .. '",') or "") ..
          '"subject":"' .. subject .. ' #',
        tail = '","body":"' .. text .. '","requester":{"person_type":"natural",' ..
          '"name":"Persona Prueba",' .. who .. '},"data_consent":true}'})
    end
  end
  assert(#docs > 0, "no line with a text in " .. path)
  return docs
end

function init(args)
  created, other = 0, 0
  n = 0
  local corpus = os.getenv("BENCH_CORPUS")
  if corpus and corpus ~= "" then
    docs = load_corpus(corpus)
    tag = (os.getenv("BENCH_INSTANCE") or "1") .. "." .. tid .. "."
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if out then
    radicados = assert(io.open(out .. ".radicados." .. tid, "w"))
    radicados:setvbuf("full", 65536)
  end
end

function request()
  n = n + 1
  if docs then
    local d = docs[(n - 1) % #docs + 1]
    return wrk.format(nil, nil, nil, d.head .. tag .. n .. d.tail)
  end
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
