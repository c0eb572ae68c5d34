/* hearing.c - the web channel's hearing pages: /audiencia/{code}, where a
 * citizen asks a question while the hearing's question window is open (a
 * plain HTML form: it works without JavaScript), and
 * /audiencia/{code}/pantalla, the wall shown on the room's screen, kept up to
 * date by /static/wall.js over /live (topic wall:{code}), and after the event
 * /audiencia/{code}/respuestas (the printable answers report: every question
 * moderation let through, once, with its answer; those still in review and
 * those not admitted only counted; the counts by channel and group, the
 * commitments and the evaluation survey) with its CSV at
 * /audiencia/{code}/respuestas.csv.
 *
 * Owns: the request handling and the HTML of those pages. The rules (the
 * window, the moderation, what the wall and the report may show) are
 * src/domain/hearing.c's.
 */
#include "channels/web/hearing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/buf.h"
#include "core/calendar.h"
#include "core/clock.h"
#include "core/error.h"
#include "domain/hearing.h"
#include "core/log.h"
#include "api/app.h"
#include "http/reply.h"
#include "domain/survey.h"
#include "core/text.h"
#include "core/csv.h"

#define TEXT_MAX 2000
#define NAME_MAX_BYTES 200

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
    vt_buf_puts(b, "</p></header><main id=\"contenido\">");
}

static void html(struct vt_http_request *req, int status, struct vt_buf *b)
{
    vt_buf_puts(b, "</main></body></html>\n");
    vt_http_respond(req, status, "text/html; charset=utf-8", b->data ? b->data : "", b->len);
    vt_buf_cleanup(b);
}

static void message(struct vt_http_request *req, int status, const char *title, const char *text)
{
    struct vt_buf b = {0};
    head(&b, vt_app_config(req->app), title);
    vt_buf_puts(&b, "<h1>");
    esc(&b, title);
    vt_buf_puts(&b, "</h1><p role=\"status\">");
    esc(&b, text);
    vt_buf_puts(&b, "</p>");
    html(req, status, &b);
}

static const char CLOSED[] = "La recepción de preguntas para esta audiencia no está abierta. "
                             "Puede radicar una petición en nuestra página.";

static void form_page(struct vt_http_request *req, int status, const struct vt_hearing *h,
                      const struct vt_form *v, const char *field, const char *why)
{
    const struct vt_config *cfg = vt_app_config(req->app);
    const struct vt_form_field *text = v ? vt_form_get(v, "text") : NULL;
    const struct vt_form_field *name = v ? vt_form_get(v, "name") : NULL;
    const struct vt_form_field *show = v ? vt_form_get(v, "show_name") : NULL;
    struct vt_buf b = {0};
    head(&b, cfg, "Pregunta para la audiencia pública");
    vt_buf_puts(&b, "<h1>Pregunta para la audiencia pública</h1><p>");
    esc(&b, h->name);
    char date[16];
    vt_date_format_es(h->date, date);
    vt_buf_puts(&b, " · ");
    esc(&b, date);
    if (h->place[0]) {
        vt_buf_puts(&b, " · ");
        esc(&b, h->place);
    }
    vt_buf_puts(&b, "</p>");
    if (field) {
        vt_buf_puts(&b, "<p class=\"error\" role=\"alert\" id=\"error-");
        esc(&b, field);
        vt_buf_puts(&b, "\">");
        esc(&b, why);
        vt_buf_puts(&b, "</p>");
    }
    vt_buf_puts(&b, "<form method=\"post\" action=\"/audiencia/");
    esc(&b, h->code);
    vt_buf_puts(&b, "\"><div class=\"field\"><label for=\"text\">Su pregunta (obligatoria)"
                    "</label><textarea id=\"text\" name=\"text\" required maxlength=\"2000\" "
                    "rows=\"6\">");
    esc(&b, text ? text->value : "");
    vt_buf_puts(&b, "</textarea></div><div class=\"field\"><label for=\"name\">Su nombre "
                    "(opcional)</label><input id=\"name\" name=\"name\" maxlength=\"200\" "
                    "autocomplete=\"name\" value=\"");
    esc(&b, name ? name->value : "");
    vt_buf_printf(&b,
                  "\"></div><div class=\"field check\"><input id=\"show_name\" name=\"show_name\" "
                  "type=\"checkbox\" value=\"si\"%s><label for=\"show_name\">Mostrar mi nombre "
                  "en la pantalla</label></div>",
                  show ? " checked" : "");
    vt_buf_puts(&b, "<p id=\"aviso-datos\" class=\"notice\">");
    esc(&b, cfg->entity_name);
    vt_buf_puts(&b, " es responsable de los datos que usted escribe aquí. Los usamos solo para "
                    "responder su pregunta en la audiencia o por escrito, como manda la Ley 1581 "
                    "de 2012 (habeas data). Su nombre es opcional y solo aparece en la pantalla "
                    "de la audiencia si usted lo autoriza. Usted puede conocer, actualizar, "
                    "corregir o pedir que se borren sus datos escribiéndonos.</p>"
                    "<button type=\"submit\">Enviar pregunta</button></form>");
    html(req, status, &b);
}

