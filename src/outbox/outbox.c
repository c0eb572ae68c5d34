/* outbox.c - the durable outbox and its sender thread (outbox.h).
 *
 * Owns: every line of SQL on outbox and outbox_statuses, the sender thread
 * and its read connection.
 * Must not: hold a channel's protocol; transports do.
 *
 * The sender thread never writes the database itself: each claim and each
 * batch of results is a job run by the store's writer thread (vt_store_run),
 * so the write connection keeps one owner.
 *
 * Claims are leases, so that several instances on one database send each
 * message once: a claim marks the row sending, by this instance
 * (vt_store_instance), until now + lease_ms (twice the longest a whole batch
 * may take: batch x timeout_ms, at least 10 s). Claims are made in write
 * transactions, which take turns across instances (db.h), so no two
 * instances claim one row. A row whose lease ran out (its instance died
 * while sending) goes back to pending and is sent by whoever claims it next:
 * sender 0 of every instance looks for such rows once a minute (or once a
 * lease, when that is shorter). At start an
 * instance takes back what its own previous run left sending at once; on
 * SQLite, where it is the only instance, everything left sending.
 */
#include "outbox/outbox.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "store/db.h"

#define MAX_TRANSPORTS 4
#define MAX_SENDERS 64
/* Messages are spread over senders by recipient, so one citizen's messages
 * keep their order: shard = hash(recipient) % SHARDS, sender i takes the
 * shards with shard % senders == i. */
#define SHARDS 1024

/* One sender thread and what it owns. */
struct sender {
    struct vt_outbox *o;
    int index;
    int failed_rounds; /* consecutive rounds where every attempt must be retried */
    pthread_t thread;
    bool started;
    struct vt_store_reader *reader;
    void *ctx[MAX_TRANSPORTS]; /* each transport's per-thread context */
};

struct vt_outbox {
    const struct vt_config *cfg;
    struct vt_store *store;
    const struct vt_outbox_transport *t[MAX_TRANSPORTS];
    size_t n_t;

    struct sender senders[MAX_SENDERS];
    int n_senders;
    pthread_mutex_t lock; /* guards wanted and stopping */
    pthread_cond_t cond;
    unsigned wanted; /* bumped by each wake */
    bool stopping;
};

static int shard_of(const char *recipient)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)recipient; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int)(h % SHARDS);
}

/* ---- writer thread: queueing and statuses ---- */

static const char SQL_ADD[] =
    "INSERT INTO outbox (item_id, channel, recipient, kind, body, params, secret, status, "
    "next_attempt_at, created_at, updated_at, shard, fallback) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
    "?7, 'pending', ?11, ?8, ?8, ?9, ?10)";

int vt_outbox_add(struct vt_store_tx *tx, const struct vt_outbound *m)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_ADD);
    if (!st)
        return VT_ESTORE;
    if (m->item_id)
        vt_db_bind_int(st, 1, m->item_id);
    else
        vt_db_bind_null(st, 1);
    vt_db_bind_text(st, 2, m->channel);
    vt_db_bind_text(st, 3, m->recipient);
    vt_db_bind_text(st, 4, m->kind);
    vt_db_bind_text(st, 5, m->body);
    vt_db_bind_text(st, 6, m->params);
    vt_db_bind_text(st, 7, m->secret);
    int64_t now = vt_store_tx_now(tx);
    vt_db_bind_int(st, 8, now);
    vt_db_bind_int(st, 9, shard_of(m->recipient));
    vt_db_bind_text(st, 10, m->fallback);
    vt_db_bind_int(st, 11, m->not_before > now ? m->not_before : now);
    int rc = vt_db_run(st);
    if (rc == 0)
        vt_store_tx_outbox_added(tx);
    return rc;
}

/* Delivery statuses only move forward; "failed" ends any but "read". */
static int status_rank(const char *s)
{
    static const char *const order[] = {"sending", "sent", "delivered", "read", NULL};
    for (int i = 0; order[i]; i++)
        if (strcmp(s, order[i]) == 0)
            return i + 1;
    return 0;
}

static const char SQL_STATUS_LOG[] =
    "INSERT INTO outbox_statuses (channel, provider_id, status, error_code, error_title, at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_BY_PROVIDER[] =
    "SELECT id, status, coalesce(item_id, 0) FROM outbox WHERE channel = ?1 AND provider_id = ?2";
/* The tracking code is kept until the citizen's phone has the message: a
 * "failed" status may still come after "sent" and the message go again. */
static const char SQL_SET_STATUS[] =
    "UPDATE outbox SET status = ?2, updated_at = ?3, last_error = coalesce(?4, last_error), "
    "secret = CASE WHEN ?2 IN ('delivered', 'read') THEN NULL ELSE secret END WHERE id = ?1";
