/* dashboard.c - the managers' figures (dashboard.h).
 *
 * The live feed asks for them at most once a second while a gerente
 * watches (on a worker thread of its own), so each figure is one statement
 * that SQLite answers from an index or with one pass: the volume and the due
 * counts come from a single GROUP BY over the kind's rows of items_queue
 * (every column it needs is in that index), folded into the four breakdowns
 * here; the answer dates come grouped by (filing date, due date, answer
 * date), so business days are counted once per distinct group, on a prefix
 * table of the calendar. About a third of a second at 100,000 items and 80,000 answers.
 */
#include "domain/dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/item.h"
#include "domain/dependencias.h"
#include "domain/survey.h"
#include "store/db.h"

/* The statuses whose term runs, as vt_casework_term_runs says. */
#define RUNS "status IN ('radicado', 'en_tramite')"

/* ?1 triage dependencia, ?2 today, ?3 last day of the due-soon window. */
static const char SQL_VOLUME[] =
    "SELECT channel, COALESCE(type, 'sin_tipo'), stakeholder_group, COALESCE(dependencia, ?1), "
    "count(*), count(*) FILTER (WHERE " RUNS " AND due_date < ?2), "
    "count(*) FILTER (WHERE " RUNS " AND due_date BETWEEN ?2 AND ?3) "
    "FROM items WHERE kind = 'pqrsd' GROUP BY 1, 2, 3, 4";

/* The answer of each answered PQRSD (its earliest response), grouped by
 * filing date, due date and answer date. The answer date is the local day
 * number (days since 1970-01-01; ?1 is the UTC offset in ms), worked out in
 * integers so that no database's date functions are needed; C turns it into
 * a date and compares it with the due date. */
static const char SQL_ANSWERS[] =
    "SELECT i.filed_date, i.due_date, f.answered, count(*) "
    "FROM (SELECT item_id, (min(at) + ?1) / 86400000 AS answered "
    "FROM responses GROUP BY item_id) f JOIN items i ON i.id = f.item_id "
    "WHERE i.kind = 'pqrsd' GROUP BY i.filed_date, i.due_date, f.answered";

static const char SQL_HEARINGS[] =
    "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM responses r "
    "WHERE r.item_id = i.id)) FROM items i WHERE i.kind = 'hearing_question'";

/* ---- business days ---- */

/* Longest span a prefix table covers; answers further apart are counted
 * day by day. */
#define SPAN_MAX (40 * 366)

int vt_dashboard_business_days(const struct vt_calendar *cal, vt_date_t filed, vt_date_t answered)
{
    int64_t a = vt_date_to_days(filed), b = vt_date_to_days(answered);
    if (b - a > 100 * 366) /* nonsense dates: do not loop for ages */
        b = a + 100 * 366;
    int n = 0;
    for (int64_t d = a + 1; d <= b; d++)
        n += vt_calendar_is_business_day(cal, vt_date_from_days(d));
    return n;
}

/* ---- breakdowns ---- */

struct count {
    char key[128];
    long long n;
};

struct counts {
    struct count *v;
    size_t n, cap;
};

static int counts_add(struct counts *c, const char *key, long long n)
{
    key = key ? key : "";
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].key, key) == 0) {
            c->v[i].n += n;
            return 0;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct count *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return VT_ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    snprintf(c->v[c->n].key, sizeof(c->v[0].key), "%s", key);
    c->v[c->n++].n = n;
    return 0;
}

/* Most first, then by key, so that equal counts keep their places. */
static int count_cmp(const void *a, const void *b)
{
    const struct count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->key, y->key);
}

enum breakdown { BY_CHANNEL, BY_TYPE, BY_GROUP, BY_DEP, BY_COUNT };

static const char *channel_label(const char *code)
{
    if (strcmp(code, "staff") == 0)
        return "Radicada por el personal";
    if (strcmp(code, "api") == 0)
        return "Integración (API)";
    return vt_item_label(code);
}

