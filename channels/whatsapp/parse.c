/* parse.c - WhatsApp webhook signature and payload parser (parse.h). */
#include "channels/whatsapp/parse.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"

bool vt_wa_signature_ok(const char *header, const char *secret, const void *body, size_t len)
{
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    size_t n = 0;
    if (!header || !secret || !*secret || strncmp(header, "sha256=", 7) != 0 ||
        strlen(header + 7) != 2 * sizeof(got))
        return false;
    for (const char *h = header + 7; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
            return false; /* Meta sends lowercase hex; nothing else is a signature */
    if (sodium_hex2bin(got, sizeof(got), header + 7, 2 * sizeof(got), NULL, &n, NULL) != 0 ||
        n != sizeof(got))
        return false;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, want);
    return sodium_memcmp(want, got, sizeof(got)) == 0;
}

void vt_wa_sign(const char *secret, const void *body, size_t len, char out[72])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
}

static const char *const type_names[] = {
    [VT_WA_MSG_TEXT] = "text",
    [VT_WA_MSG_BUTTON_REPLY] = "interactive",
    [VT_WA_MSG_LIST_REPLY] = "interactive",
    [VT_WA_MSG_BUTTON] = "button",
    [VT_WA_MSG_IMAGE] = "image",
    [VT_WA_MSG_DOCUMENT] = "document",
    [VT_WA_MSG_AUDIO] = "audio",
    [VT_WA_MSG_VIDEO] = "video",
    [VT_WA_MSG_STICKER] = "sticker",
    [VT_WA_MSG_LOCATION] = "location",
    [VT_WA_MSG_REACTION] = "reaction",
    [VT_WA_MSG_UNKNOWN] = "unknown",
};

const char *vt_wa_msg_type_name(enum vt_wa_msg_type t)
{
    return (t >= 0 && t <= VT_WA_MSG_UNKNOWN) ? type_names[t] : "unknown";
}

/* Copies a string member into dst, cut at a UTF-8 boundary; "" when absent
 * or not a string. Invalid UTF-8 is dropped whole (Meta sends valid UTF-8;
 * anything else is not worth keeping). */
static void take(char *dst, size_t cap, const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    dst[0] = '\0';
    if (!cJSON_IsString(v) || !v->valuestring)
        return;
    size_t n = strlen(v->valuestring);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)v->valuestring[n] & 0xC0) == 0x80)
            n--;
    }
    if (!vt_utf8_valid(v->valuestring, n))
        return;
    memcpy(dst, v->valuestring, n);
    dst[n] = '\0';
}

static const cJSON *obj_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsObject(v) ? v : NULL;
}

static int64_t timestamp_of(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
    if (cJSON_IsString(v) && v->valuestring) {
        char *end = NULL;
        long long t = strtoll(v->valuestring, &end, 10);
        return (end && *end == '\0' && t > 0 && t < 100000000000LL) ? t : 0; /* < year 5138 */
    }
    if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e11)
        return (int64_t)v->valuedouble;
    return 0;
}

/* Digits only: a wa_id is a phone number in international form. */
static void take_digits(char *dst, size_t cap, const cJSON *obj, const char *name)
{
    char tmp[64];
    take(tmp, sizeof(tmp), obj, name);
    size_t j = 0;
    for (size_t i = 0; tmp[i] && j + 1 < cap; i++)
        if (tmp[i] >= '0' && tmp[i] <= '9')
            dst[j++] = tmp[i];
    dst[j] = '\0';
}

static void media(struct vt_wa_event *e, const cJSON *m, const char *name)
{
    const cJSON *o = obj_member(m, name);
    if (!o)
        return;
    take(e->media_id, sizeof(e->media_id), o, "id");
    take(e->mime_type, sizeof(e->mime_type), o, "mime_type");
    take(e->filename, sizeof(e->filename), o, "filename");
    take(e->text, sizeof(e->text), o, "caption");
}

