/* db.c - SQL of the email channel (db.h). */
#include "channels/email/db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

static int done(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : VT_ESTORE;
}

static const char SQL_MB_GET[] =
    "SELECT uidvalidity, last_uid FROM email_mailboxes WHERE name = ?1";
static const char SQL_MB_PUT[] =
    "INSERT INTO email_mailboxes (name, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, "
    "?4) ON CONFLICT (name) DO UPDATE SET last_uid = CASE WHEN uidvalidity = "
    "excluded.uidvalidity THEN max(last_uid, excluded.last_uid) ELSE excluded.last_uid END, "
    "uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at";

int vt_mail_db_mailbox_get(struct vt_store_reader *r, const char *name, int64_t *uidvalidity,
                           int64_t *last_uid)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_MB_GET);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = VT_ENOTFOUND, s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *uidvalidity = sqlite3_column_int64(st, 0);
        *last_uid = sqlite3_column_int64(st, 1);
        rc = 0;
    } else if (s != SQLITE_DONE) {
        rc = VT_ESTORE;
    }
    sqlite3_reset(st);
    return rc;
}

int vt_mail_db_mailbox_put(struct vt_store_tx *tx, const char *name, int64_t uidvalidity,
                           int64_t last_uid)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MB_PUT);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uidvalidity);
    sqlite3_bind_int64(st, 3, last_uid);
    sqlite3_bind_int64(st, 4, vt_store_tx_now(tx));
    return done(st);
}

/* Two lookups, one per index: an OR would make SQLite read every message the
 * mailbox ever took in, on the writer thread (measured by bench/email). */
static const char SQL_TAKEN[] =
    "SELECT 1 FROM email_messages WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3 "
    "UNION ALL SELECT 1 FROM email_messages WHERE mailbox = ?1 AND dedup_key = ?4 LIMIT 1";
static const char SQL_MSG_ADD[] =
    "INSERT INTO email_messages (mailbox, uidvalidity, uid, dedup_key, outcome, item_id, at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

int vt_mail_db_taken(struct vt_store_tx *tx, const char *mailbox, int64_t uidvalidity, int64_t uid,
                     const char *dedup_key, bool *taken)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_TAKEN);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uidvalidity);
    sqlite3_bind_int64(st, 3, uid);
    sqlite3_bind_text(st, 4, dedup_key, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    *taken = s == SQLITE_ROW;
    sqlite3_reset(st);
    return (s == SQLITE_ROW || s == SQLITE_DONE) ? 0 : VT_ESTORE;
}

int vt_mail_db_message_add(struct vt_store_tx *tx, const char *mailbox, int64_t uidvalidity,
                           int64_t uid, const char *dedup_key, const char *outcome, int64_t item_id)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MSG_ADD);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uidvalidity);
    sqlite3_bind_int64(st, 3, uid);
    sqlite3_bind_text(st, 4, dedup_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, outcome, -1, SQLITE_STATIC);
    if (item_id)
        sqlite3_bind_int64(st, 6, item_id);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, vt_store_tx_now(tx));
    return done(st);
}

static const char SQL_THREAD_GET[] = "SELECT item_id FROM email_threads WHERE message_id = ?1";
static const char SQL_THREAD_ADD[] =
    "INSERT INTO email_threads (message_id, item_id, ours) VALUES (?1, ?2, ?3) ON CONFLICT "
    "(message_id) DO NOTHING";

int64_t vt_mail_db_thread_item(struct vt_store_tx *tx, const char *message_id)
{
    if (!message_id || !*message_id)
        return 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_THREAD_GET);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return id;
}

int vt_mail_db_thread_add(struct vt_store_tx *tx, const char *message_id, int64_t item_id,
                          bool ours)
{
    if (!message_id || !*message_id)
        return 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_THREAD_ADD);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, item_id);
    sqlite3_bind_int(st, 3, ours);
    return done(st);
}

static const char SQL_ITEM_OF[] =
    "SELECT i.id FROM items i JOIN requesters r ON r.item_id = i.id WHERE i.radicado = ?1 AND "
    "lower(r.email) = lower(?2)";

int64_t vt_mail_db_item_of(struct vt_store_tx *tx, const char *radicado, const char *email)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_ITEM_OF);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, radicado, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return id;
}

static const char SQL_RADICADO[] = "SELECT coalesce(radicado, '') FROM items WHERE id = ?1";

void vt_mail_db_radicado(struct vt_store_reader *r, int64_t item_id, char *out, size_t outlen)
{
    out[0] = '\0';
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_RADICADO);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, item_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
}

/* dedup_key is "mid:" and the Message-ID (poller.c), or a hash when the
 * message had none. */
static const char SQL_LAST_CITIZEN[] =
    "SELECT substr(dedup_key, 5) FROM email_messages WHERE item_id = ?1 "
    "AND outcome IN ('filed', 'threaded') AND dedup_key LIKE 'mid:%' "
    "ORDER BY at DESC, id DESC LIMIT 1";

void vt_mail_db_last_citizen_message(struct vt_store_tx *tx, int64_t item_id, char *out,
                                     size_t outlen)
{
    out[0] = '\0';
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_LAST_CITIZEN);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, item_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
}
