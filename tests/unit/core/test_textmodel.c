/* test_textmodel.c - unit tests for features.c, textmodel.c and corpus.c:
 * what becomes a feature and what never does (personal data), training that
 * gives the same bytes every time (and the bytes compiled into the daemon),
 * saving and loading, the allowed-labels filter and the reasons.
 */
#include "core/textmodel.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/corpus.h"
#include "core/error.h"
#include "core/features.h"
#include "vt_test.h"

extern const char vt_shipped_model[];
extern const size_t vt_shipped_model_len;

static bool has(const struct vt_features *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].key, key) == 0)
            return true;
    return false;
}

static const char *shown(const struct vt_features *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].key, key) == 0)
            return f->f[i].shown;
    return NULL;
}

static void extract(struct vt_features *f, const char *channel, const char *from,
                    const char *subject, const char *body, const char *const *exclude,
                    size_t n_exclude)
{
    struct vt_text_input in = {channel, from, subject, body, exclude, n_exclude};
    ASSERT_EQ(vt_features_extract(&in, f), 0);
}

static void test_features(void)
{
    struct vt_features f = {0};
    extract(&f, "email", "ana@gmail.com", "Hueco en la vía",
            "Hay un HUECO en la vía y otro hueco más.", NULL, 0);
    ASSERT_TRUE(has(&f, "w:huec"));
    ASSERT_STREQ(shown(&f, "w:huec"), "hueco"); /* the message's own word, folded */
    ASSERT_TRUE(has(&f, "w:via"));
    ASSERT_TRUE(has(&f, "c:email"));
    ASSERT_STREQ(shown(&f, "c:email"), "canal: correo");
    ASSERT_TRUE(has(&f, "d:webmail"));
    ASSERT_TRUE(!has(&f, "l:gmail")); /* a webmail's name says nothing */
    size_t hueco = 0;
    for (size_t i = 0; i < f.n; i++)
        hueco += strcmp(f.f[i].key, "w:huec") == 0;
    ASSERT_EQ(hueco, 1); /* presence, not counts */

    /* Pairs skip stop words; the signature's words are their own features. */
    extract(&f, "email", "secretaria@personeria-pasto.gov.co", "",
            "La junta de acción comunal pide una reunión.\nGracias.\n\nCordialmente,\n\n"
            "Jorge Narváez\nPersonero Municipal\nPasto",
            NULL, 0);
    ASSERT_TRUE(has(&f, "b:junt accion"));
    ASSERT_TRUE(has(&f, "b:accion comunal"));
    ASSERT_TRUE(has(&f, "g:personer"));
    ASSERT_STREQ(shown(&f, "g:personer"), "firma: personero");
    ASSERT_TRUE(!has(&f, "g:junt")); /* the body's first line is no signature */
    ASSERT_TRUE(has(&f, "d:gov.co"));
    ASSERT_TRUE(has(&f, "l:personeri"));
    ASSERT_TRUE(!has(&f, "w:jorg")); /* a common given name is never a feature */

    /* Personal data never becomes a feature: digits, addresses, the
     * requester's own words. */
    const char *exclude[] = {"Wilmar Calle", "wilmar.calle@gmail.com"};
    extract(&f, "web", NULL, "",
            "Soy Wilmar Calle, CC 1.020.304.050, cel 3104445566, escribo desde "
            "wilmar.calle@gmail.com y https://example.org/x?id=99; la calle 8 está rota.",
            exclude, 2);
    for (size_t i = 0; i < f.n; i++) {
        ASSERT_TRUE(strpbrk(f.f[i].key, "0123456789@") == NULL);
        ASSERT_TRUE(strstr(f.f[i].shown, "wilmar") == NULL);
        ASSERT_TRUE(strstr(f.f[i].shown, "calle") == NULL);
        ASSERT_TRUE(strstr(f.f[i].shown, "example") == NULL);
    }
    ASSERT_TRUE(has(&f, "x:correo"));
    ASSERT_TRUE(has(&f, "x:url"));
    ASSERT_TRUE(has(&f, "w:rot"));
    vt_features_cleanup(&f);
}

/* A tiny corpus: two dependencias told apart by their words. */
static const char tiny[] =
    "{\"channel\":\"web\",\"from\":\"\",\"subject\":\"\",\"text\":\"hueco en la via del barrio\","
    "\"type\":\"reclamo\",\"petition_class\":\"\",\"group\":\"ciudadania\",\"dependencia\":"
    "\"obras\"}\n"
    "{\"channel\":\"web\",\"from\":\"\",\"subject\":\"\",\"text\":\"la via tiene un hueco grande\","
    "\"type\":\"reclamo\",\"petition_class\":\"\",\"group\":\"ciudadania\",\"dependencia\":"
    "\"obras\"}\n"
    "{\"channel\":\"web\",\"from\":\"\",\"subject\":\"\",\"text\":\"cobro del predial mal "
    "liquidado\","
    "\"type\":\"reclamo\",\"petition_class\":\"\",\"group\":\"ciudadania\",\"dependencia\":"
    "\"hacienda\"}\n"
    "\n"
    "{\"channel\":\"web\",\"from\":\"\",\"subject\":\"\",\"text\":\"el predial llego con un cobro "
    "doble\","
    "\"type\":\"peticion\",\"petition_class\":\"general\",\"group\":\"ciudadania\","
    "\"dependencia\":\"hacienda\"}\n";

