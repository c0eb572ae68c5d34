/* pages.c - HTML of the web channel (pages.h). Plain Spanish, one column,
 * no JavaScript needed except on /tablero; every label is tied to its input
 * and every error to its field (aria-describedby, aria-invalid). */
#include "channels/web/pages.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "domain/casework.h"
#include "core/calendar.h"
#include "core/text.h"

static void esc(struct vt_buf *b, const char *s)
{
    vt_html_escape(b, s ? s : "");
}

static void head(struct vt_buf *b, const struct vt_config *cfg, const char *title)
{
    vt_buf_puts(b, "<!doctype html>\n<html lang=\"es-CO\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>");
    esc(b, title);
    vt_buf_puts(b, " · ");
    esc(b, cfg->entity_name);
    vt_buf_puts(b, "</title><link rel=\"icon\" href=\"data:,\">"
                   "<link rel=\"stylesheet\" href=\"/static/style.css\"></head><body>"
                   "<a class=\"skip\" href=\"#contenido\">Ir al contenido</a><header><p>");
    esc(b, cfg->entity_name);
    vt_buf_puts(b, "</p><nav><a href=\"/\">Radicar una solicitud</a> · <a href=\"/consulta\">"
                   "Consultar una solicitud</a></nav></header><main id=\"contenido\">");
}

static void foot(struct vt_buf *b)
{
    vt_buf_puts(b, "</main></body></html>\n");
}

static const char *months[] = {"enero",      "febrero", "marzo",     "abril",
                               "mayo",       "junio",   "julio",     "agosto",
                               "septiembre", "octubre", "noviembre", "diciembre"};

/* "22 de noviembre de 2026" */
static void long_date(struct vt_buf *b, const char *ymd)
{
    vt_date_t d;
    if (!ymd || vt_date_parse(ymd, &d)) {
        vt_buf_puts(b, "sin término");
        return;
    }
    vt_buf_printf(b, "%d de %s de %d", d.day, months[d.month - 1], d.year);
}

/* "22 de noviembre de 2026, 3:05 p. m." (hora de Colombia) */
static void long_time(struct vt_buf *b, long long ms)
{
    char iso[32];
    vt_time_format_iso(ms, iso);
    char ymd[11];
    memcpy(ymd, iso, 10);
    ymd[10] = '\0';
    long_date(b, ymd);
    int h = (iso[11] - '0') * 10 + (iso[12] - '0');
    vt_buf_printf(b, ", %d:%.2s %s", h % 12 == 0 ? 12 : h % 12, iso + 14,
                  h < 12 ? "a. m." : "p. m.");
}

static const char *value_of(const struct vt_form *f, const char *name)
{
    const struct vt_form_field *v = f ? vt_form_get(f, name) : NULL;
    return v && !v->filename && vt_utf8_valid(v->value, v->value_len) ? v->value : "";
}

/* Attributes that tie an input to its help and error texts. */
static void aria(struct vt_buf *b, const char *name, const struct vt_intake_error *err,
                 const char *help_id)
{
    bool bad = err && strcmp(err->field, name) == 0;
    if (bad || help_id) {
        vt_buf_puts(b, " aria-describedby=\"");
        if (help_id)
            vt_buf_printf(b, "%s%s", help_id, bad ? " " : "");
        if (bad)
            vt_buf_printf(b, "error-%s", name);
        vt_buf_puts(b, "\"");
    }
    if (bad)
        vt_buf_puts(b, " aria-invalid=\"true\"");
}

static void field_error(struct vt_buf *b, const char *name, const struct vt_intake_error *err)
{
    if (err && strcmp(err->field, name) == 0) {
        vt_buf_printf(b, "<p class=\"error\" id=\"error-%s\">", name);
        esc(b, err->message);
        vt_buf_puts(b, "</p>");
    }
}

/* Opens a field: its label, its help text (id written to help_id) and its error. */
static void field_open(struct vt_buf *b, const char *name, const char *label, bool required,
                       const char *help, const struct vt_intake_error *err, char help_id[64])
{
    vt_buf_printf(b, "<div class=\"field\"><label for=\"%s\">", name);
    esc(b, label);
    vt_buf_printf(b, "%s</label>", required ? " <span class=\"req\">(obligatorio)</span>" : "");
    snprintf(help_id, 64, "ayuda-%s", name);
    if (help) {
        vt_buf_printf(b, "<p class=\"help\" id=\"%s\">", help_id);
        esc(b, help);
        vt_buf_puts(b, "</p>");
    }
    field_error(b, name, err);
}

static void text_input(struct vt_buf *b, const char *name, const char *label, const char *type,
                       const char *autocomplete, bool required, const char *help,
                       const struct vt_form *v, const struct vt_intake_error *err)
{
    char help_id[64];
    field_open(b, name, label, required, help, err, help_id);
    vt_buf_printf(b, "<input id=\"%s\" name=\"%s\" type=\"%s\" autocomplete=\"%s\"%s", name, name,
                  type, autocomplete, required ? " required" : "");
    aria(b, name, err, help ? help_id : NULL);
    vt_buf_puts(b, " value=\"");
    esc(b, value_of(v, name));
    vt_buf_puts(b, "\"></div>");
}

