-- queue.lua - wrk script for bench/queue: staff reads of the queue, with the
-- session cookie given by the runner (wrk -H "Cookie: vt_session=...").
--
--   wrk -t1 ... -s bench/queue.lua URL -- list
--       GET the URL's path and query again and again (the queue).
--   wrk -t1 ... -s bench/queue.lua URL -- item FILE
--       GET /api/v1/items/{radicado} for radicados drawn at random from FILE
--       (one a line).
--   wrk -t1 ... -s bench/queue.lua URL -- search JSON CSRF
--       POST the JSON filters to the URL (/api/v1/items/search, which the
--       staff UI uses so that search words stay out of URLs).
--   wrk -t1 ... -s bench/queue.lua URL -- assign FILE CSRF DONE
--       POST an assign action for each radicado of FILE once (to the triage
--       dependencia, every other one to the user "bench"), then stop the
--       thread and create the file DONE (wrk sleeps out its -d: the runner
--       stops it with SIGINT).
--
-- Counts the answers by status and keeps one 200 answer's figures: for a
-- queue page the number of items in it and the total, for an item its
-- radicado and the length of its timeline. One thread only.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function lines(path)
  local t = {}
  local f = assert(io.open(path, "rb"))
  for line in f:read("*a"):gmatch("[^\n]+") do t[#t + 1] = line end
  f:close()
  return t
end

function init(args)
  mode = args[1] or "list"
  ok, non2xx, status_seen = 0, 0, ""
  sample, sent, answered = "", 0, 0
  if mode == "item" or mode == "assign" then
    radicados = lines(args[2])
  end
  if mode == "search" then
    wrk.method = "POST"
    wrk.body = args[2]
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["X-CSRF-Token"] = args[3]
  end
  if mode == "assign" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["X-CSRF-Token"] = args[3]
    done_file = args[4]
  end
end

function request()
  -- wrk calls request() once before connecting, to see whether it pipelines,
  -- and throws that request away: make it one that does not count.
  if not primed then
    primed = true
    return wrk.format("GET", "/healthz")
  end
  if mode == "item" then
    return wrk.format("GET", "/api/v1/items/" .. radicados[math.random(#radicados)])
  elseif mode == "assign" then
    if sent >= #radicados then
      return wrk.format("GET", "/healthz")
    end
    sent = sent + 1
    local who = sent % 2 == 0 and ',"assignee":"bench"' or ""
    return wrk.format(nil, "/api/v1/items/" .. radicados[sent] .. "/actions", nil,
      '{"action":"assign","dependencia":"atencion_ciudadano"' .. who .. '}')
  end
  return wrk.request()
end

local function count(s, pat)
  local c = 0
  for _ in s:gmatch(pat) do c = c + 1 end
  return c
end

function response(status, headers, body)
  if body == '{"status":"ok"}' then
    return -- a filler GET /healthz (see request())
  end
  if status >= 200 and status < 300 then
    ok = ok + 1
    if sample == "" and body then
      if mode == "item" or mode == "assign" then
        local r = body:match('"radicado":"([^"]*)"') or "?"
        local tl = body:match('"timeline":(%b[])') or ""
        sample = string.format("item=%s,status=%s,timeline=%d", r,
          body:match('"status":"([^"]*)"') or "?", count(tl, '"action":'))
      else
        sample = string.format("items=%d,total=%s", count(body, '"radicado":'),
          body:match('"total":(%d+)') or "?")
      end
    end
  else
    non2xx = non2xx + 1
    if #status_seen < 60 and not status_seen:find(tostring(status)) then
      status_seen = status_seen .. tostring(status) .. ","
    end
  end
  if mode == "assign" and ok + non2xx >= #radicados and not finished then
    finished = true
    if done_file then io.open(done_file, "w"):close() end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local o, x, s, st = 0, 0, "", ""
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    x = x + t:get("non2xx")
    s = t:get("sample")
    st = st .. t:get("status_seen")
  end
  if s == "" then s = "none" end
  if st == "" then st = "none" end
  io.write(string.format("BENCH ok=%d non2xx=%d requests=%d seconds=%.3f p50_ms=%.2f " ..
    "p99_ms=%.2f max_ms=%.2f errors=%d statuses=%s sample=%s\n",
    o, x, summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    st, s))
end
