/* followups.h - the follow-up of detractors ("seguimiento a detractores"):
 * a survey answer that makes its respondent a detractor, about a PQRSD of
 * theirs, opens a task for the dependencia of that PQRSD; someone of that
 * dependencia calls the citizen back and closes it with a note.
 *
 * Owns: the SQL of the followups table (migrations/0007_surveys.sql) and who
 * may see and close a task (its dependencia; a task without one is the
 * triage dependencia's; a gerente sees every task).
 * Must not: speak HTTP (api/survey_api.c renders the list and the answers).
 *
 * A task's life:
 *
 *   (detractor answer) --vt_followups_open--> abierto
 *   abierto --vt_followups_close_run (its dependencia, a note)--> cerrado
 *   cerrado --close again--> refused (VT_ESTATE)
 *
 * Threads: _open and _close_run on the writer thread inside a job; _list on
 * the reader's thread.
 */
#ifndef VT_FOLLOWUPS_H
#define VT_FOLLOWUPS_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/staff.h"
#include "store/store.h"

/* Writer thread, in the answer's job: opens the task for the answer item
 * answer_item_id about source_item_id, for dependencia (NULL: none known),
 * at now (Unix ms). 0 or VT_ESTORE. */
int vt_followups_open(struct vt_store_tx *tx, int64_t answer_item_id, int64_t source_item_id,
                      const char *dependencia, int64_t now);

/* The tasks who sees, open ones first, oldest first, at most 200: every task
 * for a gerente, else those of who's dependencia (a task without one is
 * triage's); of one status or any (status NULL). A JSON array
 * [{"id","status","dependencia","created_at","note"?,"radicado" (null when
 * the PQRSD is gone),"csat","nps" (null when not asked),"answers"}], caller
 * frees; NULL on a store error. */
cJSON *vt_followups_list(struct vt_store_reader *r, const struct vt_staff *who, const char *triage,
                         const char *status);

/* A close job: the caller fills the inputs (strings it owns until done).
 * outcome 0, VT_ENOTFOUND (no such task, or not of who's dependencia) or
 * VT_ESTATE (closed already). The audit event goes on the PQRSD. */
struct vt_followups_close {
    struct vt_staff who;
    int64_t id;
    const char *note;   /* what was done with the citizen */
    const char *triage; /* the dependencia of a task without one */
    int outcome;
};
int vt_followups_close_run(struct vt_store_tx *tx, void *ctx);

#endif
