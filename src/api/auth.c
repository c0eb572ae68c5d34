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
#include "domain/schedule.h"
#include "domain/sessions.h"
#include "domain/users.h"

/* Sessions in the database, all accounts together. The cap bounded the
 * daemon's memory when sessions lived there; it now bounds the table, so that
 * logins in a loop cannot grow it without end: past it the least recently
 * used session goes (vt_sessions_open). */
#define SESSIONS_MAX 10000
#define TOUCH_MS (60 * 1000LL) /* a session's last use is written at most this often */
#define TOUCHED_SLOTS 128      /* touches recently handed to the writer (loop thread) */
#define QUEUE_MAX 256          /* checks waiting, all addresses together */
#define WORKERS_AUTO_MAX 8     /* 8 x 64 MiB of Argon2id at once */
#define THROTTLE_SLOTS 16384   /* per table: about 400 KiB */
#define FORGET_MS (3600 * 1000LL)
#define COOKIE "vt_session"
/* The key of the CSRF token's BLAKE2b (16 to 64 bytes): it makes the token a
 * value of its own, not the session's key, from the same cookie token. */
#define CSRF_KEY "ventanilla staff session csrf token"

enum login_kind { LOGIN, PASSWORD_CHANGE };
enum login_outcome { L_OK, L_BAD, L_INVALID, L_ERROR };

