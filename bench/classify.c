/* classify.c - the learned classifier's speed on one core (bench/classify
 * builds and runs it; issue 15: at least 20,000 messages/s for the whole
 * suggestion).
 *
 * Over the shipped held-out corpus (compiled in), each stage repeated in
 * whole passes until SECONDS have gone by, after one pass of warm-up:
 *   ceiling      vt_fold_es + strlen of subject and text: the least any
 *                classifier must do (read the text once);
 *   features     vt_features_extract alone (as vt_classifier_suggest calls it:
 *                a fresh feature set, freed after);
 *   prediction   vt_textmodel_predict_all (the four tasks, each feature looked
 *                up once, as the suggestion does) alone, over features
 *                extracted once beforehand;
 *   suggestion   vt_classifier_suggest: features + the four predictions;
 *   intake step  vt_classifier_score (what `classify eval` runs: the item as
 *                intake builds it, vt_intake_classify with the rules, the
 *                suggestion's JSON and the routing payload), with the shipped
 *                model and with none (rules only): the model's cost inside
 *                intake's classify step.
 * Then the training time of the shipped training part, kinds lr and nb.
 *
 * Rates are printed per second of wall time and per second of this thread's
 * CPU time; the target is judged on CPU time (the work of one core). How
 * busy the machine was, per stage: the share of its core the thread got
 * ("core"), the cores every other process used ("others", from /proc/stat)
 * and the CPU the hypervisor took ("steal", in cores): on a virtual machine
 * a stolen moment still counts as the thread's CPU time, and a busy sibling
 * slows it too, so with others or steal well above 0 the figures are noisy.
 * Must not: write files or touch a store. */
#include <sched.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/corpus.h"
#include "core/error.h"
#include "core/features.h"
#include "core/text.h"
#include "core/textmodel.h"
#include "domain/classifier.h"
#include "domain/classifier_eval.h"

#define TARGET_PER_S 20000.0

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct run {
    double wall, cpu; /* seconds */
    size_t msgs, passes;
    double others, steal; /* cores the rest of the machine used; stolen by the host */
};

/* The machine's busy and stolen time so far, in seconds (all CPUs). */
static void machine(double *busy, double *steal)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    *busy = *steal = 0;
    if (!f)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 8) {
        double hz = (double)sysconf(_SC_CLK_TCK);
        *busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
        *steal = (double)v[7] / hz;
    }
    fclose(f);
}

struct bench {
    const struct vt_corpus *c;
    struct vt_text_input *in;
    struct vt_features *pre; /* features extracted once, for prediction alone */
    const struct vt_textmodel *m;
    const struct vt_config *cfg;
    char *fold; /* room for the longest subject or text, folded */
    size_t fold_len;
    volatile size_t sink; /* keeps the compiler from dropping the work */
};

typedef int (*pass_fn)(struct bench *b);

static int pass_ceiling(struct bench *b)
{
    size_t s = 0;
    for (size_t i = 0; i < b->c->n; i++) {
        vt_fold_es(b->in[i].subject, b->fold, b->fold_len);
        s += strlen(b->fold);
        vt_fold_es(b->in[i].body, b->fold, b->fold_len);
        s += strlen(b->fold);
    }
    b->sink += s;
    return 0;
}

static int pass_features(struct bench *b)
{
    for (size_t i = 0; i < b->c->n; i++) {
        struct vt_features f = {0};
        int rc = vt_features_extract(&b->in[i], &f);
        b->sink += f.n;
        vt_features_cleanup(&f);
        if (rc)
            return rc;
    }
    return 0;
}

static int pass_predict(struct bench *b)
{
    for (size_t i = 0; i < b->c->n; i++) {
        struct vt_prediction p[VT_TASKS];
        vt_textmodel_predict_all(b->m, &b->pre[i], p);
        for (int t = 0; t < VT_TASKS; t++)
            b->sink += p[t].n_reasons;
    }
    return 0;
}

static int pass_suggest(struct bench *b)
{
    for (size_t i = 0; i < b->c->n; i++) {
        struct vt_suggestion s;
        int rc = vt_classifier_suggest(b->m, &b->in[i], &s);
        if (rc)
            return rc;
        b->sink += s.p[VT_TASK_DEPENDENCIA].n_reasons;
    }
    return 0;
}

