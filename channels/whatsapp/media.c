/* media.c - the WhatsApp media worker (media.h). */
#include "channels/whatsapp/media.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channels/whatsapp/db.h"
#include "channels/whatsapp/graph.h"
#include "channels/whatsapp/messages.h"
#include "store/attach.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "outbox/outbox.h"

#define CLAIM_MAX 8

struct vt_wa_media {
    const struct vt_config *cfg;
    struct vt_store *store;
    struct vt_wa_graph *graph;      /* worker thread */
    struct vt_sniffer *sniffer;     /* worker thread */
    struct vt_store_reader *reader; /* worker thread */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool wanted, stopping;
};

struct claim {
    int64_t now;
    struct vt_wa_media_job jobs[CLAIM_MAX];
    size_t n;
};

static int claim_run(struct vt_store_tx *tx, void *ctx)
{
    struct claim *c = ctx;
    return vt_wa_db_media_claim(tx, c->now, c->jobs, CLAIM_MAX, &c->n);
}

/* What the worker found for one row. */
struct outcome {
    const struct vt_wa_media_job *job;
    const char *status; /* stored, rejected, failed, pending */
    char sha[65], type[128], why[300];
    int64_t size, retry_at;
    const char *tell; /* Spanish text for the citizen, or NULL */
};

static int record_run(struct vt_store_tx *tx, void *ctx)
{
    struct outcome *o = ctx;
    int rc;
    if (strcmp(o->status, "stored") == 0) {
        if ((rc = vt_wa_db_media_stored(tx, o->job->id, o->sha, o->size, o->type)))
            return rc;
        /* The item may have been filed while the file was on its way. */
        int64_t item = vt_wa_db_media_item(tx, o->job->id);
        int attached = 0;
        if (item && (rc = vt_wa_db_media_attach_ready(tx, item, &attached)))
            return rc;
    } else if ((rc = vt_wa_db_media_failed(tx, o->job->id, o->status, o->why, o->retry_at))) {
        return rc;
    }
    if (o->tell) {
        char *body = vt_wa_msg_text(o->tell);
        struct vt_outbound m = {0,    "whatsapp", o->job->wa_id, "prompt", body ? body : "",
                                NULL, NULL,       NULL,          0};
        rc = body ? vt_outbox_add(tx, &m) : VT_ENOMEM;
        free(body);
    }
    return rc;
}

static bool type_allowed(const struct vt_config *cfg, const char *type)
{
    for (size_t i = 0; i < cfg->n_allowed_types; i++)
        if (strcmp(cfg->allowed_types[i], type) == 0)
            return true;
    return false;
}

static void fetch_one(struct vt_wa_media *m, const struct vt_wa_media_job *j, struct outcome *o)
{
    unsigned char *data = NULL;
    size_t len = 0;
    char mime[128];
    size_t max = (size_t)m->cfg->attachment_max_bytes;
    memset(o, 0, sizeof(*o));
    o->job = j;
    int rc = vt_wa_graph_media(m->graph, j->media_id, max, &data, &len, mime, sizeof(mime), o->why,
                               sizeof(o->why));
    if (rc == VT_ETOOBIG) {
        o->status = "rejected";
        o->tell = "El archivo que envió es demasiado grande y no lo pudimos guardar. Envíe uno más "
                  "liviano.";
    } else if (rc == VT_EINVAL) {
        o->status = "failed";
        o->tell = "No pudimos descargar el archivo que envió. Por favor envíelo de nuevo.";
    } else if (rc) {
        bool last = j->attempts >= m->cfg->outbox.max_attempts;
        o->status = last ? "failed" : "pending";
        o->retry_at = vt_clock_now_ms() +
                      vt_outbox_backoff_ms(&m->cfg->outbox, j->attempts, randombytes_random());
        o->tell =
            last ? "No pudimos descargar el archivo que envió. Por favor envíelo de nuevo." : NULL;
    } else if (vt_sniff(m->sniffer, data, len, o->type, sizeof(o->type)) != 0 ||
               !type_allowed(m->cfg, o->type)) {
        o->status = "rejected";
        snprintf(o->why, sizeof(o->why), "type %.100s is not allowed", o->type);
        o->tell = "Ese tipo de archivo no se puede recibir. Envíe fotos, PDF, documentos de "
                  "oficina, audios o videos.";
    } else {
        vt_attach_sha256(data, len, o->sha);
        o->size = (int64_t)len;
        if (vt_blobs_put(vt_store_blobs(m->store), NULL, o->sha, data, len) == 0) {
            o->status = "stored";
        } else {
            o->status = "pending";
            snprintf(o->why, sizeof(o->why), "cannot write the attachment file");
            o->retry_at = vt_clock_now_ms() + m->cfg->outbox.backoff_base_ms;
        }
    }
    free(data);
    if (strcmp(o->status, "stored") != 0)
        vt_log(VT_LOG_WARN, "wa_media_not_stored", "id=%lld status=%s attempt=%d error=\"%s\"",
               (long long)j->id, o->status, j->attempts, o->why);
}

static void *worker_main(void *arg)
{
    struct vt_wa_media *m = arg;
    for (;;) {
        pthread_mutex_lock(&m->lock);
        bool stop = m->stopping;
        m->wanted = false;
        pthread_mutex_unlock(&m->lock);
        if (stop)
            break;
        struct claim c = {.now = vt_clock_now_ms()};
        int rc = vt_store_run(m->store, claim_run, &c);
        if (rc == 0 && c.n) {
            for (size_t i = 0; i < c.n; i++) {
                struct outcome o;
                fetch_one(m, &c.jobs[i], &o);
                if ((rc = vt_store_run(m->store, record_run, &o)))
                    vt_log(VT_LOG_ERROR, "wa_media_record_failed", "id=%lld error=\"%s\"",
                           (long long)c.jobs[i].id, vt_strerror(rc));
            }
            continue;
        }
        int64_t wait = vt_wa_db_media_next_due(m->reader, vt_clock_now_ms(), 5000);
        struct timespec ts;
        vt_clock_deadline(wait, &ts);
        pthread_mutex_lock(&m->lock);
        while (!m->wanted && !m->stopping)
            if (pthread_cond_timedwait(&m->cond, &m->lock, &ts) != 0)
                break;
        pthread_mutex_unlock(&m->lock);
    }
    return NULL;
}

/* Frees what start made; the thread must not be running. */
static void media_free(struct vt_wa_media *m)
{
    vt_store_reader_free(m->reader);
    vt_sniffer_free(m->sniffer);
    vt_wa_graph_free(m->graph);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->cond);
    free(m);
}

struct vt_wa_media *vt_wa_media_start(const struct vt_config *cfg, struct vt_store *store)
{
    struct vt_wa_media *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cfg = cfg;
    m->store = store;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    if (!(m->graph = vt_wa_graph_new(cfg)) || !(m->sniffer = vt_sniffer_new()) ||
        !(m->reader = vt_store_reader_new(store)) ||
        pthread_create(&m->thread, NULL, worker_main, m) != 0) {
        media_free(m);
        return NULL;
    }
    return m;
}

void vt_wa_media_wake(struct vt_wa_media *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->wanted = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

void vt_wa_media_stop(struct vt_wa_media *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    vt_wa_graph_interrupt(m->graph);
    pthread_join(m->thread, NULL);
    media_free(m);
}
