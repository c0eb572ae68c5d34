/* conversation.h - what Ventanilla says on WhatsApp: the per-number
 * conversation, applied to each webhook delivery inside one store job.
 *
 * Owns: the conversation states and their transitions, the interactive reply
 * ids (stable; channels/whatsapp/README.md lists them) and the Spanish texts.
 * Must not: touch the network. Every reply is an outbox row written in the
 * same transaction as the state change and the item that cause it.
 *
 * Each flow is a file (flow.h lists them; each draws its own states):
 * filing a PQRSD (flow_pqrsd.c), looking an item up (flow_status.c), a
 * question for a public hearing (flow_hearing.c) and the satisfaction survey
 * (flow_survey.c). conversation.c dispatches a message to the flow of the
 * conversation's state, and owns what is left:
 *
 *   new|idle --any message--> menu                        on_idle / vt_wa__show_menu
 *   idle --text, sender has an open item--> offer         offer_add
 *   offer --item.add--> idle (message added to the item)  accept_add
 *   menu --menu.pqrsd--> pqrsd.type                       vt_wa__pqrsd_start
 *   menu --menu.status--> status                          vt_wa__status_start
 *   menu --menu.hearing--> hearing.text (idle when no hearing takes questions)
 *                                                         vt_wa__hearing_start
 *   menu --menu.survey--> survey (idle when none is pending)  vt_wa__survey_menu
 *   any --"menú"--> menu ; any --"cancelar"|flow.cancel--> idle (draft dropped)
 *
 * Invariants:
 *  1. A message id (wamid) is applied once: vt_store_tx_seen refuses repeats, so a
 *     re-delivered payload changes nothing and sends nothing.
 *  2. Every inbound message is recorded in wa_messages, whatever its type;
 *     reactions and unknown types never move the conversation.
 *  3. The conversation's last_inbound_at only grows: it opens the 24-hour
 *     window for free-form replies (checked by the transport at send time).
 *  4. A survey's answers are saved whole or not at all, by domain/survey.c in
 *     the transaction of the last answer; the conversation keeps the
 *     invitation's id, never its token.
 */
#ifndef VT_WA_CONVERSATION_H
#define VT_WA_CONVERSATION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channels/whatsapp/parse.h"
#include "core/config.h"
#include "core/item.h"
#include "store/store.h"

struct vt_wa_apply {
    const struct vt_config *cfg;
    struct vt_app *srv; /* for casework (a reply resumes a paused item); NULL in tests */
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

/* The body (JSON, caller frees; NULL: no memory) of a survey invitation
 * about item_id: text (the web link in it) and the reply buttons "Responder
 * ahora" / "Ahora no". */
char *vt_wa_conv_survey_invitation(const char *text, int64_t item_id);
/* Writer thread: notes in wa_id's conversation that a survey invitation
 * about item_id is pending, sent at due_at (Unix ms). The state does not
 * move: a flow in progress goes on. 0 or VT_E*. */
int vt_wa_conv_survey_invited(struct vt_store_tx *tx, const char *wa_id, int64_t item_id,
                              int64_t due_at);

#endif