struct ask_job {
    struct vt_hearing_question q;
    char code[64];
    char *text, *name;
};

static void ask_done(struct vt_http_request *req, void *ctx, int result)
{
    struct ask_job *j = ctx;
    if (!req->orphan) {
        if (result) {
            vt_log(VT_LOG_ERROR, "hearing_question_failed", "error=\"%s\"", vt_strerror(result));
            vt_http_header(req, "Retry-After", "5");
            message(req, 503, "No pudimos guardar su pregunta",
                    "Intente de nuevo en un momento; no se guardó nada.");
        } else if (j->q.outcome == VT_ENOTFOUND) {
            message(req, 404, "Audiencia no encontrada", "No encontramos esta audiencia.");
        } else if (j->q.outcome == VT_ERANGE) {
            message(req, 422, "Preguntas cerradas", CLOSED);
        } else {
            const struct vt_item *it = j->q.item;
            struct vt_buf b = {0};
            head(&b, vt_app_config(req->app), "Pregunta radicada");
            vt_buf_puts(&b, "<h1>Recibimos su pregunta</h1><div class=\"ack\" role=\"status\">"
                            "<dl><dt>Número de radicado</dt><dd class=\"big\" id=\"radicado\">");
            esc(&b, it->radicado);
            char at[32];
            vt_time_format_es(it->received_at, at);
            vt_buf_puts(&b, "</dd><dt>Recibida el</dt><dd id=\"recibida\">");
            esc(&b, at);
            vt_buf_puts(&b, " (hora de Colombia)</dd><dt>Fecha límite de respuesta</dt>"
                            "<dd id=\"vence\">");
            char due[16];
            vt_date_format_es(it->due_date, due);
            esc(&b, due);
            vt_buf_printf(&b, " (%d días hábiles)", it->term_days);
            vt_buf_puts(&b, "</dd><dt>Código de consulta</dt><dd class=\"big\" id=\"codigo\">");
            esc(&b, it->tracking_code);
            vt_buf_puts(&b, "</dd></dl></div><p>Si no se responde en la audiencia, le "
                            "responderemos por escrito. Con el radicado y el código puede ver "
                            "cómo va en <a href=\"/consulta\">Consultar una solicitud</a>.</p>");
            html(req, 201, &b);
        }
    }
    vt_item_free(j->q.item);
    free(j->text);
    free(j->name);
    free(j);
}

static bool open_now(const struct vt_hearing *h)
{
    int64_t now = vt_clock_now_ms();
    return now >= h->open_at && now < h->close_at;
}