struct login {
    enum login_kind kind;
    struct vt_http_request *req;
    const struct vt_config *cfg;
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
    char token[65];                           /* LOGIN: the new session's cookie token */
    struct vt_session session;                /* LOGIN: the row stored with the sign-in */
    unsigned char keep[VT_SESSION_KEY_BYTES]; /* PASSWORD_CHANGE: the session asking */
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
    struct {
        unsigned char key[VT_SESSION_KEY_BYTES];
        int64_t at;
    } touched[TOUCHED_SLOTS]; /* loop thread */
    unsigned next_touched;
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

/* ---- sessions (loop thread; their rows: domain/sessions.h) ----
 *
 * The cookie's token never leaves the request: the database keeps its
 * BLAKE2b-256 (the session's key), and the CSRF token is a keyed BLAKE2b of
 * the same token, computed again when a request needs it and kept nowhere.
 * Whoever holds the cookie could read the CSRF token from GET /api/v1/session
 * anyway; whoever reads the database learns neither.
 *
 * Every request reads its session (and account) through the loop thread's
 * reader, so every instance sees a logout or a password change at once. The
 * last use is written at most once per touch interval (TOUCH_MS, or a quarter
 * of the idle time when that is shorter), in the background: a session ends
 * after staff.session_idle_seconds without a request, give or take that
 * interval, never before (expired() adds it); expires_at tells the earliest
 * instant. */

static struct vt_auth *auth_of(struct vt_http_request *req)
{
    return vt_app_auth(req->app);
}

static void token_key(const char *token, unsigned char key[VT_SESSION_KEY_BYTES])
{
    crypto_generichash(key, VT_SESSION_KEY_BYTES, (const unsigned char *)token, strlen(token), NULL,
                       0);
}

static void token_csrf(const char *token, char csrf[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token),
                       (const unsigned char *)CSRF_KEY, sizeof(CSRF_KEY) - 1);
    sodium_bin2hex(csrf, 65, h, sizeof(h));
    sodium_memzero(h, sizeof(h));
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

/* How old a session's last use on record may get before a request writes it
 * again: a minute, or a quarter of the idle time when that is shorter (the
 * tests' 2 s), so that a session in use never looks idle. */
static int64_t touch_interval(const struct vt_config *cfg)
{
    int64_t quarter = (int64_t)cfg->staff.session_idle_seconds * 1000 / 4;
    return quarter < TOUCH_MS ? quarter : TOUCH_MS;
}

static bool expired(const struct vt_config *cfg, const struct vt_session *s, int64_t now)
{
    return now - s->last > (int64_t)cfg->staff.session_idle_seconds * 1000 + touch_interval(cfg) ||
           now - s->created > (int64_t)cfg->staff.session_max_seconds * 1000;
}

/* ---- writes in the background (the store's writer; nobody waits) ---- */

enum bg_kind { BG_TOUCH, BG_CLOSE, BG_SWEEP };

struct bg {
    struct vt_store_job job;
    enum bg_kind kind;
    unsigned char key[VT_SESSION_KEY_BYTES];
    int64_t now, interval;   /* BG_TOUCH */
    int64_t idle_ms, max_ms; /* BG_SWEEP: the expiry rule, touch interval included */
    int64_t period_ms;       /* BG_SWEEP: once per period across instances */
    const char *instance;    /* BG_SWEEP: vt_store_instance (the store outlives the job) */
    bool shared;
};

static int bg_run(struct vt_store_tx *tx, void *ctx)
{
    struct bg *b = ctx;
    if (b->kind == BG_TOUCH)
        return vt_sessions_touch(tx, b->key, b->now, b->interval);
    if (b->kind == BG_CLOSE)
        return vt_sessions_close(tx, b->key);
    int rc = vt_schedule_claim(tx, "staff_sessions", b->period_ms, b->instance, b->shared);
    if (rc <= 0)
        return rc; /* another instance swept within the period */
    int64_t now = vt_store_tx_now(tx), n = 0;
    rc = vt_sessions_sweep(tx, now - b->idle_ms, now - b->max_ms, &n);
    if (rc == 0 && n > 0)
        vt_log(VT_LOG_INFO, "sessions_swept", "sessions=%lld", (long long)n);
    return rc;
}

static void bg_done(struct vt_store_job *job)
{
    struct bg *b = job->ctx; /* job is inside b: read before wiping */
    sodium_memzero(b, sizeof(*b));
    free(b);
}

/* Hands a background write to the store; b is freed when it is done (or now,
 * when the store is stopping: a touch or a deletion lost then is harmless). */
static void background(struct vt_auth *a, enum bg_kind kind, struct bg *b)
{
    b->kind = kind;
    b->job.run = bg_run;
    b->job.done = bg_done;
    b->job.ctx = b;
    if (vt_store_submit(vt_app_store(a->srv), &b->job) != 0) {
        sodium_memzero(b, sizeof(*b));
        free(b);
    }
}

/* The session keyed key has ended (expired, or its account moved on): its
 * row goes now rather than at the next sweep. */
static void forget(struct vt_auth *a, const unsigned char key[VT_SESSION_KEY_BYTES])
{
    struct bg *b = calloc(1, sizeof(*b));
    if (!b)
        return;
    memcpy(b->key, key, VT_SESSION_KEY_BYTES);
    background(a, BG_CLOSE, b);
}

/* Session s was used at now: its last use is written when the one on record
 * is a touch interval old, unless this instance already asked that within
 * the interval (concurrent requests of one page). */
static void touch(struct vt_auth *a, const struct vt_session *s, int64_t now)
{
    int64_t interval = touch_interval(vt_app_config(a->srv));
    if (now - s->last < interval)
        return;
    for (size_t i = 0; i < TOUCHED_SLOTS; i++)
        if (now - a->touched[i].at < interval &&
            memcmp(a->touched[i].key, s->key, VT_SESSION_KEY_BYTES) == 0)
            return;
    struct bg *b = calloc(1, sizeof(*b));
    if (!b)
        return;
    size_t slot = a->next_touched++ % TOUCHED_SLOTS;
    memcpy(a->touched[slot].key, s->key, VT_SESSION_KEY_BYTES);
    a->touched[slot].at = now;
    memcpy(b->key, s->key, VT_SESSION_KEY_BYTES);
    b->now = now;
    b->interval = interval;
    background(a, BG_TOUCH, b);
}

void vt_auth_sweep(struct vt_app *srv)
{
    struct vt_auth *a = vt_app_auth(srv);
    struct bg *b = a ? calloc(1, sizeof(*b)) : NULL;
    if (!b)
        return;
    const struct vt_config *cfg = vt_app_config(srv);
    b->idle_ms = (int64_t)cfg->staff.session_idle_seconds * 1000 + touch_interval(cfg);
    b->max_ms = (int64_t)cfg->staff.session_max_seconds * 1000;
    b->period_ms = (int64_t)cfg->staff.due_refresh_seconds * 1000;
    b->instance = vt_store_instance(vt_app_store(srv));
    b->shared = vt_store_shared(vt_app_store(srv));
    background(a, BG_SWEEP, b);
}

/* The live session of a Cookie header: 0 with *s and *who filled (and the
 * session's CSRF token, when csrf is not NULL); VT_EPERM when there is none
 * or it has ended (an ended one is deleted in the background); VT_ESTORE. */
static int session_of(struct vt_auth *a, const char *cookie, int64_t now, struct vt_session *s,
                      struct vt_staff *who, char csrf[65])
{
    char token[65];
    if (!cookie_token(cookie, token))
        return VT_EPERM;
    unsigned char key[VT_SESSION_KEY_BYTES];
    token_key(token, key);
    if (csrf)
        token_csrf(token, csrf);
    sodium_memzero(token, sizeof(token));
    int rc = vt_sessions_find(vt_app_reader(a->srv), key, s, who);
    if (rc == 0 && expired(vt_app_config(a->srv), s, now))
        rc = VT_ESTATE;
    if (rc == VT_ESTATE)
        forget(a, key);
    return rc == VT_ESTATE || rc == VT_ENOTFOUND ? VT_EPERM : rc;
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

/* vt_auth_check, also giving the session (its last use: now) and, when csrf
 * is not NULL, its CSRF token. */
static int check(struct vt_http_request *req, bool write, struct vt_staff *out,
                 struct vt_session *s, char csrf[65])
{
    struct vt_auth *a = auth_of(req);
    int64_t now = vt_clock_now_ms();
    char token_csrf_buf[65];
    char *want = csrf ? csrf : write ? token_csrf_buf : NULL;
    int rc = session_of(a, req->cookie, now, s, out, want);
    if (rc == VT_ESTORE) {
        vt_http_header(req, "Retry-After", "5");
        vt_reply_error(req, 503, "unavailable", NULL,
                       "No pudimos revisar su sesión. Intente de nuevo en un momento.");
        return VT_EPERM;
    }
    if (rc) {
        unauthenticated(req);
        return VT_EPERM;
    }
    if (write && (strlen(req->csrf) != 64 || sodium_memcmp(req->csrf, want, 64) != 0)) {
        vt_reply_error(
            req, 403, "csrf", NULL,
            "Falta el código de seguridad de la sesión o no coincide. Recargue la página e "
            "intente de nuevo.");
        return VT_EPERM;
    }
    touch(a, s, now);
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

int vt_auth_check(struct vt_http_request *req, bool write, struct vt_staff *out)
{
    struct vt_session s;
    return check(req, write, out, &s, NULL);
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
    struct vt_session s;
    if (!a || session_of(a, cookie, vt_clock_now_ms(), &s, out, NULL) != 0)
        return VT_EPERM;
    return out->must_change ? VT_EPERM : 0;
}

static cJSON *session_json(const struct vt_auth *a, const struct vt_staff *u,
                           const struct vt_session *s, const char *csrf)
{
    cJSON *o = cJSON_CreateObject(), *user = cJSON_AddObjectToObject(o, "user");
    cJSON_AddStringToObject(user, "username", u->username);
    cJSON_AddStringToObject(user, "role", vt_role_name(u->role));
    if (u->dependencia[0])
        cJSON_AddStringToObject(user, "dependencia", u->dependencia);
    else
        cJSON_AddNullToObject(user, "dependencia");
    cJSON_AddBoolToObject(o, "password_change_required", u->must_change);
    cJSON_AddStringToObject(o, "csrf_token", csrf);
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

/* Writer thread: a successful login with its session, or a password change
 * with the end of the account's other sessions, and its event. A failure
 * writes nothing here, so that it takes as long for a real account as for an
 * unknown name (login_done counts it, in memory). */
static int record_run(struct vt_store_tx *tx, void *ctx)
{
    struct login *l = ctx;
    int rc;
    if (l->kind == PASSWORD_CHANGE) {
        if ((rc = vt_accounts_set_password(tx, l->user_id, l->username, l->hash, &l->epoch)))
            return rc;
        return vt_sessions_password_changed(tx, l->user_id, l->keep, l->epoch);
    }
    if ((rc = vt_accounts_signed_in(tx, l->username)))
        return rc;
    int64_t now = vt_store_tx_now(tx);
    const struct vt_staff_config *c = &l->cfg->staff;
    l->session.created = l->session.last = now;
    return vt_sessions_open(tx, &l->session, SESSIONS_MAX,
                            now - (int64_t)c->session_idle_seconds * 1000 - touch_interval(l->cfg),
                            now - (int64_t)c->session_max_seconds * 1000);
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
    } else { /* the new session: its token for the cookie, its hash for the row */
        unsigned char raw[32];
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(l->token, sizeof(l->token), raw, sizeof(raw));
        sodium_memzero(raw, sizeof(raw));
        token_key(l->token, l->session.key);
        l->session.user_id = l->user_id;
        l->session.epoch = l->epoch;
    }
    l->cfg = vt_app_config(a->srv);
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
    bool opened = l->outcome == L_OK && l->kind == LOGIN; /* its row is stored */
    if (req->orphan) {
        if (opened) /* nobody got the cookie */
            forget(a, l->session.key);
        goto out;
    }
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
        /* The same commit gave the session that asked the new epoch and
         * deleted the account's other sessions, on every instance. */
        vt_http_respond(req, 204, "application/json", "", 0);
        vt_log(VT_LOG_INFO, "password_changed", "user_id=%lld", (long long)l->user_id);
    } else {
        struct vt_staff u;
        /* The epoch read with the hash: a password changed since then (by
         * the CLI) ends this session at once. */
        if (load_staff(req->app, l->user_id, l->epoch, &u) != 0) {
            forget(a, l->session.key);
            vt_reply_error(req, 503, "unavailable", NULL,
                           "No pudimos abrir la sesión. Intente de nuevo.");
            goto out;
        }
        char csrf[65];
        token_csrf(l->token, csrf);
        set_cookie(req, l->token, false);
        vt_reply_json(req, 200, session_json(a, &u, &l->session, csrf));
        sodium_memzero(csrf, sizeof(csrf));
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
    struct vt_session s;
    char csrf[65];
    if (check(req, false, &u, &s, csrf))
        return;
    vt_reply_json(req, 200, session_json(auth_of(req), &u, &s, csrf));
    sodium_memzero(csrf, sizeof(csrf));
}

struct logout {
    unsigned char key[VT_SESSION_KEY_BYTES];
    int64_t user_id;
};

static int logout_run(struct vt_store_tx *tx, void *ctx)
{
    struct logout *o = ctx;
    return vt_sessions_close(tx, o->key);
}

/* Loop thread, once the row is gone (committed): from then on no instance
 * knows the cookie. */
static void logout_complete(struct vt_http_request *req, void *ctx, int result)
{
    struct logout *o = ctx;
    if (!req->orphan) {
        if (result) {
            vt_http_header(req, "Retry-After", "5");
            vt_reply_error(req, 503, "unavailable", NULL,
                           "No pudimos cerrar la sesión. Intente de nuevo en un momento.");
        } else {
            set_cookie(req, "", true);
            vt_http_respond(req, 204, "application/json", "", 0);
            vt_log(VT_LOG_INFO, "logout", "user_id=%lld", (long long)o->user_id);
        }
    }
    sodium_memzero(o, sizeof(*o));
    free(o);
}

static void post_logout(struct vt_http_request *req)
{
    struct vt_staff u;
    struct vt_session s;
    if (check(req, true, &u, &s, NULL) || !vt_reply_require_json(req))
        return;
    struct logout *o = calloc(1, sizeof(*o));
    if (!o) {
        vt_reply_error(req, 503, "unavailable", NULL, "Intente de nuevo en un momento.");
        return;
    }
    memcpy(o->key, s.key, sizeof(o->key));
    o->user_id = u.id;
    if (vt_app_run(req, logout_run, o, logout_complete) != 0)
        free(o); /* answered 503 */
}

static void post_password(struct vt_http_request *req)
{
    struct vt_staff u;
    struct vt_session s;
    if (check(req, true, &u, &s, NULL) || !vt_reply_require_json(req))
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
    memcpy(l->keep, s.key, sizeof(l->keep)); /* this session goes on under the new epoch */
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
    sodium_memzero(a->touched, sizeof(a->touched));
    sodium_memzero(a->throttle_key, sizeof(a->throttle_key));
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
