/* take.c - one inbound email into the store (take.h). */
#include "channels/email/take.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channels/email/db.h"
#include "domain/casework.h"
#include "core/calendar.h"
#include "core/classify.h"
#include "core/error.h"
#include "domain/hearing.h"
#include "outbox/outbox.h"
#include "core/text.h"
#include "api/app.h"
#include "domain/intake.h"

/* The domain of the entity's address, for our Message-IDs. */
static const char *from_domain(const struct vt_config *cfg)
{
    const char *at = strchr(cfg->email.from, '@');
    return at && at[1] ? at + 1 : "ventanilla.invalid";
}

void vt_mail_new_message_id(const struct vt_config *cfg, char *out, size_t n)
{
    unsigned char r[12];
    char hex[25];
    randombytes_buf(r, sizeof(r));
    sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
    snprintf(out, n, "vt.%s@%s", hex, from_domain(cfg));
}

static int send_ack(struct vt_store_tx *tx, struct vt_mail_take *t, const struct vt_item *it,
                    const char *subject, const char *text);

/* The acknowledgement: an outbox row whose body the SMTP transport composes;
 * note (NULL for none) a paragraph added at its end. */
static int queue_ack(struct vt_store_tx *tx, struct vt_mail_take *t, const struct vt_item *it,
                     const char *note)
{
    const struct vt_config *cfg = t->cfg;
    const struct vt_mail *m = t->mail;
    char received[32], due[16] = "", term[200], text[3000], subject[400];
    vt_time_format_es(it->received_at, received);
    if (it->due_date[0]) {
        vt_date_format_es(it->due_date, due);
        snprintf(term, sizeof(term), "Fecha límite de respuesta: %s (%d días hábiles)", due,
                 it->term_days);
    } else {
        snprintf(term, sizeof(term), "Las felicitaciones no tienen plazo de respuesta.");
    }
    char track[400] = "";
    if (cfg->email.tracking_url[0])
        snprintf(track, sizeof(track), " en %s", cfg->email.tracking_url);
    snprintf(text, sizeof(text),
             "Cordial saludo%s%s:\n\n%s recibió su mensaje y lo radicó como %s.\n\n"
             "Radicado: %s\nFecha y hora de recibo: %s\n%s\nCódigo de seguimiento: {codigo}\n\n"
             "Con el radicado y el código puede consultar el estado de su solicitud%s. Si "
             "responde este correo, su respuesta se agregará a la misma solicitud.%s\n\n"
             "Este es un mensaje automático.",
             m->from_name[0] ? ", " : "", m->from_name, cfg->entity_name, vt_item_label(it->type),
             it->radicado, received, term, track,
             it->needs_triage ? "\n\nUn funcionario revisará el tipo de solicitud; si cambia, "
                                "le informaremos el nuevo plazo."
                              : "");
    if (note) {
        size_t l = strlen(text);
        snprintf(text + l, sizeof(text) - l, "\n\n%s", note);
    }
    snprintf(subject, sizeof(subject), "Radicado %s: recibimos su solicitud", it->radicado);
    return send_ack(tx, t, it, subject, text);
}

/* Queues the acknowledgement subject/text of it, threaded under the citizen's mail. */
static int send_ack(struct vt_store_tx *tx, struct vt_mail_take *t, const struct vt_item *it,
                    const char *subject, const char *text)
{
    const struct vt_config *cfg = t->cfg;
    const struct vt_mail *m = t->mail;
    char mid[160];
    vt_mail_new_message_id(cfg, mid, sizeof(mid));
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "subject", subject);
    cJSON_AddStringToObject(b, "text", text);
    cJSON_AddStringToObject(b, "message_id", mid);
    cJSON_AddStringToObject(b, "auto_submitted", "auto-replied");
    if (m->message_id[0]) {
        cJSON_AddStringToObject(b, "in_reply_to", m->message_id);
        cJSON *refs = cJSON_AddArrayToObject(b, "references");
        for (size_t i = 0; i < m->n_references; i++)
            cJSON_AddItemToArray(refs, cJSON_CreateString(m->references[i]));
        cJSON_AddItemToArray(refs, cJSON_CreateString(m->message_id));
    }
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    if (!body)
        return VT_ENOMEM;
    struct vt_outbound o = {it->id, "email",           m->from_addr, "ack", body,
                            NULL,   it->tracking_code, NULL,         0};
    int rc = vt_outbox_add(tx, &o);
    free(body);
    return rc ? rc : vt_mail_db_thread_add(tx, mid, it->id, true);
}

