/* auth.c - staff sessions and logins (auth.h).
 *
 * Argon2id takes about 0.1 s and 64 MiB per check, so checks run on one
 * worker thread fed by a bounded queue: the loop never waits on a hash, and a
 * flood of logins queues (then gets 503) instead of exhausting memory.
 */
#include "auth.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "ratelimit.h"
#include "server.h"
#include "users.h"

#define SESSIONS_MAX 10000
#define QUEUE_MAX 32
#define COOKIE "vt_session"

static const char *const role_names[] = VT_ROLE_NAMES;

int vt_auth_role_of(const char *name)
{
    for (int i = 0; name && role_names[i]; i++)
        if (strcmp(role_names[i], name) == 0)
            return i;
    return -1;
}

const char *vt_auth_role_name(enum vt_role r)
{
    return (r >= 0 && r < VT_ROLE_COUNT) ? role_names[r] : "";
}

struct session {
    unsigned char key[32]; /* BLAKE2b of the cookie's token */
    int64_t user_id;
    int64_t created, last; /* Unix ms */
    char csrf[65];
};

enum login_kind { LOGIN, PASSWORD_CHANGE };
enum login_outcome { L_OK, L_BAD, L_LOCKED, L_INVALID, L_ERROR };

struct login {
    enum login_kind kind;
    struct vt_http_request *req;
    char username[65];
    char password[VT_PASSWORD_MAX + 1];
    char new_password[VT_PASSWORD_MAX + 1]; /* PASSWORD_CHANGE */
    int64_t user_id;                        /* PASSWORD_CHANGE: asked by; LOGIN: found */
    enum login_outcome outcome;
    int retry_after; /* L_LOCKED: seconds */
    char why[160];   /* L_INVALID */
    char hash[crypto_pwhash_STRBYTES];
    int64_t now;
    struct login *next;
};

struct vt_auth {
    struct vt_server *srv;
    struct session *s; /* loop thread */
    size_t n;
    struct vt_ratelimit *rl; /* loop thread */
    char dummy_hash[crypto_pwhash_STRBYTES];

    pthread_t worker;
    bool worker_started;
    pthread_mutex_t lock; /* guards the queue and stopping */
    pthread_cond_t cond;
    struct login *head, *tail;
    int queued;
    bool stopping;
};

/* ---- responses ---- */

/* ---- the session table (loop thread) ---- */

static struct vt_auth *auth_of(struct vt_http_request *req)
{
    return vt_server_auth(req->srv);
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
    const struct vt_config *cfg = vt_server_config(a->srv);
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
static struct session *session_new(struct vt_auth *a, int64_t user_id, int64_t now, char token[65])
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
    s->created = s->last = now;
    return s;
}

static const char SQL_USER_BY_ID[] =
    "SELECT username, role, COALESCE(dependencia, ''), disabled, must_change FROM users "
    "WHERE id = ?1";

/* Loads the account of a session; VT_ENOTFOUND when it is gone or disabled. */
static int load_staff(struct vt_server *srv, int64_t id, struct vt_staff *out)
{
    sqlite3_stmt *st = vt_store_reader_stmt(vt_server_reader(srv), SQL_USER_BY_ID);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int rc = VT_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 3) == 0) {
        int role = vt_auth_role_of((const char *)sqlite3_column_text(st, 1));
        if (role >= 0) {
            memset(out, 0, sizeof(*out));
            out->id = id;
            snprintf(out->username, sizeof(out->username), "%s", sqlite3_column_text(st, 0));
            out->role = (enum vt_role)role;
            snprintf(out->dependencia, sizeof(out->dependencia), "%s", sqlite3_column_text(st, 2));
            out->must_change = sqlite3_column_int(st, 4) != 0;
            rc = 0;
        }
    }
    sqlite3_reset(st);
    return rc;
}

