/* test_hearing.c - the moderation state machine of hearing questions
 * (domain/hearing.h) on a real store in a temp dir, without the daemon:
 * every transition hearing.h draws, the ones it refuses, and what each
 * state does to the public answers report and the room's wall.
 *
 *   pendiente --approve--> aprobada --select--> seleccionada
 *   seleccionada --answered_live--> respondida_en_vivo
 *   pendiente --reject (reason)--> rechazada
 *   pendiente --merge (into a question of the same hearing)--> fusionada
 *   any --topic--> same status
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
#include "domain/hearing.h"
#include "domain/users.h"
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

/* Asks a question on the web; returns its radicado in out (or "" when the
 * job refused it) and the job's outcome. */
static int ask(const char *code, const char *text, const char *name, bool show_name, char *out,
               size_t outlen)
{
    struct vt_hearing_question q = {.cfg = &cfg,
                                    .code = code,
                                    .text = text,
                                    .name = name,
                                    .source = "web",
                                    .channel = "web",
                                    .show_name = show_name};
    ASSERT_EQ(vt_store_run(store, vt_hearing_question_run, &q), 0);
    snprintf(out, outlen, "%s", q.outcome == 0 && q.item ? q.item->radicado : "");
    vt_item_free(q.item);
    return q.outcome;
}

/* One moderation action; returns the job's outcome and, in m, the statuses
 * it saw and set. */
static int moderate(struct vt_hearing_moderation *m, const char *radicado, const char *action,
                    const char *arg)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->code, sizeof(m->code), "audiencia_2026");
    snprintf(m->radicado, sizeof(m->radicado), "%s", radicado);
    snprintf(m->action, sizeof(m->action), "%s", action);
    snprintf(m->actor, sizeof(m->actor), "staff:moderadora");
    if (arg && strcmp(action, "reject") == 0)
        snprintf(m->reason, sizeof(m->reason), "%s", arg);
    else if (arg && strcmp(action, "merge") == 0)
        snprintf(m->into, sizeof(m->into), "%s", arg);
    else if (arg)
        snprintf(m->topic, sizeof(m->topic), "%s", arg);
    ASSERT_EQ(vt_store_run(store, vt_hearing_moderate_run, m), 0);
    return m->outcome;
}

/* Moves radicado by action and checks where it went. */
static void move_ok(const char *radicado, const char *action, const char *arg, const char *from,
                    const char *to)
{
    struct vt_hearing_moderation m;
    ASSERT_EQ(moderate(&m, radicado, action, arg), 0);
    ASSERT_STREQ(m.from_status, from);
    ASSERT_STREQ(m.to_status, to);
}

/* Tries an action the machine refuses from status from. */
static void move_refused(const char *radicado, const char *action, const char *arg,
                         const char *from)
{
    struct vt_hearing_moderation m;
    ASSERT_EQ(moderate(&m, radicado, action, arg), VT_EINVAL);
    ASSERT_STREQ(m.from_status, from);
}

/* The status the moderators' list shows for radicado, "" when absent. */
static const char *status_of(struct vt_store_reader *r, const char *radicado)
{
    static char out[24];
    out[0] = '\0';
    cJSON *arr = vt_hearing_questions(r, "audiencia_2026", NULL, NULL), *q;
    ASSERT_TRUE(arr != NULL);
    cJSON_ArrayForEach(q, arr)
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(q, "radicado")), radicado) == 0)
            snprintf(out, sizeof(out), "%s",
                     cJSON_GetStringValue(cJSON_GetObjectItem(q, "status")));
    }
    cJSON_Delete(arr);
    return out;
}

/* What the public report says: the radicados it lists, comma-separated in
 * its order, and its counts. */
struct seen {
    char listed[400];
    int received, in_review, not_admitted;
};

static struct seen report(struct vt_store_reader *r)
{
    struct seen s = {0};
    cJSON *o = vt_hearing_report(r, "audiencia_2026"), *q;
    ASSERT_TRUE(o != NULL);
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(o, "questions"))
    {
        size_t n = strlen(s.listed);
        snprintf(s.listed + n, sizeof(s.listed) - n, "%s%s", n ? "," : "",
                 cJSON_GetStringValue(cJSON_GetObjectItem(q, "radicado")));
    }
    s.received = cJSON_GetObjectItem(o, "received")->valueint;
    s.in_review = cJSON_GetObjectItem(o, "in_review")->valueint;
    s.not_admitted = cJSON_GetObjectItem(o, "not_admitted")->valueint;
    cJSON_Delete(o);
    return s;
}