static void test_training(void)
{
    struct vt_corpus c;
    char err[200];
    ASSERT_EQ(vt_corpus_parse(tiny, sizeof(tiny) - 1, &c, err, sizeof(err)), 0);
    ASSERT_EQ(c.n, 4);
    const struct vt_corpus *parts[] = {&c};
    const double w[] = {1.0};
    struct vt_textmodel *a = NULL, *b = NULL, *l = NULL;
    ASSERT_EQ(vt_corpus_train_model(parts, w, 1, NULL, &a), 0);
    ASSERT_EQ(vt_corpus_train_model(parts, w, 1, NULL, &b), 0);
    if (!a || !b)
        return;
    struct vt_buf ba = {0}, bb = {0}, bl = {0};
    ASSERT_EQ(vt_textmodel_save(a, &ba), 0);
    ASSERT_EQ(vt_textmodel_save(b, &bb), 0);
    ASSERT_TRUE(ba.len == bb.len && memcmp(ba.data, bb.data, ba.len) == 0);
    ASSERT_STREQ(vt_textmodel_version(a), vt_textmodel_version(b));
    ASSERT_EQ(strlen(vt_textmodel_version(a)), 12);
    ASSERT_EQ(vt_textmodel_load(ba.data, ba.len, &l), 0);
    if (l) {
        ASSERT_EQ(vt_textmodel_save(l, &bl), 0);
        ASSERT_TRUE(bl.len == ba.len && memcmp(bl.data, ba.data, ba.len) == 0);
    }

    /* The words decide, the reasons say which, best first. */
    struct vt_features f = {0};
    extract(&f, "web", NULL, "", "un hueco en la via", NULL, 0);
    struct vt_prediction p;
    vt_textmodel_predict(a, &f, VT_TASK_DEPENDENCIA, NULL, &p);
    ASSERT_STREQ(p.label, "obras");
    ASSERT_TRUE(p.confidence > 0.5 && p.confidence <= 1.0);
    ASSERT_STREQ(p.runner_up, "hacienda");
    ASSERT_TRUE(p.n_reasons >= 1 && p.n_reasons <= VT_REASONS);
    for (size_t i = 0; i < p.n_reasons; i++) {
        ASSERT_TRUE(p.reasons[i].weight > 0);
        if (i)
            ASSERT_TRUE(p.reasons[i - 1].weight >= p.reasons[i].weight);
    }
    bool named = false;
    for (size_t i = 0; i < p.n_reasons; i++)
        named = named || strcmp(p.reasons[i].shown, "hueco") == 0 ||
                strcmp(p.reasons[i].shown, "via") == 0;
    ASSERT_TRUE(named);
    /* Only allowed labels are considered. */
    const char *const only_hacienda[] = {"hacienda", NULL};
    vt_textmodel_predict(a, &f, VT_TASK_DEPENDENCIA, only_hacienda, &p);
    ASSERT_STREQ(p.label, "hacienda");
    const char *const none[] = {"juridica", NULL};
    vt_textmodel_predict(a, &f, VT_TASK_DEPENDENCIA, none, &p);
    ASSERT_STREQ(p.label, "");
    /* A task with one label has no model: no suggestion. */
    vt_textmodel_predict(a, &f, VT_TASK_GROUP, NULL, &p);
    ASSERT_STREQ(p.label, "");
    vt_features_cleanup(&f);

    /* Bytes that are not a model are refused. */
    struct vt_textmodel *bad = NULL;
    ASSERT_EQ(vt_textmodel_load("hola", 4, &bad), VT_EINVAL);
    ASSERT_EQ(vt_textmodel_load(ba.data, ba.len / 2, &bad), VT_EINVAL);
    ASSERT_TRUE(bad == NULL);

    /* A line that is not JSON names its line. */
    struct vt_corpus c2;
    ASSERT_EQ(vt_corpus_parse("{\"text\":\"a\"}\n[1]\n", 16, &c2, err, sizeof(err)), VT_EINVAL);
    ASSERT_TRUE(strstr(err, "line 2") != NULL);

    vt_buf_cleanup(&ba);
    vt_buf_cleanup(&bb);
    vt_buf_cleanup(&bl);
    vt_textmodel_free(a);
    vt_textmodel_free(b);
    vt_textmodel_free(l);
    vt_corpus_free(&c);
}

/* The shipped corpus trained here gives exactly the bytes compiled into the
 * daemon at build time: training is reproducible. */
static void test_shipped_reproducible(void)
{
    struct vt_corpus c;
    char err[200];
    ASSERT_EQ(vt_corpus_parse(vt_corpus_train, vt_corpus_train_len, &c, err, sizeof(err)), 0);
    ASSERT_TRUE(c.n >= 1200);
    const struct vt_corpus *parts[] = {&c};
    const double w[] = {1.0};
    struct vt_textmodel *m = NULL;
    ASSERT_EQ(vt_corpus_train_model(parts, w, 1, NULL, &m), 0);
    struct vt_buf b = {0};
    if (m)
        ASSERT_EQ(vt_textmodel_save(m, &b), 0);
    ASSERT_EQ(b.len, vt_shipped_model_len);
    ASSERT_TRUE(b.len == vt_shipped_model_len && memcmp(b.data, vt_shipped_model, b.len) == 0);
    vt_buf_cleanup(&b);
    vt_textmodel_free(m);
    vt_corpus_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_features();
    test_training();
    test_shipped_reproducible();
    VT_TEST_END();
}
