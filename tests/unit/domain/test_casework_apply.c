/* test_casework_apply.c - vt_casework_apply, _sweep and _citizen_replied on a
 * real store in a temporary directory, without the daemon: each action runs
 * as a store job (vt_store_run), as the staff API runs it.
 *
 * The requester's channel is a fake email sender plugged into struct
 * vt_domain, as a channel plugs in: it records every notice it is handed and
 * queues a real outbox row (vt_outbox_add), or refuses the address when told
 * to. The test walks one item through the state machine (allowed and refused
 * transitions, scope, roles, legal limits) and checks what each step left:
 * the status, the audit event and its payload, the outbox rows, the notices,
 * and the change told to the live feed after the commit.
 */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/config.h"
#include "core/error.h"
#include "core/item.h"
#include "domain/casework.h"
#include "domain/dependencias.h"
#include "domain/domain.h"
#include "domain/users.h"
#include "outbox/outbox.h"
#include "store/db.h"
#include "store/store.h"
#include "vt_test.h"

static struct vt_config cfg;
static int64_t fake_now;
static struct vt_store *store;
static struct vt_store_reader *reader;

/* ---- the store's hooks: a fake clock and the changes told after commit ---- */

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

static pthread_mutex_t changes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vt_item_change last_change;
static int n_changes;

static int changes_seen(void)
{
    pthread_mutex_lock(&changes_lock);
    int n = n_changes;
    pthread_mutex_unlock(&changes_lock);
    return n;
}

static void changed(void *ctx, const struct vt_item_change *c, size_t n)
{
    (void)ctx;
    pthread_mutex_lock(&changes_lock);
    n_changes += (int)n;
    if (n)
        last_change = c[n - 1];
    pthread_mutex_unlock(&changes_lock);
}

/* ---- the fake channel ---- */

static struct {
    int calls;
    int refuse; /* when set, notify answers VT_EINVAL (not an address of ours) */
    char kind[32], recipient[128];
    int64_t item_id;
} sent;

static int fake_can_notify(const struct vt_config *c, const char *recipient)
{
    (void)c;
    return recipient && strchr(recipient, '@') ? 0 : VT_EINVAL;
}

static int fake_notify(const struct vt_config *c, struct vt_store_tx *tx, const struct vt_notice *n)
{
    (void)c;
    sent.calls++;
    snprintf(sent.kind, sizeof(sent.kind), "%s", n->kind);
    snprintf(sent.recipient, sizeof(sent.recipient), "%s", n->recipient);
    sent.item_id = n->item_id;
    if (sent.refuse)
        return VT_EINVAL;
    struct vt_outbound o = {n->item_id, "email", n->recipient, n->kind,      n->text,
                            NULL,       NULL,    NULL,         n->not_before};
    return vt_outbox_add(tx, &o);
}

static const struct vt_sender fake_email = {"email", fake_notify, fake_can_notify};
static const struct vt_sender *const senders[] = {&fake_email, NULL};
static struct vt_domain dom;

/* ---- jobs ---- */

struct apply_job {
    const struct vt_staff *who;
    const char *radicado;
    const struct vt_case_action *a;
    struct vt_case_result res;
};

static int apply_run(struct vt_store_tx *tx, void *ctx)
{
    struct apply_job *j = ctx;
    return vt_casework_apply(&dom, tx, j->who, j->radicado, j->a, &j->res);
}

/* Applies a as who to radicado in a job of its own: its result (0, a
 * refusal, VT_E*), with *res filled. */
static int apply(const struct vt_staff *who, const char *radicado, const struct vt_case_action *a,
                 struct vt_case_result *res)
{
    struct apply_job j = {who, radicado, a, {0}};
    sent.calls = 0;
    int rc = vt_store_run(store, apply_run, &j);
    *res = j.res;
    return rc;
}

static int insert_run(struct vt_store_tx *tx, void *ctx)
{
    return vt_store_tx_item_insert(tx, ctx);
}

