/* whatsapp.c - the WhatsApp channel (Meta Cloud API): the webhook at
 * /webhooks/whatsapp, the outbox transport and the media worker.
 *
 * Owns: the webhook routes, the channel's state (transport, media worker)
 * and the order of checks on a delivery: signature first, over the raw body,
 * before anything is parsed; then the payload; then one store job for the
 * whole delivery, answered 200 only once it is committed.
 * Must not: block the loop thread. Sending and media downloads run on the
 * outbox's and the media worker's threads.
 */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "channels/whatsapp/conversation.h"
#include "channels/whatsapp/db.h"
#include "channels/whatsapp/graph.h"
#include "channels/whatsapp/media.h"
#include "channels/whatsapp/messages.h"
#include "channels/whatsapp/parse.h"
#include "core/buf.h"
#include "channels/channel.h"
#include "core/error.h"
#include "http/http.h"
#include "core/log.h"
#include "outbox/outbox.h"
#include "api/app.h"
#include "http/reply.h"

/* What Meta gets for a delivery we took (or knew already). */
static const char OK_BODY[] = "{\"ok\":true}";

struct wa_channel {
    struct vt_outbox_transport transport; /* each sender thread opens its own Graph client */
    struct vt_wa_media *media;
};

static void *graph_open(void *ctx)
{
    return vt_wa_graph_new(ctx);
}

static void graph_close(void *g)
{
    vt_wa_graph_free(g);
}

static void error_json(struct vt_http_request *req, int status, const char *code, const char *field,
                       const char *message)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    if (field)
        cJSON_AddStringToObject(e, "field", field);
    else
        cJSON_AddNullToObject(e, "field");
    cJSON_AddStringToObject(e, "message", message);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    vt_http_respond(req, status, "application/json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
}

/* GET /webhooks/whatsapp: Meta's subscription check. */
static void verify(struct vt_http_request *req)
{
    const struct vt_whatsapp_config *wa = &vt_app_config(req->app)->whatsapp;
    const struct vt_form_field *mode = vt_form_get(&req->query, "hub.mode");
    const struct vt_form_field *token = vt_form_get(&req->query, "hub.verify_token");
    const struct vt_form_field *challenge = vt_form_get(&req->query, "hub.challenge");
    /* Constant-time: compare hashes of equal length, whatever was sent. */
    unsigned char want[32], got[32];
    crypto_generichash(want, sizeof(want), (const unsigned char *)wa->verify_token,
                       strlen(wa->verify_token), NULL, 0);
    const char *t = token ? token->value : "";
    crypto_generichash(got, sizeof(got), (const unsigned char *)t, strlen(t), NULL, 0);
    bool ok = sodium_memcmp(want, got, sizeof(want)) == 0 && wa->verify_token[0];
    if (!ok || !mode || strcmp(mode->value, "subscribe") != 0 || !challenge) {
        vt_log(VT_LOG_WARN, "wa_verify_refused", "mode_ok=%d token_ok=%d",
               mode && strcmp(mode->value, "subscribe") == 0, ok);
        error_json(req, 403, "forbidden", "hub.verify_token",
                   "El token de verificación no coincide.");
        return;
    }
    vt_http_respond(req, 200, "text/plain; charset=utf-8", challenge->value,
                    strlen(challenge->value));
}

struct delivery {
    struct vt_wa_batch batch;
    struct vt_wa_apply apply;
};

static int apply_delivery(struct vt_store_tx *tx, void *ctx)
{
    struct delivery *d = ctx;
    return vt_wa_apply_run(tx, &d->apply);
}

