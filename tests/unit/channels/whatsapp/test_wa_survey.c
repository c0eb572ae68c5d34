/* test_wa_survey.c - a survey asked on WhatsApp: every question type becomes
 * a message within Meta's limits (3 buttons, 10 list rows in all, bodies of
 * 1,024 characters), NPS 0-10 is offered in two steps of at most 7 rows, and
 * what a citizen taps or types reads as the web form's value or as a Spanish
 * reason to ask again. Also the typed list of numbers. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "channels/whatsapp/conversation.h"
#include "channels/whatsapp/survey_question.h"
#include "channels/whatsapp/messages.h"
#include "core/text.h"
#include "vt_test.h"

/* The default survey of migrations/0007_surveys.sql. */
static const char DEFAULT_DEF[] =
    "{\"title\":\"¿Cómo lo atendimos?\",\"intro\":\"Son cuatro preguntas cortas.\",\"questions\":["
    "{\"id\":\"satisfaccion\",\"type\":\"rating\",\"text\":\"¿Qué tan satisfecho quedó?\","
    "\"required\":true},"
    "{\"id\":\"recomendacion\",\"type\":\"nps\",\"text\":\"De 0 a 10, ¿nos recomendaría?\","
    "\"required\":false},"
    "{\"id\":\"a_tiempo\",\"type\":\"yes_no\",\"text\":\"¿A tiempo?\",\"required\":false},"
    "{\"id\":\"mejorar\",\"type\":\"text\",\"text\":\"¿Qué podemos "
    "mejorar?\",\"required\":false}]}";

static size_t chars(const char *s)
{
    return vt_utf8_chars(s, strlen(s));
}

/* A question's message: its kind ("text", "button", "list"), ids and body. */
struct shown {
    char kind[16];
    int n;
    char ids[12][80];
    char body[8192];
};

static void show(const cJSON *def, int i, int step, const char *lead, struct shown *out)
{
    memset(out, 0, sizeof(*out));
    char *s = vt_wa__survey_question(def, i, step, lead);
    cJSON *o = cJSON_Parse(s);
    ASSERT_TRUE(o != NULL);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "text") == 0) {
        snprintf(out->kind, sizeof(out->kind), "text");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "text");
        snprintf(out->body, sizeof(out->body), "%s",
                 cJSON_GetObjectItemCaseSensitive(b, "body")->valuestring);
    } else {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "interactive");
        snprintf(out->kind, sizeof(out->kind), "%s",
                 cJSON_GetObjectItemCaseSensitive(it, "type")->valuestring);
        const char *body =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "body"), "text")
                ->valuestring;
        snprintf(out->body, sizeof(out->body), "%s", body);
        ASSERT_TRUE(chars(body) <= VT_WA_BODY_MAX);
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(it, "action"), *e, *sec;
        if (strcmp(out->kind, "button") == 0) {
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(action, "buttons"))
            {
                const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "reply");
                ASSERT_TRUE(chars(cJSON_GetObjectItemCaseSensitive(r, "title")->valuestring) <=
                            VT_WA_BUTTON_TITLE_MAX);
                snprintf(out->ids[out->n++], 80, "%s",
                         cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring);
            }
            ASSERT_TRUE(out->n >= 1 && out->n <= VT_WA_MAX_BUTTONS);
        } else {
            cJSON_ArrayForEach(sec, cJSON_GetObjectItemCaseSensitive(action, "sections"))
            {
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sec, "rows"))
                {
                    ASSERT_TRUE(chars(cJSON_GetObjectItemCaseSensitive(e, "title")->valuestring) <=
                                VT_WA_ROW_TITLE_MAX);
                    if (out->n < 12)
                        snprintf(out->ids[out->n], 80, "%s",
                                 cJSON_GetObjectItemCaseSensitive(e, "id")->valuestring);
                    out->n++;
                }
            }
            ASSERT_TRUE(out->n >= 1 && out->n <= VT_WA_MAX_ROWS);
        }
    }
    cJSON_Delete(o);
    free(s);
}

