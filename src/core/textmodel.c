/* textmodel.c - training, saving, loading and running the linear models of
 * textmodel.h.
 *
 * Layout: one vocabulary (sorted feature keys, found through an open-
 * addressing table) shared by every task; per task its labels (sorted), a
 * bias per label and a V x K weight matrix. The saved text is:
 *   ventanilla-textmodel 1
 *   kind lr
 *   features V
 *   task NAME K LABEL...        (one line per task, K 0 when it has no model)
 *   bias NAME W...              (tasks with K >= 2)
 *   KEY<TAB>W...<TAB>W...       (V lines: the weights of each task with a model)
 * Numbers are printed with %.6g, and a trained model is rebuilt from its own
 * bytes, so what runs is exactly what was saved.
 */
#include "core/textmodel.h"

#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

const char *const vt_task_names[VT_TASKS] = {"type", "petition_class", "group", "dependencia"};

struct task_model {
    size_t k;      /* labels; 0 when the task has no model */
    char **labels; /* k + 1, NULL-terminated */
    double *bias;  /* k */
    double *w;     /* V * k, row per feature */
};

#define ROW_STEP 8 /* floats: a row's width is a multiple of it */

/* A slot of the vocabulary's hash table: the key's hash (compared before
 * the key) and its index + 1 into keys, 0 when empty. */
struct slot {
    uint32_t hash, idx1;
};

struct vt_textmodel {
    char kind[4];
    char version[13];
    size_t v;
    char **keys;        /* v, sorted */
    struct slot *slots; /* n_slots */
    size_t n_slots;     /* power of two >= 2 v */
    struct task_model t[VT_TASKS];
    /* For predicting (built by vt_textmodel_load): every task's weights of a
     * feature side by side in one row of k_all floats, so that a feature
     * costs one or two cache lines, not one per task. */
    size_t k_all,
        off[VT_TASKS]; /* the row's width (a multiple of ROW_STEP); each task's first column */
    float *rows;       /* v * k_all, 64-byte aligned */
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The vocabulary index of key, whose hash() is h, or -1. */
static long lookup(const struct vt_textmodel *m, const char *key, uint32_t h)
{
    if (!m->n_slots)
        return -1;
    for (size_t i = h & (m->n_slots - 1); m->slots[i].idx1; i = (i + 1) & (m->n_slots - 1))
        if (m->slots[i].hash == h && strcmp(m->keys[m->slots[i].idx1 - 1], key) == 0)
            return (long)m->slots[i].idx1 - 1;
    return -1;
}

static int index_keys(struct vt_textmodel *m)
{
    m->n_slots = 16;
    while (m->n_slots < 2 * m->v)
        m->n_slots *= 2;
    if (!(m->slots = calloc(m->n_slots, sizeof(*m->slots))))
        return VT_ENOMEM;
    for (size_t j = 0; j < m->v; j++) {
        uint32_t h = hash(m->keys[j]);
        size_t i = h & (m->n_slots - 1);
        while (m->slots[i].idx1)
            i = (i + 1) & (m->n_slots - 1);
        m->slots[i] = (struct slot){h, (uint32_t)j + 1};
    }
    return 0;
}

void vt_textmodel_free(struct vt_textmodel *m)
{
    if (!m)
        return;
    for (size_t j = 0; j < m->v && m->keys; j++)
        free(m->keys[j]);
    free(m->keys);
    free(m->slots);
    free(m->rows);
    for (int t = 0; t < VT_TASKS; t++) {
        for (size_t i = 0; m->t[t].labels && m->t[t].labels[i]; i++)
            free(m->t[t].labels[i]);
        free(m->t[t].labels);
        free(m->t[t].bias);
        free(m->t[t].w);
    }
    free(m);
}

const char *vt_textmodel_version(const struct vt_textmodel *m)
{
    return m->version;
}

const char *vt_textmodel_kind(const struct vt_textmodel *m)
{
    return m->kind;
}

const char *const *vt_textmodel_labels(const struct vt_textmodel *m, int task)
{
    static const char *const none[] = {NULL};
    return m->t[task].labels ? (const char *const *)m->t[task].labels : none;
}

/* ---- training ---- */

struct counter {
    char **keys;
    double *df;
    size_t n, cap; /* cap a power of two; open addressing */
};

static int counter_add(struct counter *c, const char *key)
{
    if (2 * (c->n + 1) > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        char **k = calloc(cap, sizeof(*k));
        double *d = calloc(cap, sizeof(*d));
        if (!k || !d) {
            free(k);
            free(d);
            return VT_ENOMEM;
        }
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->keys[i])
                continue;
            size_t j = hash(c->keys[i]) & (cap - 1);
            while (k[j])
                j = (j + 1) & (cap - 1);
            k[j] = c->keys[i];
            d[j] = c->df[i];
        }
        free(c->keys);
        free(c->df);
        c->keys = k;
        c->df = d;
        c->cap = cap;
    }
    size_t i = hash(key) & (c->cap - 1);
    for (; c->keys[i]; i = (i + 1) & (c->cap - 1))
        if (strcmp(c->keys[i], key) == 0) {
            c->df[i] += 1;
            return 0;
        }
    if (!(c->keys[i] = strdup(key)))
        return VT_ENOMEM;
    c->df[i] = 1;
    c->n++;
    return 0;
}

