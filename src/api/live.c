/* live.c - WebSocket subscribers and the dashboard counts (live.h).
 *
 * Each message is built once and shared by every subscriber that must get it
 * (reference-counted); each subscriber has a bounded queue. A subscriber that
 * falls more than QUEUE_MAX messages behind is disconnected rather than let
 * grow without bound: the dashboard reconnects and gets a fresh snapshot.
 *
 * The managers' figures ("dashboard" topic, dashboard.h) are recomputed from
 * the store, not advanced in memory. On a big store that takes a while (a
 * third of a second at 100,000 items), so it runs on a worker thread of its
 * own, started at the first dashboard subscription, with a reader it opens
 * itself. The worker makes no lws call (the lws context may be gone before
 * the worker is joined in vt_live_free): the loop asks (dashboard_request)
 * and, while an answer is due, looks for it every POLL_US on a timer of its
 * own (dashboard_poll_cb), then sends it (dashboard_deliver). Asks are
 * throttled: a commit or a due refresh marks the figures stale
 * (dashboard_touch); they are asked for at once when the last ask is a
 * second old or more, otherwise once when that second is up, however many
 * commits came in between:
 *
 *   idle --touch, last ask >= 1 s ago--> asked (idle again)
 *   idle --touch, last ask < 1 s ago--> scheduled (dash_timer)
 *   scheduled --touch--> scheduled (coalesced)
 *   scheduled --timer (dashboard_timer_cb)--> asked
 *
 * A new subscriber's snapshot is asked for without waiting and goes to the
 * new subscribers only. Asks made while the worker is busy are merged into
 * one. Sessions are checked on the loop when the answer is sent.
 */
#include "api/live.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "core/calendar.h"
#include "domain/casework.h"
#include "core/clock.h"
#include "domain/dashboard.h"
#include "core/error.h"
#include "domain/hearing.h"
#include "http/http.h"
#include "core/log.h"
#include "domain/queue.h"
#include "api/app.h"
#include "http/reply.h"

#define QUEUE_MAX 1024
#define COUNTS_MAX 32
#define POLL_US 10000 /* how often the loop looks for the dashboard worker's answer */

struct msg {
    int refs;
    bool wall; /* a whole question wall: a newer one replaces it unsent */
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes, then the payload */
};

struct sub {
    struct lws *wsi;
    struct vt_live *live;
    bool items, metrics, staff, dashboard;
    bool dash_first; /* subscribed to dashboard, waiting for its first figures */
    char wall[64];   /* the hearing code of the "wall" topic, "" for none */
    char *cookie;    /* the handshake's, for the staff and dashboard topics; NULL when
                        none, or when the handshake came from another site's page */
    struct msg *queue[QUEUE_MAX];
    size_t head, count;
    struct sub *next;
};

struct event {
    long long id;
    char radicado[48], kind[24], type[24], channel[16], group[64], status[24], due[11];
    long long received_at;
};

struct counts {
    char key[COUNTS_MAX][64];
    long long n[COUNTS_MAX];
    size_t len;
};

struct vt_live {
    struct vt_app *srv;
    struct sub *subs; /* loop thread */
    atomic_int n_subs;

    pthread_mutex_t lock; /* guards pending */
    struct event *pending;
    size_t n_pending, cap_pending;
    struct vt_item_change *changes; /* guarded by lock too */
    size_t n_changes, cap_changes;
    char (*walls)[64]; /* hearing codes of walls to send again; guarded by lock too */
    size_t n_walls, cap_walls;

    long long total, overdue, due_soon;
    struct counts by_channel, by_type, by_group, by_status;

    /* The dashboard topic's throttle (loop thread). */
    lws_sorted_usec_list_t dash_timer;
    bool dash_scheduled;
    lws_usec_t dash_last; /* when figures for every subscriber were last asked for */
    lws_sorted_usec_list_t dash_poll;
    bool dash_polling;

    /* Its worker. dash_lock guards the fields after it. */
    pthread_t dash_thread;
    bool dash_started; /* loop thread */
    pthread_mutex_t dash_lock;
    pthread_cond_t dash_cond;
    bool dash_want, dash_want_all, dash_busy, dash_stop;
    char *dash_text;    /* the answer: the figures' message, or NULL */
    bool dash_text_all; /* for every subscriber, not only new ones */
};

static struct msg *msg_new(const char *payload)
{
    size_t len = strlen(payload);
    struct msg *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m)
        return NULL;
    m->refs = 0;
    m->wall = false;
    m->len = len;
    memcpy(m->data + LWS_PRE, payload, len);
    return m;
}