static void ask(struct vt_http_request *req, const struct vt_hearing *h)
{
    if (!req->post) {
        if (!open_now(h))
            message(req, 422, "Preguntas cerradas", CLOSED);
        else
            form_page(req, 200, h, NULL, NULL, NULL);
        return;
    }
    struct vt_form form = {0};
    struct vt_intake_error e = {0};
    if (vt_api_parse_form(req, &form, &e)) {
        message(req, e.status, "No pudimos leer su pregunta", e.message);
        return;
    }
    const struct vt_form_field *text = vt_form_get(&form, "text");
    const struct vt_form_field *name = vt_form_get(&form, "name");
    const char *field = NULL, *why = NULL;
    if (!text || !text->value_len || strspn(text->value, " \t\r\n") == text->value_len) {
        field = "text";
        why = "Escriba su pregunta.";
    } else if (text->value_len > TEXT_MAX || strlen(text->value) != text->value_len ||
               !vt_utf8_valid(text->value, text->value_len)) {
        field = "text";
        why = "La pregunta es demasiado larga o tiene caracteres no válidos (máximo 2000).";
    } else if (name &&
               (name->value_len > NAME_MAX_BYTES || strlen(name->value) != name->value_len ||
                !vt_utf8_valid(name->value, name->value_len))) {
        field = "name";
        why = "El nombre es demasiado largo o tiene caracteres no válidos.";
    }
    if (field) {
        form_page(req, 422, h, &form, field, why);
        vt_form_cleanup(&form);
        return;
    }
    struct ask_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->text = strdup(text->value)) || !(j->name = strdup(name ? name->value : ""))) {
        if (j)
            free(j->text);
        free(j);
        vt_form_cleanup(&form);
        message(req, 503, "Servicio no disponible", "Intente de nuevo en un momento.");
        return;
    }
    bool show = vt_form_get(&form, "show_name") != NULL;
    vt_form_cleanup(&form);
    snprintf(j->code, sizeof(j->code), "%s", h->code);
    j->q = (struct vt_hearing_question){
        .cfg = vt_app_config(req->app),
        .code = j->code,
        .text = j->text,
        .name = j->name,
        .source = "web",
        .channel = "web",
        .show_name = show,
    };
    if (vt_app_run(req, vt_hearing_question_run, j, ask_done) != 0) {
        free(j->text);
        free(j->name);
        free(j);
    }
}

/* The room's wall: the questions come from /live (wall.js); without
 * JavaScript the page shows what is approved now. */
static void wall(struct vt_http_request *req, const struct vt_hearing *h)
{
    struct vt_buf b = {0};
    head(&b, vt_app_config(req->app), h->name);
    vt_buf_puts(&b, "<h1>");
    esc(&b, h->name);
    vt_buf_puts(&b, "</h1><section id=\"muro\" data-hearing=\"");
    esc(&b, h->code);
    vt_buf_puts(&b, "\" aria-live=\"polite\"><p id=\"estado\">Conectando…</p><ol id=\"preguntas\">"
                    "</ol></section><script src=\"/static/wall.js\"></script>");
    html(req, 200, &b);
}

/* ---- after the event: the answers report (public, for publication) ---- */

static const char *status_label(const cJSON *q)
{
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "answer_kind"));
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "status"));
    if (kind && strcmp(kind, "escrita") == 0)
        return "Respondida por escrito";
    if (kind)
        return "Respondida en la audiencia";
    if (s && strcmp(s, "fusionada") == 0)
        return "Unida a otra pregunta";
    return "Pendiente de respuesta escrita";
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

static int num(const cJSON *o, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valueint : 0;
}

static void counts_table(struct vt_buf *b, const char *caption, const char *head1, const cJSON *o)
{
    vt_buf_puts(b, "<table class=\"counts\"><caption>");
    esc(b, caption);
    vt_buf_puts(b, "</caption><thead><tr><th scope=\"col\">");
    esc(b, head1);
    vt_buf_puts(b, "</th><th scope=\"col\">Preguntas</th></tr></thead><tbody>");
    const cJSON *n;
    cJSON_ArrayForEach(n, o)
    {
        vt_buf_puts(b, "<tr><th scope=\"row\">");
        esc(b, n->string);
        vt_buf_printf(b, "</th><td>%d</td></tr>", n->valueint);
    }
    vt_buf_puts(b, "</tbody></table>");
}

