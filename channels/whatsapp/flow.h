/* flow.h - inside the WhatsApp conversation (conversation.h): one message
 * being handled (a turn), what every flow does with it, and each flow's
 * entry points. Internal to channels/whatsapp; the rest of Ventanilla sees
 * conversation.h only.
 *
 * The conversation is split by flow, each in its own file, with the state
 * machine's dispatch in conversation.c:
 *
 *   conversation.c    applying a webhook delivery (and what the job keeps:
 *                     items, media), the dispatch, the main menu, and adding
 *                     a message to an open item (idle, offer)
 *   flow_pqrsd.c      filing a PQRSD (pqrsd.* states)
 *   flow_status.c     looking an item up (status)
 *   flow_hearing.c    a question for a public hearing (hearing.* states)
 *   flow_survey.c     the satisfaction survey (survey), and its invitation
 *   survey_question.c a survey question as a message, a reply as an answer
 *   flow.c            what they share: the draft, replies, media, labels
 *
 * A flow's handler moves the turn's state and draft and queues its replies;
 * on_message (conversation.c) writes them back in the same transaction.
 * Handlers return 0 or VT_E* (the whole delivery rolls back); a dispatcher
 * returning 1 means "none of my states or replies: go on". This header does
 * not include conversation.h (which conversation.c implements, so the two
 * would include each other): a flow that reads the job includes it.
 */
#ifndef VT_WA_FLOW_H
#define VT_WA_FLOW_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channels/whatsapp/db.h"
#include "channels/whatsapp/messages.h"
#include "core/item.h"

struct vt_wa_apply; /* conversation.h: the job; flows that read it include that */

/* One message being handled: the event, its sender's conversation and what
 * the handler decided. */
struct vt_wa_turn {
    struct vt_store_tx *tx;
    struct vt_wa_apply *a;
    const struct vt_wa_event *ev;
    struct vt_wa_conv conv;
    cJSON *draft; /* the conversation's draft, parsed; written back by on_message */
    char state[32];
    char phone[40]; /* "+" wa_id, as the requester's phone */
    char fold[256]; /* the text folded for keyword matching */
};

/* ---- the draft and the state (flow.c) ---- */

/* The string field k of d, or NULL (d may be NULL). Borrowed from d. */
const char *vt_wa__dstr(const cJSON *d, const char *k);
/* Sets the string field k of d to v (copied), or removes it when v is NULL. */
void vt_wa__dset(cJSON *d, const char *k, const char *v);
void vt_wa__set_state(struct vt_wa_turn *t, const char *s);
/* Drops the draft, but for a pending survey invitation's mark (draft.survey). */
void vt_wa__clear_draft(struct vt_wa_turn *t);
/* True while a PQRSD is being filed (a pqrsd.* state). */
bool vt_wa__filing(const struct vt_wa_turn *t);

/* ---- reading the message (flow.c) ---- */

/* s folded for keyword matching (vt_fold_es) into out (n bytes), without the
 * spaces around it and a closing "." or "!". */
void vt_wa__fold_trim(const char *s, char *out, size_t n);
/* True when the message is the interactive reply id. */
bool vt_wa__is_reply(const struct vt_wa_turn *t, const char *id);
bool vt_wa__has_prefix(const char *s, const char *p);
/* An image, audio, video, document or sticker. */
bool vt_wa__is_media(const struct vt_wa_event *ev);
/* A shared location as the text of a description, into out (n bytes). */
void vt_wa__location_text(const struct vt_wa_event *ev, char *out, size_t n);

/* ---- replies (flow.c) ---- */

/* Queues body (a message body, owned and freed here; NULL: no memory) to the
 * sender as an outbox row of kind, with the row's item, template parameters,
 * secret and email fallback text (each may be 0 or NULL). 0 or VT_E*. */
int vt_wa__send(struct vt_wa_turn *t, const char *kind, char *body, int64_t item_id,
                const char *params, const char *secret, const char *fallback);