static const char SQL_STATUS_LOG_FOR[] =
    "SELECT status, coalesce(error_code, 0), coalesce(error_title, '') FROM outbox_statuses "
    "WHERE channel = ?1 AND provider_id = ?2 ORDER BY id";

static int requeue_template_only(struct vt_store_tx *tx, int64_t id);

/* Applies one status to the message with that id in state cur. */
static int apply_status(struct vt_store_tx *tx, int64_t id, int64_t item_id, const char *cur,
                        const char *status, int code, const char *title)
{
    char err[260] = "";
    const char *next = NULL;
    if (strcmp(status, "failed") == 0) {
        if (strcmp(cur, "read") == 0 || strcmp(cur, "failed") == 0)
            return 0;
        next = "failed";
        snprintf(err, sizeof(err), "provider reported failure %d: %.200s", code, title);
    } else if (status_rank(status) > status_rank(cur) && status_rank(cur) > 0) {
        next = status;
    }
    if (!next)
        return 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_SET_STATUS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, next);
    vt_db_bind_int(st, 3, vt_store_tx_now(tx));
    vt_db_bind_text(st, 4, err[0] ? err : NULL);
    int rc = vt_db_run(st);
    if (rc == 0 && item_id && strcmp(next, "failed") == 0) {
        char payload[400];
        snprintf(payload, sizeof(payload), "{\"outbox_id\":%lld,\"error_code\":%d}", (long long)id,
                 code);
        rc = vt_store_tx_event(tx, item_id, "sistema:outbox", "mensaje_fallido", payload, 0);
    }
    /* Meta reports 131047 (outside the 24-hour window) asynchronously too:
     * the message is tried again as a template, or goes to email. */
    if (rc == 0 && strcmp(next, "failed") == 0 && code == 131047)
        rc = requeue_template_only(tx, id);
    return rc;
}

int vt_outbox_provider_status(struct vt_store_tx *tx, const char *channel, const char *provider_id,
                              const char *status, int error_code, const char *error_title)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_STATUS_LOG);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, channel);
    vt_db_bind_text(st, 2, provider_id);
    vt_db_bind_text(st, 3, status);
    if (error_code)
        vt_db_bind_int(st, 4, error_code);
    vt_db_bind_text(st, 5, error_title && *error_title ? error_title : NULL);
    vt_db_bind_int(st, 6, vt_store_tx_now(tx));
    int rc = vt_db_run(st);
    if (rc)
        return rc;
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_BY_PROVIDER)))
        return VT_ESTORE;
    vt_db_bind_text(st, 1, channel);
    vt_db_bind_text(st, 2, provider_id);
    if (vt_db_step(st) != VT_DB_ROW) {
        vt_db_reset(st);
        return 0; /* not recorded yet: applied when the send's result is */
    }
    int64_t id = vt_db_col_int(st, 0), item_id = vt_db_col_int(st, 2);
    char cur[24];
    snprintf(cur, sizeof(cur), "%s", vt_db_col_str(st, 1));
    vt_db_reset(st);
    return apply_status(tx, id, item_id, cur, status, error_code, error_title ? error_title : "");
}

/* ---- writer thread: claims and results ---- */

struct claimed {
    int64_t id, item_id;
    char *channel, *recipient, *kind, *body, *params;
    int attempts;
    bool template_only;
    struct vt_send_result res;
};

struct claim_job {
    struct vt_outbox *o;
    int sender;
    const char *channel;
    int64_t now;
    struct claimed *c;
    size_t n, cap;
};

/* Due messages of this sender, oldest first, skipping any with an earlier
 * message to the same recipient still pending or sending (read receipts
 * neither wait nor hold others up): a retry is never overtaken. */
static const char SQL_DUE[] =
    "SELECT id, coalesce(item_id, 0), recipient, kind, body, coalesce(params, ''), "
    "coalesce(secret, ''), attempts, template_only FROM outbox o WHERE status = 'pending' AND "
    "channel = ?1 AND next_attempt_at <= ?2 AND shard % ?4 = ?5 AND (kind = 'read' OR NOT "
    "EXISTS (SELECT 1 FROM outbox e WHERE e.channel = o.channel AND e.recipient = o.recipient "
    "AND e.id < o.id AND e.status IN ('pending', 'sending') AND e.kind <> 'read')) ORDER BY "
    "next_attempt_at, id LIMIT ?3";
static const char SQL_MARK_SENDING[] =
    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?2, "
    "lease_until = ?3, claimed_by = ?4 WHERE id = ?1";

/* How long a claim holds: twice the longest a batch can take to send. */
static int64_t lease_ms(const struct vt_config *cfg)
{
    int64_t ms = 2 * (int64_t)cfg->outbox.batch * cfg->outbox.timeout_ms;
    return ms < 10000 ? 10000 : ms;
}