static const char *type_label(const char *code)
{
    return strcmp(code, "sin_tipo") == 0 ? "Sin tipo" : vt_item_label(code);
}

static const char *group_label(const struct vt_config *cfg, const char *code)
{
    const char *name = vt_classify_group_name(&cfg->rules, code);
    return name ? name : code;
}

static cJSON *counts_json(struct counts *c, enum breakdown by, struct vt_store_reader *r,
                          const struct vt_config *cfg)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    if (c->n)
        qsort(c->v, c->n, sizeof(c->v[0]), count_cmp);
    for (size_t i = 0; i < c->n; i++) {
        cJSON *o = cJSON_CreateObject();
        char name[256];
        const char *label = c->v[i].key;
        if (by == BY_CHANNEL)
            label = channel_label(c->v[i].key);
        else if (by == BY_TYPE)
            label = type_label(c->v[i].key);
        else if (by == BY_GROUP)
            label = group_label(cfg, c->v[i].key);
        else {
            vt_dependencias_name(r, c->v[i].key, name, sizeof(name));
            label = name;
        }
        cJSON_AddStringToObject(o, "key", c->v[i].key);
        cJSON_AddStringToObject(o, "label", label);
        cJSON_AddNumberToObject(o, "n", (double)c->v[i].n);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* Definitions 1 and 3. */
static int volume(struct vt_store_reader *r, const struct vt_config *cfg, const char *today,
                  const char *soon, cJSON *out, cJSON *compliance)
{
    struct counts c[BY_COUNT] = {{0}};
    long long total = 0, overdue = 0, due_soon = 0;
    int rc = 0, step = VT_DB_DONE;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_VOLUME);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, cfg->staff.triage_dependencia);
    vt_db_bind_text(st, 2, today);
    vt_db_bind_text(st, 3, soon);
    while (rc == 0 && (step = vt_db_step(st)) == VT_DB_ROW) {
        long long n = vt_db_col_int(st, 4);
        total += n;
        overdue += vt_db_col_int(st, 5);
        due_soon += vt_db_col_int(st, 6);
        for (int k = 0; k < BY_COUNT && rc == 0; k++)
            rc = counts_add(&c[k], vt_db_col_str(st, k), n);
    }
    if (rc == 0 && step != VT_DB_DONE)
        rc = VT_ESTORE;
    vt_db_reset(st);
    if (rc == 0) {
        static const char *const names[BY_COUNT] = {"by_channel", "by_type", "by_group",
                                                    "by_dependencia"};
        cJSON_AddNumberToObject(out, "total", (double)total);
        for (int k = 0; k < BY_COUNT; k++)
            cJSON_AddItemToObject(out, names[k], counts_json(&c[k], (enum breakdown)k, r, cfg));
        cJSON_AddNumberToObject(compliance, "overdue", (double)overdue);
        cJSON_AddNumberToObject(compliance, "due_soon", (double)due_soon);
    }
    for (int k = 0; k < BY_COUNT; k++)
        free(c[k].v);
    return rc;
}

/* ---- compliance and response time ---- */

struct pair {
    int64_t filed, answered; /* days since 1970-01-01 */
    long long n, on_time;
};

/* One decimal, as every rate and average of the dashboard. */
static double tenth(double x)
{
    return (double)(long long)(x * 10 + (x < 0 ? -0.5 : 0.5)) / 10;
}

static void add_rate(cJSON *o, const char *name, long long num, long long den, double scale)
{
    if (den)
        cJSON_AddNumberToObject(o, name, tenth((double)num * scale / (double)den));
    else
        cJSON_AddNullToObject(o, name);
}

