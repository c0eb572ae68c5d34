/* report_api.c - the reports' renderings (JSON, CSV, printable HTML) and
 * their endpoints GET /api/v1/reports/{pqrsd,acceso} (report_api.h); the
 * figures are computed by domain/report.c.
 *
 * Owns: the shape of each rendering. Must not: compute a figure.
 */
#include "api/report_api.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "core/clock.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/item.h"
#include "core/text.h"
#include "api/app.h"
#include "http/reply.h"

/* Appends one record of n fields and CRLF. */
static int csv_record(struct vt_buf *b, const char *const *fields, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i)
            rc = vt_buf_puts(b, ",");
        if (!rc)
            rc = vt_csv_field(b, fields[i]);
    }
    return rc ? rc : vt_buf_puts(b, "\r\n");
}

/* ---- JSON ---- */

/* The average rounded to 2 decimals, or JSON null when nothing was answered. */
static void add_average(cJSON *o, const char *name, long long sum, long long n)
{
    if (n > 0)
        cJSON_AddNumberToObject(o, name, round((double)sum * 100.0 / (double)n) / 100.0);
    else
        cJSON_AddNullToObject(o, name);
}

static cJSON *row_json(const struct vt_report_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", r->key);
    cJSON_AddStringToObject(o, "label", r->label);
    cJSON_AddNumberToObject(o, "received", (double)r->received);
    cJSON_AddNumberToObject(o, "answered_on_time", (double)r->on_time);
    cJSON_AddNumberToObject(o, "answered_late", (double)r->late);
    cJSON_AddNumberToObject(o, "unanswered", (double)(r->received - r->on_time - r->late));
    add_average(o, "average_business_days", r->days_sum, r->on_time + r->late);
    return o;
}

static void rows_json(cJSON *o, const char *name, const struct vt_report_rows *rows)
{
    cJSON *arr = cJSON_AddArrayToObject(o, name);
    for (size_t i = 0; i < rows->n; i++)
        cJSON_AddItemToArray(arr, row_json(&rows->v[i]));
}

static void period_json(cJSON *o, const char *report, const char *from, const char *to,
                        const char *as_of)
{
    cJSON_AddStringToObject(o, "report", report);
    cJSON_AddStringToObject(o, "from", from);
    cJSON_AddStringToObject(o, "to", to);
    cJSON_AddStringToObject(o, "as_of", as_of);
}

cJSON *vt_report_pqrsd_json(const struct vt_report_pqrsd *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    period_json(o, "pqrsd", p->from, p->to, p->as_of);
    cJSON_AddItemToObject(o, "total", row_json(&p->total));
    cJSON *out = cJSON_AddObjectToObject(o, "outcomes");
    for (int i = 0; i < VT_OUT_COUNT; i++)
        cJSON_AddNumberToObject(out, vt_report_outcome_code(i), (double)p->outcomes[i]);
    rows_json(o, "by_type", &p->by_type);
    rows_json(o, "by_channel", &p->by_channel);
    rows_json(o, "by_dependencia", &p->by_dependencia);
    rows_json(o, "by_month", &p->by_month);
    cJSON *t = cJSON_AddObjectToObject(o, "transfers");
    cJSON_AddNumberToObject(t, "total", (double)p->transfers);
    cJSON_AddNumberToObject(t, "within_5_days", (double)p->transfers_in_5);
    cJSON_AddNumberToObject(t, "after_5_days", (double)(p->transfers - p->transfers_in_5));
    cJSON *arr = cJSON_AddArrayToObject(o, "topics");
    for (size_t i = 0; i < p->n_topics; i++) {
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "word", p->topics[i].word);
        cJSON_AddStringToObject(w, "label", p->topics[i].label);
        cJSON_AddNumberToObject(w, "count", (double)p->topics[i].count);
        cJSON_AddItemToArray(arr, w);
    }
    return o;
}

static void add_date(cJSON *o, const char *name, const char *d)
{
    if (*d)
        cJSON_AddStringToObject(o, name, d);
    else
        cJSON_AddNullToObject(o, name);
}