static void delivered(struct vt_http_request *req, void *ctx, int result)
{
    struct delivery *d = ctx;
    if (result == 0) {
        struct wa_channel *ch = vt_app_channel_data(req->app, "whatsapp");
        if (d->apply.media_added && ch)
            vt_wa_media_wake(ch->media);
        vt_log(VT_LOG_DEBUG, "wa_delivery", "events=%zu applied=%d duplicates=%d items=%zu",
               d->batch.n, d->apply.applied, d->apply.duplicates, d->apply.n_items);
    } else {
        vt_log(VT_LOG_ERROR, "wa_delivery_failed", "events=%zu error=\"%s\"", d->batch.n,
               vt_strerror(result));
    }
    if (!req->orphan) {
        if (result == 0)
            vt_http_respond(req, 200, "application/json", OK_BODY, sizeof(OK_BODY) - 1);
        else {
            /* Meta delivers again later: nothing of this delivery was kept. */
            vt_http_header(req, "Retry-After", "5");
            error_json(req, 503, "unavailable", NULL,
                       "No pudimos guardar la notificación; reintente más tarde.");
        }
    }
    vt_wa_apply_cleanup(&d->apply);
    vt_wa_batch_cleanup(&d->batch);
    free(d);
}

/* POST /webhooks/whatsapp: a delivery of messages and statuses. */
static void webhook(struct vt_http_request *req)
{
    const struct vt_config *cfg = vt_app_config(req->app);
    if (!vt_wa_signature_ok(req->signature, cfg->whatsapp.app_secret, req->body, req->body_len)) {
        vt_log(VT_LOG_WARN, "wa_signature_refused", "present=%d bytes=%zu",
               req->signature[0] != '\0', req->body_len);
        error_json(req, 401, "bad_signature", "X-Hub-Signature-256",
                   req->signature[0] ? "La firma X-Hub-Signature-256 no corresponde al contenido."
                                     : "Falta la firma X-Hub-Signature-256.");
        return;
    }
    struct delivery *d = calloc(1, sizeof(*d));
    if (!d) {
        error_json(req, 503, "unavailable", NULL, "Sin memoria; reintente más tarde.");
        return;
    }
    char why[200];
    int rc = vt_wa_parse(req->body, req->body_len, (size_t)cfg->whatsapp.max_events, &d->batch, why,
                         sizeof(why));
    if (rc) {
        free(d);
        vt_log(VT_LOG_WARN, "wa_payload_refused", "error=\"%s\"", why);
        if (rc == VT_ENOMEM) {
            error_json(req, 503, "unavailable", NULL, "Sin memoria; reintente más tarde.");
            return;
        }
        char msg[300];
        snprintf(msg, sizeof(msg), "La notificación no es válida: %s.", why);
        error_json(req, rc == VT_ETOOBIG ? 413 : 400,
                   rc == VT_ETOOBIG ? "too_many_events" : "malformed_payload", "body", msg);
        return;
    }
    /* Events for another business number of the same app are not ours. */
    size_t kept = 0;
    for (size_t i = 0; i < d->batch.n; i++) {
        const char *pnid = d->batch.ev[i].phone_number_id;
        if (pnid[0] && strcmp(pnid, cfg->whatsapp.phone_number_id) != 0)
            continue;
        if (kept != i)
            d->batch.ev[kept] = d->batch.ev[i];
        kept++;
    }
    if (kept < d->batch.n)
        vt_log(VT_LOG_WARN, "wa_other_number", "events=%zu", d->batch.n - kept);
    d->batch.n = kept;
    if (kept == 0) {
        vt_wa_batch_cleanup(&d->batch);
        free(d);
        vt_http_respond(req, 200, "application/json", OK_BODY, sizeof(OK_BODY) - 1);
        return;
    }
    d->apply.cfg = cfg;
    d->apply.srv = req->app;
    d->apply.batch = &d->batch;
    if (vt_app_run(req, apply_delivery, d, delivered) != 0) {
        vt_wa_batch_cleanup(&d->batch);
        free(d);
    }
}

static void wa_stop(struct vt_app *srv);