static int pass_intake(struct bench *b)
{
    struct vt_scores sc;
    int rc = vt_classifier_score(b->cfg, b->m, b->c, &sc);
    b->sink += sc.n[VT_TASK_TYPE];
    return rc;
}

/* Runs fn in whole passes (after one of warm-up) until secs have gone by. */
static int measure(struct bench *b, pass_fn fn, double secs, struct run *r)
{
    int rc = fn(b);
    if (rc)
        return rc;
    memset(r, 0, sizeof(*r));
    double b0, s0, b1, s1;
    machine(&b0, &s0);
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    do {
        if ((rc = fn(b)))
            return rc;
        r->passes++;
        r->msgs += b->c->n;
        r->wall = now(CLOCK_MONOTONIC) - w0;
    } while (r->wall < secs);
    r->cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
    machine(&b1, &s1);
    r->others = (b1 - b0 - r->cpu) / r->wall;
    r->others = r->others < 0 ? 0 : r->others;
    r->steal = (s1 - s0) / r->wall;
    return 0;
}

static void fmt_int(double v, char *out, size_t len)
{
    char digits[32], *o = out;
    snprintf(digits, sizeof(digits), "%.0f", v);
    size_t n = strlen(digits);
    for (size_t i = 0; i < n && (size_t)(o - out) + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            *o++ = ',';
        *o++ = digits[i];
    }
    *o = '\0';
}

static void print_run(const char *what, const struct run *r)
{
    char wall[32], cpu[32];
    fmt_int((double)r->msgs / r->wall, wall, sizeof(wall));
    fmt_int((double)r->msgs / r->cpu, cpu, sizeof(cpu));
    printf("%-38s %12s %12s %8.2f %8.2f %5.0f%% %7.2f %6.2f %6zu\n", what, wall, cpu,
           r->wall / r->msgs * 1e6, r->cpu / r->msgs * 1e6, 100 * r->cpu / r->wall, r->others,
           r->steal, r->passes);
}

