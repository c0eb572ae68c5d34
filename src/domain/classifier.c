/* classifier.c - the model in use, suggestions, training, scoring and the
 * classifier's tables: see classifier.h. */
#include "domain/classifier.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/item.h"
#include "domain/intake.h"
#include "store/db.h"


int vt_corpus_shipped(bool heldout, struct vt_corpus *c)
{
    char err[200];
    return heldout ? vt_corpus_parse(vt_corpus_heldout, vt_corpus_heldout_len, c, err, sizeof(err))
                   : vt_corpus_parse(vt_corpus_train, vt_corpus_train_len, c, err, sizeof(err));
}

extern const char vt_shipped_model[];
extern const size_t vt_shipped_model_len;

int vt_classifier_shipped(struct vt_textmodel **out)
{
    return vt_textmodel_load(vt_shipped_model, vt_shipped_model_len, out);
}

/* ---- the model in use ---- */

static _Atomic(const struct vt_textmodel *) current;
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vt_textmodel **retired; /* every model ever used */
static size_t n_retired;

const struct vt_textmodel *vt_classifier_model(void)
{
    return atomic_load(&current);
}

void vt_classifier_use(struct vt_textmodel *m)
{
    pthread_mutex_lock(&retired_lock);
    struct vt_textmodel **r = realloc(retired, (n_retired + 1) * sizeof(*r));
    if (r) {
        retired = r;
        retired[n_retired++] = m;
        atomic_store(&current, m);
    } else {
        vt_textmodel_free(m); /* keep the one in use */
    }
    pthread_mutex_unlock(&retired_lock);
}

static void free_codes(char **codes)
{
    for (size_t i = 0; codes && codes[i]; i++)
        free(codes[i]);
    free(codes);
}

static _Atomic(char **) routable;
static char ***old_routable;
static size_t n_old_routable;

void vt_classifier_set_routable(char **codes)
{
    pthread_mutex_lock(&retired_lock);
    char ***r = realloc(old_routable, (n_old_routable + 1) * sizeof(*r));
    if (r) {
        old_routable = r;
        old_routable[n_old_routable++] = codes;
        atomic_store(&routable, codes);
    } else {
        free_codes(codes);
    }
    pthread_mutex_unlock(&retired_lock);
}

bool vt_classifier_routable(const char *code)
{
    char **c = atomic_load(&routable);
    if (!c)
        return true;
    for (; *c; c++)
        if (strcmp(*c, code) == 0)
            return true;
    return false;
}

void vt_classifier_shutdown(void)
{
    pthread_mutex_lock(&retired_lock);
    atomic_store(&routable, NULL);
    for (size_t i = 0; i < n_old_routable; i++)
        free_codes(old_routable[i]);
    free(old_routable);
    old_routable = NULL;
    n_old_routable = 0;
    atomic_store(&current, NULL);
    for (size_t i = 0; i < n_retired; i++)
        vt_textmodel_free(retired[i]);
    free(retired);
    retired = NULL;
    n_retired = 0;
    pthread_mutex_unlock(&retired_lock);
}

/* ---- suggestions ---- */

int vt_classifier_suggest(const struct vt_textmodel *m, const struct vt_text_input *in,
                          struct vt_suggestion *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_features f = {0};
    int rc = vt_features_extract(in, &f);
    if (rc == 0) {
        snprintf(out->version, sizeof(out->version), "%s", vt_textmodel_version(m));
        for (int t = 0; t < VT_TASKS; t++)
            vt_textmodel_predict(m, &f, t, NULL, &out->p[t]);
    }
    vt_features_cleanup(&f);
    return rc;
}

static double round3(double x)
{
    return floor(x * 1000 + 0.5) / 1000;
}

