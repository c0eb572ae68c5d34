/* classifier.c - the model in use, suggestions, training, scoring and the
 * classifier's tables: see classifier.h. */
#include "domain/classifier.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/item.h"
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

/* The model in use: read-locked while a thread classifies with it, replaced
 * (and the old one freed) under the write lock. */
static pthread_rwlock_t model_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct vt_textmodel *current;
/* The active dependencias, NULL-terminated (NULL: not read yet). */
static pthread_mutex_t routable_lock = PTHREAD_MUTEX_INITIALIZER;
static char **routable;

const struct vt_textmodel *vt_classifier_model(void)
{
    return current; /* the learner's thread, the only one that replaces it */
}

const struct vt_textmodel *vt_classifier_acquire(void)
{
    pthread_rwlock_rdlock(&model_lock);
    return current;
}

void vt_classifier_release(void)
{
    pthread_rwlock_unlock(&model_lock);
}

void vt_classifier_use(struct vt_textmodel *m)
{
    pthread_rwlock_wrlock(&model_lock);
    struct vt_textmodel *old = current;
    current = m;
    pthread_rwlock_unlock(&model_lock);
    vt_textmodel_free(old);
}

static void free_codes(char **codes)
{
    for (size_t i = 0; codes && codes[i]; i++)
        free(codes[i]);
    free(codes);
}

void vt_classifier_set_routable(char **codes)
{
    pthread_mutex_lock(&routable_lock);
    char **old = routable;
    routable = codes;
    pthread_mutex_unlock(&routable_lock);
    free_codes(old);
}

bool vt_classifier_routable(const char *code)
{
    pthread_mutex_lock(&routable_lock);
    bool ok = routable == NULL;
    for (char **c = routable; c && *c && !ok; c++)
        ok = strcmp(*c, code) == 0;
    pthread_mutex_unlock(&routable_lock);
    return ok;
}

void vt_classifier_shutdown(void)
{
    vt_classifier_set_routable(NULL);
    vt_classifier_use(NULL);
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
        vt_textmodel_predict_all(m, &f, out->p);
    }
    vt_features_cleanup(&f);
    return rc;
}

static double round3(double x)
{
    return floor(x * 1000 + 0.5) / 1000;
}

/* Writes x in thousandths as decimal digits at p ("860" for 0.86, "-12"),
 * without printf: it runs for every intake. Returns the end. */
static char *put_milli(char *p, double x)
{
    long long v = llround(x * 1000);
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    char d[24];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n)
        *p++ = d[--n];
    return p;
}

/* Copies s at p with its tabs and line ends as spaces. Returns the end. */
static char *put_field(char *p, const char *s)
{
    for (; *s; s++)
        *p++ = *s == '\t' || *s == '\n' ? ' ' : *s;
    return p;
}

char *vt_classifier_pack(const struct vt_suggestion *s)
{
    /* At most: the header, and per task its index, label, confidence and
     * VT_REASONS texts and weights (labels and texts are under 64 bytes). */
    char buf[16 + VT_TASKS * (4 + 64 + 24 + VT_REASONS * (64 + 24))];
    memcpy(buf, "s1\t", 3);
    char *p = put_field(buf + 3, s->version);
    for (int t = 0; t < VT_TASKS; t++) {
        const struct vt_prediction *pr = &s->p[t];
        if (!pr->label[0])
            continue;
        *p++ = '\n';
        *p++ = (char)('0' + t);
        *p++ = '\t';
        p = put_field(p, pr->label);
        *p++ = '\t';
        p = put_milli(p, pr->confidence);
        for (size_t i = 0; i < pr->n_reasons; i++) {
            *p++ = '\t';
            p = put_field(p, pr->reasons[i].shown);
            *p++ = '\t';
            p = put_milli(p, pr->reasons[i].weight);
        }
    }
    *p = '\0';
    return strdup(buf);
}

/* The next TAB- or line-ended field of *p into out (cap bytes, cut to fit);
 * false at the end of the line. */
static bool next_field(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    if (!*s || *s == '\n')
        return false;
    size_t n = strcspn(s, "\t\n");
    snprintf(out, cap, "%.*s", (int)n, s);
    *p = s + n + (s[n] == '\t');
    return true;
}

