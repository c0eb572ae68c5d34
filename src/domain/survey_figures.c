/* survey_figures.c - the satisfaction figures of surveys (vt_survey_figures
 * in survey.h): CSAT, NPS and response rates, by survey, channel, group,
 * dependencia or month.
 *
 * Owns: the read-side SQL over survey_answers and survey_invitations.
 * Must not: write.
 *
 * By survey, channel, group and dependencia the database groups the rows.
 * By month it does not: a month is a local (Bogotá) calendar month, which
 * only C knows how to compute in every database (vt_date_from_unix_ms), so
 * the rows come in time order and C cuts them into months as they pass (one
 * counter at a time, nothing kept per row).
 */
#include <stdio.h>
#include <string.h>

#include "core/calendar.h"
#include "core/error.h"
#include "domain/survey.h"
#include "store/db.h"

/* One row's counts. */
struct tally {
    long long answers, csat_ok, csat_n, promoters, detractors, nps_n;
};

#define FIGURES(KEY)                                                                               \
    "SELECT " KEY " AS k, count(*), sum(CASE WHEN a.csat >= 4 THEN 1 ELSE 0 END), "                \
    "count(a.csat), sum(CASE WHEN a.nps >= 9 THEN 1 ELSE 0 END), "                                 \
    "sum(CASE WHEN a.nps <= ?3 THEN 1 ELSE 0 END), count(a.nps) "                                  \
    "FROM survey_answers a JOIN items i ON i.id = a.item_id JOIN surveys s ON s.id = a.survey_id " \
    "LEFT JOIN items src ON src.id = a.source_item_id "                                            \
    "WHERE i.received_at >= ?1 AND i.received_at < ?2 GROUP BY k ORDER BY k"

static const char SQL_FIG_SURVEY[] = FIGURES("s.code");
static const char SQL_FIG_CHANNEL[] = FIGURES("i.channel");
static const char SQL_FIG_GROUP[] = FIGURES("i.stakeholder_group");
static const char SQL_FIG_DEP[] = FIGURES("COALESCE(src.dependencia, ?4)");
/* The total: always one row (answers 0: no total). */
static const char SQL_FIG_TOTAL[] =
    "SELECT 'total', count(*), sum(CASE WHEN a.csat >= 4 THEN 1 ELSE 0 END), count(a.csat), "
    "sum(CASE WHEN a.nps >= 9 THEN 1 ELSE 0 END), sum(CASE WHEN a.nps <= ?3 THEN 1 ELSE 0 END), "
    "count(a.nps) FROM survey_answers a JOIN items i ON i.id = a.item_id "
    "JOIN surveys s ON s.id = a.survey_id WHERE i.received_at >= ?1 AND i.received_at < ?2";
/* By month: each answer, in time order. */
static const char SQL_FIG_MONTH[] =
    "SELECT i.received_at, a.csat, a.nps "
    "FROM survey_answers a JOIN items i ON i.id = a.item_id JOIN surveys s ON s.id = a.survey_id "
    "WHERE i.received_at >= ?1 AND i.received_at < ?2 ORDER BY i.received_at";

/* Invitations by the same keys (not by channel: an email invitation is
 * answered on the web page), for each row's response rate. */
#define INVITATIONS(KEY)                                                                           \
    "SELECT " KEY " AS k, count(*), count(v.used_at) FROM survey_invitations v "                   \
    "JOIN surveys s ON s.id = v.survey_id LEFT JOIN items src ON src.id = v.item_id "              \
    "WHERE v.created_at >= ?1 AND v.created_at < ?2 GROUP BY k"
static const char SQL_INV_SURVEY[] = INVITATIONS("s.code");
static const char SQL_INV_GROUP[] = INVITATIONS("src.stakeholder_group");
static const char SQL_INV_DEP[] = INVITATIONS("COALESCE(src.dependencia, ?3)");
static const char SQL_INV_MONTH[] =
    "SELECT v.created_at, CASE WHEN v.used_at IS NULL THEN 0 ELSE 1 END "
    "FROM survey_invitations v JOIN surveys s ON s.id = v.survey_id "
    "WHERE v.created_at >= ?1 AND v.created_at < ?2 ORDER BY v.created_at";
static const char SQL_INVITATIONS[] =
    "SELECT count(*), count(used_at) FROM survey_invitations WHERE created_at >= ?1 AND "
    "created_at < ?2";

#define MONTH_LEN 16

/* "YYYY-MM" of the local month of unix_ms. */
static void month_of(int64_t unix_ms, char out[MONTH_LEN])
{
    vt_date_t d = vt_date_from_unix_ms(unix_ms);
    snprintf(out, MONTH_LEN, "%04d-%02d", d.year, d.month);
}