static void test_default_survey(void)
{
    cJSON *def = cJSON_Parse(DEFAULT_DEF);
    struct shown m;
    show(def, 0, 0, NULL, &m); /* rating, required: 5 rows, no Omitir */
    ASSERT_STREQ(m.kind, "list");
    ASSERT_EQ(m.n, 5);
    ASSERT_STREQ(m.ids[0], "survey.q.satisfaccion.1");
    ASSERT_STREQ(m.ids[4], "survey.q.satisfaccion.5");
    ASSERT_TRUE(strstr(m.body, "Pregunta 1 de 4: ¿Qué tan satisfecho quedó?") != NULL);
    show(def, 0, 0, "Elija un número del 1 al 5.", &m);
    ASSERT_TRUE(strncmp(m.body, "Elija un número del 1 al 5.\n\nPregunta 1 de 4", 45) == 0);

    show(def, 1, 0, NULL, &m); /* NPS: the half first */
    ASSERT_STREQ(m.kind, "button");
    ASSERT_EQ(m.n, 3);
    ASSERT_STREQ(m.ids[0], "survey.q.recomendacion.bajo");
    ASSERT_STREQ(m.ids[1], "survey.q.recomendacion.alto");
    ASSERT_STREQ(m.ids[2], "survey.q.recomendacion.omitir");
    show(def, 1, 1, NULL, &m);
    ASSERT_STREQ(m.kind, "list");
    ASSERT_EQ(m.n, 7); /* 0-5 and Omitir */
    ASSERT_STREQ(m.ids[0], "survey.q.recomendacion.0");
    ASSERT_STREQ(m.ids[5], "survey.q.recomendacion.5");
    ASSERT_STREQ(m.ids[6], "survey.q.recomendacion.omitir");
    show(def, 1, 2, NULL, &m);
    ASSERT_EQ(m.n, 6); /* 6-10 and Omitir */
    ASSERT_STREQ(m.ids[0], "survey.q.recomendacion.6");
    ASSERT_STREQ(m.ids[4], "survey.q.recomendacion.10");

    show(def, 2, 0, NULL, &m);
    ASSERT_STREQ(m.kind, "button");
    ASSERT_EQ(m.n, 3);
    ASSERT_STREQ(m.ids[0], "survey.q.a_tiempo.si");
    ASSERT_STREQ(m.ids[1], "survey.q.a_tiempo.no");

    show(def, 3, 0, NULL, &m); /* optional text: typed, with an Omitir button */
    ASSERT_STREQ(m.kind, "button");
    ASSERT_EQ(m.n, 1);
    ASSERT_STREQ(m.ids[0], "survey.q.mejorar.omitir");
    ASSERT_TRUE(vt_wa__survey_question(def, 4, 0, NULL) == NULL);
    cJSON_Delete(def);
}

/* A one-question survey of type with n options of len characters each. */
static cJSON *choice_def(const char *type, int n, bool required, size_t len)
{
    cJSON *def = cJSON_CreateObject(), *qs = cJSON_AddArrayToObject(def, "questions");
    cJSON_AddStringToObject(def, "title", "Prueba");
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "id", "canal");
    cJSON_AddStringToObject(q, "type", type);
    cJSON_AddStringToObject(q, "text", "¿Por dónde se enteró?");
    cJSON_AddBoolToObject(q, "required", required);
    cJSON *opts = cJSON_AddArrayToObject(q, "options");
    for (int k = 0; k < n; k++) {
        char o[400];
        snprintf(o, sizeof(o), "Opción %d ", k + 1);
        while (strlen(o) < len && strlen(o) + 3 < sizeof(o))
            strcat(o, "ñ");
        cJSON_AddItemToArray(opts, cJSON_CreateString(o));
    }
    cJSON_AddItemToArray(qs, q);
    return def;
}

static void test_choices_within_limits(void)
{
    struct shown m;
    cJSON *def = choice_def("single", 9, false, 10);
    show(def, 0, 0, NULL, &m); /* 9 options and Omitir: 10 rows */
    ASSERT_STREQ(m.kind, "list");
    ASSERT_EQ(m.n, 10);
    ASSERT_STREQ(m.ids[0], "survey.q.canal.1");
    ASSERT_STREQ(m.ids[9], "survey.q.canal.omitir");
    ASSERT_TRUE(strstr(m.body, "\n9. Opción 9") != NULL);
    cJSON_Delete(def);

    def = choice_def("single", 10, true, 10);
    show(def, 0, 0, NULL, &m);
    ASSERT_STREQ(m.kind, "list");
    ASSERT_EQ(m.n, 10);
    cJSON_Delete(def);

    def = choice_def("single", 10, false, 10); /* 11 rows would not fit: typed */
    show(def, 0, 0, NULL, &m);
    ASSERT_STREQ(m.kind, "text");
    ASSERT_TRUE(strstr(m.body, "\n10. Opción 10") != NULL);
    ASSERT_TRUE(strstr(m.body, "escriba *omitir*") != NULL);
    cJSON_Delete(def);

    /* Long options: the rows carry them, the body drops the numbered copy. */
    def = choice_def("single", 8, true, 300);
    show(def, 0, 0, NULL, &m);
    ASSERT_STREQ(m.kind, "list");
    ASSERT_TRUE(strstr(m.body, "\n1. Opción 1") == NULL);
    cJSON_Delete(def);

    def = choice_def("multiple", 20, false, 20);
    show(def, 0, 0, NULL, &m); /* typed numbers, an Omitir button */
    ASSERT_STREQ(m.kind, "button");
    ASSERT_EQ(m.n, 1);
    ASSERT_TRUE(strstr(m.body, "\n20. Opción 20") != NULL);
    ASSERT_TRUE(strstr(m.body, "separados por comas") != NULL);
    cJSON_Delete(def);

    def = choice_def("multiple", 20, false, 190); /* too long for any button */
    show(def, 0, 0, NULL, &m);
    ASSERT_STREQ(m.kind, "text");
    ASSERT_TRUE(strstr(m.body, "\n20. Opción 20") != NULL);
    cJSON_Delete(def);
}

