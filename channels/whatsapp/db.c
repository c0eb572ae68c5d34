/* db.c - SQL of the WhatsApp channel (db.h), through the database
 * interface (store/db.h), in the SQL that SQLite and PostgreSQL share. Every
 * statement is a static string, prepared once per connection. */
#include "channels/whatsapp/db.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/db.h"

/* Items a citizen may still add to (domain/casework.h has the statuses): one
 * waiting for completion above all. */
#define OPEN_STATUSES "('radicado', 'en_tramite', 'pendiente_completar')"

static const char SQL_CONV_GET[] =
    "SELECT state, draft, last_inbound_at FROM wa_conversations WHERE wa_id = ?1";
static const char SQL_CONV_PUT[] =
    "INSERT INTO wa_conversations (wa_id, state, draft, last_inbound_at, updated_at) VALUES (?1, "
    "?2, ?3, ?4, ?5) ON CONFLICT (wa_id) DO UPDATE SET state = excluded.state, draft = "
    "excluded.draft, last_inbound_at = CASE WHEN wa_conversations.last_inbound_at > "
    "excluded.last_inbound_at THEN wa_conversations.last_inbound_at ELSE "
    "excluded.last_inbound_at END, updated_at = excluded.updated_at";

int vt_wa_db_conv_get(struct vt_store_tx *tx, const char *wa_id, struct vt_wa_conv *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_CONV_GET);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, wa_id);
    int r = vt_db_step(st);
    if (r == VT_DB_ROW) {
        out->exists = true;
        vt_db_col_copy(st, 0, out->state, sizeof(out->state));
        out->draft = strdup(vt_db_col_str(st, 1));
        out->last_inbound_at = vt_db_col_int(st, 2);
    } else {
        snprintf(out->state, sizeof(out->state), "new");
        out->draft = strdup("{}");
    }
    vt_db_reset(st);
    if (r != VT_DB_ROW && r != VT_DB_DONE)
        return VT_ESTORE;
    return out->draft ? 0 : VT_ENOMEM;
}

int vt_wa_db_conv_put(struct vt_store_tx *tx, const char *wa_id, const char *state,
                      const char *draft, int64_t last_inbound_at)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_CONV_PUT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, wa_id);
    vt_db_bind_text(st, 2, state);
    vt_db_bind_text(st, 3, draft);
    vt_db_bind_int(st, 4, last_inbound_at);
    vt_db_bind_int(st, 5, vt_store_tx_now(tx));
    return vt_db_run(st);
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
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MSG_ADD);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, ev->id);
    vt_db_bind_text(st, 2, ev->from);
    vt_db_bind_text(st, 3, ev->type_name[0] ? ev->type_name : "unknown");
    vt_db_bind_text(st, 4, summary);
    vt_db_bind_int(st, 5, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_MEDIA_ADD[] =
    "INSERT INTO wa_media (wamid, wa_id, media_id, declared_type, filename, next_attempt_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (wamid) DO NOTHING";

int vt_wa_db_media_add(struct vt_store_tx *tx, const struct vt_wa_event *ev)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_ADD);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, ev->id);
    vt_db_bind_text(st, 2, ev->from);
    vt_db_bind_text(st, 3, ev->media_id);
    vt_db_bind_text(st, 4, ev->mime_type[0] ? ev->mime_type : NULL);
    vt_db_bind_text(st, 5, ev->filename[0] ? ev->filename : NULL);
    vt_db_bind_int(st, 6, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_MEDIA_UNFILED[] =
    "SELECT count(*) FROM wa_media WHERE wa_id = ?1 AND item_id IS NULL AND status IN "
    "('pending', 'stored')";
static const char SQL_MEDIA_DISCARD[] =
    "UPDATE wa_media SET status = 'discarded' WHERE wa_id = ?1 AND item_id IS NULL AND status IN "
    "('pending', 'stored')";
static const char SQL_MEDIA_LINK_ALL[] =
    "UPDATE wa_media SET item_id = ?3 WHERE wa_id = ?1 AND item_id IS NULL AND status IN "
    "('pending', 'stored') AND (CAST(?2 AS TEXT) IS NULL OR wamid = ?2)";

int vt_wa_db_media_unfiled(struct vt_store_tx *tx, const char *wa_id, int *n)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_UNFILED);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, wa_id);
    *n = vt_db_step(st) == VT_DB_ROW ? (int)vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    return 0;
}