static void question_html(struct vt_buf *b, const cJSON *q, bool merged)
{
    vt_buf_printf(b, "<article class=\"answer%s\" id=\"q-", merged ? " merged" : "");
    esc(b, str(q, "radicado"));
    vt_buf_puts(b, "\"><h3>");
    esc(b, str(q, "radicado"));
    vt_buf_puts(b, " · <span class=\"status\">");
    esc(b, status_label(q));
    vt_buf_puts(b, "</span></h3><p class=\"meta\">Canal: ");
    esc(b, str(q, "source"));
    vt_buf_puts(b, " · Grupo: ");
    esc(b, str(q, "group"));
    if (*str(q, "topic")) {
        vt_buf_puts(b, " · Tema: ");
        esc(b, str(q, "topic"));
    }
    if (*str(q, "name")) {
        vt_buf_puts(b, " · Pregunta de ");
        esc(b, str(q, "name"));
    }
    vt_buf_puts(b, "</p>");
    vt_buf_puts(b, "<blockquote class=\"question\">");
    esc(b, str(q, "text"));
    vt_buf_puts(b, "</blockquote>");
    const char *kind = str(q, "answer_kind");
    if (strcmp(kind, "escrita") == 0) {
        vt_buf_puts(b, "<div class=\"written\"><p class=\"meta\">Respuesta escrita, ");
        esc(b, str(q, "answered_at"));
        vt_buf_puts(b, "</p><p>");
        esc(b, str(q, "answer"));
        vt_buf_puts(b, "</p></div>");
    } else if (*kind) {
        vt_buf_puts(b, "<p class=\"live\">Respondida en vivo durante la audiencia (ver la "
                       "grabación y el acta).</p>");
    } else if (merged) {
        vt_buf_puts(b, "<p class=\"meta\">Se responde con la pregunta a la que se unió.</p>");
    } else {
        char due[16];
        vt_date_format_es(str(q, "due_date"), due);
        vt_buf_puts(b, "<p class=\"meta\">Se responderá por escrito a más tardar el ");
        esc(b, due);
        vt_buf_puts(b, ".</p>");
    }
    vt_buf_puts(b, "</article>");
}

/* The hearing's evaluation survey: its link, its QR and its figures. */
static void survey_html(struct vt_http_request *req, struct vt_buf *b, const struct vt_hearing *h)
{
    if (!h->survey_code[0])
        return;
    vt_buf_puts(b, "<section id=\"evaluacion\"><h2>Evaluación de la audiencia</h2><p>Encuesta: "
                   "<a href=\"/encuesta/p/");
    esc(b, h->survey_code);
    vt_buf_puts(b, "\">/encuesta/p/");
    esc(b, h->survey_code);
    vt_buf_puts(b, "</a></p><img class=\"qr\" alt=\"Código QR de la encuesta\" src=\"/encuesta/p/");
    esc(b, h->survey_code);
    vt_buf_puts(b, "/qr.svg\" width=\"160\" height=\"160\">");
    cJSON *fig = NULL;
    const cJSON *row = NULL, *it;
    if (vt_survey_figures(vt_app_reader(req->app), vt_app_config(req->app), 0, INT64_MAX,
                          "survey", &fig) == 0) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(fig, "rows"))
        {
            if (strcmp(str(it, "key"), h->survey_code) == 0)
                row = it;
        }
    }
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(row, "answers");
    const cJSON *csat = cJSON_GetObjectItemCaseSensitive(row, "csat");
    const cJSON *nps = cJSON_GetObjectItemCaseSensitive(row, "nps");
    vt_buf_printf(b, "<dl class=\"figures\"><dt>Respuestas</dt><dd id=\"survey-answers\">%d</dd>",
                  cJSON_IsNumber(answers) ? answers->valueint : 0);
    if (cJSON_IsNumber(csat))
        vt_buf_printf(b, "<dt>Satisfacción (CSAT)</dt><dd id=\"csat\">%.1f %%</dd>",
                      csat->valuedouble);
    else
        vt_buf_puts(b, "<dt>Satisfacción (CSAT)</dt><dd id=\"csat\">sin datos</dd>");
    if (cJSON_IsNumber(nps))
        vt_buf_printf(b, "<dt>NPS</dt><dd id=\"nps\">%.1f</dd>", nps->valuedouble);
    else
        vt_buf_puts(b, "<dt>NPS</dt><dd id=\"nps\">sin datos</dd>");
    vt_buf_puts(b, "</dl></section>");
    cJSON_Delete(fig);
}

