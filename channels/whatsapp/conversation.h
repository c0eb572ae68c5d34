/* conversation.h - what Ventanilla says on WhatsApp: the per-number
 * conversation, applied to each webhook delivery inside one store job.
 *
 * Owns: the conversation states and their transitions, the interactive reply
 * ids (stable; channels/whatsapp/README.md lists them) and the Spanish texts.
 * Must not: touch the network. Every reply is an outbox row written in the
 * same transaction as the state change and the item that cause it.
 *
 * States (wa_conversations.state) and the function behind each transition:
 *
 *   new|idle --any message--> menu                        on_idle / show_menu
 *   idle --text, sender has an open item--> offer         offer_add
 *   offer --item.add--> idle (message added to the item)  accept_add
 *   menu --menu.pqrsd--> pqrsd.type                       on_menu
 *   menu --menu.status--> status                          show_status_menu
 *   menu --menu.hearing|menu.survey--> idle               (placeholders for later issues)
 *   pqrsd.type --type.*--> pqrsd.description              on_type
 *   pqrsd.description --text--> pqrsd.attachments         on_description
 *   pqrsd.attachments --media--> pqrsd.attachments        on_attachment
 *   pqrsd.attachments --att.done--> pqrsd.identity        ask_identity
 *   pqrsd.identity --id.named--> pqrsd.name --> pqrsd.id --> pqrsd.email --> pqrsd.consent
 *   pqrsd.identity --id.anon--> pqrsd.consent
 *   pqrsd.consent --consent.yes|consent.no--> idle        file_pqrsd (item + acknowledgement)
 *   status --status.item.R | "R CODE"--> idle             status_reply
 *   any --"menú"--> menu ; any --"cancelar"|flow.cancel--> idle (draft dropped)
 *
 * Invariants:
 *  1. A message id (wamid) is applied once: inbound_seen refuses repeats, so a
 *     re-delivered payload changes nothing and sends nothing.
 *  2. Every inbound message is recorded in wa_messages, whatever its type;
 *     reactions and unknown types never move the conversation.
 *  3. The conversation's last_inbound_at only grows: it opens the 24-hour
 *     window for free-form replies (checked by the transport at send time).
 */
#ifndef VT_WA_CONVERSATION_H
#define VT_WA_CONVERSATION_H
#include <stdbool.h>
#include <stddef.h>

#include "channels/whatsapp/parse.h"
#include "src/config.h"
#include "src/item.h"
#include "src/store.h"

struct vt_wa_apply {
    const struct vt_config *cfg;
    struct vt_server *srv; /* for casework (a reply resumes a paused item); NULL in tests */
    const struct vt_wa_batch *batch; /* borrowed */
    /* Filled by the job; items stay alive until the job is done. */
    struct vt_item **items;
    size_t n_items;
    bool media_added;
    int applied, duplicates;
};

/* The job's run callback (ctx is a struct vt_wa_apply): applies every event
 * of the batch. Returns 0 or VT_E* (the whole delivery rolls back). */
int vt_wa_apply_run(struct vt_store_tx *tx, void *ctx);
/* Frees what the job filled (items); NULL ok. */
void vt_wa_apply_cleanup(struct vt_wa_apply *a);

#endif
