/* corpus.c - parsing labelled corpora and training from them: see corpus.h. */
#include "core/corpus.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char *const line_keys[] = {"channel", "from", "subject", "text", NULL};

void vt_corpus_free(struct vt_corpus *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        struct vt_corpus_doc *d = &c->d[i];
        free(d->channel);
        free(d->from);
        free(d->subject);
        free(d->text);
        for (int t = 0; t < VT_TASKS; t++)
            free(d->label[t]);
    }
    free(c->d);
    c->d = NULL;
    c->n = 0;
}

static char *field(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

int vt_corpus_parse(const char *data, size_t len, struct vt_corpus *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    size_t cap = 0, lineno = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        lineno++;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
            k++;
        if (k == n)
            continue;
        cJSON *o = cJSON_ParseWithLength(line, n);
        const cJSON *text = o ? cJSON_GetObjectItemCaseSensitive(o, "text") : NULL;
        if (!cJSON_IsObject(o) || !cJSON_IsString(text)) {
            cJSON_Delete(o);
            snprintf(err, errlen, "line %zu: not a JSON object with a \"text\" string", lineno);
            vt_corpus_free(c);
            return VT_EINVAL;
        }
        if (c->n == cap) {
            cap = cap ? cap * 2 : 256;
            struct vt_corpus_doc *d = realloc(c->d, cap * sizeof(*d));
            if (!d) {
                cJSON_Delete(o);
                vt_corpus_free(c);
                return VT_ENOMEM;
            }
            c->d = d;
        }
        struct vt_corpus_doc *d = &c->d[c->n++];
        memset(d, 0, sizeof(*d));
        char **dst[] = {&d->channel, &d->from, &d->subject, &d->text};
        bool ok = true;
        for (int i = 0; line_keys[i]; i++)
            ok = (*dst[i] = field(o, line_keys[i])) != NULL && ok;
        for (int t = 0; t < VT_TASKS; t++)
            ok = (d->label[t] = field(o, vt_task_names[t])) != NULL && ok;
        cJSON_Delete(o);
        if (!ok) {
            vt_corpus_free(c);
            return VT_ENOMEM;
        }
    }
    return 0;
}

const char *vt_corpus_channel(const struct vt_corpus_doc *d)
{
    return strcmp(d->channel, "email") == 0      ? "email"
           : strcmp(d->channel, "whatsapp") == 0 ? "whatsapp"
                                                 : "web";
}

int vt_corpus_train_model(const struct vt_corpus *const *parts, const double *weights,
                          size_t n_parts, const struct vt_train_opts *o, struct vt_textmodel **out)
{
    size_t cap = 0, n = 0;
    *out = NULL;
    for (size_t p = 0; p < n_parts; p++)
        cap += parts[p] ? parts[p]->n : 0;
    struct vt_train_doc *docs = calloc(cap + 1, sizeof(*docs));
    struct vt_features *f = calloc(cap + 1, sizeof(*f));
    int rc = docs && f ? 0 : VT_ENOMEM;
    for (size_t p = 0; p < n_parts && !rc; p++) {
        for (size_t i = 0; parts[p] && i < parts[p]->n && !rc; i++) {
            const struct vt_corpus_doc *d = &parts[p]->d[i];
            struct vt_text_input in = {vt_corpus_channel(d), d->from, d->subject, d->text, NULL, 0};
            if ((rc = vt_features_extract(&in, &f[n])))
                break;
            docs[n].f = &f[n];
            for (int t = 0; t < VT_TASKS; t++)
                docs[n].label[t] = d->label[t];
            docs[n].weight = weights[p];
            n++;
        }
    }
    if (!rc)
        rc = vt_textmodel_train(docs, n, o, out);
    for (size_t i = 0; f && i < cap; i++)
        vt_features_cleanup(&f[i]);
    free(f);
    free(docs);
    return rc;
}