struct option {
    const char *value, *label;
};

static void select_input(struct vt_buf *b, const char *name, const char *label,
                         const struct option *opts, bool required, const char *help,
                         const struct vt_form *v, const struct vt_intake_error *err)
{
    char help_id[64];
    field_open(b, name, label, required, help, err, help_id);
    vt_buf_printf(b, "<select id=\"%s\" name=\"%s\"%s", name, name, required ? " required" : "");
    aria(b, name, err, help ? help_id : NULL);
    vt_buf_puts(b, ">");
    const char *cur = value_of(v, name);
    for (; opts->value; opts++) {
        vt_buf_puts(b, "<option value=\"");
        esc(b, opts->value);
        vt_buf_printf(b, "\"%s>", strcmp(cur, opts->value) == 0 ? " selected" : "");
        esc(b, opts->label);
        vt_buf_puts(b, "</option>");
    }
    vt_buf_puts(b, "</select></div>");
}

static const struct option types[] = {
    {"", "Elija una opción"},
    {"peticion", "Petición: pedir algo a la entidad (información, documentos, un trámite)"},
    {"queja", "Queja: inconformidad con la conducta de un servidor público"},
    {"reclamo", "Reclamo: inconformidad con un servicio o exigir un derecho"},
    {"sugerencia", "Sugerencia: una idea para mejorar"},
    {"denuncia", "Denuncia: informar una conducta irregular o corrupta"},
    {"felicitacion", "Felicitación: reconocer un buen servicio"},
    {NULL, NULL}};
static const struct option classes[] = {
    {"", "Interés general o particular (15 días hábiles)"},
    {"documentos", "Documentos o información (10 días hábiles)"},
    {"consulta", "Consulta: concepto sobre un tema de la entidad (30 días hábiles)"},
    {NULL, NULL}};
static const struct option persons[] = {{"", "Elija una opción"},
                                        {"natural", "Persona natural"},
                                        {"juridica", "Persona jurídica (empresa u organización)"},
                                        {"nna", "Niña, niño o adolescente"},
                                        {"anonimo", "Prefiero no identificarme (anónimo)"},
                                        {NULL, NULL}};
static const struct option id_types[] = {{"", "Sin documento"},
                                         {"CC", "Cédula de ciudadanía"},
                                         {"TI", "Tarjeta de identidad"},
                                         {"RC", "Registro civil"},
                                         {"CE", "Cédula de extranjería"},
                                         {"PA", "Pasaporte"},
                                         {"PPT", "Permiso por protección temporal"},
                                         {"PEP", "Permiso especial de permanencia"},
                                         {"NIT", "NIT"},
                                         {NULL, NULL}};
static const struct option replies[] = {{"", "Elija una opción"},
                                        {"email", "Correo electrónico"},
                                        {"whatsapp", "WhatsApp"},
                                        {"postal", "Correo postal a mi dirección"},
                                        {"web", "Consultaré en esta página con mi código"},
                                        {NULL, NULL}};
static const struct option ages[] = {{"", "Prefiero no responder"}, {"0-17", "0 a 17 años"},
                                     {"18-28", "18 a 28 años"},     {"29-59", "29 a 59 años"},
                                     {"60+", "60 años o más"},      {NULL, NULL}};
static const struct option genders[] = {
    {"", "Prefiero no responder"}, {"mujer", "Mujer"}, {"hombre", "Hombre"},
    {"no_binario", "No binario"},  {"otro", "Otro"},   {NULL, NULL}};
static const struct option ethnic[] = {{"", "Prefiero no responder"},
                                       {"ninguno", "Ninguno"},
                                       {"indigena", "Indígena"},
                                       {"afrocolombiano", "Afrocolombiano, negro"},
                                       {"raizal", "Raizal"},
                                       {"palenquero", "Palenquero"},
                                       {"rrom", "Rrom (gitano)"},
                                       {"otro", "Otro"},
                                       {NULL, NULL}};
static const struct option yesno[] = {
    {"", "Prefiero no responder"}, {"si", "Sí"}, {"no", "No"}, {NULL, NULL}};
static const struct option zones[] = {
    {"", "Prefiero no responder"}, {"urbana", "Urbana"}, {"rural", "Rural"}, {NULL, NULL}};

