/* learner.c - the classifier's thread: see learner.h. */
#include "domain/learner.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "domain/classifier.h"
#include "domain/classifier_eval.h"
#include "domain/schedule.h"

struct vt_learner {
    const struct vt_config *cfg;
    struct vt_store *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

struct keep {
    const struct vt_textmodel *m;
    struct vt_scores sc;
    size_t trained_on;
};

static int keep_first(struct vt_store_tx *tx, void *ctx)
{
    struct keep *k = ctx;
    return vt_classifier_store(tx, k->m, &k->sc, k->trained_on, 0, true);
}

int vt_learner_first_model(const struct vt_config *cfg, struct vt_store *s)
{
    if (!cfg->learn.enabled)
        return 0;
    bool changed;
    int rc = vt_classifier_refresh(cfg, s, &changed);
    if (rc || vt_classifier_model())
        return rc;
    struct vt_textmodel *m = NULL;
    struct vt_corpus held = {0}, base = {0};
    struct keep k = {0};
    rc = strcmp(cfg->learn.kind, "lr") ? vt_classifier_train(cfg, NULL, &m)
                                       : vt_classifier_shipped(&m);
    if (!rc)
        rc = vt_corpus_shipped(true, &held);
    if (!rc)
        rc = vt_corpus_shipped(false, &base);
    if (!rc)
        rc = vt_classifier_score(cfg, m, &held, &k.sc);
    if (!rc) {
        k.m = m;
        k.trained_on = base.n;
        rc = vt_store_run(s, keep_first, &k);
    }
    vt_corpus_free(&held);
    vt_corpus_free(&base);
    if (rc) {
        vt_textmodel_free(m);
        return rc;
    }
    vt_log(VT_LOG_INFO, "classifier_model", "version=%s source=shipped", vt_textmodel_version(m));
    vt_classifier_use(m);
    return vt_classifier_refresh(cfg, s, &changed); /* the routable dependencias */
}

struct claim {
    struct vt_store *store;
    int64_t period_ms;
};

static int claim_retrain(struct vt_store_tx *tx, void *ctx)
{
    struct claim *c = ctx;
    int rc = vt_schedule_claim(tx, "classifier_retrain", c->period_ms, vt_store_instance(c->store),
                               vt_store_shared(c->store));
    return rc < 0 ? rc : rc == 1 ? 0 : VT_EEXIST;
}

static void retrain(struct vt_learner *l)
{
    struct claim c = {l->store, (int64_t)l->cfg->learn.retrain_hours * 3600 * 1000};
    int rc = vt_store_run(l->store, claim_retrain, &c);
    if (rc == VT_EEXIST)
        return; /* another instance retrained within the period */
    struct vt_retrain_result r;
    if (!rc)
        rc = vt_classifier_retrain(l->cfg, l->store, &r);
    if (rc) {
        vt_log(VT_LOG_WARN, "classifier_retrain_failed", "error=\"%s\"", vt_strerror(rc));
        return;
    }
    vt_log(VT_LOG_INFO, "classifier_retrained",
           "version=%s corrections=%zu adopted=%d type=%.3f group=%.3f dependencia=%.3f", r.version,
           r.corrections, r.adopted && !r.same, r.scores.accuracy[VT_TASK_TYPE],
           r.scores.accuracy[VT_TASK_GROUP], r.scores.accuracy[VT_TASK_DEPENDENCIA]);
}

static void *run(void *arg)
{
    struct vt_learner *l = arg;
    int64_t next_retrain =
        l->cfg->learn.retrain_hours
            ? vt_clock_now_ms() + (int64_t)l->cfg->learn.retrain_hours * 3600 * 1000
            : 0;
    pthread_mutex_lock(&l->lock);
    while (!l->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += l->cfg->learn.refresh_seconds;
        pthread_cond_timedwait(&l->cond, &l->lock, &until);
        if (l->stop)
            break;
        pthread_mutex_unlock(&l->lock);
        if (next_retrain && vt_clock_now_ms() >= next_retrain) {
            retrain(l);
            next_retrain = vt_clock_now_ms() + (int64_t)l->cfg->learn.retrain_hours * 3600 * 1000;
        }
        bool changed = false;
        int rc = vt_classifier_refresh(l->cfg, l->store, &changed);
        if (rc)
            vt_log(VT_LOG_WARN, "classifier_refresh_failed", "error=\"%s\"", vt_strerror(rc));
        else if (changed)
            vt_log(VT_LOG_INFO, "classifier_model", "version=%s source=store",
                   vt_textmodel_version(vt_classifier_model()));
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

int vt_learner_start(const struct vt_config *cfg, struct vt_store *s, struct vt_learner **out)
{
    *out = NULL;
    if (!cfg->learn.enabled)
        return 0;
    struct vt_learner *l = calloc(1, sizeof(*l));
    if (!l)
        return VT_ENOMEM;
    l->cfg = cfg;
    l->store = s;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    if (pthread_create(&l->thread, NULL, run, l)) {
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->cond);
        free(l);
        return VT_ENOMEM;
    }
    *out = l;
    return 0;
}

void vt_learner_stop(struct vt_learner *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    free(l);
}
