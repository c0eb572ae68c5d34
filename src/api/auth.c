/* auth.c - staff sessions and logins (auth.h).
 *
 * Argon2id takes about 0.1 s and 64 MiB per check, so checks run on a pool of
 * worker threads (staff.login_workers; by default one per CPU the daemon may
 * run on, at most 8, so 512 MiB at worst) fed by a bounded queue: the loop
 * never waits on a hash, and a flood of logins is refused instead of
 * exhausting memory. The queue is fair between client addresses: each has a
 * lane of at most staff.login_queue_per_address waiting checks, and the
 * workers take one check from each lane in turn, so addresses that send
 * logins as fast as they can delay another address by one turn each, never
 * starve it:
 *
 *   ring of lanes:  [A: a1 a2 a3 a4] -> [B: b1] -> (back to A)
 *   a worker takes a1 and moves A's lane behind B's; the next one takes b1,
 *   and B's lane, empty, is freed.
 *
 * Failed logins are throttled, never locked (throttle.h, on the loop thread),
 * by username and address: after staff.login_delay_after failures on one
 * username from one address, each further attempt from there waits a growing
 * delay (staff.login_delay_first_seconds, then twice that... up to
 * staff.login_delay_max_seconds). Another
 * address is not delayed, so a stranger cannot keep the real user out. Past
 * staff.login_account_failures failures on a username from all addresses in
 * the last hour (an attack spread over many addresses) every address that
 * fails on it is delayed from its first failure; an address that has not
 * failed still is not. Unknown usernames are counted exactly like real ones,
 * and an unknown one costs the same hash (a dummy), so no answer, header or
 * timing tells whether an account exists.
 */
#include "api/auth.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "api/app.h"
#include "http/reply.h"
#include "core/throttle.h"
#include "domain/accounts.h"
#include "domain/users.h"

#define SESSIONS_MAX 10000
#define QUEUE_MAX 256        /* checks waiting, all addresses together */
#define WORKERS_AUTO_MAX 8   /* 8 x 64 MiB of Argon2id at once */
#define THROTTLE_SLOTS 16384 /* per table: about 400 KiB */
#define FORGET_MS (3600 * 1000LL)
#define COOKIE "vt_session"

struct session {
    unsigned char key[32]; /* BLAKE2b of the cookie's token */
    int64_t user_id;
    int64_t epoch;         /* the account's session_epoch when it was opened */
    int64_t created, last; /* Unix ms */
    char csrf[65];
};

enum login_kind { LOGIN, PASSWORD_CHANGE };
enum login_outcome { L_OK, L_BAD, L_INVALID, L_ERROR };

struct login {
    enum login_kind kind;
    struct vt_http_request *req;
    char peer[64]; /* the client's address: its lane, and its throttle key */
    char username[65];
    char password[VT_PASSWORD_MAX + 1];
    char new_password[VT_PASSWORD_MAX + 1]; /* PASSWORD_CHANGE */
    int64_t user_id;                        /* PASSWORD_CHANGE: asked by; LOGIN: found */
    int64_t epoch; /* session_epoch read with the hash; after a change, the new one */
    bool found;    /* the account exists (only to audit its throttling) */
    enum login_outcome outcome;
    char why[160]; /* L_INVALID */
    char hash[crypto_pwhash_STRBYTES];
    struct login *next;
};

/* The checks waiting from one address (the fair queue above). */
struct lane {
    char peer[64];
    struct login *head, *tail;
    int n;
    struct lane *next; /* in the ring */
};

struct vt_auth {
    struct vt_app *srv;
    struct session *s; /* loop thread */
    size_t n;
    struct vt_ratelimit *rl;   /* loop thread */
    struct vt_throttle *pairs; /* loop thread: failures by (username, address) */
    struct vt_throttle *names; /* loop thread: failures by username */
    unsigned char throttle_key[crypto_shorthash_KEYBYTES];
    char dummy_hash[crypto_pwhash_STRBYTES];

    pthread_t *workers;
    int n_workers, started;
    pthread_mutex_t lock; /* guards the lanes, queued and stopping */
    pthread_cond_t cond;
    struct lane *ring, *ring_tail; /* ring: the lane the next check comes from */
    int queued;
    bool stopping;
};