int vt_wa_db_media_discard(struct vt_store_tx *tx, const char *wa_id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_DISCARD);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, wa_id);
    return vt_db_run(st);
}

int vt_wa_db_media_link(struct vt_store_tx *tx, const char *wa_id, const char *wamid,
                        int64_t item_id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_LINK_ALL);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, wa_id);
    vt_db_bind_text(st, 2, wamid && *wamid ? wamid : NULL);
    vt_db_bind_int(st, 3, item_id);
    return vt_db_run(st);
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
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_READY);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    while (n < 16 && vt_db_step(st) == VT_DB_ROW) {
        r[n].id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, r[n].sha, sizeof(r[n].sha));
        r[n].size = vt_db_col_int(st, 2);
        vt_db_col_copy(st, 3, r[n].type, sizeof(r[n].type));
        vt_db_col_copy(st, 4, r[n].name, sizeof(r[n].name));
        n++;
    }
    vt_db_reset(st);
    for (int i = 0; i < n && rc == 0; i++) {
        const char *name = r[i].name[0] ? r[i].name : "whatsapp";
        rc = vt_store_tx_attachment_add(tx, item_id, r[i].sha, r[i].size, r[i].type, name);
        if (rc == 0 && !(st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_ATTACHED)))
            rc = VT_ESTORE;
        if (rc == 0) {
            vt_db_bind_int(st, 1, r[i].id);
            rc = vt_db_run(st);
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
    "i.radicado IS NOT NULL AND (CAST(?2 AS TEXT) IS NULL OR r.phone = ?2)";
static const char SQL_TRACK[] =
    "SELECT id, radicado, coalesce(type, kind), status, coalesce(due_date, ''), received_at, "
    "tracking_hash FROM items WHERE radicado = ?1";

static void item_row(struct vt_db_stmt *st, struct vt_wa_item *it)
{
    memset(it, 0, sizeof(*it));
    it->id = vt_db_col_int(st, 0);
    vt_db_col_copy(st, 1, it->radicado, sizeof(it->radicado));
    vt_db_col_copy(st, 2, it->type, sizeof(it->type));
    vt_db_col_copy(st, 3, it->status, sizeof(it->status));
    vt_db_col_copy(st, 4, it->due_date, sizeof(it->due_date));
    it->received_at = vt_db_col_int(st, 5);
}

int vt_wa_db_open_items(struct vt_store_tx *tx, const char *phone, struct vt_wa_item *out,
                        size_t cap, size_t *n)
{
    *n = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_OPEN_ITEMS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, phone);
    vt_db_bind_int(st, 2, (int64_t)cap);
    while (*n < cap && vt_db_step(st) == VT_DB_ROW)
        item_row(st, &out[(*n)++]);
    vt_db_reset(st);
    return 0;
}

int vt_wa_db_own_item(struct vt_store_tx *tx, const char *phone, const char *radicado,
                      struct vt_wa_item *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_OWN_ITEM);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, phone);
    vt_db_bind_text(st, 2, radicado);
    int rc = VT_ENOTFOUND;
    if (vt_db_step(st) == VT_DB_ROW) {
        item_row(st, out);
        rc = 0;
    }
    vt_db_reset(st);
    return rc;
}

int vt_wa_db_item_by_id(struct vt_store_tx *tx, int64_t item_id, const char *phone,
                        struct vt_wa_item *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_ITEM_BY_ID);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    vt_db_bind_text(st, 2, phone && *phone ? phone : NULL);
    int r = vt_db_step(st), rc = r == VT_DB_ROW ? 0 : r == VT_DB_DONE ? VT_ENOTFOUND : VT_ESTORE;
    if (r == VT_DB_ROW)
        item_row(st, out);
    vt_db_reset(st);
    return rc;
}