static bool milli(const char *s, double *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    *out = (double)v / 1000;
    return *s && !*end;
}

int vt_classifier_unpack(const char *stored, struct vt_suggestion *out)
{
    memset(out, 0, sizeof(*out));
    if (!stored || strncmp(stored, "s1\t", 3) != 0)
        return VT_EINVAL;
    const char *p = stored + 3;
    char f[64];
    if (!next_field(&p, out->version, sizeof(out->version)))
        return VT_EINVAL;
    while (*p == '\n') {
        p++;
        if (!next_field(&p, f, sizeof(f)) || f[0] < '0' || f[0] >= '0' + VT_TASKS || f[1])
            return VT_EINVAL;
        struct vt_prediction *pr = &out->p[f[0] - '0'];
        if (!next_field(&p, pr->label, sizeof(pr->label)) || !next_field(&p, f, sizeof(f)) ||
            !milli(f, &pr->confidence))
            return VT_EINVAL;
        while (pr->n_reasons < VT_REASONS &&
               next_field(&p, pr->reasons[pr->n_reasons].shown, sizeof(pr->reasons[0].shown))) {
            if (!next_field(&p, f, sizeof(f)) || !milli(f, &pr->reasons[pr->n_reasons].weight))
                return VT_EINVAL;
            pr->n_reasons++;
        }
        if (*p && *p != '\n')
            return VT_EINVAL;
    }
    return *p ? VT_EINVAL : 0;
}

cJSON *vt_classifier_stored_json(const char *stored)
{
    if (!stored)
        return NULL;
    if (stored[0] == '{') /* written before the compact form */
        return cJSON_Parse(stored);
    struct vt_suggestion s;
    if (vt_classifier_unpack(stored, &s))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "model", s.version))
        goto fail;
    for (int t = 0; t < VT_TASKS; t++) {
        const struct vt_prediction *p = &s.p[t];
        if (!p->label[0])
            continue;
        cJSON *j = cJSON_AddObjectToObject(o, vt_task_names[t]);
        cJSON *r = j && cJSON_AddStringToObject(j, "label", p->label) &&
                           cJSON_AddNumberToObject(j, "confidence", p->confidence)
                       ? cJSON_AddArrayToObject(j, "reasons")
                       : NULL;
        if (!r)
            goto fail;
        for (size_t i = 0; i < p->n_reasons; i++) {
            cJSON *e = cJSON_CreateObject();
            if (!e || !cJSON_AddItemToArray(r, e) ||
                !cJSON_AddStringToObject(e, "feature", p->reasons[i].shown) ||
                !cJSON_AddNumberToObject(e, "weight", p->reasons[i].weight))
                goto fail;
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* s as a JSON string (the features' texts: letters, spaces, a few signs). */
static int json_str(struct vt_buf *b, const char *s)
{
    int rc = vt_buf_puts(b, "\"");
    for (const char *p = s; !rc && *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\')
            rc = vt_buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            rc = vt_buf_printf(b, "\\u%04x", ch);
        else
            rc = vt_buf_append(b, p, 1);
    }
    return rc ? rc : vt_buf_puts(b, "\"");
}

char *vt_classifier_route_json(const struct vt_suggestion *s)
{
    const struct vt_prediction *p = &s->p[VT_TASK_DEPENDENCIA];
    struct vt_buf b = {0};
    int rc = vt_buf_puts(&b, "{\"dependencia\":");
    rc = rc ? rc : json_str(&b, p->label);
    rc = rc ? rc : vt_buf_puts(&b, ",\"assignee\":null,\"model\":");
    rc = rc ? rc : json_str(&b, s->version);
    rc = rc ? rc : vt_buf_printf(&b, ",\"confidence\":%.3f,\"reasons\":[", p->confidence);
    for (size_t i = 0; i < p->n_reasons && !rc; i++) {
        rc = i ? vt_buf_puts(&b, ",") : 0;
        rc = rc ? rc : json_str(&b, p->reasons[i].shown);
    }
    rc = rc ? rc : vt_buf_puts(&b, "]}");
    if (rc) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    return b.data;
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
    pthread_mutex_lock(&routable_lock);
    bool same = !rc && routable && same_codes(routable, codes);
    pthread_mutex_unlock(&routable_lock);
    if (rc || same)
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