static enum vt_wa_survey_reading rd(const cJSON *def, int i, int step, const char *reply,
                                    const char *text, char *out, size_t n, int *next)
{
    cJSON *v = NULL;
    char why[200] = "";
    int ns = 0;
    enum vt_wa_survey_reading r = vt_wa__survey_read(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(def, "questions"), i), step, reply,
        text, &v, &ns, why, sizeof(why));
    out[0] = '\0';
    if (r == VT_WA_SURVEY_VALUE) {
        char *p = cJSON_IsString(v) ? strdup(v->valuestring) : cJSON_PrintUnformatted(v);
        snprintf(out, n, "%s", p);
        free(p);
    } else if (r == VT_WA_SURVEY_BAD) {
        ASSERT_TRUE(why[0] != '\0');
        ASSERT_TRUE(v == NULL);
        snprintf(out, n, "%s", why);
    }
    if (next)
        *next = ns;
    cJSON_Delete(v);
    return r;
}

static void test_reading_answers(void)
{
    cJSON *def = cJSON_Parse(DEFAULT_DEF);
    char v[256];
    int next;
    ASSERT_EQ(rd(def, 0, 0, "survey.q.satisfaccion.4", NULL, v, sizeof(v), NULL),
              VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "4");
    ASSERT_EQ(rd(def, 0, 0, "", " 5. ", v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "5");
    ASSERT_EQ(rd(def, 0, 0, "", "7", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    ASSERT_STREQ(v, "Elija un número del 1 al 5.");
    ASSERT_EQ(rd(def, 0, 0, "", "cuatro", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    ASSERT_EQ(rd(def, 0, 0, "", "Omitir", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    ASSERT_STREQ(v, "Esta pregunta es obligatoria.");
    ASSERT_EQ(rd(def, 0, 0, "survey.q.recomendacion.9", NULL, v, sizeof(v), NULL),
              VT_WA_SURVEY_BAD);
    ASSERT_STREQ(v, "Esa respuesta es de otra pregunta.");
    ASSERT_EQ(rd(def, 0, 0, "att.done", NULL, v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    ASSERT_EQ(rd(def, 0, 0, "", NULL, v, sizeof(v), NULL), VT_WA_SURVEY_BAD); /* a photo */

    ASSERT_EQ(rd(def, 1, 0, "survey.q.recomendacion.bajo", NULL, v, sizeof(v), &next),
              VT_WA_SURVEY_STEP);
    ASSERT_EQ(next, 1);
    ASSERT_EQ(rd(def, 1, 0, "survey.q.recomendacion.alto", NULL, v, sizeof(v), &next),
              VT_WA_SURVEY_STEP);
    ASSERT_EQ(next, 2);
    ASSERT_EQ(rd(def, 1, 0, "", "10", v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "10");
    ASSERT_EQ(rd(def, 1, 2, "survey.q.recomendacion.0", NULL, v, sizeof(v), NULL),
              VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "0");
    ASSERT_EQ(rd(def, 1, 1, "", "11", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    ASSERT_STREQ(v, "Elija un número del 0 al 10.");
    ASSERT_EQ(rd(def, 1, 0, "", "omitir", v, sizeof(v), NULL), VT_WA_SURVEY_SKIP);
    ASSERT_EQ(rd(def, 1, 1, "survey.q.recomendacion.omitir", NULL, v, sizeof(v), NULL),
              VT_WA_SURVEY_SKIP);

    ASSERT_EQ(rd(def, 2, 0, "", "Sí", v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "si");
    ASSERT_EQ(rd(def, 2, 0, "survey.q.a_tiempo.no", NULL, v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "no");
    ASSERT_EQ(rd(def, 2, 0, "", "tal vez", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);

    ASSERT_EQ(rd(def, 3, 0, "", "  Que contesten más rápido.  ", v, sizeof(v), NULL),
              VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "Que contesten más rápido.");
    ASSERT_EQ(rd(def, 3, 0, "", "   ", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    ASSERT_EQ(rd(def, 3, 0, "survey.q.mejorar.omitir", NULL, v, sizeof(v), NULL),
              VT_WA_SURVEY_SKIP);
    char *longtext = malloc(2100);
    memset(longtext, 'a', 2099);
    longtext[2099] = '\0';
    ASSERT_EQ(rd(def, 3, 0, "", longtext, v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    free(longtext);
    cJSON_Delete(def);

    def = choice_def("single", 4, true, 10);
    ASSERT_EQ(rd(def, 0, 0, "survey.q.canal.3", NULL, v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "2"); /* the web form's index, from 0 */
    ASSERT_EQ(rd(def, 0, 0, "", "1", v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "0");
    ASSERT_EQ(rd(def, 0, 0, "", "OPCIÓN 4", v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "3");
    ASSERT_EQ(rd(def, 0, 0, "", "5", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    cJSON_Delete(def);

    def = choice_def("multiple", 5, true, 10);
    ASSERT_EQ(rd(def, 0, 0, "", "1, 3 y 5", v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "[\"0\",\"2\",\"4\"]");
    ASSERT_EQ(rd(def, 0, 0, "", "2 2", v, sizeof(v), NULL), VT_WA_SURVEY_VALUE);
    ASSERT_STREQ(v, "[\"1\"]");
    ASSERT_EQ(rd(def, 0, 0, "", "1, 6", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    ASSERT_EQ(rd(def, 0, 0, "", "", v, sizeof(v), NULL), VT_WA_SURVEY_BAD);
    cJSON_Delete(def);
}

static void test_read_numbers(void)
{
    int out[8];
    ASSERT_EQ(vt_wa_read_numbers("1, 3 y 4", 1, 5, out, 8), 3);
    ASSERT_EQ(out[0], 1);
    ASSERT_EQ(out[1], 3);
    ASSERT_EQ(out[2], 4);
    ASSERT_EQ(vt_wa_read_numbers("2 5", 1, 5, out, 8), 2);
    ASSERT_EQ(vt_wa_read_numbers("1;3.", 1, 5, out, 8), 2);
    ASSERT_EQ(vt_wa_read_numbers("3,3,3", 1, 5, out, 8), 1);
    ASSERT_EQ(vt_wa_read_numbers("", 1, 5, out, 8), 0);
    ASSERT_EQ(vt_wa_read_numbers(NULL, 1, 5, out, 8), 0);
    ASSERT_EQ(vt_wa_read_numbers(" , y ", 1, 5, out, 8), 0);
    ASSERT_EQ(vt_wa_read_numbers("1, x", 1, 5, out, 8), -1);
    ASSERT_EQ(vt_wa_read_numbers("0", 1, 5, out, 8), -1);
    ASSERT_EQ(vt_wa_read_numbers("6", 1, 5, out, 8), -1);
    ASSERT_EQ(vt_wa_read_numbers("3a", 1, 5, out, 8), -1);
    ASSERT_EQ(vt_wa_read_numbers("-2", 1, 5, out, 8), -1);
    ASSERT_EQ(vt_wa_read_numbers("99999", 1, 5, out, 8), -1);
    ASSERT_EQ(vt_wa_read_numbers("1 2 3", 1, 5, out, 2), -1); /* more than cap */
}

static void test_invitation(void)
{
    char text[1200];
    snprintf(text, sizeof(text),
             "Cerramos su solicitud 2026-000001. Responda en este enlace: "
             "https://ventanilla.example/encuesta/{codigo}\n\nGracias.");
    char *s = vt_wa_conv_survey_invitation(text, 42);
    cJSON *o = cJSON_Parse(s);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "interactive");
    const char *body =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "body"), "text")
            ->valuestring;
    ASSERT_TRUE(strstr(body, "/encuesta/{codigo}") != NULL);
    ASSERT_TRUE(strstr(body, "*Responder ahora*") != NULL);
    const cJSON *b =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "action"), "buttons");
    ASSERT_EQ(cJSON_GetArraySize(b), 2);
    ASSERT_STREQ(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(b, 0), "reply"), "id")
                     ->valuestring,
                 "survey.start.42");
    ASSERT_STREQ(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(b, 1), "reply"), "title")
                     ->valuestring,
                 "Ahora no");
    cJSON_Delete(o);
    free(s);
    /* A long text leaves room for the 64-character token. */
    memset(text, 'x', 1100);
    text[1100] = '\0';
    s = vt_wa_conv_survey_invitation(text, 7);
    o = cJSON_Parse(s);
    it = cJSON_GetObjectItemCaseSensitive(o, "interactive");
    body = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "body"), "text")
               ->valuestring;
    ASSERT_TRUE(chars(body) + 56 <= VT_WA_BODY_MAX);
    cJSON_Delete(o);
    free(s);
}

int main(void)
{
    test_default_survey();
    test_choices_within_limits();
    test_reading_answers();
    test_read_numbers();
    test_invitation();
    VT_TEST_END();
}
