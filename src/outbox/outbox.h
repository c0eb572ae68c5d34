/* outbox.h - the durable outbox: every message Ventanilla sends, on any
 * channel, is first a row written in the same transaction as the change that
 * causes it, then delivered by the outbox's sender thread.
 *
 * Owns: the outbox and outbox_statuses tables (their SQL is in outbox.c), the
 * sender thread, its retry policy (exponential backoff with jitter, a
 * dead-letter state after outbox.max_attempts) and the fallback to email
 * when a WhatsApp message cannot be carried.
 * Must not: know how a channel speaks to its provider. Channels register a
 * transport (struct vt_outbox_transport) whose send() runs on the sender
 * thread and owns its own network handles.
 *
 * An outbound message's states (the function behind each transition):
 *
 *   (change) --vt_outbox_add--> pending
 *   pending --claim (sender thread)--> sending            attempts + 1
 *   sending --record: VT_SEND_OK--> sent                  provider id kept
 *   sending --record: VT_SEND_RETRY--> pending            next attempt after backoff
 *                                  \-> dead               attempts used up
 *   sending --record: VT_SEND_REFUSED--> dead             the provider refused it for good
 *   sending --record: VT_SEND_NO_WINDOW--> undeliverable  (+ an email copy when the
 *                                                          requester gave an address)
 *   sending --record: held behind an earlier message to the same recipient--> pending
 *   sending --record failed (store error)--> pending      unclaim
 *   sent --vt_outbox_provider_status--> delivered --> read   (tracking code erased)
 *   sent|delivered --vt_outbox_provider_status(failed)--> failed
 *   failed (131047) --requeue_template_only--> superseded + a new pending copy
 *   dead|failed|undeliverable --vt_outbox_retry (staff)--> pending
 *   sending --restart (vt_outbox_start)--> pending
 *
 * Order: a message is not claimed while an earlier one to the same recipient
 * on the same channel is pending or sending, so a retry never lets a later
 * message overtake it.
 *
 * Crash between sending and recording: the row is still "sending" when the
 * daemon restarts, so it goes back to pending and is sent again. The citizen
 * may then receive the same message twice; nothing is ever lost. The window is
 * one HTTP round trip plus one group commit, and a result is recorded at most
 * a few milliseconds after the provider answers, so a repeat needs a crash in
 * exactly that gap.
 *
 * Threads: vt_outbox_add and vt_outbox_provider_status run on the writer
 * thread inside a job (struct vt_store_tx). vt_outbox_wake may be called from
 * any thread. outbox.senders sender threads deliver in parallel; messages are
 * spread over them by recipient, so one citizen's messages keep their order.
 */
#ifndef VT_OUTBOX_H
#define VT_OUTBOX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "store/store.h"

/* A message to queue. Strings are copied into the row. */
struct vt_outbound {
    int64_t item_id;       /* 0 when the message concerns no item (a menu prompt) */
    const char *channel;   /* "whatsapp" or "email" */
    const char *recipient; /* wa_id or email address */
    const char *kind;      /* ack, prompt, status, reply, read, ... (templates are by kind) */
    const char *body;      /* the message as the channel's transport reads it (JSON) */
    const char *params;    /* JSON array of template parameters, or NULL */
    const char *secret;    /* replaces "{codigo}" in body and params at send time, or NULL;
                              erased once the message is delivered */
    const char *fallback;  /* plain text for an email copy if WhatsApp cannot carry it, or NULL */
    int64_t not_before;    /* Unix ms before which it is not sent (a survey's delay), 0: now */
};

/* Writer thread, inside a job: queues m. 0 or VT_E*. */
int vt_outbox_add(struct vt_store_tx *tx, const struct vt_outbound *m);

/* Writer thread, inside a job: a provider's delivery status for the message it
 * calls provider_id ("sent", "delivered", "read", "failed"). Kept in the
 * delivery log and applied to the message if it is known yet. 0 or VT_E*. */