static void add_rate(cJSON *o, long long sent, long long used)
{
    cJSON_AddNumberToObject(o, "invitations", (double)sent);
    cJSON_AddNumberToObject(o, "invitations_answered", (double)used);
    if (sent)
        cJSON_AddNumberToObject(o, "response_rate", (double)((used * 1000 + sent / 2) / sent) / 10);
    else
        cJSON_AddNullToObject(o, "response_rate");
}

static cJSON *figure_row(const char *key, const struct tally *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddNumberToObject(o, "answers", (double)t->answers);
    /* Percentages with one decimal; null without a sample. */
    if (t->csat_n)
        cJSON_AddNumberToObject(o, "csat",
                                (double)((t->csat_ok * 1000 + t->csat_n / 2) / t->csat_n) / 10);
    else
        cJSON_AddNullToObject(o, "csat");
    cJSON_AddNumberToObject(o, "csat_n", (double)t->csat_n);
    if (t->nps_n) {
        long long net = t->promoters - t->detractors;
        long long tenths = (net * 1000 + (net >= 0 ? t->nps_n / 2 : -(t->nps_n / 2))) / t->nps_n;
        cJSON_AddNumberToObject(o, "nps", (double)tenths / 10);
    } else
        cJSON_AddNullToObject(o, "nps");
    cJSON_AddNumberToObject(o, "nps_n", (double)t->nps_n);
    cJSON_AddNumberToObject(o, "promoters", (double)t->promoters);
    cJSON_AddNumberToObject(o, "detractors", (double)t->detractors);
    return o;
}

/* A FIGURES row (k and six counts; a sum over no row is NULL, read as 0). */
static cJSON *figure_of(struct vt_db_stmt *st)
{
    struct tally t = {.answers = vt_db_col_int(st, 1),
                      .csat_ok = vt_db_col_int(st, 2),
                      .csat_n = vt_db_col_int(st, 3),
                      .promoters = vt_db_col_int(st, 4),
                      .detractors = vt_db_col_int(st, 5),
                      .nps_n = vt_db_col_int(st, 6)};
    return figure_row(vt_db_col_str(st, 0), &t);
}

static void binds(struct vt_db_stmt *st, const struct vt_config *cfg, int64_t from_ms,
                  int64_t to_ms)
{
    vt_db_bind_int(st, 1, from_ms);
    vt_db_bind_int(st, 2, to_ms);
    vt_db_bind_int(st, 3, cfg->surveys.detractor_nps_max);
}

/* The rows by a key the database groups: SQL_FIG_* into rows. */
static int rows_grouped(struct vt_db *db, const struct vt_config *cfg, const char *sql,
                        int64_t from_ms, int64_t to_ms, cJSON *rows)
{
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    if (!st)
        return VT_ESTORE;
    binds(st, cfg, from_ms, to_ms);
    if (sql == SQL_FIG_DEP)
        vt_db_bind_text(st, 4, cfg->staff.triage_dependencia);
    int rc;
    while ((rc = vt_db_step(st)) == VT_DB_ROW)
        cJSON_AddItemToArray(rows, figure_of(st));
    vt_db_reset(st);
    return rc == VT_DB_DONE ? 0 : VT_ESTORE;
}

/* The rows by month, in order: each answer counted into its month's tally,
 * which becomes a row when the next month starts. */
static int rows_by_month(struct vt_db *db, const struct vt_config *cfg, int64_t from_ms,
                         int64_t to_ms, cJSON *rows)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_FIG_MONTH);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, from_ms);
    vt_db_bind_int(st, 2, to_ms);
    struct tally t = {0};
    char cur[MONTH_LEN] = "", month[MONTH_LEN];
    int rc;
    while ((rc = vt_db_step(st)) == VT_DB_ROW) {
        month_of(vt_db_col_int(st, 0), month);
        if (strcmp(month, cur) != 0) {
            if (t.answers)
                cJSON_AddItemToArray(rows, figure_row(cur, &t));
            memset(&t, 0, sizeof(t));
            memcpy(cur, month, sizeof(cur));
        }
        t.answers++;
        if (!vt_db_col_null(st, 1)) {
            t.csat_n++;
            t.csat_ok += vt_db_col_int(st, 1) >= 4;
        }
        if (!vt_db_col_null(st, 2)) {
            t.nps_n++;
            int64_t nps = vt_db_col_int(st, 2);
            t.promoters += nps >= 9;
            t.detractors += nps <= cfg->surveys.detractor_nps_max;
        }
    }
    vt_db_reset(st);
    if (t.answers)
        cJSON_AddItemToArray(rows, figure_row(cur, &t));
    return rc == VT_DB_DONE ? 0 : VT_ESTORE;
}

/* Adds key's invitations and response rate to its row (a row with no answers
 * yet is added). */
