/* survey_question.c - a survey question as a WhatsApp message, a reply as
 * its answer (survey_question.h). Pure: no store, no conversation.
 */
#include "channels/whatsapp/survey_question.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/whatsapp/flow.h"
#include "core/buf.h"
#include "core/text.h"

/* The prefix of every answer's reply id. */
#define SQ "survey.q."

const cJSON *vt_wa__survey_questions(const cJSON *def)
{
    return cJSON_GetObjectItemCaseSensitive(def, "questions");
}

static bool required(const cJSON *q)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "required"));
}

/* The whole number s in [lo, hi], or -1. */
static int whole_in(const char *s, int lo, int hi)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 3 || strspn(s, "0123456789") != n)
        return -1;
    int v = atoi(s);
    return v >= lo && v <= hi ? v : -1;
}

/* "\n1. Option" for each option, into b. */
static void numbered(struct vt_buf *b, const cJSON *opts)
{
    int k = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, opts)
    {
        vt_buf_printf(b, "\n%d. %s", ++k, o->valuestring);
    }
}

char *vt_wa__survey_question(const cJSON *def, int i, int step, const char *lead)
{
    const cJSON *q = cJSON_GetArrayItem(vt_wa__survey_questions(def), i);
    const char *id = vt_wa__dstr(q, "id"), *type = vt_wa__dstr(q, "type"),
               *text = vt_wa__dstr(q, "text");
    if (!id || !type || !text)
        return NULL;
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
    int n_opts = cJSON_IsArray(opts) ? cJSON_GetArraySize(opts) : 0;
    bool optional = !required(q);
    enum { TEXT, BUTTONS, LIST } kind = TEXT;
    struct vt_wa_choice c[VT_WA_MAX_ROWS];
    char ids[VT_WA_MAX_ROWS][80], titles[VT_WA_MAX_ROWS][16];
    size_t nc = 0;
    const char *tap = "", *typed = "", *button = "Elegir";
    bool list_opts = false; /* the options numbered in the text */
    if (strcmp(type, "rating") == 0) {
        kind = LIST;
        for (int v = 1; v <= 5; v++, nc++) {
            snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.%d", id, v);
            snprintf(titles[nc], sizeof(titles[nc]), "%d", v);
            c[nc] = (struct vt_wa_choice){ids[nc], titles[nc],
                                          v == 1   ? "Lo más bajo"
                                          : v == 5 ? "Lo más alto"
                                                   : NULL};
        }
        tap = "Toque *Elegir* y marque un número del 1 al 5, o escríbalo.";
        typed = "Escriba un número del 1 al 5.";
    } else if (strcmp(type, "nps") == 0 && step == 0) {
        /* Eleven values, and a list holds ten rows: the half first, then the
         * number, so that no score needs more effort than another. */
        kind = BUTTONS;
        snprintf(ids[0], sizeof(ids[0]), SQ "%s.bajo", id);
        snprintf(ids[1], sizeof(ids[1]), SQ "%s.alto", id);
        c[nc++] = (struct vt_wa_choice){ids[0], "De 0 a 5", NULL};
        c[nc++] = (struct vt_wa_choice){ids[1], "De 6 a 10", NULL};
        tap = "Toque el grupo de su nota y luego elija el número, o escriba directamente un "
              "número del 0 al 10.";
        typed = "Escriba un número del 0 al 10.";
    } else if (strcmp(type, "nps") == 0) {
        kind = LIST;
        button = "Elegir nota";
        for (int v = step == 1 ? 0 : 6; v <= (step == 1 ? 5 : 10); v++, nc++) {
            snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.%d", id, v);
            snprintf(titles[nc], sizeof(titles[nc]), "%d", v);
            c[nc] = (struct vt_wa_choice){ids[nc], titles[nc],
                                          v == 0    ? "Nada probable"
                                          : v == 10 ? "Muy probable"
                                                    : NULL};
        }
        tap = "Elija su nota en la lista, o escríbala (del 0 al 10).";
        typed = "Escriba un número del 0 al 10.";
    } else if (strcmp(type, "yes_no") == 0) {
        kind = BUTTONS;
        snprintf(ids[0], sizeof(ids[0]), SQ "%s.si", id);
        snprintf(ids[1], sizeof(ids[1]), SQ "%s.no", id);
        c[nc++] = (struct vt_wa_choice){ids[0], "Sí", NULL};
        c[nc++] = (struct vt_wa_choice){ids[1], "No", NULL};
        tap = "Toque una opción, o escriba sí o no.";
        typed = "Escriba sí o no.";
    } else if (strcmp(type, "single") == 0) {
        list_opts = true;
        if (n_opts + optional <= VT_WA_MAX_ROWS) {
            kind = LIST;
            button = "Ver opciones";
            const cJSON *o;
            cJSON_ArrayForEach(o, opts)
            {
                snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.%zu", id, nc + 1);
                /* The title holds 24 characters; what follows goes below it. */
                char head[VT_WA_ROW_TITLE_MAX * 4 + 1];
                vt_wa_cut(o->valuestring, VT_WA_ROW_TITLE_MAX, head, sizeof(head));
                const char *rest = o->valuestring + strlen(head);
                c[nc] = (struct vt_wa_choice){ids[nc], o->valuestring, *rest ? rest : NULL};
                nc++;
            }
        }
        tap = "Toque *Ver opciones* y elija una, o escriba su número.";
        typed = "Escriba el número de su opción.";
    } else if (strcmp(type, "multiple") == 0) {
        list_opts = true;
        tap = typed = "Escriba los números de todas las opciones que elija, separados por comas "
                      "(por ejemplo: 1, 3).";
    } else { /* text */
        tap = typed = "Escriba su respuesta en un mensaje.";
    }
    if (optional && (kind != TEXT || strcmp(type, "multiple") == 0 || strcmp(type, "text") == 0)) {
        snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.omitir", id);
        c[nc] = (struct vt_wa_choice){ids[nc], "Omitir", NULL};
        nc++;
        if (kind == TEXT)
            kind = BUTTONS; /* only "Omitir": the answer itself is typed */
    }
    /* An interactive body holds 1,024 characters: the numbered options go
     * first, then the buttons or rows (the answer is typed instead). */
    struct vt_buf b = {0};
    for (int pass = 0; pass < 3; pass++) {
        bool with_list = list_opts && (pass == 0 || kind == TEXT);
        vt_buf_cleanup(&b);
        vt_buf_printf(&b, "%s%sPregunta %d de %d: %s", lead && *lead ? lead : "",
                      lead && *lead ? "\n\n" : "", i + 1,
                      cJSON_GetArraySize(vt_wa__survey_questions(def)), text);
        if (with_list)
            numbered(&b, opts);
        vt_buf_printf(&b, "\n\n%s", kind == TEXT ? typed : tap);
        if (optional)
            vt_buf_puts(&b, kind == TEXT ? " Si prefiere no responder, escriba *omitir*."
                                         : " Si prefiere no responder, toque *Omitir*.");
        if (!b.data || kind == TEXT || vt_utf8_chars(b.data, b.len) <= VT_WA_BODY_MAX)
            break;
        if (pass == 0 && kind == LIST && list_opts)
            continue; /* the rows name the options: try without the numbered text */
        kind = TEXT;  /* typed, with the options numbered */
        pass = 1;
    }
    char *out = NULL;
    if (b.data)
        out = kind == LIST      ? vt_wa_msg_list(b.data, button, c, nc)
              : kind == BUTTONS ? vt_wa_msg_buttons(b.data, c, nc)
                                : vt_wa_msg_text(b.data);
    vt_buf_cleanup(&b);
    return out;
}

