/* casework.h - what staff do with a PQRSD item once it is filed: route it,
 * correct its labels, pause it for completion (Ley 1755 art. 17), extend it
 * (art. 14 parágrafo), transfer it (art. 21), note, answer, close, reopen.
 *
 * Owns: the item's status after filing, the staff columns of items
 * (dependencia, assignee, original labels, completion and extension dates),
 * the responses tables, and the rules of who may do what. Every action is one
 * store job that checks role, scope and state inside the transaction,
 * changes the row, appends an audit event with the actor and queues the
 * citizen's notice in the outbox, so all of it commits or none does.
 * Must not: parse HTTP or JSON bodies (staff_api.c does) or speak to a
 * provider (the channels' notify() queue outbox rows).
 *
 * Code: casework.c holds the states, the rules table and the entry points;
 * casework_actions.c what each action does; casework_db.c its SQL (through
 * store/db.h); casework_int.h is what they share.
 *
 * An item's states after filing (the action behind each transition):
 *
 *                    assign, reclassify, note, extend
 *                          +--------+
 *                          v        |
 *   radicado --assign--> en_tramite -+--respond--> respondido --close--> cerrado
 *      |  \                 |   ^                     |  ^ respond        |
 *      |   \--respond-------|---|---------------------+  |                |
 *      |                    |   |                        +----------------+
 *      +--request_completion+   +--complete | a citizen message (vt_casework_citizen_replied)
 *                |          |   |
 *                v          v   |
 *        pendiente_completar ---+--deadline passed (vt_casework_sweep)--> desistido
 *
 *   radicado | en_tramite --transfer--> trasladado
 *   radicado | en_tramite --close (with a reason)--> cerrado
 *   respondido | cerrado | desistido | trasladado --reopen--> en_tramite
 *   any state --note--> the same state
 *   any state, a letter pending --deliver_letter--> the same state
 *
 * How an answer reaches the requester is decided before it is sent
 * (delivery.h): respond takes the way staff chose or the plan's default and
 * refuses one the requester's data or the running channels do not allow;
 * an answer to a requester who gave their name is never published. A letter
 * stays pending until deliver_letter records how and when it was handed over.
 *
 * Terms (business days unless said): request_completion only within 10
 * business days of filing; the requester then has staff.completion_wait_days
 * calendar days; while paused the item is neither overdue nor due soon; when
 * completed the whole term restarts from the business day the completion
 * counts on. extend once, before the due date has passed, to a business day
 * after the current due date and no later than the initial term counted twice
 * (current due date + term). transfer records whether it happened within 5
 * business days of filing.
 *
 * Threads: vt_casework_apply, _sweep and _citizen_replied run on the writer
 * thread inside a job; the date functions are pure.
 */
#ifndef VT_CASEWORK_H
#define VT_CASEWORK_H
#include <stdbool.h>
#include <stdint.h>

#include "domain/staff.h"
#include "core/calendar.h"
#include "core/config.h"
#include "store/store.h"
#include "domain/domain.h"

/* NULL-terminated list of the statuses, in the diagram's order. */
extern const char *const vt_casework_statuses[];
/* True for the statuses whose term runs (radicado, en_tramite). */
bool vt_casework_term_runs(const char *status);

/* ---- the arithmetic, pure ---- */

/* Last day on which completion may be asked (filed + 10 business days). */
vt_date_t vt_casework_completion_ask_limit(const struct vt_calendar *cal, vt_date_t filed);
/* Last day the requester has to complete it (asked + wait_days calendar days). */
vt_date_t vt_casework_completion_deadline(vt_date_t asked, int wait_days);
/* The new due date once completed at unix_ms: the term counted anew. */
vt_date_t vt_casework_resumed_due(const struct vt_calendar *cal, int64_t completed_ms,
                                  int term_days);
/* The latest date an extension may reach (current due + term business days). */
vt_date_t vt_casework_extension_limit(const struct vt_calendar *cal, vt_date_t due, int term_days);
/* Whether a transfer on today is within 5 business days of filing. */
bool vt_casework_transfer_in_term(const struct vt_calendar *cal, vt_date_t filed, vt_date_t today);

/* ---- actions ---- */

/* A file attached to an answer; its bytes are stored by the action's job
 * (vt_store_tx_blob_put) before the rows naming it. */