void vt_page_form(struct vt_buf *b, const struct vt_config *cfg, const struct vt_form *v,
                  const struct vt_intake_error *err, const cJSON *open_hearings)
{
    head(b, cfg, "Radicar una solicitud");
    vt_buf_puts(b, "<h1>Radicar una petición, queja, reclamo, sugerencia o denuncia</h1>"
                   "<p>Escriba su solicitud. Al enviarla le daremos un número de radicado, la "
                   "fecha límite de respuesta y un código para consultar cómo va.</p>");
    /* The hearing option: a hearing taking questions now has its own form. */
    const cJSON *h;
    cJSON_ArrayForEach(h, open_hearings)
    {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(h, "code");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(h, "name");
        if (!cJSON_IsString(code) || !cJSON_IsString(name))
            continue;
        vt_buf_puts(b, "<aside class=\"notice\"><p>La audiencia pública «");
        esc(b, name->valuestring);
        vt_buf_puts(b, "» está recibiendo preguntas. <a href=\"/audiencia/");
        esc(b, code->valuestring);
        vt_buf_puts(b, "\">Envíe aquí su pregunta para la audiencia</a>.</p></aside>");
    }
    if (err) {
        /* The link leads to the field in error; a field the form does not
         * have (a name the sender made up) gets no link. Either way the name
         * is the sender's text: escaped. */
        bool link = err->field[0] && !(err->code && strcmp(err->code, "unknown_field") == 0);
        vt_buf_puts(b, "<div class=\"alert\" role=\"alert\"><h2>Revise el formulario</h2><p>");
        if (link) {
            vt_buf_puts(b, "<a href=\"#");
            esc(b, err->field);
            vt_buf_puts(b, "\">");
        }
        esc(b, err->message);
        if (link)
            vt_buf_puts(b, "</a>");
        vt_buf_puts(b, "</p></div>");
    }
    vt_buf_puts(b, "<form method=\"post\" action=\"/\" enctype=\"multipart/form-data\">"
                   "<input type=\"hidden\" name=\"kind\" value=\"pqrsd\">"
                   "<fieldset><legend>Su solicitud</legend>");
    select_input(b, "type", "Tipo de solicitud", types, true, NULL, v, err);
    select_input(b, "petition_class", "Si es una petición, ¿de qué clase?", classes, false,
                 "Solo aplica a peticiones. El plazo de respuesta depende de la clase.", v, err);
    text_input(b, "subject", "Asunto", "text", "off", true, "En pocas palabras, ¿de qué se trata?",
               v, err);
    vt_buf_puts(b, "<div class=\"field\"><label for=\"body\">Descripción <span class=\"req\">"
                   "(obligatorio)</span></label><p class=\"help\" id=\"ayuda-body\">Cuente qué "
                   "pasó o qué necesita, cuándo y dónde.</p>");
    field_error(b, "body", err);
    vt_buf_puts(b, "<textarea id=\"body\" name=\"body\" rows=\"8\" required");
    aria(b, "body", err, "ayuda-body");
    vt_buf_puts(b, ">");
    esc(b, value_of(v, "body"));
    vt_buf_printf(b,
                  "</textarea></div><div class=\"field\"><label for=\"attachments\">Archivos "
                  "(opcional)</label><p class=\"help\" id=\"ayuda-attachments\">Hasta %d "
                  "archivos PDF, imágenes, documentos de texto, audio o video; máximo %lld MB "
                  "cada uno.</p>",
                  cfg->attachment_max_count, cfg->attachment_max_bytes / (1024 * 1024));
    field_error(b, "attachments", err);
    vt_buf_puts(b, "<input id=\"attachments\" name=\"attachments\" type=\"file\" multiple");
    aria(b, "attachments", err, "ayuda-attachments");
    vt_buf_puts(b, "></div></fieldset><fieldset><legend>Sus datos</legend>");
    select_input(b, "person_type", "¿Quién presenta la solicitud?", persons, true,
                 "Si elige anónimo no escriba su nombre ni documento; la respuesta se publicará en "
                 "esta página.",
                 v, err);
    text_input(b, "name", "Nombre completo o razón social", "text", "name", false, NULL, v, err);
    select_input(b, "id_type", "Tipo de documento", id_types, false, NULL, v, err);
    text_input(b, "id_number", "Número de documento", "text", "off", false, NULL, v, err);
    /* Reserve of identity: only staff.denuncia_identity_roles see the requester. */
    vt_buf_puts(b, "<div class=\"field check\">");
    field_error(b, "identity_reserved", err);
    vt_buf_printf(b,
                  "<input id=\"identity_reserved\" name=\"identity_reserved\" type=\"checkbox\" "
                  "value=\"si\" aria-describedby=\"ayuda-identity_reserved\"%s>",
                  *value_of(v, "identity_reserved") ? " checked" : "");
    vt_buf_puts(b, "<label for=\"identity_reserved\">Solicito que mi identidad sea reservada"
                   "</label><p class=\"help\" id=\"ayuda-identity_reserved\">Su nombre y sus "
                   "datos de contacto solo los verán las personas autorizadas para tramitar la "
                   "solicitud.</p></div>");
    text_input(b, "email", "Correo electrónico", "email", "email", false, NULL, v, err);
    text_input(b, "phone", "Celular o teléfono", "tel", "tel", false, NULL, v, err);
    text_input(b, "address", "Dirección", "text", "street-address", false, NULL, v, err);
    text_input(b, "municipality", "Municipio", "text", "address-level2", false, NULL, v, err);
    select_input(b, "reply_channel", "¿Cómo quiere recibir la respuesta?", replies, false,
                 "Si no elige, le responderemos al correo si lo escribió.", v, err);
    if (cfg->rules.n_groups) {
        vt_buf_puts(b, "<div class=\"field\"><label for=\"declared_group\">¿Pertenece a alguno de "
                       "estos grupos? (opcional)</label>");
        field_error(b, "declared_group", err);
        vt_buf_puts(b, "<select id=\"declared_group\" name=\"declared_group\"");
        aria(b, "declared_group", err, NULL);
        vt_buf_puts(b, "><option value=\"\">No sé / ninguno</option>");
        const char *cur = value_of(v, "declared_group");
        for (size_t i = 0; i < cfg->rules.n_groups; i++) {
            vt_buf_puts(b, "<option value=\"");
            esc(b, cfg->rules.groups[i].id);
            vt_buf_printf(b, "\"%s>", strcmp(cur, cfg->rules.groups[i].id) == 0 ? " selected" : "");
            esc(b, cfg->rules.groups[i].name);
            vt_buf_puts(b, "</option>");
        }
        vt_buf_puts(b, "</select></div>");
    }
    vt_buf_puts(b, "</fieldset><fieldset><legend>Preguntas opcionales para conocerle mejor"
                   "</legend><p class=\"help\">Puede dejarlas sin responder. Nos ayudan a "
                   "atender mejor a cada grupo de la población.</p>");
    select_input(b, "age_range", "Edad", ages, false, NULL, v, err);
    select_input(b, "gender", "Sexo o género", genders, false, NULL, v, err);
    select_input(b, "ethnic_group", "Grupo étnico", ethnic, false, NULL, v, err);
    select_input(b, "disability", "¿Tiene alguna discapacidad?", yesno, false, NULL, v, err);
    select_input(b, "conflict_victim", "¿Es víctima del conflicto armado?", yesno, false, NULL, v,
                 err);
    select_input(b, "migrant", "¿Es migrante?", yesno, false, NULL, v, err);
    select_input(b, "zone", "Zona donde vive", zones, false, NULL, v, err);
    vt_buf_puts(b, "</fieldset><fieldset><legend>Tratamiento de sus datos personales</legend>"
                   "<p id=\"aviso-datos\" class=\"notice\">");
    esc(b, cfg->entity_name);
    vt_buf_puts(b,
                " es responsable de los datos que usted escribe aquí. Los usamos solo para "
                "tramitar y responder su solicitud y para estadísticas sin nombres, como manda la "
                "Ley 1581 de 2012 (habeas data). Las preguntas sobre edad, género, grupo étnico, "
                "discapacidad, víctimas y migración son opcionales. Usted puede conocer, "
                "actualizar, corregir o pedir que se borren sus datos escribiéndonos por este "
                "mismo medio. Si denuncia un hecho de corrupción, su identidad solo la verán "
                "quienes deben tramitarla.</p><div class=\"field check\">");
    field_error(b, "data_consent", err);
    vt_buf_printf(b,
                  "<input id=\"data_consent\" name=\"data_consent\" type=\"checkbox\" "
                  "value=\"si\" aria-describedby=\"aviso-datos\"%s>",
                  *value_of(v, "data_consent") ? " checked" : "");
    vt_buf_puts(b, "<label for=\"data_consent\">Leí el aviso y autorizo el tratamiento de mis "
                   "datos</label></div></fieldset><button type=\"submit\">Enviar solicitud"
                   "</button></form>");
    foot(b);
}

