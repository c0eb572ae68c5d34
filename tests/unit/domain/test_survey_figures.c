/* test_survey_figures.c - the satisfaction figures (vt_survey_figures) on a
 * real store without the daemon, around the edges of a local month: an
 * answer at 23:30 in Bogotá on 31 March is March's although it is already
 * April in UTC; CSAT, NPS and response rates by month and in total.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "core/item.h"
#include "domain/survey.h"
#include "store/db.h"
#include "store/store.h"
#include "vt_test.h"

static struct vt_config cfg;
static int64_t fake_now;
static struct vt_store *store;

static int64_t clock_now(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static void stamp(void *ctx, struct vt_item *it)
{
    (void)ctx;
    vt_item_stamp(&cfg, it);
}

static int64_t at(const char *iso)
{
    int64_t ms = 0;
    ASSERT_EQ(vt_time_parse_iso(iso, &ms), 0);
    return ms;
}

/* A public survey "percepcion": a rating and an NPS question. */
static int add_survey(struct vt_store_tx *tx, void *ctx)
{
    (void)ctx;
    static const char SQL_SURVEY[] =
        "INSERT INTO surveys (code, purpose, current_version, created_at, updated_at) "
        "VALUES ('percepcion', 'public', 1, 0, 0)";
    static const char SQL_VERSION[] =
        "INSERT INTO survey_versions (survey_id, version, definition, created_at) "
        "SELECT id, 1, '{\"title\":\"Percepción\",\"questions\":[{\"id\":\"sat\",\"type\":"
        "\"rating\",\"text\":\"¿Satisfecho?\"},{\"id\":\"rec\",\"type\":\"nps\",\"text\":"
        "\"¿Recomendaría?\"}]}', 0 FROM surveys WHERE code = 'percepcion'";
    struct vt_db *db = vt_store_tx_db(tx);
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_SURVEY);
    if (!st || vt_db_run(st))
        return VT_ESTORE;
    st = vt_db_prepare(db, SQL_VERSION);
    return st && vt_db_run(st) == 0 ? 0 : VT_ESTORE;
}

/* An invitation made at created_at (Unix ms), used or not. */
struct invitation {
    int64_t created_at;
    bool used;
};

static int add_invitation(struct vt_store_tx *tx, void *ctx)
{
    static const char SQL[] =
        "INSERT INTO survey_invitations (survey_id, token_hash, channel, created_at, expires_at, "
        "used_at) SELECT id, ?1, 'email', ?2, ?2 + 86400000, "
        "CASE WHEN ?3 = 1 THEN ?2 + 1000 END FROM surveys WHERE code = 'percepcion'";
    const struct invitation *inv = ctx;
    unsigned char hash[32];
    randombytes_buf(hash, sizeof(hash));
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_blob(st, 1, hash, sizeof(hash));
    vt_db_bind_int(st, 2, inv->created_at);
    vt_db_bind_int(st, 3, inv->used);
    return vt_db_run(st);
}

static void invite(const char *iso, bool used)
{
    struct invitation inv = {at(iso), used};
    ASSERT_EQ(vt_store_run(store, add_invitation, &inv), 0);
}

/* Answers the public survey at the local time iso. */
static void answer(const char *iso, int csat, int nps)
{
    cJSON *answers = cJSON_CreateObject();
    cJSON_AddNumberToObject(answers, "sat", csat);
    cJSON_AddNumberToObject(answers, "rec", nps);
    struct vt_survey_answer a = {.cfg = &cfg,
                                 .code = "percepcion",
                                 .channel = "web",
                                 .answers = answers,
                                 .csat = csat,
                                 .nps = nps};
    fake_now = at(iso);
    ASSERT_EQ(vt_store_run(store, vt_survey_answer_run, &a), 0);
    ASSERT_EQ(a.outcome, 0);
    vt_item_free(a.item);
    cJSON_Delete(answers);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ASSERT_TRUE(cJSON_IsNumber(v));
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static bool is_null(const cJSON *o, const char *key)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const cJSON *row(const cJSON *fig, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(fig, "rows"), i);
}

static const char *key(const cJSON *fig, int i)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row(fig, i), "key"));
}

