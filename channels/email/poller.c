/* poller.c - the mailbox poller thread (poller.h).
 *
 * One instance at a time polls a mailbox, when several share the database
 * (PostgreSQL): the poller holds a named lock (vt_db_try_lock) keyed by the
 * mailbox's name on a connection of its own, and polls only while it holds
 * it. Filing is exactly once whoever polls (poller.h); the lock keeps N
 * instances from fetching, flagging and moving the same messages at once.
 *
 *   standby --lock taken (hold)--> polling: a round every poll_seconds,
 *       the lock checked again before each round and each message
 *   polling --lock lost (its connection dropped; hold)--> standby
 *   standby: the lock tried again every min(poll_seconds, 20 s), so a dead
 *       holder (whose connection, and so its lock, the server drops) is
 *       replaced within a minute
 *   polling --stop--> lock let go (vt_mail_poller_stop)
 * Each change is logged as email_mailbox_owner (polling=1 or 0). On SQLite
 * the lock is always held: the data directory's lock makes the instance
 * unique.
 */
#include "channels/email/poller.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/db.h"
#include "channels/email/imap.h"
#include "channels/email/mime.h"
#include "channels/email/take.h"
#include "store/attach.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "outbox/outbox.h"
#include "store/db.h"

struct vt_mail_poller {
    struct vt_app *srv;
    const struct vt_config *cfg;
    const struct vt_mailbox_config *mb;
    struct vt_store *store;
    struct vt_imap *imap;           /* poller thread */
    struct vt_store_reader *reader; /* poller thread */
    struct vt_sniffer *sniffer;     /* poller thread */
    struct vt_store_reader *owner;  /* poller thread: the connection holding the lock */
    int64_t lock_key;
    bool polling; /* holds the lock (as of the last hold()) */
    bool standby_logged;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    int failures; /* consecutive failed rounds, for the backoff */
};

static bool type_allowed(const struct vt_config *cfg, const char *type)
{
    for (size_t i = 0; i < cfg->n_allowed_types; i++)
        if (strcmp(cfg->allowed_types[i], type) == 0)
            return true;
    return false;
}

/* Attachments within the web channel's limits, written durably; the rest
 * refused (counted). */
static int keep_attachments(struct vt_mail_poller *p, const struct vt_mail *m,
                            struct vt_mail_take *t)
{
    const struct vt_config *cfg = p->cfg;
    if (!m->n_parts)
        return 0;
    t->att = calloc(m->n_parts, sizeof(*t->att));
    if (!t->att)
        return VT_ENOMEM;
    for (size_t i = 0; i < m->n_parts; i++) {
        const struct vt_mail_part *part = &m->parts[i];
        struct vt_attachment *a = &t->att[t->n_att];
        if ((int)t->n_att >= cfg->attachment_max_count ||
            part->size > (size_t)cfg->attachment_max_bytes ||
            vt_sniff(p->sniffer, part->data, part->size, a->content_type,
                     sizeof(a->content_type)) != 0 ||
            !type_allowed(cfg, a->content_type)) {
            memset(a, 0, sizeof(*a));
            t->refused++;
            continue;
        }
        vt_attach_sha256(part->data, part->size, a->sha256);
        /* Durable now: a reply to an existing item links it without an
         * insert (take.c). */
        if (vt_blobs_put(vt_store_blobs(p->store), NULL, a->sha256, part->data, part->size))
            return VT_EIO;
        a->data = part->data;
        a->size = part->size;
        a->filename = part->filename; /* borrowed; take.c copies it */
        t->n_att++;
    }
    return 0;
}

/* The mailbox's lock name: a stable 64-bit hash (SipHash-2-4 under a fixed
 * key) of a prefix and the mailbox's name, the same on every instance. */
