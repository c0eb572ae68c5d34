/* flow_survey.c - the satisfaction survey on WhatsApp: its invitation, and
 * its questions asked one by one (survey_question.c words them), answered
 * in the chat and saved whole by domain/survey.c in the transaction of the
 * last answer.
 *
 * Owns: the survey state, the draft's survey mark and the reply ids
 * survey.start.ID and survey.later.ID (ID: the item, so the buttons of an
 * older invitation work too).
 * Must not: save anything before the last answer; keep the invitation's
 * token (only its id); disturb a PQRSD being filed.
 *
 * An invitation (wa_notify, kind "encuesta") leaves a mark in the draft,
 * which vt_wa__clear_draft and vt_wa_db_conv_expect_reply keep:
 *
 *   draft.survey = {"item": the closed PQRSD, "inv": the invitation's id
 *                   (looked up on the citizen's next message: wa_notify runs
 *                   before domain/survey.c inserts the invitation), "due": when
 *                   the invitation is sent (Unix ms), "quiet": true once the
 *                   citizen said "Ahora no" or it was offered again,
 *                   while answering (state "survey"): "q": the question asked,
 *                   "step": the NPS half picked (1: 0-5, 2: 6-10),
 *                   "a": {"question id": the value as the web form sends it}}
 *
 *   (wa_notify) --> draft.survey marks the invitation    vt_wa_conv_survey_invited
 *   not pqrsd.* --survey.start.ID|"encuesta"|menu.survey--> survey   survey_start
 *   pqrsd.* --survey.start.ID--> unchanged (asked again when the flow ends)
 *   pqrsd.* --consent.*|"cancelar"--> idle, the survey offered once more
 *                                                        vt_wa__survey_after_flow
 *   any --survey.later.ID--> unchanged (the survey stays pending)   survey_later
 *   survey --an answer--> survey (next question)         vt_wa__survey_on
 *   survey --a bad answer--> survey (same question, asked again)
 *   survey --last answer--> idle (answers saved, mark dropped)      survey_save
 *   survey --"cancelar"--> idle (nothing saved, still pending)  vt_wa__survey_cancel
 */
#include "channels/whatsapp/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "channels/whatsapp/conversation.h"
#include "channels/whatsapp/survey_question.h"
#include "core/error.h"
#include "domain/survey.h"

static int64_t jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static void jset(cJSON *o, const char *k, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    if (v)
        cJSON_AddItemToObject(o, k, v);
}

char *vt_wa_conv_survey_invitation(const char *text, int64_t item_id)
{
    static const char more[] = "\n\nO responda aquí mismo, pregunta por pregunta: toque "
                               "*Responder ahora*.";
    /* Room for the link's token, which replaces "{codigo}" (8 characters
     * for 64) only when the message is sent. */
    char cut[VT_WA_BODY_MAX * 4 + 1], body[VT_WA_BODY_MAX * 4 + sizeof(more)];
    vt_wa_cut(text, VT_WA_BODY_MAX - 56 - (sizeof(more) - 1), cut, sizeof(cut));
    snprintf(body, sizeof(body), "%s%s", cut, more);
    char start[48], later[48];
    snprintf(start, sizeof(start), "survey.start.%lld", (long long)item_id);
    snprintf(later, sizeof(later), "survey.later.%lld", (long long)item_id);
    const struct vt_wa_choice c[] = {{start, "Responder ahora", NULL}, {later, "Ahora no", NULL}};
    return vt_wa_msg_buttons(body, c, 2);
}

int vt_wa_conv_survey_invited(struct vt_store_tx *tx, const char *wa_id, int64_t item_id,
                              int64_t due_at)
{
    struct vt_wa_conv c;
    int rc = vt_wa_db_conv_get(tx, wa_id, &c);
    if (rc || strcmp(c.state, "survey") == 0) /* a survey being answered keeps its place */
        goto done;
    cJSON *d = cJSON_Parse(c.draft);
    if (!cJSON_IsObject(d)) {
        cJSON_Delete(d);
        d = cJSON_CreateObject();
    }
    cJSON *m = cJSON_CreateObject();
    rc = VT_ENOMEM;
    if (d && m) {
        cJSON_AddNumberToObject(m, "item", (double)item_id);
        cJSON_AddNumberToObject(m, "due", (double)due_at);
        jset(d, "survey", m);
        m = NULL;
        char *s = cJSON_PrintUnformatted(d);
        /* A number Ventanilla never heard from gets a conversation in state
         * new: its first message is still welcomed. */
        if (s)
            rc = vt_wa_db_conv_put(tx, wa_id, c.exists ? c.state : "new", s, c.last_inbound_at);
        free(s);
    }
    cJSON_Delete(m);
    cJSON_Delete(d);
done:
    vt_wa_conv_cleanup(&c);
    return rc;
}

