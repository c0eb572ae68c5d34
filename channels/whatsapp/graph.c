/* graph.c - the Graph API client over libcurl (graph.h). */
#include "channels/whatsapp/graph.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "channels/whatsapp/db.h"
#include "channels/whatsapp/messages.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

#define WINDOW_MS (24LL * 3600 * 1000)
/* A reply queued a minute before the window closes may reach Meta after it. */
#define WINDOW_MARGIN_MS (60LL * 1000)
/* Meta's limit for an uploaded document (application/pdf, text/plain, Office). */
#define DOCUMENT_MAX_BYTES (100LL * 1024 * 1024)
/* Meta's limit for a document message's filename. */
#define DOCUMENT_FILENAME_MAX 240

struct vt_wa_graph {
    const struct vt_config *cfg;
    CURL *curl; /* this thread's */
    struct curl_slist *json_headers, *auth_headers;
    atomic_int interrupted;
};

void vt_wa_graph_interrupt(void *ctx)
{
    struct vt_wa_graph *g = ctx;
    if (g)
        atomic_store(&g->interrupted, 1);
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct vt_wa_graph *g = ud;
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return atomic_load(&g->interrupted) ? 1 : 0;
}

struct reply {
    struct vt_buf body;
    size_t max;
    bool too_big; /* the body went over max */
    int retry_after_s;
    char content_type[128];
};

int vt_wa_window_open(int64_t last_inbound_ms, int64_t now)
{
    return last_inbound_ms > 0 && now - last_inbound_ms < WINDOW_MS - WINDOW_MARGIN_MS;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;
    if (r->body.len + len > r->max) {
        r->too_big = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return vt_buf_append(&r->body, p, len) == 0 ? len : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0)
        r->retry_after_s = atoi(p + 12);
    if (len > 13 && strncasecmp(p, "content-type:", 13) == 0) {
        const char *v = p + 13;
        while (*v == ' ')
            v++;
        size_t l = strcspn(v, ";\r\n");
        snprintf(r->content_type, sizeof(r->content_type), "%.*s", (int)l, v);
    }
    return len;
}

struct vt_wa_graph *vt_wa_graph_new(const struct vt_config *cfg)
{
    struct vt_wa_graph *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->cfg = cfg;
    char auth[1100];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cfg->whatsapp.access_token);
    g->curl = curl_easy_init();
    g->json_headers = curl_slist_append(NULL, "Content-Type: application/json");
    g->json_headers = g->json_headers ? curl_slist_append(g->json_headers, auth) : NULL;
    g->auth_headers = curl_slist_append(NULL, auth);
    if (!g->curl || !g->json_headers || !g->auth_headers) {
        vt_wa_graph_free(g);
        return NULL;
    }
    return g;
}

void vt_wa_graph_free(struct vt_wa_graph *g)
{
    if (!g)
        return;
    if (g->curl)
        curl_easy_cleanup(g->curl);
    curl_slist_free_all(g->json_headers);
    curl_slist_free_all(g->auth_headers);
    free(g);
}

/* One request; returns the curl code, *status the HTTP status (0 if none).
 * A GET when post and form are NULL; a JSON POST of post; or a
 * multipart/form-data POST of form (curl sets its Content-Type). */
static CURLcode perform(struct vt_wa_graph *g, const char *url, const char *post, curl_mime *form,
                        struct reply *r, long *status)
{
    CURL *c = g->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)g->cfg->outbox.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)g->cfg->outbox.timeout_ms);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ventanilla");
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, g);
    if (form) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, g->auth_headers);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, form);
    } else if (post) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, g->json_headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, g->auth_headers);
    }
    CURLcode cc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return cc;
}

/* The Graph error object's code and message, from an error body. */
static int graph_error(const char *body, char *msg, size_t msglen)
{
    int code = 0;
    msg[0] = '\0';
    cJSON *o = cJSON_Parse(body ? body : "");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsNumber(c))
        code = c->valueint;
    if (cJSON_IsString(m))
        snprintf(msg, msglen, "%.200s", m->valuestring);
    cJSON_Delete(o);
    return code;
}