static void commitments_html(struct vt_buf *b, const cJSON *arr)
{
    vt_buf_puts(b, "<section id=\"compromisos\"><h2>Compromisos</h2>");
    if (!cJSON_GetArraySize(arr)) {
        vt_buf_puts(b, "<p>No se registraron compromisos.</p></section>");
        return;
    }
    vt_buf_puts(b, "<table><thead><tr><th scope=\"col\">Compromiso</th><th scope=\"col\">"
                   "Responsable</th><th scope=\"col\">Fecha</th><th scope=\"col\">Avance</th>"
                   "<th scope=\"col\">Estado</th></tr></thead><tbody>");
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        char due[16];
        vt_date_format_es(str(c, "due_date"), due);
        vt_buf_puts(b, "<tr><td>");
        esc(b, str(c, "text"));
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "progress"))
        {
            vt_buf_puts(b, "<p class=\"meta\">");
            esc(b, str(p, "at"));
            vt_buf_printf(b,
                          " (%d %%): ", cJSON_GetObjectItemCaseSensitive(p, "percent")->valueint);
            esc(b, str(p, "text"));
            vt_buf_puts(b, "</p>");
        }
        vt_buf_puts(b, "</td><td>");
        esc(b, str(c, "dependencia"));
        vt_buf_puts(b, "</td><td>");
        esc(b, due);
        vt_buf_printf(b, "</td><td>%d %%</td><td>",
                      cJSON_GetObjectItemCaseSensitive(c, "percent")->valueint);
        esc(b, str(c, "status"));
        vt_buf_puts(b, "</td></tr>");
    }
    vt_buf_puts(b, "</tbody></table></section>");
}

static void answers_page(struct vt_http_request *req, const struct vt_hearing *h)
{
    struct vt_store_reader *r = vt_app_reader(req->app);
    cJSON *rep = vt_hearing_report(r, h->code);
    cJSON *com = rep ? vt_hearing_commitments(r, h->code) : NULL;
    if (!com) {
        cJSON_Delete(rep);
        message(req, 503, "Servicio no disponible", "Intente de nuevo en un momento.");
        return;
    }
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(rep, "questions"), *q, *m;
    struct vt_buf b = {0};
    head(&b, vt_app_config(req->app), "Respuestas de la audiencia pública");
    vt_buf_puts(&b, "<h1>Respuestas de la audiencia pública</h1><p class=\"lead\">");
    esc(&b, h->name);
    char date[16];
    vt_date_format_es(h->date, date);
    vt_buf_puts(&b, " · ");
    esc(&b, date);
    int received = num(rep, "received"), in_review = num(rep, "in_review");
    int not_admitted = num(rep, "not_admitted");
    vt_buf_printf(&b, "</p><p id=\"recibidas\">%d %s. <a href=\"/audiencia/", received,
                  received == 1 ? "pregunta recibida" : "preguntas recibidas");
    esc(&b, h->code);
    vt_buf_puts(&b, "/respuestas.csv\">Descargar en CSV</a>. Aquí se publican las preguntas "
                    "que la moderación aprobó y las ya respondidas.</p>");
    if (in_review)
        vt_buf_printf(&b,
                      "<p id=\"en-revision\">%d %s en revisión; se publicarán cuando la "
                      "moderación las apruebe.</p>",
                      in_review, in_review == 1 ? "pregunta está" : "preguntas están");
    vt_buf_puts(&b, "<section id=\"cifras\">");
    counts_table(&b, "Por canal", "Canal", cJSON_GetObjectItemCaseSensitive(rep, "by_source"));
    counts_table(&b, "Por grupo de valor", "Grupo",
                 cJSON_GetObjectItemCaseSensitive(rep, "by_group"));
    if (not_admitted) {
        char cap[96];
        snprintf(cap, sizeof(cap), "%d %s, por motivo (sin su texto)", not_admitted,
                 not_admitted == 1 ? "pregunta no admitida" : "preguntas no admitidas");
        counts_table(&b, cap, "Motivo",
                     cJSON_GetObjectItemCaseSensitive(rep, "not_admitted_by_reason"));
    }
    vt_buf_puts(&b, "</section><section id=\"preguntas\"><h2>Preguntas y respuestas</h2>");
    cJSON_ArrayForEach(q, qs)
    {
        if (*str(q, "merged_into"))
            continue;
        question_html(&b, q, false);
        cJSON_ArrayForEach(m, qs)
        {
            if (strcmp(str(m, "merged_into"), str(q, "radicado")) == 0)
                question_html(&b, m, true);
        }
    }
    /* A question merged into one that was itself merged still shows once. */
    cJSON_ArrayForEach(q, qs)
    {
        const char *into = str(q, "merged_into");
        if (!*into)
            continue;
        bool parent_top = false;
        cJSON_ArrayForEach(m, qs)
        {
            if (strcmp(str(m, "radicado"), into) == 0 && !*str(m, "merged_into"))
                parent_top = true;
        }
        if (!parent_top)
            question_html(&b, q, true);
    }
    vt_buf_puts(&b, "</section>");
    commitments_html(&b, com);
    survey_html(req, &b, h);
    cJSON_Delete(rep);
    cJSON_Delete(com);
    html(req, 200, &b);
}

