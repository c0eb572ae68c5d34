/* report.c - the quarterly PQRSD report and the access-to-information
 * report (report.h): one scan of the items filed in the range, the figures,
 * and their JSON, CSV and HTML; the endpoints under /api/v1/reports/.
 *
 * Owns: SQL_ITEMS (the only statement, one row per item with its first
 * answer, latest access decision and first transfer), the topic counter and
 * the business-day table of one report.
 * Must not: write, or read requesters (no personal data in a report).
 *
 * The scan is a single statement, so every figure of a report comes from
 * the same snapshot of the database.
 */
#include "domain/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "api/auth.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/item.h"
#include "server.h"
#include "core/text.h"

/* ---- business days ---- */

/* A business day is never more than this far from a report's dates; beyond
 * it the data is corrupt and the count stops (no loop over centuries). */
#define MAX_SPAN_DAYS (366 * 100)

int vt_report_business_days(const struct vt_calendar *cal, vt_date_t filed, vt_date_t answered)
{
    int64_t a = vt_date_to_days(filed), b = vt_date_to_days(answered);
    if (b - a > MAX_SPAN_DAYS)
        b = a + MAX_SPAN_DAYS;
    int n = 0;
    for (int64_t d = a + 1; d <= b; d++)
        n += vt_calendar_is_business_day(cal, vt_date_from_days(d));
    return n;
}

/* The business days of one report's span, counted once: cum[i] is the number
 * of business days in (first, first + i]. Dates outside fall back to
 * vt_report_business_days. */
struct bdays {
    const struct vt_calendar *cal;
    int64_t first;
    int *cum;
    size_t n;
};

static int bdays_init(struct bdays *t, const struct vt_calendar *cal, vt_date_t from, vt_date_t to)
{
    t->cal = cal;
    t->first = vt_date_to_days(from);
    int64_t last = vt_date_to_days(to) + 60; /* filed after hours on the last day, answered later */
    t->n = (size_t)(last - t->first + 1);
    if (!(t->cum = malloc(t->n * sizeof(*t->cum))))
        return VT_ENOMEM;
    t->cum[0] = 0;
    for (size_t i = 1; i < t->n; i++)
        t->cum[i] = t->cum[i - 1] +
                    vt_calendar_is_business_day(cal, vt_date_from_days(t->first + (int64_t)i));
    return 0;
}

static int bdays_count(const struct bdays *t, vt_date_t filed, vt_date_t answered)
{
    int64_t a = vt_date_to_days(filed) - t->first, b = vt_date_to_days(answered) - t->first;
    if (b <= a)
        return 0;
    if (a >= 0 && b < (int64_t)t->n)
        return t->cum[b] - t->cum[a];
    return vt_report_business_days(t->cal, filed, answered);
}

/* ---- the range ---- */

int vt_report_range(const char *from, const char *to, vt_date_t *f, vt_date_t *t,
                    const char **field, char *msg, size_t msglen)
{
    if (!from || !*from || vt_date_parse(from, f)) {
        *field = "from";
        snprintf(msg, msglen, "%s",
                 from && *from ? "La fecha inicial (from) no es una fecha válida: use AAAA-MM-DD."
                               : "Indique la fecha inicial del informe (from) como AAAA-MM-DD.");
        return VT_EINVAL;
    }
    if (!to || !*to || vt_date_parse(to, t)) {
        *field = "to";
        snprintf(msg, msglen, "%s",
                 to && *to ? "La fecha final (to) no es una fecha válida: use AAAA-MM-DD."
                           : "Indique la fecha final del informe (to) como AAAA-MM-DD.");
        return VT_EINVAL;
    }
    if (vt_date_cmp(*f, *t) > 0) {
        *field = "to";
        snprintf(msg, msglen,
                 "La fecha final (to) debe ser igual o posterior a la inicial (from).");
        return VT_EINVAL;
    }
    /* Five years from the 29th of February end on the 1st of March. */
    vt_date_t limit = {f->year + VT_REPORT_MAX_YEARS, f->month, f->day};
    if (vt_date_to_days(*t) >= vt_date_to_days(limit)) {
        *field = "to";
        snprintf(msg, msglen, "Un informe abarca como máximo %d años: acorte el periodo.",
                 VT_REPORT_MAX_YEARS);
        return VT_EINVAL;
    }
    return 0;
}

