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
 *   menu --menu.hearing--> idle                           (a placeholder for a later issue)
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
 * A survey (after an answered PQRSD is closed; channels/whatsapp/README.md):
 *
 *   (wa_notify, kind encuesta) --> draft.survey marks the invitation pending;
 *                                  the state does not move  vt_wa_conv_survey_invited
 *   not pqrsd.* --survey.start.ID|"encuesta"|menu.survey--> survey   survey_start
 *   pqrsd.* --survey.start.ID--> unchanged (asked again when the flow ends)
 *   pqrsd.* --consent.*|"cancelar"--> idle, the survey offered once more  survey_after_flow
 *   any --survey.later.ID--> unchanged (the survey stays pending)   survey_later
 *   survey --an answer--> survey (next question)                    on_survey
 *   survey --a bad answer--> survey (same question, asked again)    on_survey
 *   survey --last answer--> idle (answer saved, mark dropped)       survey_save
 *   survey --"cancelar"--> idle (nothing saved, still pending)      survey_cancel
 *
 * Invariants:
 *  1. A message id (wamid) is applied once: inbound_seen refuses repeats, so a
 *     re-delivered payload changes nothing and sends nothing.
 *  2. Every inbound message is recorded in wa_messages, whatever its type;
 *     reactions and unknown types never move the conversation.
 *  3. The conversation's last_inbound_at only grows: it opens the 24-hour
 *     window for free-form replies (checked by the transport at send time).
 *  4. A survey's answers are saved whole or not at all, by src/survey.c in the
 *     transaction of the last answer; the conversation keeps the invitation's
 *     id, never its token.
 */
#ifndef VT_WA_CONVERSATION_H
#define VT_WA_CONVERSATION_H
#include <cjson/cJSON.h>
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

/* ---- the survey's questions, pure (shared with the unit tests) ---- */

/* Question i of the survey definition def as a message body (JSON, caller
 * frees; NULL: no memory or no such question): reply buttons, a list of at
 * most 10 rows, or text when neither fits. step 0, or for an NPS question the
 * half picked first (1: 0-5, 2: 6-10). lead (NULL ok) opens the text. */
char *vt_wa__survey_question(const cJSON *def, int i, int step, const char *lead);

enum vt_wa_survey_reading {
    VT_WA_SURVEY_BAD,   /* why says what is wrong, in Spanish: ask again */
    VT_WA_SURVEY_VALUE, /* *value: the answer as the web form sends it (caller frees) */
    VT_WA_SURVEY_SKIP,  /* "omitir" on an optional question */
    VT_WA_SURVEY_STEP,  /* an NPS half picked: *step is 1 or 2, ask again */
};
/* Reads a reply (reply_id, "" for none) or a typed text (NULL when the
 * message was not text) as the answer to question q at step. The value is a
 * string ("4", "si", "2" as an option index from 0, free text) or, for a
 * multiple-choice question, an array of index strings. Pure. */
enum vt_wa_survey_reading vt_wa__survey_read(const cJSON *q, int step, const char *reply_id,
                                             const char *text, cJSON **value, int *next_step,
                                             char *why, size_t whylen);

#endif