static void unauthenticated(struct vt_http_request *req)
{
    vt_server_error(req, 401, "unauthenticated", NULL,
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
    if (load_staff(req->srv, s->user_id, out) != 0) {
        session_remove(a, (size_t)i);
        unauthenticated(req);
        return VT_EPERM;
    }
    if (write && (strlen(req->csrf) != 64 || sodium_memcmp(req->csrf, s->csrf, 64) != 0)) {
        vt_server_error(
            req, 403, "csrf", NULL,
            "Falta el código de seguridad de la sesión o no coincide. Recargue la página e "
            "intente de nuevo.");
        return VT_EPERM;
    }
    s->last = now;
    if (out->must_change && strcmp(req->path, "/api/v1/session/password") != 0 &&
        strcmp(req->path, "/api/v1/session") != 0 &&
        strcmp(req->path, "/api/v1/session/logout") != 0) {
        vt_server_error(req, 403, "password_change_required", NULL,
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
        vt_server_error(req, 403, "forbidden", NULL, "Su rol no tiene acceso a esta función.");
        return false;
    }
    return true;
}

int vt_auth_cookie_staff(struct vt_server *srv, const char *cookie, struct vt_staff *out)
{
    struct vt_auth *a = vt_server_auth(srv);
    long i = a ? session_find(a, cookie, vt_clock_now_ms()) : -1;
    if (i < 0 || load_staff(srv, a->s[i].user_id, out) != 0 || out->must_change)
        return VT_EPERM;
    return 0;
}

static cJSON *session_json(const struct vt_auth *a, const struct vt_staff *u,
                           const struct session *s)
{
    cJSON *o = cJSON_CreateObject(), *user = cJSON_AddObjectToObject(o, "user");
    cJSON_AddStringToObject(user, "username", u->username);
    cJSON_AddStringToObject(user, "role", vt_auth_role_name(u->role));
    if (u->dependencia[0])
        cJSON_AddStringToObject(user, "dependencia", u->dependencia);
    else
        cJSON_AddNullToObject(user, "dependencia");
    cJSON_AddBoolToObject(o, "password_change_required", u->must_change);
    cJSON_AddStringToObject(o, "csrf_token", s->csrf);
    const struct vt_config *cfg = vt_server_config(a->srv);
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
    const struct vt_config *cfg = vt_server_config(req->srv);
    char v[256];
    snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", COOKIE,
             clear ? "" : token, cfg->staff.secure_cookie || req->https ? "; Secure" : "",
             clear ? "; Max-Age=0" : "");
    vt_http_header(req, "Set-Cookie", v);
}

/* ---- the login worker ---- */

static const char SQL_USER_BY_NAME[] =
    "SELECT id, password_hash, disabled, locked_until FROM users WHERE username = ?1";
static const char SQL_HASH_BY_ID[] = "SELECT password_hash, username FROM users WHERE id = ?1";
static const char SQL_LOGIN_OK[] =
    "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?1";
static const char SQL_LOGIN_BAD[] =
    "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?1 RETURNING failed_logins";
static const char SQL_LOCK[] =
    "UPDATE users SET failed_logins = 0, locked_until = ?2 WHERE id = ?1";
static const char SQL_SET_PASSWORD[] =
    "UPDATE users SET password_hash = ?2, must_change = 0, failed_logins = 0, "
    "locked_until = NULL, updated_at = ?3 WHERE id = ?1";

static int step_done(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : VT_ESTORE;
}

/* Writer thread: records the outcome of one check (counters, lockout, events). */
static int record_run(struct vt_store_tx *tx, void *ctx)
{
    struct login *l = ctx;
    const struct vt_config *cfg = vt_server_config(l->req->srv);
    char actor[80], payload[128];
    snprintf(actor, sizeof(actor), "staff:%s", l->username);
    snprintf(payload, sizeof(payload), "{\"username\":\"%s\"}", l->username);
    sqlite3_stmt *st;
    if (l->kind == PASSWORD_CHANGE && l->outcome == L_OK) {
        if (!(st = vt_store_tx_stmt(tx, SQL_SET_PASSWORD)))
            return VT_ESTORE;
        sqlite3_bind_int64(st, 1, l->user_id);
        sqlite3_bind_text(st, 2, l->hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, vt_store_tx_now(tx));
        int rc = step_done(st);
        return rc ? rc : vt_store_tx_event(tx, 0, actor, "clave_cambiada", payload, 0);
    }
    if (l->outcome == L_OK) {
        if (!(st = vt_store_tx_stmt(tx, SQL_LOGIN_OK)))
            return VT_ESTORE;
        sqlite3_bind_int64(st, 1, l->user_id);
        int rc = step_done(st);
        return rc ? rc : vt_store_tx_event(tx, 0, actor, "sesion_iniciada", payload, 0);
    }
    if (!(st = vt_store_tx_stmt(tx, SQL_LOGIN_BAD)))
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, l->user_id);
    int failed = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (failed < cfg->staff.lockout_after)
        return 0;
    if (!(st = vt_store_tx_stmt(tx, SQL_LOCK)))
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, l->user_id);
    sqlite3_bind_int64(st, 2, vt_store_tx_now(tx) + (int64_t)cfg->staff.lockout_seconds * 1000);
    int rc = step_done(st);
    l->outcome = L_LOCKED;
    l->retry_after = cfg->staff.lockout_seconds;
    return rc ? rc : vt_store_tx_event(tx, 0, "sistema", "cuenta_bloqueada", payload, 0);
}

