/* hearing.h - public accountability hearings (audiencias públicas de
 * rendición de cuentas): the events, the questions asked for them (each an
 * item of kind hearing_question, with a radicado and the legal term
 * terms.hearing_question) and their moderation for the room's question wall.
 *
 * Owns: the SQL of hearings and hearing_questions (migrations/0010_hearings.sql),
 * the question window rule, the moderation state machine and the wall's
 * message (which carries no personal data but a name the asker agreed to show).
 * Must not: speak HTTP or render pages (hearing_api.c and channels/web do).
 *
 * A question's moderation (vt_hearing_moderate_run, one action each):
 *
 *   (asked) --vt_hearing_question_run, window open--> pendiente
 *   pendiente --approve--> aprobada
 *   pendiente --reject (reason required)--> rechazada
 *   pendiente --merge (into a question of the same hearing)--> fusionada
 *   aprobada --select--> seleccionada
 *   seleccionada --answered_live--> respondida_en_vivo
 *   any --topic--> same status, topic set
 *
 * The wall shows aprobada and seleccionada questions.
 *
 * Threads: the _run functions run on the writer thread in a job; the
 * readers' functions on the reader's thread.
 */
#ifndef VT_HEARING_H
#define VT_HEARING_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/item.h"
#include "store/store.h"

struct vt_hearing {
    char code[64], name[201], date[11], place[201], stream_url[401], convoked_on[11];
    int64_t open_at, close_at; /* the question window, Unix ms */
    char survey_code[64];      /* the evaluation survey (purpose event), "" for none */
};

/* Whether s is a hearing code: 1 to 63 of a-z, 0-9, _. */
bool vt_hearing_code_ok(const char *s);
/* Days between convoked_on and date (both valid YYYY-MM-DD), or a big
 * negative number when either is invalid. Pure. */
int vt_hearing_notice_days(const char *convoked_on, const char *date);

/* A create job: h filled and checked by the caller. outcome VT_EEXIST for a
 * taken code, VT_EINVAL when survey_code names no survey of purpose event. */
struct vt_hearing_create {
    struct vt_hearing h;
    char actor[80];
    int outcome;
};
int vt_hearing_create_run(struct vt_store_tx *tx, void *ctx);

/* A question job. The caller fills the inputs (strings it owns until done);
 * the job builds and inserts the item (channel "web" or "staff") and its
 * hearing_questions row, when the window is open at the commit's clock. */
struct vt_hearing_question {
    const struct vt_config *cfg;
    const char *code, *text, *name, *source, *channel;
    bool show_name;
    char actor[80]; /* "" for a citizen */
    /* Filled by the job. */
    int outcome;          /* 0, VT_ENOTFOUND (no hearing), VT_ERANGE (window closed) */
    struct vt_item *item; /* the new item, alive until the caller frees it (vt_item_free) */
};
int vt_hearing_question_run(struct vt_store_tx *tx, void *ctx);

/* A moderation job. outcome 0, VT_ENOTFOUND (hearing, question or into not
 * found), VT_EINVAL (the action is not allowed from the current status:
 * from_status tells which). */
struct vt_hearing_moderation {
    char code[64], radicado[48], action[16], reason[501], into[48], topic[101];
    char actor[80];
    int outcome;
    char from_status[24], to_status[24];
};
int vt_hearing_moderate_run(struct vt_store_tx *tx, void *ctx);

/* Finds a hearing by code: 0 or VT_ENOTFOUND / VT_ESTORE. */
int vt_hearing_find(struct vt_store_reader *r, const char *code, struct vt_hearing *out);
/* Every hearing as a JSON array (caller frees), or NULL on failure. */
cJSON *vt_hearing_list(struct vt_store_reader *r);
/* The questions of a hearing, of one status or all (status NULL), as a JSON
 * array for the moderators (caller frees); NULL on failure. */
cJSON *vt_hearing_questions(struct vt_store_reader *r, const char *code, const char *status,
                            const char *topic);
/* The moderators' grouping by topic: [{"topic" ("" for none), "questions",
 * "by_status": {status: n}}]; caller frees; NULL on a store error. */
cJSON *vt_hearing_topics(struct vt_store_reader *r, const char *code);
/* A commitment job (compromiso made at the hearing). outcome 0 (id set) or
 * VT_ENOTFOUND (no hearing). */
struct vt_hearing_commitment {
    char code[64], text[1001], dependencia[101], due_date[11], actor[80];
    int outcome;
    int64_t id;
};
int vt_hearing_commitment_run(struct vt_store_tx *tx, void *ctx);

/* A progress job on a commitment: only a coordinador of its dependencia
 * (role and dependencia given by the caller) reports. outcome 0,
 * VT_ENOTFOUND (no commitment) or VT_EPERM (another dependencia). At 100 %
 * the commitment becomes cumplido. */
struct vt_hearing_progress {
    int64_t commitment_id;
    char text[1001], dependencia[101], actor[80];
    int percent, outcome;
    char status[16];
};
int vt_hearing_progress_run(struct vt_store_tx *tx, void *ctx);

/* The commitments of a hearing with their progress, oldest due first, as a
 * JSON array (caller frees); NULL on failure. */
cJSON *vt_hearing_commitments(struct vt_store_reader *r, const char *code);

/* The answers report of a hearing, for publication (caller frees; NULL on
 * failure): {"questions":[{"radicado","source","group","status","topic",
 * "name"?,"text"?,"merged_into"?,"answer"?,"answered_at"?,"answer_kind"?,
 * "due_date"}],"by_source":{},"by_group":{},"received","in_review",
 * "not_admitted","not_admitted_by_reason":{reason: n}}. Only what moderation
 * let through is listed, once each: approved, selected or answered (live or
 * in writing) questions and those merged into one of them. Pending ones (and
 * those merged into a pending one) are only counted in in_review, rejected
 * ones only in not_admitted, by reason: their text was never checked, or was
 * refused for what it says. by_source and by_group count every question
 * received. A name only when the asker agreed to show it; no contact data. */
cJSON *vt_hearing_report(struct vt_store_reader *r, const char *code);

/* The wall message {"topic":"wall","hearing","questions":[{"radicado",
 * "text","status","topic","name"?}]} (name only when show_name); caller
 * frees; NULL when no such hearing. */
char *vt_hearing_wall_json(struct vt_store_reader *r, const char *code);

/* The hearing whose question window is open at the job's clock (the one
 * closing first when several are): 0 and *out filled, VT_ENOTFOUND when none,
 * VT_ESTORE. Runs on the writer thread inside a job. */
int vt_hearing_open_now(struct vt_store_tx *tx, struct vt_hearing *out);

/* After vt_hearing_question_run, in the same job: records how to reach the
 * asker of the new question it (phone and email may be NULL; reply_channel a
 * static string or NULL), in the store and in *it. 0, VT_ENOMEM or VT_ESTORE. */
int vt_hearing_question_contact(struct vt_store_tx *tx, struct vt_item *it, const char *phone,
                                const char *email, const char *reply_channel);

#endif