void vt_page_ack(struct vt_buf *b, const struct vt_config *cfg, const struct vt_item *it)
{
    head(b, cfg, "Solicitud radicada");
    vt_buf_puts(b, "<h1>Recibimos su solicitud</h1><div class=\"ack\" role=\"status\"><dl>"
                   "<dt>Número de radicado</dt><dd class=\"big\" id=\"radicado\">");
    esc(b, it->radicado);
    vt_buf_puts(b, "</dd><dt>Recibida el</dt><dd id=\"recibida\">");
    long_time(b, it->received_at);
    vt_buf_puts(b, " (hora de Colombia)</dd><dt>Tipo</dt><dd>");
    esc(b, vt_item_label(it->type));
    vt_buf_puts(b, "</dd><dt>Fecha límite de respuesta</dt><dd id=\"vence\">");
    if (it->due_date[0]) {
        long_date(b, it->due_date);
        vt_buf_printf(b, " (%d días hábiles)", it->term_days);
    } else {
        vt_buf_puts(b, "Las felicitaciones no tienen plazo de respuesta");
    }
    vt_buf_puts(b, "</dd><dt>Código de consulta</dt><dd class=\"big\" id=\"codigo\">");
    esc(b, it->tracking_code);
    vt_buf_puts(b, "</dd></dl></div><p><strong>Guarde el número de radicado y el código de "
                   "consulta.</strong> Con ellos puede ver cómo va su solicitud en <a "
                   "href=\"/consulta\">Consultar una solicitud</a>. Por seguridad no volveremos a "
                   "mostrar el código.</p><p>Asunto: ");
    esc(b, it->subject);
    vt_buf_puts(b, "</p>");
    foot(b);
}

