-- queue_seed.lua - wrk script for bench/queue: files exactly COUNT varied
-- Spanish PQRSD through POST /api/v1/items (the real intake path, so the
-- items_fts triggers index each one) and then stops wrk.
--
--   wrk -t1 -cC -d3600s -s bench/queue_seed.lua URL/api/v1/items -- COUNT SEED DONE
--
-- One thread only (the count is the thread's). Subjects and bodies are drawn
-- from a vocabulary of Bogotá's twenty localidades (accented names such as
-- Fontibón and Engativá: each is in about 1 item in 20 subjects, more with
-- the bodies), barrios, topics and sentences citizens write; the rare word
-- "zarigüeya" is in about 1 body in 1,000. Types are weighted as a citizen
-- office receives them (peticion 50%, queja 20%, reclamo 15%, sugerencia 8%,
-- denuncia 7%); requesters are natural persons, organisations and anonymous
-- ones. After COUNT intakes have been sent, each further request of the
-- connections still busy is a GET /healthz (answered 200, stores nothing),
-- and once all COUNT intakes have been answered the thread stops and creates
-- the file DONE: wrk itself sleeps out its -d, so the runner then stops it
-- with SIGINT (it still prints its summary).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local places = {
  "Usaquén", "Chapinero", "Santa Fe", "San Cristóbal", "Usme", "Tunjuelito",
  "Bosa", "Kennedy", "Fontibón", "Engativá", "Suba", "Barrios Unidos",
  "Teusaquillo", "Los Mártires", "Antonio Nariño", "Puente Aranda",
  "La Candelaria", "Rafael Uribe Uribe", "Ciudad Bolívar", "Sumapaz",
}
local barrios = {
  "El Tintal", "Modelia", "Hayuelos", "Zona Franca", "Villa Luz", "Álamos",
  "Boyacá Real", "Minuto de Dios", "Las Ferias", "Patio Bonito", "Castilla",
  "Timiza", "Britalia", "Lisboa", "San José de Bavaria", "Cedritos",
  "Santa Bárbara", "La Perseverancia", "Las Cruces", "El Restrepo",
  "Quiroga", "Marruecos", "Lucero Alto", "Meissen", "Potosí", "Nazareth",
}
local topics = {
  "alumbrado público", "recolección de basuras", "huecos en la vía",
  "poda de árboles", "ruido de un establecimiento", "cobro del impuesto predial",
  "atención en la ventanilla", "demora en la respuesta", "subsidio de vivienda",
  "licencia de construcción", "parque del barrio", "andén en mal estado",
  "semáforo dañado", "corte del servicio de acueducto", "invasión del espacio público",
  "contrato de obra", "cupo escolar", "jornada de vacunación", "malla vial",
  "paradero del transporte público", "cámaras de seguridad", "ciclorruta",
  "salón comunal", "inundación en temporada de lluvias", "certificado de residencia",
  "comparendo de tránsito", "plaza de mercado", "animales en situación de calle",
}
local opening = {
  "Buenos días, me dirijo a ustedes para", "Respetados señores, escribo para",
  "Como habitante de la localidad quiero", "Por medio de la presente deseo",
  "Cordial saludo. Los vecinos de la cuadra queremos", "Señores de la entidad, necesito",
  "Hace varias semanas intento", "En nombre de la junta de acción comunal vengo a",
}
local purpose = {
  "solicitar información sobre", "presentar una queja por", "reclamar por",
  "sugerir mejoras en", "denunciar irregularidades en", "pedir copia de los documentos de",
  "conocer el estado del trámite de", "pedir una visita técnica por",
}
local sentences = {
  "La situación lleva más de un mes sin solución.",
  "Ya llamé a la línea de atención y no me dieron respuesta.",
  "Adjunto el número del radicado anterior para que lo tengan en cuenta.",
  "Los niños del colegio pasan por ese sitio todos los días.",
  "De noche el sector queda completamente oscuro y hay robos.",
  "Solicito que se programe una visita a la mayor brevedad.",
  "El problema empeora cada vez que llueve.",
  "Los adultos mayores del conjunto no pueden salir con seguridad.",
  "Pido que me informen qué dependencia es la responsable.",
  "Agradezco la atención prestada y quedo atenta a su respuesta.",
  "Quisiera saber cuánto tiempo tarda el trámite y qué requisitos tiene.",
  "El contratista dejó la obra a medias y se llevó la maquinaria.",
  "Me cobraron dos veces el mismo valor y necesito la devolución.",
  "Varios vecinos firmamos esta solicitud y pedimos una reunión.",
  "En la esquina se acumulan escombros y bolsas de basura.",
  "El funcionario que me atendió fue descortés y no me dio el turno.",
  "Propongo que se habilite la atención virtual los sábados.",
  "Tengo entendido que existe un presupuesto asignado para esta obra.",
  "No es la primera vez que escribo por este mismo asunto.",
  "Solicito respuesta por escrito dentro de los términos de ley.",
}
local names = {
  "María Fernanda Rodríguez", "José Luis Martínez", "Ana Lucía Gómez", "Carlos Andrés Pérez",
  "Luz Marina Castro", "Jhon Jairo Ramírez", "Diana Patricia Torres", "Óscar Iván Hernández",
  "Sandra Milena López", "Édgar Alfonso Díaz", "Paola Andrea Muñoz", "Wilson Orlando Peña",
}
local orgs = {
  "Junta de Acción Comunal", "Asociación de Comerciantes", "Copropiedad Conjunto Residencial",
  "Fundación Huellas", "Colectivo Ambiental", "Asociación de Padres de Familia",
}
-- cumulative weights in percent
local types = { {50, "peticion"}, {70, "queja"}, {85, "reclamo"}, {93, "sugerencia"}, {100, "denuncia"} }
local classes = { "general", "general", "documentos", "consulta" }