/* The report's entry for radicado (a copy the caller frees), or NULL. */
static cJSON *report_entry(struct vt_store_reader *r, const char *radicado)
{
    cJSON *o = vt_hearing_report(r, "audiencia_2026"), *q, *found = NULL;
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(o, "questions"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(q, "radicado")), radicado) == 0)
            found = cJSON_Duplicate(q, 1);
    }
    cJSON_Delete(o);
    return found;
}

/* The radicados on the wall, comma-separated in its order. */
static void wall(struct vt_store_reader *r, char *out, size_t outlen)
{
    out[0] = '\0';
    char *s = vt_hearing_wall_json(r, "audiencia_2026");
    ASSERT_TRUE(s != NULL);
    cJSON *o = cJSON_Parse(s), *q;
    free(s);
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(o, "questions"))
    {
        size_t n = strlen(out);
        snprintf(out + n, outlen - n, "%s%s", n ? "," : "",
                 cJSON_GetStringValue(cJSON_GetObjectItem(q, "radicado")));
    }
    cJSON_Delete(o);
}

/* A written answer from the staff queue, as casework records it. */
struct written {
    const char *radicado;
    int64_t user_id;
};

static int answer_in_writing(struct vt_store_tx *tx, void *ctx)
{
    static const char SQL[] =
        "INSERT INTO responses (item_id, user_id, text, channel, at) "
        "SELECT id, ?2, 'Respuesta escrita de la entidad.', 'publicacion', ?3 FROM items "
        "WHERE radicado = ?1";
    struct written *w = ctx;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, w->radicado);
    vt_db_bind_int(st, 2, w->user_id);
    vt_db_bind_int(st, 3, vt_store_tx_now(tx));
    int rc = vt_db_run(st);
    return rc ? rc : vt_db_changes(st) == 1 ? 0 : VT_ENOTFOUND;
}

static int user_id(struct vt_store_tx *tx, void *ctx)
{
    static const char SQL[] = "SELECT id FROM users WHERE username = 'moderadora'";
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL);
    if (!st)
        return VT_ESTORE;
    int rc = vt_db_step(st);
    *(int64_t *)ctx = rc == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    return rc == VT_DB_ROW ? 0 : VT_ENOTFOUND;
}