int vt_outbox_provider_status(struct vt_store_tx *tx, const char *channel, const char *provider_id,
                              const char *status, int error_code, const char *error_title);

/* A claimed message, as a transport sees it. */
struct vt_outbox_msg {
    int64_t id, item_id;
    const char *channel, *recipient, *kind, *body, *params;
    int attempts;       /* including this one */
    bool template_only; /* the provider refused free-form text earlier */
};

enum vt_send_outcome {
    VT_SEND_OK,        /* accepted; provider_id set */
    VT_SEND_RETRY,     /* timeout, connection failure, 5xx, 429: try again later */
    VT_SEND_REFUSED,   /* the provider refused it (4xx): dead letter, staff may retry */
    VT_SEND_NO_WINDOW, /* WhatsApp: outside the 24-hour window and no template */
};

struct vt_send_result {
    enum vt_send_outcome outcome;
    char provider_id[160];
    char error[300];          /* English, for staff and logs; no personal data */
    char via_template[128];   /* template name when one was used */
    int retry_after_ms;       /* the provider's Retry-After, 0 when none */
    char fallback_text[2048]; /* NO_WINDOW: the message as plain text for an email copy */
};

/* A channel's way to deliver. Each sender thread gets its own context from
 * open(ctx) (e.g. its own curl handle), or ctx itself when open is NULL.
 * send() runs on that sender thread with that context; reader is the thread's
 * own read connection (e.g. for the 24-hour window). */
struct vt_outbox_transport {
    const char *channel;
    void *ctx;
    void *(*open)(void *ctx);        /* may be NULL; NULL result: no memory */
    void (*close)(void *thread_ctx); /* may be NULL */
    void (*send)(void *thread_ctx, struct vt_store_reader *reader, const struct vt_outbox_msg *m,
                 struct vt_send_result *res);
    /* Any thread, may be NULL: make a send in progress give up (stopping). */
    void (*interrupt)(void *thread_ctx);
};

struct vt_outbox;

/* Creates the outbox (no thread yet). NULL when out of memory. */
struct vt_outbox *vt_outbox_new(const struct vt_config *cfg, struct vt_store *store);
/* Adds a transport before vt_outbox_start; t must outlive the outbox. 0 or VT_ETOOBIG. */
int vt_outbox_register(struct vt_outbox *o, const struct vt_outbox_transport *t);
/* Puts messages left "sending" by a crash back to pending and starts the
 * sender threads. 0 or VT_E*. */
int vt_outbox_start(struct vt_outbox *o);
/* Any thread: there is new work. */
void vt_outbox_wake(struct vt_outbox *o);
/* Stops the sender threads (interrupting sends in flight) and closes the
 * transports' contexts; later wakes are harmless. Idempotent; NULL ok. */
void vt_outbox_stop(struct vt_outbox *o);
/* Stops (if not yet) and frees; the transports are not touched again. NULL ok. */
void vt_outbox_free(struct vt_outbox *o);

/* The delay before attempt number attempts + 1, with jitter, in ms. */
int64_t vt_outbox_backoff_ms(const struct vt_outbox_config *c, int attempts, uint32_t random);

/* ---- operations on a closed store (the CLI) ---- */

/* Writes the messages in status (NULL: dead, failed and undeliverable, the
 * ones staff must look at, read receipts aside) to f, one line each: id, status, channel, kind,
 * item radicado, attempts, last error. No recipient or body (personal data).
 * 0 or VT_E*. */
int vt_outbox_list(struct vt_store *s, const char *status, FILE *f);

/* Messages by status ("pending", "dead", ...) for /metrics; reader's thread.
 * 0 or VT_E*. */
int vt_outbox_counts(struct vt_store_reader *r, struct vt_count *out, size_t cap, size_t *n);

/* Puts a dead, failed or undeliverable message back to pending. 0,
 * VT_ENOTFOUND, or VT_EINVAL when it is in another state or its secret was
 * erased (an email bounced after the SMTP server accepted it). */
int vt_outbox_retry(struct vt_store *s, int64_t id);

#endif
