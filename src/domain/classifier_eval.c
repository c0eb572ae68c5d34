/* classifier_eval.c - scoring a corpus as intake would, the eval report,
 * and retraining: see classifier_eval.h. */
#include "domain/classifier_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/item.h"
#include "domain/intake.h"

/* ---- scoring ---- */

/* A corpus line as the item intake would build from it. */
static struct vt_item *line_item(const struct vt_config *cfg, const struct vt_corpus_doc *d)
{
    struct vt_item *it = vt_item_new();
    if (!it)
        return NULL;
    it->kind = "pqrsd";
    it->channel = vt_corpus_channel(d);
    it->subject = strdup(d->subject);
    it->body = strdup(d->text);
    it->req.person_type = "natural";
    if (strchr(d->from, '@'))
        it->req.email = strdup(d->from);
    else if (d->from[0])
        it->req.phone = strdup(d->from);
    /* The type: an e-mail's tag or subject keyword, else the model's guess
     * (a web form and WhatsApp ask it; here every line is a guess). */
    const char *t =
        strcmp(it->channel, "email") == 0 ? vt_intake_type_from_subject(cfg, d->subject) : NULL;
    it->type = t;
    it->needs_triage = t == NULL;
    if (!it->subject || !it->body) {
        vt_item_free(it);
        return NULL;
    }
    return it;
}

struct tally {
    const char **labels; /* the gold and predicted labels seen, in order */
    size_t n_labels, cap;
    size_t *confusion; /* n_labels x n_labels, row gold, column predicted (grown) */
    size_t conf_dim;
    size_t n, right;
};

static long tally_label(struct tally *t, const char *l)
{
    for (size_t i = 0; i < t->n_labels; i++)
        if (strcmp(t->labels[i], l) == 0)
            return (long)i;
    if (t->n_labels == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        const char **p = realloc(t->labels, cap * sizeof(*p));
        size_t *c = calloc(cap * cap, sizeof(*c));
        if (!p || !c) {
            free(c);
            if (p)
                t->labels = p;
            return -1;
        }
        for (size_t i = 0; i < t->n_labels; i++)
            for (size_t j = 0; j < t->n_labels; j++)
                c[i * cap + j] = t->confusion[i * t->conf_dim + j];
        free(t->confusion);
        t->confusion = c;
        t->conf_dim = cap;
        t->labels = p;
        t->cap = cap;
    }
    t->labels[t->n_labels] = l;
    return (long)t->n_labels++;
}

static int tally_add(struct tally *t, const char *gold, const char *got)
{
    long g = tally_label(t, gold), p = tally_label(t, got && *got ? got : "(ninguno)");
    if (g < 0 || p < 0)
        return VT_ENOMEM;
    t->confusion[(size_t)g * t->conf_dim + (size_t)p]++;
    t->n++;
    t->right += g == p;
    return 0;
}

struct prf {
    double p, r, f;
    size_t support;
};

static struct prf tally_prf(const struct tally *t, size_t c)
{
    size_t tp = t->confusion[c * t->conf_dim + c], gold = 0, pred = 0;
    for (size_t j = 0; j < t->n_labels; j++) {
        gold += t->confusion[c * t->conf_dim + j];
        pred += t->confusion[j * t->conf_dim + c];
    }
    struct prf x = {pred ? (double)tp / (double)pred : 0, gold ? (double)tp / (double)gold : 0, 0,
                    gold};
    x.f = x.p + x.r > 0 ? 2 * x.p * x.r / (x.p + x.r) : 0;
    return x;
}

static double tally_macro_f1(const struct tally *t)
{
    double sum = 0;
    size_t k = 0;
    for (size_t c = 0; c < t->n_labels; c++) {
        struct prf x = tally_prf(t, c);
        if (!x.support && !strcmp(t->labels[c], "(ninguno)"))
            continue;
        sum += x.f;
        k++;
    }
    return k ? sum / (double)k : 0;
}

/* The labels are borrowed from the corpus and the items' static strings;
 * predictions of the model are copied here so they outlive the item. */
struct scoring {
    struct tally t[VT_TASKS];
    char (*got)[VT_TASKS][64]; /* per line */
};

static int score_lines(const struct vt_config *cfg, const struct vt_textmodel *m,
                       const struct vt_corpus *c, struct scoring *s)
{
    if (!(s->got = calloc(c->n + 1, sizeof(*s->got))))
        return VT_ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        const struct vt_corpus_doc *d = &c->d[i];
        struct vt_item *it = line_item(cfg, d);
        struct vt_suggestion sug;
        if (!it)
            return VT_ENOMEM;
        int rc = vt_intake_classify(cfg, m, it, NULL, NULL, NULL, &sug);
        if (rc) {
            vt_item_free(it);
            return rc;
        }
        const char *got[VT_TASKS] = {it->type ? it->type : "", sug.p[VT_TASK_CLASS].label,
                                     it->group, sug.p[VT_TASK_DEPENDENCIA].label};
        for (int t = 0; t < VT_TASKS; t++)
            snprintf(s->got[i][t], sizeof(s->got[i][t]), "%s", got[t]);
        vt_item_free(it);
        for (int t = 0; t < VT_TASKS; t++)
            if (d->label[t][0] && (rc = tally_add(&s->t[t], d->label[t], s->got[i][t])))
                return rc;
    }
    return 0;
}

static void scoring_free(struct scoring *s)
{
    for (int t = 0; t < VT_TASKS; t++) {
        free(s->t[t].labels);
        free(s->t[t].confusion);
    }
    free(s->got);
}