static int wa_start(struct vt_app *srv, struct vt_http *http)
{
    const struct vt_config *cfg = vt_app_config(srv);
    if (!cfg->whatsapp.enabled)
        return 0;
    struct wa_channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return VT_ENOMEM;
    vt_app_set_channel_data(srv, "whatsapp", ch);
    ch->transport = (struct vt_outbox_transport){
        "whatsapp", (void *)cfg, graph_open, graph_close, vt_wa_graph_send, vt_wa_graph_interrupt};
    int rc = vt_outbox_register(vt_app_outbox(srv), &ch->transport);
    if (rc)
        return rc;
    if (!(ch->media = vt_wa_media_start(cfg, vt_app_store(srv))))
        return VT_ENOMEM;
    size_t max = (size_t)cfg->max_json_bytes;
    rc = vt_http_route(http, "/webhooks/whatsapp", VT_ROUTE_GET, 0, verify);
    rc = rc ? rc : vt_http_route(http, "/webhooks/whatsapp", VT_ROUTE_POST, max, webhook);
    if (rc == 0)
        vt_log(VT_LOG_INFO, "wa_ready", "graph=%s version=%s templates=%zu",
               cfg->whatsapp.graph_base_url, cfg->whatsapp.api_version, cfg->whatsapp.n_templates);
    return rc;
}

/* A file of a notice as an outbox row's body: the stored bytes' SHA-256,
 * never the bytes (graph.c reads and uploads them when the row is sent).
 * NULL: no memory. */
static char *document_body(const struct vt_notice_file *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "document");
    cJSON *d = cJSON_AddObjectToObject(o, "document");
    cJSON_AddStringToObject(d, "sha256", f->sha256 ? f->sha256 : "");
    cJSON_AddStringToObject(d, "filename", f->filename ? f->filename : "documento");
    cJSON_AddStringToObject(d, "content_type",
                            f->content_type ? f->content_type : "application/octet-stream");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Writer thread: a staff message to a requester on WhatsApp. The recipient
 * is the requester's phone: a wa_id, "+57 300 123 4567", or a Colombian
 * mobile number without its country code. The text is one outbox row; each
 * file is one more row after it, a document message, so the citizen gets
 * the text first and then the files in order (the outbox keeps one
 * recipient's messages in order). No network here: the rows name the files
 * and the sender thread uploads them.
 *
 * A survey invitation (kind encuesta) keeps its web link and adds the reply
 * buttons "Responder ahora" / "Ahora no", and the conversation notes it as
 * pending; outside the 24-hour window the transport sends the encuesta
 * template instead, with the same parameters as every notice: the radicado
 * and the text as one line (channels/whatsapp/README.md). */
/* The wa_id of a requester's phone into to[24]: 0 or VT_EINVAL. */
static int wa_id_of(const char *recipient, char to[24])
{
    size_t k = 0;
    for (const char *p = recipient; p && *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (k + 1 >= 24)
                return VT_EINVAL;
            to[k++] = *p;
        } else if (*p != '+' && *p != ' ' && *p != '-' && *p != '(' && *p != ')') {
            return VT_EINVAL;
        }
    }
    to[k] = '\0';
    if (k == 10 && to[0] == '3') { /* a Colombian mobile without +57 */
        memmove(to + 2, to, 11);
        memcpy(to, "57", 2);
        k += 2;
    }
    return k < 8 || k > 15 ? VT_EINVAL : 0;
}

static int wa_can_notify(const struct vt_config *cfg, const char *recipient)
{
    if (!cfg->whatsapp.enabled)
        return VT_ENOTFOUND; /* nothing would ever send it */
    char to[24];
    return wa_id_of(recipient, to);
}

