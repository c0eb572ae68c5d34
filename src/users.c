/* users.c - staff accounts and Argon2id hashes (users.h). */
#include "users.h"

#include <ctype.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

const char *const vt_user_roles[] = {"agente",    "coordinador", "gerente",
                                     "moderador", "admin",       NULL};

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

int vt_users_check_hash(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

struct change {
    const char *username, *role, *dependencia;
    char hash[crypto_pwhash_STRBYTES];
    const char *action; /* add, passwd, disable */
};

static const char SQL_ADD[] =
    "INSERT INTO users (username, password_hash, role, dependencia, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (username) DO NOTHING";
static const char SQL_PASSWD[] =
    "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = NULL, updated_at = ?3 "
    "WHERE username = ?1";
static const char SQL_DISABLE[] =
    "UPDATE users SET disabled = 1, updated_at = ?2 WHERE username = ?1";

static int change_run(struct vt_store_tx *tx, void *ctx)
{
    struct change *c = ctx;
    int64_t now = vt_store_tx_now(tx);
    sqlite3_stmt *st;
    if (strcmp(c->action, "add") == 0) {
        if (!(st = vt_store_tx_stmt(tx, SQL_ADD)))
            return VT_ESTORE;
        sqlite3_bind_text(st, 1, c->username, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->role, -1, SQLITE_STATIC);
        if (c->dependencia)
            sqlite3_bind_text(st, 4, c->dependencia, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        sqlite3_bind_int64(st, 5, now);
    } else if (strcmp(c->action, "passwd") == 0) {
        if (!(st = vt_store_tx_stmt(tx, SQL_PASSWD)))
            return VT_ESTORE;
        sqlite3_bind_text(st, 1, c->username, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
    } else {
        if (!(st = vt_store_tx_stmt(tx, SQL_DISABLE)))
            return VT_ESTORE;
        sqlite3_bind_text(st, 1, c->username, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
    }
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return VT_ESTORE;
    if (sqlite3_changes(sqlite3_db_handle(st)) == 0)
        return strcmp(c->action, "add") == 0 ? VT_EEXIST : VT_ENOTFOUND;
    char payload[300];
    snprintf(payload, sizeof(payload), "{\"username\":\"%s\",\"role\":\"%s\"}", c->username,
             c->role ? c->role : "");
    static const char *const events[][2] = {{"add", "usuario_creado"},
                                            {"passwd", "clave_cambiada"},
                                            {"disable", "usuario_inhabilitado"}};
    const char *ev = "usuario_cambiado";
    for (int i = 0; i < 3; i++)
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
