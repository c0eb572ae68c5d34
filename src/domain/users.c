/* users.c - staff accounts and Argon2id hashes (users.h). */
#include "domain/users.h"

#include <ctype.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/roles.h"
#include "store/db.h"

const char *const vt_user_roles[] = VT_ROLE_NAMES;

static bool valid_username(const char *u)
{
    size_t n = strlen(u);
    if (n < 2 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)u[i]) || isdigit((unsigned char)u[i]) || u[i] == '.' ||
              u[i] == '_' || u[i] == '-'))
            return false;
    return true;
}

static int check_password(const char *p, char *why, size_t whylen)
{
    size_t n = strlen(p);
    if (n < VT_PASSWORD_MIN || n > VT_PASSWORD_MAX) {
        if (why)
            snprintf(why, whylen, "the password must be %d to %d bytes long", VT_PASSWORD_MIN,
                     VT_PASSWORD_MAX);
        return VT_EINVAL;
    }
    return 0;
}

/* Argon2id with libsodium's interactive limits: about 64 MiB and 0.1 s. */
static int hash_password(const char *password, char out[crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0
               ? 0
               : VT_ENOMEM;
}

int vt_users_hash_new(const char *password, char out[128], char *why, size_t whylen)
{
    int rc = check_password(password, why, whylen);
    return rc ? rc : hash_password(password, out);
}

int vt_users_check_hash(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

struct change {
    const char *username, *role, *dependencia;
    char hash[crypto_pwhash_STRBYTES];
    const char *action; /* add, passwd, disable, bootstrap */
};

static const char SQL_ADD[] =
    "INSERT INTO users (username, password_hash, role, dependencia, created_at, updated_at, "
    "must_change) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT (username) DO NOTHING";
static const char SQL_ADMIN_EXISTS[] =
    "SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0 LIMIT 1";
/* Both end the account's sessions, in the daemon too: it checks session_epoch
 * at each request (auth.c). */
static const char SQL_PASSWD[] =
    "UPDATE users SET password_hash = ?2, session_epoch = session_epoch + 1, updated_at = ?3 "
    "WHERE username = ?1";
static const char SQL_DISABLE[] =
    "UPDATE users SET disabled = 1, session_epoch = session_epoch + 1, updated_at = ?2 "
    "WHERE username = ?1";

static int change_run(struct vt_store_tx *tx, void *ctx)
{
    struct change *c = ctx;
    struct vt_db *db = vt_store_tx_db(tx);
    int64_t now = vt_store_tx_now(tx);
    struct vt_db_stmt *st;
    bool bootstrap = strcmp(c->action, "bootstrap") == 0;
    if (bootstrap) {
        if (!(st = vt_db_prepare(db, SQL_ADMIN_EXISTS)))
            return VT_ESTORE;
        int r = vt_db_step(st);
        vt_db_reset(st);
        if (r == VT_DB_ROW)
            return VT_EEXIST;
    }
    if (strcmp(c->action, "add") == 0 || bootstrap) {
        if (!(st = vt_db_prepare(db, SQL_ADD)))
            return VT_ESTORE;
        vt_db_bind_text(st, 1, c->username);
        vt_db_bind_text(st, 2, c->hash);
        vt_db_bind_text(st, 3, c->role);
        vt_db_bind_text(st, 4, c->dependencia);
        vt_db_bind_int(st, 5, now);
        vt_db_bind_int(st, 6, bootstrap);
    } else if (strcmp(c->action, "passwd") == 0) {
        if (!(st = vt_db_prepare(db, SQL_PASSWD)))
            return VT_ESTORE;
        vt_db_bind_text(st, 1, c->username);
        vt_db_bind_text(st, 2, c->hash);
        vt_db_bind_int(st, 3, now);
    } else {
        if (!(st = vt_db_prepare(db, SQL_DISABLE)))
            return VT_ESTORE;
        vt_db_bind_text(st, 1, c->username);
        vt_db_bind_int(st, 2, now);
    }
    if (vt_db_run(st))
        return VT_ESTORE;
    if (vt_db_changes(st) == 0)
        return strcmp(c->action, "passwd") == 0 || strcmp(c->action, "disable") == 0 ? VT_ENOTFOUND
                                                                                     : VT_EEXIST;
    char payload[300];
    snprintf(payload, sizeof(payload), "{\"username\":\"%s\",\"role\":\"%s\"}", c->username,
             c->role ? c->role : "");
    static const char *const events[][2] = {{"add", "usuario_creado"},
                                            {"passwd", "clave_cambiada"},
                                            {"disable", "usuario_inhabilitado"},
                                            {"bootstrap", "usuario_creado"}};
    const char *ev = "usuario_cambiado";
    for (int i = 0; i < 4; i++)
        if (strcmp(c->action, events[i][0]) == 0)
            ev = events[i][1];
    return vt_store_tx_event(tx, 0, "admin:cli", ev, payload, 0);
}

int vt_users_add(struct vt_store *s, const char *username, const char *role,
                 const char *dependencia, const char *password, char *why, size_t whylen)
{
    if (!valid_username(username)) {
        snprintf(why, whylen, "a username is 2-64 characters of a-z, 0-9, '.', '_' and '-'");
        return VT_EINVAL;
    }
    bool known = false;
    for (int i = 0; role && vt_user_roles[i]; i++)
        known = known || strcmp(role, vt_user_roles[i]) == 0;
    if (!known) {
        snprintf(why, whylen, "the role must be agente, coordinador, gerente, moderador or admin");
        return VT_EINVAL;
    }
    if (dependencia && (!*dependencia || strlen(dependencia) > 100)) {
        snprintf(why, whylen, "the dependencia must be 1-100 characters");
        return VT_EINVAL;
    }
    int rc = check_password(password, why, whylen);
    struct change c = {username, role, dependencia, "", "add"};
    if (rc == 0 && (rc = hash_password(password, c.hash)) == 0)
        rc = vt_store_run(s, change_run, &c);
    if (rc == VT_EEXIST)
        snprintf(why, whylen, "the username %s is taken", username);
    sodium_memzero(c.hash, sizeof(c.hash));
    return rc;
}

int vt_users_passwd(struct vt_store *s, const char *username, const char *password, char *why,
                    size_t whylen)
{
    int rc = check_password(password, why, whylen);
    struct change c = {username, NULL, NULL, "", "passwd"};
    if (rc == 0 && (rc = hash_password(password, c.hash)) == 0)
        rc = vt_store_run(s, change_run, &c);
    if (rc == VT_ENOTFOUND)
        snprintf(why, whylen, "no user %s", username);
    sodium_memzero(c.hash, sizeof(c.hash));
    return rc;
}

int vt_users_disable(struct vt_store *s, const char *username)
{
    struct change c = {username, NULL, NULL, "", "disable"};
    return vt_store_run(s, change_run, &c);
}

int vt_users_bootstrap(struct vt_store *s, char *username, size_t ulen, char *password, size_t plen)
{
    /* 20 characters of an alphabet without look-alikes: about 100 bits. */
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
    char pw[21];
    for (size_t i = 0; i < 20; i++)
        pw[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    pw[20] = '\0';
    struct change c = {NULL, "admin", NULL, "", "bootstrap"};
    int rc = hash_password(pw, c.hash);
    char name[16] = "admin";
    for (int i = 2; rc == 0 && i < 100; i++) {
        c.username = name;
        rc = vt_store_run(s, change_run, &c);
        if (rc != VT_EEXIST)
            break;
        /* EEXIST: an admin exists (stop), or the name is taken (try the next). */
        struct vt_store_reader *r = vt_store_reader_new(s);
        struct vt_db_stmt *st = r ? vt_db_prepare(vt_store_reader_db(r), SQL_ADMIN_EXISTS) : NULL;
        bool admin = st && vt_db_step(st) == VT_DB_ROW;
        vt_db_reset(st);
        vt_store_reader_free(r);
        if (admin || !st)
            break;
        snprintf(name, sizeof(name), "admin%d", i);
        rc = 0;
    }
    if (rc == 0) {
        snprintf(username, ulen, "%s", name);
        snprintf(password, plen, "%s", pw);
    }
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(c.hash, sizeof(c.hash));
    return rc;
}

/* ---- what the domain reads ---- */

static const char SQL_LIST[] =
    "SELECT username, role, dependencia FROM users WHERE disabled = 0 "
    "AND (CAST(?1 AS TEXT) IS NULL OR dependencia = ?1) ORDER BY username";

int vt_users_list(struct vt_store_reader *r, const char *dependencia,
                  void (*each)(void *ctx, const char *username, const char *role,
                               const char *dependencia),
                  void *ctx)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_LIST);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, dependencia);
    int s;
    while ((s = vt_db_step(st)) == VT_DB_ROW)
        each(ctx, vt_db_col_str(st, 0), vt_db_col_str(st, 1), vt_db_col_text(st, 2));
    vt_db_reset(st);
    return s == VT_DB_DONE ? 0 : VT_ESTORE;
}

static const char SQL_FIND[] =
    "SELECT id, role, COALESCE(dependencia, '') FROM users WHERE username = ?1 AND disabled = 0";

int vt_users_find(struct vt_store_tx *tx, const char *username, struct vt_user_row *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_FIND);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, username);
    int s = vt_db_step(st);
    if (s == VT_DB_ROW) {
        out->id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, out->role, sizeof(out->role));
        vt_db_col_copy(st, 2, out->dependencia, sizeof(out->dependencia));
    }
    vt_db_reset(st);
    return s == VT_DB_ROW ? 0 : s == VT_DB_DONE ? VT_ENOTFOUND : s;
}