static void counter_free(struct counter *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->keys[i]);
    free(c->keys);
    free(c->df);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The vocabulary: keys in at least min_df documents, sorted. */
static int vocabulary(struct vt_textmodel *m, const struct vt_train_doc *docs, size_t n, int min_df)
{
    struct counter c = {0};
    int rc = 0;
    for (size_t d = 0; d < n && !rc; d++)
        for (size_t i = 0; i < docs[d].f->n && !rc; i++)
            rc = counter_add(&c, docs[d].f->f[i].key);
    if (!rc && !(m->keys = calloc(c.n + 1, sizeof(*m->keys))))
        rc = VT_ENOMEM;
    for (size_t i = 0; i < c.cap && !rc; i++)
        if (c.keys[i] && c.df[i] >= min_df) {
            m->keys[m->v++] = c.keys[i];
            c.keys[i] = NULL;
        }
    counter_free(&c);
    if (rc)
        return rc;
    qsort(m->keys, m->v, sizeof(*m->keys), cmp_str);
    return index_keys(m);
}

static long label_index(const struct task_model *t, const char *label)
{
    for (size_t i = 0; i < t->k; i++)
        if (strcmp(t->labels[i], label) == 0)
            return (long)i;
    return -1;
}

static int task_labels(struct task_model *t, const struct vt_train_doc *docs, size_t n, int task)
{
    if (!(t->labels = calloc(n + 1, sizeof(*t->labels))))
        return VT_ENOMEM;
    for (size_t d = 0; d < n; d++) {
        const char *l = docs[d].label[task];
        if (!l || !*l || label_index(t, l) >= 0)
            continue;
        if (!(t->labels[t->k++] = strdup(l)))
            return VT_ENOMEM;
    }
    qsort(t->labels, t->k, sizeof(*t->labels), cmp_str);
    if (t->k < 2) {
        for (size_t i = 0; i < t->k; i++)
            free(t->labels[i]);
        t->k = 0;
        t->labels[0] = NULL;
        return 0;
    }
    t->bias = calloc(t->k, sizeof(*t->bias));
    return t->bias ? 0 : VT_ENOMEM;
}

/* Each document's features as vocabulary indexes. */
struct doc_idx {
    long *j;
    size_t n;
    uint64_t hash; /* of the document's feature keys: its place in each pass */
};

static void softmax(double *z, size_t k)
{
    double mx = z[0], sum = 0;
    for (size_t c = 1; c < k; c++)
        if (z[c] > mx)
            mx = z[c];
    for (size_t c = 0; c < k; c++)
        sum += (z[c] = exp(z[c] - mx));
    for (size_t c = 0; c < k; c++)
        z[c] /= sum;
}