/* body with every "{codigo}" replaced by secret; caller frees. */
/* s with every occurrence of from (non-empty) replaced by to; caller frees. */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t n = 0, len = strlen(s), fl = strlen(from), tl = strlen(to);
    for (const char *p = s; fl && (p = strstr(p, from)); p += fl)
        n++;
    char *out = malloc(len + n * tl + 1), *w = out;
    if (!out)
        return NULL;
    for (const char *p = s;;) {
        const char *q = fl ? strstr(p, from) : NULL;
        if (!q) {
            strcpy(w, p);
            break;
        }
        memcpy(w, p, (size_t)(q - p));
        w += q - p;
        memcpy(w, to, tl);
        w += tl;
        p = q + fl;
    }
    return out;
}

/* body with every "{codigo}" replaced by secret (when there is one). */
static char *with_secret(const char *body, const char *secret)
{
    return *secret ? replace_all(body, "{codigo}", secret) : strdup(body);
}

static void claimed_free(struct claimed *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].channel);
        free(c[i].recipient);
        free(c[i].kind);
        free(c[i].body);
        free(c[i].params);
    }
    free(c);
}

static int claim_run(struct vt_store_tx *tx, void *ctx)
{
    struct claim_job *j = ctx;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_DUE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, j->channel);
    vt_db_bind_int(st, 2, j->now);
    vt_db_bind_int(st, 3, j->o->cfg->outbox.batch);
    vt_db_bind_int(st, 4, j->o->n_senders);
    vt_db_bind_int(st, 5, j->sender);
    int rc = 0;
    while (vt_db_step(st) == VT_DB_ROW) {
        if (j->n == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 16;
            struct claimed *p = realloc(j->c, cap * sizeof(*p));
            if (!p) {
                rc = VT_ENOMEM;
                break;
            }
            j->c = p;
            j->cap = cap;
        }
        struct claimed *c = &j->c[j->n];
        memset(c, 0, sizeof(*c));
        c->id = vt_db_col_int(st, 0);
        c->item_id = vt_db_col_int(st, 1);
        c->channel = strdup(j->channel);
        c->recipient = strdup(vt_db_col_str(st, 2));
        c->kind = strdup(vt_db_col_str(st, 3));
        const char *secret = vt_db_col_text(st, 6);
        c->body = with_secret(vt_db_col_str(st, 4), secret ? secret : "");
        c->params = with_secret(vt_db_col_str(st, 5), secret ? secret : "");
        c->attempts = (int)vt_db_col_int(st, 7) + 1;
        c->template_only = vt_db_col_int(st, 8) != 0;
        j->n++;
        if (!c->channel || !c->recipient || !c->kind || !c->body || !c->params) {
            rc = VT_ENOMEM;
            break;
        }
    }
    vt_db_reset(st);
    for (size_t i = 0; rc == 0 && i < j->n; i++) {
        if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_MARK_SENDING)))
            return VT_ESTORE;
        vt_db_bind_int(st, 1, j->c[i].id);
        vt_db_bind_int(st, 2, vt_store_tx_now(tx));
        vt_db_bind_int(st, 3, vt_store_tx_now(tx) + lease_ms(j->o->cfg));
        vt_db_bind_text(st, 4, vt_store_instance(j->o->store));
        rc = vt_db_run(st);
    }
    return rc;
}

/* Email never reports delivery: the SMTP server's acceptance is the last
 * word, so an email's secret (a tracking code, a survey link's token) is
 * erased on it. WhatsApp keeps it until Meta says delivered (see below). */
static const char SQL_SENT[] =
    "UPDATE outbox SET status = 'sent', provider_id = ?2, sent_at = ?3, updated_at = ?3, "
    "last_error = NULL, via_template = ?4, "
    "secret = CASE WHEN channel = 'email' THEN NULL ELSE secret END WHERE id = ?1";
static const char SQL_RETRY[] =
    "UPDATE outbox SET status = ?2, next_attempt_at = ?3, updated_at = ?4, last_error = ?5 "
    "WHERE id = ?1";
static const char SQL_FALLBACK_OF[] =
    "SELECT coalesce(fallback, ''), secret FROM outbox WHERE id = ?1";
static const char SQL_REQUESTER_EMAIL[] =
    "SELECT r.email FROM requesters r WHERE r.item_id = ?1 AND r.email IS NOT NULL AND "
    "r.purged_at IS NULL";
static const char SQL_TEMPLATE_ONLY[] =
    "INSERT INTO outbox (item_id, channel, recipient, kind, body, params, secret, status, "
    "next_attempt_at, created_at, updated_at, template_only, shard, fallback) SELECT item_id, "
    "channel, recipient, kind, body, params, secret, 'pending', ?2, ?2, ?2, 1, shard, fallback "
    "FROM outbox WHERE id = ?1";