cJSON *vt_report_access_json(const struct vt_report_access *a)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    period_json(o, "acceso", a->from, a->to, a->as_of);
    cJSON_AddNumberToObject(o, "received", (double)a->received);
    cJSON_AddNumberToObject(o, "transferred", (double)a->transferred);
    cJSON_AddNumberToObject(o, "answered", (double)a->answered);
    cJSON_AddNumberToObject(o, "answered_on_time", (double)a->on_time);
    cJSON_AddNumberToObject(o, "answered_late", (double)a->late);
    cJSON_AddNumberToObject(o, "unanswered", (double)(a->received - a->answered));
    add_average(o, "average_business_days", a->days_sum, a->answered);
    cJSON *acc = cJSON_AddObjectToObject(o, "access");
    cJSON_AddNumberToObject(acc, "concedido", (double)a->granted);
    cJSON_AddNumberToObject(acc, "parcial", (double)a->partial);
    cJSON_AddNumberToObject(acc, "negado", (double)a->denied);
    cJSON_AddNumberToObject(acc, "sin_decision", (double)a->no_decision);
    cJSON *arr = cJSON_AddArrayToObject(o, "requests");
    for (size_t i = 0; i < a->n_requests; i++) {
        const struct vt_report_request *q = &a->requests[i];
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "radicado", q->radicado);
        cJSON_AddStringToObject(r, "filed_date", q->filed);
        add_date(r, "due_date", q->due);
        add_date(r, "answered_on", q->answered);
        if (q->days >= 0)
            cJSON_AddNumberToObject(r, "business_days", q->days);
        else
            cJSON_AddNullToObject(r, "business_days");
        cJSON_AddStringToObject(r, "outcome", vt_report_outcome_code(q->outcome));
        add_date(r, "access", q->access);
        cJSON_AddBoolToObject(r, "transferred", q->transferred);
        cJSON_AddItemToArray(arr, r);
    }
    return o;
}

/* ---- CSV of the reports ---- */

/* "4.50", or "" when nothing was answered. */
static void average_text(char out[32], long long sum, long long n)
{
    if (n > 0)
        snprintf(out, 32, "%.2f", (double)sum / (double)n);
    else
        out[0] = '\0';
}

static int csv_period(struct vt_buf *b, const char *from, const char *to, const char *as_of,
                      size_t width)
{
    const char *f[12] = {"periodo", "desde", from};
    int rc = csv_record(b, f, width);
    f[1] = "hasta";
    f[2] = to;
    rc = rc ? rc : csv_record(b, f, width);
    f[1] = "corte";
    f[2] = as_of;
    return rc ? rc : csv_record(b, f, width);
}

static int csv_row(struct vt_buf *b, const char *section, const struct vt_report_row *r)
{
    char n[4][24], avg[32];
    snprintf(n[0], sizeof(n[0]), "%lld", r->received);
    snprintf(n[1], sizeof(n[1]), "%lld", r->on_time);
    snprintf(n[2], sizeof(n[2]), "%lld", r->late);
    snprintf(n[3], sizeof(n[3]), "%lld", r->received - r->on_time - r->late);
    average_text(avg, r->days_sum, r->on_time + r->late);
    const char *f[] = {section, r->key, r->label, n[0], n[1], n[2], n[3], avg};
    return csv_record(b, f, 8);
}

static int csv_count(struct vt_buf *b, size_t width, const char *section, const char *key,
                     const char *label, long long value)
{
    char n[24];
    snprintf(n, sizeof(n), "%lld", value);
    const char *f[12] = {section, key, label, n};
    return csv_record(b, f, width);
}

int vt_report_pqrsd_csv(const struct vt_report_pqrsd *p, struct vt_buf *b)
{
    static const char *const header[] = {
        "seccion",  "clave", "descripcion",   "cantidad",
        "a_tiempo", "tarde", "sin_respuesta", "promedio_dias_habiles"};
    int rc = csv_record(b, header, 8);
    rc = rc ? rc : csv_period(b, p->from, p->to, p->as_of, 8);
    rc = rc ? rc : csv_row(b, "total", &p->total);
    for (int i = 0; i < VT_OUT_COUNT && !rc; i++)
        rc = csv_count(b, 8, "estado", vt_report_outcome_code(i), vt_report_outcome_label(i),
                       p->outcomes[i]);
    const struct {
        const char *section;
        const struct vt_report_rows *rows;
    } parts[] = {{"por_tipo", &p->by_type},
                 {"por_canal", &p->by_channel},
                 {"por_dependencia", &p->by_dependencia},
                 {"por_mes", &p->by_month}};
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < parts[k].rows->n && !rc; i++)
            rc = csv_row(b, parts[k].section, &parts[k].rows->v[i]);
    rc =
        rc ? rc : csv_count(b, 8, "traslados", "total", "Trasladadas a otra entidad", p->transfers);
    rc = rc ? rc
            : csv_count(b, 8, "traslados", "en_5_dias", "Trasladadas dentro de los 5 días hábiles",
                        p->transfers_in_5);
    rc = rc ? rc
            : csv_count(b, 8, "traslados", "despues_de_5_dias",
                        "Trasladadas después de los 5 días hábiles",
                        p->transfers - p->transfers_in_5);
    for (size_t i = 0; i < p->n_topics && !rc; i++)
        rc = csv_count(b, 8, "temas", p->topics[i].word, p->topics[i].label, p->topics[i].count);
    return rc;
}