static bool throttled(int code)
{
    return code == 4 || code == 80007 || code == 130429 || code == 131048 || code == 131056 ||
           code == 1 || code == 2 || code == 131000;
}

/* A Graph error answer (HTTP status, Graph error code) as an outcome. */
static void map_failure(long status, int code, const struct reply *r, struct vt_send_result *res)
{
    /* An expired or revoked token (401, 190) is the operator's to fix:
     * retrying keeps the queue for when it is, instead of making every
     * message a dead letter; the sender pauses meanwhile. */
    if (status == 429 || status >= 500 || throttled(code) || status == 401 || code == 190)
        res->outcome = VT_SEND_RETRY;
    else if (code == 131047 || code == 131026)
        res->outcome = VT_SEND_NO_WINDOW;
    else
        res->outcome = VT_SEND_REFUSED;
    if (r->retry_after_s > 0 && r->retry_after_s < 3600)
        res->retry_after_ms = r->retry_after_s * 1000;
}

/* POSTs payload to /messages and maps the answer onto res. Returns the
 * Graph error code (0 when none). */
static int post_message(struct vt_wa_graph *g, const char *payload, struct vt_send_result *res)
{
    const struct vt_whatsapp_config *wa = &g->cfg->whatsapp;
    char url[600];
    snprintf(url, sizeof(url), "%s/%s/%s/messages", wa->graph_base_url, wa->api_version,
             wa->phone_number_id);
    struct reply r = {.max = 1 << 20};
    long status = 0;
    CURLcode cc = perform(g, url, payload, NULL, &r, &status);
    int code = 0;
    char msg[220] = "";
    if (cc != CURLE_OK) {
        res->outcome = VT_SEND_RETRY;
        snprintf(res->error, sizeof(res->error), "graph: %s", curl_easy_strerror(cc));
    } else if (status >= 200 && status < 300) {
        cJSON *o = cJSON_Parse(r.body.data ? r.body.data : "");
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, 0), "id");
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "success");
        if (cJSON_IsString(id)) {
            res->outcome = VT_SEND_OK;
            snprintf(res->provider_id, sizeof(res->provider_id), "%s", id->valuestring);
        } else if (cJSON_IsTrue(ok)) {
            res->outcome = VT_SEND_OK; /* mark-as-read answers {"success": true} */
        } else {
            res->outcome = VT_SEND_RETRY;
            snprintf(res->error, sizeof(res->error), "graph: HTTP %ld without a message id",
                     status);
        }
        cJSON_Delete(o);
    } else {
        code = graph_error(r.body.data, msg, sizeof(msg));
        snprintf(res->error, sizeof(res->error), "graph: HTTP %ld, error %d: %s", status, code,
                 msg);
        map_failure(status, code, &r, res);
    }
    vt_buf_cleanup(&r.body);
    return code;
}

/* The full message: the stored body plus who it is for. */
static char *free_form(const struct vt_outbox_msg *m)
{
    cJSON *o = cJSON_Parse(m->body);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddStringToObject(o, "messaging_product", "whatsapp");
    if (strcmp(m->kind, "read") != 0) {
        cJSON_AddStringToObject(o, "recipient_type", "individual");
        cJSON_AddStringToObject(o, "to", m->recipient);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *template_message(const struct vt_outbox_msg *m, const struct vt_wa_template *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "messaging_product", "whatsapp");
    cJSON_AddStringToObject(o, "recipient_type", "individual");
    cJSON_AddStringToObject(o, "to", m->recipient);
    cJSON_AddStringToObject(o, "type", "template");
    cJSON *tp = cJSON_AddObjectToObject(o, "template");
    cJSON_AddStringToObject(tp, "name", t->name);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(tp, "language"), "code", t->language);
    cJSON *params = cJSON_Parse(m->params && *m->params ? m->params : "[]");
    if (cJSON_IsArray(params) && cJSON_GetArraySize(params) > 0) {
        cJSON *comp = cJSON_CreateObject();
        cJSON_AddStringToObject(comp, "type", "body");
        cJSON *list = cJSON_AddArrayToObject(comp, "parameters");
        const cJSON *p;
        cJSON_ArrayForEach(p, params)
        {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "type", "text");
            cJSON_AddStringToObject(x, "text", cJSON_IsString(p) ? p->valuestring : "");
            cJSON_AddItemToArray(list, x);
        }
        cJSON_AddItemToArray(cJSON_AddArrayToObject(tp, "components"), comp);
    }
    cJSON_Delete(params);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Outside the window: the template for this kind, or NO_WINDOW. */
