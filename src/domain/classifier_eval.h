/* classifier_eval.h - judging the learned classifier: classifying a
 * labelled corpus exactly as intake would (intake.h's vt_intake_classify),
 * the figures and report of `ventanilla classify eval`, and retraining:
 * a new model from the shipped corpus plus staff corrections, adopted only
 * if it scores no worse on the shipped held-out part.
 *
 * Owns: the scoring and the retraining decision. Must not: keep models
 * (classifier.h does) or decide intake's rules (intake.h does).
 * Threads: any but the store's writer (retraining runs store jobs).
 */
#ifndef VT_CLASSIFIER_EVAL_H
#define VT_CLASSIFIER_EVAL_H
#include <stdbool.h>
#include <stdio.h>

#include "domain/classifier.h"

/* Classifies every line of c as intake would (the channel, from as the
 * sender's address or phone, no declared group, no register) with model m
 * and cfg's rules, and fills scores. 0 or VT_E*. */
int vt_classifier_score(const struct vt_config *cfg, const struct vt_textmodel *m,
                        const struct vt_corpus *c, struct vt_scores *out);
/* Prints the evaluation report of classify eval to f; its last line is
 * "accuracy type=0.NNN group=0.NNN dependencia=0.NNN". 0 or VT_E*. */
int vt_classifier_report(const struct vt_config *cfg, const struct vt_textmodel *m,
                         const struct vt_corpus *c, FILE *f);

/* Whether candidate may replace current: on no task is its held-out
 * accuracy lower by more than tolerance_permille (thousandths; any
 * retraining moves a message or two of the held-out part either way). */
bool vt_classifier_not_worse(const struct vt_scores *candidate, const struct vt_scores *current,
                             int tolerance_permille);

/* Any thread but the writer: trains a model from the shipped corpus and the
 * store's corrections, scores it and the active one on the held-out part,
 * and stores it (active unless it scores worse; not stored when it is the
 * active one, byte for byte). res says what happened. 0 or VT_E*. */
struct vt_retrain_result {
    char version[13], previous_version[13];
    bool had_model, adopted, same;
    size_t trained_on, corrections;
    struct vt_scores scores, previous;
};
int vt_classifier_retrain(const struct vt_config *cfg, struct vt_store *s,
                          struct vt_retrain_result *res);

#endif
