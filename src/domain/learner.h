/* learner.h - the learned classifier's thread: keeps the model in use equal
 * to the store's active one (classify train on any host, or another
 * instance's retraining, reach every instance within
 * classify.refresh_seconds, a minute by default), keeps the
 * routable dependencias current, and retrains every classify.retrain_hours
 * (once per period across the instances on one database: schedule.h).
 *
 * Owns: its thread and the condition it sleeps on.
 * Threads: vt_learner_start and _stop from the daemon's main thread; the
 * thread itself reads through a reader of its own and writes through store
 * jobs (vt_classifier_retrain).
 */
#ifndef VT_LEARNER_H
#define VT_LEARNER_H

#include "core/config.h"
#include "store/store.h"

struct vt_learner;

/* Before the daemon serves: puts the store's active model in use, or, when
 * the store has none, stores and uses the shipped one (for classify.kind
 * "nb", one trained the same way). 0 or VT_E*. Nothing when classify.enabled
 * is off. */
int vt_learner_first_model(const struct vt_config *cfg, struct vt_store *s);

/* Starts the thread. 0 or VT_E*; *out NULL when classify.enabled is off. */
int vt_learner_start(const struct vt_config *cfg, struct vt_store *s, struct vt_learner **out);
/* Stops and joins it (an ongoing retraining finishes first); NULL ok. */
void vt_learner_stop(struct vt_learner *l);

#endif