/* ---- the session table (loop thread) ---- */

static struct vt_auth *auth_of(struct vt_http_request *req)
{
    return vt_app_auth(req->app);
}

static void token_key(const char *token, unsigned char key[32])
{
    crypto_generichash(key, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

/* The token in a Cookie header, or false. */
static bool cookie_token(const char *cookie, char token[65])
{
    const char *p = cookie;
    size_t n = strlen(COOKIE);
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, COOKIE, n) == 0 && p[n] == '=') {
            p += n + 1;
            size_t len = strcspn(p, "; ");
            if (len != 64)
                return false;
            memcpy(token, p, 64);
            token[64] = '\0';
            return true;
        }
        p = strchr(p, ';');
    }
    return false;
}

static void session_remove(struct vt_auth *a, size_t i)
{
    sodium_memzero(&a->s[i], sizeof(a->s[i]));
    a->s[i] = a->s[--a->n];
}

static bool expired(const struct vt_auth *a, const struct session *s, int64_t now)
{
    const struct vt_config *cfg = vt_app_config(a->srv);
    return now - s->last > (int64_t)cfg->staff.session_idle_seconds * 1000 ||
           now - s->created > (int64_t)cfg->staff.session_max_seconds * 1000;
}

/* Index of the live session of cookie, or -1 (expired ones are dropped). */
static long session_find(struct vt_auth *a, const char *cookie, int64_t now)
{
    char token[65];
    if (!cookie_token(cookie, token))
        return -1;
    unsigned char key[32];
    token_key(token, key);
    sodium_memzero(token, sizeof(token));
    for (size_t i = 0; i < a->n; i++)
        if (memcmp(a->s[i].key, key, 32) == 0) {
            if (expired(a, &a->s[i], now)) {
                session_remove(a, i);
                return -1;
            }
            return (long)i;
        }
    return -1;
}

/* Creates a session; writes the cookie's token. NULL when out of memory. */
static struct session *session_new(struct vt_auth *a, int64_t user_id, int64_t epoch, int64_t now,
                                   char token[65])
{
    for (size_t i = 0; i < a->n;) /* expired ones first */
        if (expired(a, &a->s[i], now))
            session_remove(a, i);
        else
            i++;
    if (a->n == SESSIONS_MAX) { /* the least recently used goes */
        size_t old = 0;
        for (size_t i = 1; i < a->n; i++)
            if (a->s[i].last < a->s[old].last)
                old = i;
        session_remove(a, old);
    }
    if (!a->s && !(a->s = calloc(SESSIONS_MAX, sizeof(*a->s))))
        return NULL;
    struct session *s = &a->s[a->n++];
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, 65, raw, sizeof(raw));
    token_key(token, s->key);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(s->csrf, sizeof(s->csrf), raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    s->user_id = user_id;
    s->epoch = epoch;
    s->created = s->last = now;
    return s;
}

/* Loads the account of a session opened under epoch; VT_ENOTFOUND when it is
 * gone or disabled, or its password changed since (vt_accounts_staff). */
static int load_staff(struct vt_app *srv, int64_t id, int64_t epoch, struct vt_staff *out)
{
    return vt_accounts_staff(vt_app_reader(srv), id, epoch, out);
}

static void unauthenticated(struct vt_http_request *req)
{
    vt_reply_error(req, 401, "unauthenticated", NULL,
                   "Su sesión no está abierta o ya terminó. Entre de nuevo.");
}