/* s cut to at most max characters, on a character boundary (s valid UTF-8). */
static char *dup_chars(const char *s, size_t max)
{
    size_t i = 0, c = 0;
    while (s[i] && c < max) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        c++;
    }
    return strndup(s, i);
}

int vt_mail_to_item(const struct vt_config *cfg, const struct vt_mail *m,
                    const struct vt_attachment *att, size_t n_att, struct vt_item **out)
{
    struct vt_item *it = *out = vt_item_new();
    if (!it)
        return VT_ENOMEM;
    /* A tag or keyword decides the type; otherwise intake takes the learned
     * classifier's guess (or petición when there is none), and a petición's
     * class is always the classifier's to guess. */
    it->kind = "pqrsd";
    it->type = vt_intake_type_from_subject(cfg, m->subject);
    it->petition_class = NULL;
    it->needs_triage = it->type == NULL;
    it->channel = "email";
    it->reply_channel = "email";
    it->subject =
        dup_chars(m->subject[0] ? m->subject : "(sin asunto)", (size_t)cfg->max_subject_chars);
    it->body = dup_chars(m->text[0] ? m->text : "(mensaje sin texto)", (size_t)cfg->max_body_chars);
    it->req.person_type = "natural";
    it->req.name = m->from_name[0] ? strdup(m->from_name) : NULL;
    it->req.email = strdup(m->from_addr);
    if (!it->subject || !it->body || !it->req.email)
        return VT_ENOMEM;
    if (n_att) {
        if (!(it->att = calloc(n_att, sizeof(*it->att))))
            return VT_ENOMEM;
        for (size_t i = 0; i < n_att; i++) {
            it->att[i] = att[i];
            if (!(it->att[i].filename = strdup(att[i].filename ? att[i].filename : "adjunto")))
                return VT_ENOMEM;
            it->n_att++;
        }
    }
    return 0;
}

/* Whether addr appears in the To header text as a whole address (any case). */
static bool addressed_to(const char *to, const char *addr)
{
    size_t al = strlen(addr);
    for (const char *p = to; al && *p; p++) {
        if (strncasecmp(p, addr, al) != 0)
            continue;
        bool start = p == to || strchr(" \t<,;:\"'", p[-1]);
        bool end = !p[al] || strchr(" \t>,;\"'", p[al]);
        if (start && end)
            return true;
    }
    return false;
}

/* Whether the mail is a question for a hearing: a subject tag
 * "[AUDIENCIA:code]" (any case) puts code in code; mail to the configured
 * hearing address leaves code "" (the hearing open now). */
static bool hearing_target(const struct vt_config *cfg, const struct vt_mail *m, char *code,
                           size_t n)
{
    char fold[1024];
    code[0] = '\0';
    vt_fold_es(m->subject, fold, sizeof(fold));
    const char *tag = strstr(fold, "[audiencia:");
    if (tag) {
        const char *c = tag + strlen("[audiencia:");
        c += strspn(c, " ");
        size_t l = strcspn(c, "] ");
        if (l < n && strchr(c + l, ']')) {
            memcpy(code, c, l);
            code[l] = '\0';
            return true;
        }
    }
    return cfg->email.hearing_address && cfg->email.hearing_address[0] && m->to &&
           addressed_to(m->to, cfg->email.hearing_address);
}

static const char NOTE_CLOSED[] =
    "Su mensaje parece una pregunta para una audiencia pública, pero no hay una audiencia con "
    "la recepción de preguntas abierta para ella. Por eso lo radicamos como una solicitud y le "
    "responderemos dentro del plazo indicado.";

/* Files the mail as a question for the hearing code ("" for the open one).
 * 0 when filed, 1 when no such hearing takes questions now (*note says why:
 * the caller files a PQRSD), else a negative error. */