/* Files a queja by a named requester who wants replies by email. */
static struct vt_item *file_item(const char *email)
{
    struct vt_item *it = vt_item_new();
    it->kind = "pqrsd";
    it->type = "queja";
    it->channel = "web";
    it->reply_channel = "email";
    it->status = "radicado";
    it->subject = strdup("Alcantarillado");
    it->body = strdup("El alcantarillado de la calle 5 está tapado.");
    it->req.person_type = "natural";
    it->req.name = strdup("Ana Pérez");
    it->req.email = strdup(email);
    it->term_days = vt_item_term_days(&cfg, "pqrsd", "queja", NULL);
    snprintf(it->group, sizeof(it->group), "ciudadania");
    snprintf(it->classified_by, sizeof(it->classified_by), "default");
    vt_item_new_tracking_code(it);
    ASSERT_EQ(vt_store_run(store, insert_run, it), 0);
    return it;
}

static int dep_run(struct vt_store_tx *tx, void *ctx)
{
    (void)ctx;
    return vt_dependencias_save(tx, "admin", "obras", "Obras Públicas", true);
}

struct sweep_job {
    vt_date_t today;
    int n;
};

static int sweep_run(struct vt_store_tx *tx, void *ctx)
{
    struct sweep_job *j = ctx;
    return vt_casework_sweep(&dom, tx, j->today, &j->n);
}

static int replied_run(struct vt_store_tx *tx, void *ctx)
{
    return vt_casework_citizen_replied(&dom, tx, *(int64_t *)ctx);
}

/* ---- what the database holds (read as another connection would) ---- */

static const char SQL_STATUS[] = "SELECT status, COALESCE(due_date, '') FROM items WHERE id = ?1";
static const char SQL_EVENTS[] = "SELECT count(*) FROM audit_events WHERE item_id = ?1";
static const char SQL_EVENT[] =
    "SELECT actor, payload, public FROM audit_events WHERE item_id = ?1 AND action = ?2 "
    "ORDER BY id DESC LIMIT 1";
static const char SQL_OUTBOX[] = "SELECT count(*), COALESCE(max(id), 0) FROM outbox "
                                 "WHERE item_id = ?1";
static const char SQL_OUTBOX_ROW[] = "SELECT channel, recipient, kind FROM outbox WHERE id = ?1";
static const char SQL_USER_ID[] = "SELECT id FROM users WHERE username = ?1";
static const char SQL_RESPONSES[] = "SELECT count(*) FROM responses WHERE item_id = ?1";

static struct vt_db *rdb(void)
{
    return vt_store_reader_db(reader);
}

/* The item's status (and due date into due, when not NULL). */
static const char *status_of(int64_t id, char *due)
{
    static char status[32];
    struct vt_db_stmt *st = vt_db_prepare(rdb(), SQL_STATUS);
    vt_db_bind_int(st, 1, id);
    ASSERT_EQ(vt_db_step(st), VT_DB_ROW);
    vt_db_col_copy(st, 0, status, sizeof(status));
    if (due)
        vt_db_col_copy(st, 1, due, 11);
    vt_db_reset(st);
    return status;
}

static int64_t count_of(const char *sql, int64_t id)
{
    struct vt_db_stmt *st = vt_db_prepare(rdb(), sql);
    vt_db_bind_int(st, 1, id);
    int64_t n = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : -1;
    vt_db_reset(st);
    return n;
}

static int64_t outbox_last(int64_t item_id)
{
    struct vt_db_stmt *st = vt_db_prepare(rdb(), SQL_OUTBOX);
    vt_db_bind_int(st, 1, item_id);
    int64_t id = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 1) : -1;
    vt_db_reset(st);
    return id;
}

/* The newest event action of the item: its payload (caller deletes), actor
 * into actor, public flag; NULL when there is none. */
static cJSON *event_of(int64_t id, const char *action, char actor[80], int *is_public)
{
    struct vt_db_stmt *st = vt_db_prepare(rdb(), SQL_EVENT);
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, action);
    cJSON *p = NULL;
    if (vt_db_step(st) == VT_DB_ROW) {
        vt_db_col_copy(st, 0, actor, 80);
        p = cJSON_Parse(vt_db_col_str(st, 1));
        *is_public = (int)vt_db_col_int(st, 2);
    }
    vt_db_reset(st);
    return p;
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t user_id(const char *username)
{
    struct vt_db_stmt *st = vt_db_prepare(rdb(), SQL_USER_ID);
    vt_db_bind_text(st, 1, username);
    int64_t id = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    return id;
}

static struct vt_staff staff(const char *username, enum vt_role role, const char *dependencia)
{
    struct vt_staff s = {.id = user_id(username), .role = role};
    snprintf(s.username, sizeof(s.username), "%s", username);
    snprintf(s.dependencia, sizeof(s.dependencia), "%s", dependencia);
    return s;
}