int main(void)
{
    char dir[] = "/tmp/vt-survey-XXXXXX", err[300];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    ASSERT_TRUE(sodium_init() >= 0);
    ASSERT_EQ(vt_config_defaults(&cfg), 0);
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);
    struct vt_store_options opt = {
        {.data_dir = dir}, 64, {.stamp = stamp, .now_ms = clock_now}, NULL};
    ASSERT_EQ(vt_store_open(&opt, &store, err, sizeof(err)), 0);
    struct vt_store_reader *r = vt_store_reader_new(store);
    fake_now = at("2026-02-01T00:00:00-05:00");
    ASSERT_EQ(vt_store_run(store, add_survey, NULL), 0);

    /* Answers: one late on 31 March (April in UTC), two in April; one just
     * before the range and one just after it, not counted. */
    answer("2026-01-31T23:59:59-05:00", 1, 0);
    answer("2026-03-31T23:30:00-05:00", 5, 10);
    answer("2026-04-01T00:30:00-05:00", 2, 3);
    answer("2026-04-15T10:00:00-05:00", 4, 9);
    answer("2026-05-01T00:00:00-05:00", 1, 0);
    /* Invitations: one late on 28 February (March in UTC) and never
     * answered, one on 31 March at night, used, two in April, one used. */
    invite("2026-02-28T23:30:00-05:00", false);
    invite("2026-03-31T22:00:00-05:00", true);
    invite("2026-04-01T01:00:00-05:00", false);
    invite("2026-04-10T09:00:00-05:00", true);

    int64_t from = at("2026-02-01T00:00:00-05:00"), to = at("2026-05-01T00:00:00-05:00");
    cJSON *fig = NULL;
    ASSERT_EQ(vt_survey_figures(r, &cfg, from, to, "month", &fig), 0);
    ASSERT_TRUE(fig != NULL);
    /* The months with answers in order, then a month with invitations only. */
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fig, "rows")), 3);
    ASSERT_STREQ(key(fig, 0), "2026-03");
    ASSERT_EQ(num(row(fig, 0), "answers"), 1);
    ASSERT_EQ(num(row(fig, 0), "csat"), 100);
    ASSERT_EQ(num(row(fig, 0), "nps"), 100);
    ASSERT_EQ(num(row(fig, 0), "invitations"), 1);
    ASSERT_EQ(num(row(fig, 0), "response_rate"), 100);
    ASSERT_STREQ(key(fig, 1), "2026-04");
    ASSERT_EQ(num(row(fig, 1), "answers"), 2);
    ASSERT_EQ(num(row(fig, 1), "csat_n"), 2);
    ASSERT_EQ(num(row(fig, 1), "csat"), 50);
    ASSERT_EQ(num(row(fig, 1), "promoters"), 1);
    ASSERT_EQ(num(row(fig, 1), "detractors"), 1);
    ASSERT_EQ(num(row(fig, 1), "nps"), 0);
    ASSERT_EQ(num(row(fig, 1), "invitations"), 2);
    ASSERT_EQ(num(row(fig, 1), "invitations_answered"), 1);
    ASSERT_EQ(num(row(fig, 1), "response_rate"), 50);
    ASSERT_STREQ(key(fig, 2), "2026-02");
    ASSERT_EQ(num(row(fig, 2), "answers"), 0);
    ASSERT_TRUE(is_null(row(fig, 2), "csat") && is_null(row(fig, 2), "nps"));
    ASSERT_EQ(num(row(fig, 2), "invitations"), 1);
    ASSERT_EQ(num(row(fig, 2), "response_rate"), 0);
    /* The total: 3 answers, ratings 5, 2, 4 (2 of 3 satisfied: 66.7 %), NPS
     * 10, 3, 9 (2 promoters, 1 detractor of 3: 33.3). */
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(fig, "total");
    ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(total, "key")), "total");
    ASSERT_EQ(num(total, "answers"), 3);
    ASSERT_EQ(num(total, "csat") * 10, 667);
    ASSERT_EQ(num(total, "nps") * 10, 333);
    ASSERT_EQ(num(fig, "invitations"), 4);
    ASSERT_EQ(num(fig, "invitations_answered"), 2);
    ASSERT_EQ(num(fig, "response_rate"), 50);
    cJSON_Delete(fig);

    /* By survey: one row with its rate; an unknown grouping is refused. */
    ASSERT_EQ(vt_survey_figures(r, &cfg, from, to, "survey", &fig), 0);
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fig, "rows")), 1);
    ASSERT_STREQ(key(fig, 0), "percepcion");
    ASSERT_EQ(num(row(fig, 0), "answers"), 3);
    ASSERT_EQ(num(row(fig, 0), "response_rate"), 50);
    cJSON_Delete(fig);
    ASSERT_EQ(vt_survey_figures(r, &cfg, from, to, "week", &fig), VT_EINVAL);

    /* A range without answers: no rows, no total. */
    ASSERT_EQ(vt_survey_figures(r, &cfg, at("2025-01-01T00:00:00-05:00"),
                                at("2025-02-01T00:00:00-05:00"), "month", &fig),
              0);
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fig, "rows")), 0);
    ASSERT_TRUE(is_null(fig, "total"));
    ASSERT_TRUE(is_null(fig, "response_rate"));
    cJSON_Delete(fig);

    vt_store_reader_free(r);
    vt_store_close(store);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    vt_config_cleanup(&cfg);
    VT_TEST_END();
}