int vt_wa_db_track(struct vt_store_tx *tx, const char *radicado, const unsigned char hash[32],
                   struct vt_wa_item *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_TRACK);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, radicado);
    unsigned char stored[32] = {0};
    bool have = false;
    if (vt_db_step(st) == VT_DB_ROW) {
        item_row(st, out);
        size_t len = 0;
        const void *blob = vt_db_col_blob(st, 6, &len);
        have = blob && len == 32;
        if (have)
            memcpy(stored, blob, 32);
    }
    vt_db_reset(st);
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
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_LAST_INBOUND);
    if (!st)
        return 0;
    vt_db_bind_text(st, 1, wa_id);
    int64_t t = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
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
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_DUE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, now);
    vt_db_bind_int(st, 2, (int64_t)cap);
    while (*n < cap && vt_db_step(st) == VT_DB_ROW) {
        struct vt_wa_media_job *j = &out[(*n)++];
        j->id = vt_db_col_int(st, 0);
        j->item_id = vt_db_col_int(st, 1);
        vt_db_col_copy(st, 2, j->wa_id, sizeof(j->wa_id));
        vt_db_col_copy(st, 3, j->media_id, sizeof(j->media_id));
        vt_db_col_copy(st, 4, j->declared_type, sizeof(j->declared_type));
        vt_db_col_copy(st, 5, j->filename, sizeof(j->filename));
        j->attempts = (int)vt_db_col_int(st, 6) + 1;
    }
    vt_db_reset(st);
    for (size_t i = 0; i < *n; i++) {
        if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_TRY)))
            return VT_ESTORE;
        vt_db_bind_int(st, 1, out[i].id);
        if (vt_db_run(st))
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
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_STORED);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, sha256);
    vt_db_bind_int(st, 3, size);
    vt_db_bind_text(st, 4, content_type);
    return vt_db_run(st);
}

int vt_wa_db_media_failed(struct vt_store_tx *tx, int64_t id, const char *status, const char *error,
                          int64_t retry_at)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_FAILED);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, status);
    vt_db_bind_text(st, 3, error);
    vt_db_bind_int(st, 4, retry_at);
    return vt_db_run(st);
}

int64_t vt_wa_db_media_item(struct vt_store_tx *tx, int64_t id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MEDIA_ITEM);
    if (!st)
        return 0;
    vt_db_bind_int(st, 1, id);
    int64_t item = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    return item;
}

static const char SQL_MEDIA_NEXT[] =
    "SELECT min(next_attempt_at) FROM wa_media WHERE status = 'pending'";

int64_t vt_wa_db_media_next_due(struct vt_store_reader *r, int64_t now, int64_t cap_ms)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_MEDIA_NEXT);
    int64_t in = cap_ms;
    if (!st)
        return in;
    if (vt_db_step(st) == VT_DB_ROW && !vt_db_col_null(st, 0)) {
        int64_t d = vt_db_col_int(st, 0) - now;
        if (d < in)
            in = d < 0 ? 0 : d;
    }
    vt_db_reset(st);
    return in;
}

/* A conversation resting at the menu: nothing to interrupt. */
static const char SQL_CONV_RESTING[] =
    "SELECT draft FROM wa_conversations WHERE wa_id = ?1 AND state IN ('new', 'menu', 'status', "
    "'offer')";
static const char SQL_CONV_IDLE[] =
    "UPDATE wa_conversations SET state = 'idle', draft = ?2, updated_at = ?3 WHERE wa_id = ?1";

int vt_wa_db_conv_expect_reply(struct vt_store_tx *tx, const char *wa_id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_CONV_RESTING);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, wa_id);
    int r = vt_db_step(st);
    if (r != VT_DB_ROW) {
        vt_db_reset(st);
        return r == VT_DB_DONE ? 0 : VT_ESTORE;
    }
    /* The draft goes but for its survey mark (vt_wa__clear_draft keeps it
     * likewise); read in C, since each database has its own JSON functions. */
    cJSON *old = cJSON_Parse(vt_db_col_str(st, 0));
    vt_db_reset(st);
    cJSON *survey = cJSON_IsObject(old) ? cJSON_GetObjectItemCaseSensitive(old, "survey") : NULL;
    char *draft = NULL;
    if (cJSON_IsObject(survey)) {
        cJSON *d = cJSON_CreateObject();
        if (d && cJSON_AddItemToObject(d, "survey", cJSON_DetachItemViaPointer(old, survey)))
            draft = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        if (!draft) {
            cJSON_Delete(old);
            return VT_ENOMEM;
        }
    }
    cJSON_Delete(old);
    int rc = VT_ESTORE;
    if ((st = vt_db_prepare(vt_store_tx_db(tx), SQL_CONV_IDLE))) {
        vt_db_bind_text(st, 1, wa_id);
        vt_db_bind_text(st, 2, draft ? draft : "{}");
        vt_db_bind_int(st, 3, vt_store_tx_now(tx));
        rc = vt_db_run(st);
    }
    free(draft);
    return rc;
}