/* ---- the walk ---- */

/* A refusal: the code and HTTP status, and nothing written. */
static void expect_refused(const struct vt_staff *who, const char *radicado, int64_t id,
                           const struct vt_case_action *a, int want_rc, int want_status,
                           const char *want_code)
{
    int64_t events = count_of(SQL_EVENTS, id), changes = changes_seen();
    char before[32], due_before[11], due_after[11];
    snprintf(before, sizeof(before), "%s", status_of(id, due_before));
    struct vt_case_result res;
    ASSERT_EQ(apply(who, radicado, a, &res), want_rc);
    ASSERT_EQ(res.status, want_status);
    ASSERT_STREQ(res.code, want_code);
    ASSERT_TRUE(res.message[0] != '\0');
    ASSERT_STREQ(status_of(id, due_after), before);
    ASSERT_STREQ(due_after, due_before);
    ASSERT_EQ(count_of(SQL_EVENTS, id), events);
    ASSERT_EQ(changes_seen(), changes);
}

static void test_walk(void)
{
    struct vt_staff triage = staff("tomas", VT_ROLE_AGENTE, "atencion_ciudadano");
    struct vt_staff carla = staff("carla", VT_ROLE_COORDINADOR, "obras");
    struct vt_staff diego = staff("diego", VT_ROLE_AGENTE, "obras");
    ASSERT_TRUE(triage.id && carla.id && diego.id);

    struct vt_item *it = file_item("ana@example.org");
    const char *rad = it->radicado;
    int64_t id = it->id;
    ASSERT_STREQ(status_of(id, NULL), "radicado");
    ASSERT_EQ(count_of(SQL_EVENTS, id), 1); /* "radicado" */
    struct vt_case_result res;

    /* Refused, with nothing written: an action that does not exist, an item
     * out of scope (not routed yet: the triage office's), a transition the
     * state does not allow, a role that may not. */
    struct vt_case_action fly = {.action = "fly"};
    expect_refused(&triage, rad, id, &fly, VT_EINVAL, 422, "invalid");
    struct vt_case_action note = {.action = "note", .text = "Llamé a la ciudadana."};
    expect_refused(&diego, rad, id, &note, VT_ENOTFOUND, 404, "not_found");
    expect_refused(&triage, "2099-999999", id, &note, VT_ENOTFOUND, 404, "not_found");
    struct vt_case_action complete = {.action = "complete"};
    expect_refused(&triage, rad, id, &complete, VT_ESTATE, 409, "invalid_transition");
    struct vt_case_action extend = {.action = "extend", .reason = "Falta un concepto técnico."};
    expect_refused(&triage, rad, id, &extend, VT_EPERM, 403, "forbidden");
    /* An assignee outside the dependencia is refused too. */
    struct vt_case_action bad_assign = {
        .action = "assign", .dependencia = "obras", .assignee = "tomas"};
    expect_refused(&triage, rad, id, &bad_assign, VT_EINVAL, 422, "invalid");
    struct vt_case_action unknown_dep = {.action = "assign", .dependencia = "marte"};
    expect_refused(&triage, rad, id, &unknown_dep, VT_EINVAL, 422, "invalid");
    ASSERT_EQ(sent.calls, 0);

    /* assign: radicado -> en_tramite, routed to obras; an internal event;
     * nothing said to the requester; the live feed told after the commit. */
    struct vt_case_action assign = {
        .action = "assign", .dependencia = "obras", .assignee = "carla"};
    ASSERT_EQ(apply(&triage, rad, &assign, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(res.item_id, id);
    ASSERT_STREQ(res.old_status, "radicado");
    ASSERT_STREQ(res.new_status, "en_tramite");
    ASSERT_STREQ(res.dependencia, "obras");
    ASSERT_STREQ(res.notice, "");
    ASSERT_EQ(sent.calls, 0);
    ASSERT_STREQ(status_of(id, NULL), "en_tramite");
    char actor[80];
    int pub = -1;
    cJSON *p = event_of(id, "asignado", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(actor, "staff:tomas");
    ASSERT_EQ(pub, 0);
    ASSERT_STREQ(str_of(p, "dependencia"), "obras");
    ASSERT_STREQ(str_of(p, "assignee"), "carla");
    cJSON_Delete(p);
    pthread_mutex_lock(&changes_lock);
    ASSERT_EQ(last_change.item_id, id);
    ASSERT_STREQ(last_change.old_status, "radicado");
    ASSERT_STREQ(last_change.new_status, "en_tramite");
    ASSERT_STREQ(last_change.old_dependencia, "");
    ASSERT_STREQ(last_change.action, "assign");
    ASSERT_STREQ(last_change.actor, "tomas");
    pthread_mutex_unlock(&changes_lock);

    /* Routed to obras: out of the triage agent's scope now. */
    expect_refused(&triage, rad, id, &note, VT_ENOTFOUND, 404, "not_found");

    /* request_completion: -> pendiente_completar; the notice is queued on
     * the requester's channel (one outbox row, reported as the action's) and
     * the public event says so. */
    int64_t outbox_before = count_of(SQL_OUTBOX, id);
    struct vt_case_action ask = {.action = "request_completion", .text = "Falta su cédula."};
    ASSERT_EQ(apply(&carla, rad, &ask, &res), 0);
    ASSERT_STREQ(res.new_status, "pendiente_completar");
    ASSERT_EQ(sent.calls, 1);
    ASSERT_STREQ(sent.kind, "completar");
    ASSERT_STREQ(sent.recipient, "ana@example.org");
    ASSERT_EQ(sent.item_id, id);
    ASSERT_STREQ(res.notice, "email");
    ASSERT_EQ(count_of(SQL_OUTBOX, id), outbox_before + 1);
    ASSERT_EQ(res.n_outbox, 1);
    ASSERT_EQ(res.outbox_ids[0], outbox_last(id));
    struct vt_db_stmt *st = vt_db_prepare(rdb(), SQL_OUTBOX_ROW);
    vt_db_bind_int(st, 1, res.outbox_ids[0]);
    ASSERT_EQ(vt_db_step(st), VT_DB_ROW);
    ASSERT_STREQ(vt_db_col_str(st, 0), "email");
    ASSERT_STREQ(vt_db_col_str(st, 1), "ana@example.org");
    ASSERT_STREQ(vt_db_col_str(st, 2), "completar");
    vt_db_reset(st);
    p = event_of(id, "completar_solicitado", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(actor, "staff:carla");
    ASSERT_EQ(pub, 1);
    ASSERT_STREQ(str_of(p, "text"), "Falta su cédula.");
    ASSERT_STREQ(str_of(p, "notified_by"), "email");
    cJSON_Delete(p);

    /* Paused: only complete (or note, reclassify) now. */
    struct vt_case_action respond = {.action = "respond", .text = "Ya arreglamos el tubo."};
    expect_refused(&carla, rad, id, &respond, VT_ESTATE, 409, "invalid_transition");

    /* complete: -> en_tramite, the term restarts; the notice is queued; the
     * event records who completed it (and, as ever, not how it was told). */
    struct vt_case_action done = {.action = "complete", .note = "La trajo en persona."};
    ASSERT_EQ(apply(&diego, rad, &done, &res), 0);
    ASSERT_STREQ(res.new_status, "en_tramite");
    ASSERT_EQ(sent.calls, 1);
    ASSERT_STREQ(sent.kind, "completada");
    ASSERT_EQ(res.n_outbox, 1);
    p = event_of(id, "completada", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(str_of(p, "by"), "staff");
    ASSERT_STREQ(str_of(p, "note"), "La trajo en persona.");
    ASSERT_TRUE(str_of(p, "notified_by") == NULL);
    char due[11];
    status_of(id, due);
    ASSERT_STREQ(str_of(p, "due_date"), due);
    cJSON_Delete(p);

    /* extend: a coordinador's, once, to a business day within the double
     * term; the agent may not, a date past the limit is refused. */
    vt_date_t d;
    ASSERT_EQ(vt_date_parse(due, &d), 0);
    char too_far[11], next[11];
    vt_date_format(vt_calendar_add_business_days(&cfg.calendar, d, it->term_days + 1), too_far);
    vt_date_format(vt_calendar_add_business_days(&cfg.calendar, d, 1), next);
    extend.due_date = next;
    expect_refused(&diego, rad, id, &extend, VT_EPERM, 403, "forbidden");
    extend.due_date = too_far;
    expect_refused(&carla, rad, id, &extend, VT_EINVAL, 422, "invalid");
    extend.due_date = next;
    ASSERT_EQ(apply(&carla, rad, &extend, &res), 0);
    ASSERT_STREQ(res.new_status, "en_tramite");
    ASSERT_STREQ(sent.kind, "prorroga");
    char new_due[11];
    status_of(id, new_due);
    ASSERT_STREQ(new_due, next);
    p = event_of(id, "prorrogado", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(str_of(p, "from"), due);
    ASSERT_STREQ(str_of(p, "to"), next);
    ASSERT_STREQ(str_of(p, "notified_by"), "email");
    cJSON_Delete(p);
    expect_refused(&carla, rad, id, &extend, VT_ESTATE, 409, "invalid_transition");

    /* transfer when the channel refuses the address: trasladado, and the
     * event says the notice was not sent; no row pretends otherwise. */
    sent.refuse = 1;
    outbox_before = count_of(SQL_OUTBOX, id);
    struct vt_case_action transfer = {
        .action = "transfer", .entity = "Empresa de Acueducto", .reason = "Es de su competencia."};
    ASSERT_EQ(apply(&diego, rad, &transfer, &res), 0);
    sent.refuse = 0;
    ASSERT_STREQ(res.new_status, "trasladado");
    ASSERT_EQ(sent.calls, 1);
    ASSERT_STREQ(sent.kind, "traslado");
    ASSERT_STREQ(res.notice, "no_enviado");
    ASSERT_EQ(res.n_outbox, 0);
    ASSERT_EQ(count_of(SQL_OUTBOX, id), outbox_before);
    p = event_of(id, "trasladado", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(str_of(p, "entity"), "Empresa de Acueducto");
    ASSERT_STREQ(str_of(p, "forwarded_by"), "no");
    ASSERT_STREQ(str_of(p, "notified_by"), "no_enviado");
    cJSON_Delete(p);

    /* reopen: a coordinador's, with a reason. */
    struct vt_case_action reopen = {.action = "reopen", .reason = "Sí era nuestro."};
    expect_refused(&diego, rad, id, &reopen, VT_EPERM, 403, "forbidden");
    struct vt_case_action reopen_bare = {.action = "reopen"};
    expect_refused(&carla, rad, id, &reopen_bare, VT_EINVAL, 422, "invalid");
    ASSERT_EQ(apply(&carla, rad, &reopen, &res), 0);
    ASSERT_STREQ(res.old_status, "trasladado");
    ASSERT_STREQ(res.new_status, "en_tramite");

    /* respond: by the requester's email (the plan's default), queued in the
     * same transaction; the answer is recorded. */
    ASSERT_EQ(apply(&diego, rad, &respond, &res), 0);
    ASSERT_STREQ(res.new_status, "respondido");
    ASSERT_STREQ(res.notice, "email");
    ASSERT_EQ(sent.calls, 1);
    ASSERT_STREQ(sent.kind, "respuesta");
    ASSERT_EQ(res.n_outbox, 1);
    ASSERT_TRUE(res.response_id > 0);
    ASSERT_EQ(count_of(SQL_RESPONSES, id), 1);
    p = event_of(id, "respondido", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(str_of(p, "channel"), "email");
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "outbox_ids")), 1);
    cJSON_Delete(p);

    /* close: an answered item closes without a reason; then only reopen or a
     * note. */
    struct vt_case_action close = {.action = "close"};
    ASSERT_EQ(apply(&diego, rad, &close, &res), 0);
    ASSERT_STREQ(res.new_status, "cerrado");
    expect_refused(&diego, rad, id, &respond, VT_ESTATE, 409, "invalid_transition");
    ASSERT_EQ(apply(&diego, rad, &note, &res), 0);
    ASSERT_STREQ(res.new_status, "cerrado");
    p = event_of(id, "nota", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(pub, 0);
    cJSON_Delete(p);
    vt_item_free(it);
}

/* The two transitions nobody on the staff makes: the requester's reply
 * resumes a paused item, and the sweep files one whose deadline passed. */
static void test_system_transitions(void)
{
    struct vt_staff tomas = staff("tomas", VT_ROLE_AGENTE, "atencion_ciudadano");
    struct vt_case_result res;
    struct vt_item *a = file_item("beto@example.org"), *b = file_item("cami@example.org");
    struct vt_case_action ask = {.action = "request_completion", .text = "Falta la dirección."};
    ASSERT_EQ(apply(&tomas, a->radicado, &ask, &res), 0);
    ASSERT_EQ(apply(&tomas, b->radicado, &ask, &res), 0);
    ASSERT_STREQ(status_of(a->id, NULL), "pendiente_completar");

    /* The requester wrote back: en_tramite, notice and event by "requester". */
    sent.calls = 0;
    ASSERT_EQ(vt_store_run(store, replied_run, &a->id), 0);
    ASSERT_STREQ(status_of(a->id, NULL), "en_tramite");
    ASSERT_EQ(sent.calls, 1);
    ASSERT_STREQ(sent.kind, "completada");
    char actor[80];
    int pub;
    cJSON *p = event_of(a->id, "completada", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(actor, "sistema");
    ASSERT_STREQ(str_of(p, "by"), "requester");
    cJSON_Delete(p);
    /* A second reply changes nothing. */
    int64_t events = count_of(SQL_EVENTS, a->id);
    ASSERT_EQ(vt_store_run(store, replied_run, &a->id), 0);
    ASSERT_EQ(count_of(SQL_EVENTS, a->id), events);

    /* The sweep, the day after the deadline: desistido, notice and event. */
    struct sweep_job j = {vt_date_from_unix_ms(fake_now), 0};
    ASSERT_EQ(vt_store_run(store, sweep_run, &j), 0);
    ASSERT_EQ(j.n, 0); /* not yet */
    j.today = vt_date_add_days(j.today, cfg.staff.completion_wait_days + 1);
    sent.calls = 0;
    ASSERT_EQ(vt_store_run(store, sweep_run, &j), 0);
    ASSERT_EQ(j.n, 1);
    ASSERT_STREQ(status_of(b->id, NULL), "desistido");
    ASSERT_STREQ(status_of(a->id, NULL), "en_tramite");
    ASSERT_EQ(sent.calls, 1);
    ASSERT_STREQ(sent.kind, "desistimiento");
    ASSERT_STREQ(sent.recipient, "cami@example.org");
    p = event_of(b->id, "desistido", actor, &pub);
    ASSERT_TRUE(p != NULL);
    ASSERT_STREQ(actor, "sistema");
    ASSERT_EQ(pub, 1);
    ASSERT_STREQ(str_of(p, "notified_by"), "email");
    cJSON_Delete(p);
    pthread_mutex_lock(&changes_lock);
    ASSERT_EQ(last_change.item_id, b->id);
    ASSERT_STREQ(last_change.new_status, "desistido");
    ASSERT_STREQ(last_change.action, "desistido");
    pthread_mutex_unlock(&changes_lock);
    vt_item_free(a);
    vt_item_free(b);
}

int main(void)
{
    char dir[] = "/tmp/vt-casework-XXXXXX", err[300], why[200];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    ASSERT_TRUE(sodium_init() >= 0);
    ASSERT_EQ(vt_config_defaults(&cfg), 0);
    dom = (struct vt_domain){&cfg, senders};
    /* Tuesday 17 March 2026, 10:00 in Bogotá: filed the same day. */
    ASSERT_EQ(vt_time_parse_iso("2026-03-17T10:00:00-05:00", &fake_now), 0);

    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);
    struct vt_store_options opt = {
        {.data_dir = dir}, 64, {.stamp = stamp, .now_ms = clock_now, .changed = changed}, NULL};
    ASSERT_EQ(vt_store_open(&opt, &store, err, sizeof(err)), 0);
    reader = vt_store_reader_new(store);
    ASSERT_TRUE(reader != NULL);
    ASSERT_EQ(vt_store_run(store, dep_run, NULL), 0);
    ASSERT_EQ(vt_users_add(store, "carla", "coordinador", "obras", "una clave bien larga", why,
                           sizeof(why)),
              0);
    ASSERT_EQ(
        vt_users_add(store, "diego", "agente", "obras", "una clave bien larga", why, sizeof(why)),
        0);
    ASSERT_EQ(vt_users_add(store, "tomas", "agente", "atencion_ciudadano", "una clave bien larga",
                           why, sizeof(why)),
              0);

    test_walk();
    test_system_transitions();

    vt_store_reader_free(reader);
    vt_store_close(store);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    vt_config_cleanup(&cfg);
    VT_TEST_END();
}
