/* report.c - the quarterly PQRSD report and the access-to-information
 * report (report.h): one scan of the items filed in the range and the
 * figures. Their JSON, CSV and HTML and the endpoints are api/report_api.c.
 *
 * Owns: SQL_ITEMS (the only statement, one row per item with its first
 * answer, latest access decision and first transfer's payload), the topic
 * counter and the business-day table of one report.
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

#include "core/clock.h"
#include "core/error.h"
#include "core/item.h"
#include "core/text.h"
#include "store/db.h"

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

const char *vt_report_outcome_one(enum vt_report_outcome o)
{
    return o < VT_OUT_COUNT ? outcome_one[o] : "";
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
 * latest answer's access decision, and its first transfer's payload (NULL:
 * never transferred; read by in_5_days). ?3 is the triage dependencia, ?4 =
 * 1 keeps only petitions for documents and information. */
static const char SQL_ITEMS[] =
    "SELECT i.radicado, COALESCE(i.type, ''), COALESCE(i.petition_class, ''), i.channel, "
    "COALESCE(i.dependencia, ?3), d.name, i.status, i.filed_date, COALESCE(i.due_date, ''), "
    "i.subject, "
    "(SELECT r.at FROM responses r WHERE r.item_id = i.id ORDER BY r.at, r.id LIMIT 1), "
    "(SELECT COALESCE(r.access, 'sin_decision') FROM responses r WHERE r.item_id = i.id "
    "ORDER BY r.at DESC, r.id DESC LIMIT 1), "
    "(SELECT COALESCE(e.payload, '') FROM audit_events e "
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

/* Whether a trasladado event's payload says within_5_days: true (or 1);
 * false for anything else, malformed JSON included. Read in C, where every
 * database's JSON functions differ; only transferred items have one. */
static bool in_5_days(const char *payload)
{
    cJSON *p = cJSON_Parse(payload);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(p, "within_5_days");
    bool yes = cJSON_IsTrue(w) || (cJSON_IsNumber(w) && w->valueint == 1);
    cJSON_Delete(p);
    return yes;
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
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ITEMS);
    int rc = VT_ESTORE, s;
    if (!st)
        return VT_ESTORE;
    if ((rc = bdays_init(&bd, &cfg->calendar, from, vt_date_cmp(today, to) > 0 ? today : to)))
        goto fail;
    vt_db_bind_text(st, 1, f); /* f, t and cfg outlive the statement's run */
    vt_db_bind_text(st, 2, t);
    vt_db_bind_text(st, 3, cfg->staff.triage_dependencia);
    vt_db_bind_int(st, 4, documents);
    while ((s = vt_db_step(st)) == VT_DB_ROW) {
        const char *transfer = vt_db_col_text(st, 12);
        struct view v = {
            .radicado = vt_db_col_str(st, 0),
            .type = vt_db_col_str(st, 1),
            .pclass = vt_db_col_str(st, 2),
            .channel = vt_db_col_str(st, 3),
            .dep = vt_db_col_str(st, 4),
            .dep_name = vt_db_col_str(st, 5),
            .status = vt_db_col_str(st, 6),
            .filed = vt_db_col_str(st, 7),
            .due = vt_db_col_str(st, 8),
            .subject = vt_db_col_str(st, 9),
            .access = vt_db_col_str(st, 11),
            .days = -1,
            .transferred = transfer || strcmp(vt_db_col_str(st, 6), "trasladado") == 0,
            .in_5 = transfer && in_5_days(transfer),
        };
        vt_date_t filed;
        if (!vt_db_col_null(st, 10)) {
            vt_date_t ans = vt_date_from_unix_ms(vt_db_col_int(st, 10));
            vt_date_format(ans, v.answered);
            v.days = vt_date_parse(v.filed, &filed) ? 0 : bdays_count(&bd, filed, ans);
        }
        v.outcome = vt_report_outcome_of(v.status, v.answered, v.due, as_of);
        if ((rc = fn(ctx, &v)))
            goto fail;
    }
    rc = s == VT_DB_DONE ? 0 : VT_ESTORE;
fail:
    vt_db_reset(st);
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

const char *vt_report_month_name(int month)
{
    return month >= 1 && month <= 12 ? months[month - 1] : "";
}

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