/* ---- CSV ---- */

int vt_report_csv_field(struct vt_buf *b, const char *s)
{
    if (!s || !*s)
        return vt_buf_append(b, "", 0);
    /* A leading = + - @ makes Excel and LibreOffice run the cell as a
     * formula (CSV injection); an apostrophe keeps it text. */
    bool formula = strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    int rc = quote ? vt_buf_puts(b, "\"") : 0;
    if (!rc && formula)
        rc = vt_buf_puts(b, "'");
    for (const char *p = s; !rc && *p;) {
        const char *q = quote ? strchr(p, '"') : NULL;
        size_t n = q ? (size_t)(q - p) + 1 : strlen(p);
        rc = vt_buf_append(b, p, n);
        if (!rc && q)
            rc = vt_buf_puts(b, "\""); /* the quote doubled */
        p += n;
    }
    if (!rc && quote)
        rc = vt_buf_puts(b, "\"");
    return rc;
}

/* Appends one record of n fields and CRLF. */
static int csv_record(struct vt_buf *b, const char *const *fields, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i)
            rc = vt_buf_puts(b, ",");
        if (!rc)
            rc = vt_report_csv_field(b, fields[i]);
    }
    return rc ? rc : vt_buf_puts(b, "\r\n");
}

/* ---- topics ---- */

/* Folded, sorted (strcmp) for bsearch: articles, prepositions, pronouns and
 * common verbs, and the words of a letter's greeting and of the PQRSD types
 * themselves, which say nothing about the topic. */
/* clang-format off */
static const char *const stopwords[] = {
    "a", "acerca", "ademas", "al", "algo", "algun", "alguna", "algunas", "alguno", "algunos",
    "alla", "alli", "ante", "antes", "aqui", "asi", "asunto", "atentamente", "aun", "aunque",
    "bajo", "bien", "buen", "buena", "buenas", "bueno", "buenos", "cada", "casi", "como", "con",
    "consulta", "consultas", "contra", "cordial", "cordialmente", "cual", "cuales", "cuando",
    "cuanto", "de", "del", "denuncia", "denuncias", "desde", "dias", "donde", "dos", "durante", "e",
    "el", "ella", "ellas", "ello", "ellos", "en", "entre", "era", "eran", "es", "esa", "esas",
    "ese", "eso", "esos", "esta", "estaba", "estan", "estar", "estas", "este", "esto", "estos",
    "estoy", "favor", "felicitacion", "felicitaciones", "fue", "fueron", "gracias", "ha", "hace",
    "hacer", "hacia", "han", "hasta", "hay", "la", "las", "le", "les", "lo", "los", "mas", "me",
    "mi", "mis", "mucho", "muy", "nada", "ni", "no", "noches", "nos", "nosotros", "nuestra",
    "nuestro", "o", "otra", "otras", "otro", "otros", "para", "pero", "peticion", "peticiones",
    "poco", "por", "porque", "pues", "que", "queja", "quejas", "quien", "quienes", "reclamo",
    "reclamos", "referencia", "respetado", "respetados", "saludo", "saludos", "se", "sea", "segun",
    "senor", "senora", "senores", "ser", "si", "sido", "sin", "sobre", "solicita", "solicitamos",
    "solicito", "solicitud", "solicitudes", "solo", "son", "su", "sugerencia", "sugerencias", "sus",
    "tambien", "tan", "tanto", "tardes", "te", "tiene", "tienen", "todo", "todos", "tu", "u", "un",
    "una", "unas", "uno", "unos", "usted", "ustedes", "y", "ya", "yo",
};
/* clang-format on */