static void msg_unref(struct msg *m)
{
    if (m && --m->refs <= 0)
        free(m);
}

static void counts_add(struct counts *c, const char *key, long long n)
{
    for (size_t i = 0; i < c->len; i++)
        if (strcmp(c->key[i], key) == 0) {
            c->n[i] += n;
            return;
        }
    /* A key that does not fit would merge with another once cut: such a key
     * is no channel, type or group code, so it is not counted. */
    size_t len = strlen(key);
    if (c->len == COUNTS_MAX || len >= sizeof(c->key[0]))
        return;
    memcpy(c->key[c->len], key, len + 1);
    c->n[c->len++] = n;
}

static void counts_load(struct counts *c, const struct vt_count *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        counts_add(c, src[i].key, src[i].n);
}

struct vt_live *vt_live_new(struct vt_app *srv, const struct vt_snapshot *s)
{
    struct vt_live *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->srv = srv;
    pthread_mutex_init(&l->lock, NULL);
    pthread_mutex_init(&l->dash_lock, NULL);
    pthread_cond_init(&l->dash_cond, NULL);
    if (s) {
        l->total = s->total;
        l->overdue = s->overdue;
        l->due_soon = s->due_soon;
        counts_load(&l->by_channel, s->by_channel, s->n_channel);
        counts_load(&l->by_type, s->by_type, s->n_type);
        counts_load(&l->by_group, s->by_group, s->n_group);
        counts_load(&l->by_status, s->by_status, s->n_status);
    }
    return l;
}

static void dashboard_stop(struct vt_live *l);

void vt_live_free(struct vt_live *l)
{
    if (!l)
        return;
    dashboard_stop(l);
    pthread_mutex_destroy(&l->dash_lock);
    pthread_cond_destroy(&l->dash_cond);
    free(l->dash_text);
    pthread_mutex_destroy(&l->lock);
    free(l->pending);
    free(l->changes);
    free(l->walls);
    free(l);
}

int vt_live_clients(struct vt_live *l)
{
    return atomic_load(&l->n_subs);
}

void vt_live_publish(struct vt_live *l, struct vt_item *const *items, size_t n)
{
    pthread_mutex_lock(&l->lock);
    if (l->n_pending + n > l->cap_pending) {
        size_t cap = l->cap_pending ? l->cap_pending : 256;
        while (cap < l->n_pending + n)
            cap *= 2;
        struct event *p = realloc(l->pending, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&l->lock);
            return; /* the feed is best effort; the store already has the items */
        }
        l->pending = p;
        l->cap_pending = cap;
    }
    for (size_t i = 0; i < n; i++) {
        const struct vt_item *it = items[i];
        struct event *e = &l->pending[l->n_pending++];
        e->id = it->id;
        snprintf(e->radicado, sizeof(e->radicado), "%s", it->radicado);
        snprintf(e->kind, sizeof(e->kind), "%s", it->kind);
        snprintf(e->type, sizeof(e->type), "%s", it->type ? it->type : "");
        snprintf(e->channel, sizeof(e->channel), "%s", it->channel);
        snprintf(e->group, sizeof(e->group), "%s", it->group);
        snprintf(e->status, sizeof(e->status), "%s", it->status);
        snprintf(e->due, sizeof(e->due), "%s", it->due_date);
        e->received_at = it->received_at;
    }
    pthread_mutex_unlock(&l->lock);
    lws_cancel_service(vt_http_context(vt_app_http(l->srv)));
}

static cJSON *counts_json(const struct counts *c)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < c->len; i++)
        cJSON_AddNumberToObject(o, c->key[i], (double)c->n[i]);
    return o;
}