static const char SQL_SUPERSEDED[] =
    "UPDATE outbox SET status = 'superseded', secret = NULL, updated_at = ?2 WHERE id = ?1";

/* The provider refused free-form text after accepting it: a copy goes as a
 * template (or to email), and the original is closed so that a staff retry
 * cannot send it twice. */
static int requeue_template_only(struct vt_store_tx *tx, int64_t id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_TEMPLATE_ONLY);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_int(st, 2, vt_store_tx_now(tx));
    int rc = vt_db_run(st);
    if (rc == 0 && (st = vt_db_prepare(vt_store_tx_db(tx), SQL_SUPERSEDED))) {
        vt_db_bind_int(st, 1, id);
        vt_db_bind_int(st, 2, vt_store_tx_now(tx));
        rc = vt_db_run(st);
    } else if (rc == 0) {
        rc = VT_ESTORE;
    }
    if (rc == 0)
        vt_store_tx_outbox_added(tx);
    return rc;
}

/* The message could not go on WhatsApp: an email copy when the requester
 * gave an address (the email channel delivers it). Its text is the one the
 * change wrote for email (the row's fallback), else the transport's plain
 * text; the tracking code stays a placeholder, its secret beside it. */
static int email_fallback(struct vt_store_tx *tx, const struct claimed *c)
{
    if (!c->item_id)
        return 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_REQUESTER_EMAIL);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, c->item_id);
    char *email = NULL, *text = NULL, *secret = NULL;
    if (vt_db_step(st) == VT_DB_ROW)
        email = strdup(vt_db_col_str(st, 0));
    vt_db_reset(st);
    int rc = 0;
    char payload[200];
    if (email && *email) {
        if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_FALLBACK_OF))) {
            free(email);
            return VT_ESTORE;
        }
        vt_db_bind_int(st, 1, c->id);
        if (vt_db_step(st) == VT_DB_ROW) {
            text = strdup(vt_db_col_str(st, 0));
            if (!vt_db_col_null(st, 1))
                secret = strdup(vt_db_col_str(st, 1));
        }
        vt_db_reset(st);
        if (!text || !*text) {
            /* The transport's text has the code in it: put the placeholder back. */
            free(text);
            text = secret ? replace_all(c->res.fallback_text, secret, "{codigo}")
                          : strdup(c->res.fallback_text);
        }
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "text", text ? text : "");
        cJSON_AddNumberToObject(b, "fallback_of", (double)c->id);
        char *body = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
        struct vt_outbound m = {c->item_id, "email", email, c->kind, body ? body : "{}",
                                NULL,       secret,  NULL,  0};
        rc = body ? vt_outbox_add(tx, &m) : VT_ENOMEM;
        free(body);
        snprintf(payload, sizeof(payload), "{\"outbox_id\":%lld,\"fallback\":\"email\"}",
                 (long long)c->id);
    } else {
        snprintf(payload, sizeof(payload), "{\"outbox_id\":%lld,\"fallback\":null}",
                 (long long)c->id);
    }
    free(email);
    free(text);
    free(secret);
    if (rc == 0)
        rc =
            vt_store_tx_event(tx, c->item_id, "sistema:outbox", "whatsapp_sin_ventana", payload, 0);
    return rc;
}

/* Statuses reported before the send's result was recorded. */
static int replay_statuses(struct vt_store_tx *tx, const struct claimed *c)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_STATUS_LOG_FOR);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, c->channel);
    vt_db_bind_text(st, 2, c->res.provider_id);
    struct {
        char status[16];
        int code;
        char title[200];
    } seen[8];
    int n = 0;
    while (n < 8 && vt_db_step(st) == VT_DB_ROW) {
        snprintf(seen[n].status, sizeof(seen[n].status), "%s", vt_db_col_str(st, 0));
        seen[n].code = (int)vt_db_col_int(st, 1);
        snprintf(seen[n].title, sizeof(seen[n].title), "%s", vt_db_col_str(st, 2));
        n++;
    }
    vt_db_reset(st);
    char cur[24] = "sent";
    for (int i = 0; i < n; i++) {
        int rc =
            apply_status(tx, c->id, c->item_id, cur, seen[i].status, seen[i].code, seen[i].title);
        if (rc)
            return rc;
        if (strcmp(seen[i].status, "failed") == 0 || status_rank(seen[i].status) > status_rank(cur))
            memcpy(cur, seen[i].status, sizeof(seen[i].status));
    }
    return 0;
}