cJSON *vt_classifier_json(const struct vt_suggestion *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "model", s->version);
    for (int t = 0; t < VT_TASKS; t++) {
        const struct vt_prediction *p = &s->p[t];
        if (!p->label[0])
            continue;
        cJSON *x = cJSON_AddObjectToObject(o, vt_task_names[t]);
        cJSON_AddStringToObject(x, "label", p->label);
        cJSON_AddNumberToObject(x, "confidence", round3(p->confidence));
        cJSON *rs = cJSON_AddArrayToObject(x, "reasons");
        for (size_t i = 0; i < p->n_reasons; i++) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "feature", p->reasons[i].shown);
            cJSON_AddNumberToObject(r, "weight", round3(p->reasons[i].weight));
            cJSON_AddItemToArray(rs, r);
        }
    }
    return o;
}

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
    const char *t = strcmp(it->channel, "email") == 0
                        ? vt_intake_type_from_subject(cfg, d->subject)
                        : NULL;
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
                       const struct vt_corpus *c, vt_classify_line_fn line, void *ctx,
                       struct scoring *s)
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
        const char *view[VT_TASKS];
        for (int t = 0; t < VT_TASKS; t++)
            view[t] = s->got[i][t];
        if (line)
            line(ctx, d, view);
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
                        const struct vt_corpus *c, vt_classify_line_fn line, void *ctx,
                        struct vt_scores *out)
{
    struct scoring s = {0};
    memset(out, 0, sizeof(*out));
    int rc = score_lines(cfg, m, c, line, ctx, &s);
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
    int rc = score_lines(cfg, m, c, NULL, NULL, &s);
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
        fprintf(f, "\n== %s: %zu labelled, accuracy %.3f, macro-F1 %.3f\n", vt_task_names[t],
                x->n, acc[t], tally_macro_f1(x));
        fprintf(f, "%-26s %9s %9s %9s %8s\n", "class", "precision", "recall", "F1", "support");
        for (size_t i = 0; i < x->n_labels; i++) {
            struct prf p = tally_prf(x, i);
            fprintf(f, "%-26s %9.3f %9.3f %9.3f %8zu\n", x->labels[i], p.p, p.r, p.f,
                    p.support);
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

/* ---- training ---- */

int vt_classifier_train(const struct vt_config *cfg, const struct vt_corpus *extra,
                        struct vt_textmodel **out)
{
    struct vt_corpus base;
    *out = NULL;
    int rc = vt_corpus_shipped(false, &base);
    if (rc)
        return rc;
    const struct vt_corpus *parts[] = {&base, extra};
    const double weights[] = {1.0, (double)cfg->learn.correction_weight};
    struct vt_train_opts o = {cfg->learn.kind, 0, 0, 0};
    rc = vt_corpus_train_model(parts, weights, extra && extra->n ? 2 : 1, &o, out);
    vt_corpus_free(&base);
    return rc;
}

/* ---- the store ---- */

static const char SQL_CORRECTIONS[] =
    "SELECT l.item_id, l.task, l.label, i.channel, i.subject, i.body, "
    "COALESCE(q.email, q.phone, '') FROM classifier_labels l JOIN items i ON i.id = l.item_id "
    "LEFT JOIN requesters q ON q.item_id = i.id ORDER BY l.item_id, l.task";

int vt_classifier_corrections(struct vt_store_reader *r, struct vt_corpus *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_CORRECTIONS);
    if (!st)
        return VT_ESTORE;
    int s, rc = 0;
    size_t cap = 0;
    int64_t last = 0;
    while (!rc && (s = vt_db_step(st)) == VT_DB_ROW) {
        int64_t id = vt_db_col_int(st, 0);
        if (id != last || !out->n) {
            if (out->n == cap) {
                cap = cap ? cap * 2 : 64;
                struct vt_corpus_doc *d = realloc(out->d, cap * sizeof(*d));
                if (!d) {
                    rc = VT_ENOMEM;
                    break;
                }
                out->d = d;
            }
            struct vt_corpus_doc *d = &out->d[out->n++];
            memset(d, 0, sizeof(*d));
            d->channel = strdup(vt_db_col_str(st, 3));
            d->subject = strdup(vt_db_col_str(st, 4));
            d->text = strdup(vt_db_col_str(st, 5));
            d->from = strdup(vt_db_col_str(st, 6));
            for (int t = 0; t < VT_TASKS; t++)
                d->label[t] = strdup("");
            last = id;
        }
        struct vt_corpus_doc *d = &out->d[out->n - 1];
        const char *task = vt_db_col_str(st, 1);
        for (int t = 0; t < VT_TASKS; t++)
            if (strcmp(task, vt_task_names[t]) == 0 && d->label[t]) {
                free(d->label[t]);
                d->label[t] = strdup(vt_db_col_str(st, 2));
            }
    }
    vt_db_reset(st);
    for (size_t i = 0; !rc && i < out->n; i++) {
        struct vt_corpus_doc *d = &out->d[i];
        bool ok = d->channel && d->subject && d->text && d->from;
        for (int t = 0; t < VT_TASKS; t++)
            ok = ok && d->label[t];
        if (!ok)
            rc = VT_ENOMEM;
    }
    if (!rc && s != VT_DB_DONE)
        rc = VT_ESTORE;
    if (rc)
        vt_corpus_free(out);
    return rc;
}

static const char SQL_ACTIVE_MODEL[] =
    "SELECT model, version FROM classifier_models WHERE active = 1 ORDER BY id DESC LIMIT 1";

int vt_classifier_load_active(struct vt_store_reader *r, struct vt_textmodel **out)
{
    *out = NULL;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ACTIVE_MODEL);
    if (!st)
        return VT_ESTORE;
    int s = vt_db_step(st), rc;
    if (s == VT_DB_ROW) {
        const char *m = vt_db_col_str(st, 0);
        rc = vt_textmodel_load(m, strlen(m), out);
    } else {
        rc = s == VT_DB_DONE ? VT_ENOTFOUND : VT_ESTORE;
    }
    vt_db_reset(st);
    return rc;
}