/* Definitions 2, 4 and 5. */
static int compliance(struct vt_store_reader *r, const struct vt_config *cfg, cJSON *out)
{
    struct pair *p = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ANSWERS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, (int64_t)VT_CALENDAR_UTC_OFFSET_MIN * 60 * 1000);
    while ((step = vt_db_step(st)) == VT_DB_ROW) {
        vt_date_t f;
        if (vt_date_parse(vt_db_col_str(st, 0), &f))
            continue; /* cannot happen: a filed item has a filing date */
        int64_t answered = vt_db_col_int(st, 2);
        long long k = vt_db_col_int(st, 3);
        /* On time: no term, or answered on or before the due date (compared
         * as the ISO dates they are, as SQL compared them before). */
        char a[11];
        vt_date_format(vt_date_from_days(answered), a);
        bool on_time = vt_db_col_null(st, 1) || strcmp(a, vt_db_col_str(st, 1)) <= 0;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 256;
            struct pair *q = realloc(p, c * sizeof(*q));
            if (!q) {
                rc = VT_ENOMEM;
                break;
            }
            p = q;
            cap = c;
        }
        p[n++] = (struct pair){vt_date_to_days(f), answered, k, on_time ? k : 0};
    }
    if (rc == 0 && step != VT_DB_DONE)
        rc = VT_ESTORE;
    vt_db_reset(st);
    if (rc) {
        free(p);
        return rc;
    }
    /* cum[i]: business days in (lo, lo + i]. */
    int64_t lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t a = p[i].filed < p[i].answered ? p[i].filed : p[i].answered;
        int64_t b = p[i].filed > p[i].answered ? p[i].filed : p[i].answered;
        lo = i == 0 || a < lo ? a : lo;
        hi = i == 0 || b > hi ? b : hi;
    }
    int *cum = NULL;
    if (n && hi - lo <= SPAN_MAX && (cum = malloc((size_t)(hi - lo + 1) * sizeof(*cum)))) {
        cum[0] = 0;
        for (int64_t d = 1; d <= hi - lo; d++)
            cum[d] =
                cum[d - 1] + vt_calendar_is_business_day(&cfg->calendar, vt_date_from_days(lo + d));
    }
    long long answered = 0, on_time = 0, days = 0;
    for (size_t i = 0; i < n; i++) {
        long long bd = 0;
        if (p[i].answered > p[i].filed)
            bd = cum ? cum[p[i].answered - lo] - cum[p[i].filed - lo]
                     : vt_dashboard_business_days(&cfg->calendar, vt_date_from_days(p[i].filed),
                                                  vt_date_from_days(p[i].answered));
        answered += p[i].n;
        on_time += p[i].on_time;
        days += bd * p[i].n;
    }
    free(cum);
    free(p);
    cJSON_AddNumberToObject(out, "answered", (double)answered);
    cJSON_AddNumberToObject(out, "on_time", (double)on_time);
    cJSON_AddNumberToObject(out, "late", (double)(answered - on_time));
    add_rate(out, "on_time_pct", on_time, answered, 100);
    add_rate(out, "avg_response_days", days, answered, 1);
    return 0;
}

/* ---- satisfaction ---- */

/* Unix ms of local midnight at the start of d. */
static int64_t local_midnight_ms(vt_date_t d)
{
    return (vt_date_to_days(d) * 86400 - VT_CALENDAR_UTC_OFFSET_MIN * 60) * 1000;
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Copies a figures row's numbers (nps rounded to one decimal). */
static void copy_figures(cJSON *to, const cJSON *row)
{
    cJSON_AddNumberToObject(to, "answers", row ? num(row, "answers") : 0);
    static const char *const rates[] = {"csat", "nps"}, *const ns[] = {"csat_n", "nps_n"};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = row ? cJSON_GetObjectItemCaseSensitive(row, rates[k]) : NULL;
        if (cJSON_IsNumber(v))
            cJSON_AddNumberToObject(to, rates[k], tenth(v->valuedouble));
        else
            cJSON_AddNullToObject(to, rates[k]);
        cJSON_AddNumberToObject(to, ns[k], row ? num(row, ns[k]) : 0);
    }
}

static const cJSON *row_by_key(const cJSON *fig, const char *key)
{
    const cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(fig, "rows"))
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(row, "key");
        if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
            return row;
    }
    return NULL;
}

