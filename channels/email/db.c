/* db.c - SQL of the email channel (db.h), through the database interface
 * (store/db.h), in the SQL that SQLite and PostgreSQL share. */
#include "channels/email/db.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/db.h"

static const char SQL_MB_GET[] =
    "SELECT uidvalidity, last_uid FROM email_mailboxes WHERE name = ?1";
/* The position never moves back within one UIDVALIDITY. */
static const char SQL_MB_PUT[] =
    "INSERT INTO email_mailboxes (name, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, "
    "?4) ON CONFLICT (name) DO UPDATE SET last_uid = CASE WHEN email_mailboxes.uidvalidity = "
    "excluded.uidvalidity AND email_mailboxes.last_uid > excluded.last_uid THEN "
    "email_mailboxes.last_uid ELSE excluded.last_uid END, "
    "uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at";

int vt_mail_db_mailbox_get(struct vt_store_reader *r, const char *name, int64_t *uidvalidity,
                           int64_t *last_uid)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_MB_GET);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, name);
    int rc = VT_ENOTFOUND, s = vt_db_step(st);
    if (s == VT_DB_ROW) {
        *uidvalidity = vt_db_col_int(st, 0);
        *last_uid = vt_db_col_int(st, 1);
        rc = 0;
    } else if (s != VT_DB_DONE) {
        rc = VT_ESTORE;
    }
    vt_db_reset(st);
    return rc;
}

int vt_mail_db_mailbox_put(struct vt_store_tx *tx, const char *name, int64_t uidvalidity,
                           int64_t last_uid)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MB_PUT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, name);
    vt_db_bind_int(st, 2, uidvalidity);
    vt_db_bind_int(st, 3, last_uid);
    vt_db_bind_int(st, 4, vt_store_tx_now(tx));
    return vt_db_run(st);
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
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_TAKEN);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, mailbox);
    vt_db_bind_int(st, 2, uidvalidity);
    vt_db_bind_int(st, 3, uid);
    vt_db_bind_text(st, 4, dedup_key);
    int s = vt_db_step(st);
    *taken = s == VT_DB_ROW;
    vt_db_reset(st);
    return (s == VT_DB_ROW || s == VT_DB_DONE) ? 0 : VT_ESTORE;
}

int vt_mail_db_message_add(struct vt_store_tx *tx, const char *mailbox, int64_t uidvalidity,
                           int64_t uid, const char *dedup_key, const char *outcome, int64_t item_id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MSG_ADD);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, mailbox);
    vt_db_bind_int(st, 2, uidvalidity);
    vt_db_bind_int(st, 3, uid);
    vt_db_bind_text(st, 4, dedup_key);
    vt_db_bind_text(st, 5, outcome);
    if (item_id)
        vt_db_bind_int(st, 6, item_id);
    else
        vt_db_bind_null(st, 6);
    vt_db_bind_int(st, 7, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_THREAD_GET[] = "SELECT item_id FROM email_threads WHERE message_id = ?1";
static const char SQL_THREAD_ADD[] =
    "INSERT INTO email_threads (message_id, item_id, ours) VALUES (?1, ?2, ?3) ON CONFLICT "
    "(message_id) DO NOTHING";

int64_t vt_mail_db_thread_item(struct vt_store_tx *tx, const char *message_id)
{
    if (!message_id || !*message_id)
        return 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_THREAD_GET);
    if (!st)
        return 0;
    vt_db_bind_text(st, 1, message_id);
    int64_t id = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    return id;
}

int vt_mail_db_thread_add(struct vt_store_tx *tx, const char *message_id, int64_t item_id,
                          bool ours)
{
    if (!message_id || !*message_id)
        return 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_THREAD_ADD);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, message_id);
    vt_db_bind_int(st, 2, item_id);
    vt_db_bind_int(st, 3, ours);
    return vt_db_run(st);
}

static const char SQL_ITEM_OF[] =
    "SELECT i.id FROM items i JOIN requesters r ON r.item_id = i.id WHERE i.radicado = ?1 AND "
    "lower(r.email) = lower(?2)";

int64_t vt_mail_db_item_of(struct vt_store_tx *tx, const char *radicado, const char *email)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_ITEM_OF);
    if (!st)
        return 0;
    vt_db_bind_text(st, 1, radicado);
    vt_db_bind_text(st, 2, email);
    int64_t id = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    return id;
}

static const char SQL_RADICADO[] = "SELECT coalesce(radicado, '') FROM items WHERE id = ?1";

void vt_mail_db_radicado(struct vt_store_reader *r, int64_t item_id, char *out, size_t outlen)
{
    out[0] = '\0';
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_RADICADO);
    if (!st)
        return;
    vt_db_bind_int(st, 1, item_id);
    if (vt_db_step(st) == VT_DB_ROW)
        vt_db_col_copy(st, 0, out, outlen);
    vt_db_reset(st);
}

/* dedup_key is "mid:" and the Message-ID (poller.c), or a hash when the
 * message had none. The LIKE needs no case folding: poller.c writes the
 * prefix in lowercase. */
static const char SQL_LAST_CITIZEN[] =
    "SELECT substr(dedup_key, 5) FROM email_messages WHERE item_id = ?1 "
    "AND outcome IN ('filed', 'threaded') AND dedup_key LIKE 'mid:%' "
    "ORDER BY at DESC, id DESC LIMIT 1";

void vt_mail_db_last_citizen_message(struct vt_store_tx *tx, int64_t item_id, char *out,
                                     size_t outlen)
{
    out[0] = '\0';
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_LAST_CITIZEN);
    if (!st)
        return;
    vt_db_bind_int(st, 1, item_id);
    if (vt_db_step(st) == VT_DB_ROW)
        vt_db_col_copy(st, 0, out, outlen);
    vt_db_reset(st);
}