struct keyed {
    uint64_t key;
    size_t doc;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* splitmix64's finalizer: a well-spread 64-bit mix. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int train_lr(struct task_model *t, size_t v, const struct vt_train_doc *docs,
                    const struct doc_idx *di, size_t n, int task, const struct vt_train_opts *o,
                    size_t *order, double *z)
{
    size_t m = 0;
    for (size_t d = 0; d < n; d++)
        if (docs[d].label[task] && *docs[d].label[task] && di[d].n)
            order[m++] = d;
    /* A label's documents weigh the square root of its inverse share: rare
     * labels are not drowned by the common ones, and the common ones keep
     * some of the weight their share gives them in real mail (measured by
     * 5-fold cross-validation: full balance costs ciudadanía recall, none
     * costs the rare groups'). */
    double cw[256];
    for (size_t c = 0; c < t->k; c++)
        cw[c] = 0;
    for (size_t i = 0; i < m; i++)
        cw[label_index(t, docs[order[i]].label[task])] += docs[order[i]].weight;
    double total = 0;
    for (size_t c = 0; c < t->k; c++)
        total += cw[c];
    for (size_t c = 0; c < t->k; c++)
        cw[c] = cw[c] > 0 ? sqrt(total / ((double)t->k * cw[c])) : 1.0;
    /* The order of each pass: a shuffle keyed by each document's content,
     * not by its position, so a document added (a staff correction) leaves
     * the others' order, and so the model, nearly as it was. */
    struct keyed *ko = malloc((m + 1) * sizeof(*ko));
    if (!ko)
        return VT_ENOMEM;
    for (int e = 0; e < o->epochs; e++) {
        for (size_t i = 0; i < m; i++) {
            size_t d = order[i];
            ko[i] =
                (struct keyed){mix(di[d].hash ^ ((uint64_t)(e + 1) * 0x9E3779B97F4A7C15ull)), d};
        }
        qsort(ko, m, sizeof(*ko), cmp_keyed);
        for (size_t i = 0; i < m; i++)
            order[i] = ko[i].doc;
        double lr = 0.5 / (1.0 + 0.25 * e);
        for (size_t i = 0; i < m; i++) {
            size_t d = order[i];
            double s = 1.0 / sqrt((double)di[d].n);
            long y = label_index(t, docs[d].label[task]);
            double dw = docs[d].weight * cw[y];
            for (size_t c = 0; c < t->k; c++)
                z[c] = t->bias[c];
            for (size_t f = 0; f < di[d].n; f++)
                for (size_t c = 0; c < t->k; c++)
                    z[c] += s * t->w[(size_t)di[d].j[f] * t->k + c];
            softmax(z, t->k);
            for (size_t c = 0; c < t->k; c++) {
                double g = (z[c] - ((long)c == y ? 1.0 : 0.0)) * dw;
                t->bias[c] -= lr * g;
                for (size_t f = 0; f < di[d].n; f++) {
                    double *w = &t->w[(size_t)di[d].j[f] * t->k + c];
                    *w -= lr * (g * s + o->l2 * *w);
                }
            }
        }
    }
    free(ko);
    (void)v;
    return 0;
}

static void train_nb(struct task_model *t, size_t v, const struct vt_train_doc *docs,
                     const struct doc_idx *di, size_t n, int task, double *z)
{
    double total = 0;
    for (size_t c = 0; c < t->k; c++)
        z[c] = 0; /* feature mass per label */
    for (size_t d = 0; d < n; d++) {
        long y =
            docs[d].label[task] && *docs[d].label[task] ? label_index(t, docs[d].label[task]) : -1;
        if (y < 0)
            continue;
        t->bias[y] += docs[d].weight;
        total += docs[d].weight;
        for (size_t f = 0; f < di[d].n; f++) {
            t->w[(size_t)di[d].j[f] * t->k + (size_t)y] += docs[d].weight;
            z[y] += docs[d].weight;
        }
    }
    for (size_t c = 0; c < t->k; c++) {
        t->bias[c] = log((t->bias[c] + 1) / (total + (double)t->k));
        for (size_t j = 0; j < v; j++) {
            double *w = &t->w[j * t->k + c];
            *w = log((*w + 0.5) / (z[c] + 0.5 * (double)v));
        }
    }
}