int vt_classifier_active_version(struct vt_store_reader *r, char out[13])
{
    out[0] = '\0';
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ACTIVE_MODEL);
    if (!st)
        return VT_ESTORE;
    int s = vt_db_step(st);
    if (s == VT_DB_ROW)
        vt_db_col_copy(st, 1, out, 13);
    vt_db_reset(st);
    return s == VT_DB_ROW || s == VT_DB_DONE ? 0 : VT_ESTORE;
}

static const char SQL_RETIRE[] = "UPDATE classifier_models SET active = 0 WHERE active = 1";
static const char SQL_MODEL_INSERT[] =
    "INSERT INTO classifier_models (version, created_at, kind, trained_on, corrections, scores, "
    "active, model) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
/* The last 10 models are kept (the active one always). */
static const char SQL_MODEL_PRUNE[] =
    "DELETE FROM classifier_models WHERE active = 0 AND id NOT IN "
    "(SELECT id FROM classifier_models ORDER BY id DESC LIMIT 10)";

static int run(struct vt_db_stmt *st)
{
    int s = vt_db_step(st);
    vt_db_reset(st);
    return s == VT_DB_DONE ? 0 : VT_ESTORE;
}

int vt_classifier_store(struct vt_store_tx *tx, const struct vt_textmodel *m,
                        const struct vt_scores *held_out, size_t trained_on, size_t corrections,
                        bool adopt)
{
    struct vt_db *db = vt_store_tx_db(tx);
    struct vt_buf b = {0};
    cJSON *sc = cJSON_CreateObject();
    for (int t = 0; sc && t < VT_TASKS; t++) {
        cJSON *x = cJSON_AddObjectToObject(sc, vt_task_names[t]);
        cJSON_AddNumberToObject(x, "accuracy", round3(held_out->accuracy[t]));
        cJSON_AddNumberToObject(x, "macro_f1", round3(held_out->macro_f1[t]));
        cJSON_AddNumberToObject(x, "n", (double)held_out->n[t]);
    }
    char *scores = sc ? cJSON_PrintUnformatted(sc) : NULL;
    cJSON_Delete(sc);
    int rc = scores ? vt_textmodel_save(m, &b) : VT_ENOMEM;
    struct vt_db_stmt *st;
    if (!rc && adopt)
        rc = (st = vt_db_prepare(db, SQL_RETIRE)) ? run(st) : VT_ESTORE;
    if (!rc && !(st = vt_db_prepare(db, SQL_MODEL_INSERT)))
        rc = VT_ESTORE;
    if (!rc) {
        vt_db_bind_text(st, 1, vt_textmodel_version(m));
        vt_db_bind_int(st, 2, vt_store_tx_now(tx));
        vt_db_bind_text(st, 3, vt_textmodel_kind(m));
        vt_db_bind_int(st, 4, (int64_t)trained_on);
        vt_db_bind_int(st, 5, (int64_t)corrections);
        vt_db_bind_text(st, 6, scores);
        vt_db_bind_int(st, 7, adopt);
        vt_db_bind_text(st, 8, b.data ? b.data : "");
        rc = run(st);
    }
    if (!rc)
        rc = (st = vt_db_prepare(db, SQL_MODEL_PRUNE)) ? run(st) : VT_ESTORE;
    free(scores);
    vt_buf_cleanup(&b);
    return rc;
}