static void send_template(struct vt_wa_graph *g, const struct vt_outbox_msg *m,
                          struct vt_send_result *res)
{
    const struct vt_wa_template *t = vt_config_wa_template(g->cfg, m->kind);
    if (!t || strcmp(m->kind, "prompt") == 0) {
        /* Menu prompts answer a message, so they only exist inside the window. */
        res->outcome = VT_SEND_NO_WINDOW;
        snprintf(res->error, sizeof(res->error),
                 "outside the 24-hour window and no template for kind %s", m->kind);
        vt_wa_msg_plain(m->body, res->fallback_text, sizeof(res->fallback_text));
        return;
    }
    char *payload = template_message(m, t);
    if (!payload) {
        res->outcome = VT_SEND_RETRY;
        snprintf(res->error, sizeof(res->error), "out of memory");
        return;
    }
    post_message(g, payload, res);
    free(payload);
    if (res->outcome == VT_SEND_OK)
        snprintf(res->via_template, sizeof(res->via_template), "%s", t->name);
    if (res->outcome == VT_SEND_NO_WINDOW)
        vt_wa_msg_plain(m->body, res->fallback_text, sizeof(res->fallback_text));
}

/* ---- documents ----
 *
 * A staff answer's file is an outbox row whose body names the stored bytes,
 * {"type":"document","document":{"sha256","filename","content_type"}}, never
 * the bytes themselves (they are read from the store, attach.h, when the row
 * is sent; a row queued by an older version names a file, "path"). Sending
 * it takes two requests: the upload to /media, which answers a media id,
 * then the document message with that id. The id lives
 * only in this attempt: when the message fails and is retried, the file is
 * uploaded again. That costs one more upload but needs no state beside the
 * row, and an id Meta has expired (after 30 days) can never be reused. */

struct document {
    const char *sha, *path, *filename, *mime; /* inside the parsed body; sha or path */
    unsigned char *data;                      /* sha's bytes once read (send_document's), or NULL */
    size_t len;
};

/* The parsed body when it is a document with a sha256 (or a path), else
 * NULL (a free-form message). The caller frees it with cJSON_Delete. */
static cJSON *stored_document(const char *body, struct document *d)
{
    cJSON *o = cJSON_Parse(body ? body : "");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(o, "document");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(doc, "sha256");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(doc, "path");
    if (!cJSON_IsString(t) || strcmp(t->valuestring, "document") != 0 ||
        (!cJSON_IsString(sha) && !cJSON_IsString(path))) {
        cJSON_Delete(o);
        return NULL;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "filename");
    const cJSON *mime = cJSON_GetObjectItemCaseSensitive(doc, "content_type");
    *d = (struct document){0};
    d->sha = cJSON_IsString(sha) ? sha->valuestring : NULL;
    d->path = d->sha ? NULL : path->valuestring;
    d->filename = cJSON_IsString(name) && *name->valuestring ? name->valuestring : "documento";
    d->mime =
        cJSON_IsString(mime) && *mime->valuestring ? mime->valuestring : "application/octet-stream";
    return o;
}

static void document_plain(const struct document *d, struct vt_send_result *res)
{
    snprintf(res->fallback_text, sizeof(res->fallback_text), "Archivo de la respuesta: %s",
             d->filename);
}