int vt_report_access_csv(const struct vt_report_access *a, struct vt_buf *b)
{
    static const char *const header[] = {
        "seccion",           "clave",           "descripcion",  "cantidad", "fecha_radicacion",
        "fecha_vencimiento", "fecha_respuesta", "dias_habiles", "estado",   "acceso",
        "trasladada"};
    const size_t w = 11;
    int rc = csv_record(b, header, w);
    rc = rc ? rc : csv_period(b, a->from, a->to, a->as_of, w);
    const struct {
        const char *key, *label;
        long long n;
    } sums[] = {
        {"recibidas", "Solicitudes de información recibidas", a->received},
        {"trasladadas", "Trasladadas a otra entidad", a->transferred},
        {"respondidas", "Respondidas", a->answered},
        {"respondidas_a_tiempo", "Respondidas a tiempo", a->on_time},
        {"respondidas_tarde", "Respondidas fuera de término", a->late},
        {"sin_respuesta", "Sin respuesta", a->received - a->answered},
        {"acceso_concedido", "Acceso concedido", a->granted},
        {"acceso_parcial", "Acceso concedido en parte", a->partial},
        {"acceso_negado", "Acceso negado", a->denied},
        {"sin_decision", "Respondidas sin decisión de acceso registrada", a->no_decision},
    };
    for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]) && !rc; i++)
        rc = csv_count(b, w, "resumen", sums[i].key, sums[i].label, sums[i].n);
    char avg[32];
    average_text(avg, a->days_sum, a->answered);
    const char *f[11] = {"resumen", "promedio_dias_habiles",
                         "Tiempo promedio de respuesta (días hábiles)", avg};
    rc = rc ? rc : csv_record(b, f, w);
    for (size_t i = 0; i < a->n_requests && !rc; i++) {
        const struct vt_report_request *q = &a->requests[i];
        char days[16] = "";
        if (q->days >= 0)
            snprintf(days, sizeof(days), "%d", q->days);
        const char *g[] = {"solicitud",
                           q->radicado,
                           vt_report_outcome_one(q->outcome),
                           "",
                           q->filed,
                           q->due,
                           q->answered,
                           days,
                           vt_report_outcome_code(q->outcome),
                           q->access,
                           q->transferred ? "si" : "no"};
        rc = csv_record(b, g, w);
    }
    return rc;
}

/* ---- HTML ---- */

/* A page being written: the first failure sticks and later writes are skipped. */
struct page {
    struct vt_buf *b;
    int rc;
};

static void put(struct page *pg, const char *s)
{
    if (!pg->rc)
        pg->rc = vt_buf_puts(pg->b, s);
}

static void putf(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct page *pg, const char *fmt, ...)
{
    char s[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof(s), fmt, ap);
    va_end(ap);
    put(pg, s);
}

static void esc(struct page *pg, const char *s)
{
    if (!pg->rc)
        pg->rc = vt_html_escape(pg->b, s ? s : "");
}

/* 12345 as "12.345" (es-CO groups thousands with a point). */
static void num(struct page *pg, long long n)
{
    char d[32], out[48];
    int len = snprintf(d, sizeof(d), "%lld", n < 0 ? -n : n), o = 0;
    if (n < 0)
        out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = '.';
        out[o++] = d[i];
    }
    out[o] = '\0';
    put(pg, out);
}