static int64_t mailbox_key(const char *name)
{
    static const unsigned char key[crypto_shorthash_KEYBYTES] = "vt-mailbox-lock";
    char msg[300];
    unsigned char h[crypto_shorthash_BYTES];
    int n = snprintf(msg, sizeof(msg), "ventanilla/email/mailbox/%s", name);
    crypto_shorthash(h, (const unsigned char *)msg,
                     n < (int)sizeof(msg) ? (size_t)n : sizeof(msg) - 1, key);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | h[i];
    return (int64_t)v;
}

/* Whether this instance may poll now: takes the mailbox's lock, or checks
 * that it still holds it (its connection made again after a loss holds
 * nothing). Logs each change. */
static bool hold(struct vt_mail_poller *p)
{
    int rc = vt_db_try_lock(vt_store_reader_db(p->owner), p->lock_key);
    bool now = rc == 1;
    if (now != p->polling) {
        vt_log(VT_LOG_INFO, "email_mailbox_owner",
               "mailbox=%s polling=%d instance=\"%s\" reason=%s", p->mb->name, now,
               vt_store_instance(p->store),
               now       ? "lock_taken"
               : rc == 0 ? "lock_lost_to_another"
                         : "lock_lost");
        p->polling = now;
        p->standby_logged = false;
    }
    if (!now && !p->standby_logged) {
        if (rc == 0)
            vt_log(VT_LOG_INFO, "email_mailbox_standby",
                   "mailbox=%s note=\"another instance polls it\"", p->mb->name);
        else
            vt_log(VT_LOG_WARN, "email_mailbox_standby",
                   "mailbox=%s note=\"cannot reach the database to take its lock\"", p->mb->name);
        p->standby_logged = true;
    }
    return now;
}