static int file_question(struct vt_store_tx *tx, struct vt_mail_take *t, const char *code,
                         const char **note)
{
    const struct vt_config *cfg = t->cfg;
    const struct vt_mail *m = t->mail;
    struct vt_hearing h;
    int rc;
    *note = NOTE_CLOSED;
    if (!code[0]) {
        if ((rc = vt_hearing_open_now(tx, &h)))
            return rc == VT_ENOTFOUND ? 1 : rc;
        code = h.code;
    } else if (!vt_hearing_code_ok(code)) {
        return 1;
    }
    char *text = dup_chars(m->text[0]      ? m->text
                           : m->subject[0] ? m->subject
                                           : "(mensaje sin texto)",
                           2000);
    if (!text)
        return VT_ENOMEM;
    struct vt_hearing_question q = {.cfg = cfg,
                                    .code = code,
                                    .text = text,
                                    .name = m->from_name,
                                    .source = "email",
                                    .channel = "email",
                                    .show_name = false,
                                    .item = t->item};
    t->item = NULL;
    rc = vt_hearing_question_run(tx, &q);
    free(text);
    t->item = q.item;
    if (rc)
        return rc;
    if (q.outcome)
        return 1;
    struct vt_item *it = q.item;
    if ((rc = vt_hearing_question_contact(tx, it, NULL, m->from_addr, "email")))
        return rc;
    t->item_id = it->id;
    for (size_t i = 0; rc == 0 && i < t->n_att; i++)
        rc = vt_store_tx_attachment_add(tx, it->id, t->att[i].sha256, (int64_t)t->att[i].size,
                                        t->att[i].content_type,
                                        t->att[i].filename ? t->att[i].filename : "adjunto");
    if (rc || (rc = vt_mail_db_thread_add(tx, m->message_id, it->id, false)))
        return rc;

    char received[32], due[16] = "", body[3000], subject[400];
    vt_time_format_es(it->received_at, received);
    if (it->due_date[0])
        vt_date_format_es(it->due_date, due);
    const char *hname = strstr(it->subject, ": "); /* "Pregunta para la audiencia: name" */
    hname = hname ? hname + 2 : it->subject;
    snprintf(body, sizeof(body),
             "Cordial saludo%s%s:\n\n%s recibió su mensaje como una pregunta para la audiencia "
             "pública «%s» y la radicó.\n\nRadicado: %s\nFecha y hora de recibo: %s\n"
             "Fecha límite de respuesta: %s (%d días hábiles)\nCódigo de seguimiento: {codigo}"
             "\n\nLa pregunta puede responderse en la audiencia; si no, le responderemos por "
             "escrito a este correo. Su nombre no se muestra en la pantalla de la audiencia.\n\n"
             "Este es un mensaje automático.",
             m->from_name[0] ? ", " : "", m->from_name, cfg->entity_name, hname, it->radicado,
             received, due[0] ? due : "sin plazo", it->term_days);
    snprintf(subject, sizeof(subject), "Radicado %s: recibimos su pregunta para la audiencia",
             it->radicado);
    return send_ack(tx, t, it, subject, body);
}

static int file_item(struct vt_store_tx *tx, struct vt_mail_take *t)
{
    const struct vt_config *cfg = t->cfg;
    const struct vt_mail *m = t->mail;
    const char *note = NULL;
    char code[64];
    if (hearing_target(cfg, m, code, sizeof(code))) {
        int q = file_question(tx, t, code, &note);
        if (q <= 0)
            return q;
    }
    int rc = vt_mail_to_item(cfg, m, t->att, t->n_att, &t->item);
    struct vt_item *it = t->item;
    if (rc)
        return rc;
    if ((rc = vt_intake_file(cfg, tx, it, NULL)))
        return rc;
    t->item_id = it->id;
    if ((rc = vt_mail_db_thread_add(tx, m->message_id, it->id, false)))
        return rc;
    return queue_ack(tx, t, it, note);
}