static void rate_row(cJSON *rows, const char *key, long long sent, long long used)
{
    cJSON *row = NULL, *e;
    cJSON_ArrayForEach(e, rows)
    {
        const cJSON *rk = cJSON_GetObjectItemCaseSensitive(e, "key");
        if (cJSON_IsString(rk) && strcmp(rk->valuestring, key) == 0)
            row = e;
    }
    if (!row) {
        static const struct tally none = {0};
        row = figure_row(key, &none);
        cJSON_AddItemToArray(rows, row);
    }
    add_rate(row, sent, used);
}

static int rates_grouped(struct vt_db *db, const struct vt_config *cfg, const char *sql,
                         int64_t from_ms, int64_t to_ms, cJSON *rows)
{
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, from_ms);
    vt_db_bind_int(st, 2, to_ms);
    if (sql == SQL_INV_DEP)
        vt_db_bind_text(st, 3, cfg->staff.triage_dependencia);
    int rc;
    while ((rc = vt_db_step(st)) == VT_DB_ROW)
        rate_row(rows, vt_db_col_str(st, 0), vt_db_col_int(st, 1), vt_db_col_int(st, 2));
    vt_db_reset(st);
    return rc == VT_DB_DONE ? 0 : VT_ESTORE;
}

static int rates_by_month(struct vt_db *db, int64_t from_ms, int64_t to_ms, cJSON *rows)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_INV_MONTH);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, from_ms);
    vt_db_bind_int(st, 2, to_ms);
    long long sent = 0, used = 0;
    char cur[MONTH_LEN] = "", month[MONTH_LEN];
    int rc;
    while ((rc = vt_db_step(st)) == VT_DB_ROW) {
        month_of(vt_db_col_int(st, 0), month);
        if (strcmp(month, cur) != 0) {
            if (sent)
                rate_row(rows, cur, sent, used);
            sent = used = 0;
            memcpy(cur, month, sizeof(cur));
        }
        sent++;
        used += vt_db_col_int(st, 1);
    }
    vt_db_reset(st);
    if (sent)
        rate_row(rows, cur, sent, used);
    return rc == VT_DB_DONE ? 0 : VT_ESTORE;
}

int vt_survey_figures(struct vt_store_reader *r, const struct vt_config *cfg, int64_t from_ms,
                      int64_t to_ms, const char *by, cJSON **out)
{
    /* sql NULL: by month, in C. inv: the invitations by the same key (none
     * by channel). */
    static const struct {
        const char *by, *sql, *inv;
    } kinds[] = {{"survey", SQL_FIG_SURVEY, SQL_INV_SURVEY},
                 {"channel", SQL_FIG_CHANNEL, NULL},
                 {"group", SQL_FIG_GROUP, SQL_INV_GROUP},
                 {"dependencia", SQL_FIG_DEP, SQL_INV_DEP},
                 {"month", NULL, NULL}};
    size_t k = 0, n = sizeof(kinds) / sizeof(kinds[0]);
    while (k < n && !(by && strcmp(kinds[k].by, by) == 0))
        k++;
    if (k == n)
        return VT_EINVAL;
    struct vt_db *db = vt_store_reader_db(r);
    bool month = kinds[k].sql == NULL;
    cJSON *o = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(o, "rows");
    cJSON_AddStringToObject(o, "by", by);
    int rc = month ? rows_by_month(db, cfg, from_ms, to_ms, rows)
                   : rows_grouped(db, cfg, kinds[k].sql, from_ms, to_ms, rows);
    if (rc)
        goto fail;
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_FIG_TOTAL);
    if (!st)
        goto fail;
    binds(st, cfg, from_ms, to_ms);
    int s = vt_db_step(st);
    if (s == VT_DB_ROW && vt_db_col_int(st, 1) > 0)
        cJSON_AddItemToObject(o, "total", figure_of(st));
    else
        cJSON_AddNullToObject(o, "total");
    vt_db_reset(st);
    if (s < 0 || !(st = vt_db_prepare(db, SQL_INVITATIONS)))
        goto fail;
    vt_db_bind_int(st, 1, from_ms);
    vt_db_bind_int(st, 2, to_ms);
    if ((s = vt_db_step(st)) == VT_DB_ROW)
        add_rate(o, vt_db_col_int(st, 0), vt_db_col_int(st, 1));
    vt_db_reset(st);
    if (s < 0)
        goto fail;
    if (month)
        rc = rates_by_month(db, from_ms, to_ms, rows);
    else if (kinds[k].inv)
        rc = rates_grouped(db, cfg, kinds[k].inv, from_ms, to_ms, rows);
    if (rc)
        goto fail;
    *out = o;
    return 0;
fail:
    cJSON_Delete(o);
    return VT_ESTORE;
}