/* The upload's form: messaging_product, type and the file part (the bytes
 * read from the store, or an old row's file, which curl reads as it sends);
 * the part carries the name staff gave the file, not the bytes' hash.
 * false: no memory. */
static bool fill_form(curl_mime *form, const struct document *d)
{
    curl_mimepart *p;
    if (!(p = curl_mime_addpart(form)) || curl_mime_name(p, "messaging_product") ||
        curl_mime_data(p, "whatsapp", CURL_ZERO_TERMINATED))
        return false;
    if (!(p = curl_mime_addpart(form)) || curl_mime_name(p, "type") ||
        curl_mime_data(p, d->mime, CURL_ZERO_TERMINATED))
        return false;
    if (!(p = curl_mime_addpart(form)) || curl_mime_name(p, "file"))
        return false;
    if (d->data ? curl_mime_data(p, (const char *)d->data, d->len) != CURLE_OK
                : curl_mime_filedata(p, d->path) != CURLE_OK)
        return false;
    return !curl_mime_filename(p, d->filename) && !curl_mime_type(p, d->mime);
}

/* POSTs the file to /media as multipart/form-data. 0 with Meta's id in
 * media_id; otherwise -1 with res filled in as for a message. */
static int upload(struct vt_wa_graph *g, const struct document *d, char *media_id, size_t idlen,
                  struct vt_send_result *res)
{
    const struct vt_whatsapp_config *wa = &g->cfg->whatsapp;
    char url[600];
    snprintf(url, sizeof(url), "%s/%s/%s/media", wa->graph_base_url, wa->api_version,
             wa->phone_number_id);
    struct reply r = {.max = 64 * 1024};
    long status = 0;
    int rc = -1;
    cJSON *o = NULL;
    curl_mime *form = curl_mime_init(g->curl);
    if (!form || !fill_form(form, d)) {
        res->outcome = VT_SEND_RETRY;
        snprintf(res->error, sizeof(res->error), "out of memory");
        goto done;
    }
    CURLcode cc = perform(g, url, NULL, form, &r, &status);
    if (cc != CURLE_OK) {
        res->outcome = VT_SEND_RETRY;
        snprintf(res->error, sizeof(res->error), "graph upload: %s", curl_easy_strerror(cc));
        goto done;
    }
    if (status < 200 || status >= 300) {
        char msg[220];
        int code = graph_error(r.body.data, msg, sizeof(msg));
        snprintf(res->error, sizeof(res->error), "graph upload: HTTP %ld, error %d: %s", status,
                 code, msg);
        map_failure(status, code, &r, res);
        goto done;
    }
    o = cJSON_Parse(r.body.data ? r.body.data : "");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) >= idlen) {
        res->outcome = VT_SEND_RETRY;
        snprintf(res->error, sizeof(res->error), "graph upload: HTTP %ld without a media id",
                 status);
        goto done;
    }
    snprintf(media_id, idlen, "%s", id->valuestring);
    rc = 0;
done:
    cJSON_Delete(o);
    curl_mime_free(form);
    vt_buf_cleanup(&r.body);
    return rc;
}

/* The document's size, its bytes read from the store when it names them.
 * The bytes are checked here rather than left to curl so that a document
 * gone from the store is a clear dead letter, not a retried read error.
 * 0, or -1 with res filled. */
static int document_load(struct vt_store_reader *reader, struct document *d, long long *size,
                         struct vt_send_result *res)
{
    if (d->sha) {
        int rc = vt_store_reader_blob(reader, d->sha, &d->data, &d->len);
        if (rc == VT_ENOTFOUND || rc == VT_EINVAL) {
            res->outcome = VT_SEND_REFUSED;
            snprintf(res->error, sizeof(res->error), "document missing from the store: %.64s",
                     d->sha);
            return -1;
        }
        if (rc) {
            res->outcome = VT_SEND_RETRY;
            snprintf(res->error, sizeof(res->error), "cannot read the document: %s",
                     vt_strerror(rc));
            return -1;
        }
        *size = (long long)d->len;
        return 0;
    }
    struct stat st;
    int err = stat(d->path, &st) == 0 ? 0 : errno;
    if (err || !S_ISREG(st.st_mode)) {
        char why[128] = "not a regular file";
        const char *w = err ? strerror_r(err, why, sizeof(why)) : why; /* GNU strerror_r */
        res->outcome = VT_SEND_REFUSED;
        snprintf(res->error, sizeof(res->error), "document file missing: %s (%s)", d->path, w);
        return -1;
    }
    *size = (long long)st.st_size;
    return 0;
}