static cJSON *survey_mark(struct vt_wa_turn *t)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(t->draft, "survey");
    return cJSON_IsObject(m) ? m : NULL;
}

static void survey_drop(struct vt_wa_turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->draft, "survey");
}

/* On each message: the mark's invitation id, looked up once. */
int vt_wa__survey_resolve(struct vt_wa_turn *t)
{
    cJSON *m = survey_mark(t);
    if (!m || jnum(m, "inv"))
        return 0;
    int64_t inv;
    int rc = vt_survey_invitation_of_item(t->tx, jnum(m, "item"), &inv);
    if (rc == VT_ENOTFOUND)
        survey_drop(t);
    else if (rc == 0)
        jset(m, "inv", cJSON_CreateNumber((double)inv));
    return rc == VT_ENOTFOUND ? 0 : rc;
}

/* The mark's survey; VT_ENOTFOUND drops the mark. */
static int survey_form(struct vt_wa_turn *t, struct vt_survey_form *f)
{
    memset(f, 0, sizeof(*f));
    int rc = vt_wa__survey_resolve(t);
    cJSON *m = survey_mark(t);
    if (rc == 0 && !m)
        rc = VT_ENOTFOUND;
    if (rc == 0 && (rc = vt_survey_find_invitation(t->tx, jnum(m, "inv"), f)) == VT_ENOTFOUND)
        survey_drop(t);
    return rc;
}

static const char NOT_FOUND[] =
    "No encontramos esa encuesta. Escriba *menú* para ver las opciones.";

static const char USED[] = "Esta encuesta ya fue respondida: cada invitación sirve una sola vez. "
                           "¡Gracias por su tiempo!";

static const char EXPIRED[] = "El plazo para responder esta encuesta terminó. Si quiere contarnos "
                              "algo, escriba *menú* y radique una sugerencia.";

/* Why f cannot be answered any more (the mark goes), or NULL. */
static const char *survey_closed(struct vt_wa_turn *t, const struct vt_survey_form *f)
{
    const char *why = f->used_at ? USED : vt_store_tx_now(t->tx) > f->expires_at ? EXPIRED : NULL;
    if (why)
        survey_drop(t);
    return why;
}

static int ask_question(struct vt_wa_turn *t, const cJSON *def, const char *lead)
{
    cJSON *m = survey_mark(t);
    return vt_wa__send(t, "prompt",
                       vt_wa__survey_question(def, (int)jnum(m, "q"), (int)jnum(m, "step"), lead),
                       0, NULL, NULL, NULL);
}

static void survey_restart(cJSON *m)
{
    if (!m)
        return;
    jset(m, "q", cJSON_CreateNumber(0));
    jset(m, "step", NULL);
    jset(m, "a", cJSON_CreateObject());
}

static int survey_start(struct vt_wa_turn *t, int64_t item)
{
    cJSON *m = survey_mark(t);
    if (!m || jnum(m, "item") != item) {
        /* An older invitation's button: the item must be the sender's. */
        struct vt_wa_item w;
        int rc = item > 0 ? vt_wa_db_item_by_id(t->tx, item, t->phone, &w) : VT_ENOTFOUND;
        if (rc == VT_ENOTFOUND)
            return vt_wa__filing(t) ? vt_wa__pqrsd_resume(t, NOT_FOUND) : vt_wa__say(t, NOT_FOUND);
        if (rc)
            return rc;
        if (!(m = cJSON_CreateObject()))
            return VT_ENOMEM;
        cJSON_AddNumberToObject(m, "item", (double)item);
        jset(t->draft, "survey", m);
    }
    struct vt_survey_form f;
    int rc = survey_form(t, &f);
    const char *closed = rc == VT_ENOTFOUND ? NOT_FOUND : rc ? NULL : survey_closed(t, &f);
    if (rc && rc != VT_ENOTFOUND)
        goto done;
    rc = 0;
    if (closed) {
        if (strcmp(t->state, "survey") == 0)
            vt_wa__set_state(t, "idle");
        rc = vt_wa__filing(t) ? vt_wa__pqrsd_resume(t, closed) : vt_wa__say(t, closed);
        goto done;
    }
    if (vt_wa__filing(t)) {
        jset(survey_mark(t), "quiet", NULL);
        rc = vt_wa__pqrsd_resume(t,
                                 "Primero terminemos de radicar su solicitud. Cuando terminemos le "
                                 "ofrecemos de nuevo la encuesta.");
        goto done;
    }
    vt_wa__clear_draft(t); /* an offer to add a message to an item, say, is over */
    survey_restart(survey_mark(t));
    vt_wa__set_state(t, "survey");
    char intro[1400];
    const char *in = vt_wa__dstr(f.definition, "intro");
    snprintf(intro, sizeof(intro),
             "%s%sEn cualquier momento puede escribir *omitir* para saltar una pregunta que no sea "
             "obligatoria, o *cancelar* para salir sin guardar nada.",
             in ? in : "", in && *in ? "\n\n" : "");
    if ((rc = vt_wa__say(t, intro)) == 0)
        rc = ask_question(t, f.definition, NULL);
done:
    vt_survey_form_cleanup(&f);
    return rc;
}

