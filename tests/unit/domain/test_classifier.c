/* test_classifier.c - the stored form of a suggestion (domain/classifier.h):
 * what the shipped model suggests for a message survives vt_classifier_pack
 * and vt_classifier_unpack (labels, confidences and weights to the
 * thousandth, the reasons' texts and order), staff see it as the same JSON
 * as before the compact form, rows that hold that JSON still read, the form
 * is a small part of the JSON's size, and a damaged value reads as nothing
 * rather than as a wrong suggestion. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "domain/classifier.h"
#include "vt_test.h"

static const char *text(const cJSON *o, const char *task, const char *key)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, task), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int main(void)
{
    struct vt_textmodel *m = NULL;
    ASSERT_EQ(vt_classifier_shipped(&m), 0);
    if (!m)
        VT_TEST_END();
    const char *exclude[] = {"Rosa Elvira Quintana", "rosa.quintana@gmail.com"};
    struct vt_text_input in = {
        "email",
        "rosa.quintana@gmail.com",
        "Cobro del predial",
        "Buenos días, me llegó el cobro del predial de marzo con un valor que ya pagué.\n"
        "La página sigue mostrando la deuda. Solicito corregir el cobro.\n\nAtentamente,\n"
        "Rosa Elvira Quintana",
        exclude,
        2};
    struct vt_suggestion s, back;
    ASSERT_EQ(vt_classifier_suggest(m, &in, &s), 0);
    ASSERT_TRUE(s.p[VT_TASK_DEPENDENCIA].n_reasons > 0);

    /* Pack and read back: the same suggestion, to the thousandth. */
    char *packed = vt_classifier_pack(&s);
    ASSERT_TRUE(packed != NULL);
    ASSERT_EQ(vt_classifier_unpack(packed, &back), 0);
    ASSERT_STREQ(back.version, s.version);
    for (int t = 0; t < VT_TASKS; t++) {
        ASSERT_STREQ(back.p[t].label, s.p[t].label);
        ASSERT_TRUE(fabs(back.p[t].confidence - s.p[t].confidence) <= 0.0005);
        ASSERT_EQ(back.p[t].n_reasons, s.p[t].n_reasons);
        for (size_t i = 0; i < s.p[t].n_reasons; i++) {
            ASSERT_STREQ(back.p[t].reasons[i].shown, s.p[t].reasons[i].shown);
            ASSERT_TRUE(fabs(back.p[t].reasons[i].weight - s.p[t].reasons[i].weight) <= 0.0005);
        }
    }

    /* What staff see: the JSON, with the labels and reasons of the model. */
    cJSON *j = vt_classifier_stored_json(packed);
    ASSERT_TRUE(j != NULL);
    ASSERT_STREQ(cJSON_GetObjectItemCaseSensitive(j, "model")->valuestring, s.version);
    ASSERT_STREQ(text(j, "dependencia", "label"), s.p[VT_TASK_DEPENDENCIA].label);
    ASSERT_STREQ(text(j, "type", "label"), s.p[VT_TASK_TYPE].label);
    const cJSON *r0 = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "group"), "reasons"),
        0);
    ASSERT_STREQ(cJSON_GetObjectItemCaseSensitive(r0, "feature")->valuestring,
                 s.p[VT_TASK_GROUP].reasons[0].shown);
    /* The compact form is what every intake writes: well under half the JSON. */
    char *json = cJSON_PrintUnformatted(j);
    printf("stored form %zu bytes, as JSON %zu bytes\n", strlen(packed), strlen(json));
    ASSERT_TRUE(strlen(packed) * 2 < strlen(json));
    /* A row filed before the compact form holds that JSON: it still reads. */
    cJSON *legacy = vt_classifier_stored_json(json);
    ASSERT_TRUE(legacy != NULL && cJSON_Compare(legacy, j, 1));
    cJSON_Delete(legacy);
    free(json);
    cJSON_Delete(j);

    /* A text that holds a TAB or a line end cannot break the form. */
    struct vt_suggestion odd = s;
    snprintf(odd.p[VT_TASK_TYPE].reasons[0].shown, sizeof(odd.p[0].reasons[0].shown), "a\tb\nc");
    char *p2 = vt_classifier_pack(&odd);
    ASSERT_EQ(vt_classifier_unpack(p2, &back), 0);
    ASSERT_STREQ(back.p[VT_TASK_TYPE].reasons[0].shown, "a b c");
    ASSERT_STREQ(back.p[VT_TASK_DEPENDENCIA].label, s.p[VT_TASK_DEPENDENCIA].label);
    free(p2);

    /* Damaged values read as no suggestion, never as a wrong one. */
    const char *bad[] = {"",
                         "s2\tabc",
                         "s1\tabc\n9\tobras\t900",
                         "s1\tabc\n3\tobras\tmucho",
                         "s1\tabc\n3\tobras\t900\tpredial",
                         "s1\tabc\n3\tobras\t900\tpredial\tx",
                         "{\"model\":"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *b = vt_classifier_stored_json(bad[i]);
        if (b)
            fprintf(stderr, "read a damaged value: %s\n", bad[i]);
        ASSERT_TRUE(b == NULL);
    }
    ASSERT_EQ(vt_classifier_unpack(packed + 1, &back), VT_EINVAL);

    free(packed);
    vt_textmodel_free(m);
    VT_TEST_END();
}