local function pick(t) return t[math.random(#t)] end

local function pick_type()
  local r = math.random(100)
  for _, w in ipairs(types) do
    if r <= w[1] then return w[2] end
  end
end

function init(args)
  count = tonumber(args[1])
  math.randomseed(tonumber(args[2] or "1"))
  done_file = args[3]
  n, created, other, filler = 0, 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function pqrsd(i)
  local place, topic, barrio = pick(places), pick(topics), pick(barrios)
  local typ = pick_type()
  local subject
  local s = math.random(4)
  if s == 1 then
    subject = string.format("%s en %s", topic:gsub("^%l", string.upper), place)
  elseif s == 2 then
    subject = string.format("Solicitud sobre %s, barrio %s (%s)", topic, barrio, place)
  elseif s == 3 then
    subject = string.format("%s: %s", place, topic)
  else
    subject = string.format("Caso %d de %s en %s", i, topic, place)
  end
  local body = { string.format("%s %s %s en el barrio %s de la localidad de %s.",
    pick(opening), pick(purpose), topic, barrio, place) }
  for _ = 1, math.random(2, 5) do
    body[#body + 1] = pick(sentences)
  end
  if math.random(4) == 1 then
    body[#body + 1] = string.format("También afecta a los vecinos de %s.", pick(places))
  end
  if math.random(1000) == 1 then
    body[#body + 1] = "En el humedal apareció una zarigüeya herida y nadie la recoge."
  end
  local class = typ == "peticion" and string.format('"petition_class":"%s",', pick(classes)) or ""
  local who
  local p = math.random(10)
  if p <= 1 or (typ == "denuncia" and p <= 5) then
    who = '{"person_type":"anonimo"}'
  elseif p <= 2 then
    who = string.format('{"person_type":"juridica","name":"%s %s","id_type":"NIT","id_number":"%d",' ..
      '"email":"org%d@correo.example.com"}', pick(orgs), barrio, 900000000 + i, i)
  else
    who = string.format('{"person_type":"natural","name":"%s","id_type":"CC","id_number":"%d",' ..
      '"email":"c%d@correo.example.com","phone":"3%09d","municipality":"Bogotá D.C."}',
      pick(names), 10000000 + i, i, i)
  end
  return string.format('{"kind":"pqrsd","type":"%s",%s"subject":"%s","body":"%s",' ..
    '"requester":%s,"data_consent":true}', typ, class, subject, table.concat(body, " "), who)
end

function request()
  -- wrk calls request() once before connecting, to see whether it pipelines,
  -- and throws that request away: make it one that does not count.
  if not primed then
    primed = true
    return wrk.format("GET", "/healthz")
  end
  if n >= count then
    return wrk.format("GET", "/healthz")
  end
  n = n + 1
  return wrk.format(nil, nil, nil, pqrsd(n))
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 200 then
    filler = filler + 1
  else
    other = other + 1
  end
  if created + other >= count and not finished then
    finished = true
    if done_file then io.open(done_file, "w"):close() end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local c, o, f = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
    f = f + t:get("filler")
  end
  io.write(string.format("BENCH created=%d other=%d filler=%d requests=%d seconds=%.3f " ..
    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
    c, o, f, summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