int vt_auth_check(struct vt_http_request *req, bool write, struct vt_staff *out)
{
    struct vt_auth *a = auth_of(req);
    int64_t now = vt_clock_now_ms();
    long i = session_find(a, req->cookie, now);
    if (i < 0) {
        unauthenticated(req);
        return VT_EPERM;
    }
    struct session *s = &a->s[i];
    if (load_staff(req->app, s->user_id, s->epoch, out) != 0) {
        session_remove(a, (size_t)i);
        unauthenticated(req);
        return VT_EPERM;
    }
    if (write && (strlen(req->csrf) != 64 || sodium_memcmp(req->csrf, s->csrf, 64) != 0)) {
        vt_reply_error(
            req, 403, "csrf", NULL,
            "Falta el código de seguridad de la sesión o no coincide. Recargue la página e "
            "intente de nuevo.");
        return VT_EPERM;
    }
    s->last = now;
    if (out->must_change && strcmp(req->path, "/api/v1/session/password") != 0 &&
        strcmp(req->path, "/api/v1/session") != 0 &&
        strcmp(req->path, "/api/v1/session/logout") != 0) {
        vt_reply_error(req, 403, "password_change_required", NULL,
                       "Debe cambiar la clave de un solo uso antes de continuar.");
        return VT_EPERM;
    }
    return 0;
}

bool vt_auth_require(struct vt_http_request *req, unsigned roles, bool write, struct vt_staff *who)
{
    if (vt_auth_check(req, write, who))
        return false;
    if (!(roles & (1u << who->role))) {
        vt_reply_error(req, 403, "forbidden", NULL, "Su rol no tiene acceso a esta función.");
        return false;
    }
    return true;
}

int vt_auth_cookie_staff(struct vt_app *srv, const char *cookie, struct vt_staff *out)
{
    struct vt_auth *a = vt_app_auth(srv);
    long i = a ? session_find(a, cookie, vt_clock_now_ms()) : -1;
    if (i < 0)
        return VT_EPERM;
    int rc = load_staff(srv, a->s[i].user_id, a->s[i].epoch, out);
    if (rc == VT_ENOTFOUND)
        session_remove(a, (size_t)i); /* ended: forgotten now, as vt_auth_check does */
    if (rc)
        return VT_EPERM;
    return out->must_change ? VT_EPERM : 0;
}

static cJSON *session_json(const struct vt_auth *a, const struct vt_staff *u,
                           const struct session *s)
{
    cJSON *o = cJSON_CreateObject(), *user = cJSON_AddObjectToObject(o, "user");
    cJSON_AddStringToObject(user, "username", u->username);
    cJSON_AddStringToObject(user, "role", vt_role_name(u->role));
    if (u->dependencia[0])
        cJSON_AddStringToObject(user, "dependencia", u->dependencia);
    else
        cJSON_AddNullToObject(user, "dependencia");
    cJSON_AddBoolToObject(o, "password_change_required", u->must_change);
    cJSON_AddStringToObject(o, "csrf_token", s->csrf);
    const struct vt_config *cfg = vt_app_config(a->srv);
    int64_t idle_end = s->last + (int64_t)cfg->staff.session_idle_seconds * 1000;
    int64_t max_end = s->created + (int64_t)cfg->staff.session_max_seconds * 1000;
    char at[32];
    vt_time_format_iso(idle_end < max_end ? idle_end : max_end, at);
    cJSON_AddStringToObject(o, "expires_at", at);
    cJSON_AddNumberToObject(o, "idle_seconds", cfg->staff.session_idle_seconds);
    return o;
}

static void set_cookie(struct vt_http_request *req, const char *token, bool clear)
{
    const struct vt_config *cfg = vt_app_config(req->app);
    char v[256];
    /* Secure whenever the public address is https: the browser is then on TLS
     * whatever proxy sits in front, so the cookie never has to go in clear. */
    bool secure =
        cfg->staff.secure_cookie || req->https || strncasecmp(cfg->public_url, "https://", 8) == 0;
    snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", COOKIE,
             clear ? "" : token, secure ? "; Secure" : "", clear ? "; Max-Age=0" : "");
    vt_http_header(req, "Set-Cookie", v);
}

/* ---- the login workers ---- */

/* Writer thread: a successful login or password change, and its event. A
 * failure writes nothing here, so that it takes as long for a real account
 * as for an unknown name (login_done counts it, in memory). */
static int record_run(struct vt_store_tx *tx, void *ctx)
{
    struct login *l = ctx;
    if (l->kind == LOGIN)
        return vt_accounts_signed_in(tx, l->username);
    return vt_accounts_set_password(tx, l->user_id, l->username, l->hash, &l->epoch);
}