static int cmp_word(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

bool vt_report_stopword(const char *folded)
{
    return bsearch(folded, stopwords, sizeof(stopwords) / sizeof(stopwords[0]),
                   sizeof(stopwords[0]), cmp_word) != NULL;
}

/* Bytes of the letter or digit at p, or 0 when p starts anything else: ASCII
 * letters and digits, Latin-1 letters (U+00C0..U+00FF but the signs × ÷)
 * and Latin Extended-A/B (U+0100..U+024F). Punctuation such as ¿ ¡ « — is a
 * separator. */
static size_t word_char(const unsigned char *p)
{
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        return 1;
    if (p[0] == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF && p[1] != 0x97 && p[1] != 0xB7)
        return 2;
    if (p[0] >= 0xC4 && p[0] <= 0xC8 && (p[1] & 0xC0) == 0x80)
        return 2;
    if (p[0] == 0xC9 && p[1] >= 0x80 && p[1] <= 0x8F)
        return 2;
    return 0;
}

/* Bytes of the (possibly malformed) character at p, so it is skipped whole. */
static size_t char_len(const unsigned char *p)
{
    size_t want = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 1, n = 1;
    while (n < want && (p[n] & 0xC0) == 0x80)
        n++;
    return n;
}

static uint64_t hash_word(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int topics_grow(struct vt_report_topics *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    struct vt_report_topic *slots = calloc(cap, sizeof(*slots));
    long long *seen = calloc(cap, sizeof(*seen));
    if (!slots || !seen)
        goto fail;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].word[0])
            continue;
        size_t j = (size_t)(hash_word(t->slots[i].word) & (cap - 1));
        while (slots[j].word[0])
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
        seen[j] = t->seen[i];
    }
    free(t->slots);
    free(t->seen);
    t->slots = slots;
    t->seen = seen;
    t->cap = cap;
    return 0;
fail:
    free(seen);
    free(slots);
    return VT_ENOMEM;
}

/* Counts the word w[0..len) (original spelling) for the current subject. */
static int topics_word(struct vt_report_topics *t, const unsigned char *w, size_t len)
{
    char label[65], key[65];
    if (len > 64) { /* a very long word is counted by its first 64 bytes */
        len = 64;
        while (len > 0 && (w[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(label, w, len);
    label[len] = '\0';
    /* Lowercase ASCII and the Latin-1 capitals (U+00C0..U+00DE but ×). */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)label[i];
        if (c >= 'A' && c <= 'Z')
            label[i] = (char)(c + 32);
        else if (c == 0xC3 && i + 1 < len) {
            unsigned char d = (unsigned char)label[i + 1];
            if (d >= 0x80 && d <= 0x9E && d != 0x97)
                label[i + 1] = (char)(d + 0x20);
            i++;
        }
    }
    size_t n = vt_fold_es(label, key, sizeof(key));
    bool digits = true;
    for (size_t i = 0; i < n && digits; i++)
        digits = key[i] >= '0' && key[i] <= '9';
    if (n < 3 || digits || vt_report_stopword(key))
        return 0;
    if ((t->n + 1) * 2 > t->cap && topics_grow(t))
        return VT_ENOMEM;
    size_t j = (size_t)(hash_word(key) & (t->cap - 1));
    while (t->slots[j].word[0] && strcmp(t->slots[j].word, key) != 0)
        j = (j + 1) & (t->cap - 1);
    struct vt_report_topic *e = &t->slots[j];
    if (!e->word[0]) {
        memcpy(e->word, key, n + 1);
        snprintf(e->label, sizeof(e->label), "%s", label);
        t->n++;
    }
    if (t->seen[j] != t->subject) { /* once per subject */
        t->seen[j] = t->subject;
        e->count++;
    }
    return 0;
}

int vt_report_topics_add(struct vt_report_topics *t, const char *subject)
{
    const unsigned char *p = (const unsigned char *)(subject ? subject : "");
    t->subject++;
    while (*p) {
        if (!word_char(p)) {
            p += char_len(p);
            continue;
        }
        const unsigned char *w = p;
        size_t n;
        while ((n = word_char(p)))
            p += n;
        int rc = topics_word(t, w, (size_t)(p - w));
        if (rc)
            return rc;
    }
    return 0;
}

static bool topic_before(const struct vt_report_topic *a, const struct vt_report_topic *b)
{
    return a->count != b->count ? a->count > b->count : strcmp(a->word, b->word) < 0;
}

size_t vt_report_topics_top(const struct vt_report_topics *t, struct vt_report_topic *out,
                            size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap && cap; i++) {
        const struct vt_report_topic *e = &t->slots[i];
        if (!e->word[0] || (n == cap && !topic_before(e, &out[n - 1])))
            continue;
        size_t k = n < cap ? n++ : cap - 1; /* insertion into the sorted top */
        while (k > 0 && topic_before(e, &out[k - 1])) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = *e;
    }
    return n;
}

void vt_report_topics_cleanup(struct vt_report_topics *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t->seen);
    memset(t, 0, sizeof(*t));
}