int vt_textmodel_train(const struct vt_train_doc *docs, size_t n, const struct vt_train_opts *o,
                       struct vt_textmodel **out)
{
    struct vt_train_opts opts = {"lr", 2, 30, 1e-3};
    if (o) {
        opts.kind = o->kind ? o->kind : "lr";
        opts.min_df = o->min_df > 0 ? o->min_df : 2;
        opts.epochs = o->epochs > 0 ? o->epochs : 30;
        opts.l2 = o->l2 > 0 ? o->l2 : 1e-3;
    }
    *out = NULL;
    if (!n || (strcmp(opts.kind, "lr") && strcmp(opts.kind, "nb")))
        return VT_EINVAL;
    struct vt_textmodel *m = calloc(1, sizeof(*m));
    struct doc_idx *di = calloc(n, sizeof(*di));
    size_t *order = calloc(n, sizeof(*order));
    double *z = calloc(256, sizeof(*z));
    int rc = m && di && order && z ? 0 : VT_ENOMEM;
    if (!rc) {
        snprintf(m->kind, sizeof(m->kind), "%s", opts.kind);
        rc = vocabulary(m, docs, n, opts.min_df);
    }
    for (size_t d = 0; d < n && !rc; d++) {
        if (!(di[d].j = malloc((docs[d].f->n + 1) * sizeof(long)))) {
            rc = VT_ENOMEM;
            break;
        }
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < docs[d].f->n; i++) {
            long j = lookup(m, docs[d].f->f[i].key, docs[d].f->f[i].hash);
            if (j >= 0)
                di[d].j[di[d].n++] = j;
            for (const char *k = docs[d].f->f[i].key; *k; k++)
                h = (h ^ (unsigned char)*k) * 1099511628211ull;
        }
        di[d].hash = h;
    }
    for (int task = 0; task < VT_TASKS && !rc; task++) {
        struct task_model *t = &m->t[task];
        rc = task_labels(t, docs, n, task);
        if (rc || !t->k)
            continue;
        if (t->k > 256 || !(t->w = calloc(m->v * t->k + 1, sizeof(*t->w)))) {
            rc = t->k > 256 ? VT_EINVAL : VT_ENOMEM;
            break;
        }
        if (strcmp(opts.kind, "lr") == 0)
            rc = train_lr(t, m->v, docs, di, n, task, &opts, order, z);
        else
            train_nb(t, m->v, docs, di, n, task, z);
    }
    struct vt_buf b = {0};
    if (!rc)
        rc = vt_textmodel_save(m, &b);
    if (!rc)
        rc = vt_textmodel_load(b.data, b.len, out);
    vt_buf_cleanup(&b);
    for (size_t d = 0; d < n && di; d++)
        free(di[d].j);
    free(di);
    free(order);
    free(z);
    vt_textmodel_free(m);
    return rc;
}

/* ---- bytes ---- */