/* Adds the message to an item's timeline (and its attachments to the item). */
static int thread_into(struct vt_store_tx *tx, struct vt_mail_take *t, int64_t item_id)
{
    const struct vt_mail *m = t->mail;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "channel", "email");
    cJSON_AddStringToObject(p, "message_id", m->message_id);
    cJSON_AddStringToObject(p, "subject", m->subject);
    char text[4001];
    snprintf(text, sizeof(text), "%s", m->text);
    cJSON_AddStringToObject(p, "text", text);
    cJSON_AddNumberToObject(p, "attachments", (double)t->n_att);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!s)
        return VT_ENOMEM;
    int rc = vt_store_tx_event(tx, item_id, "ciudadano:email", "mensaje_ciudadano", s, 0);
    free(s);
    for (size_t i = 0; rc == 0 && i < t->n_att; i++)
        rc = vt_store_tx_attachment_add(tx, item_id, t->att[i].sha256, (int64_t)t->att[i].size,
                                        t->att[i].content_type,
                                        t->att[i].filename ? t->att[i].filename : "adjunto");
    if (rc == 0)
        rc = vt_mail_db_thread_add(tx, m->message_id, item_id, false);
    if (rc == 0 && t->srv) /* an item waiting for completion takes up its term again */
        rc = vt_casework_citizen_replied(vt_app_domain(t->srv), tx, item_id);
    t->item_id = item_id;
    return rc;
}

static int64_t thread_of(struct vt_store_tx *tx, struct vt_mail_take *t)
{
    const struct vt_mail *m = t->mail;
    int64_t id = vt_mail_db_thread_item(tx, m->in_reply_to);
    for (size_t i = m->n_references; !id && i > 0; i--)
        id = vt_mail_db_thread_item(tx, m->references[i - 1]);
    char rad[48];
    if (!id && vt_mime_find_radicado(m->subject, t->cfg->radicado_prefix, rad, sizeof(rad)))
        id = vt_mail_db_item_of(tx, rad, m->from_addr);
    return id;
}

int vt_mail_take_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_mail_take *t = ctx;
    const struct vt_mail *m = t->mail;
    bool taken = false;
    int rc = vt_mail_db_taken(tx, t->mailbox, t->uidvalidity, t->uid, t->dedup_key, &taken);
    if (rc)
        return rc;
    if (taken) {
        t->outcome = "duplicate";
    } else if (!m) {
        t->outcome = "vanished";
    } else if (!m->from_addr[0]) {
        t->outcome = m->automatic == VT_MAIL_BOUNCE ? "bounce" : "ignored_auto";
    } else if (strcasecmp(m->from_addr, t->cfg->email.from) == 0) {
        t->outcome = "ignored_own";
    } else if (m->automatic == VT_MAIL_BOUNCE) {
        t->outcome = "bounce";
    } else if (m->automatic == VT_MAIL_AUTO_REPLY) {
        t->outcome = "ignored_auto";
    } else if (m->automatic == VT_MAIL_BULK) {
        t->outcome = "ignored_bulk";
    } else {
        int64_t item = thread_of(tx, t);
        t->outcome = item ? "threaded" : "filed";
        rc = item ? thread_into(tx, t, item) : file_item(tx, t);
    }
    if (rc == 0 && m && strcmp(t->outcome, "bounce") == 0 && m->bounced_message_id[0]) {
        /* One of ours bounced: the outbound message failed, on the item's record. */
        rc = vt_outbox_provider_status(tx, "email", m->bounced_message_id, "failed", 0,
                                       "bounce (delivery status notification)");
        t->item_id = vt_mail_db_thread_item(tx, m->bounced_message_id);
    }
    if (rc == 0 && strcmp(t->outcome, "duplicate") != 0)
        rc = vt_mail_db_message_add(tx, t->mailbox, t->uidvalidity, t->uid, t->dedup_key,
                                    t->outcome, t->item_id);
    /* The position moves in the same transaction as what the message became. */
    if (rc == 0)
        rc = vt_mail_db_mailbox_put(tx, t->mailbox, t->uidvalidity, t->uid);
    return rc;
}

void vt_mail_take_cleanup(struct vt_mail_take *t)
{
    if (!t)
        return;
    vt_item_free(t->item);
    t->item = NULL;
}