/* Worker thread: one login or password change, to its outcome. */
static void check_one(struct vt_auth *a, struct vt_store_reader *r, struct login *l)
{
    struct vt_store *store = vt_app_store(a->srv);
    char hash[crypto_pwhash_STRBYTES];
    snprintf(hash, sizeof(hash), "%s", a->dummy_hash);
    struct vt_account_hash acc;
    int rc = VT_ESTORE;
    if (r)
        rc = l->kind == LOGIN ? vt_accounts_hash_by_name(r, l->username, &acc)
                              : vt_accounts_hash_by_id(r, l->user_id, &acc);
    if (rc && rc != VT_ENOTFOUND) {
        sodium_memzero(&acc, sizeof(acc));
        l->outcome = L_ERROR;
        return;
    }
    bool found = rc == 0, disabled = false;
    if (found) {
        snprintf(hash, sizeof(hash), "%s", acc.hash);
        l->epoch = acc.epoch;
        if (l->kind == LOGIN) {
            l->user_id = acc.id;
            disabled = acc.disabled;
        } else {
            snprintf(l->username, sizeof(l->username), "%s", acc.username);
        }
    }
    sodium_memzero(&acc, sizeof(acc));
    l->found = found;
    /* The dummy hash makes an unknown username cost the same time; a disabled
     * account answers like a wrong password. */
    bool ok = vt_users_check_hash(hash, l->password) && found && !disabled;
    sodium_memzero(hash, sizeof(hash));
    l->outcome = ok ? L_OK : L_BAD;
    if (!ok)
        return;
    if (l->kind == PASSWORD_CHANGE) {
        char why[160] = "";
        if (vt_users_hash_new(l->new_password, l->hash, why, sizeof(why)) != 0) {
            l->outcome = L_INVALID;
            snprintf(l->why, sizeof(l->why), "%s", why);
            return;
        }
    }
    if (vt_store_run(store, record_run, l) != 0)
        l->outcome = L_ERROR;
}

/* Under a->lock: the next check, from the lane at the ring's head, whose lane
 * then goes to the back of the ring (or is freed when empty). NULL if none. */
static struct login *dequeue(struct vt_auth *a)
{
    struct lane *ln = a->ring;
    if (!ln)
        return NULL;
    struct login *l = ln->head;
    ln->head = l->next;
    if (!ln->head)
        ln->tail = NULL;
    ln->n--;
    a->queued--;
    a->ring = ln->next;
    if (!a->ring)
        a->ring_tail = NULL;
    ln->next = NULL;
    if (ln->n > 0) {
        if (a->ring_tail)
            a->ring_tail->next = ln;
        else
            a->ring = ln;
        a->ring_tail = ln;
    } else {
        free(ln);
    }
    l->next = NULL;
    return l;
}

static void *worker_main(void *arg)
{
    struct vt_auth *a = arg;
    struct vt_store_reader *r = vt_store_reader_new(vt_app_store(a->srv));
    for (;;) {
        pthread_mutex_lock(&a->lock);
        while (!a->ring && !a->stopping)
            pthread_cond_wait(&a->cond, &a->lock);
        struct login *l = dequeue(a);
        bool stop = a->stopping;
        pthread_mutex_unlock(&a->lock);
        if (!l)
            break;
        if (stop)
            l->outcome = L_ERROR;
        else
            check_one(a, r, l);
        sodium_memzero(l->password, sizeof(l->password));
        sodium_memzero(l->new_password, sizeof(l->new_password));
        vt_http_wake(l->req);
    }
    vt_store_reader_free(r);
    return NULL;
}

/* ---- throttling (loop thread) ---- */

/* The throttle key of username from peer, or of username alone (peer NULL):
 * a keyed hash, so the tables hold neither names nor addresses, and nobody
 * outside can choose keys that collide. */