static enum vt_wa_survey_reading bad(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    return VT_WA_SURVEY_BAD;
}

enum vt_wa_survey_reading vt_wa__survey_read(const cJSON *q, int step, const char *reply_id,
                                             const char *text, cJSON **value, int *next_step,
                                             char *why, size_t whylen)
{
    *value = NULL;
    *next_step = 0;
    const char *id = vt_wa__dstr(q, "id"), *type = vt_wa__dstr(q, "type");
    if (!id || !type)
        return bad(why, whylen, "No pudimos leer esta pregunta.");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
    int n_opts = cJSON_IsArray(opts) ? cJSON_GetArraySize(opts) : 0;
    char prefix[64], fold[256] = "";
    snprintf(prefix, sizeof(prefix), SQ "%s.", id);
    const char *tap = NULL;
    if (reply_id && *reply_id) {
        if (!vt_wa__has_prefix(reply_id, prefix))
            return bad(why, whylen,
                       vt_wa__has_prefix(reply_id, SQ) ? "Esa respuesta es de otra pregunta."
                                                       : "Responda esta pregunta de la encuesta, o "
                                                         "escriba *cancelar* para salir.");
        tap = reply_id + strlen(prefix);
    } else if (text) {
        vt_wa__fold_trim(text, fold, sizeof(fold));
    } else {
        return bad(why, whylen,
                   "En la encuesta solo leemos texto y las opciones que le ofrecemos.");
    }
    const char *s = tap ? tap : fold;
    if (strcmp(s, "omitir") == 0) {
        if (required(q))
            return bad(why, whylen, "Esta pregunta es obligatoria.");
        return VT_WA_SURVEY_SKIP;
    }
    char v[16];
    if (strcmp(type, "rating") == 0 || strcmp(type, "nps") == 0) {
        bool rating = type[0] == 'r';
        if (!rating && tap && (strcmp(tap, "bajo") == 0 || strcmp(tap, "alto") == 0)) {
            *next_step = tap[0] == 'b' ? 1 : 2;
            return VT_WA_SURVEY_STEP;
        }
        int n = whole_in(s, rating ? 1 : 0, rating ? 5 : 10);
        if (n < 0)
            return bad(why, whylen,
                       rating ? "Elija un número del 1 al 5." : "Elija un número del 0 al 10.");
        snprintf(v, sizeof(v), "%d", n);
    } else if (strcmp(type, "yes_no") == 0) {
        if (strcmp(s, "si") != 0 && strcmp(s, "no") != 0)
            return bad(why, whylen, "Responda sí o no.");
        snprintf(v, sizeof(v), "%s", s[0] == 's' ? "si" : "no");
    } else if (strcmp(type, "single") == 0) {
        int k = whole_in(s, 1, n_opts);
        for (int j = 0; k < 0 && !tap && j < n_opts; j++) {
            char of[256]; /* the option's text typed out */
            vt_wa__fold_trim(cJSON_GetArrayItem(opts, j)->valuestring, of, sizeof(of));
            if (*fold && strcmp(of, fold) == 0)
                k = j + 1;
        }
        if (k < 0)
            return bad(why, whylen, "Elija una de las opciones: toque una o escriba su número.");
        snprintf(v, sizeof(v), "%d", k - 1);
    } else if (strcmp(type, "multiple") == 0) {
        int ks[20];
        int n = tap ? -1 : vt_wa_read_numbers(fold, 1, n_opts, ks, 20);
        if (n <= 0)
            return bad(why, whylen,
                       "Escriba los números de las opciones que elija, separados por comas (por "
                       "ejemplo: 1, 3).");
        cJSON *arr = cJSON_CreateArray();
        for (int j = 0; arr && j < n; j++) {
            snprintf(v, sizeof(v), "%d", ks[j] - 1);
            cJSON_AddItemToArray(arr, cJSON_CreateString(v));
        }
        *value = arr;
        return arr ? VT_WA_SURVEY_VALUE : bad(why, whylen, "Intente de nuevo.");
    } else { /* text: the message itself, not its folded form */
        if (tap)
            return bad(why, whylen, "Escriba su respuesta en un mensaje.");
        size_t len = strlen(text);
        while (len && isspace((unsigned char)text[len - 1]))
            len--;
        while (len && isspace((unsigned char)*text))
            text++, len--;
        if (len == 0)
            return bad(why, whylen, "Escriba su respuesta en un mensaje.");
        if (vt_utf8_chars(text, len) > 2000)
            return bad(why, whylen, "La respuesta puede tener hasta 2.000 caracteres.");
        char *t = strndup(text, len);
        *value = t ? cJSON_CreateString(t) : NULL;
        free(t);
        return *value ? VT_WA_SURVEY_VALUE : bad(why, whylen, "Intente de nuevo.");
    }
    (void)step; /* a typed number counts at either step */
    *value = cJSON_CreateString(v);
    return *value ? VT_WA_SURVEY_VALUE : bad(why, whylen, "Intente de nuevo.");
}