static void answers_csv(struct vt_http_request *req, const struct vt_hearing *h)
{
    cJSON *rep = vt_hearing_report(vt_app_reader(req->app), h->code);
    if (!rep) {
        message(req, 503, "Servicio no disponible", "Intente de nuevo en un momento.");
        return;
    }
    static const char *const cols[] = {"radicado",    "source", "group",       "status",
                                       "topic",       "name",   "text",        "merged_into",
                                       "answer_kind", "answer", "answered_at", "due_date"};
    size_t n = sizeof(cols) / sizeof(cols[0]);
    struct vt_buf b = {0};
    int rc = vt_buf_puts(&b, "radicado,canal,grupo,estado,tema,nombre,pregunta,"
                             "unida_a,tipo_respuesta,respuesta,fecha_respuesta,vence\r\n");
    const cJSON *q;
    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(rep, "questions"))
    {
        for (size_t i = 0; !rc && i < n; i++) {
            if (i)
                rc = vt_buf_puts(&b, ",");
            if (!rc)
                rc = vt_csv_field(&b, str(q, cols[i]));
        }
        if (!rc)
            rc = vt_buf_puts(&b, "\r\n");
    }
    cJSON_Delete(rep);
    if (rc) {
        vt_buf_cleanup(&b);
        message(req, 503, "Servicio no disponible", "Intente de nuevo en un momento.");
        return;
    }
    char disp[128];
    snprintf(disp, sizeof(disp), "attachment; filename=\"respuestas-%s.csv\"", h->code);
    vt_http_header(req, "Content-Disposition", disp);
    vt_http_respond(req, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
    vt_buf_cleanup(&b);
}

static void hearing_page(struct vt_http_request *req)
{
    const char *rest = req->path + strlen("/audiencia/");
    size_t n = strcspn(rest, "/");
    char code[64];
    if (n == 0 || n >= sizeof(code)) {
        message(req, 404, "Audiencia no encontrada", "No encontramos esta audiencia.");
        return;
    }
    snprintf(code, sizeof(code), "%.*s", (int)n, rest);
    bool pantalla = strcmp(rest + n, "/pantalla") == 0;
    bool answers = strcmp(rest + n, "/respuestas") == 0;
    bool csv = strcmp(rest + n, "/respuestas.csv") == 0;
    struct vt_hearing h;
    int rc = vt_hearing_code_ok(code) &&
                     (rest[n] == '\0' || ((pantalla || answers || csv) && !req->post))
                 ? vt_hearing_find(vt_app_reader(req->app), code, &h)
                 : VT_ENOTFOUND;
    if (rc == VT_ENOTFOUND)
        message(req, 404, "Audiencia no encontrada", "No encontramos esta audiencia.");
    else if (rc)
        message(req, 503, "Servicio no disponible", "Intente de nuevo en un momento.");
    else if (pantalla)
        wall(req, &h);
    else if (answers)
        answers_page(req, &h);
    else if (csv)
        answers_csv(req, &h);
    else
        ask(req, &h);
}

int vt_web_hearing_register(struct vt_http *http)
{
    return vt_http_route(http, "/audiencia/",
                         VT_ROUTE_GET | VT_ROUTE_POST | VT_ROUTE_PREFIX | VT_ROUTE_RATE_LIMITED,
                         16384, hearing_page);
}
