/* db.c - SQL of the WhatsApp channel (db.h). Every statement is a static
 * string run through the transaction's or reader's statement cache. */
#include "channels/whatsapp/db.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Items a citizen may still add to (src/casework.h has the statuses): one
 * waiting for completion above all. */
#define OPEN_STATUSES "('radicado', 'en_tramite', 'pendiente_completar')"

static int done(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : VT_ESTORE;
}

static void text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void col(char *dst, size_t n, sqlite3_stmt *st, int c)
{
    const unsigned char *t = sqlite3_column_text(st, c);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static const char SQL_CONV_GET[] =
    "SELECT state, draft, last_inbound_at FROM wa_conversations WHERE wa_id = ?1";
static const char SQL_CONV_PUT[] =
    "INSERT INTO wa_conversations (wa_id, state, draft, last_inbound_at, updated_at) VALUES (?1, "
    "?2, ?3, ?4, ?5) ON CONFLICT (wa_id) DO UPDATE SET state = excluded.state, draft = "
    "excluded.draft, last_inbound_at = max(last_inbound_at, excluded.last_inbound_at), "
    "updated_at = excluded.updated_at";

int vt_wa_db_conv_get(struct vt_store_tx *tx, const char *wa_id, struct vt_wa_conv *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_CONV_GET);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, wa_id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->exists = true;
        col(out->state, sizeof(out->state), st, 0);
        out->draft = strdup((const char *)sqlite3_column_text(st, 1));
        out->last_inbound_at = sqlite3_column_int64(st, 2);
    } else {
        snprintf(out->state, sizeof(out->state), "new");
        out->draft = strdup("{}");
    }
    sqlite3_reset(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return VT_ESTORE;
    return out->draft ? 0 : VT_ENOMEM;
}

int vt_wa_db_conv_put(struct vt_store_tx *tx, const char *wa_id, const char *state,
                      const char *draft, int64_t last_inbound_at)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_CONV_PUT);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, wa_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, draft, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, last_inbound_at);
    sqlite3_bind_int64(st, 5, vt_store_tx_now(tx));
    return done(st);
}

void vt_wa_conv_cleanup(struct vt_wa_conv *c)
{
    if (!c)
        return;
    free(c->draft);
    c->draft = NULL;
}

static const char SQL_MSG_ADD[] = "INSERT INTO wa_messages (wamid, wa_id, type, summary, at) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5)";

int vt_wa_db_message_add(struct vt_store_tx *tx, const struct vt_wa_event *ev, const char *summary)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MSG_ADD);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ev->type_name[0] ? ev->type_name : "unknown", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, summary, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, vt_store_tx_now(tx));
    return done(st);
}

static const char SQL_MEDIA_ADD[] =
    "INSERT INTO wa_media (wamid, wa_id, media_id, declared_type, filename, next_attempt_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (wamid) DO NOTHING";

int vt_wa_db_media_add(struct vt_store_tx *tx, const struct vt_wa_event *ev)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_ADD);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ev->media_id, -1, SQLITE_STATIC);
    text_or_null(st, 4, ev->mime_type);
    text_or_null(st, 5, ev->filename);
    sqlite3_bind_int64(st, 6, vt_store_tx_now(tx));
    return done(st);
}

static const char SQL_MEDIA_UNFILED[] =
    "SELECT count(*) FROM wa_media WHERE wa_id = ?1 AND item_id IS NULL AND status IN "
    "('pending', 'stored')";
static const char SQL_MEDIA_DISCARD[] =
    "UPDATE wa_media SET status = 'discarded' WHERE wa_id = ?1 AND item_id IS NULL AND status IN "
    "('pending', 'stored')";
static const char SQL_MEDIA_LINK_ALL[] =
    "UPDATE wa_media SET item_id = ?3 WHERE wa_id = ?1 AND item_id IS NULL AND status IN "
    "('pending', 'stored') AND (?2 IS NULL OR wamid = ?2)";

int vt_wa_db_media_unfiled(struct vt_store_tx *tx, const char *wa_id, int *n)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_UNFILED);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, wa_id, -1, SQLITE_STATIC);
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return 0;
}

int vt_wa_db_media_discard(struct vt_store_tx *tx, const char *wa_id)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_DISCARD);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, wa_id, -1, SQLITE_STATIC);
    return done(st);
}

int vt_wa_db_media_link(struct vt_store_tx *tx, const char *wa_id, const char *wamid,
                        int64_t item_id)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_LINK_ALL);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, wa_id, -1, SQLITE_STATIC);
    text_or_null(st, 2, wamid);
    sqlite3_bind_int64(st, 3, item_id);
    return done(st);
}

static const char SQL_MEDIA_READY[] =
    "SELECT id, sha256, size, content_type, coalesce(filename, '') FROM wa_media WHERE item_id = "
    "?1 AND status = 'stored' AND attached = 0 ORDER BY id";
static const char SQL_MEDIA_ATTACHED[] = "UPDATE wa_media SET attached = 1 WHERE id = ?1";

