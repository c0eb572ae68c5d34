/* db.h - the WhatsApp channel's tables: conversations, inbound messages and
 * media (migrations/0002_outbox_whatsapp.sql).
 *
 * Owns: every line of SQL on wa_conversations, wa_messages and wa_media, and
 * the channel's read queries on items (a sender's own items, tracking).
 * Must not: decide anything; the conversation (conversation.c and its flows)
 * and media.c do.
 *
 * Functions taking a struct vt_store_tx run on the writer thread inside a
 * job; those taking a struct vt_store_reader on the reader's thread.
 */
#ifndef VT_WA_DB_H
#define VT_WA_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channels/whatsapp/parse.h"
#include "store/store.h"

struct vt_wa_conv {
    bool exists;
    char state[32];
    char *draft; /* JSON object text, owned; "{}" when new */
    int64_t last_inbound_at;
};

int vt_wa_db_conv_get(struct vt_store_tx *tx, const char *wa_id, struct vt_wa_conv *out);
int vt_wa_db_conv_put(struct vt_store_tx *tx, const char *wa_id, const char *state,
                      const char *draft, int64_t last_inbound_at);
void vt_wa_conv_cleanup(struct vt_wa_conv *c);

/* Records an inbound message (any type) with its summary JSON. */
int vt_wa_db_message_add(struct vt_store_tx *tx, const struct vt_wa_event *ev, const char *summary);

/* Queues a media message for the media worker. */
int vt_wa_db_media_add(struct vt_store_tx *tx, const struct vt_wa_event *ev);
/* Media of the sender not yet filed with an item (pending or stored). */
int vt_wa_db_media_unfiled(struct vt_store_tx *tx, const char *wa_id, int *n);
/* Drops the sender's unfiled media (a cancelled draft). */
int vt_wa_db_media_discard(struct vt_store_tx *tx, const char *wa_id);
/* Gives the sender's unfiled media (or only wamid's, when not NULL) to item_id. */
int vt_wa_db_media_link(struct vt_store_tx *tx, const char *wa_id, const char *wamid,
                        int64_t item_id);
/* Links every stored, not yet attached media file of item_id as an attachment. */
int vt_wa_db_media_attach_ready(struct vt_store_tx *tx, int64_t item_id, int *attached);

/* A citizen's item, as the conversation shows it. */
struct vt_wa_item {
    int64_t id;
    char radicado[48], type[24], status[24], due_date[11];
    int64_t received_at;
};
/* The sender's open items (requester phone "+" wa_id), newest first. */
int vt_wa_db_open_items(struct vt_store_tx *tx, const char *phone, struct vt_wa_item *out,
                        size_t cap, size_t *n);
/* An item of the sender by radicado (any status). VT_ENOTFOUND if not theirs. */
int vt_wa_db_own_item(struct vt_store_tx *tx, const char *phone, const char *radicado,
                      struct vt_wa_item *out);
/* An item by id, when phone is NULL or its requester's phone; VT_ENOTFOUND
 * otherwise. */
int vt_wa_db_item_by_id(struct vt_store_tx *tx, int64_t item_id, const char *phone,
                        struct vt_wa_item *out);
/* An item by radicado and tracking-code hash; VT_ENOTFOUND alike for both. */
int vt_wa_db_track(struct vt_store_tx *tx, const char *radicado, const unsigned char hash[32],
                   struct vt_wa_item *out);

/* The sender's last inbound message time (Unix ms), 0 when unknown. */
int64_t vt_wa_db_last_inbound(struct vt_store_reader *r, const char *wa_id);

/* ---- the media worker ---- */

struct vt_wa_media_job {
    int64_t id, item_id;
    char wa_id[32], media_id[VT_WA_ID_MAX], declared_type[128], filename[256];
    int attempts;
};
/* Claims up to cap due media rows (status stays pending, attempts + 1). */
int vt_wa_db_media_claim(struct vt_store_tx *tx, int64_t now, struct vt_wa_media_job *out,
                         size_t cap, size_t *n);
/* Records a fetched file (stored), or a refusal/failure with its reason. */
int vt_wa_db_media_stored(struct vt_store_tx *tx, int64_t id, const char *sha256, int64_t size,
                          const char *content_type);
int vt_wa_db_media_failed(struct vt_store_tx *tx, int64_t id, const char *status, const char *error,
                          int64_t retry_at);
/* The media row's current item (it may have been filed meanwhile), 0 if none. */
int64_t vt_wa_db_media_item(struct vt_store_tx *tx, int64_t id);
/* Ms until the next pending media row is due (capped at cap_ms). */
int64_t vt_wa_db_media_next_due(struct vt_store_reader *r, int64_t now, int64_t cap_ms);

/* Writer thread: the entity asked the citizen something about an item (to
 * complete it): a conversation resting at the menu goes back to idle, so the
 * citizen's next message is offered to that item. A flow in progress (filing
 * a PQRSD, answering a survey) is left alone, and a pending survey
 * invitation (draft.survey) stays. 0 or VT_E*. */
int vt_wa_db_conv_expect_reply(struct vt_store_tx *tx, const char *wa_id);

#endif