static uint64_t throttle_key(const struct vt_auth *a, const char *username, const char *peer)
{
    unsigned char in[2 + 64 + 64], out[crypto_shorthash_BYTES];
    size_t n = 0, len = strnlen(username, 64);
    in[n++] = peer ? 'p' : 'n';
    memcpy(in + n, username, len);
    n += len;
    in[n++] = '\0';
    if (peer) {
        len = strnlen(peer, 63);
        memcpy(in + n, peer, len);
        n += len;
    }
    crypto_shorthash(out, in, n, a->throttle_key);
    uint64_t k;
    memcpy(&k, out, sizeof(k));
    return k;
}

/* Seconds an attempt on username from peer must still wait; 0 admits it. */
static int throttle_wait(struct vt_auth *a, const char *username, const char *peer)
{
    const struct vt_staff_config *c = &vt_app_config(a->srv)->staff;
    int64_t now = vt_clock_now_ms();
    int account = vt_throttle_failures(a->names, throttle_key(a, username, NULL), now);
    int after = account >= c->login_account_failures ? 1 : c->login_delay_after;
    int64_t wait = vt_throttle_take(a->pairs, throttle_key(a, username, peer), after, now);
    return (int)((wait + 999) / 1000);
}

struct audit {
    struct vt_store_job job;
    char username[65];
    const char *scope;
    int failures;
};

static int audit_run(struct vt_store_tx *tx, void *ctx)
{
    struct audit *au = ctx;
    return vt_accounts_throttled(tx, au->username, au->scope, au->failures);
}

static void audit_done(struct vt_store_job *job)
{
    free(job->ctx);
}

/* Counts a failed login or wrong current password of l; the first time
 * username's attempts start to be delayed from l's address (scope
 * "address"), or from all its failing addresses (scope "account"), an audit
 * event says so for a real account. The event is written in the background:
 * the answer waits for it no more than for an unknown name's. */
static void throttle_failure(struct vt_auth *a, const struct login *l)
{
    const struct vt_staff_config *c = &vt_app_config(a->srv)->staff;
    int64_t now = vt_clock_now_ms();
    int pair = vt_throttle_fail(a->pairs, throttle_key(a, l->username, l->peer), now);
    int account = vt_throttle_fail(a->names, throttle_key(a, l->username, NULL), now);
    bool whole = account == c->login_account_failures;
    bool here = account < c->login_account_failures && pair == c->login_delay_after;
    if (!(whole || here) || !l->found)
        return;
    const char *scope = whole ? "account" : "address";
    vt_log(VT_LOG_WARN, "login_throttled", "user_id=%lld scope=%s", (long long)l->user_id, scope);
    struct audit *au = calloc(1, sizeof(*au));
    if (!au)
        return;
    snprintf(au->username, sizeof(au->username), "%s", l->username);
    au->scope = scope;
    au->failures = whole ? account : pair;
    au->job.run = audit_run;
    au->job.done = audit_done;
    au->job.ctx = au;
    if (vt_store_submit(vt_app_store(a->srv), &au->job) != 0)
        free(au);
}

/* Answers 429 when an attempt on username from req's address must wait;
 * true if it did. Known and unknown usernames alike. */
static bool refuse_throttled(struct vt_http_request *req, const char *username)
{
    int wait = throttle_wait(auth_of(req), username, req->peer);
    if (!wait)
        return false;
    char ra[16], when[40], msg[240];
    snprintf(ra, sizeof(ra), "%d", wait);
    vt_http_header(req, "Retry-After", ra);
    if (wait == 1)
        snprintf(when, sizeof(when), "1 segundo");
    else if (wait < 120)
        snprintf(when, sizeof(when), "%d segundos", wait);
    else
        snprintf(when, sizeof(when), "%d minutos", (wait + 59) / 60);
    snprintf(msg, sizeof(msg),
             "Hubo varios intentos fallidos con este usuario desde esta conexión. Espere %s e "
             "intente de nuevo.",
             when);
    vt_reply_error(req, 429, "throttled", NULL, msg);
    return true;
}

/* ---- routes ---- */