void vt_page_status(struct vt_buf *b, const struct vt_config *cfg, const struct vt_track *t,
                    const char *radicado, const char *alert)
{
    head(b, cfg, "Consultar una solicitud");
    vt_buf_puts(b, "<h1>Consultar una solicitud</h1>");
    if (t) {
        vt_buf_puts(b, "<div class=\"ack\" role=\"status\"><dl><dt>Radicado</dt><dd>");
        esc(b, t->radicado);
        vt_buf_puts(b, "</dd><dt>Tipo</dt><dd>");
        esc(b, vt_item_label(t->type[0] ? t->type : t->kind));
        vt_buf_puts(b, "</dd><dt>Estado</dt><dd>");
        esc(b, vt_item_label(t->status));
        vt_buf_puts(b, "</dd><dt>Recibida el</dt><dd>");
        long_time(b, t->received_at);
        vt_buf_puts(b, "</dd><dt>Fecha límite de respuesta</dt><dd>");
        long_date(b, t->due_date[0] ? t->due_date : NULL);
        vt_buf_puts(b, "</dd></dl></div><h2>Historial</h2><ol>");
        for (size_t i = 0; i < t->n_events; i++) {
            vt_buf_puts(b, "<li>");
            long_time(b, t->events[i].at);
            vt_buf_puts(b, ": ");
            esc(b, vt_api_action_description(t->events[i].action));
            vt_buf_puts(b, "</li>");
        }
        vt_buf_puts(b, "</ol>");
        if (t->answer) {
            vt_buf_puts(b, "<h2>Respuesta</h2><p>Del ");
            long_time(b, t->answered_at);
            vt_buf_puts(b, ":</p><div class=\"answer\">");
            esc(b, t->answer);
            vt_buf_puts(b, "</div>");
        }
        vt_buf_puts(b, "<p><a href=\"/consulta\">Consultar otra solicitud</a></p>");
        foot(b);
        return;
    }
    if (alert) {
        vt_buf_puts(b, "<div class=\"alert\" role=\"alert\"><p>");
        esc(b, alert);
        vt_buf_puts(b, "</p></div>");
    }
    /* POST: the code never goes into a URL. The radicado typed is kept after
     * an error; the code never is. */
    vt_buf_puts(b, "<form method=\"post\" action=\"/consulta\"><div class=\"field\"><label "
                   "for=\"radicado\">Número de radicado</label><input id=\"radicado\" "
                   "name=\"radicado\" type=\"text\" autocomplete=\"off\" required value=\"");
    esc(b, radicado);
    vt_buf_puts(b, "\"></div><div class=\"field\"><label for=\"codigo\">Código de consulta"
                   "</label><input id=\"codigo\" name=\"codigo\" type=\"text\" "
                   "autocomplete=\"off\" required></div><button type=\"submit\">Consultar"
                   "</button></form>");
    foot(b);
}

/* One chart of the managers' dashboard: its canvas and, after it, a table of
 * the same data that screen readers always reach (shown to everyone with the
 * "Mostrar las tablas" button, or when the chart library is missing).
 * tablero.js fills both. Every argument is a literal: nothing to escape. */
static void chart_card(struct vt_buf *b, const char *id, const char *title, const char *kind,
                       const char *const *cols)
{
    vt_buf_printf(b,
                  "<section class=\"chart-card\" aria-labelledby=\"h-%s\"><h3 id=\"h-%s\">%s</h3>"
                  "<div class=\"chart-box\"><canvas id=\"c-%s\" role=\"img\" aria-label=\"%s: "
                  "%s. Los datos están en la tabla que sigue.\"></canvas></div><div "
                  "class=\"data-table\"><table id=\"t-%s\"><caption>%s</caption><thead><tr>",
                  id, id, title, id, kind, title, id, title);
    for (; *cols; cols++)
        vt_buf_printf(b, "<th scope=\"col\">%s</th>", *cols);
    vt_buf_puts(b, "</tr></thead><tbody></tbody></table></div></section>");
}

/* The managers' dashboard (a gerente's session): charts fed by the live
 * feed's "dashboard" topic. */