static int survey_later(struct vt_wa_turn *t, int64_t item)
{
    cJSON *m = survey_mark(t);
    if (m && jnum(m, "item") == item)
        jset(m, "quiet", cJSON_CreateTrue());
    static const char later[] = "Entendido. Si cambia de opinión, escriba *encuesta* en este chat, "
                                "o use el enlace del mensaje mientras esté vigente.";
    if (vt_wa__filing(t))
        return vt_wa__pqrsd_resume(t, later);
    if (strcmp(t->state, "survey") == 0)
        vt_wa__set_state(t, "idle"); /* nothing of it was saved */
    return vt_wa__say(t, later);
}

static int survey_offer(struct vt_wa_turn *t, const char *lead)
{
    cJSON *m = survey_mark(t);
    int64_t item = jnum(m, "item");
    struct vt_wa_item w;
    int rc = vt_wa_db_item_by_id(t->tx, item, NULL, &w);
    if (rc && rc != VT_ENOTFOUND)
        return rc;
    char text[400], start[48], later[48];
    snprintf(text, sizeof(text),
             "%sTiene pendiente una encuesta corta sobre cómo atendimos su solicitud%s%s%s. ¿La "
             "responde ahora?",
             lead ? lead : "", rc ? "" : " *", rc ? "" : w.radicado, rc ? "" : "*");
    snprintf(start, sizeof(start), "survey.start.%lld", (long long)item);
    snprintf(later, sizeof(later), "survey.later.%lld", (long long)item);
    const struct vt_wa_choice c[] = {{start, "Responder ahora", NULL}, {later, "Ahora no", NULL}};
    return vt_wa__buttons(t, text, c, 2);
}

/* A PQRSD flow just ended: a pending invitation (arrived meanwhile, or
 * before and not answered) is offered once more, once. */
int vt_wa__survey_after_flow(struct vt_wa_turn *t)
{
    cJSON *m = survey_mark(t);
    if (!m || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "quiet")) ||
        jnum(m, "due") > vt_store_tx_now(t->tx))
        return 0;
    struct vt_survey_form f;
    int rc = survey_form(t, &f);
    if (rc == 0 && !survey_closed(t, &f)) {
        jset(survey_mark(t), "quiet", cJSON_CreateTrue());
        rc = survey_offer(t, NULL);
    }
    vt_survey_form_cleanup(&f);
    return rc == VT_ENOTFOUND ? 0 : rc;
}

/* "encuesta" typed, or the menu's option. */
int vt_wa__survey_menu(struct vt_wa_turn *t)
{
    cJSON *m = survey_mark(t);
    if (m)
        return survey_start(t, jnum(m, "item"));
    vt_wa__set_state(t, "idle");
    return vt_wa__say(t, "Por ahora no tiene una encuesta pendiente. Cuando respondamos una de sus "
                         "solicitudes le invitaremos a contarnos cómo lo atendimos. Escriba *menú* "
                         "para ver las demás opciones.");
}

int vt_wa__survey_cancel(struct vt_wa_turn *t)
{
    cJSON *m = survey_mark(t);
    if (m)
        survey_restart(m);
    vt_wa__set_state(t, "idle");
    return vt_wa__say(t,
                      "Cancelamos la encuesta y no guardamos ninguna de sus respuestas. Si quiere "
                      "responderla más adelante, escriba *encuesta*.");
}

/* vt_survey_read_answers' view of the collected answers. */
static const char *answer_value(void *ctx, const char *name, int i)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx, name + 2); /* "q_" + id */
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, i);
    else if (i > 0)
        return NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The last answer: saved by domain/survey.c in this transaction. */