/* One message: fetch, parse, commit. 0, or an error that ends the round. */
static int take_one(struct vt_mail_poller *p, int64_t uidvalidity, int64_t uid)
{
    const struct vt_config *cfg = p->cfg;
    char why[300] = "", *raw = NULL;
    size_t len = 0;
    /* A whole message may carry its attachments base64-encoded. */
    size_t max = (size_t)cfg->attachment_max_bytes * (size_t)(cfg->attachment_max_count + 1) * 2;
    int rc = vt_imap_fetch(p->imap, uid, max, &raw, &len, why, sizeof(why));
    struct vt_mail m = {0};
    struct vt_mail_take t = {
        .cfg = cfg, .srv = p->srv, .mailbox = p->mb->name, .uidvalidity = uidvalidity, .uid = uid};
    char key[280];
    if (rc == VT_ETOOBIG) {
        /* Too big to take in whole: still filed, with what its headers say. */
        vt_log(VT_LOG_WARN, "email_too_large", "mailbox=%s uid=%lld", p->mb->name, (long long)uid);
        free(raw);
        raw = strdup("Subject: (mensaje demasiado grande)\r\n\r\n");
        len = raw ? strlen(raw) : 0;
        rc = raw ? 0 : VT_ENOMEM;
    }
    if (rc) {
        vt_log(VT_LOG_WARN, "email_fetch_failed", "mailbox=%s uid=%lld error=\"%s\"", p->mb->name,
               (long long)uid, why);
        goto done;
    }
    if (len == 0) {
        /* Expunged by another client between SEARCH and FETCH: nothing to
         * file; the position moves on. */
        snprintf(key, sizeof(key), "vanished:%lld:%lld", (long long)uidvalidity, (long long)uid);
        t.dedup_key = key;
        if ((rc = vt_store_run(p->store, vt_mail_take_run, &t)) == 0)
            vt_log(VT_LOG_INFO, "email_taken", "mailbox=%s uid=%lld outcome=%s", p->mb->name,
                   (long long)uid, t.outcome);
        goto done;
    }
    size_t dropped = 0;
    if (vt_mime_parse(raw, len, (size_t)cfg->attachment_max_count + 5,
                      (size_t)cfg->attachment_max_bytes, (size_t)cfg->max_body_chars * 4, &m,
                      &dropped) != 0) {
        /* Not a message at all: keep what there is as its text. */
        memset(&m, 0, sizeof(m));
        if (vt_mime_parse("Subject: (mensaje ilegible)\r\n\r\n", 31, 0, 0, 1024, &m, NULL)) {
            rc = VT_ENOMEM;
            goto done;
        }
    }
    if (m.message_id[0] && strlen(m.message_id) <= 250) {
        snprintf(key, sizeof(key), "mid:%s", m.message_id);
    } else if (m.message_id[0]) {
        char hex[65];
        vt_attach_sha256(m.message_id, strlen(m.message_id), hex);
        snprintf(key, sizeof(key), "midsha256:%s", hex);
    } else {
        char hex[65];
        vt_attach_sha256(raw, len, hex);
        snprintf(key, sizeof(key), "sha256:%s", hex);
    }
    t.mail = &m;
    t.dedup_key = key;
    t.refused = dropped;
    if ((rc = keep_attachments(p, &m, &t)))
        goto done;
    if ((rc = vt_store_run(p->store, vt_mail_take_run, &t))) {
        vt_log(VT_LOG_ERROR, "email_take_failed", "mailbox=%s uid=%lld error=\"%s\"", p->mb->name,
               (long long)uid, vt_strerror(rc));
        goto done;
    }
    vt_log(VT_LOG_INFO, "email_taken", "mailbox=%s uid=%lld outcome=%s attachments=%zu refused=%zu",
           p->mb->name, (long long)uid, t.outcome, t.n_att, t.refused);
    /* Committed: flags and folders are the server's tidiness, not our record. */
    if (vt_imap_mark_seen(p->imap, uid, why, sizeof(why)))
        vt_log(VT_LOG_WARN, "email_seen_failed", "mailbox=%s uid=%lld error=\"%s\"", p->mb->name,
               (long long)uid, why);
    if (p->mb->move_to && vt_imap_move(p->imap, uid, p->mb->move_to, why, sizeof(why)))
        vt_log(VT_LOG_WARN, "email_move_failed", "mailbox=%s uid=%lld error=\"%s\"", p->mb->name,
               (long long)uid, why);
done:
    vt_mail_take_cleanup(&t);
    free(t.att);
    vt_mail_cleanup(&m);
    free(raw);
    return rc;
}

struct position {
    const char *name;
    int64_t uidvalidity;
};

static int reset_run(struct vt_store_tx *tx, void *ctx)
{
    struct position *pos = ctx;
    return vt_mail_db_mailbox_put(tx, pos->name, pos->uidvalidity, 0);
}

static int round_once(struct vt_mail_poller *p)
{
    char why[300] = "";
    int64_t uv = 0, known_uv = 0, last = 0;
    int64_t uidnext = 0;
    int rc = vt_imap_status(p->imap, &uv, &uidnext, why, sizeof(why));
    if (rc) {
        vt_log(VT_LOG_WARN, "email_unreachable", "mailbox=%s error=\"%s\" attempt=%d", p->mb->name,
               why, p->failures + 1);
        return rc;
    }
    int g = vt_mail_db_mailbox_get(p->reader, p->mb->name, &known_uv, &last);
    if (g == VT_ENOTFOUND || known_uv != uv) {
        if (g == 0)
            vt_log(VT_LOG_WARN, "email_uidvalidity_changed",
                   "mailbox=%s old=%lld new=%lld note=\"resync by Message-ID\"", p->mb->name,
                   (long long)known_uv, (long long)uv);
        struct position pos = {p->mb->name, uv};
        if ((rc = vt_store_run(p->store, reset_run, &pos)))
            return rc;
        last = 0;
    } else if (g) {
        return g;
    }
    /* Windows of UIDs: libcurl cuts a long SEARCH response line. */
    const int64_t window = 400;
    for (int64_t after = last; rc == 0;) {
        int64_t upto = uidnext > 0 ? after + window : 0;
        if (uidnext > 0 && upto > uidnext - 1)
            upto = uidnext - 1;
        if (uidnext > 0 && after >= uidnext - 1)
            break;
        int64_t *uids = NULL;
        size_t n = 0;
        if ((rc = vt_imap_uids_after(p->imap, after, upto, &uids, &n, why, sizeof(why)))) {
            vt_log(VT_LOG_WARN, "email_search_failed", "mailbox=%s error=\"%s\"", p->mb->name, why);
            return rc;
        }
        vt_log(VT_LOG_DEBUG, "email_round", "mailbox=%s uidvalidity=%lld after=%lld new=%zu",
               p->mb->name, (long long)uv, (long long)after, n);
        for (size_t i = 0; i < n && rc == 0; i++) {
            pthread_mutex_lock(&p->lock);
            bool stop = p->stopping;
            pthread_mutex_unlock(&p->lock);
            if (stop || !hold(p))
                rc = VT_ESHUTDOWN; /* ends the round; a lost lock is not a failure */
            else
                rc = take_one(p, uv, uids[i]);
        }
        free(uids);
        if (uidnext <= 0)
            break; /* one search above after was the whole round */
        after = upto;
    }
    return rc == VT_ESHUTDOWN ? 0 : rc;
}