static void tablero_gerencia(struct vt_buf *b, const struct vt_config *cfg, bool charts)
{
    static const char *const count_cols[][3] = {{"Canal", "Solicitudes", NULL},
                                                {"Tipo", "Solicitudes", NULL},
                                                {"Grupo de interés", "Solicitudes", NULL},
                                                {"Dependencia", "Solicitudes", NULL},
                                                {"Situación", "Solicitudes", NULL},
                                                {"Preguntas", "Cantidad", NULL}};
    static const char *const sat_month_cols[] = {"Mes", "Respuestas", "CSAT", "NPS", NULL};
    static const char *const sat_group_cols[] = {"Grupo de interés", "Respuestas", "CSAT", "NPS",
                                                 NULL};
    vt_buf_printf(b,
                  "<h1>Tablero de gerencia</h1><p id=\"estado\" role=\"status\">Conectando…</p>"
                  "<noscript><p>Este tablero necesita JavaScript para recibir las cifras.</p>"
                  "</noscript><div id=\"tablero\" data-view=\"gerencia\" "
                  "class=\"tablero-gerencia hide-tables%s\"><p class=\"tablero-tools\"><button "
                  "type=\"button\" id=\"toggle-tables\" aria-pressed=\"false\">Mostrar las "
                  "tablas de datos</button> <span id=\"generated\"></span></p>",
                  charts ? "" : " no-charts");
    vt_buf_puts(b,
                "<section aria-labelledby=\"h-volumen\"><h2 id=\"h-volumen\">Volumen de "
                "PQRSD</h2><dl class=\"kpis\"><div><dt>PQRSD recibidas</dt><dd id=\"vol-total\">–"
                "</dd></div></dl><div class=\"grid charts\">");
    chart_card(b, "vol-canal", "PQRSD por canal", "Gráfico de barras", count_cols[0]);
    chart_card(b, "vol-tipo", "PQRSD por tipo", "Gráfico de barras", count_cols[1]);
    chart_card(b, "vol-grupo", "PQRSD por grupo de interés", "Gráfico de barras", count_cols[2]);
    chart_card(b, "vol-dependencia", "PQRSD por dependencia", "Gráfico de barras", count_cols[3]);
    vt_buf_printf(
        b,
        "</div></section><section aria-labelledby=\"h-terminos\"><h2 id=\"h-terminos\">"
        "Cumplimiento de términos legales</h2><dl class=\"kpis\"><div><dt>Respondidas a "
        "tiempo (cumplimiento)</dt><dd id=\"comp-pct\">–</dd></div><div><dt>Tiempo promedio de "
        "respuesta</dt><dd "
        "id=\"comp-avg\">–</dd></div><div><dt>Vencidas hoy</dt><dd "
        "id=\"comp-overdue\">–</dd></div><div><dt>Por "
        "vencer</dt><dd id=\"comp-soon\">–</dd></div></dl><p class=\"help\">A tiempo o tarde: "
        "según la fecha de la primera respuesta frente al vencimiento vigente. Tiempo de "
        "respuesta en días hábiles desde la radicación. Vencidas hoy: en trámite con el "
        "término ya vencido. Por vencer: en trámite, vencen en los próximos %d días "
        "hábiles.</p>",
        cfg->due_soon_days);
    chart_card(b, "terminos", "Respuestas y vencimientos", "Gráfico de barras", count_cols[4]);
    vt_buf_puts(
        b,
        "</section><section aria-labelledby=\"h-satisfaccion\"><h2 "
        "id=\"h-satisfaccion\">Satisfacción</h2><dl class=\"kpis\"><div><dt>CSAT, 12 "
        "meses</dt><dd id=\"sat-csat\">–</dd></div><div><dt>NPS, 12 meses</dt><dd id=\"sat-nps\">–"
        "</dd></div><div><dt>Respuestas de encuestas</dt><dd "
        "id=\"sat-answers\">–</dd></div></dl><p "
        "class=\"help\">CSAT: porcentaje de calificaciones 4 y 5 de 5. NPS: porcentaje "
        "de promotores (9 y 10) menos porcentaje de detractores, de -100 a 100.</p><div "
        "class=\"grid charts\">");
    chart_card(b, "sat-mes", "Satisfacción por mes", "Gráfico de líneas", sat_month_cols);
    chart_card(b, "sat-grupo", "Satisfacción por grupo de interés", "Gráfico de barras",
               sat_group_cols);
    vt_buf_puts(b, "</div></section><section aria-labelledby=\"h-audiencias\"><h2 "
                   "id=\"h-audiencias\">Audiencias públicas</h2>");
    chart_card(b, "audiencias", "Preguntas para audiencias públicas", "Gráfico de barras",
               count_cols[5]);
    vt_buf_puts(b, "</section></div>");
    if (charts)
        vt_buf_puts(b, "<script src=\"/static/vendor/chart.js\"></script>");
    vt_buf_puts(b, "<script src=\"/static/tablero.js\"></script>");
}