/* ---- outcomes ---- */

static const char *const outcome_codes[VT_OUT_COUNT] = {
    "a_tiempo",   "tarde",     "pendiente_en_termino", "pendiente_vencida",
    "suspendida", "desistida", "trasladada",           "cerrada_sin_respuesta",
};
static const char *const outcome_labels[VT_OUT_COUNT] = {
    "Respondidas a tiempo",
    "Respondidas fuera de término",
    "Sin respuesta, dentro del término",
    "Sin respuesta, con el término vencido",
    "Suspendidas: esperan que el ciudadano complete la solicitud",
    "Archivadas por desistimiento tácito",
    "Trasladadas a otra entidad, sin respuesta de esta entidad",
    "Cerradas sin respuesta (por ejemplo, duplicadas)",
};

/* The same for one request (the access report's rows). */
static const char *const outcome_one[VT_OUT_COUNT] = {
    "Respondida a tiempo",
    "Respondida fuera de término",
    "Sin respuesta, dentro del término",
    "Sin respuesta, con el término vencido",
    "Suspendida: espera que el ciudadano complete la solicitud",
    "Archivada por desistimiento tácito",
    "Trasladada a otra entidad",
    "Cerrada sin respuesta",
};

const char *vt_report_outcome_code(enum vt_report_outcome o)
{
    return o < VT_OUT_COUNT ? outcome_codes[o] : "";
}

const char *vt_report_outcome_label(enum vt_report_outcome o)
{
    return o < VT_OUT_COUNT ? outcome_labels[o] : "";
}

enum vt_report_outcome vt_report_outcome_of(const char *status, const char *answered,
                                            const char *due, const char *as_of)
{
    bool has_due = due && *due;
    if (answered && *answered)
        return !has_due || strcmp(answered, due) <= 0 ? VT_OUT_ON_TIME : VT_OUT_LATE;
    if (strcmp(status, "pendiente_completar") == 0)
        return VT_OUT_SUSPENDED;
    if (strcmp(status, "desistido") == 0)
        return VT_OUT_WITHDRAWN;
    if (strcmp(status, "trasladado") == 0)
        return VT_OUT_TRANSFERRED;
    if (strcmp(status, "cerrado") == 0)
        return VT_OUT_CLOSED;
    return has_due && as_of && strcmp(due, as_of) < 0 ? VT_OUT_OVERDUE : VT_OUT_PENDING;
}

/* ---- the scan ---- */

/* One row per item filed in [?1, ?2]: its first answer (earliest), the
 * latest answer's access decision, and its first transfer's 5-day flag
 * (NULL: never transferred). ?3 is the triage dependencia, ?4 = 1 keeps
 * only petitions for documents and information. */