static void message(struct vt_wa_event *e, const cJSON *m)
{
    take(e->id, sizeof(e->id), m, "id");
    take_digits(e->from, sizeof(e->from), m, "from");
    e->timestamp = timestamp_of(m);
    take(e->type_name, sizeof(e->type_name), m, "type");
    const cJSON *ctx = obj_member(m, "context");
    if (ctx)
        take(e->context_id, sizeof(e->context_id), ctx, "id");
    const char *t = e->type_name;
    e->type = VT_WA_MSG_UNKNOWN;
    if (strcmp(t, "text") == 0) {
        const cJSON *o = obj_member(m, "text");
        if (o) {
            take(e->text, sizeof(e->text), o, "body");
            e->type = VT_WA_MSG_TEXT;
        }
    } else if (strcmp(t, "interactive") == 0) {
        const cJSON *o = obj_member(m, "interactive"), *r;
        if ((r = obj_member(o, "button_reply"))) {
            e->type = VT_WA_MSG_BUTTON_REPLY;
        } else if ((r = obj_member(o, "list_reply"))) {
            e->type = VT_WA_MSG_LIST_REPLY;
        }
        if (r) {
            take(e->reply_id, sizeof(e->reply_id), r, "id");
            take(e->text, sizeof(e->text), r, "title");
        }
    } else if (strcmp(t, "button") == 0) {
        const cJSON *o = obj_member(m, "button");
        if (o) {
            take(e->reply_id, sizeof(e->reply_id), o, "payload");
            take(e->text, sizeof(e->text), o, "text");
            e->type = VT_WA_MSG_BUTTON;
        }
    } else if (strcmp(t, "image") == 0 || strcmp(t, "document") == 0 || strcmp(t, "audio") == 0 ||
               strcmp(t, "video") == 0 || strcmp(t, "sticker") == 0) {
        media(e, m, t);
        if (e->media_id[0])
            e->type = t[0] == 'i'   ? VT_WA_MSG_IMAGE
                      : t[0] == 'd' ? VT_WA_MSG_DOCUMENT
                      : t[0] == 'a' ? VT_WA_MSG_AUDIO
                      : t[0] == 'v' ? VT_WA_MSG_VIDEO
                                    : VT_WA_MSG_STICKER;
    } else if (strcmp(t, "location") == 0) {
        const cJSON *o = obj_member(m, "location");
        const cJSON *la = cJSON_GetObjectItemCaseSensitive(o, "latitude");
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(o, "longitude");
        if (cJSON_IsNumber(la) && cJSON_IsNumber(lo) && la->valuedouble >= -90 &&
            la->valuedouble <= 90 && lo->valuedouble >= -180 && lo->valuedouble <= 180) {
            e->latitude = la->valuedouble;
            e->longitude = lo->valuedouble;
            e->has_location = true;
            char name[200], addr[400];
            take(name, sizeof(name), o, "name");
            take(addr, sizeof(addr), o, "address");
            snprintf(e->text, sizeof(e->text), "%s%s%s", name, name[0] && addr[0] ? ", " : "",
                     addr);
            e->type = VT_WA_MSG_LOCATION;
        }
    } else if (strcmp(t, "reaction") == 0) {
        const cJSON *o = obj_member(m, "reaction");
        if (o) {
            take(e->context_id, sizeof(e->context_id), o, "message_id");
            take(e->text, sizeof(e->text), o, "emoji");
            e->type = VT_WA_MSG_REACTION;
        }
    }
}

static void status(struct vt_wa_event *e, const cJSON *s)
{
    take(e->id, sizeof(e->id), s, "id");
    take(e->status, sizeof(e->status), s, "status");
    take_digits(e->recipient, sizeof(e->recipient), s, "recipient_id");
    e->timestamp = timestamp_of(s);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(s, "errors");
    const cJSON *e0 = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
    if (cJSON_IsObject(e0)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e0, "code");
        if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1e9)
            e->error_code = (int)code->valuedouble;
        take(e->error_title, sizeof(e->error_title), e0, "title");
    }
}

static int fail(char *why, size_t whylen, const char *reason, int rc)
{
    snprintf(why, whylen, "%s", reason);
    return rc;
}

/* A member that must be an array when present; NULL when absent. */
static int array_member(const cJSON *o, const char *name, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsArray(v))
        return VT_EINVAL;
    *out = v;
    return 0;
}

static struct vt_wa_event *push(struct vt_wa_batch *b, size_t *cap, size_t max, int *rc)
{
    if (b->n == max) {
        *rc = VT_ETOOBIG;
        return NULL;
    }
    if (b->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1; /* most deliveries carry one event */
        struct vt_wa_event *ev = realloc(b->ev, nc * sizeof(*ev));
        if (!ev) {
            *rc = VT_ENOMEM;
            return NULL;
        }
        b->ev = ev;
        *cap = nc;
    }
    struct vt_wa_event *e = &b->ev[b->n++];
    memset(e, 0, sizeof(*e));
    return e;
}