void vt_page_tablero(struct vt_buf *b, const struct vt_config *cfg, bool manager, bool charts)
{
    if (manager) {
        head(b, cfg, "Tablero de gerencia");
        tablero_gerencia(b, cfg, charts);
        foot(b);
        return;
    }
    head(b, cfg, "Tablero en vivo");
    vt_buf_puts(b, "<h1>Tablero de operación en vivo</h1><p id=\"estado\" role=\"status\">"
                   "Conectando…</p><noscript><p>Este tablero necesita JavaScript para "
                   "actualizarse.</p></noscript><p class=\"notice\">¿Es gerente de la entidad? <a "
                   "href=\"/staff\">Entre con su usuario</a> y vuelva a esta página para ver el "
                   "tablero de gerencia: volumen, cumplimiento de términos y satisfacción.</p>"
                   "<section aria-labelledby=\"h-totales\"><h2 "
                   "id=\"h-totales\">Totales</h2><dl class=\"totals\"><dt>Solicitudes</dt><dd "
                   "id=\"total\">–</dd><dt>Vencidas</dt><dd id=\"overdue\">–</dd><dt>Por vencer"
                   "</dt><dd id=\"due_soon\">–</dd></dl></section><div class=\"grid\">"
                   "<section><h2>Por canal</h2><table id=\"by_channel\"><thead><tr><th>Canal</th>"
                   "<th>Cantidad</th></tr></thead><tbody></tbody></table></section><section><h2>"
                   "Por tipo</h2><table id=\"by_type\"><thead><tr><th>Tipo</th><th>Cantidad</th>"
                   "</tr></thead><tbody></tbody></table></section><section><h2>Por grupo de "
                   "interés</h2><table id=\"by_group\"><thead><tr><th>Grupo</th><th>Cantidad</th>"
                   "</tr></thead><tbody></tbody></table></section><section><h2>Por estado</h2>"
                   "<table id=\"by_status\"><thead><tr><th>Estado</th><th>Cantidad</th></tr>"
                   "</thead><tbody></tbody></table></section></div><section><h2>Últimas "
                   "radicaciones</h2><table id=\"recent\"><thead><tr><th>Radicado</th><th>Tipo"
                   "</th><th>Canal</th><th>Grupo</th><th>Vence</th></tr></thead><tbody aria-live="
                   "\"polite\"></tbody></table></section><script src=\"/static/tablero.js\">"
                   "</script>");
    foot(b);
}

void vt_page_published(struct vt_buf *b, const struct vt_config *cfg, const struct vt_published *p,
                       size_t n)
{
    head(b, cfg, "Respuestas publicadas");
    vt_buf_puts(b, "<h1>Respuestas publicadas</h1><p>Cuando una solicitud llega sin datos para "
                   "responderle a quien la presentó (por ejemplo, una denuncia anónima), la "
                   "respuesta se publica aquí durante 30 días (artículo 69 de la Ley 1437 de "
                   "2011).</p>");
    if (!n)
        vt_buf_puts(b, "<p>No hay respuestas publicadas en este momento.</p>");
    for (size_t i = 0; i < n; i++) {
        vt_buf_puts(b, "<section><h2>Radicado ");
        esc(b, p[i].radicado);
        vt_buf_puts(b, "</h2><p>Publicada el ");
        long_time(b, p[i].at);
        vt_buf_puts(b, "</p><div class=\"answer\">");
        esc(b, p[i].text);
        vt_buf_puts(b, "</div></section>");
    }
    foot(b);
}

/* True when the form has value among name's values. */
static bool form_has(const struct vt_form *f, const char *name, const char *value)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (strcmp(f->fields[i].name, name) == 0 && strcmp(f->fields[i].value, value) == 0)
            return true;
    return false;
}

/* One radio or checkbox with its label, the input first: the stylesheet
 * puts it beside its text (.choice), never above it. */
static void choice(struct vt_buf *b, const char *type, const char *name, const char *value,
                   const char *label, bool checked, bool invalid)
{
    vt_buf_printf(b, "<label class=\"choice\"><input type=\"%s\" name=\"%s\" value=\"", type, name);
    esc(b, value);
    vt_buf_puts(b, "\"");
    if (checked)
        vt_buf_puts(b, " checked");
    if (invalid)
        vt_buf_printf(b, " aria-invalid=\"true\" aria-describedby=\"%s-error\"", name);
    vt_buf_puts(b, "><span>");
    esc(b, label);
    vt_buf_puts(b, "</span></label>");
}

/* What the ends of a scale mean, said with their numbers so that they still
 * read right when a narrow screen wraps the row. */
static const char *const scale_ends[][2] = {{"1 = Muy insatisfecho", "5 = Muy satisfecho"},
                                            {"0 = Nada probable", "10 = Muy probable"}};