static int record_one(struct vt_store_tx *tx, struct vt_outbox *o, struct claimed *c)
{
    const struct vt_outbox_config *oc = &o->cfg->outbox;
    int64_t now = vt_store_tx_now(tx);
    struct vt_db_stmt *st;
    int rc;
    const char *state = NULL;
    switch (c->res.outcome) {
    case VT_SEND_OK:
        if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_SENT)))
            return VT_ESTORE;
        vt_db_bind_int(st, 1, c->id);
        vt_db_bind_text(st, 2, c->res.provider_id[0] ? c->res.provider_id : NULL);
        vt_db_bind_int(st, 3, now);
        vt_db_bind_text(st, 4, c->res.via_template[0] ? c->res.via_template : NULL);
        if ((rc = vt_db_run(st)))
            return rc;
        if (c->item_id && strcmp(c->kind, "read") != 0) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "outbox_id", (double)c->id);
            cJSON_AddStringToObject(p, "channel", c->channel);
            cJSON_AddStringToObject(p, "kind", c->kind);
            cJSON_AddStringToObject(p, "provider_id", c->res.provider_id);
            if (c->res.via_template[0])
                cJSON_AddStringToObject(p, "template", c->res.via_template);
            char *s = cJSON_PrintUnformatted(p);
            cJSON_Delete(p);
            rc = s ? vt_store_tx_event(tx, c->item_id, "sistema:outbox", "mensaje_enviado", s, 0)
                   : VT_ENOMEM;
            free(s);
            if (rc)
                return rc;
        }
        return c->res.provider_id[0] ? replay_statuses(tx, c) : 0;
    case VT_SEND_RETRY:
        state = c->attempts >= oc->max_attempts ? "dead" : "pending";
        break;
    case VT_SEND_REFUSED:
        state = "dead";
        break;
    case VT_SEND_NO_WINDOW:
        state = "undeliverable";
        break;
    }
    int64_t delay = vt_outbox_backoff_ms(oc, c->attempts, randombytes_random());
    if (c->res.retry_after_ms > delay)
        delay = c->res.retry_after_ms;
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_RETRY)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, c->id);
    vt_db_bind_text(st, 2, state);
    vt_db_bind_int(st, 3, now + delay);
    vt_db_bind_int(st, 4, now);
    vt_db_bind_text(st, 5, c->res.error);
    if ((rc = vt_db_run(st)))
        return rc;
    if (strcmp(state, "dead") == 0 && c->item_id) {
        char payload[200];
        snprintf(payload, sizeof(payload), "{\"outbox_id\":%lld,\"attempts\":%d}", (long long)c->id,
                 c->attempts);
        rc =
            vt_store_tx_event(tx, c->item_id, "sistema:outbox", "mensaje_no_entregado", payload, 0);
    }
    if (rc == 0 && c->res.outcome == VT_SEND_NO_WINDOW)
        rc = email_fallback(tx, c);
    return rc;
}

static int record_run(struct vt_store_tx *tx, void *ctx)
{
    struct claim_job *j = ctx;
    for (size_t i = 0; i < j->n; i++) {
        int rc = record_one(tx, j->o, &j->c[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static const char SQL_UNCLAIM[] =
    "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, updated_at = ?3 WHERE id = ?1 "
    "AND status = 'sending'";

/* The results could not be recorded: the messages go back to pending rather
 * than wait for a restart (those already sent will be sent again). */
static int unclaim_run(struct vt_store_tx *tx, void *ctx)
{
    struct claim_job *j = ctx;
    int64_t now = vt_store_tx_now(tx);
    for (size_t i = 0; i < j->n; i++) {
        struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_UNCLAIM);
        if (!st)
            return VT_ESTORE;
        vt_db_bind_int(st, 1, j->c[i].id);
        vt_db_bind_int(st, 2, now + j->o->cfg->outbox.backoff_base_ms);
        vt_db_bind_int(st, 3, now);
        int rc = vt_db_run(st);
        if (rc)
            return rc;
    }
    return 0;
}

/* Claims that ran out, and (at start) this instance's own from its last run
 * (?3 NULL: none; on SQLite every claim is this instance's). */
static const char SQL_RECOVER[] =
    "UPDATE outbox SET status = 'pending', updated_at = ?1 WHERE status = 'sending' AND "
    "(lease_until IS NULL OR lease_until <= ?1 OR claimed_by = CAST(?2 AS TEXT) OR ?3 = 1)";

struct recover_job {
    struct vt_outbox *o;
    bool at_start;
    int n;
};

static int recover_run(struct vt_store_tx *tx, void *ctx)
{
    struct recover_job *r = ctx;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_RECOVER);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, vt_store_tx_now(tx));
    vt_db_bind_text(st, 2, r->at_start ? vt_store_instance(r->o->store) : NULL);
    vt_db_bind_int(st, 3, r->at_start && !vt_store_shared(r->o->store));
    int rc = vt_db_step(st) == VT_DB_DONE ? 0 : VT_ESTORE;
    r->n = (int)vt_db_changes(st);
    vt_db_reset(st);
    return rc;
}

/* Takes back claims; logs how many. 0 or VT_E*. */
static int recover(struct vt_outbox *o, bool at_start)
{
    struct recover_job r = {o, at_start, 0};
    int rc = vt_store_run(o->store, recover_run, &r);
    if (!rc && r.n)
        vt_log(VT_LOG_WARN, "outbox_recovered", "messages=%d note=\"%s\"", r.n,
               at_start ? "left sending by a crash; sent again"
                        : "claimed by an instance that stopped answering; sent again");
    return rc;
}

/* ---- the sender thread ---- */

int64_t vt_outbox_backoff_ms(const struct vt_outbox_config *c, int attempts, uint32_t random)
{
    /* "Equal jitter": half the exponential delay, plus a random part of the
     * other half, so retries of many messages after one outage spread out. */
    int64_t d = c->backoff_base_ms;
    for (int i = 1; i < attempts && d < c->backoff_max_ms; i++)
        d *= 2;
    if (d > c->backoff_max_ms)
        d = c->backoff_max_ms;
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t)(random % (uint32_t)(half + 1)) : 0);
}