int main(void)
{
    char dir[] = "/tmp/vt-hearing-XXXXXX", err[300];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    ASSERT_TRUE(sodium_init() >= 0);
    ASSERT_EQ(vt_config_defaults(&cfg), 0);
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);
    struct vt_store_options opt = {
        {.data_dir = dir}, 64, {.stamp = stamp, .now_ms = clock_now}, NULL};
    ASSERT_EQ(vt_store_open(&opt, &store, err, sizeof(err)), 0);
    struct vt_store_reader *r = vt_store_reader_new(store);
    ASSERT_TRUE(r != NULL);

    /* A hearing whose question window is open from 1 to 20 March 2026. */
    int64_t open_at = 0, close_at = 0;
    ASSERT_EQ(vt_time_parse_iso("2026-03-01T08:00:00-05:00", &open_at), 0);
    ASSERT_EQ(vt_time_parse_iso("2026-03-20T18:00:00-05:00", &close_at), 0);
    struct vt_hearing_create hc = {.h = {.code = "audiencia_2026",
                                         .name = "Rendición de cuentas 2026",
                                         .date = "2026-03-27",
                                         .place = "Concejo municipal",
                                         .convoked_on = "2026-02-20",
                                         .open_at = open_at,
                                         .close_at = close_at}};
    snprintf(hc.actor, sizeof(hc.actor), "staff:admin");
    fake_now = open_at - 1000;
    ASSERT_EQ(vt_store_run(store, vt_hearing_create_run, &hc), 0);
    ASSERT_EQ(hc.outcome, 0);
    ASSERT_EQ(vt_store_run(store, vt_hearing_create_run, &hc), 0);
    ASSERT_EQ(hc.outcome, VT_EEXIST);

    /* Asked before the window opens, for no hearing: refused, nothing kept. */
    char q1[48], q2[48], q3[48], q4[48], q5[48], q6[48], none[48];
    ASSERT_EQ(ask("audiencia_2026", "¿Muy pronto?", NULL, false, none, sizeof(none)), VT_ERANGE);
    fake_now = open_at + 3600 * 1000;
    ASSERT_EQ(ask("otra", "¿Existe?", NULL, false, none, sizeof(none)), VT_ENOTFOUND);

    /* Six questions, all pendiente; the report lists none and counts them. */
    ASSERT_EQ(ask("audiencia_2026", "¿Cuándo arreglan la vía?", "Ana", true, q1, sizeof(q1)), 0);
    fake_now += 1000;
    ASSERT_EQ(ask("audiencia_2026", "Texto ofensivo", NULL, false, q2, sizeof(q2)), 0);
    fake_now += 1000;
    ASSERT_EQ(ask("audiencia_2026", "¿Y la vía principal?", NULL, false, q3, sizeof(q3)), 0);
    fake_now += 1000;
    ASSERT_EQ(ask("audiencia_2026", "¿El acueducto?", NULL, false, q4, sizeof(q4)), 0);
    fake_now += 1000;
    ASSERT_EQ(ask("audiencia_2026", "¿Qué pasa con el agua?", NULL, false, q5, sizeof(q5)), 0);
    fake_now += 1000;
    ASSERT_EQ(ask("audiencia_2026", "¿Presupuesto de cultura?", "Luis", false, q6, sizeof(q6)), 0);
    ASSERT_STREQ(status_of(r, q1), "pendiente");
    struct seen s = report(r);
    ASSERT_STREQ(s.listed, "");
    ASSERT_EQ(s.received, 6);
    ASSERT_EQ(s.in_review, 6);
    ASSERT_EQ(s.not_admitted, 0);
    char w[400];
    wall(r, w, sizeof(w));
    ASSERT_STREQ(w, "");

    /* From pendiente, only approve, reject and merge (and topic). */
    move_refused(q1, "select", NULL, "pendiente");
    move_refused(q1, "answered_live", NULL, "pendiente");
    move_refused(q1, "publish", NULL, "pendiente"); /* no such action */
    move_ok(q1, "approve", NULL, "pendiente", "aprobada");
    ASSERT_STREQ(status_of(r, q1), "aprobada");
    s = report(r);
    ASSERT_STREQ(s.listed, q1);
    ASSERT_EQ(s.in_review, 5);
    wall(r, w, sizeof(w));
    ASSERT_STREQ(w, q1);

    /* From aprobada, only select (and topic). */
    move_refused(q1, "approve", NULL, "aprobada");
    move_refused(q1, "reject", "Ya no", "aprobada");
    move_refused(q1, "merge", q3, "aprobada");
    move_refused(q1, "answered_live", NULL, "aprobada");
    move_ok(q1, "topic", "Vías", "aprobada", "aprobada");
    move_ok(q1, "select", NULL, "aprobada", "seleccionada");

    /* From seleccionada, only answered_live (and topic). */
    move_refused(q1, "select", NULL, "seleccionada");
    move_refused(q1, "approve", NULL, "seleccionada");
    move_refused(q1, "reject", "Ya no", "seleccionada");
    ASSERT_STREQ(status_of(r, q1), "seleccionada");
    ASSERT_STREQ(report(r).listed, q1);

    /* Rejected with its reason: counted by reason, never listed, and final. */
    move_ok(q2, "reject", "Lenguaje ofensivo", "pendiente", "rechazada");
    move_refused(q2, "approve", NULL, "rechazada");
    move_refused(q2, "merge", q1, "rechazada");
    move_refused(q2, "select", NULL, "rechazada");
    move_ok(q2, "topic", "Otros", "rechazada", "rechazada");
    s = report(r);
    ASSERT_STREQ(s.listed, q1);
    ASSERT_EQ(s.not_admitted, 1);
    ASSERT_EQ(s.in_review, 4);
    cJSON *o = vt_hearing_report(r, "audiencia_2026");
    ASSERT_EQ(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "not_admitted_by_reason"), "Lenguaje ofensivo")
            ->valueint,
        1);
    cJSON_Delete(o);

    /* Merged into an approved question: listed, pointing at it. Into itself,
     * or into a radicado that is no question of this hearing: not found. */
    struct vt_hearing_moderation m;
    ASSERT_EQ(moderate(&m, q3, "merge", q3), VT_ENOTFOUND);
    ASSERT_EQ(moderate(&m, q3, "merge", "2026-999999"), VT_ENOTFOUND);
    ASSERT_EQ(moderate(&m, "2026-999999", "approve", NULL), VT_ENOTFOUND);
    move_ok(q3, "merge", q1, "pendiente", "fusionada");
    move_refused(q3, "approve", NULL, "fusionada");
    move_refused(q3, "merge", q1, "fusionada");
    cJSON *e = report_entry(r, q3);
    ASSERT_TRUE(e != NULL);
    ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(e, "merged_into")), q1);
    cJSON_Delete(e);

    /* Merged into a pending question: in review with it, until it is approved. */
    move_ok(q4, "merge", q5, "pendiente", "fusionada");
    s = report(r);
    ASSERT_TRUE(strstr(s.listed, q4) == NULL && strstr(s.listed, q5) == NULL);
    ASSERT_EQ(s.in_review, 3); /* q4, q5, q6 */
    move_ok(q5, "approve", NULL, "pendiente", "aprobada");
    s = report(r);
    ASSERT_TRUE(strstr(s.listed, q4) != NULL && strstr(s.listed, q5) != NULL);
    ASSERT_EQ(s.in_review, 1);

    /* Merged into a question later rejected: not admitted with it. */
    char q7[48];
    ASSERT_EQ(ask("audiencia_2026", "Más texto ofensivo", NULL, false, q7, sizeof(q7)), 0);
    char q8[48];
    ASSERT_EQ(ask("audiencia_2026", "Repetido", NULL, false, q8, sizeof(q8)), 0);
    move_ok(q8, "merge", q7, "pendiente", "fusionada");
    move_ok(q7, "reject", "Lenguaje ofensivo", "pendiente", "rechazada");
    s = report(r);
    ASSERT_TRUE(strstr(s.listed, q7) == NULL && strstr(s.listed, q8) == NULL);
    ASSERT_EQ(s.not_admitted, 3);

    /* The wall: selected first, then approved, newest first; never pending,
     * rejected, merged or answered ones. */
    wall(r, w, sizeof(w));
    char want[200];
    snprintf(want, sizeof(want), "%s,%s", q1, q5);
    ASSERT_STREQ(w, want);

    /* Answered live: shown as such, off the wall, and final. */
    move_ok(q1, "answered_live", NULL, "seleccionada", "respondida_en_vivo");
    move_refused(q1, "answered_live", NULL, "respondida_en_vivo");
    move_refused(q1, "select", NULL, "respondida_en_vivo");
    move_refused(q1, "approve", NULL, "respondida_en_vivo");
    e = report_entry(r, q1);
    ASSERT_TRUE(e != NULL);
    ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(e, "answer_kind")), "en_vivo");
    ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(e, "topic")), "Vías");
    ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(e, "name")), "Ana");
    cJSON_Delete(e);
    wall(r, w, sizeof(w));
    ASSERT_STREQ(w, q5);

    /* A pending question answered in writing by the staff queue is shown
     * with its answer; its asker's name only with consent. */
    ASSERT_EQ(vt_users_add(store, "moderadora", "moderador", NULL, "una clave larga y segura", err,
                           sizeof(err)),
              0);
    struct written wr = {q6, 0};
    ASSERT_EQ(vt_store_run(store, user_id, &wr.user_id), 0);
    ASSERT_EQ(vt_store_run(store, answer_in_writing, &wr), 0);
    e = report_entry(r, q6);
    ASSERT_TRUE(e != NULL);
    ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(e, "answer_kind")), "escrita");
    ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(e, "answer")),
                 "Respuesta escrita de la entidad.");
    ASSERT_TRUE(cJSON_GetObjectItem(e, "name") == NULL);
    ASSERT_STREQ(status_of(r, q6), "pendiente");
    cJSON_Delete(e);
    s = report(r);
    ASSERT_EQ(s.received, 8);
    ASSERT_EQ(s.in_review, 0);
    ASSERT_EQ(s.not_admitted, 3);

    /* The window closes: no more questions. */
    fake_now = close_at;
    ASSERT_EQ(ask("audiencia_2026", "¿Tarde?", NULL, false, none, sizeof(none)), VT_ERANGE);
    ASSERT_EQ(report(r).received, 8);

    vt_store_reader_free(r);
    vt_store_close(store);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    vt_config_cleanup(&cfg);
    VT_TEST_END();
}