static const char SQL_ITEMS[] =
    "SELECT i.radicado, COALESCE(i.type, ''), COALESCE(i.petition_class, ''), i.channel, "
    "COALESCE(i.dependencia, ?3), d.name, i.status, i.filed_date, COALESCE(i.due_date, ''), "
    "i.subject, "
    "(SELECT r.at FROM responses r WHERE r.item_id = i.id ORDER BY r.at, r.id LIMIT 1), "
    "(SELECT COALESCE(r.access, 'sin_decision') FROM responses r WHERE r.item_id = i.id "
    "ORDER BY r.at DESC, r.id DESC LIMIT 1), "
    "(SELECT CASE WHEN json_valid(e.payload) THEN COALESCE(json_extract(e.payload, "
    "'$.within_5_days'), 0) ELSE 0 END FROM audit_events e "
    "WHERE e.item_id = i.id AND e.action = 'trasladado' ORDER BY e.id LIMIT 1) "
    "FROM items i LEFT JOIN dependencias d ON d.code = COALESCE(i.dependencia, ?3) "
    "WHERE i.kind = 'pqrsd' AND i.filed_date BETWEEN ?1 AND ?2 "
    "AND (?4 = 0 OR (i.type = 'peticion' AND i.petition_class = 'documentos')) "
    "ORDER BY i.filed_date, i.radicado_year, i.radicado_seq, i.id";

/* An item as the reports see it; strings valid during the callback. */
struct view {
    const char *radicado, *type, *pclass, *channel, *dep, *dep_name, *status, *filed, *due;
    const char *subject, *access;
    char answered[11]; /* "" when not answered */
    int days;          /* -1 when not answered */
    bool transferred, in_5;
    enum vt_report_outcome outcome;
};

static const char *text_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static int scan(struct vt_store_reader *r, const struct vt_config *cfg, vt_date_t from,
                vt_date_t to, vt_date_t today, bool documents, char *as_of,
                int (*fn)(void *ctx, const struct view *v), void *ctx)
{
    char f[11], t[11];
    vt_date_format(from, f);
    vt_date_format(to, t);
    vt_date_format(vt_date_cmp(today, to) < 0 ? today : to, as_of);
    struct bdays bd = {0};
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_ITEMS);
    int rc = VT_ESTORE, s;
    if (!st)
        return VT_ESTORE;
    if ((rc = bdays_init(&bd, &cfg->calendar, from, vt_date_cmp(today, to) > 0 ? today : to)))
        goto fail;
    sqlite3_bind_text(st, 1, f, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, cfg->staff.triage_dependencia, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, documents);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct view v = {
            .radicado = text_col(st, 0),
            .type = text_col(st, 1),
            .pclass = text_col(st, 2),
            .channel = text_col(st, 3),
            .dep = text_col(st, 4),
            .dep_name = text_col(st, 5),
            .status = text_col(st, 6),
            .filed = text_col(st, 7),
            .due = text_col(st, 8),
            .subject = text_col(st, 9),
            .access = text_col(st, 11),
            .days = -1,
            .transferred = sqlite3_column_type(st, 12) != SQLITE_NULL ||
                           strcmp(text_col(st, 6), "trasladado") == 0,
            .in_5 = sqlite3_column_int(st, 12) == 1,
        };
        vt_date_t filed;
        if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
            vt_date_t ans = vt_date_from_unix_ms(sqlite3_column_int64(st, 10));
            vt_date_format(ans, v.answered);
            v.days = vt_date_parse(v.filed, &filed) ? 0 : bdays_count(&bd, filed, ans);
        }
        v.outcome = vt_report_outcome_of(v.status, v.answered, v.due, as_of);
        if ((rc = fn(ctx, &v)))
            goto fail;
    }
    rc = s == SQLITE_DONE ? 0 : VT_ESTORE;