/* Walks outbox_due in order and stops at the first row of this sender: a
 * min() would read every pending row of every sender. */
static const char SQL_NEXT_DUE[] =
    "SELECT next_attempt_at FROM outbox WHERE status = 'pending' AND channel = ?1 AND "
    "shard % ?2 = ?3 ORDER BY next_attempt_at LIMIT 1";

/* Ms until the next pending message of this sender is due (capped). */
static int64_t next_due_in(struct sender *sd)
{
    struct vt_outbox *o = sd->o;
    int64_t best = 2000; /* also picks up rows another process queued */
    int64_t now = vt_clock_now_ms();
    for (size_t i = 0; i < o->n_t; i++) {
        struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(sd->reader), SQL_NEXT_DUE);
        if (!st)
            break;
        vt_db_bind_text(st, 1, o->t[i]->channel);
        vt_db_bind_int(st, 2, o->n_senders);
        vt_db_bind_int(st, 3, sd->index);
        if (vt_db_step(st) == VT_DB_ROW && !vt_db_col_null(st, 0)) {
            int64_t in = vt_db_col_int(st, 0) - now;
            if (in < best)
                best = in < 0 ? 0 : in;
        }
        vt_db_reset(st);
    }
    return best;
}

/* Returns how many attempts must be retried. */
static size_t send_all(struct sender *sd, size_t ti, struct claim_job *j)
{
    const struct vt_outbox_transport *t = sd->o->t[ti];
    size_t failed = 0, retry = 0;
    const struct claimed *first = NULL;
    for (size_t i = 0; i < j->n; i++) {
        struct claimed *c = &j->c[i];
        struct vt_outbox_msg m = {c->id,   c->item_id, c->channel,  c->recipient,    c->kind,
                                  c->body, c->params,  c->attempts, c->template_only};
        memset(&c->res, 0, sizeof(c->res));
        t->send(sd->ctx[ti], sd->reader, &m, &c->res);
        if (c->res.outcome != VT_SEND_OK) {
            vt_log(VT_LOG_DEBUG, "outbox_attempt_failed",
                   "id=%lld channel=%s kind=%s attempt=%d outcome=%d error=\"%s\"",
                   (long long)c->id, c->channel, c->kind, c->attempts, (int)c->res.outcome,
                   c->res.error);
            if (!failed++)
                first = c;
            retry += c->res.outcome == VT_SEND_RETRY;
        }
    }
    /* One line a round: a provider outage must not flood the log. */
    if (failed)
        vt_log(VT_LOG_WARN, "outbox_attempts_failed",
               "channel=%s failed=%zu of=%zu first_id=%lld first_attempt=%d error=\"%s\"",
               t->channel, failed, j->n, (long long)first->id, first->attempts, first->res.error);
    return retry;
}

/* One round over every transport; returns how many messages it handled.
 * *all_retry is set when every attempt failed in a way worth retrying (the
 * provider looks down). */
