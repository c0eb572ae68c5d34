// staff/labels.js - the Spanish vocabulary of the staff UI: what each code
// of the API (status, type, class, channel, role, delivery state, audit
// action...) reads as, label() to look one up, and depName() for a
// dependencia's name.
import { state } from "./state.js";

export var STATUS = {
  radicado: "Radicada", en_tramite: "En trámite", pendiente_completar: "Pendiente de completar",
  respondido: "Respondida", cerrado: "Cerrada", desistido: "Desistida", trasladado: "Trasladada"
};
export var TYPES = {
  peticion: "Petición", queja: "Queja", reclamo: "Reclamo", sugerencia: "Sugerencia",
  denuncia: "Denuncia", felicitacion: "Felicitación"
};
export var CLASSES = { general: "Interés general o particular", documentos: "Documentos e información", consulta: "Consulta" };
export var KINDS = { pqrsd: "PQRSD", hearing_question: "Pregunta para audiencia pública", survey_response: "Respuesta de encuesta" };
export var CHANNELS = {
  web: "Página web", email: "Correo electrónico", whatsapp: "WhatsApp", staff: "Ventanilla presencial",
  postal: "Correo postal", publicacion: "Publicación en la página de respuestas",
  carta: "Carta impresa", consulta: "Página de consulta del ciudadano", no_enviado: "No se envió"
};
export var LETTER_METHODS = { entrega_personal: "Entregada en persona", correo_postal: "Enviada por correo postal" };
export var GROUPS = {
  ciudadania: "Ciudadanía", nna: "Niños, niñas y adolescentes", organizaciones_sociales: "Organizaciones sociales",
  entidades_publicas: "Entidades públicas", organismos_control: "Organismos de control",
  medios: "Medios de comunicación", sector_privado: "Sector privado", academia: "Academia",
  servidores_publicos: "Servidores públicos"
};
export var ROLES = {
  agente: "Agente", coordinador: "Coordinación", gerente: "Gerencia", moderador: "Moderación",
  admin: "Administración"
};
export var DELIVERY = {
  pending: "En cola", sending: "Enviando", sent: "Enviado", delivered: "Entregado", read: "Leído",
  dead: "No se pudo entregar", failed: "No se pudo entregar",
  undeliverable: "Fuera de la ventana de WhatsApp", superseded: "Reemplazado"
};
export var MESSAGE_KINDS = {
  ack: "Acuse de recibo", respuesta: "Respuesta", reply: "Respuesta", traslado: "Aviso de traslado",
  completar: "Solicitud de completar", completada: "Aviso: solicitud completada", prorroga: "Aviso de prórroga",
  prompt: "Pregunta al ciudadano", status: "Aviso de estado", read: "Confirmación de lectura"
};
export var PERSON_TYPES = { natural: "Persona natural", juridica: "Persona jurídica", nna: "Niña, niño o adolescente", anonimo: "Anónimo" };
export var REQUESTER_FIELDS = [
  ["person_type", "Tipo de persona"], ["name", "Nombre"], ["id_type", "Tipo de documento"],
  ["id_number", "Número de documento"], ["email", "Correo electrónico"], ["phone", "Teléfono"],
  ["address", "Dirección"], ["municipality", "Municipio"], ["characterization", "Caracterización"],
  ["reply_channel", "Medio de respuesta"]
];
export var TIMELINE_ACTIONS = {
  radicado: "Se radicó la solicitud.", asignado: "Se asignó a una dependencia.",
  reclasificado: "Se corrigió la clasificación.", completar_solicitado: "Se pidió al ciudadano completar la solicitud.",
  completada: "La solicitud quedó completa.", prorrogado: "Se prorrogó el término de respuesta.",
  trasladado: "Se trasladó a la entidad competente.", nota: "Nota interna.", respondido: "Se respondió al ciudadano.",
  cerrado: "Se cerró la solicitud.", reabierto: "Se reabrió la solicitud.",
  desistido: "Se archivó por desistimiento tácito.",
  respuesta_entregada: "Se entregó al ciudadano la carta con la respuesta.",
  clasificacion_revisada: "Se revisaron las sugerencias del clasificador."
};
// The classifier's tasks (suggestions, the "classify" action, its events).
export var TASK_NAMES = { type: "tipo", petition_class: "clase de petición", group: "grupo de interés", dependencia: "dependencia" };
// The details of an audit event worth showing, with their Spanish names;
// the rest (ids, hashes, raw timestamps) stays out of the way.
export var DETAIL_KEYS = [
  ["dependencia", "Dependencia", "dep"], ["assignee", "Responsable"], ["text", "Texto"], ["note", "Nota"],
  ["reason", "Motivo"], ["entity", "Entidad"], ["entity_email", "Correo de la entidad"],
  ["deadline", "Plazo para completar", "date"], ["due_date", "Vence", "date"],
  ["previous_due_date", "Vencimiento anterior", "date"], ["from", "Antes", "change"], ["to", "Después", "change"],
  ["channel", "Medio", "channel"], ["notified_by", "Aviso por", "channel"], ["published", "Publicada en la página de respuestas", "true"],
  ["attachments", "Adjuntos", "count"], ["within_5_days", "Dentro de los 5 días hábiles", "bool"],
  ["requested", "Pedida por", "channel"], ["method", "Entrega", "method"],
  ["confidence", "Confianza", "pct"], ["reasons", "Por qué", "reasons"], ["set", "Clasificación", "labels"],
  ["accepted", "Aceptó la sugerencia de", "tasks"], ["corrected", "Corrigió la sugerencia de", "tasks"]
];

export function label(map, k, fallback) {
  if (k === null || k === undefined || k === "") return fallback === undefined ? "—" : fallback;
  return Object.prototype.hasOwnProperty.call(map, k) ? map[k] : String(k);
}

export function depName(code) {
  if (!code) return "Sin asignar";
  return state.depNames[code] || code;
}