static void login_done(struct vt_http_request *req)
{
    struct login *l = req->user;
    req->user = NULL;
    struct vt_auth *a = auth_of(req);
    /* Counted even when the client left before its answer. */
    if (l->outcome == L_BAD)
        throttle_failure(a, l);
    else if (l->outcome == L_OK)
        vt_throttle_clear(a->pairs, throttle_key(a, l->username, l->peer));
    if (req->orphan)
        goto out;
    if (l->outcome == L_ERROR) {
        vt_http_header(req, "Retry-After", "5");
        vt_reply_error(req, 503, "unavailable", NULL,
                       "No pudimos revisar la clave. Intente de nuevo en un momento.");
    } else if (l->outcome == L_INVALID) {
        vt_reply_error(req, 422, "invalid", NULL,
                       "La clave nueva debe tener entre 12 y 512 caracteres.");
    } else if (l->outcome == L_BAD) {
        vt_reply_error(req, l->kind == LOGIN ? 401 : 403,
                       l->kind == LOGIN ? "bad_credentials" : "wrong_password", NULL,
                       l->kind == LOGIN ? "El usuario o la clave no son correctos."
                                        : "La clave actual no es correcta.");
        vt_log(VT_LOG_INFO, "login_failed", "kind=%s", l->kind == LOGIN ? "login" : "password");
    } else if (l->kind == PASSWORD_CHANGE) {
        /* Whoever else held a session on the old password loses it; the one
         * that changed it goes on under the new epoch. (Had it made another
         * request since the commit, that one found the epoch moved on and
         * ended it: the user signs in again, nothing is let through.) */
        long keep = session_find(a, req->cookie, vt_clock_now_ms());
        for (size_t i = a->n; i-- > 0;)
            if (a->s[i].user_id == l->user_id && (long)i != keep) {
                session_remove(a, i);
                if (keep == (long)a->n) /* the kept one moved into slot i */
                    keep = (long)i;
            }
        if (keep >= 0)
            a->s[keep].epoch = l->epoch;
        vt_http_respond(req, 204, "application/json", "", 0);
        vt_log(VT_LOG_INFO, "password_changed", "user_id=%lld", (long long)l->user_id);
    } else {
        struct vt_staff u;
        char token[65];
        struct session *s;
        /* The epoch read with the hash: a password changed since then (by
         * the CLI) ends this session at once. */
        if (load_staff(req->app, l->user_id, l->epoch, &u) != 0 ||
            !(s = session_new(a, l->user_id, l->epoch, vt_clock_now_ms(), token))) {
            vt_reply_error(req, 503, "unavailable", NULL,
                           "No pudimos abrir la sesión. Intente de nuevo.");
            goto out;
        }
        set_cookie(req, token, false);
        sodium_memzero(token, sizeof(token));
        vt_reply_json(req, 200, session_json(a, &u, s));
        vt_log(VT_LOG_INFO, "login", "user_id=%lld role=%s", (long long)l->user_id,
               vt_role_name(u.role));
    }
out:
    sodium_memzero(l, sizeof(*l));
    free(l);
}

/* Queues l in its address's lane and defers req. Answers itself, freeing l,
 * when that lane is full (429, that address only) or the whole queue is
 * (503). */
static void enqueue(struct vt_http_request *req, struct login *l)
{
    struct vt_auth *a = auth_of(req);
    int per_address = vt_app_config(req->app)->staff.login_queue_per_address;
    snprintf(l->peer, sizeof(l->peer), "%s", req->peer);
    pthread_mutex_lock(&a->lock);
    struct lane *ln = a->ring;
    while (ln && strcmp(ln->peer, l->peer) != 0)
        ln = ln->next;
    bool lane_full = ln && ln->n >= per_address;
    bool full = lane_full || a->queued >= QUEUE_MAX || a->stopping;
    if (!full && !ln && (ln = calloc(1, sizeof(*ln)))) {
        snprintf(ln->peer, sizeof(ln->peer), "%s", l->peer);
        if (a->ring_tail)
            a->ring_tail->next = ln;
        else
            a->ring = ln;
        a->ring_tail = ln;
    }
    full = full || !ln;
    if (!full) {
        l->req = req;
        req->user = l;
        vt_http_defer(req, login_done);
        if (ln->tail)
            ln->tail->next = l;
        else
            ln->head = l;
        ln->tail = l;
        ln->n++;
        a->queued++;
        pthread_cond_signal(&a->cond);
    }
    pthread_mutex_unlock(&a->lock);
    if (!full)
        return;
    sodium_memzero(l, sizeof(*l));
    free(l);
    vt_http_header(req, "Retry-After", "2");
    if (lane_full)
        vt_reply_error(req, 429, "rate_limited", NULL,
                       "Hay varios ingresos en curso desde esta conexión. Espere un momento e "
                       "intente de nuevo.");
    else
        vt_reply_error(req, 503, "busy", NULL,
                       "Hay muchos ingresos al mismo tiempo. Intente de nuevo en un momento.");
}