/* Inside the window: uploads the file, then sends the document message. */
static void send_document(struct vt_wa_graph *g, struct vt_store_reader *reader,
                          const struct vt_outbox_msg *m, struct document *d,
                          struct vt_send_result *res)
{
    long long size = 0;
    if (document_load(reader, d, &size, res))
        return;
    if (size > DOCUMENT_MAX_BYTES) {
        res->outcome = VT_SEND_REFUSED;
        snprintf(res->error, sizeof(res->error),
                 "document of %lld bytes is over WhatsApp's limit of %lld bytes", size,
                 DOCUMENT_MAX_BYTES);
        return;
    }
    char media_id[160];
    if (upload(g, d, media_id, sizeof(media_id), res) != 0) {
        if (res->outcome == VT_SEND_NO_WINDOW)
            document_plain(d, res);
        return;
    }
    char name[DOCUMENT_FILENAME_MAX * 4 + 1];
    vt_wa_cut(d->filename, DOCUMENT_FILENAME_MAX, name, sizeof(name));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "messaging_product", "whatsapp");
    cJSON_AddStringToObject(o, "recipient_type", "individual");
    cJSON_AddStringToObject(o, "to", m->recipient);
    cJSON_AddStringToObject(o, "type", "document");
    cJSON *doc = cJSON_AddObjectToObject(o, "document");
    cJSON_AddStringToObject(doc, "id", media_id);
    cJSON_AddStringToObject(doc, "filename", name);
    char *payload = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!payload) {
        res->outcome = VT_SEND_RETRY;
        snprintf(res->error, sizeof(res->error), "out of memory");
        return;
    }
    /* 131047 here (Meta's clock says the window closed) is NO_WINDOW as it
     * is before sending: no template can carry a file. */
    post_message(g, payload, res);
    free(payload);
    if (res->outcome == VT_SEND_NO_WINDOW)
        document_plain(d, res);
}

void vt_wa_graph_send(void *ctx, struct vt_store_reader *reader, const struct vt_outbox_msg *m,
                      struct vt_send_result *res)
{
    struct vt_wa_graph *g = ctx;
    if (strcmp(m->kind, "read") == 0) {
        char *payload = free_form(m);
        if (!payload) {
            res->outcome = VT_SEND_REFUSED;
            snprintf(res->error, sizeof(res->error), "stored body is not a JSON object");
            return;
        }
        post_message(g, payload, res);
        free(payload);
        return;
    }
    int64_t last = vt_wa_db_last_inbound(reader, m->recipient);
    bool in_window = !m->template_only && vt_wa_window_open(last, vt_clock_now_ms());
    struct document d;
    cJSON *stored = stored_document(m->body, &d);
    if (stored) {
        /* A document is free-form: outside the window it cannot go at all.
         * The template for its kind is not sent instead, since it would only
         * repeat the answer's text row, which already had its template. */
        if (in_window) {
            send_document(g, reader, m, &d, res);
            free(d.data);
        } else {
            res->outcome = VT_SEND_NO_WINDOW;
            snprintf(res->error, sizeof(res->error),
                     "outside the 24-hour window; a document cannot be sent as a template");
            document_plain(&d, res);
        }
        cJSON_Delete(stored);
        return;
    }
    if (!in_window) {
        send_template(g, m, res);
        return;
    }
    char *payload = free_form(m);
    if (!payload) {
        res->outcome = VT_SEND_REFUSED;
        snprintf(res->error, sizeof(res->error), "stored body is not a JSON object");
        return;
    }
    int code = post_message(g, payload, res);
    free(payload);
    /* Meta's clock says the window is closed although ours did not. */
    if (res->outcome == VT_SEND_NO_WINDOW && code == 131047) {
        memset(res, 0, sizeof(*res));
        send_template(g, m, res);
        return;
    }
    if (res->outcome == VT_SEND_NO_WINDOW)
        vt_wa_msg_plain(m->body, res->fallback_text, sizeof(res->fallback_text));
}

