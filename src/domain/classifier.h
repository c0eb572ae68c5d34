/* classifier.h - the learned classifier at work: the model every thread
 * uses, what it suggests for an item, training it from the shipped corpus
 * plus what staff corrected, scoring it, and keeping models in the store.
 *
 * The model (core/textmodel.h) suggests a type, a petition class, a
 * stakeholder group and a dependencia for each PQRSD. Intake (intake.h) uses
 * the suggestions below the rules that know better: a declared group, the
 * contacts register and the domain rules decide the group where they apply;
 * an e-mail's [PQRSD:tipo] tag or subject keyword decides its type. Above
 * classify.route_confidence the item is filed routed to the suggested
 * dependencia (audit actor "sistema:clasificador", the reasons in the
 * event); below it, it waits in triage with the suggestion shown.
 *
 * Training data: the shipped corpus's training part (data/corpus/, compiled
 * in) plus the labels staff set or confirmed (classifier_labels), each
 * counting as classify.correction_weight messages. A new model replaces the
 * active one only if it scores no worse on the shipped held-out part (within
 * classify.retrain_tolerance thousandths on each task).
 *
 * Owns: the process's model pointer (vt_classifier_model); the SQL of
 * classifier_models and classifier_labels. Scoring and retraining, which
 * classify as intake does, are classifier_eval.h's.
 * Threads: vt_classifier_acquire/release and vt_classifier_routable from any
 * thread (a read-write lock and a mutex); the rest on the caller's thread
 * with the reader or transaction it passes.
 */
#ifndef VT_CLASSIFIER_H
#define VT_CLASSIFIER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/corpus.h"
#include "core/textmodel.h"
#include "store/store.h"

/* The shipped corpus, compiled in: its training part or its held-out part. */
int vt_corpus_shipped(bool heldout, struct vt_corpus *c);
/* The model trained from the shipped training part at build time with the
 * default options (kind "lr"): what a new installation starts with.
 * 0 or VT_E*. */
int vt_classifier_shipped(struct vt_textmodel **out);

/* ---- the model in use ---- */

/* The model in use for classifying, or NULL (none loaded, or
 * classify.enabled off), read-locked until vt_classifier_release: a model
 * being replaced waits for every thread using it. Any thread; hold it only
 * while classifying. */
const struct vt_textmodel *vt_classifier_acquire(void);
void vt_classifier_release(void);
/* The model in use, unlocked: only for the thread that replaces it (the
 * learner, and the daemon's start before any other thread classifies). */
const struct vt_textmodel *vt_classifier_model(void);
/* Makes m the model in use (taking it), and frees the one before once no
 * thread uses it. */
void vt_classifier_use(struct vt_textmodel *m);
/* Frees the model and the routable list. Only when no thread classifies. */
void vt_classifier_shutdown(void);

/* The dependencias the classifier may route to (the active ones), taking
 * codes (NULL-terminated, heap; the list before is freed). Until it is
 * called, any the model knows. */
void vt_classifier_set_routable(char **codes);
/* Whether code is one of them. Any thread. */
bool vt_classifier_routable(const char *code);

/* ---- suggestions ---- */

struct vt_suggestion {
    char version[13];
    struct vt_prediction p[VT_TASKS]; /* label "" where the model has none */
};

/* What m suggests for a message; exclude: words never shown (the
 * requester's name and e-mail). 0 or VT_ENOMEM. */
int vt_classifier_suggest(const struct vt_textmodel *m, const struct vt_text_input *in,
                          struct vt_suggestion *out);
/* The suggestion as stored in items.classifier: a compact text, about a
 * third of its JSON, since it is written with every intake. "s1" TAB the
 * model's version, then a line per task the model has: the task's index,
 * the label, the confidence in thousandths, then each reason's text and
 * weight in thousandths, all TAB-separated (texts never hold a TAB or a
 * line end). Caller frees; NULL when out of memory. */
char *vt_classifier_pack(const struct vt_suggestion *s);
/* Reads what vt_classifier_pack wrote. 0 or VT_EINVAL. */
int vt_classifier_unpack(const char *stored, struct vt_suggestion *out);
/* A stored suggestion as the JSON shown to staff: {"model":V,"type":
 * {"label":..,"confidence":0.934,"reasons":[{"feature":..,"weight":..}]},...}
 * (rows filed before the compact form hold that JSON). NULL when stored is
 * NULL or unreadable. Caller deletes. */
cJSON *vt_classifier_stored_json(const char *stored);
/* The payload of the routing's audit event: {"dependencia":..,"assignee":null,
 * "model":..,"confidence":..,"reasons":[..]}. Caller frees; NULL: no memory. */
char *vt_classifier_route_json(const struct vt_suggestion *s);

/* ---- training ---- */

/* Accuracy and macro-F1 per task on a corpus (classifier_eval.h). */
struct vt_scores {
    size_t n[VT_TASKS]; /* lines labelled for the task */
    double accuracy[VT_TASKS];
    double macro_f1[VT_TASKS];
};

/* Trains a model of cfg's kind from the shipped training part plus extra
 * (NULL or n_extra 0: none; each weighing classify.correction_weight).
 * 0 or VT_E*. */
int vt_classifier_train(const struct vt_config *cfg, const struct vt_corpus *extra,
                        struct vt_textmodel **out);

/* ---- the store ---- */

/* Reader: the staff labels of filed items as training lines (text from the
 * items). 0 or VT_ESTORE. */
int vt_classifier_corrections(struct vt_store_reader *r, struct vt_corpus *out);
/* Reader: the newest active model. 0, VT_ENOTFOUND or VT_E*. */
int vt_classifier_load_active(struct vt_store_reader *r, struct vt_textmodel **out);
/* Reader: the version of the newest active model into out, "" when none. */
int vt_classifier_active_version(struct vt_store_reader *r, char out[13]);
/* Writer: stores m with its held-out scores and how many messages it learned
 * from (corrections of them from the store); active when adopt. 0 or VT_E*. */
int vt_classifier_store(struct vt_store_tx *tx, const struct vt_textmodel *m,
                        const struct vt_scores *held_out, size_t trained_on, size_t corrections,
                        bool adopt);
/* Writer: records what staff set or confirmed for task on item_id (training
 * data for the next model). 0 or VT_E*. */
int vt_classifier_label(struct vt_store_tx *tx, int64_t item_id, const char *task,
                        const char *label, const char *username);

/* Any thread but the writer: makes the store's active model the one in use
 * if it is another (*changed), and refreshes the routable dependencias.
 * 0 or VT_E*. */
int vt_classifier_refresh(const struct vt_config *cfg, struct vt_store *s, bool *changed);
/* The reader's thread: refreshes the routable dependencias from the active
 * ones (after an admin changed them). 0 or VT_E*. */
int vt_classifier_refresh_routable(struct vt_store_reader *r);

#endif
