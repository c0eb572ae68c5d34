/* live.c - WebSocket subscribers and the dashboard counts (live.h).
 *
 * Each message is built once and shared by every subscriber that must get it
 * (reference-counted); each subscriber has a bounded queue. A subscriber that
 * falls more than QUEUE_MAX messages behind is disconnected rather than let
 * grow without bound: the dashboard reconnects and gets a fresh snapshot.
 */
#include "live.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "calendar.h"
#include "casework.h"
#include "queue.h"
#include "http.h"
#include "log.h"
#include "server.h"

#define QUEUE_MAX 1024
#define COUNTS_MAX 32

struct msg {
    int refs;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes, then the payload */
};

struct sub {
    struct lws *wsi;
    struct vt_live *live;
    bool items, metrics, staff;
    char cookie[1024]; /* the handshake's, for the staff topic */
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
    struct vt_server *srv;
    struct sub *subs; /* loop thread */
    atomic_int n_subs;

    pthread_mutex_t lock; /* guards pending */
    struct event *pending;
    size_t n_pending, cap_pending;
    struct vt_item_change *changes; /* guarded by lock too */
    size_t n_changes, cap_changes;

    long long total, overdue, due_soon;
    struct counts by_channel, by_type, by_group, by_status;
};

static struct msg *msg_new(const char *payload)
{
    size_t len = strlen(payload);
    struct msg *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m)
        return NULL;
    m->refs = 0;
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
    if (c->len == COUNTS_MAX)
        return;
    snprintf(c->key[c->len], sizeof(c->key[0]), "%s", key);
    c->n[c->len++] = n;
}

static void counts_load(struct counts *c, const struct vt_count *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        counts_add(c, src[i].key, src[i].n);
}

struct vt_live *vt_live_new(struct vt_server *srv, const struct vt_snapshot *s)
{
    struct vt_live *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->srv = srv;
    pthread_mutex_init(&l->lock, NULL);
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

void vt_live_free(struct vt_live *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l->pending);
    free(l->changes);
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
    lws_cancel_service(vt_http_context(vt_server_http(l->srv)));
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

/* Queues m for s; returns false when s is too far behind. */
static bool enqueue(struct sub *s, struct msg *m)
{
    if (s->count == QUEUE_MAX)
        return false;
    s->queue[(s->head + s->count++) % QUEUE_MAX] = m;
    m->refs++;
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
    const struct vt_config *cfg = vt_server_config(l->srv);
    char dep[101];
    cJSON *row = vt_queue_row(vt_server_reader(l->srv), cfg, item_id, dep, sizeof(dep));
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
        if (vt_auth_cookie_staff(l->srv, s->cookie, &who) != 0) {
            s->staff = false; /* the session ended: no more staff events */
            continue;
        }
        bool in = vt_casework_in_scope(cfg, &who, dep) ||
                  (old_dep && vt_casework_in_scope(cfg, &who, old_dep));
        if (in && !enqueue(s, m))
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    msg_unref(m);
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
    lws_cancel_service(vt_http_context(vt_server_http(l->srv)));
}

/* Loop thread: staff events and status counts of the queued changes. */
static void drain_changes(struct vt_live *l)
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
    if (!n) {
        free(ev);
        drain_changes(l);
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
}

void vt_live_set_due_counts(struct vt_live *l, long long overdue, long long due_soon)
{
    if (l->overdue == overdue && l->due_soon == due_soon)
        return;
    l->overdue = overdue;
    l->due_soon = due_soon;
    char *s = metrics_json(l);
    if (s)
        broadcast(l, s, true);
    free(s);
}

/* Parses {"subscribe":["items","metrics"]}; returns false on bad input. */
static bool handle_subscribe(struct sub *s, const char *in, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(in, len);
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(o, "subscribe");
    bool ok = cJSON_IsArray(topics);
    const cJSON *t;
    bool was_metrics = s->metrics, staff_wanted = false;
    cJSON_ArrayForEach(t, topics)
    {
        if (cJSON_IsString(t) && strcmp(t->valuestring, "items") == 0)
            s->items = true;
        else if (cJSON_IsString(t) && strcmp(t->valuestring, "metrics") == 0)
            s->metrics = true;
        else if (cJSON_IsString(t) && strcmp(t->valuestring, "staff") == 0)
            staff_wanted = true;
        else
            ok = false;
    }
    cJSON_Delete(o);
    if (ok && staff_wanted) {
        struct vt_staff who;
        if (vt_auth_cookie_staff(s->live->srv, s->cookie, &who) == 0 &&
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
    if (ok && s->metrics && !was_metrics) {
        char *snap = metrics_json(s->live);
        struct msg *m = snap ? msg_new(snap) : NULL;
        free(snap);
        if (m && !enqueue(s, m))
            free(m);
    }
    return ok;
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
        struct vt_server *srv = vt_http_server(lws_context_user(lws_get_context(wsi)));
        memset(s, 0, sizeof(*s));
        s->wsi = wsi;
        s->live = vt_server_live(srv);
        if (lws_hdr_copy(wsi, s->cookie, sizeof(s->cookie), WSI_TOKEN_HTTP_COOKIE) < 0)
            s->cookie[0] = '\0';
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
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        if (!s->count)
            return 0;
        struct msg *m = s->queue[s->head];
        s->head = (s->head + 1) % QUEUE_MAX;
        s->count--;
        int w = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
        msg_unref(m);
        if (w < (int)0)
            return -1;
        if (s->count)
            lws_callback_on_writable(wsi);
        return 0;
    }
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
