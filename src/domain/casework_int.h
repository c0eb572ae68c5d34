/* casework_int.h - what the three files of casework share, and nothing
 * else includes: the item row an action works on, the actions, and the SQL.
 *
 *   casework.c          the states and who may do what (the rules table),
 *                       vt_casework_apply and the other entry points;
 *   casework_actions.c  each action: its checks, the notice to the requester
 *                       and the audit event (vt_casework__do_*);
 *   casework_db.c       every statement casework runs on the item, its
 *                       answers and the outbox (vt_casework__db_*), written in
 *                       the SQL of store/db.h.
 *
 * Everything here runs on the writer thread inside a store job, except the
 * two reader functions of casework_db.c named so.
 */
#ifndef VT_CASEWORK_INT_H
#define VT_CASEWORK_INT_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/casework.h"

/* The item an action works on, with its requester's contact data. Actions
 * update it as they change the database (status, dependencia, dates). */
struct vt_case_row {
    int64_t id, assignee_id, received_at;
    char radicado[48], kind[24], status[24], type[24], pclass[24], group[64];
    char dependencia[101], filed[11], due[11], orig_due[11], deadline[11], reply[16];
    int term_days; /* -1: none */
    bool reclassified;
    char person_type[16], email[1024], phone[96], address[1232];
};

/* Fills res as a refusal (HTTP status, code, field, Spanish message) and
 * returns the matching VT_E* (VT_EPERM, VT_ENOTFOUND, VT_ESTATE, VT_EINVAL);
 * casework.c. */