/* The average with one decimal and a comma ("4,5"), or "sin datos". */
static void average_html(struct page *pg, long long sum, long long n)
{
    if (n <= 0) {
        put(pg, "sin datos");
        return;
    }
    char s[32];
    snprintf(s, sizeof(s), "%.1f", (double)sum / (double)n);
    char *dot = strchr(s, '.');
    if (dot)
        *dot = ',';
    put(pg, s);
}

/* "31 de marzo de 2025" */
static void long_date(struct page *pg, const char *ymd)
{
    vt_date_t d;
    if (vt_date_parse(ymd, &d))
        esc(pg, ymd);
    else
        putf(pg, "%d de %s de %d", d.day, vt_report_month_name(d.month), d.year);
}

static void short_date(struct page *pg, const char *ymd)
{
    char es[16];
    vt_date_format_es(ymd, es);
    esc(pg, es);
}

static void head(struct page *pg, const char *title, const char *entity, const char *from,
                 const char *to, const char *as_of, int64_t generated_ms)
{
    put(pg, "<!doctype html>\n<html lang=\"es-CO\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    esc(pg, title);
    put(pg, " · ");
    esc(pg, entity);
    put(pg, "</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>"
            "<body class=\"report-page\">"
            "<header><p>");
    esc(pg, entity);
    put(pg, "</p></header><main class=\"report\"><h1>");
    esc(pg, title);
    put(pg, "</h1><p class=\"report-period\">Solicitudes radicadas entre el ");
    long_date(pg, from);
    put(pg, " y el ");
    long_date(pg, to);
    put(pg, ". Lo que sigue pendiente se calcula al ");
    long_date(pg, as_of);
    char iso[32];
    vt_time_format_iso(generated_ms, iso);
    int h = (iso[11] - '0') * 10 + (iso[12] - '0');
    iso[10] = '\0';
    put(pg, ". Informe generado el ");
    long_date(pg, iso);
    putf(pg, ", %d:%.2s %s (hora de Colombia).</p>", h % 12 == 0 ? 12 : h % 12, iso + 14,
         h < 12 ? "a. m." : "p. m.");
}

static void foot(struct page *pg)
{
    put(pg, "</main></body></html>\n");
}

/* A two-column table of counts: a label per row and its number. */
static void count_table_start(struct page *pg, const char *caption, const char *what)
{
    put(pg, "<section><table><caption>");
    esc(pg, caption);
    put(pg, "</caption><thead><tr><th scope=\"col\">");
    esc(pg, what);
    put(pg, "</th><th scope=\"col\" class=\"num\">Cantidad</th></tr></thead><tbody>");
}

static void count_row(struct page *pg, const char *label, long long n)
{
    put(pg, "<tr><th scope=\"row\">");
    esc(pg, label);
    put(pg, "</th><td class=\"num\">");
    num(pg, n);
    put(pg, "</td></tr>");
}

static void table_end(struct page *pg)
{
    put(pg, "</tbody></table></section>");
}

static void breakdown_row(struct page *pg, const struct vt_report_row *r, const char *cell)
{
    putf(pg, "<tr><%s scope=\"row\">", cell);
    esc(pg, r->label);
    putf(pg, "</%s><td class=\"num\">", cell);
    num(pg, r->received);
    put(pg, "</td><td class=\"num\">");
    num(pg, r->on_time);
    put(pg, "</td><td class=\"num\">");
    num(pg, r->late);
    put(pg, "</td><td class=\"num\">");
    num(pg, r->received - r->on_time - r->late);
    put(pg, "</td><td class=\"num\">");
    average_html(pg, r->days_sum, r->on_time + r->late);
    put(pg, "</td></tr>");
}

static void breakdown(struct page *pg, const char *caption, const char *what,
                      const struct vt_report_rows *rows, const struct vt_report_row *total)
{
    put(pg, "<section><table><caption>");
    esc(pg, caption);
    put(pg, "</caption><thead><tr><th scope=\"col\">");
    esc(pg, what);
    put(pg, "</th><th scope=\"col\" class=\"num\">Recibidas</th><th scope=\"col\" class=\"num\">"
            "Respondidas a tiempo</th><th scope=\"col\" class=\"num\">Respondidas fuera de "
            "término</th><th scope=\"col\" class=\"num\">Sin respuesta</th><th scope=\"col\" "
            "class=\"num\">Tiempo promedio de respuesta (días hábiles)</th></tr></thead><tbody>");
    for (size_t i = 0; i < rows->n; i++)
        breakdown_row(pg, &rows->v[i], "th");
    if (!rows->n)
        put(pg, "<tr><td colspan=\"6\">No se radicaron solicitudes en el periodo.</td></tr>");
    put(pg, "</tbody><tfoot>");
    breakdown_row(pg, total, "th");
    put(pg, "</tfoot></table></section>");
}

int vt_report_pqrsd_html(const struct vt_report_pqrsd *p, const char *entity, int64_t generated_ms,
                         struct vt_buf *b)
{
    struct page pg = {b, 0};
    head(&pg, "Informe de peticiones, quejas, reclamos, sugerencias y denuncias (PQRSD)", entity,
         p->from, p->to, p->as_of, generated_ms);
    const struct vt_report_row *t = &p->total;
    put(&pg, "<p>En el periodo se radicaron ");
    num(&pg, t->received);
    put(&pg, " solicitudes. Se respondieron ");
    num(&pg, t->on_time + t->late);
    put(&pg, ", de ellas ");
    num(&pg, t->on_time);
    put(&pg, " dentro del término legal.");
    if (t->on_time + t->late) {
        put(&pg, " El tiempo promedio de respuesta fue de ");
        average_html(&pg, t->days_sum, t->on_time + t->late);
        put(&pg, " días hábiles.");
    }
    put(&pg, "</p>");
    count_table_start(&pg, "Estado de las solicitudes radicadas en el periodo", "Estado");
    for (int i = 0; i < VT_OUT_COUNT; i++)
        count_row(&pg, vt_report_outcome_label(i), p->outcomes[i]);
    put(&pg, "</tbody><tfoot>");
    count_row(&pg, "Total recibidas", t->received);
    put(&pg, "</tfoot></table></section>");
    breakdown(&pg, "Por tipo de solicitud", "Tipo", &p->by_type, t);
    breakdown(&pg, "Por canal de recepción", "Canal", &p->by_channel, t);
    breakdown(&pg, "Por dependencia responsable", "Dependencia", &p->by_dependencia, t);
    breakdown(&pg, "Por mes de radicación", "Mes", &p->by_month, t);
    count_table_start(&pg, "Traslados por competencia (artículo 21 de la Ley 1755 de 2015)",
                      "Traslados");
    count_row(&pg, "Trasladadas dentro de los 5 días hábiles siguientes a la radicación",
              p->transfers_in_5);
    count_row(&pg, "Trasladadas después de los 5 días hábiles", p->transfers - p->transfers_in_5);
    put(&pg, "</tbody><tfoot>");
    count_row(&pg, "Total trasladadas", p->transfers);
    put(&pg, "</tfoot></table></section>");
    put(&pg, "<section><table><caption>Temas más frecuentes</caption><thead><tr><th scope=\"col\">"
             "Palabra del asunto</th><th scope=\"col\" class=\"num\">Solicitudes que la usan"
             "</th></tr></thead><tbody>");
    for (size_t i = 0; i < p->n_topics; i++)
        count_row(&pg, p->topics[i].label, p->topics[i].count);
    if (!p->n_topics)
        put(&pg, "<tr><td colspan=\"2\">No hay asuntos para analizar en el periodo.</td></tr>");
    table_end(&pg);
    put(&pg,
        "<section><h2>Cómo se cuentan</h2><dl>"
        "<dt>Periodo</dt><dd>Entran las solicitudes cuya fecha de radicación está en el periodo. "
        "La radicación cuenta el día hábil en que se recibe, o el siguiente si llega después "
        "del cierre o en un día no hábil.</dd>"
        "<dt>Respondida a tiempo</dt><dd>La primera respuesta se dio a más tardar el día en que "
        "vencía el término, contando la prórroga o el término que empezó de nuevo cuando el "
        "ciudadano completó la solicitud. Las felicitaciones no tienen término.</dd>"
        "<dt>Tiempo de respuesta</dt><dd>Días hábiles desde el día siguiente a la radicación "
        "hasta el día de la primera respuesta, con el calendario de la entidad (Ley 1755 de "
        "2015).</dd>"
        "<dt>Término vencido</dt><dd>La solicitud sigue sin respuesta y su término venció antes "
        "de la fecha de corte.</dd>"
        "<dt>Temas</dt><dd>Las palabras que más se repiten en los asuntos, sin tildes ni "
        "palabras comunes como artículos o saludos; cada solicitud cuenta una vez por "
        "palabra.</dd></dl></section>");
    foot(&pg);
    return pg.rc;
}

int vt_report_access_html(const struct vt_report_access *a, const char *entity,
                          int64_t generated_ms, struct vt_buf *b)
{
    struct page pg = {b, 0};
    head(&pg, "Informe de solicitudes de acceso a la información pública", entity, a->from, a->to,
         a->as_of, generated_ms);
    put(&pg, "<p>Informe del artículo 2.1.1.6.2 del Decreto 1081 de 2015: las peticiones de "
             "documentos e información radicadas en el periodo, cuántas se trasladaron a otra "
             "entidad, el tiempo de respuesta de cada una y en cuántas se negó el acceso.</p>");
    count_table_start(&pg, "Resumen", "Concepto");
    count_row(&pg, "Solicitudes de información recibidas", a->received);
    count_row(&pg, "Trasladadas a otra entidad", a->transferred);
    count_row(&pg, "Respondidas", a->answered);
    count_row(&pg, "Respondidas a tiempo", a->on_time);
    count_row(&pg, "Respondidas fuera de término", a->late);
    count_row(&pg, "Sin respuesta", a->received - a->answered);
    count_row(&pg, "Acceso concedido", a->granted);
    count_row(&pg, "Acceso concedido en parte", a->partial);
    count_row(&pg, "Acceso negado", a->denied);
    if (a->no_decision)
        count_row(&pg, "Respondidas sin decisión de acceso registrada", a->no_decision);
    put(&pg, "<tr><th scope=\"row\">Tiempo promedio de respuesta (días hábiles)</th>"
             "<td class=\"num\">");
    average_html(&pg, a->days_sum, a->answered);
    put(&pg, "</td></tr>");
    table_end(&pg);
    put(&pg, "<section><table><caption>Tiempo de respuesta de cada solicitud</caption><thead>"
             "<tr><th scope=\"col\">Radicado</th><th scope=\"col\">Radicada el</th>"
             "<th scope=\"col\">Vence el</th><th scope=\"col\">Respondida el</th>"
             "<th scope=\"col\" class=\"num\">Días hábiles</th><th scope=\"col\">Estado</th>"
             "<th scope=\"col\">Acceso</th><th scope=\"col\">Trasladada</th></tr></thead><tbody>");
    for (size_t i = 0; i < a->n_requests; i++) {
        const struct vt_report_request *q = &a->requests[i];
        put(&pg, "<tr><th scope=\"row\" class=\"radicado\">");
        esc(&pg, q->radicado);
        put(&pg, "</th><td>");
        short_date(&pg, q->filed);
        put(&pg, "</td><td>");
        if (q->due[0])
            short_date(&pg, q->due);
        else
            put(&pg, "sin término");
        put(&pg, "</td><td>");
        if (q->answered[0])
            short_date(&pg, q->answered);
        else
            put(&pg, "pendiente");
        put(&pg, "</td><td class=\"num\">");
        if (q->days >= 0)
            num(&pg, q->days);
        else
            put(&pg, "pendiente");
        put(&pg, "</td><td>");
        esc(&pg, vt_report_outcome_one(q->outcome));
        put(&pg, "</td><td>");
        esc(&pg, !q->access[0]                         ? ""
                 : strcmp(q->access, "concedido") == 0 ? "Concedido"
                 : strcmp(q->access, "parcial") == 0   ? "Parcial"
                 : strcmp(q->access, "negado") == 0    ? "Negado"
                                                       : "Sin decisión registrada");
        put(&pg, q->transferred ? "</td><td>Sí</td></tr>" : "</td><td>No</td></tr>");
    }
    if (!a->n_requests)
        put(&pg, "<tr><td colspan=\"8\">No se radicaron solicitudes de información en el "
                 "periodo.</td></tr>");
    table_end(&pg);
    put(&pg, "<section><h2>Cómo se cuentan</h2><dl>"
             "<dt>Tiempo de respuesta</dt><dd>Días hábiles desde el día siguiente a la "
             "radicación hasta el día de la primera respuesta. El término de estas peticiones "
             "es de 10 días hábiles (artículo 14 de la Ley 1755 de 2015).</dd>"
             "<dt>Acceso</dt><dd>La decisión de la última respuesta: concedido, concedido en "
             "parte o negado.</dd>"
             "<dt>Trasladada</dt><dd>Se envió a la entidad competente (artículo 21 de la Ley "
             "1755 de 2015).</dd></dl></section>");
    foot(&pg);
    return pg.rc;
}

/* ---- the endpoints ---- */

#define PREFIX "/api/v1/reports/"

static const char *query(struct vt_http_request *req, const char *name)
{
    const struct vt_form_field *f = vt_form_get(&req->query, name);
    return f && f->value_len ? f->value : NULL;
}

static void get_report(struct vt_http_request *req)
{
    struct vt_staff who;
    if (vt_auth_check(req, false, &who))
        return;
    if (who.role != VT_ROLE_GERENTE) {
        vt_reply_error(req, 403, "forbidden", NULL, "Su rol no tiene acceso a esta función.");
        return;
    }
    const char *name = req->path + strlen(PREFIX);
    bool pqrsd = strcmp(name, "pqrsd") == 0;
    if (!pqrsd && strcmp(name, "acceso") != 0) {
        vt_reply_not_found(req);
        return;
    }
    const char *format = query(req, "format"), *field;
    if (!format)
        format = "json";
    if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html")) {
        vt_reply_error(req, 422, "invalid", "format", "El formato debe ser json, csv o html.");
        return;
    }
    vt_date_t from, to;
    char msg[200];
    if (vt_report_range(query(req, "from"), query(req, "to"), &from, &to, &field, msg,
                        sizeof(msg))) {
        vt_reply_error(req, 422, "invalid", field, msg);
        return;
    }
    const struct vt_config *cfg = vt_app_config(req->app);
    int64_t now = vt_clock_now_ms();
    vt_date_t today = vt_date_from_unix_ms(now);
    struct vt_report_pqrsd p;
    struct vt_report_access a;
    struct vt_buf b = {0};
    cJSON *o = NULL;
    int rc = pqrsd ? vt_report_pqrsd_build(vt_app_reader(req->app), cfg, from, to, today, &p)
                   : vt_report_access_build(vt_app_reader(req->app), cfg, from, to, today, &a);
    if (rc) {
        vt_http_header(req, "Retry-After", "5");
        vt_reply_error(req, 503, "unavailable", NULL,
                       "No pudimos leer los datos. Intente de nuevo.");
        return;
    }
    if (strcmp(format, "json") == 0) {
        o = pqrsd ? vt_report_pqrsd_json(&p) : vt_report_access_json(&a);
        char *s = o ? cJSON_PrintUnformatted(o) : NULL;
        rc = s ? vt_buf_puts(&b, s) : VT_ENOMEM;
        free(s);
    } else if (strcmp(format, "csv") == 0) {
        rc = pqrsd ? vt_report_pqrsd_csv(&p, &b) : vt_report_access_csv(&a, &b);
    } else {
        rc = pqrsd ? vt_report_pqrsd_html(&p, cfg->entity_name, now, &b)
                   : vt_report_access_html(&a, cfg->entity_name, now, &b);
    }
    if (rc) {
        vt_reply_error(req, 503, "unavailable", NULL,
                       "No pudimos preparar el informe. Intente de nuevo.");
    } else if (strcmp(format, "json") == 0) {
        vt_http_respond(req, 200, "application/json", b.data, b.len);
    } else if (strcmp(format, "csv") == 0) {
        char disp[120], f[11], t[11];
        vt_date_format(from, f);
        vt_date_format(to, t);
        snprintf(disp, sizeof(disp), "attachment; filename=\"informe-%s-%s-%s.csv\"",
                 pqrsd ? "pqrsd" : "acceso", f, t);
        vt_http_header(req, "Content-Disposition", disp);
        vt_http_respond(req, 200, "text/csv; charset=utf-8", b.data, b.len);
    } else {
        vt_http_respond(req, 200, "text/html; charset=utf-8", b.data, b.len);
    }
    cJSON_Delete(o);
    vt_buf_cleanup(&b);
    if (pqrsd)
        vt_report_pqrsd_cleanup(&p);
    else
        vt_report_access_cleanup(&a);
}

int vt_report_register(struct vt_http *http)
{
    return vt_http_route(http, PREFIX, VT_ROUTE_GET | VT_ROUTE_PREFIX, 0, get_report);
}