int vt_classifier_score(const struct vt_config *cfg, const struct vt_textmodel *m,
                        const struct vt_corpus *c, struct vt_scores *out)
{
    struct scoring s = {0};
    memset(out, 0, sizeof(*out));
    int rc = score_lines(cfg, m, c, &s);
    for (int t = 0; t < VT_TASKS && !rc; t++) {
        out->n[t] = s.t[t].n;
        out->accuracy[t] = s.t[t].n ? (double)s.t[t].right / (double)s.t[t].n : 0;
        out->macro_f1[t] = tally_macro_f1(&s.t[t]);
    }
    scoring_free(&s);
    return rc;
}

int vt_classifier_report(const struct vt_config *cfg, const struct vt_textmodel *m,
                         const struct vt_corpus *c, FILE *f)
{
    struct scoring s = {0};
    int rc = score_lines(cfg, m, c, &s);
    if (rc) {
        scoring_free(&s);
        return rc;
    }
    fprintf(f, "model %s (%s), %zu messages\n", m ? vt_textmodel_version(m) : "(none)",
            m ? vt_textmodel_kind(m) : "rules only", c->n);
    double acc[VT_TASKS] = {0};
    for (int t = 0; t < VT_TASKS; t++) {
        const struct tally *x = &s.t[t];
        acc[t] = x->n ? (double)x->right / (double)x->n : 0;
        fprintf(f, "\n== %s: %zu labelled, accuracy %.3f, macro-F1 %.3f\n", vt_task_names[t], x->n,
                acc[t], tally_macro_f1(x));
        fprintf(f, "%-26s %9s %9s %9s %8s\n", "class", "precision", "recall", "F1", "support");
        for (size_t i = 0; i < x->n_labels; i++) {
            struct prf p = tally_prf(x, i);
            fprintf(f, "%-26s %9.3f %9.3f %9.3f %8zu\n", x->labels[i], p.p, p.r, p.f, p.support);
        }
        fprintf(f, "confusion (rows: labelled, columns: predicted, in the order above)\n");
        for (size_t i = 0; i < x->n_labels; i++) {
            fprintf(f, "%-26.26s", x->labels[i]);
            for (size_t j = 0; j < x->n_labels; j++)
                fprintf(f, " %4zu", x->confusion[i * x->conf_dim + j]);
            fprintf(f, "\n");
        }
    }
    fprintf(f, "\naccuracy type=%.3f group=%.3f dependencia=%.3f\n", acc[VT_TASK_TYPE],
            acc[VT_TASK_GROUP], acc[VT_TASK_DEPENDENCIA]);
    scoring_free(&s);
    return 0;
}

bool vt_classifier_not_worse(const struct vt_scores *candidate, const struct vt_scores *current,
                             int tolerance_permille)
{
    for (int t = 0; t < VT_TASKS; t++)
        if (floor(candidate->accuracy[t] * 1000 + 0.5) + tolerance_permille <
            floor(current->accuracy[t] * 1000 + 0.5))
            return false;
    return true;
}

/* ---- retraining ---- */

struct keep_job {
    const struct vt_textmodel *m;
    const struct vt_scores *scores;
    size_t trained_on, corrections;
    bool adopt;
};

static int keep_model(struct vt_store_tx *tx, void *ctx)
{
    struct keep_job *k = ctx;
    return vt_classifier_store(tx, k->m, k->scores, k->trained_on, k->corrections, k->adopt);
}

int vt_classifier_retrain(const struct vt_config *cfg, struct vt_store *s,
                          struct vt_retrain_result *res)
{
    memset(res, 0, sizeof(*res));
    struct vt_store_reader *r = vt_store_reader_new(s);
    if (!r)
        return VT_ESTORE;
    struct vt_corpus extra = {0}, held = {0}, base = {0};
    struct vt_textmodel *cur = NULL, *cand = NULL;
    struct vt_scores cur_sc, cand_sc;
    int rc = vt_classifier_corrections(r, &extra);
    if (!rc) {
        rc = vt_classifier_load_active(r, &cur);
        if (rc == VT_ENOTFOUND || rc == VT_EINVAL)
            rc = 0; /* none yet, or one this binary cannot read: replace it */
    }
    vt_store_reader_free(r);
    if (!rc)
        rc = vt_corpus_shipped(true, &held);
    if (!rc)
        rc = vt_corpus_shipped(false, &base);
    if (!rc)
        rc = vt_classifier_train(cfg, &extra, &cand);
    if (!rc)
        rc = vt_classifier_score(cfg, cand, &held, &cand_sc);
    if (!rc && cur)
        rc = vt_classifier_score(cfg, cur, &held, &cur_sc);
    if (!rc) {
        res->corrections = extra.n;
        res->trained_on = base.n + extra.n;
        res->scores = cand_sc;
        res->had_model = cur != NULL;
        if (cur) {
            res->previous = cur_sc;
            snprintf(res->previous_version, sizeof(res->previous_version), "%s",
                     vt_textmodel_version(cur));
        }
        snprintf(res->version, sizeof(res->version), "%s", vt_textmodel_version(cand));
        res->adopted =
            !cur || vt_classifier_not_worse(&cand_sc, &cur_sc, cfg->learn.retrain_tolerance);
        res->same = cur && strcmp(vt_textmodel_version(cur), vt_textmodel_version(cand)) == 0;
        if (!res->same) {
            struct keep_job k = {cand, &cand_sc, res->trained_on, extra.n, res->adopted};
            rc = vt_store_run(s, keep_model, &k);
        }
    }
    vt_corpus_free(&extra);
    vt_corpus_free(&held);
    vt_corpus_free(&base);
    vt_textmodel_free(cur);
    vt_textmodel_free(cand);
    return rc;
}