static size_t round_once(struct sender *sd, bool *all_retry)
{
    struct vt_outbox *o = sd->o;
    size_t handled = 0, retry = 0;
    for (size_t i = 0; i < o->n_t; i++) {
        struct claim_job j = {o, sd->index, o->t[i]->channel, vt_clock_now_ms(), NULL, 0, 0};
        int rc = vt_store_run(o->store, claim_run, &j);
        if (rc == 0 && j.n) {
            retry += send_all(sd, i, &j);
            rc = vt_store_run(o->store, record_run, &j);
            if (rc) {
                int urc = vt_store_run(o->store, unclaim_run, &j);
                vt_log(VT_LOG_ERROR, "outbox_record_failed",
                       "error=\"%s\" messages=%zu requeued=%d", vt_strerror(rc), j.n, urc == 0);
            }
            handled += j.n;
        } else if (rc && rc != VT_ESHUTDOWN) {
            vt_log(VT_LOG_ERROR, "outbox_claim_failed", "error=\"%s\"", vt_strerror(rc));
        }
        claimed_free(j.c, j.n);
    }
    *all_retry = handled > 0 && retry == handled;
    return handled;
}

static void *sender_main(void *arg)
{
    struct sender *sd = arg;
    struct vt_outbox *o = sd->o;
    int64_t every = lease_ms(o->cfg) < 60000 ? lease_ms(o->cfg) : 60000;
    int64_t next_recover = vt_clock_now_ms() + every;
    for (;;) {
        pthread_mutex_lock(&o->lock);
        bool stop = o->stopping;
        unsigned seen = o->wanted;
        pthread_mutex_unlock(&o->lock);
        if (stop)
            break;
        if (sd->index == 0 && vt_clock_now_ms() >= next_recover) {
            recover(o, false);
            next_recover = vt_clock_now_ms() + every;
        }
        bool all_retry = false;
        int64_t wait;
        if (round_once(sd, &all_retry) > 0) {
            if (!all_retry) {
                sd->failed_rounds = 0;
                continue;
            }
            /* The provider looks down: pause this sender, doubling up to the
             * longest backoff, instead of churning through the queue. Rows
             * not claimed stay pending; nothing is lost. */
            wait = vt_outbox_backoff_ms(&o->cfg->outbox, ++sd->failed_rounds, randombytes_random());
            if (wait > 30000)
                wait = 30000; /* recover within half a minute of the provider */
        } else {
            wait = next_due_in(sd);
        }
        struct timespec ts;
        vt_clock_deadline(wait, &ts);
        pthread_mutex_lock(&o->lock);
        while ((o->wanted == seen || sd->failed_rounds) && !o->stopping)
            if (pthread_cond_timedwait(&o->cond, &o->lock, &ts) != 0)
                break;
        pthread_mutex_unlock(&o->lock);
    }
    return NULL;
}

struct vt_outbox *vt_outbox_new(const struct vt_config *cfg, struct vt_store *store)
{
    struct vt_outbox *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->cfg = cfg;
    o->store = store;
    o->n_senders = cfg->outbox.senders < 1             ? 1
                   : cfg->outbox.senders > MAX_SENDERS ? MAX_SENDERS
                                                       : cfg->outbox.senders;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    return o;
}

int vt_outbox_register(struct vt_outbox *o, const struct vt_outbox_transport *t)
{
    if (o->n_t == MAX_TRANSPORTS || o->senders[0].started)
        return VT_ETOOBIG;
    o->t[o->n_t++] = t;
    return 0;
}

int vt_outbox_start(struct vt_outbox *o)
{
    int rc = recover(o, true);
    if (rc)
        return rc;
    for (int i = 0; i < o->n_senders; i++) {
        struct sender *sd = &o->senders[i];
        sd->o = o;
        sd->index = i;
        if (!(sd->reader = vt_store_reader_new(o->store)))
            return VT_ESTORE;
        for (size_t t = 0; t < o->n_t; t++) {
            sd->ctx[t] = o->t[t]->open ? o->t[t]->open(o->t[t]->ctx) : o->t[t]->ctx;
            if (o->t[t]->open && !sd->ctx[t])
                return VT_ENOMEM;
        }
        if (pthread_create(&sd->thread, NULL, sender_main, sd) != 0)
            return VT_ENOMEM;
        sd->started = true;
    }
    return 0;
}

void vt_outbox_wake(struct vt_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->wanted++;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

void vt_outbox_stop(struct vt_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    bool already = o->stopping;
    o->stopping = true;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
    if (already)
        return;
    /* A send waiting on a slow provider gives up; it stays queued. */
    for (int i = 0; i < o->n_senders; i++)
        for (size_t t = 0; t < o->n_t; t++)
            if (o->senders[i].started && o->t[t]->interrupt)
                o->t[t]->interrupt(o->senders[i].ctx[t]);
    for (int i = 0; i < o->n_senders; i++) {
        struct sender *sd = &o->senders[i];
        if (sd->started)
            pthread_join(sd->thread, NULL);
        sd->started = false;
        for (size_t t = 0; t < o->n_t; t++) {
            if (o->t[t]->close && sd->ctx[t])
                o->t[t]->close(sd->ctx[t]);
            sd->ctx[t] = NULL;
        }
        vt_store_reader_free(sd->reader);
        sd->reader = NULL;
    }
}

void vt_outbox_free(struct vt_outbox *o)
{
    if (!o)
        return;
    vt_outbox_stop(o);
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->cond);
    free(o);
}