fail:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(bd.cum);
    return rc;
}

/* ---- the PQRSD report ---- */

static struct vt_report_row *row_find(struct vt_report_rows *rows, const char *key)
{
    for (size_t i = 0; i < rows->n; i++)
        if (strcmp(rows->v[i].key, key) == 0)
            return &rows->v[i];
    return NULL;
}

/* The row of key, appended (with label) when new; NULL when out of memory. */
static struct vt_report_row *row_at(struct vt_report_rows *rows, const char *key, const char *label)
{
    struct vt_report_row *row = row_find(rows, key);
    if (row)
        return row;
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 16;
        struct vt_report_row *v = realloc(rows->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        rows->v = v;
        rows->cap = cap;
    }
    row = &rows->v[rows->n++];
    memset(row, 0, sizeof(*row));
    snprintf(row->key, sizeof(row->key), "%s", key);
    snprintf(row->label, sizeof(row->label), "%s", label);
    return row;
}

static void tally(struct vt_report_row *row, const struct view *v)
{
    row->received++;
    if (v->outcome == VT_OUT_ON_TIME)
        row->on_time++;
    else if (v->outcome == VT_OUT_LATE)
        row->late++;
    if (v->days >= 0)
        row->days_sum += v->days;
}

static const struct {
    const char *key, *label;
} type_rows[] = {
    {"peticion/general", "Petición de interés general o particular"},
    {"peticion/documentos", "Petición de documentos e información"},
    {"peticion/consulta", "Consulta"},
    {"queja", "Queja"},
    {"reclamo", "Reclamo"},
    {"sugerencia", "Sugerencia"},
    {"denuncia", "Denuncia"},
    {"felicitacion", "Felicitación"},
};

static const char *const months[] = {"enero",      "febrero", "marzo",     "abril",
                                     "mayo",       "junio",   "julio",     "agosto",
                                     "septiembre", "octubre", "noviembre", "diciembre"};

static const char *channel_label(const char *code)
{
    if (strcmp(code, "staff") == 0)
        return "Radicada por el personal (presencial o teléfono)";
    if (strcmp(code, "api") == 0)
        return "Integración (API)";
    return vt_item_label(code);
}

struct pqrsd_ctx {
    struct vt_report_pqrsd *p;
    const struct vt_config *cfg;
    struct vt_report_topics topics;
};

static int pqrsd_item(void *ctx, const struct view *v)
{
    struct pqrsd_ctx *c = ctx;
    struct vt_report_pqrsd *p = c->p;
    char key[128], label[832];
    tally(&p->total, v);
    p->outcomes[v->outcome]++;
    if (v->transferred) {
        p->transfers++;
        p->transfers_in_5 += v->in_5;
    }
    if (strcmp(v->type, "peticion") == 0)
        snprintf(key, sizeof(key), "peticion/%s", *v->pclass ? v->pclass : "general");
    else
        snprintf(key, sizeof(key), "%s", *v->type ? v->type : "sin_tipo");
    struct vt_report_row *row = row_at(&p->by_type, key, key);
    if (!row)
        return VT_ENOMEM;
    tally(row, v);
    if (!(row = row_at(&p->by_channel, v->channel, channel_label(v->channel))))
        return VT_ENOMEM;
    tally(row, v);
    if (*v->dep_name)
        snprintf(label, sizeof(label), "%s", v->dep_name);
    else
        snprintf(label, sizeof(label), "%s",
                 strcmp(v->dep, c->cfg->staff.triage_dependencia) == 0 ? "Atención al ciudadano"
                                                                       : v->dep);
    if (!(row = row_at(&p->by_dependencia, v->dep, label)))
        return VT_ENOMEM;
    tally(row, v);
    snprintf(key, sizeof(key), "%.7s", v->filed);
    if (!(row = row_at(&p->by_month, key, key)))
        return VT_ENOMEM;
    tally(row, v);
    return vt_report_topics_add(&c->topics, v->subject);
}