/* Trains on the shipped training part with kind; prints the time. */
static int train(const struct vt_corpus *base, const char *kind, const char *shipped)
{
    const struct vt_corpus *parts[] = {base};
    const double weights[] = {1.0};
    struct vt_train_opts o = {kind, 0, 0, 0};
    struct vt_textmodel *m = NULL;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    int rc = vt_corpus_train_model(parts, weights, 1, &o, &m);
    double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_THREAD_CPUTIME_ID) - c0;
    if (rc) {
        fprintf(stderr, "training (%s): %s\n", kind, vt_strerror(rc));
        return rc;
    }
    printf("training %-4s %zu messages: %.3f s wall, %.3f s cpu; model %s%s\n", kind, base->n, w, c,
           vt_textmodel_version(m),
           strcmp(vt_textmodel_version(m), shipped) == 0 ? " (the shipped model, byte for byte)"
                                                         : "");
    vt_textmodel_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    const char *only = argc > 2 ? argv[2] : NULL; /* one stage, e.g. under perf record */
    if (argc > 3 || secs <= 0 || sodium_init() < 0) {
        fprintf(stderr, "usage: vt-bench-classify [SECONDS=3] [ceiling|features|predict|suggest|"
                        "intake-rules|intake-model]\n");
        return 2;
    }
    struct vt_corpus held = {0}, base = {0};
    struct vt_textmodel *m = NULL;
    struct vt_config cfg;
    struct bench b = {0};
    const char **exclude = NULL;
    int rc = vt_config_defaults(&cfg);
    if (rc)
        return 1;
    if ((rc = vt_corpus_shipped(true, &held)) || (rc = vt_corpus_shipped(false, &base)) ||
        (rc = vt_classifier_shipped(&m)))
        goto fail;
    b.c = &held;
    b.m = m;
    b.cfg = &cfg;
    b.in = calloc(held.n, sizeof(*b.in));
    b.pre = calloc(held.n, sizeof(*b.pre));
    rc = VT_ENOMEM;
    if (!b.in || !b.pre)
        goto fail;
    /* What intake hands the classifier: the requester's name and e-mail are
     * never features (a name every message shares, the address if any). */
    static const char *const names[] = {"Persona Prueba"};
    if (!(exclude = calloc(2 * held.n, sizeof(*exclude))))
        goto fail;
    size_t bytes = 0, longest = 0;
    for (size_t i = 0; i < held.n; i++) {
        const struct vt_corpus_doc *d = &held.d[i];
        exclude[2 * i] = names[0];
        exclude[2 * i + 1] = strchr(d->from, '@') ? d->from : NULL;
        b.in[i] = (struct vt_text_input){vt_corpus_channel(d), d->from, d->subject, d->text,
                                         &exclude[2 * i],      2};
        size_t s = strlen(d->subject), t = strlen(d->text);
        bytes += s + t;
        longest = s > longest ? s : t > longest ? t : longest;
        if ((rc = vt_features_extract(&b.in[i], &b.pre[i])))
            goto fail;
    }
    b.fold_len = 2 * longest + 1; /* folding never grows UTF-8; room to spare */
    rc = VT_ENOMEM;
    if (!(b.fold = malloc(b.fold_len)))
        goto fail;

    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : -1;
    size_t nfeat = 0;
    for (size_t i = 0; i < held.n; i++)
        nfeat += b.pre[i].n;
    printf("corpus:      shipped held-out part, %zu messages, %.0f bytes of subject + text and "
           "%.0f features each on average\n",
           held.n, (double)bytes / held.n, (double)nfeat / held.n);
    printf("model:       %s %s (the shipped one)\n", vt_textmodel_kind(m), vt_textmodel_version(m));
    printf("cpu:         runs on %d core%s%s; each stage in whole passes for %.1f s\n", cores,
           cores == 1 ? "" : "s", cores == 1 ? " (pinned)" : " (NOT pinned: use taskset -c 0)",
           secs);
    printf("\n%-38s %12s %12s %8s %8s %6s %7s %6s %6s\n", "stage", "msgs/s wall", "msgs/s cpu",
           "us wall", "us cpu", "core", "others", "steal", "passes");

    static const struct {
        const char *key, *what;
        pass_fn fn;
        const char *fn_name;
        bool no_model;
    } stages[] = {
#define STAGE(key, what, fn, no_model) {key, what, fn, #fn, no_model}
        STAGE("ceiling", "ceiling: vt_fold_es + strlen", pass_ceiling, false),
        STAGE("features", "features alone", pass_features, false),
        STAGE("predict", "prediction alone (4 tasks)", pass_predict, false),
        STAGE("suggest", "suggestion (vt_classifier_suggest)", pass_suggest, false),
        STAGE("intake-rules", "intake classify step, rules only", pass_intake, true),
        STAGE("intake-model", "intake classify step, rules + model", pass_intake, false),
#undef STAGE
    };
    struct run r[sizeof(stages) / sizeof(stages[0])];
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        if (only && strcmp(only, stages[i].key) != 0)
            continue;
        b.m = stages[i].no_model ? NULL : m;
        if ((rc = measure(&b, stages[i].fn, secs, &r[i])))
            goto fail;
        print_run(stages[i].what, &r[i]);
        if (only) /* for bench/classify --instructions: every message the pass function saw */
            printf("stage %s: %zu messages through %s, warm-up included\n", stages[i].key,
                   (r[i].passes + 1) * held.n, stages[i].fn_name);
    }
    if (only)
        goto fail; /* rc 0: one stage only, no summary */
    const struct run *sug = &r[3], *rules = &r[4], *model = &r[5];
    double rate = (double)sug->msgs / sug->cpu;
    char got[32];
    fmt_int(rate, got, sizeof(got));
    printf("\nmodel's cost in intake's classify step: %.2f us cpu per message\n",
           (model->cpu / model->msgs - rules->cpu / rules->msgs) * 1e6);
    printf("target:      %s: >= 20,000 messages/s on one core for the whole suggestion "
           "(got %s per cpu-second, %.2f us each)\n",
           rate >= TARGET_PER_S ? "met" : "MISSED", got, sug->cpu / sug->msgs * 1e6);
    printf("\n");
    if ((rc = train(&base, "lr", vt_textmodel_version(m))) ||
        (rc = train(&base, "nb", vt_textmodel_version(m))))
        goto fail;
fail:
    free(b.fold);
    free(exclude);
    for (size_t i = 0; b.pre && i < held.n; i++)
        vt_features_cleanup(&b.pre[i]);
    free(b.pre);
    free(b.in);
    vt_textmodel_free(m);
    vt_corpus_free(&held);
    vt_corpus_free(&base);
    vt_config_cleanup(&cfg);
    if (rc < 0)
        fprintf(stderr, "vt-bench-classify: %s\n", vt_strerror(rc));
    return rc ? 1 : 0;
}