struct vt_case_file {
    char sha256[65];
    int64_t size;
    char content_type[128];
    char filename[256];
};

/* An action as staff_api.c parsed it; unused fields NULL. */
struct vt_case_action {
    const char *action; /* assign, reclassify, ... */
    const char *dependencia, *assignee;
    const char *type, *petition_class, *group;
    const char *text, *reason, *due_date, *entity, *entity_email, *note;
    const char *access;   /* respond to a documents petition: concedido, parcial, negado */
    const char *delivery; /* respond: email, whatsapp, carta, consulta, publicacion (delivery.h);
                             NULL: the plan's default */
    const char *method;   /* deliver_letter: entrega_personal (default), correo_postal */
    int64_t response_id;  /* deliver_letter: the letter; 0: the oldest one pending */
    const struct vt_case_file *files;
    size_t n_files;
};

/* What an action did, or why it did not. */
struct vt_case_result {
    int status;        /* HTTP status: 200, 403, 404, 409, 422 */
    char code[32];     /* forbidden, not_found, invalid_transition, invalid */
    char field[32];    /* the field at fault, or "" */
    char message[400]; /* Spanish, for staff */
    int64_t item_id;
    char old_status[24], new_status[24];
    char dependencia[101]; /* after the action, "" for none (live feed scope) */
    /* What reached (or will reach) the requester, for a truthful message:
     * notice is "" (the action tells the requester nothing), or for respond
     * the delivery (email, whatsapp, carta, consulta, publicacion) and for
     * the other notices the channel they were queued on, "consulta" (their
     * status page shows it) or "no_enviado". outbox_ids are the rows this
     * action queued, committed with it. */
    char notice[16];
    int64_t outbox_ids[20];
    size_t n_outbox;
    int64_t response_id; /* respond, deliver_letter */
};

/* What the list of possible actions depends on. Dates "YYYY-MM-DD" or "". */
struct vt_case_facts {
    const char *status;
    int term_days; /* -1: no term */
    const char *filed_date, *due_date, *original_due_date;
    int pending_letters; /* answers by letter not yet marked delivered */
};

/* The actions who may take now on an item with facts f (for the UI), the
 * legal limits included (no extension after the due date or twice, no
 * completion request after 10 business days); today is the local date.
 * Writes up to cap names into out and returns how many. cal may be NULL
 * (then the limits are not checked). */
size_t vt_casework_allowed(const struct vt_calendar *cal, const struct vt_staff *who,
                           const struct vt_case_facts *f, vt_date_t today, const char **out,
                           size_t cap);

/* Writer thread: applies a to the item radicado as who. Returns 0 when it
 * was applied (res->status 200); VT_EPERM / VT_ENOTFOUND / VT_ESTATE /
 * VT_EINVAL with res filled when refused (nothing written); VT_E* on a store
 * failure. dom gives the configuration and the channels' notify(). */
int vt_casework_apply(const struct vt_domain *dom, struct vt_store_tx *tx,
                      const struct vt_staff *who, const char *radicado,
                      const struct vt_case_action *a, struct vt_case_result *res);

/* Writer thread: a message from the requester joined item_id (email reply,
 * WhatsApp). If the item waited for completion, its term restarts. 0 or VT_E*. */
int vt_casework_citizen_replied(const struct vt_domain *dom, struct vt_store_tx *tx,
                                int64_t item_id);

/* Writer thread: items whose completion deadline passed before today become
 * desistido (with an event and a notice). *n gets how many. 0 or VT_E*. */
int vt_casework_sweep(const struct vt_domain *dom, struct vt_store_tx *tx, vt_date_t today, int *n);

/* The latest answer of item radicado for its requester's status page: *text
 * (caller frees) and *at, or *text NULL when there is none. Reader's thread. */
void vt_casework_answer(struct vt_store_reader *r, const char *radicado, char **text, int64_t *at);

/* An answer published because its requester is anonymous (CPACA art. 69). */
struct vt_published {
    char radicado[48];
    int64_t at;
    char *text; /* owned */
};
/* The answers published since since_ms, newest first, at most cap, never
 * one of a requester who gave their name (older rows included); returns
 * how many (each text freed by the caller with vt_casework_published_free). */
size_t vt_casework_published(struct vt_store_reader *r, int64_t since_ms, struct vt_published *out,
                             size_t cap);
void vt_casework_published_free(struct vt_published *p, size_t n);

#endif