void vt_page_survey(struct vt_buf *b, const struct vt_config *cfg, const cJSON *def,
                    const char *action, const struct vt_form *values, const char *error_field,
                    const char *error)
{
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(def, "title");
    const cJSON *intro = cJSON_GetObjectItemCaseSensitive(def, "intro");
    head(b, cfg, cJSON_IsString(title) ? title->valuestring : "Encuesta");
    vt_buf_puts(b, "<h1>");
    esc(b, cJSON_IsString(title) ? title->valuestring : "Encuesta");
    vt_buf_puts(b, "</h1>");
    if (cJSON_IsString(intro) && *intro->valuestring) {
        vt_buf_puts(b, "<p>");
        esc(b, intro->valuestring);
        vt_buf_puts(b, "</p>");
    }
    if (error) {
        vt_buf_puts(b, "<div class=\"alert\" role=\"alert\"><p>Revise la respuesta marcada: ");
        esc(b, error);
        vt_buf_puts(b, "</p></div>");
    }
    vt_buf_puts(b, "<form method=\"post\" action=\"");
    esc(b, action);
    vt_buf_puts(b, "\" novalidate>");
    const cJSON *q;
    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(def, "questions"))
    {
        const char *id = cJSON_GetObjectItemCaseSensitive(q, "id")->valuestring;
        const char *type = cJSON_GetObjectItemCaseSensitive(q, "type")->valuestring;
        const char *text = cJSON_GetObjectItemCaseSensitive(q, "text")->valuestring;
        bool required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "required"));
        char name[40];
        snprintf(name, sizeof(name), "q_%s", id);
        bool invalid = error_field && strcmp(error_field, name) == 0;
        if (strcmp(type, "text") == 0) {
            vt_buf_printf(b, "<div class=\"field\"><label for=\"%s\">", name);
            esc(b, text);
            vt_buf_puts(b, required ? " <span class=\"req\">(obligatoria)</span>" : " (opcional)");
            vt_buf_printf(b,
                          "</label><textarea id=\"%s\" name=\"%s\" rows=\"4\" maxlength=\"2000\"",
                          name, name);
            if (invalid)
                vt_buf_printf(b, " aria-invalid=\"true\" aria-describedby=\"%s-error\"", name);
            vt_buf_puts(b, ">");
            for (size_t i = 0; values && i < values->n; i++)
                if (strcmp(values->fields[i].name, name) == 0) {
                    esc(b, values->fields[i].value);
                    break;
                }
            vt_buf_puts(b, "</textarea>");
        } else {
            bool rating = strcmp(type, "rating") == 0, nps = strcmp(type, "nps") == 0;
            /* A rating or NPS scale is one row of options (wrapped on a
             * phone) with the meaning of its ends below it. */
            vt_buf_printf(b, "<fieldset class=\"field%s\" id=\"%s\"",
                          rating ? " scale scale-rating"
                          : nps  ? " scale scale-nps"
                                 : "",
                          name);
            if (rating || nps)
                vt_buf_printf(b, " aria-describedby=\"%s-ends\"", name);
            vt_buf_puts(b, "><legend>");
            esc(b, text);
            vt_buf_puts(b, required ? " <span class=\"req\">(obligatoria)</span>" : " (opcional)");
            vt_buf_puts(b, "</legend><div class=\"choices\">");
            if (rating || nps) {
                int lo = rating ? 1 : 0, hi = rating ? 5 : 10;
                for (int v = lo; v <= hi; v++) {
                    char val[16];
                    snprintf(val, sizeof(val), "%d", v);
                    choice(b, "radio", name, val, val, form_has(values, name, val), invalid);
                }
            } else if (strcmp(type, "yes_no") == 0) {
                choice(b, "radio", name, "si", "Sí", form_has(values, name, "si"), invalid);
                choice(b, "radio", name, "no", "No", form_has(values, name, "no"), invalid);
            } else {
                const cJSON *o;
                int k = 0;
                cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(q, "options"))
                {
                    char val[16];
                    snprintf(val, sizeof(val), "%d", k++);
                    choice(b, strcmp(type, "multiple") == 0 ? "checkbox" : "radio", name, val,
                           o->valuestring, form_has(values, name, val), invalid);
                }
            }
            vt_buf_puts(b, "</div>");
            if (rating || nps)
                vt_buf_printf(b,
                              "<p class=\"scale-ends\" id=\"%s-ends\"><span>%s</span>"
                              "<span>%s</span></p>",
                              name, scale_ends[nps][0], scale_ends[nps][1]);
        }
        if (invalid) {
            vt_buf_printf(b, "<p class=\"error\" id=\"%s-error\">", name);
            esc(b, error);
            vt_buf_puts(b, "</p>");
        }
        vt_buf_puts(b, strcmp(type, "text") == 0 ? "</div>" : "</fieldset>");
    }
    vt_buf_puts(b, "<p><button type=\"submit\">Enviar respuestas</button></p></form>");
    foot(b);
}

void vt_page_survey_done(struct vt_buf *b, const struct vt_config *cfg, const char *title,
                         const char *text)
{
    head(b, cfg, title);
    vt_buf_puts(b, "<h1>");
    esc(b, title);
    vt_buf_puts(b, "</h1><p>");
    esc(b, text);
    vt_buf_puts(b, "</p><p><a href=\"/\">Ir al inicio</a></p>");
    foot(b);
}