static void *poller_main(void *arg)
{
    struct vt_mail_poller *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool stop = p->stopping;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        int64_t wait = (int64_t)p->mb->poll_seconds * 1000;
        int rc = 0;
        if (!hold(p)) {
            /* Another instance polls it (or the database is out of reach):
             * try again soon enough to replace a dead one within a minute. */
            if (wait > 20000)
                wait = 20000;
        } else if ((rc = round_once(p))) {
            /* Unreachable or failing: back off, doubling, with jitter. */
            wait = vt_outbox_backoff_ms(&p->cfg->outbox, ++p->failures, randombytes_random());
        } else {
            p->failures = 0;
        }
        if (rc == 0 && !p->polling && wait > 20000)
            wait = 20000; /* the lock was lost during the round */
        struct timespec ts;
        vt_clock_deadline(wait, &ts);
        pthread_mutex_lock(&p->lock);
        while (!p->stopping)
            if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) != 0)
                break;
        pthread_mutex_unlock(&p->lock);
    }
    if (p->polling) {
        vt_db_unlock(vt_store_reader_db(p->owner), p->lock_key);
        vt_log(VT_LOG_INFO, "email_mailbox_owner",
               "mailbox=%s polling=0 instance=\"%s\" reason=stopping", p->mb->name,
               vt_store_instance(p->store));
    }
    return NULL;
}

static void poller_free(struct vt_mail_poller *p)
{
    vt_imap_free(p->imap);
    vt_store_reader_free(p->reader);
    vt_store_reader_free(p->owner);
    vt_sniffer_free(p->sniffer);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

struct vt_mail_poller *vt_mail_poller_start(struct vt_app *srv, const struct vt_config *cfg,
                                            const struct vt_mailbox_config *mb,
                                            struct vt_store *store)
{
    struct vt_mail_poller *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->srv = srv;
    p->cfg = cfg;
    p->mb = mb;
    p->store = store;
    p->lock_key = mailbox_key(mb->name);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (!(p->imap = vt_imap_new(mb->imap_url, mb->username, mb->password,
                                cfg->email.allow_plaintext_loopback, cfg->email.ca_file,
                                cfg->outbox.timeout_ms)) ||
        !(p->reader = vt_store_reader_new(store)) || !(p->owner = vt_store_reader_new(store)) ||
        !(p->sniffer = vt_sniffer_new()) || pthread_create(&p->thread, NULL, poller_main, p) != 0) {
        poller_free(p);
        return NULL;
    }
    return p;
}

void vt_mail_poller_stop(struct vt_mail_poller *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    poller_free(p);
}