static int survey_save(struct vt_wa_turn *t, const struct vt_survey_form *f)
{
    cJSON *m = survey_mark(t), *answers = NULL;
    int csat, nps;
    char field[48], why[200];
    if (vt_survey_read_answers(f->definition, answer_value,
                               cJSON_GetObjectItemCaseSensitive(m, "a"), &answers, &csat, &nps,
                               field, sizeof(field), why, sizeof(why))) {
        /* The definition changed while the citizen answered. */
        survey_restart(m);
        return ask_question(t, f->definition,
                            "La encuesta cambió mientras la respondía. Empecemos de nuevo.");
    }
    if (!t->a->srv) {
        cJSON_Delete(answers);
        return VT_EINVAL;
    }
    struct vt_survey_answer ans = {.cfg = vt_app_config(t->a->srv),
                                   .invitation_id = f->invitation_id,
                                   .channel = "whatsapp",
                                   .answers = answers,
                                   .csat = csat,
                                   .nps = nps};
    int rc = vt_survey_answer_run(t->tx, &ans);
    cJSON_Delete(answers);
    if (ans.item && vt_wa__keep_item(t, ans.item) && !rc)
        rc = VT_ENOMEM;
    if (rc)
        return rc;
    survey_drop(t);
    vt_wa__set_state(t, "idle");
    if (ans.outcome)
        return vt_wa__say(t, ans.outcome == VT_EEXIST   ? USED
                             : ans.outcome == VT_ERANGE ? EXPIRED
                                                        : NOT_FOUND);
    /* As the web page says it: the review is promised only when a
     * follow-up task opened. */
    return vt_wa__say(
        t, ans.followup ? "¡Gracias por responder! Lamentamos que su experiencia no haya sido "
                          "buena. La dependencia que atendió su solicitud revisará su caso para "
                          "mejorar."
                        : "¡Gracias por responder! Guardamos sus respuestas: nos ayudan a mejorar "
                          "la atención.");
}

/* State survey: the answer to the question asked. */
int vt_wa__survey_on(struct vt_wa_turn *t)
{
    struct vt_survey_form f;
    int rc = survey_form(t, &f);
    const char *closed = rc == VT_ENOTFOUND ? NOT_FOUND : rc ? NULL : survey_closed(t, &f);
    if (closed) {
        vt_wa__set_state(t, "idle");
        rc = vt_wa__say(t, closed);
        goto done;
    }
    if (rc)
        goto done;
    cJSON *m = survey_mark(t), *a = cJSON_GetObjectItemCaseSensitive(m, "a");
    int n = cJSON_GetArraySize(vt_wa__survey_questions(f.definition)), i = (int)jnum(m, "q");
    if (i < 0 || i >= n || !cJSON_IsObject(a)) { /* a shorter new version */
        survey_restart(m);
        rc = ask_question(t, f.definition, "Empecemos de nuevo.");
        goto done;
    }
    const cJSON *q = cJSON_GetArrayItem(vt_wa__survey_questions(f.definition), i);
    cJSON *value;
    int step;
    char why[200];
    switch (vt_wa__survey_read(q, (int)jnum(m, "step"), t->ev->reply_id,
                               t->ev->type == VT_WA_MSG_TEXT ? t->ev->text : NULL, &value, &step,
                               why, sizeof(why))) {
    case VT_WA_SURVEY_BAD:
        rc = ask_question(t, f.definition, why);
        goto done;
    case VT_WA_SURVEY_STEP:
        jset(m, "step", cJSON_CreateNumber(step));
        rc = ask_question(t, f.definition, NULL);
        goto done;
    case VT_WA_SURVEY_VALUE:
    case VT_WA_SURVEY_SKIP:
        jset(a, vt_wa__dstr(q, "id"), value);
        break;
    }
    jset(m, "step", NULL);
    jset(m, "q", cJSON_CreateNumber(++i));
    rc = i < n ? ask_question(t, f.definition, NULL) : survey_save(t, &f);
done:
    vt_survey_form_cleanup(&f);
    return rc;
}

/* Taps on an invitation: its reply buttons, or a template's quick replies
 * (their text comes back). 1 when ev is none of them. */
int vt_wa__survey_tap(struct vt_wa_turn *t)
{
    const char *id = t->ev->reply_id;
    if (vt_wa__has_prefix(id, "survey.start.") || vt_wa__has_prefix(id, "survey.later.")) {
        long long item = strtoll(id + 13, NULL, 10);
        return id[7] == 's' ? survey_start(t, item) : survey_later(t, item);
    }
    if (t->ev->type != VT_WA_MSG_BUTTON)
        return 1;
    char f[64];
    vt_wa__fold_trim(t->ev->text, f, sizeof(f));
    cJSON *m = survey_mark(t);
    if (strcmp(f, "responder ahora") == 0)
        return m ? survey_start(t, jnum(m, "item")) : vt_wa__survey_menu(t);
    if (strcmp(f, "ahora no") == 0)
        return survey_later(t, jnum(m, "item"));
    return 1;
}

/* "encuesta" typed; "responder" and the like only while one is pending. */
bool vt_wa__survey_word(struct vt_wa_turn *t)
{
    static const char *const words[] = {"responder", "responder ahora", "responder encuesta",
                                        "encuesta", NULL};
    for (int i = survey_mark(t) ? 0 : 3; words[i]; i++)
        if (strcmp(t->fold, words[i]) == 0)
            return true;
    return false;
}
