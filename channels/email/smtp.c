/* smtp.c - compose with GMime, send with libcurl (smtp.h). */
#include "channels/email/smtp.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <curl/curl.h>
#include <gmime/gmime.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/db.h"
#include "channels/email/imap.h"
#include "store/store.h"
#include "core/error.h"

struct smtp {
    const struct vt_config *cfg;
    CURL *curl;
    atomic_int interrupted;
};

void *vt_smtp_open(void *cfg)
{
    struct smtp *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cfg = cfg;
    if (!(t->curl = curl_easy_init())) {
        free(t);
        return NULL;
    }
    return t;
}

void vt_smtp_close(void *p)
{
    struct smtp *t = p;
    if (!t)
        return;
    curl_easy_cleanup(t->curl);
    free(t);
}

void vt_smtp_interrupt(void *p)
{
    struct smtp *t = p;
    if (t)
        atomic_store(&t->interrupted, 1);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A stream of an attachment's bytes: by its SHA-256 from the store, or a
 * file by its path (a row queued by an older version). NULL: unreadable. */
static GMimeStream *attachment_stream(struct vt_store_reader *reader, const cJSON *f)
{
    const char *sha = jstr(f, "sha256"), *path = jstr(f, "path");
    if (sha) {
        unsigned char *data = NULL;
        size_t len = 0;
        if (!reader || vt_store_reader_blob(reader, sha, &data, &len))
            return NULL;
        GByteArray *ba = g_byte_array_new_take(data, len); /* freed by the stream */
        return g_mime_stream_mem_new_with_byte_array(ba);
    }
    return path ? g_mime_stream_fs_open(path, O_RDONLY, 0, NULL) : NULL;
}

char *vt_smtp_compose(const struct vt_config *cfg, struct vt_store_reader *reader,
                      const char *recipient, const char *body, const char *radicado,
                      char *message_id, size_t midlen)
{
    cJSON *o = cJSON_Parse(body ? body : "");
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    const char *subject = jstr(o, "subject"), *text = jstr(o, "text");
    const char *mid = jstr(o, "message_id"), *irt = jstr(o, "in_reply_to");
    char subj[300], gen[160];
    if (!subject) {
        snprintf(subj, sizeof(subj), "%s%s",
                 radicado && *radicado ? "Radicado " : "Información sobre su solicitud",
                 radicado && *radicado ? radicado : "");
        subject = subj;
    }
    if (!mid) {
        /* A row without its own Message-ID (an email copy of another
         * channel's message): one for this attempt. */
        unsigned char r[12];
        char hex[25];
        randombytes_buf(r, sizeof(r));
        sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
        const char *at = strchr(cfg->email.from, '@');
        snprintf(gen, sizeof(gen), "vt.%s@%s", hex, at ? at + 1 : "ventanilla.invalid");
        mid = gen;
    }
    snprintf(message_id, midlen, "%s", mid);

    GMimeMessage *msg = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, cfg->entity_name, cfg->email.from);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, recipient);
    g_mime_message_set_subject(msg, subject, "utf-8");
    g_mime_message_set_message_id(msg, mid);
    GDateTime *now = g_date_time_new_now_utc();
    g_mime_message_set_date(msg, now);
    g_date_time_unref(now);
    GMimeObject *obj = GMIME_OBJECT(msg);
    if (irt && *irt) {
        char h[400];
        snprintf(h, sizeof(h), "<%s>", irt);
        g_mime_object_set_header(obj, "In-Reply-To", h, NULL);
    }
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(o, "references"), *r;
    if (cJSON_IsArray(refs) && cJSON_GetArraySize(refs) > 0) {
        GString *h = g_string_new(NULL);
        cJSON_ArrayForEach(r, refs)
        {
            if (cJSON_IsString(r))
                g_string_append_printf(h, "%s<%s>", h->len ? " " : "", r->valuestring);
        }
        g_mime_object_set_header(obj, "References", h->str, NULL);
        g_string_free(h, TRUE);
    }
    const char *auto_sub = jstr(o, "auto_submitted");
    if (auto_sub)
        g_mime_object_set_header(obj, "Auto-Submitted", auto_sub, NULL);
    /* Ask other robots not to answer ours (RFC 3834). */
    g_mime_object_set_header(obj, "X-Auto-Response-Suppress", "All", NULL);

    /* The text as UTF-8 bytes, declared so (g_mime_text_part_set_text would
     * pick the narrowest charset instead). */
    GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
    const char *t8 = text ? text : "";
    GMimeStream *mem = g_mime_stream_mem_new_with_buffer(t8, strlen(t8));
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(part), dw);
    g_object_unref(dw);
    g_object_unref(mem);
    g_mime_text_part_set_charset(part, "utf-8");
    g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    /* Files of an answer: multipart/mixed with each file base64-encoded. A
     * file that cannot be read fails the compose: the answer is not sent
     * without what it promised to carry. */
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "attachments"), *f;
    if (cJSON_IsArray(files) && cJSON_GetArraySize(files) > 0) {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
        g_mime_multipart_add(mixed, GMIME_OBJECT(part));
        g_object_unref(part);
        bool failed = false;
        cJSON_ArrayForEach(f, files)
        {
            const char *name = jstr(f, "filename");
            const char *type = jstr(f, "content_type");
            GMimeStream *fs = attachment_stream(reader, f);
            if (!fs) {
                failed = true;
                break;
            }
            GMimePart *att = g_mime_part_new_with_type("application", "octet-stream");
            if (type) {
                GMimeContentType *ct = g_mime_content_type_parse(NULL, type);
                if (ct) {
                    g_mime_object_set_content_type(GMIME_OBJECT(att), ct);
                    g_object_unref(ct);
                }
            }
            GMimeDataWrapper *fw =
                g_mime_data_wrapper_new_with_stream(fs, GMIME_CONTENT_ENCODING_DEFAULT);
            g_mime_part_set_content(att, fw);
            g_object_unref(fw);
            g_object_unref(fs);
            g_mime_part_set_filename(att, name ? name : "adjunto");
            g_mime_part_set_content_encoding(att, GMIME_CONTENT_ENCODING_BASE64);
            g_mime_multipart_add(mixed, GMIME_OBJECT(att));
            g_object_unref(att);
        }
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
        g_object_unref(mixed);
        if (failed) {
            g_object_unref(msg);
            cJSON_Delete(o);
            return NULL;
        }
    } else {
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
        g_object_unref(part);
    }

    GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    char *wire = g_mime_object_to_string(obj, fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    cJSON_Delete(o);
    char *out = wire ? strdup(wire) : NULL;
    g_free(wire);
    return out;
}

