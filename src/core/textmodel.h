/* textmodel.h - the learned classifier: one linear model per task (type,
 * petition class, stakeholder group, dependencia) over the features of
 * features.h, trained from labelled messages, saved as text, explained.
 *
 * Kinds (vt_train_opts.kind), measured on the shipped corpus (README):
 *   "lr"  multinomial logistic regression, SGD with L2, each pass in an order
 *         keyed by the documents' content (an added document leaves the
 *         others' order as it was);
 *         features weigh 1/sqrt(n) so long letters do not drown short chats,
 *         and each label's documents weigh the square root of its inverse
 *         share, so rare groups are not drowned by ciudadanía;
 *   "nb"  multinomial naive Bayes on feature presence, additive smoothing
 *         of 0.5 (measured 3-8 points below "lr": README).
 * Training is deterministic: the same documents in the same order give the
 * same model bytes (no clock, no random seed, the vocabulary sorted). The
 * version is the first 12 hex digits of the BLAKE2b hash of those bytes.
 *
 * Owns: the model (immutable once built: predictions run on several threads
 * at once without locks).
 * Must not: read files or the database (callers hand it documents and bytes).
 */
#ifndef VT_TEXTMODEL_H
#define VT_TEXTMODEL_H
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/features.h"

enum { VT_TASK_TYPE, VT_TASK_CLASS, VT_TASK_GROUP, VT_TASK_DEPENDENCIA, VT_TASKS };
/* "type", "petition_class", "group", "dependencia". */
extern const char *const vt_task_names[VT_TASKS];

struct vt_train_doc {
    const struct vt_features *f;
    const char *label[VT_TASKS]; /* NULL or "": not labelled for that task */
    double weight;               /* how many documents this one counts as (> 0) */
};

struct vt_train_opts {
    const char *kind; /* "lr" (default) or "nb" */
    int min_df;       /* a feature must appear in this many documents (default 2) */
    int epochs;       /* lr: passes over the documents (default 30) */
    double l2;        /* lr: weight decay (default 1e-3) */
};

#define VT_REASONS 5
struct vt_reason {
    char shown[64]; /* features.h's text for staff */
    double weight;  /* how much it pushed toward the label against the runner-up */
};

struct vt_prediction {
    char label[64];    /* "" when the task has no model */
    double confidence; /* the label's probability, 0..1 */
    char runner_up[64];
    struct vt_reason reasons[VT_REASONS];
    size_t n_reasons;
};

struct vt_textmodel;

/* Trains on docs[0..n) with o (NULL: defaults). A task with fewer than two
 * labels gets no model. 0, VT_EINVAL (no documents, bad kind) or VT_ENOMEM. */
int vt_textmodel_train(const struct vt_train_doc *docs, size_t n, const struct vt_train_opts *o,
                       struct vt_textmodel **out);
/* Appends the model's bytes (text) to b. 0 or VT_ENOMEM. */
int vt_textmodel_save(const struct vt_textmodel *m, struct vt_buf *b);
/* Builds a model from bytes vt_textmodel_save wrote. 0, VT_EINVAL or VT_ENOMEM. */
int vt_textmodel_load(const char *data, size_t len, struct vt_textmodel **out);
void vt_textmodel_free(struct vt_textmodel *m);

/* The model's version (12 hex digits) and kind. */
const char *vt_textmodel_version(const struct vt_textmodel *m);
const char *vt_textmodel_kind(const struct vt_textmodel *m);
/* The labels task knows, NULL-terminated, owned by m. */
const char *const *vt_textmodel_labels(const struct vt_textmodel *m, int task);

/* Predicts task for the message with features f. allowed (NULL: any) limits
 * the labels considered, e.g. to the active dependencias: a NULL-terminated
 * list. Fills out (label "" when the task has no model or nothing is
 * allowed). Never fails. */
void vt_textmodel_predict(const struct vt_textmodel *m, const struct vt_features *f, int task,
                          const char *const *allowed, struct vt_prediction *out);

/* vt_textmodel_predict for every task (any label), looking each feature up
 * once. */
void vt_textmodel_predict_all(const struct vt_textmodel *m, const struct vt_features *f,
                              struct vt_prediction out[VT_TASKS]);

#endif