/* A text prompt. */
int vt_wa__say(struct vt_wa_turn *t, const char *text);
/* A prompt with up to three reply buttons. */
int vt_wa__buttons(struct vt_wa_turn *t, const char *text, const struct vt_wa_choice *c, size_t n);
/* Queues the acknowledgement of it, just filed: text on the chat and mail
 * for an email copy, both with "{codigo}" where the tracking code goes (put
 * in when sent); due is the due date as the citizen reads it ("" for none).
 * The template's parameters are the radicado, the due date and the code. */
int vt_wa__ack(struct vt_wa_turn *t, const struct vt_item *it, const char *due, const char *text,
               const char *mail);
/* The type of an item in lowercase Spanish ("petición"); "solicitud" for an
 * unknown or NULL type. Static storage. */
const char *vt_wa__type_label(const char *type);
/* ---- the job's results and the main menu (conversation.c) ---- */

/* Keeps it (NULL: no memory) alive until the job is done, committed or not:
 * the store's committed hook reads the items a job inserted. Frees it on
 * failure. 0 or VT_ENOMEM. */
int vt_wa__keep_item(struct vt_wa_turn *t, struct vt_item *it);
/* Queues the message's media for the media worker, unless the sender already
 * has attachment_max_count unfiled files (*full, nothing queued). 0 or VT_E*. */
int vt_wa__add_media(struct vt_wa_turn *t, bool *full);

/* Shows the main menu (with a welcome the first time); state menu. */
int vt_wa__show_menu(struct vt_wa_turn *t, bool welcome);

/* ---- filing a PQRSD (flow_pqrsd.c) ---- */

/* menu.pqrsd: a new draft (media sent before it dropped), the type asked. */
int vt_wa__pqrsd_start(struct vt_wa_turn *t);
/* A message in a pqrsd.* state; 1 when t is in none of them. */
int vt_wa__pqrsd_on(struct vt_wa_turn *t);
/* Says note, then asks the current step of the PQRSD being filed again. */
int vt_wa__pqrsd_resume(struct vt_wa_turn *t, const char *note);

/* ---- looking an item up (flow_status.c) ---- */

/* menu.status: the sender's open items, and how to look any up; state status. */
int vt_wa__status_start(struct vt_wa_turn *t);
/* A message in state status: an item picked, or a radicado and code typed. */
int vt_wa__status_on(struct vt_wa_turn *t);

/* ---- a question for a public hearing (flow_hearing.c) ---- */

/* menu.hearing: asks for the question when a hearing takes them now. */
int vt_wa__hearing_start(struct vt_wa_turn *t);
/* A message in a hearing.* state; 1 when t is in none of them. */
int vt_wa__hearing_on(struct vt_wa_turn *t);

/* ---- the satisfaction survey (flow_survey.c) ---- */

/* On each message, before the dispatch: the pending invitation's id, looked
 * up once (the mark is dropped when the invitation is gone). 0 or VT_E*. */
int vt_wa__survey_resolve(struct vt_wa_turn *t);
/* "encuesta" typed, or the menu's option: starts the pending survey. */
int vt_wa__survey_menu(struct vt_wa_turn *t);
/* A PQRSD flow just ended: a pending invitation is offered once more, once. */
int vt_wa__survey_after_flow(struct vt_wa_turn *t);
/* "cancelar" in state survey: nothing saved, the invitation stays pending. */
int vt_wa__survey_cancel(struct vt_wa_turn *t);
/* A tap on an invitation ("Responder ahora", "Ahora no"); 1 when it is none. */
int vt_wa__survey_tap(struct vt_wa_turn *t);
/* True for "encuesta" typed, or "responder" and the like while one is pending. */
bool vt_wa__survey_word(struct vt_wa_turn *t);
/* A message in state survey: the answer to the question asked. */
int vt_wa__survey_on(struct vt_wa_turn *t);

#endif