int vt_textmodel_save(const struct vt_textmodel *m, struct vt_buf *b)
{
    int rc = vt_buf_printf(b, "ventanilla-textmodel 1\nkind %s\nfeatures %zu\n", m->kind, m->v);
    for (int t = 0; t < VT_TASKS && !rc; t++) {
        rc = vt_buf_printf(b, "task %s %zu", vt_task_names[t], m->t[t].k);
        for (size_t c = 0; c < m->t[t].k && !rc; c++)
            rc = vt_buf_printf(b, " %s", m->t[t].labels[c]);
        rc = rc ? rc : vt_buf_printf(b, "\n");
    }
    for (int t = 0; t < VT_TASKS && !rc; t++) {
        if (!m->t[t].k)
            continue;
        rc = vt_buf_printf(b, "bias %s", vt_task_names[t]);
        for (size_t c = 0; c < m->t[t].k && !rc; c++)
            rc = vt_buf_printf(b, " %.6g", m->t[t].bias[c]);
        rc = rc ? rc : vt_buf_printf(b, "\n");
    }
    for (size_t j = 0; j < m->v && !rc; j++) {
        rc = vt_buf_printf(b, "%s", m->keys[j]);
        for (int t = 0; t < VT_TASKS && !rc; t++) {
            if (!m->t[t].k)
                continue;
            for (size_t c = 0; c < m->t[t].k && !rc; c++)
                rc = vt_buf_printf(b, "%c%.6g", c ? ' ' : '\t', m->t[t].w[j * m->t[t].k + c]);
        }
        rc = rc ? rc : vt_buf_printf(b, "\n");
    }
    return rc;
}

/* The next line of [*p, end) into line (NUL-terminated, cut at cap); false at the end. */
static bool next_line(const char **p, const char *end, char *line, size_t cap)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    if (n >= cap)
        n = cap - 1;
    memcpy(line, *p, n);
    line[n] = '\0';
    *p = nl ? nl + 1 : end;
    return true;
}

static int parse_numbers(char *s, double *out, size_t k)
{
    for (size_t c = 0; c < k; c++) {
        char *end;
        out[c] = strtod(s, &end);
        if (end == s || !isfinite(out[c]))
            return VT_EINVAL;
        s = end;
    }
    return 0;
}

/* The rows of m (struct vt_textmodel) from its tasks' weights. */
static int build_rows(struct vt_textmodel *m)
{
    m->k_all = 0;
    for (int t = 0; t < VT_TASKS; t++) {
        m->off[t] = m->k_all;
        m->k_all += m->t[t].k;
    }
    m->k_all = (m->k_all + ROW_STEP - 1) / ROW_STEP * ROW_STEP;
    size_t bytes = (m->v * m->k_all + ROW_STEP) * sizeof(*m->rows);
    if (!(m->rows = aligned_alloc(64, (bytes + 63) / 64 * 64)))
        return VT_ENOMEM;
    memset(m->rows, 0, bytes);
    for (size_t j = 0; j < m->v; j++)
        for (int t = 0; t < VT_TASKS; t++)
            for (size_t c = 0; c < m->t[t].k; c++)
                m->rows[j * m->k_all + m->off[t] + c] = (float)m->t[t].w[j * m->t[t].k + c];
    return 0;
}