int vt_wa_db_media_attach_ready(struct vt_store_tx *tx, int64_t item_id, int *attached)
{
    struct ready {
        int64_t id, size;
        char sha[65], type[128], name[256];
    } r[16];
    int n = 0, rc = 0;
    *attached = 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_READY);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, item_id);
    while (n < 16 && sqlite3_step(st) == SQLITE_ROW) {
        r[n].id = sqlite3_column_int64(st, 0);
        col(r[n].sha, sizeof(r[n].sha), st, 1);
        r[n].size = sqlite3_column_int64(st, 2);
        col(r[n].type, sizeof(r[n].type), st, 3);
        col(r[n].name, sizeof(r[n].name), st, 4);
        n++;
    }
    sqlite3_reset(st);
    for (int i = 0; i < n && rc == 0; i++) {
        const char *name = r[i].name[0] ? r[i].name : "whatsapp";
        rc = vt_store_tx_attachment_add(tx, item_id, r[i].sha, r[i].size, r[i].type, name);
        if (rc == 0 && !(st = vt_store_tx_stmt(tx, SQL_MEDIA_ATTACHED)))
            rc = VT_ESTORE;
        if (rc == 0) {
            sqlite3_bind_int64(st, 1, r[i].id);
            rc = done(st);
        }
        if (rc == 0) {
            char payload[400];
            snprintf(payload, sizeof(payload),
                     "{\"sha256\":\"%s\",\"size\":%lld,\"content_type\":\"%.100s\"}", r[i].sha,
                     (long long)r[i].size, r[i].type);
            rc = vt_store_tx_event(tx, item_id, "ciudadano:whatsapp", "adjunto_agregado", payload,
                                   0);
        }
        if (rc == 0)
            (*attached)++;
    }
    return rc;
}

static const char SQL_OPEN_ITEMS[] =
    "SELECT i.id, i.radicado, coalesce(i.type, i.kind), i.status, coalesce(i.due_date, ''), "
    "i.received_at FROM items i JOIN requesters r ON r.item_id = i.id WHERE r.phone = ?1 AND "
    "i.radicado IS NOT NULL AND i.status IN " OPEN_STATUSES " ORDER BY i.id DESC LIMIT ?2";
static const char SQL_OWN_ITEM[] =
    "SELECT i.id, i.radicado, coalesce(i.type, i.kind), i.status, coalesce(i.due_date, ''), "
    "i.received_at FROM items i JOIN requesters r ON r.item_id = i.id WHERE r.phone = ?1 AND "
    "i.radicado = ?2";
static const char SQL_ITEM_BY_ID[] =
    "SELECT i.id, i.radicado, coalesce(i.type, i.kind), i.status, coalesce(i.due_date, ''), "
    "i.received_at FROM items i JOIN requesters r ON r.item_id = i.id WHERE i.id = ?1 AND "
    "i.radicado IS NOT NULL AND (?2 IS NULL OR r.phone = ?2)";
static const char SQL_TRACK[] =
    "SELECT id, radicado, coalesce(type, kind), status, coalesce(due_date, ''), received_at, "
    "tracking_hash FROM items WHERE radicado = ?1";

static void item_row(sqlite3_stmt *st, struct vt_wa_item *it)
{
    memset(it, 0, sizeof(*it));
    it->id = sqlite3_column_int64(st, 0);
    col(it->radicado, sizeof(it->radicado), st, 1);
    col(it->type, sizeof(it->type), st, 2);
    col(it->status, sizeof(it->status), st, 3);
    col(it->due_date, sizeof(it->due_date), st, 4);
    it->received_at = sqlite3_column_int64(st, 5);
}

int vt_wa_db_open_items(struct vt_store_tx *tx, const char *phone, struct vt_wa_item *out,
                        size_t cap, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_OPEN_ITEMS);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    while (*n < cap && sqlite3_step(st) == SQLITE_ROW)
        item_row(st, &out[(*n)++]);
    sqlite3_reset(st);
    return 0;
}

int vt_wa_db_own_item(struct vt_store_tx *tx, const char *phone, const char *radicado,
                      struct vt_wa_item *out)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_OWN_ITEM);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, radicado, -1, SQLITE_STATIC);
    int rc = VT_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        item_row(st, out);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

int vt_wa_db_item_by_id(struct vt_store_tx *tx, int64_t item_id, const char *phone,
                        struct vt_wa_item *out)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_ITEM_BY_ID);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, item_id);
    text_or_null(st, 2, phone);
    int r = sqlite3_step(st), rc = r == SQLITE_ROW    ? 0
                                   : r == SQLITE_DONE ? VT_ENOTFOUND
                                                      : VT_ESTORE;
    if (r == SQLITE_ROW)
        item_row(st, out);
    sqlite3_reset(st);
    return rc;
}