int vt_wa_parse(const char *body, size_t len, size_t max_events, struct vt_wa_batch *out, char *why,
                size_t whylen)
{
    memset(out, 0, sizeof(*out));
    size_t cap = 0;
    int rc = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root && end)
        while (end < body + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
    if (!root || !end || end != body + len) {
        cJSON_Delete(root);
        return fail(why, whylen, "body is not valid JSON", VT_EINVAL);
    }
    const cJSON *object = cJSON_GetObjectItemCaseSensitive(root, "object"), *entries = NULL;
    if (!cJSON_IsObject(root) || !cJSON_IsString(object) ||
        strcmp(object->valuestring, "whatsapp_business_account") != 0) {
        rc = fail(why, whylen, "object is not \"whatsapp_business_account\"", VT_EINVAL);
        goto done;
    }
    if (array_member(root, "entry", &entries) || !entries) {
        rc = fail(why, whylen, "entry must be an array", VT_EINVAL);
        goto done;
    }
    const cJSON *entry;
    cJSON_ArrayForEach(entry, entries)
    {
        const cJSON *changes = NULL, *change;
        if (!cJSON_IsObject(entry)) {
            rc = fail(why, whylen, "entry[] must be objects", VT_EINVAL);
            goto done;
        }
        if (array_member(entry, "changes", &changes)) {
            rc = fail(why, whylen, "entry[].changes must be an array", VT_EINVAL);
            goto done;
        }
        cJSON_ArrayForEach(change, changes)
        {
            const cJSON *value = obj_member(change, "value"), *msgs = NULL, *sts = NULL,
                        *contacts = NULL, *it;
            if (!cJSON_IsObject(change)) {
                rc = fail(why, whylen, "entry[].changes[] must be objects", VT_EINVAL);
                goto done;
            }
            if (!value)
                continue; /* a field we do not subscribe to */
            if (array_member(value, "messages", &msgs) || array_member(value, "statuses", &sts) ||
                array_member(value, "contacts", &contacts)) {
                rc = fail(why, whylen, "value.messages, statuses and contacts must be arrays",
                          VT_EINVAL);
                goto done;
            }
            char pnid[64] = "";
            const cJSON *meta = obj_member(value, "metadata");
            if (meta)
                take(pnid, sizeof(pnid), meta, "phone_number_id");
            cJSON_ArrayForEach(it, msgs)
            {
                if (!cJSON_IsObject(it)) {
                    rc = fail(why, whylen, "value.messages[] must be objects", VT_EINVAL);
                    goto done;
                }
                struct vt_wa_event *e = push(out, &cap, max_events, &rc);
                if (!e)
                    goto toomany;
                e->kind = VT_WA_EV_MESSAGE;
                memcpy(e->phone_number_id, pnid, sizeof(pnid));
                message(e, it);
                /* The sender's profile name, from contacts[] with the same wa_id. */
                const cJSON *c;
                cJSON_ArrayForEach(c, contacts)
                {
                    char wa[32];
                    take_digits(wa, sizeof(wa), c, "wa_id");
                    const cJSON *prof = obj_member(c, "profile");
                    if (prof && strcmp(wa, e->from) == 0)
                        take(e->profile_name, sizeof(e->profile_name), prof, "name");
                }
                if (!e->id[0] || !e->from[0]) {
                    rc = fail(why, whylen, "a message lacks its id or sender", VT_EINVAL);
                    goto done;
                }
            }
            cJSON_ArrayForEach(it, sts)
            {
                if (!cJSON_IsObject(it)) {
                    rc = fail(why, whylen, "value.statuses[] must be objects", VT_EINVAL);
                    goto done;
                }
                struct vt_wa_event *e = push(out, &cap, max_events, &rc);
                if (!e)
                    goto toomany;
                e->kind = VT_WA_EV_STATUS;
                memcpy(e->phone_number_id, pnid, sizeof(pnid));
                status(e, it);
                if (!e->id[0] || !e->status[0]) {
                    rc = fail(why, whylen, "a status lacks its id or status", VT_EINVAL);
                    goto done;
                }
            }
        }
    }
    goto done;
toomany:
    if (rc == VT_ETOOBIG)
        snprintf(why, whylen, "more than %zu events in one delivery", max_events);
    else
        snprintf(why, whylen, "out of memory");
done:
    cJSON_Delete(root);
    if (rc)
        vt_wa_batch_cleanup(out);
    return rc;
}

void vt_wa_batch_cleanup(struct vt_wa_batch *b)
{
    if (!b)
        return;
    free(b->ev);
    b->ev = NULL;
    b->n = 0;
}