int vt_casework__refuse(struct vt_case_result *res, int status, const char *code, const char *field,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- the actions (casework_actions.c): the status and role checks are
 * done (casework.c); each checks its own fields and legal limits, changes
 * the row and appends its event. 0, a refusal (res filled) or VT_E*. ---- */

int vt_casework__do_assign(const struct vt_domain *dom, struct vt_store_tx *tx,
                           const struct vt_staff *who, struct vt_case_row *r,
                           const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_reclassify(const struct vt_domain *dom, struct vt_store_tx *tx,
                               const struct vt_staff *who, struct vt_case_row *r,
                               const struct vt_case_action *a, struct vt_case_result *res);
/* Accepts or corrects the classifier's suggestions (casework_classify.c). */
int vt_casework__do_classify(const struct vt_domain *dom, struct vt_store_tx *tx,
                             const struct vt_staff *who, struct vt_case_row *r,
                             const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_request_completion(const struct vt_domain *dom, struct vt_store_tx *tx,
                                       const struct vt_staff *who, struct vt_case_row *r,
                                       const struct vt_case_action *a, struct vt_case_result *res);
/* Staff say the requester completed the item (the note: a->note or a->text). */
int vt_casework__do_complete(const struct vt_domain *dom, struct vt_store_tx *tx,
                             const struct vt_staff *who, struct vt_case_row *r,
                             const struct vt_case_action *a, struct vt_case_result *res);
/* The requester completed the item (who NULL: by writing to us), or staff
 * say they did in person (note may be NULL); res may be NULL. */
int vt_casework__resume(const struct vt_domain *dom, struct vt_store_tx *tx,
                        const struct vt_staff *who, struct vt_case_row *r, const char *note,
                        struct vt_case_result *res);
int vt_casework__do_extend(const struct vt_domain *dom, struct vt_store_tx *tx,
                           const struct vt_staff *who, struct vt_case_row *r,
                           const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_transfer(const struct vt_domain *dom, struct vt_store_tx *tx,
                             const struct vt_staff *who, struct vt_case_row *r,
                             const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_note(const struct vt_domain *dom, struct vt_store_tx *tx,
                         const struct vt_staff *who, struct vt_case_row *r,
                         const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_respond(const struct vt_domain *dom, struct vt_store_tx *tx,
                            const struct vt_staff *who, struct vt_case_row *r,
                            const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_close(const struct vt_domain *dom, struct vt_store_tx *tx,
                          const struct vt_staff *who, struct vt_case_row *r,
                          const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_deliver_letter(const struct vt_domain *dom, struct vt_store_tx *tx,
                                   const struct vt_staff *who, struct vt_case_row *r,
                                   const struct vt_case_action *a, struct vt_case_result *res);
int vt_casework__do_reopen(const struct vt_domain *dom, struct vt_store_tx *tx,
                           const struct vt_staff *who, struct vt_case_row *r,
                           const struct vt_case_action *a, struct vt_case_result *res);
/* The completion deadline of r passed: desistido, with the notice and the
 * event (vt_casework_sweep). */
int vt_casework__desist(const struct vt_domain *dom, struct vt_store_tx *tx, struct vt_case_row *r);

/* ---- the SQL (casework_db.c); every function returns 0 or VT_E* unless
 * it says otherwise ---- */

/* Loads the item by radicado (when not NULL) or by id: 0 or VT_ENOTFOUND. */
int vt_casework__db_load(struct vt_store_tx *tx, const char *radicado, int64_t id,
                         struct vt_case_row *r);
/* Sets r's status (in the row and in r). */
int vt_casework__db_set_status(struct vt_store_tx *tx, struct vt_case_row *r, const char *status);
/* The moderation status of hearing question item_id into out: 0, or
 * VT_ENOTFOUND when it is not one. */
int vt_casework__db_hearing_status(struct vt_store_tx *tx, int64_t item_id, char *out, size_t cap);
/* Routes the item: dependencia and assignee (0: none). */
int vt_casework__db_assign(struct vt_store_tx *tx, int64_t id, const char *dependencia,
                           int64_t assignee);
/* Corrects the labels, keeping the first ones as the original; pclass NULL,
 * term -1 and due "" store NULL. A denuncia reserves the identity. */
int vt_casework__db_reclassify(struct vt_store_tx *tx, int64_t id, const char *type,
                               const char *pclass, const char *group, int term, const char *due);
/* Pauses the term: asked on, deadline to complete. */
int vt_casework__db_pause(struct vt_store_tx *tx, int64_t id, const char *asked,
                          const char *deadline);
/* Restarts the term with a new due date; the completion deadline goes. */
int vt_casework__db_resume(struct vt_store_tx *tx, int64_t id, const char *due);
/* Extends: the due date becomes the original one, due the new one. */
int vt_casework__db_extend(struct vt_store_tx *tx, int64_t id, const char *due);
/* Clears the completion deadline of a reopened item. */
int vt_casework__db_reopen(struct vt_store_tx *tx, int64_t id);
/* The item's subject and body, caller frees both (*subject and *body NULL
 * and 0 when the item is gone). */
int vt_casework__db_body(struct vt_store_tx *tx, int64_t id, char **subject, char **body);
/* Records an answer (access NULL, outbox_id 0: none) and its files;
 * *response_id gets its id. */
int vt_casework__db_respond(struct vt_store_tx *tx, int64_t item_id, int64_t user_id,
                            const char *text, const char *channel, bool published,
                            const char *access, int64_t outbox_id, const struct vt_case_file *files,
                            size_t n_files, int64_t *response_id);
/* The letter of item_id pending delivery: response_id, or the oldest when 0.
 * *id gets it, 0 when there is none. */
int vt_casework__db_pending_letter(struct vt_store_tx *tx, int64_t item_id, int64_t response_id,
                                   int64_t *id);
/* Marks letter response_id delivered by user_id; note NULL: none. */
int vt_casework__db_letter_delivered(struct vt_store_tx *tx, int64_t response_id, int64_t user_id,
                                     const char *method, const char *note);
/* The newest outbox row now (before a channel's notify queues more). */
int vt_casework__db_outbox_mark(struct vt_store_tx *tx, int64_t *mark);
/* The rows queued for item_id since mark, into res (res NULL: only checked). */
int vt_casework__db_outbox_since(struct vt_store_tx *tx, int64_t item_id, int64_t mark,
                                 struct vt_case_result *res);
/* The ids of items whose completion deadline is before day, at most cap;
 * returns how many, or VT_E*. */
int vt_casework__db_lapsed(struct vt_store_tx *tx, const char *day, int64_t *ids, int cap);

#endif
