/* fuzz_survey.c - libFuzzer driver for the survey rules: a definition (as an
 * admin may send it) and a form of answers (as anyone may post to a public
 * survey page). The input is the definition's JSON, a NUL byte, then the
 * urlencoded answers. Aborts when a result breaks survey.h's contract.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/form.h"
#include "domain/survey.h"

static const char *get(void *ctx, const char *name, int i)
{
    const struct vt_form *f = ctx;
    for (size_t k = 0; k < f->n; k++)
        if (strcmp(f->fields[k].name, name) == 0 && i-- == 0)
            return f->fields[k].value;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t dlen = nul ? (size_t)(nul - data) : size;
    cJSON *def = cJSON_ParseWithLength((const char *)data, dlen);
    char why[300], field[48];
    if (vt_survey_check_definition(def, why, sizeof(why)) == 0 && nul) {
        struct vt_form form = {0};
        const char *rest = (const char *)nul + 1;
        size_t rlen = size - dlen - 1;
        if (vt_form_parse_urlencoded(rest, rlen, 64, &form) == 0) {
            cJSON *answers = NULL;
            int csat, nps;
            if (vt_survey_read_answers(def, get, &form, &answers, &csat, &nps, field, sizeof(field),
                                       why, sizeof(why)) == 0) {
                if (!cJSON_IsObject(answers) || csat < -1 || csat == 0 || csat > 5 || nps < -1 ||
                    nps > 10)
                    abort();
                char *s = cJSON_PrintUnformatted(answers);
                if (!s)
                    abort();
                free(s);
                cJSON_Delete(answers);
            } else if (strncmp(field, "q_", 2) != 0 || !why[0]) {
                abort(); /* a refusal names the question and says why */
            }
        }
        vt_form_cleanup(&form);
    }
    cJSON_Delete(def);
    return 0;
}