static char *metrics_json(const struct vt_live *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", "metrics");
    cJSON_AddNumberToObject(o, "total", (double)l->total);
    cJSON_AddItemToObject(o, "by_channel", counts_json(&l->by_channel));
    cJSON_AddItemToObject(o, "by_type", counts_json(&l->by_type));
    cJSON_AddItemToObject(o, "by_group", counts_json(&l->by_group));
    cJSON_AddItemToObject(o, "by_status", counts_json(&l->by_status));
    cJSON_AddNumberToObject(o, "overdue", (double)l->overdue);
    cJSON_AddNumberToObject(o, "due_soon", (double)l->due_soon);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *event_json(const struct event *e)
{
    char at[32];
    vt_time_format_iso(e->received_at, at);
    cJSON *o = cJSON_CreateObject(), *it;
    cJSON_AddStringToObject(o, "topic", "items");
    cJSON_AddStringToObject(o, "event", "created");
    it = cJSON_AddObjectToObject(o, "item");
    cJSON_AddStringToObject(it, "radicado", e->radicado);
    cJSON_AddStringToObject(it, "kind", e->kind);
    if (e->type[0])
        cJSON_AddStringToObject(it, "type", e->type);
    else
        cJSON_AddNullToObject(it, "type");
    cJSON_AddStringToObject(it, "channel", e->channel);
    cJSON_AddStringToObject(it, "group", e->group);
    cJSON_AddStringToObject(it, "status", e->status);
    if (e->due[0])
        cJSON_AddStringToObject(it, "due_date", e->due);
    else
        cJSON_AddNullToObject(it, "due_date");
    cJSON_AddStringToObject(it, "received_at", at);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The Cookie header a subscriber's topics may use ("" for none). */
static const char *sub_cookie(const struct sub *s)
{
    return s->cookie ? s->cookie : "";
}

/* Queues m for s; returns false when s is too far behind. */
static bool enqueue(struct sub *s, struct msg *m)
{
    if (s->count == QUEUE_MAX)
        return false;
    s->queue[(s->head + s->count++) % QUEUE_MAX] = m;
    m->refs++;
    if (s->count == 1) /* otherwise a writable callback is already asked for */
        lws_callback_on_writable(s->wsi);
    return true;
}

static void broadcast(struct vt_live *l, const char *payload, bool metrics_topic)
{
    struct msg *m = msg_new(payload);
    if (!m)
        return;
    m->refs = 1; /* held while looping */
    for (struct sub *s = l->subs; s; s = s->next) {
        if (metrics_topic ? !s->metrics : !s->items)
            continue;
        if (!enqueue(s, m))
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    msg_unref(m);
}

/* What a staff subscriber is told when its session has ended (logout,
 * expiry, a changed password, a disabled account): then nothing more. */
static const char STAFF_ENDED[] =
    "{\"topic\":\"error\",\"code\":\"unauthenticated\",\"message\":\"Su sesión terminó. "
    "Entre de nuevo para seguir recibiendo las novedades de la bandeja.\"}";

/* Sends item_id's queue row to each staff subscriber whose session is still
 * good and whose scope holds the item (or held it before: old_dep, may be
 * NULL), so a list that had the row can drop it. */
static void staff_send(struct vt_live *l, int64_t item_id, const char *event, const char *actor,
                       const char *action, const char *old_dep)
{
    bool any = false;
    for (struct sub *s = l->subs; s && !any; s = s->next)
        any = s->staff;
    if (!any)
        return;
    const struct vt_config *cfg = vt_app_config(l->srv);
    char dep[101];
    cJSON *row = vt_queue_row(vt_app_reader(l->srv), cfg, item_id, dep, sizeof(dep));
    if (!row)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", "staff");
    cJSON_AddStringToObject(o, "event", event);
    if (actor && *actor)
        cJSON_AddStringToObject(o, "actor", actor);
    else
        cJSON_AddNullToObject(o, "actor");
    if (action)
        cJSON_AddStringToObject(o, "action", action);
    else
        cJSON_AddNullToObject(o, "action");
    cJSON_AddItemToObject(o, "item", row);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    struct msg *m = text ? msg_new(text) : NULL;
    free(text);
    if (!m)
        return;
    m->refs = 1;
    for (struct sub *s = l->subs; s; s = s->next) {
        struct vt_staff who;
        if (!s->staff)
            continue;
        if (vt_auth_cookie_staff(l->srv, sub_cookie(s), &who) != 0) {
            s->staff = false; /* the session ended: told once, no more staff events */
            struct msg *e = msg_new(STAFF_ENDED);
            if (e && !enqueue(s, e))
                free(e);
            continue;
        }
        bool in =
            vt_staff_in_scope(cfg, &who, dep) || (old_dep && vt_staff_in_scope(cfg, &who, old_dep));
        if (in && !enqueue(s, m))
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    msg_unref(m);
}

/* ---- the dashboard topic ---- */

static const char DASH_UNAUTHENTICATED[] =
    "{\"topic\":\"error\",\"code\":\"unauthenticated\",\"message\":\"Para ver el "
    "tablero de gerencia, entre con su usuario del personal.\"}";
static const char DASH_FORBIDDEN[] =
    "{\"topic\":\"error\",\"code\":\"forbidden\",\"message\":\"El tablero de gerencia "
    "es solo para el rol gerente.\"}";

/* Queues a constant text for s alone. */
static void send_text(struct sub *s, const char *text)
{
    struct msg *m = msg_new(text);
    if (m && !enqueue(s, m))
        free(m);
}

/* NULL when s's session belongs to a gerente now; else the error to tell it. */
static const char *dashboard_refusal(struct vt_live *l, const struct sub *s)
{
    struct vt_staff who;
    if (vt_auth_cookie_staff(l->srv, sub_cookie(s), &who) != 0)
        return DASH_UNAUTHENTICATED;
    return who.role == VT_ROLE_GERENTE ? NULL : DASH_FORBIDDEN;
}

/* Worker thread: computes the figures whenever asked, until told to stop. */
static void *dashboard_worker(void *arg)
{
    struct vt_live *l = arg;
    const struct vt_config *cfg = vt_app_config(l->srv);
    struct vt_store_reader *r = vt_store_reader_new(vt_app_store(l->srv));
    if (!r)
        vt_log(VT_LOG_ERROR, "dashboard_failed", "error=\"cannot open a reader\"");
    pthread_mutex_lock(&l->dash_lock);
    for (;;) {
        while (!l->dash_want && !l->dash_stop)
            pthread_cond_wait(&l->dash_cond, &l->dash_lock);
        if (l->dash_stop)
            break;
        bool all = l->dash_want_all;
        l->dash_want = l->dash_want_all = false;
        l->dash_busy = true;
        pthread_mutex_unlock(&l->dash_lock);

        cJSON *o = NULL;
        char *text = NULL;
        int rc = r ? vt_dashboard_build(r, cfg, vt_clock_now_ms(), &o) : VT_ESTORE;
        if (rc == 0) {
            cJSON_AddStringToObject(o, "topic", "dashboard");
            text = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
        } else {
            vt_log(VT_LOG_WARN, "dashboard_failed", "error=\"%s\"", vt_strerror(rc));
        }

        pthread_mutex_lock(&l->dash_lock);
        l->dash_busy = false;
        if (text) {
            /* An answer the loop has not taken yet is older: this one replaces it. */
            l->dash_text_all = l->dash_text_all || all;
            free(l->dash_text);
            l->dash_text = text;
        }
    }
    pthread_mutex_unlock(&l->dash_lock);
    vt_store_reader_free(r);
    return NULL;
}

static void dashboard_deliver(struct vt_live *l);

/* Loop thread: sends the worker's answer once there is one; looks again
 * while one is still due. */
static void dashboard_poll_cb(lws_sorted_usec_list_t *sul)
{
    struct vt_live *l = lws_container_of(sul, struct vt_live, dash_poll);
    dashboard_deliver(l);
    pthread_mutex_lock(&l->dash_lock);
    bool due = l->dash_want || l->dash_busy || l->dash_text;
    pthread_mutex_unlock(&l->dash_lock);
    l->dash_polling = due;
    if (due)
        lws_sul_schedule(vt_http_context(vt_app_http(l->srv)), 0, &l->dash_poll, dashboard_poll_cb,
                         POLL_US);
}

/* Loop thread: asks the worker (started the first time) for the figures,
 * for every subscriber (all) or only for those still waiting for their
 * first. False when the worker cannot start. */
static bool dashboard_request(struct vt_live *l, bool all)
{
    if (!l->dash_started) {
        if (pthread_create(&l->dash_thread, NULL, dashboard_worker, l) != 0) {
            vt_log(VT_LOG_ERROR, "dashboard_failed", "error=\"cannot start its thread\"");
            return false;
        }
        l->dash_started = true;
    }
    pthread_mutex_lock(&l->dash_lock);
    l->dash_want = true;
    l->dash_want_all = l->dash_want_all || all;
    pthread_cond_signal(&l->dash_cond);
    pthread_mutex_unlock(&l->dash_lock);
    if (!l->dash_polling) {
        l->dash_polling = true;
        lws_sul_schedule(vt_http_context(vt_app_http(l->srv)), 0, &l->dash_poll, dashboard_poll_cb,
                         POLL_US);
    }
    return true;
}

/* Stops and joins the worker (it finishes a computation under way). */
static void dashboard_stop(struct vt_live *l)
{
    if (!l->dash_started)
        return;
    pthread_mutex_lock(&l->dash_lock);
    l->dash_stop = true;
    pthread_cond_signal(&l->dash_cond);
    pthread_mutex_unlock(&l->dash_lock);
    pthread_join(l->dash_thread, NULL);
    l->dash_started = false;
    vt_log(VT_LOG_DEBUG, "dashboard_stopped", "clients=%d", atomic_load(&l->n_subs));
}

/* Loop thread: sends the worker's answer, if any, to each dashboard
 * subscriber it is for whose session is still a gerente's; one whose
 * session ended or changed role is told so and gets no more. */
static void dashboard_deliver(struct vt_live *l)
{
    if (!l->dash_started)
        return;
    pthread_mutex_lock(&l->dash_lock);
    char *text = l->dash_text;
    bool all = l->dash_text_all;
    l->dash_text = NULL;
    l->dash_text_all = false;
    pthread_mutex_unlock(&l->dash_lock);
    struct msg *m = text ? msg_new(text) : NULL;
    free(text);
    if (!m)
        return;
    m->refs = 1; /* held while looping */
    for (struct sub *s = l->subs; s; s = s->next) {
        if (!s->dashboard || (!all && !s->dash_first))
            continue;
        const char *no = dashboard_refusal(l, s);
        if (no) {
            s->dashboard = false;
            send_text(s, no);
            continue;
        }
        s->dash_first = false;
        if (!enqueue(s, m))
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    msg_unref(m);
}

static void dashboard_timer_cb(lws_sorted_usec_list_t *sul)
{
    struct vt_live *l = lws_container_of(sul, struct vt_live, dash_timer);
    l->dash_scheduled = false;
    l->dash_last = lws_now_usecs();
    dashboard_request(l, true);
}

/* The figures may have moved: ask for them now, or once the throttle's
 * second is up (see the diagram at the top). */
static void dashboard_touch(struct vt_live *l)
{
    if (l->dash_scheduled)
        return;
    bool any = false;
    for (struct sub *s = l->subs; s && !any; s = s->next)
        any = s->dashboard;
    if (!any)
        return;
    lws_usec_t now = lws_now_usecs(), next = l->dash_last + LWS_US_PER_SEC;
    if (now >= next) {
        l->dash_last = now;
        dashboard_request(l, true);
        return;
    }
    l->dash_scheduled = true;
    lws_sul_schedule(vt_http_context(vt_app_http(l->srv)), 0, &l->dash_timer, dashboard_timer_cb,
                     next - now);
}

static void counts_move(struct counts *c, const char *from, const char *to)
{
    if (from && to && strcmp(from, to) != 0) {
        counts_add(c, from, -1);
        counts_add(c, to, 1);
    }
}

void vt_live_publish_changes(struct vt_live *l, const struct vt_item_change *c, size_t n)
{
    pthread_mutex_lock(&l->lock);
    if (l->n_changes + n > l->cap_changes) {
        size_t cap = l->cap_changes ? l->cap_changes : 64;
        while (cap < l->n_changes + n)
            cap *= 2;
        struct vt_item_change *p = realloc(l->changes, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&l->lock);
            return; /* best effort, like item events */
        }
        l->changes = p;
        l->cap_changes = cap;
    }
    memcpy(l->changes + l->n_changes, c, n * sizeof(*c));
    l->n_changes += n;
    pthread_mutex_unlock(&l->lock);
    lws_cancel_service(vt_http_context(vt_app_http(l->srv)));
}

void vt_live_publish_wall(struct vt_live *l, const char *code)
{
    pthread_mutex_lock(&l->lock);
    bool queued = false;
    for (size_t i = 0; i < l->n_walls && !queued; i++)
        queued = strcmp(l->walls[i], code) == 0; /* one wall per drain is the whole state */
    if (!queued && l->n_walls == l->cap_walls) {
        size_t cap = l->cap_walls ? l->cap_walls * 2 : 4;
        char(*p)[64] = realloc(l->walls, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&l->lock);
            return; /* best effort, like item events */
        }
        l->walls = p;
        l->cap_walls = cap;
    }
    if (!queued)
        snprintf(l->walls[l->n_walls++], sizeof(l->walls[0]), "%s", code);
    pthread_mutex_unlock(&l->lock);
    lws_cancel_service(vt_http_context(vt_app_http(l->srv)));
}

/* Loop thread: the walls queued by vt_live_publish_wall. */
static void drain_walls(struct vt_live *l)
{
    pthread_mutex_lock(&l->lock);
    char(*w)[64] = l->walls;
    size_t n = l->n_walls;
    l->walls = NULL;
    l->n_walls = l->cap_walls = 0;
    pthread_mutex_unlock(&l->lock);
    for (size_t i = 0; i < n; i++)
        vt_live_wall_changed(l, w[i]);
    free(w);
}

/* Loop thread: staff events and status counts of the queued changes;
 * returns how many there were. */
static size_t drain_changes(struct vt_live *l)
{
    pthread_mutex_lock(&l->lock);
    struct vt_item_change *c = l->changes;
    size_t n = l->n_changes;
    l->changes = NULL;
    l->n_changes = l->cap_changes = 0;
    pthread_mutex_unlock(&l->lock);
    bool moved = false;
    for (size_t i = 0; i < n; i++) {
        staff_send(l, c[i].item_id, "changed", c[i].actor, c[i].action, c[i].old_dependencia);
        if (strcmp(c[i].old_status, c[i].new_status) != 0) {
            counts_move(&l->by_status, c[i].old_status, c[i].new_status);
            moved = true;
        }
    }
    free(c);
    if (moved && l->subs) {
        char *s = metrics_json(l);
        if (s)
            broadcast(l, s, true);
        free(s);
    }
    return n;
}

void vt_live_staff_due_soon(struct vt_live *l, int64_t item_id)
{
    staff_send(l, item_id, "due_soon", NULL, NULL, NULL);
}

void vt_live_drain(struct vt_live *l)
{
    pthread_mutex_lock(&l->lock);
    struct event *ev = l->pending;
    size_t n = l->n_pending;
    l->pending = NULL;
    l->n_pending = l->cap_pending = 0;
    pthread_mutex_unlock(&l->lock);
    drain_walls(l);
    if (!n) {
        free(ev);
        if (drain_changes(l))
            dashboard_touch(l);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        l->total++;
        counts_add(&l->by_channel, ev[i].channel, 1);
        counts_add(&l->by_type, ev[i].type[0] ? ev[i].type : ev[i].kind, 1);
        counts_add(&l->by_group, ev[i].group, 1);
        counts_add(&l->by_status, ev[i].status, 1);
        if (l->subs) {
            char *s = event_json(&ev[i]);
            if (s)
                broadcast(l, s, false);
            free(s);
            staff_send(l, ev[i].id, "created", NULL, NULL, NULL);
        }
    }
    free(ev);
    if (l->subs) {
        /* One snapshot per drained batch, after its item events. */
        char *s = metrics_json(l);
        if (s)
            broadcast(l, s, true);
        free(s);
    }
    drain_changes(l);
    dashboard_touch(l); /* after the batch's other messages */
}

void vt_live_set_due_counts(struct vt_live *l, long long overdue, long long due_soon)
{
    /* The managers' figures move with the clock too (a new day, a term that
     * ran out), whether or not these counts changed. */
    dashboard_touch(l);
    if (l->overdue == overdue && l->due_soon == due_soon)
        return;
    l->overdue = overdue;
    l->due_soon = due_soon;
    char *s = metrics_json(l);
    if (s)
        broadcast(l, s, true);
    free(s);
}

void vt_live_wall_changed(struct vt_live *l, const char *code)
{
    if (!l)
        return;
    bool any = false;
    for (struct sub *s = l->subs; s && !any; s = s->next)
        any = strcmp(s->wall, code) == 0;
    if (!any)
        return;
    char *wall = vt_hearing_wall_json(vt_app_reader(l->srv), code);
    struct msg *m = wall ? msg_new(wall) : NULL;
    free(wall);
    if (!m)
        return;
    m->refs = 1; /* held while looping */
    m->wall = true;
    for (struct sub *s = l->subs; s; s = s->next) {
        if (strcmp(s->wall, code) != 0)
            continue;
        /* The wall is the whole state: an unsent older one is replaced, so a
         * busy moderation costs each viewer one wall, not one per change
         * (bench/hearing). */
        struct msg **last = s->count ? &s->queue[(s->head + s->count - 1) % QUEUE_MAX] : NULL;
        if (last && (*last)->wall) {
            msg_unref(*last);
            *last = m;
            m->refs++;
        } else if (!enqueue(s, m)) {
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
    }
    msg_unref(m);
}

/* Parses {"subscribe":["items","metrics"]} (also "staff", "dashboard");
 * returns false on bad input. */
static bool handle_subscribe(struct sub *s, const char *in, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(in, len);
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(o, "subscribe");
    bool ok = cJSON_IsArray(topics);
    const cJSON *t;
    bool was_metrics = s->metrics, staff_wanted = false, dashboard_wanted = false;
    bool wall_wanted = false;
    cJSON_ArrayForEach(t, topics)
    {
        if (cJSON_IsString(t) && strcmp(t->valuestring, "items") == 0)
            s->items = true;
        else if (cJSON_IsString(t) && strcmp(t->valuestring, "metrics") == 0)
            s->metrics = true;
        else if (cJSON_IsString(t) && strcmp(t->valuestring, "staff") == 0)
            staff_wanted = true;
        else if (cJSON_IsString(t) && strcmp(t->valuestring, "dashboard") == 0)
            dashboard_wanted = true;
        else if (cJSON_IsString(t) && strcmp(t->valuestring, "wall") == 0)
            wall_wanted = true;
        else if (cJSON_IsString(t) && strncmp(t->valuestring, "wall:", 5) == 0 &&
                 vt_hearing_code_ok(t->valuestring + 5))
            snprintf(s->wall, sizeof(s->wall), "%s", t->valuestring + 5);
        else
            ok = false;
    }
    if (ok && wall_wanted) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "hearing");
        if (cJSON_IsString(h) && vt_hearing_code_ok(h->valuestring))
            snprintf(s->wall, sizeof(s->wall), "%s", h->valuestring);
        else
            ok = false;
    }
    cJSON_Delete(o);
    /* The room's wall: what it shows now, then again at each moderation. */
    if (ok && s->wall[0]) {
        char *wall = vt_hearing_wall_json(vt_app_reader(s->live->srv), s->wall);
        if (wall)
            send_text(s, wall);
        else
            send_text(s, "{\"topic\":\"error\",\"code\":\"not_found\",\"message\":"
                         "\"No existe esa audiencia.\"}");
        free(wall);
    }
    if (ok && staff_wanted) {
        struct vt_staff who;
        if (vt_auth_cookie_staff(s->live->srv, sub_cookie(s), &who) == 0 &&
            (who.role == VT_ROLE_AGENTE || who.role == VT_ROLE_COORDINADOR ||
             who.role == VT_ROLE_GERENTE)) {
            s->staff = true;
        } else {
            static const char denied[] =
                "{\"topic\":\"error\",\"code\":\"unauthenticated\",\"message\":\"Para "
                "recibir las novedades de la bandeja, entre con su usuario del personal.\"}";
            struct msg *m = msg_new(denied);
            if (m && !enqueue(s, m))
                free(m);
        }
    }
    /* The managers' figures: a gerente's session, checked now and before
     * every later send (dashboard_deliver); a snapshot as soon as the worker
     * has it. */
    if (ok && dashboard_wanted && !s->dashboard) {
        const char *no = dashboard_refusal(s->live, s);
        if (no) {
            send_text(s, no);
        } else if (dashboard_request(s->live, false)) {
            s->dashboard = s->dash_first = true;
        } else {
            static const char failed[] =
                "{\"topic\":\"error\",\"code\":\"unavailable\",\"message\":\"El tablero "
                "de gerencia no está disponible en este momento.\"}";
            send_text(s, failed);
        }
    }
    if (ok && s->metrics && !was_metrics) {
        char *snap = metrics_json(s->live);
        struct msg *m = snap ? msg_new(snap) : NULL;
        free(snap);
        if (m && !enqueue(s, m))
            free(m);
    }
    return ok;
}

/* Everything a subscriber has queued, up to FRAMES_MAX bytes, framed here as
 * WebSocket text frames and written with one LWS_WRITE_RAW: one send() per
 * client per pass instead of one per message (bench/live: the write path
 * was the limit at 1,000 clients x 1,000 intakes/s). Server frames are not
 * masked and no extension is negotiated, so a frame is a 2-, 4- or 10-byte
 * header and the payload. A message too big for the buffer goes alone
 * through lws's own framing. Returns -1 to close the connection. */
#define FRAMES_MAX 65536
static int write_queued(struct lws *wsi, struct sub *s)
{
    static unsigned char buf[LWS_PRE + FRAMES_MAX]; /* loop thread only */
    if (!s->count)
        return 0;
    struct msg *first = s->queue[s->head];
    if (first->len + 10 > FRAMES_MAX) {
        s->head = (s->head + 1) % QUEUE_MAX;
        s->count--;
        int w = lws_write(wsi, first->data + LWS_PRE, first->len, LWS_WRITE_TEXT);
        msg_unref(first);
        if (w < 0)
            return -1;
    } else {
        size_t n = 0;
        unsigned char *out = buf + LWS_PRE;
        while (s->count) {
            struct msg *m = s->queue[s->head];
            size_t hdr = m->len < 126 ? 2 : m->len < 65536 ? 4 : 10;
            if (n + hdr + m->len > FRAMES_MAX)
                break;
            out[n++] = 0x81; /* FIN, text */
            if (hdr == 2) {
                out[n++] = (unsigned char)m->len;
            } else if (hdr == 4) {
                out[n++] = 126;
                out[n++] = (unsigned char)(m->len >> 8);
                out[n++] = (unsigned char)m->len;
            } else {
                out[n++] = 127;
                for (int i = 7; i >= 0; i--)
                    out[n++] = (unsigned char)((uint64_t)m->len >> (8 * i));
            }
            memcpy(out + n, m->data + LWS_PRE, m->len);
            n += m->len;
            s->head = (s->head + 1) % QUEUE_MAX;
            s->count--;
            msg_unref(m);
        }
        if (lws_write(wsi, out, n, LWS_WRITE_RAW) < (int)n)
            return -1;
    }
    if (s->count)
        lws_callback_on_writable(wsi);
    return 0;
}

/* True when the handshake's Origin is ours: entity.public_url's origin, one
 * of live.allowed_origins, or the origin the browser addressed (the Host
 * header, with the scheme it reached us by). A browser always sends the
 * Origin of the page that opens a WebSocket and a page cannot forge it, so
 * another site's page (a sibling subdomain included, whose requests carry
 * even SameSite=Strict cookies) is refused. A handshake without Origin is
 * not a browser's page and has no business with a session cookie either. */
static bool same_site_origin(struct lws *wsi, const struct vt_config *cfg)
{
    char origin_hdr[320], origin[320], want[320];
    if (lws_hdr_copy(wsi, origin_hdr, sizeof(origin_hdr), WSI_TOKEN_ORIGIN) <= 0 ||
        vt_config_url_origin(origin_hdr, origin, sizeof(origin)) != 0)
        goto refuse;
    if (vt_config_url_origin(cfg->public_url, want, sizeof(want)) == 0 && strcmp(origin, want) == 0)
        return true;
    for (size_t i = 0; i < cfg->n_live_allowed_origins; i++)
        if (strcmp(origin, cfg->live_allowed_origins[i]) == 0)
            return true;
    char host[256], url[300];
    if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) > 0) {
        snprintf(url, sizeof(url), "%s://%s", vt_http_is_https(wsi) ? "https" : "http", host);
        if (vt_config_url_origin(url, want, sizeof(want)) == 0 && strcmp(origin, want) == 0)
            return true;
    }
refuse:;
    /* The origin is a site's name, not a person's: logged so that an admin
     * behind a proxy sees what to add to live.allowed_origins. */
    char shown[100];
    size_t n = 0;
    for (const char *p = origin_hdr; *p && n + 1 < sizeof(shown); p++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/-[]", *p))
            shown[n++] = *p;
    shown[n] = '\0';
    vt_log(VT_LOG_WARN, "live_origin_refused", "origin=\"%s\"", n ? shown : "(none)");
    return false;
}

static int live_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct sub *s = user;
    struct vt_http *h = lws_context_user(lws_get_context(wsi));
    (void)h;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
            strcmp(uri, "/live") != 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        struct vt_app *srv = vt_http_app(lws_context_user(lws_get_context(wsi)));
        memset(s, 0, sizeof(*s));
        s->wsi = wsi;
        s->live = vt_app_live(srv);
        s->cookie = vt_http_cookie(wsi);
        if (s->cookie && !same_site_origin(wsi, vt_app_config(srv))) {
            /* A page of another origin opened this socket: the browser sent
             * the staff member's cookie along, but it is not used. Its staff
             * and dashboard topics answer as to a visitor without a session. */
            free(s->cookie);
            s->cookie = NULL;
        }
        s->next = s->live->subs;
        s->live->subs = s;
        atomic_fetch_add(&s->live->n_subs, 1);
        vt_log(VT_LOG_DEBUG, "live_connect", "clients=%d", atomic_load(&s->live->n_subs));
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        if (!lws_is_final_fragment(wsi) || !lws_is_first_fragment(wsi) ||
            !handle_subscribe(s, in, len)) {
            static const char bad[] =
                "{\"topic\":\"error\",\"message\":\"Mensaje no válido. "
                "Envíe {\\\"subscribe\\\":[\\\"items\\\",\\\"metrics\\\"]}\"}";
            struct msg *m = msg_new(bad);
            if (m && !enqueue(s, m))
                free(m);
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return write_queued(wsi, s) ? -1 : 0;
    case LWS_CALLBACK_CLOSED: {
        if (!s->live)
            return 0;
        for (struct sub **pp = &s->live->subs; *pp; pp = &(*pp)->next)
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        while (s->count) {
            msg_unref(s->queue[s->head]);
            s->head = (s->head + 1) % QUEUE_MAX;
            s->count--;
        }
        atomic_fetch_sub(&s->live->n_subs, 1);
        s->live = NULL;
        free(s->cookie);
        s->cookie = NULL;
        return 0;
    }
    default:
        return 0;
    }
}

static const struct lws_protocols live_protocol = {
    "ventanilla-live", live_cb, sizeof(struct sub), 4096, 0, NULL, 0};

const struct lws_protocols *vt_live_protocol(void)
{
    return &live_protocol;
}