/* The string field name of o, 1..max bytes, copied into out; false if not. */
static bool string_field(const cJSON *o, const char *name, char *out, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max)
        return false;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return true;
}

static void post_session(struct vt_http_request *req)
{
    struct vt_auth *a = auth_of(req);
    if (!vt_reply_require_json(req))
        return;
    int retry;
    if (!vt_ratelimit_take(a->rl, req->peer, vt_clock_now_ms(), &retry)) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry);
        vt_http_header(req, "Retry-After", ra);
        vt_reply_error(req, 429, "rate_limited", NULL,
                       "Demasiados intentos de ingreso desde esta conexión. Espere un momento.");
        return;
    }
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    struct login *l = calloc(1, sizeof(*l));
    if (!l) {
        cJSON_Delete(o);
        vt_reply_error(req, 503, "unavailable", NULL, "Intente de nuevo en un momento.");
        return;
    }
    l->kind = LOGIN;
    const char *bad = !cJSON_IsObject(o)                                           ? "body"
                      : !string_field(o, "username", l->username, 64)              ? "username"
                      : !string_field(o, "password", l->password, VT_PASSWORD_MAX) ? "password"
                                                                                   : NULL;
    cJSON_Delete(o); /* cJSON_free does not wipe: the password copy in o is gone with it */
    if (bad) {
        struct vt_intake_error e = {422, "invalid", "", ""};
        snprintf(e.field, sizeof(e.field), "%s", bad);
        snprintf(e.message, sizeof(e.message), "%s",
                 strcmp(bad, "body") == 0 ? "Envíe un objeto JSON con username y password."
                                          : "Escriba el usuario y la clave.");
        sodium_memzero(l, sizeof(*l));
        free(l);
        vt_app_intake_error(req, &e);
        return;
    }
    if (refuse_throttled(req, l->username)) {
        sodium_memzero(l, sizeof(*l));
        free(l);
        return;
    }
    enqueue(req, l);
}

static void get_session(struct vt_http_request *req)
{
    struct vt_staff u;
    if (vt_auth_check(req, false, &u))
        return;
    struct vt_auth *a = auth_of(req);
    long i = session_find(a, req->cookie, vt_clock_now_ms());
    if (i < 0) {
        unauthenticated(req);
        return;
    }
    vt_reply_json(req, 200, session_json(a, &u, &a->s[i]));
}

static void post_logout(struct vt_http_request *req)
{
    struct vt_staff u;
    if (vt_auth_check(req, true, &u) || !vt_reply_require_json(req))
        return;
    struct vt_auth *a = auth_of(req);
    long i = session_find(a, req->cookie, vt_clock_now_ms());
    if (i >= 0)
        session_remove(a, (size_t)i);
    set_cookie(req, "", true);
    vt_http_respond(req, 204, "application/json", "", 0);
    vt_log(VT_LOG_INFO, "logout", "user_id=%lld", (long long)u.id);
}