int vt_wa_db_track(struct vt_store_tx *tx, const char *radicado, const unsigned char hash[32],
                   struct vt_wa_item *out)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_TRACK);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, radicado, -1, SQLITE_STATIC);
    unsigned char stored[32] = {0};
    bool have = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        item_row(st, out);
        have = sqlite3_column_bytes(st, 6) == 32;
        if (have)
            memcpy(stored, sqlite3_column_blob(st, 6), 32);
    }
    sqlite3_reset(st);
    /* Compared even for an unknown radicado, so timing says nothing. */
    bool match = sodium_memcmp(stored, hash, 32) == 0;
    if (!have || !match) {
        memset(out, 0, sizeof(*out));
        return VT_ENOTFOUND;
    }
    return 0;
}

static const char SQL_LAST_INBOUND[] =
    "SELECT last_inbound_at FROM wa_conversations WHERE wa_id = ?1";

int64_t vt_wa_db_last_inbound(struct vt_store_reader *r, const char *wa_id)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_LAST_INBOUND);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, wa_id, -1, SQLITE_STATIC);
    int64_t t = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return t;
}

static const char SQL_MEDIA_DUE[] =
    "SELECT id, coalesce(item_id, 0), wa_id, media_id, coalesce(declared_type, ''), "
    "coalesce(filename, ''), attempts FROM wa_media WHERE status = 'pending' AND "
    "next_attempt_at <= ?1 ORDER BY id LIMIT ?2";
static const char SQL_MEDIA_TRY[] = "UPDATE wa_media SET attempts = attempts + 1 WHERE id = ?1";

int vt_wa_db_media_claim(struct vt_store_tx *tx, int64_t now, struct vt_wa_media_job *out,
                         size_t cap, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_DUE);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    while (*n < cap && sqlite3_step(st) == SQLITE_ROW) {
        struct vt_wa_media_job *j = &out[(*n)++];
        j->id = sqlite3_column_int64(st, 0);
        j->item_id = sqlite3_column_int64(st, 1);
        col(j->wa_id, sizeof(j->wa_id), st, 2);
        col(j->media_id, sizeof(j->media_id), st, 3);
        col(j->declared_type, sizeof(j->declared_type), st, 4);
        col(j->filename, sizeof(j->filename), st, 5);
        j->attempts = sqlite3_column_int(st, 6) + 1;
    }
    sqlite3_reset(st);
    for (size_t i = 0; i < *n; i++) {
        if (!(st = vt_store_tx_stmt(tx, SQL_MEDIA_TRY)))
            return VT_ESTORE;
        sqlite3_bind_int64(st, 1, out[i].id);
        if (done(st))
            return VT_ESTORE;
    }
    return 0;
}

static const char SQL_MEDIA_STORED[] =
    "UPDATE wa_media SET status = 'stored', sha256 = ?2, size = ?3, content_type = ?4, error = "
    "NULL WHERE id = ?1 AND status = 'pending'";
static const char SQL_MEDIA_FAILED[] =
    "UPDATE wa_media SET status = ?2, error = ?3, next_attempt_at = ?4 WHERE id = ?1 AND status "
    "= 'pending'";
static const char SQL_MEDIA_ITEM[] = "SELECT coalesce(item_id, 0) FROM wa_media WHERE id = ?1";

int vt_wa_db_media_stored(struct vt_store_tx *tx, int64_t id, const char *sha256, int64_t size,
                          const char *content_type)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_STORED);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_text(st, 4, content_type, -1, SQLITE_STATIC);
    return done(st);
}

int vt_wa_db_media_failed(struct vt_store_tx *tx, int64_t id, const char *status, const char *error,
                          int64_t retry_at)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_FAILED);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, retry_at);
    return done(st);
}

int64_t vt_wa_db_media_item(struct vt_store_tx *tx, int64_t id)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MEDIA_ITEM);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, id);
    int64_t item = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return item;
}

static const char SQL_MEDIA_NEXT[] =
    "SELECT min(next_attempt_at) FROM wa_media WHERE status = 'pending'";

int64_t vt_wa_db_media_next_due(struct vt_store_reader *r, int64_t now, int64_t cap_ms)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_MEDIA_NEXT);
    int64_t in = cap_ms;
    if (!st)
        return in;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t d = sqlite3_column_int64(st, 0) - now;
        if (d < in)
            in = d < 0 ? 0 : d;
    }
    sqlite3_reset(st);
    return in;
}

/* The draft goes but for its survey mark (conversation.c keeps it likewise). */
static const char SQL_EXPECT_REPLY[] =
    "UPDATE wa_conversations SET state = 'idle', draft = CASE WHEN json_valid(draft) AND "
    "json_type(draft, '$.survey') = 'object' THEN json_object('survey', json_extract(draft, "
    "'$.survey')) ELSE '{}' END, updated_at = ?2 "
    "WHERE wa_id = ?1 AND state IN ('new', 'menu', 'status', 'offer')";

int vt_wa_db_conv_expect_reply(struct vt_store_tx *tx, const char *wa_id)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_EXPECT_REPLY);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, wa_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, vt_store_tx_now(tx));
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : VT_ESTORE;
}