struct upload {
    const char *data;
    size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t want = size * n, left = u->len - u->off;
    if (want > left)
        want = left;
    memcpy(buf, u->data + u->off, want);
    u->off += want;
    return want;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    struct smtp *t = ud;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return atomic_load(&t->interrupted) ? 1 : 0;
}

void vt_smtp_send(void *p, struct vt_store_reader *reader, const struct vt_outbox_msg *m,
                  struct vt_send_result *res)
{
    struct smtp *t = p;
    const struct vt_email_config *em = &t->cfg->email;
    char radicado[48] = "";
    if (m->item_id)
        vt_mail_db_radicado(reader, m->item_id, radicado, sizeof(radicado));
    char mid[150];
    char *wire = vt_smtp_compose(t->cfg, reader, m->recipient, m->body, radicado, mid, sizeof(mid));
    if (!wire) {
        res->outcome = VT_SEND_REFUSED;
        snprintf(res->error, sizeof(res->error),
                 "cannot compose: the body is not JSON or an attached file is missing");
        return;
    }
    bool plain = em->allow_plaintext_loopback && strncmp(em->smtp_url, "smtp://", 7) == 0 &&
                 vt_url_is_loopback(em->smtp_url);
    char from[300], to[300];
    snprintf(from, sizeof(from), "<%s>", em->from);
    snprintf(to, sizeof(to), "<%s>", m->recipient);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    struct upload u = {wire, strlen(wire), 0};
    CURL *h = t->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, em->smtp_url);
    curl_easy_setopt(h, CURLOPT_USE_SSL, plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    if (em->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, em->ca_file);
    if (em->smtp_username[0]) {
        curl_easy_setopt(h, CURLOPT_USERNAME, em->smtp_username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, em->smtp_password);
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)t->cfg->outbox.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)t->cfg->outbox.timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
    CURLcode cc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    free(wire);
    if (cc == CURLE_OK) {
        res->outcome = VT_SEND_OK;
        snprintf(res->provider_id, sizeof(res->provider_id), "%s", mid);
        return;
    }
    snprintf(res->error, sizeof(res->error), "smtp: %s (reply %ld)", curl_easy_strerror(cc), code);
    /* A permanent refusal of the message or its recipient: no use retrying. */
    res->outcome =
        code >= 500 && code < 600 && cc != CURLE_LOGIN_DENIED ? VT_SEND_REFUSED : VT_SEND_RETRY;
}