int vt_textmodel_load(const char *data, size_t len, struct vt_textmodel **out)
{
    *out = NULL;
    struct vt_textmodel *m = calloc(1, sizeof(*m));
    size_t cap = 1 << 16;
    char *line = malloc(cap), word[64];
    const char *p = data, *end = data + len;
    int rc = m && line ? 0 : VT_ENOMEM;
    size_t v = 0;
    if (!rc && (!next_line(&p, end, line, cap) || strcmp(line, "ventanilla-textmodel 1") != 0))
        rc = VT_EINVAL;
    if (!rc && (!next_line(&p, end, line, cap) || sscanf(line, "kind %3s", m->kind) != 1 ||
                (strcmp(m->kind, "lr") && strcmp(m->kind, "nb"))))
        rc = VT_EINVAL;
    if (!rc && (!next_line(&p, end, line, cap) || sscanf(line, "features %zu", &v) != 1 ||
                v > (size_t)len))
        rc = VT_EINVAL;
    for (int t = 0; t < VT_TASKS && !rc; t++) {
        struct task_model *tm = &m->t[t];
        int off = 0;
        size_t k = 0;
        if (!next_line(&p, end, line, cap) ||
            sscanf(line, "task %63s %zu%n", word, &k, &off) != 2 ||
            strcmp(word, vt_task_names[t]) || k > 256 || k == 1) {
            rc = VT_EINVAL;
            break;
        }
        if (!(tm->labels = calloc(k + 1, sizeof(*tm->labels)))) {
            rc = VT_ENOMEM;
            break;
        }
        char *s = line + off;
        for (size_t c = 0; c < k && !rc; c++) {
            int used = 0;
            if (sscanf(s, " %63s%n", word, &used) != 1)
                rc = VT_EINVAL;
            else if (!(tm->labels[tm->k++] = strdup(word)))
                rc = VT_ENOMEM;
            s += used;
        }
    }
    for (int t = 0; t < VT_TASKS && !rc; t++) {
        struct task_model *tm = &m->t[t];
        if (!tm->k)
            continue;
        int off = 0;
        tm->bias = calloc(tm->k, sizeof(double));
        tm->w = calloc(v * tm->k + 1, sizeof(double));
        if (!tm->bias || !tm->w)
            rc = VT_ENOMEM;
        else if (!next_line(&p, end, line, cap) || sscanf(line, "bias %63s%n", word, &off) != 1 ||
                 strcmp(word, vt_task_names[t]) || parse_numbers(line + off, tm->bias, tm->k))
            rc = VT_EINVAL;
    }
    if (!rc && !(m->keys = calloc(v + 1, sizeof(*m->keys))))
        rc = VT_ENOMEM;
    for (size_t j = 0; j < v && !rc; j++) {
        if (!next_line(&p, end, line, cap)) {
            rc = VT_EINVAL;
            break;
        }
        char *tab = strchr(line, '\t');
        if (!tab || tab == line || (size_t)(tab - line) >= 64) {
            rc = VT_EINVAL;
            break;
        }
        *tab = '\0';
        if (!(m->keys[j] = strdup(line))) {
            rc = VT_ENOMEM;
            break;
        }
        m->v = j + 1;
        if (j && strcmp(m->keys[j - 1], m->keys[j]) >= 0) {
            rc = VT_EINVAL; /* sorted and unique, or not ours */
            break;
        }
        char *s = tab + 1;
        for (int t = 0; t < VT_TASKS && !rc; t++) {
            struct task_model *tm = &m->t[t];
            if (!tm->k)
                continue;
            char *next = strchr(s, '\t');
            if (next)
                *next = '\0';
            rc = parse_numbers(s, &tm->w[j * tm->k], tm->k);
            s = next ? next + 1 : s + strlen(s);
        }
    }
    if (!rc && p != end)
        rc = VT_EINVAL;
    if (!rc)
        rc = index_keys(m);
    if (!rc)
        rc = build_rows(m);
    if (!rc) {
        unsigned char h[6];
        crypto_generichash(h, sizeof(h), (const unsigned char *)data, len, NULL, 0);
        sodium_bin2hex(m->version, sizeof(m->version), h, sizeof(h));
    }
    free(line);
    if (rc) {
        vt_textmodel_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* ---- prediction ---- */

static bool allowed_label(const char *const *allowed, const char *label)
{
    if (!allowed)
        return true;
    for (; *allowed; allowed++)
        if (strcmp(*allowed, label) == 0)
            return true;
    return false;
}

/* The vocabulary index of each of f's features the model knows, with the
 * feature's own index in the high half (for its text); returns how many. */
static size_t known(const struct vt_textmodel *m, const struct vt_features *f, long *idx,
                    size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n && n < cap; i++) {
        long j = lookup(m, f->f[i].key, f->f[i].hash);
        if (j >= 0)
            idx[n++] = j | ((long)i << 32); /* feature i, vocabulary j */
    }
    return n;
}

/* The sums of the rows of the n known features (k_all of them), in
 * blocks of ROW_STEP that the compiler turns into vector additions. */
static void sum_rows(const struct vt_textmodel *m, const long *idx, size_t n, double *z)
{
    float acc[4 * 256] = {0};
    for (size_t i = 0; i < n; i++) {
        const float *r = &m->rows[(size_t)(idx[i] & 0xffffffff) * m->k_all];
        for (size_t b = 0; b < m->k_all; b += ROW_STEP)
            for (size_t c = 0; c < ROW_STEP; c++)
                acc[b + c] += r[b + c];
    }
    for (size_t c = 0; c < m->k_all; c++)
        z[c] = acc[c];
}

/* Task's prediction from sum, its part of sum_rows's sums. */
static void predict(const struct vt_textmodel *m, const struct vt_features *f, const long *idx,
                    size_t n, int task, const double *sum, const char *const *allowed,
                    struct vt_prediction *out)
{
    memset(out, 0, sizeof(*out));
    const struct task_model *t = &m->t[task];
    if (!t->k)
        return;
    double z[256];
    bool ok[256];
    size_t n_ok = 0;
    double s = strcmp(m->kind, "lr") == 0 && n ? 1.0 / sqrt((double)n) : 1.0;
    for (size_t c = 0; c < t->k; c++) {
        ok[c] = allowed_label(allowed, t->labels[c]);
        n_ok += ok[c];
        z[c] = t->bias[c] + s * sum[c];
    }
    if (!n_ok)
        return;
    double mx = -INFINITY, total = 0;
    size_t best = 0, second = SIZE_MAX;
    for (size_t c = 0; c < t->k; c++)
        if (ok[c] && z[c] > mx) {
            mx = z[c];
            best = c;
        }
    for (size_t c = 0; c < t->k; c++)
        if (ok[c] && c != best && (second == SIZE_MAX || z[c] > z[second]))
            second = c;
    for (size_t c = 0; c < t->k; c++)
        if (ok[c])
            total += exp(z[c] - mx);
    memcpy(out->label, t->labels[best], strlen(t->labels[best]) + 1);
    out->confidence = 1.0 / total;
    if (second != SIZE_MAX)
        memcpy(out->runner_up, t->labels[second], strlen(t->labels[second]) + 1);
    /* The reasons: the features that pushed hardest toward best over second,
     * kept as indices while looking, their texts copied once at the end. */
    double top_d[VT_REASONS];
    size_t top_f[VT_REASONS], n_top = 0;
    const float *col = m->rows + m->off[task];
    for (size_t i = 0; i < n; i++) {
        const float *r = &col[(size_t)(idx[i] & 0xffffffff) * m->k_all];
        double d = r[best];
        if (second != SIZE_MAX)
            d -= r[second];
        d *= s;
        if (d <= 0 || (n_top == VT_REASONS && top_d[VT_REASONS - 1] >= d))
            continue;
        size_t at = n_top < VT_REASONS ? n_top++ : VT_REASONS - 1;
        for (; at > 0 && top_d[at - 1] < d; at--) {
            top_d[at] = top_d[at - 1];
            top_f[at] = top_f[at - 1];
        }
        top_d[at] = d;
        top_f[at] = (size_t)(idx[i] >> 32);
    }
    for (size_t k = 0; k < n_top; k++) {
        const char *shown = f->f[top_f[k]].shown;
        memcpy(out->reasons[k].shown, shown, strlen(shown) + 1);
        out->reasons[k].weight = top_d[k];
    }
    out->n_reasons = n_top;
}

void vt_textmodel_predict(const struct vt_textmodel *m, const struct vt_features *f, int task,
                          const char *const *allowed, struct vt_prediction *out)
{
    long idx[4096];
    double sum[4 * 256];
    size_t n = known(m, f, idx, 4096);
    sum_rows(m, idx, n, sum);
    predict(m, f, idx, n, task, sum + m->off[task], allowed, out);
}

void vt_textmodel_predict_all(const struct vt_textmodel *m, const struct vt_features *f,
                              struct vt_prediction out[VT_TASKS])
{
    long idx[4096];
    double sum[4 * 256];
    size_t n = known(m, f, idx, 4096);
    sum_rows(m, idx, n, sum);
    for (int t = 0; t < VT_TASKS; t++)
        predict(m, f, idx, n, t, sum + m->off[t], NULL, &out[t]);
}