/* ---- staff operations ---- */

/* A message sent once whose secret was erased (an email the SMTP server
 * accepted, then bounced) cannot be sent again: it would carry the
 * placeholder instead of the code (checked in C: a substring test reads
 * differently in each database). */
static const char SQL_RETRY_DEAD[] =
    "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, updated_at = ?2, attempts = 0 "
    "WHERE id = ?1 AND status IN ('dead', 'failed', 'undeliverable')";
static const char SQL_EXISTS[] =
    "SELECT coalesce(item_id, 0), CASE WHEN secret IS NULL AND sent_at IS NOT NULL THEN 1 ELSE 0 "
    "END, body, coalesce(params, '') FROM outbox WHERE id = ?1";

struct retry_ctx {
    int64_t id;
};

static int retry_run(struct vt_store_tx *tx, void *ctx)
{
    struct retry_ctx *r = ctx;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_EXISTS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, r->id);
    if (vt_db_step(st) != VT_DB_ROW) {
        vt_db_reset(st);
        return VT_ENOTFOUND;
    }
    int64_t item_id = vt_db_col_int(st, 0);
    bool lost_code = vt_db_col_int(st, 1) && (strstr(vt_db_col_str(st, 2), "{codigo}") ||
                                              strstr(vt_db_col_str(st, 3), "{codigo}"));
    vt_db_reset(st);
    if (lost_code)
        return VT_EINVAL;
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_RETRY_DEAD)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, r->id);
    vt_db_bind_int(st, 2, vt_store_tx_now(tx));
    int rc = vt_db_run(st);
    if (rc)
        return rc;
    if (vt_db_changes(st) == 0)
        return VT_EINVAL;
    vt_store_tx_outbox_added(tx);
    if (item_id) {
        char payload[80];
        snprintf(payload, sizeof(payload), "{\"outbox_id\":%lld}", (long long)r->id);
        rc = vt_store_tx_event(tx, item_id, "staff:cli", "mensaje_reintentado", payload, 0);
    }
    return rc;
}

int vt_outbox_retry(struct vt_store *s, int64_t id)
{
    struct retry_ctx r = {id};
    return vt_store_run(s, retry_run, &r);
}

static const char SQL_LIST[] =
    "SELECT o.id, o.status, o.channel, o.kind, coalesce(i.radicado, '-'), o.attempts, "
    "coalesce(o.last_error, '') FROM outbox o LEFT JOIN items i ON i.id = o.item_id WHERE "
    "(CAST(?1 AS TEXT) IS NULL AND o.status IN ('dead', 'failed', 'undeliverable') "
    "AND o.kind <> 'read') OR o.status = ?1 ORDER BY o.id";

int vt_outbox_list(struct vt_store *s, const char *status, FILE *f)
{
    struct vt_store_reader *r = vt_store_reader_new(s);
    if (!r)
        return VT_ESTORE;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_LIST);
    int rc = st ? 0 : VT_ESTORE, n = 0;
    if (st) {
        if (status)
            vt_db_bind_text(st, 1, status);
        fprintf(f, "id\tstatus\tchannel\tkind\tradicado\tattempts\tlast_error\n");
        while (vt_db_step(st) == VT_DB_ROW) {
            fprintf(f, "%lld\t%s\t%s\t%s\t%s\t%d\t%s\n", (long long)vt_db_col_int(st, 0),
                    vt_db_col_str(st, 1), vt_db_col_str(st, 2), vt_db_col_str(st, 3),
                    vt_db_col_str(st, 4), (int)vt_db_col_int(st, 5), vt_db_col_str(st, 6));
            n++;
        }
        vt_db_reset(st);
        fprintf(f, "%d message%s\n", n, n == 1 ? "" : "s");
    }
    vt_store_reader_free(r);
    return rc;
}

static const char SQL_COUNTS[] = "SELECT status, count(*) FROM outbox GROUP BY status";

int vt_outbox_counts(struct vt_store_reader *r, struct vt_count *out, size_t cap, size_t *n)
{
    *n = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_COUNTS);
    if (!st)
        return VT_ESTORE;
    while (*n < cap && vt_db_step(st) == VT_DB_ROW) {
        snprintf(out[*n].key, sizeof(out[*n].key), "%s", vt_db_col_str(st, 0));
        out[*n].n = vt_db_col_int(st, 1);
        (*n)++;
    }
    vt_db_reset(st);
    return 0;
}