static const char SQL_LABEL[] =
    "INSERT INTO classifier_labels (item_id, task, label, actor, at) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (item_id, task) DO UPDATE SET label = excluded.label, actor = excluded.actor, "
    "at = excluded.at";

int vt_classifier_label(struct vt_store_tx *tx, int64_t item_id, const char *task,
                        const char *label, const char *username)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_LABEL);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    vt_db_bind_text(st, 2, task);
    vt_db_bind_text(st, 3, label);
    vt_db_bind_text(st, 4, username);
    vt_db_bind_int(st, 5, vt_store_tx_now(tx));
    return run(st);
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
        rc = vt_classifier_score(cfg, cand, &held, NULL, NULL, &cand_sc);
    if (!rc && cur)
        rc = vt_classifier_score(cfg, cur, &held, NULL, NULL, &cur_sc);
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

static const char SQL_ROUTABLE[] = "SELECT code FROM dependencias WHERE active = 1 ORDER BY code";

static bool same_codes(char *const *a, char *const *b)
{
    size_t i = 0;
    for (; a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return !a[i] && !b[i];
}

int vt_classifier_refresh_routable(struct vt_store_reader *r)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ROUTABLE);
    if (!st)
        return VT_ESTORE;
    size_t n = 0, cap = 16;
    char **codes = calloc(cap + 1, sizeof(*codes));
    int step = VT_DB_DONE, rc = codes ? 0 : VT_ENOMEM;
    while (!rc && (step = vt_db_step(st)) == VT_DB_ROW) {
        if (n == cap) {
            char **p = realloc(codes, (cap * 2 + 1) * sizeof(*p));
            if (!p) {
                rc = VT_ENOMEM;
                break;
            }
            codes = p;
            cap *= 2;
        }
        if (!(codes[n] = strdup(vt_db_col_str(st, 0))))
            rc = VT_ENOMEM;
        else
            codes[++n] = NULL;
    }
    vt_db_reset(st);
    if (!rc && step != VT_DB_DONE)
        rc = VT_ESTORE;
    char **old = atomic_load(&routable);
    if (rc || (old && same_codes(old, codes)))
        free_codes(codes);
    else
        vt_classifier_set_routable(codes);
    return rc;
}

int vt_classifier_refresh(const struct vt_config *cfg, struct vt_store *s, bool *changed)
{
    *changed = false;
    if (!cfg->learn.enabled)
        return 0;
    struct vt_store_reader *r = vt_store_reader_new(s);
    if (!r)
        return VT_ESTORE;
    char v[13];
    const struct vt_textmodel *now = vt_classifier_model();
    int rc = vt_classifier_active_version(r, v);
    if (!rc && v[0] && (!now || strcmp(v, vt_textmodel_version(now)) != 0)) {
        struct vt_textmodel *m = NULL;
        if ((rc = vt_classifier_load_active(r, &m)) == 0) {
            vt_classifier_use(m);
            *changed = true;
        }
    }
    if (!rc)
        rc = vt_classifier_refresh_routable(r);
    vt_store_reader_free(r);
    return rc;
}