int vt_wa_graph_media(struct vt_wa_graph *g, const char *media_id, size_t max, unsigned char **data,
                      size_t *len, char *mime, size_t mimelen, char *why, size_t whylen)
{
    const struct vt_whatsapp_config *wa = &g->cfg->whatsapp;
    char *esc = curl_easy_escape(g->curl, media_id, 0);
    char url[800];
    snprintf(url, sizeof(url), "%s/%s/%s", wa->graph_base_url, wa->api_version, esc ? esc : "");
    curl_free(esc);
    struct reply r = {.max = 64 * 1024};
    long status = 0;
    int rc = 0;
    CURLcode cc = perform(g, url, NULL, NULL, &r, &status);
    *data = NULL;
    *len = 0;
    mime[0] = '\0';
    char link[2048] = "";
    if (cc != CURLE_OK) {
        snprintf(why, whylen, "media metadata: %s", curl_easy_strerror(cc));
        rc = VT_EIO;
        goto done;
    }
    if (status != 200) {
        char msg[220];
        int code = graph_error(r.body.data, msg, sizeof(msg));
        snprintf(why, whylen, "media metadata: HTTP %ld, error %d", status, code);
        /* An expired token (401, 190) is the operator's to fix, as for messages:
         * retried, not blamed on the citizen's file. */
        rc = (status == 429 || status >= 500 || throttled(code) || status == 401 || code == 190)
                 ? VT_EIO
                 : VT_EINVAL;
        goto done;
    }
    cJSON *o = cJSON_Parse(r.body.data ? r.body.data : "");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "url");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "mime_type");
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(o, "file_size");
    if (cJSON_IsString(u))
        snprintf(link, sizeof(link), "%s", u->valuestring);
    if (cJSON_IsString(mt))
        snprintf(mime, mimelen, "%s", mt->valuestring);
    bool too_big = cJSON_IsNumber(fs) && fs->valuedouble > (double)max;
    cJSON_Delete(o);
    if (too_big) {
        snprintf(why, whylen, "media larger than %zu bytes", max);
        rc = VT_ETOOBIG;
        goto done;
    }
    if (strncmp(link, "https://", 8) != 0 && strncmp(link, "http://", 7) != 0) {
        snprintf(why, whylen, "media metadata without a download url");
        rc = VT_EINVAL;
        goto done;
    }
    vt_buf_cleanup(&r.body);
    r = (struct reply){.max = max};
    cc = perform(g, link, NULL, NULL, &r, &status);
    if (cc == CURLE_WRITE_ERROR && r.too_big) {
        snprintf(why, whylen, "media larger than %zu bytes", max);
        rc = VT_ETOOBIG;
    } else if (cc != CURLE_OK) {
        snprintf(why, whylen, "media download: %s", curl_easy_strerror(cc));
        rc = VT_EIO;
    } else if (status != 200) {
        snprintf(why, whylen, "media download: HTTP %ld", status);
        rc = (status == 429 || status >= 500 || status == 401) ? VT_EIO : VT_EINVAL;
    } else {
        *len = r.body.len;
        *data = (unsigned char *)vt_buf_steal(&r.body, NULL);
        if (!*data) {
            *data = malloc(1); /* an empty file */
            rc = *data ? 0 : VT_ENOMEM;
        }
    }
done:
    vt_buf_cleanup(&r.body);
    return rc;
}