static int cmp_label(const void *a, const void *b)
{
    const struct vt_report_row *x = a, *y = b;
    int c = strcmp(x->label, y->label);
    return c ? c : strcmp(x->key, y->key);
}

int vt_report_pqrsd_build(struct vt_store_reader *r, const struct vt_config *cfg, vt_date_t from,
                          vt_date_t to, vt_date_t today, struct vt_report_pqrsd *out)
{
    struct pqrsd_ctx c = {out, cfg, {0}};
    int rc = VT_ENOMEM;
    memset(out, 0, sizeof(*out));
    vt_date_format(from, out->from);
    vt_date_format(to, out->to);
    snprintf(out->total.key, sizeof(out->total.key), "total");
    snprintf(out->total.label, sizeof(out->total.label), "Total");
    /* Every type, the channels the entity runs and every month are listed,
     * with zeros: a published report shows what did not happen too. */
    for (size_t i = 0; i < sizeof(type_rows) / sizeof(type_rows[0]); i++)
        if (!row_at(&out->by_type, type_rows[i].key, type_rows[i].label))
            goto fail;
    static const char *const channels[] = {"web", "email", "whatsapp"};
    for (size_t i = 0; i < 3; i++)
        if (!row_at(&out->by_channel, channels[i], channel_label(channels[i])))
            goto fail;
    for (vt_date_t m = {from.year, from.month, 1};
         m.year < to.year || (m.year == to.year && m.month <= to.month);
         m = m.month == 12 ? (vt_date_t){m.year + 1, 1, 1} : (vt_date_t){m.year, m.month + 1, 1}) {
        char key[16], label[32];
        snprintf(key, sizeof(key), "%04d-%02d", m.year, m.month);
        snprintf(label, sizeof(label), "%s de %d", months[m.month - 1], m.year);
        label[0] = (char)(label[0] - 'a' + 'A'); /* "Enero de 2025" */
        if (!row_at(&out->by_month, key, label))
            goto fail;
    }
    if ((rc = scan(r, cfg, from, to, today, false, out->as_of, pqrsd_item, &c)))
        goto fail;
    if (out->by_dependencia.n)
        qsort(out->by_dependencia.v, out->by_dependencia.n, sizeof(struct vt_report_row),
              cmp_label);
    out->n_topics = vt_report_topics_top(&c.topics, out->topics, VT_REPORT_TOPICS);
    vt_report_topics_cleanup(&c.topics);
    return 0;
fail:
    vt_report_topics_cleanup(&c.topics);
    vt_report_pqrsd_cleanup(out);
    return rc;
}

void vt_report_pqrsd_cleanup(struct vt_report_pqrsd *p)
{
    if (!p)
        return;
    free(p->by_type.v);
    free(p->by_channel.v);
    free(p->by_dependencia.v);
    free(p->by_month.v);
    memset(&p->by_type, 0, sizeof(p->by_type));
    memset(&p->by_channel, 0, sizeof(p->by_channel));
    memset(&p->by_dependencia, 0, sizeof(p->by_dependencia));
    memset(&p->by_month, 0, sizeof(p->by_month));
}

/* ---- the access report ---- */

struct access_ctx {
    struct vt_report_access *a;
    size_t cap;
};