static void post_password(struct vt_http_request *req)
{
    struct vt_staff u;
    if (vt_auth_check(req, true, &u) || !vt_reply_require_json(req))
        return;
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    struct login *l = calloc(1, sizeof(*l));
    if (!l) {
        cJSON_Delete(o);
        vt_reply_error(req, 503, "unavailable", NULL, "Intente de nuevo en un momento.");
        return;
    }
    l->kind = PASSWORD_CHANGE;
    l->user_id = u.id;
    snprintf(l->username, sizeof(l->username), "%s", u.username);
    const char *bad =
        !cJSON_IsObject(o)                                                   ? "body"
        : !string_field(o, "current_password", l->password, VT_PASSWORD_MAX) ? "current_password"
        : !string_field(o, "new_password", l->new_password, VT_PASSWORD_MAX) ? "new_password"
                                                                             : NULL;
    cJSON_Delete(o);
    if (bad) {
        struct vt_intake_error e = {422, "invalid", "", "Escriba la clave actual y la nueva."};
        snprintf(e.field, sizeof(e.field), "%s", bad);
        sodium_memzero(l, sizeof(*l));
        free(l);
        vt_app_intake_error(req, &e);
        return;
    }
    /* A wrong current password counts like a failed login (login_done), so
     * a stolen session cannot be used to guess the password either. */
    if (refuse_throttled(req, u.username)) {
        sodium_memzero(l, sizeof(*l));
        free(l);
        return;
    }
    enqueue(req, l);
}

int vt_auth_register(struct vt_http *http)
{
    int rc = vt_http_route(http, "/api/v1/session", VT_ROUTE_POST, 4096, post_session);
    rc = rc ? rc : vt_http_route(http, "/api/v1/session", VT_ROUTE_GET, 0, get_session);
    rc = rc ? rc : vt_http_route(http, "/api/v1/session/logout", VT_ROUTE_POST, 1024, post_logout);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/session/password", VT_ROUTE_POST, 4096, post_password);
    return rc;
}

/* ---- lifetime ---- */

/* staff.login_workers, or (0) one per CPU this process may run on, at most
 * WORKERS_AUTO_MAX. */
static int workers_wanted(const struct vt_config *cfg)
{
    if (cfg->staff.login_workers > 0)
        return cfg->staff.login_workers;
    long n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        n = CPU_COUNT(&set);
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > WORKERS_AUTO_MAX ? WORKERS_AUTO_MAX : (int)n;
}

struct vt_auth *vt_auth_new(struct vt_app *srv)
{
    struct vt_auth *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->srv = srv;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    const struct vt_config *cfg = vt_app_config(srv);
    int per_min = cfg->staff.login_per_minute;
    int64_t first_delay = (int64_t)cfg->staff.login_delay_first_seconds * 1000;
    int64_t max_delay = (int64_t)cfg->staff.login_delay_max_seconds * 1000;
    int64_t forget = FORGET_MS > 2 * max_delay ? FORGET_MS : 2 * max_delay;
    char random_pw[33];
    unsigned char raw[16];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(random_pw, sizeof(random_pw), raw, sizeof(raw));
    crypto_shorthash_keygen(a->throttle_key);
    if (!(a->rl = vt_ratelimit_new(per_min, per_min)) ||
        !(a->pairs = vt_throttle_new(THROTTLE_SLOTS, first_delay, max_delay, forget)) ||
        !(a->names = vt_throttle_new(THROTTLE_SLOTS, first_delay, max_delay, forget)) ||
        vt_users_hash_new(random_pw, a->dummy_hash, NULL, 0) != 0)
        goto fail;
    a->n_workers = workers_wanted(cfg);
    if (!(a->workers = calloc((size_t)a->n_workers, sizeof(*a->workers))))
        goto fail;
    for (; a->started < a->n_workers; a->started++)
        if (pthread_create(&a->workers[a->started], NULL, worker_main, a) != 0)
            goto fail;
    vt_log(VT_LOG_INFO, "login_workers", "workers=%d per_address=%d", a->n_workers,
           cfg->staff.login_queue_per_address);
    return a;
fail:
    vt_auth_free(a);
    return NULL;
}

void vt_auth_free(struct vt_auth *a)
{
    if (!a)
        return;
    /* The workers answer what is still queued (503) before they stop. */
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < a->started; i++)
        pthread_join(a->workers[i], NULL);
    free(a->workers);
    vt_ratelimit_free(a->rl);
    vt_throttle_free(a->pairs);
    vt_throttle_free(a->names);
    if (a->s)
        sodium_memzero(a->s, SESSIONS_MAX * sizeof(*a->s));
    free(a->s);
    sodium_memzero(a->throttle_key, sizeof(a->throttle_key));
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