/* Worker thread: one login or password change, to its outcome. */
static void check_one(struct vt_auth *a, struct vt_store_reader *r, struct login *l)
{
    struct vt_store *store = vt_server_store(a->srv);
    char hash[crypto_pwhash_STRBYTES];
    snprintf(hash, sizeof(hash), "%s", a->dummy_hash);
    bool found = false, disabled = false;
    int64_t locked_until = 0;
    sqlite3_stmt *st =
        r ? vt_store_reader_stmt(r, l->kind == LOGIN ? SQL_USER_BY_NAME : SQL_HASH_BY_ID) : NULL;
    if (!st) {
        l->outcome = L_ERROR;
        return;
    }
    if (l->kind == LOGIN)
        sqlite3_bind_text(st, 1, l->username, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, l->user_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        found = true;
        if (l->kind == LOGIN) {
            l->user_id = sqlite3_column_int64(st, 0);
            snprintf(hash, sizeof(hash), "%s", sqlite3_column_text(st, 1));
            disabled = sqlite3_column_int(st, 2) != 0;
            locked_until = sqlite3_column_int64(st, 3);
        } else {
            snprintf(hash, sizeof(hash), "%s", sqlite3_column_text(st, 0));
            snprintf(l->username, sizeof(l->username), "%s", sqlite3_column_text(st, 1));
        }
    }
    sqlite3_reset(st);
    /* A disabled account answers like a wrong password, locked or not. */
    if (found && !disabled && locked_until > l->now) {
        l->outcome = L_LOCKED;
        l->retry_after = (int)((locked_until - l->now + 999) / 1000);
        return;
    }
    /* The dummy hash makes an unknown username cost the same time. */
    bool ok = vt_users_check_hash(hash, l->password) && found && !disabled;
    sodium_memzero(hash, sizeof(hash));
    if (!found || disabled) {
        l->outcome = L_BAD;
        return;
    }
    l->outcome = ok ? L_OK : L_BAD;
    if (ok && l->kind == PASSWORD_CHANGE) {
        char why[160] = "";
        if (vt_users_hash_new(l->new_password, l->hash, why, sizeof(why)) != 0) {
            l->outcome = L_INVALID;
            snprintf(l->why, sizeof(l->why), "%s", why);
            return;
        }
    }
    if (l->kind == PASSWORD_CHANGE && !ok)
        return; /* a wrong current password does not count towards a lockout */
    if (vt_store_run(store, record_run, l) != 0)
        l->outcome = L_ERROR;
}