static int access_item(void *ctx, const struct view *v)
{
    struct access_ctx *c = ctx;
    struct vt_report_access *a = c->a;
    if (a->n_requests == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct vt_report_request *q = realloc(a->requests, cap * sizeof(*q));
        if (!q)
            return VT_ENOMEM;
        a->requests = q;
        c->cap = cap;
    }
    struct vt_report_request *q = &a->requests[a->n_requests++];
    memset(q, 0, sizeof(*q));
    snprintf(q->radicado, sizeof(q->radicado), "%s", v->radicado);
    snprintf(q->filed, sizeof(q->filed), "%s", v->filed);
    snprintf(q->due, sizeof(q->due), "%s", v->due);
    snprintf(q->answered, sizeof(q->answered), "%s", v->answered);
    q->days = v->days;
    q->outcome = v->outcome;
    q->transferred = v->transferred;
    a->received++;
    a->transferred += v->transferred;
    if (!v->answered[0])
        return 0;
    snprintf(q->access, sizeof(q->access), "%s", v->access);
    a->answered++;
    a->on_time += v->outcome == VT_OUT_ON_TIME;
    a->late += v->outcome == VT_OUT_LATE;
    a->days_sum += v->days;
    if (strcmp(v->access, "concedido") == 0)
        a->granted++;
    else if (strcmp(v->access, "parcial") == 0)
        a->partial++;
    else if (strcmp(v->access, "negado") == 0)
        a->denied++;
    else
        a->no_decision++;
    return 0;
}

int vt_report_access_build(struct vt_store_reader *r, const struct vt_config *cfg, vt_date_t from,
                           vt_date_t to, vt_date_t today, struct vt_report_access *out)
{
    struct access_ctx c = {out, 0};
    memset(out, 0, sizeof(*out));
    vt_date_format(from, out->from);
    vt_date_format(to, out->to);
    int rc = scan(r, cfg, from, to, today, true, out->as_of, access_item, &c);
    if (rc)
        vt_report_access_cleanup(out);
    return rc;
}

void vt_report_access_cleanup(struct vt_report_access *a)
{
    if (!a)
        return;
    free(a->requests);
    a->requests = NULL;
    a->n_requests = 0;
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
        cJSON_AddNumberToObject(out, outcome_codes[i], (double)p->outcomes[i]);
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
        cJSON_AddStringToObject(r, "outcome", outcome_codes[q->outcome]);
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
        rc = csv_count(b, 8, "estado", outcome_codes[i], outcome_labels[i], p->outcomes[i]);
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
                           outcome_one[q->outcome],
                           "",
                           q->filed,
                           q->due,
                           q->answered,
                           days,
                           outcome_codes[q->outcome],
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
        putf(pg, "%d de %s de %d", d.day, months[d.month - 1], d.year);
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
        count_row(&pg, outcome_labels[i], p->outcomes[i]);
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
        esc(&pg, outcome_one[q->outcome]);
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
        vt_server_error(req, 403, "forbidden", NULL, "Su rol no tiene acceso a esta función.");
        return;
    }
    const char *name = req->path + strlen(PREFIX);
    bool pqrsd = strcmp(name, "pqrsd") == 0;
    if (!pqrsd && strcmp(name, "acceso") != 0) {
        vt_server_not_found(req);
        return;
    }
    const char *format = query(req, "format"), *field;
    if (!format)
        format = "json";
    if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html")) {
        vt_server_error(req, 422, "invalid", "format", "El formato debe ser json, csv o html.");
        return;
    }
    vt_date_t from, to;
    char msg[200];
    if (vt_report_range(query(req, "from"), query(req, "to"), &from, &to, &field, msg,
                        sizeof(msg))) {
        vt_server_error(req, 422, "invalid", field, msg);
        return;
    }
    const struct vt_config *cfg = vt_server_config(req->srv);
    int64_t now = vt_clock_now_ms();
    vt_date_t today = vt_date_from_unix_ms(now);
    struct vt_report_pqrsd p;
    struct vt_report_access a;
    struct vt_buf b = {0};
    cJSON *o = NULL;
    int rc = pqrsd ? vt_report_pqrsd_build(vt_server_reader(req->srv), cfg, from, to, today, &p)
                   : vt_report_access_build(vt_server_reader(req->srv), cfg, from, to, today, &a);
    if (rc) {
        vt_http_header(req, "Retry-After", "5");
        vt_server_error(req, 503, "unavailable", NULL,
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
        vt_server_error(req, 503, "unavailable", NULL,
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