static int wa_notify(const struct vt_config *cfg, struct vt_store_tx *tx, const struct vt_notice *n)
{
    if (!cfg->whatsapp.enabled)
        return VT_ENOTFOUND; /* nothing would ever send it */
    char to[24];
    if (wa_id_of(n->recipient, to))
        return VT_EINVAL;
    /* On WhatsApp the files follow the text; an email copy (when WhatsApp
     * cannot carry the text) names them instead. */
    struct vt_buf text = {0}, fallback = {0};
    vt_buf_puts(&text, n->text);
    vt_buf_puts(&fallback, n->text);
    if (n->n_files == 1)
        vt_buf_puts(&text, "\n\nEn el siguiente mensaje le enviamos el archivo de la respuesta.");
    else if (n->n_files > 1)
        vt_buf_printf(&text,
                      "\n\nEn los siguientes mensajes le enviamos los %zu archivos de la "
                      "respuesta.",
                      n->n_files);
    if (n->n_files) {
        vt_buf_puts(&fallback, n->n_files == 1 ? "\n\nLa respuesta trae este archivo:"
                                               : "\n\nLa respuesta trae estos archivos:");
        for (size_t i = 0; i < n->n_files; i++)
            vt_buf_printf(&fallback, "\n- %s", n->files[i].filename);
    }
    char cut[4200], line[1000];
    vt_wa_cut(text.data ? text.data : "", 4000, cut, sizeof(cut));
    /* A template parameter is one line of at most 1024 characters. */
    vt_wa_cut(n->text, 900, line, sizeof(line));
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    cJSON *params = cJSON_CreateArray();
    cJSON_AddItemToArray(params, cJSON_CreateString(n->radicado));
    cJSON_AddItemToArray(params, cJSON_CreateString(line));
    char *ps = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    bool survey = strcmp(n->kind, "encuesta") == 0;
    char *body = survey ? vt_wa_conv_survey_invitation(cut, n->item_id) : vt_wa_msg_text(cut);
    int rc = VT_ENOMEM;
    if (!body || !ps)
        goto fail;
    struct vt_outbound m = {n->item_id,   "whatsapp", to,        n->kind,
                            body,         ps,         n->secret, fallback.data ? fallback.data : "",
                            n->not_before};
    if ((rc = vt_outbox_add(tx, &m)))
        goto fail;
    for (size_t i = 0; i < n->n_files; i++) {
        const struct vt_notice_file *f = &n->files[i];
        char *doc = document_body(f);
        struct vt_buf note = {0};
        vt_buf_printf(&note,
                      "La respuesta a su solicitud %s trae el archivo «%s». Si no le llegó por "
                      "WhatsApp, puede pedirlo con el número de radicado en cualquiera de "
                      "nuestros canales de atención.",
                      n->radicado, f->filename ? f->filename : "documento");
        rc = VT_ENOMEM;
        if (doc && note.data) {
            struct vt_outbound dm = {n->item_id, "whatsapp", to,        n->kind,      doc,
                                     ps,         NULL,       note.data, n->not_before};
            rc = vt_outbox_add(tx, &dm);
        }
        free(doc);
        vt_buf_cleanup(&note);
        if (rc)
            goto fail;
    }
    /* Asked to complete the item: the citizen's next message answers it. */
    rc = strcmp(n->kind, "completar") == 0 ? vt_wa_db_conv_expect_reply(tx, to) : 0;
    if (rc == 0 && survey)
        rc = vt_wa_conv_survey_invited(tx, to, n->item_id,
                                       n->not_before ? n->not_before : vt_store_tx_now(tx));
fail:
    free(body);
    free(ps);
    vt_buf_cleanup(&fallback);
    vt_buf_cleanup(&text);
    return rc;
}

static void wa_stop(struct vt_app *srv)
{
    struct wa_channel *ch = vt_app_channel_data(srv, "whatsapp");
    if (!ch)
        return;
    vt_wa_media_stop(ch->media);
    vt_app_set_channel_data(srv, "whatsapp", NULL);
    free(ch);
}

static const struct vt_sender wa_sender = {"whatsapp", wa_notify, wa_can_notify};

const struct vt_channel vt_channel_whatsapp = {"whatsapp", wa_start, wa_stop, &wa_sender};