static void *worker_main(void *arg)
{
    struct vt_auth *a = arg;
    struct vt_store_reader *r = vt_store_reader_new(vt_server_store(a->srv));
    for (;;) {
        pthread_mutex_lock(&a->lock);
        while (!a->head && !a->stopping)
            pthread_cond_wait(&a->cond, &a->lock);
        struct login *l = a->head;
        if (l) {
            a->head = l->next;
            if (!a->head)
                a->tail = NULL;
            a->queued--;
        }
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

/* ---- routes ---- */

static void login_done(struct vt_http_request *req)
{
    struct login *l = req->user;
    req->user = NULL;
    struct vt_auth *a = auth_of(req);
    if (req->orphan)
        goto out;
    if (l->outcome == L_LOCKED) {
        char ra[16], msg[200];
        snprintf(ra, sizeof(ra), "%d", l->retry_after);
        vt_http_header(req, "Retry-After", ra);
        snprintf(msg, sizeof(msg),
                 "La cuenta quedó bloqueada por varios intentos fallidos. Intente de nuevo en %d "
                 "minutos o pida a un administrador que cambie la clave.",
                 (l->retry_after + 59) / 60);
        vt_server_error(req, 429, "locked", NULL, msg);
        vt_log(VT_LOG_WARN, "login_locked", "user_id=%lld", (long long)l->user_id);
    } else if (l->outcome == L_ERROR) {
        vt_http_header(req, "Retry-After", "5");
        vt_server_error(req, 503, "unavailable", NULL,
                        "No pudimos revisar la clave. Intente de nuevo en un momento.");
    } else if (l->outcome == L_INVALID) {
        vt_server_error(req, 422, "invalid", NULL,
                        "La clave nueva debe tener entre 12 y 512 caracteres.");
    } else if (l->outcome == L_BAD) {
        vt_server_error(req, l->kind == LOGIN ? 401 : 403,
                        l->kind == LOGIN ? "bad_credentials" : "wrong_password", NULL,
                        l->kind == LOGIN ? "El usuario o la clave no son correctos."
                                         : "La clave actual no es correcta.");
        vt_log(VT_LOG_INFO, "login_failed", "kind=%s", l->kind == LOGIN ? "login" : "password");
    } else if (l->kind == PASSWORD_CHANGE) {
        /* Whoever else held a session on the old password loses it. */
        long keep = session_find(a, req->cookie, vt_clock_now_ms());
        for (size_t i = a->n; i-- > 0;)
            if (a->s[i].user_id == l->user_id && (long)i != keep) {
                session_remove(a, i);
                if (keep == (long)a->n) /* the kept one moved into slot i */
                    keep = (long)i;
            }
        vt_http_respond(req, 204, "application/json", "", 0);
        vt_log(VT_LOG_INFO, "password_changed", "user_id=%lld", (long long)l->user_id);
    } else {
        struct vt_staff u;
        char token[65];
        struct session *s;
        if (load_staff(req->srv, l->user_id, &u) != 0 ||
            !(s = session_new(a, l->user_id, vt_clock_now_ms(), token))) {
            vt_server_error(req, 503, "unavailable", NULL,
                            "No pudimos abrir la sesión. Intente de nuevo.");
            goto out;
        }
        set_cookie(req, token, false);
        sodium_memzero(token, sizeof(token));
        vt_server_json(req, 200, session_json(a, &u, s));
        vt_log(VT_LOG_INFO, "login", "user_id=%lld role=%s", (long long)l->user_id,
               vt_auth_role_name(u.role));
    }
out:
    sodium_memzero(l, sizeof(*l));
    free(l);
}

/* Queues l for the worker and defers req; answers 503 itself when full. */
static void enqueue(struct vt_http_request *req, struct login *l)
{
    struct vt_auth *a = auth_of(req);
    pthread_mutex_lock(&a->lock);
    bool full = a->queued >= QUEUE_MAX || a->stopping;
    if (!full) {
        l->req = req;
        l->now = vt_clock_now_ms();
        req->user = l;
        vt_http_defer(req, login_done);
        if (a->tail)
            a->tail->next = l;
        else
            a->head = l;
        a->tail = l;
        a->queued++;
        pthread_cond_signal(&a->cond);
    }
    pthread_mutex_unlock(&a->lock);
    if (full) {
        sodium_memzero(l, sizeof(*l));
        free(l);
        vt_http_header(req, "Retry-After", "2");
        vt_server_error(req, 503, "busy", NULL,
                        "Hay muchos ingresos al mismo tiempo. Intente de nuevo en un momento.");
    }
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
    if (!vt_server_require_json(req))
        return;
    int retry;
    if (!vt_ratelimit_take(a->rl, req->peer, vt_clock_now_ms(), &retry)) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry);
        vt_http_header(req, "Retry-After", ra);
        vt_server_error(req, 429, "rate_limited", NULL,
                        "Demasiados intentos de ingreso desde esta conexión. Espere un momento.");
        return;
    }
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    struct login *l = calloc(1, sizeof(*l));
    if (!l) {
        cJSON_Delete(o);
        vt_server_error(req, 503, "unavailable", NULL, "Intente de nuevo en un momento.");
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
        vt_server_json_error(req, &e);
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
    vt_server_json(req, 200, session_json(a, &u, &a->s[i]));
}

static void post_logout(struct vt_http_request *req)
{
    struct vt_staff u;
    if (vt_auth_check(req, true, &u) || !vt_server_require_json(req))
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
    if (vt_auth_check(req, true, &u) || !vt_server_require_json(req))
        return;
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    struct login *l = calloc(1, sizeof(*l));
    if (!l) {
        cJSON_Delete(o);
        vt_server_error(req, 503, "unavailable", NULL, "Intente de nuevo en un momento.");
        return;
    }
    l->kind = PASSWORD_CHANGE;
    l->user_id = u.id;
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
        vt_server_json_error(req, &e);
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

struct vt_auth *vt_auth_new(struct vt_server *srv)
{
    struct vt_auth *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->srv = srv;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    const struct vt_config *cfg = vt_server_config(srv);
    int per_min = cfg->staff.login_per_minute;
    char random_pw[33];
    unsigned char raw[16];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(random_pw, sizeof(random_pw), raw, sizeof(raw));
    if (!(a->rl = vt_ratelimit_new(per_min, per_min)) ||
        vt_users_hash_new(random_pw, a->dummy_hash, NULL, 0) != 0)
        goto fail;
    if (pthread_create(&a->worker, NULL, worker_main, a) != 0)
        goto fail;
    a->worker_started = true;
    return a;
fail:
    vt_auth_free(a);
    return NULL;
}

void vt_auth_free(struct vt_auth *a)
{
    if (!a)
        return;
    if (a->worker_started) {
        pthread_mutex_lock(&a->lock);
        a->stopping = true;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->worker, NULL);
    }
    vt_ratelimit_free(a->rl);
    if (a->s)
        sodium_memzero(a->s, SESSIONS_MAX * sizeof(*a->s));
    free(a->s);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