/* Definition 6. */
static int satisfaction(struct vt_store_reader *r, const struct vt_config *cfg, vt_date_t today,
                        cJSON *out)
{
    int months = today.year * 12 + (today.month - 1) - (VT_DASHBOARD_MONTHS - 1);
    vt_date_t from = {months / 12, months % 12 + 1, 1};
    vt_date_t to = {today.month == 12 ? today.year + 1 : today.year, today.month % 12 + 1, 1};
    cJSON *by_month = NULL, *by_group = NULL;
    int rc = vt_survey_figures(r, cfg, local_midnight_ms(from), local_midnight_ms(to), "month",
                               &by_month);
    if (rc == 0)
        rc = vt_survey_figures(r, cfg, local_midnight_ms(from), local_midnight_ms(to), "group",
                               &by_group);
    if (rc) {
        cJSON_Delete(by_month);
        return rc == VT_ENOMEM ? rc : VT_ESTORE;
    }
    char d[11];
    vt_date_format(from, d);
    cJSON_AddStringToObject(out, "from", d);
    vt_date_format(vt_date_add_days(to, -1), d);
    cJSON_AddStringToObject(out, "to", d);
    copy_figures(out, cJSON_GetObjectItemCaseSensitive(by_month, "total"));
    cJSON *a = cJSON_AddArrayToObject(out, "by_month");
    for (int m = months; m < months + VT_DASHBOARD_MONTHS; m++) {
        char key[16];
        snprintf(key, sizeof(key), "%04d-%02d", m / 12 % 10000, m % 12 + 1);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", key);
        copy_figures(o, row_by_key(by_month, key));
        cJSON_AddItemToArray(a, o);
    }
    a = cJSON_AddArrayToObject(out, "by_group");
    const cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(by_group, "rows"))
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(row, "key");
        const char *key = cJSON_IsString(k) ? k->valuestring : "";
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", key);
        cJSON_AddStringToObject(o, "label", group_label(cfg, key));
        copy_figures(o, row);
        cJSON_AddItemToArray(a, o);
    }
    cJSON_Delete(by_month);
    cJSON_Delete(by_group);
    return 0;
}

/* ---- hearing questions ---- */

/* Definition 7. */
static int hearings(struct vt_store_reader *r, cJSON *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_HEARINGS);
    if (!st)
        return VT_ESTORE;
    int rc = VT_ESTORE;
    if (vt_db_step(st) == VT_DB_ROW) {
        cJSON_AddNumberToObject(out, "received", (double)vt_db_col_int(st, 0));
        cJSON_AddNumberToObject(out, "answered", (double)vt_db_col_int(st, 1));
        rc = 0;
    }
    vt_db_reset(st);
    return rc;
}

int vt_dashboard_build(struct vt_store_reader *r, const struct vt_config *cfg, int64_t now_ms,
                       cJSON **out)
{
    *out = NULL;
    vt_date_t today = vt_date_from_unix_ms(now_ms);
    char t[11], soon[11], at[32];
    vt_date_format(today, t);
    vt_date_format(vt_calendar_add_business_days(&cfg->calendar, today, cfg->due_soon_days), soon);
    vt_time_format_iso(now_ms, at);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return VT_ENOMEM;
    cJSON_AddStringToObject(o, "generated_at", at);
    cJSON_AddStringToObject(o, "today", t);
    cJSON_AddStringToObject(o, "due_soon_until", soon);
    cJSON *vol = cJSON_AddObjectToObject(o, "volume");
    cJSON *comp = cJSON_AddObjectToObject(o, "compliance");
    cJSON *sat = cJSON_AddObjectToObject(o, "satisfaction");
    cJSON *hear = cJSON_AddObjectToObject(o, "hearings");
    int rc = vol && comp && sat && hear ? 0 : VT_ENOMEM;
    rc = rc ? rc : volume(r, cfg, t, soon, vol, comp);
    rc = rc ? rc : compliance(r, cfg, comp);
    rc = rc ? rc : satisfaction(r, cfg, today, sat);
    rc = rc ? rc : hearings(r, hear);
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return 0;
}
