/* messages.c - builders of the WhatsApp messages Ventanilla sends (messages.h). */
#include "channels/whatsapp/messages.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vt_wa_cut(const char *s, size_t max, char *out, size_t outlen)
{
    size_t i = 0, chars = 0;
    s = s ? s : "";
    while (s[i] && chars < max) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (n == 0)
            break; /* a stray continuation byte: stop rather than guess */
        size_t k = 1;
        while (k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80) /* stops at the NUL too */
            k++;
        if (k < n || i + n >= outlen)
            break; /* a truncated sequence, or no room left */
        i += n;
        chars++;
    }
    memcpy(out, s, i);
    out[i] = '\0';
}

static char *print(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

char *vt_wa_msg_text(const char *text)
{
    char body[VT_WA_TEXT_BODY_MAX * 4 + 1];
    vt_wa_cut(text, VT_WA_TEXT_BODY_MAX, body, sizeof(body));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "text");
    cJSON *t = cJSON_AddObjectToObject(o, "text");
    cJSON_AddBoolToObject(t, "preview_url", 0);
    cJSON_AddStringToObject(t, "body", body);
    return print(o);
}

static cJSON *interactive(cJSON *o, const char *type, const char *text)
{
    char body[VT_WA_BODY_MAX * 4 + 1];
    vt_wa_cut(text, VT_WA_BODY_MAX, body, sizeof(body));
    cJSON_AddStringToObject(o, "type", "interactive");
    cJSON *i = cJSON_AddObjectToObject(o, "interactive");
    cJSON_AddStringToObject(i, "type", type);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(i, "body"), "text", body);
    return cJSON_AddObjectToObject(i, "action");
}

char *vt_wa_msg_buttons(const char *text, const struct vt_wa_choice *c, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *action = interactive(o, "button", text);
    cJSON *buttons = cJSON_AddArrayToObject(action, "buttons");
    for (size_t k = 0; k < n && k < VT_WA_MAX_BUTTONS; k++) {
        char title[VT_WA_BUTTON_TITLE_MAX * 4 + 1];
        vt_wa_cut(c[k].title, VT_WA_BUTTON_TITLE_MAX, title, sizeof(title));
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "type", "reply");
        cJSON *r = cJSON_AddObjectToObject(b, "reply");
        cJSON_AddStringToObject(r, "id", c[k].id);
        cJSON_AddStringToObject(r, "title", title);
        cJSON_AddItemToArray(buttons, b);
    }
    return print(o);
}

char *vt_wa_msg_list(const char *text, const char *button, const struct vt_wa_choice *c, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *action = interactive(o, "list", text);
    char b[VT_WA_BUTTON_TITLE_MAX * 4 + 1];
    vt_wa_cut(button, VT_WA_BUTTON_TITLE_MAX, b, sizeof(b));
    cJSON_AddStringToObject(action, "button", b);
    cJSON *sections = cJSON_AddArrayToObject(action, "sections");
    cJSON *sec = cJSON_CreateObject();
    cJSON_AddItemToArray(sections, sec);
    cJSON *rows = cJSON_AddArrayToObject(sec, "rows");
    for (size_t k = 0; k < n && k < VT_WA_MAX_ROWS; k++) {
        char title[VT_WA_ROW_TITLE_MAX * 4 + 1], desc[VT_WA_ROW_DESC_MAX * 4 + 1];
        vt_wa_cut(c[k].title, VT_WA_ROW_TITLE_MAX, title, sizeof(title));
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "id", c[k].id);
        cJSON_AddStringToObject(r, "title", title);
        if (c[k].description && *c[k].description) {
            vt_wa_cut(c[k].description, VT_WA_ROW_DESC_MAX, desc, sizeof(desc));
            cJSON_AddStringToObject(r, "description", desc);
        }
        cJSON_AddItemToArray(rows, r);
    }
    return print(o);
}

char *vt_wa_msg_read(const char *wamid)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "read");
    cJSON_AddStringToObject(o, "message_id", wamid);
    return print(o);
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void vt_wa_msg_plain(const char *body, char *out, size_t outlen)
{
    out[0] = '\0';
    cJSON *o = cJSON_Parse(body ? body : "");
    if (!o)
        return;
    const char *t = str_at(o, "text", "body", NULL);
    if (!t)
        t = str_at(o, "interactive", "body", "text");
    snprintf(out, outlen, "%s", t ? t : "");
    cJSON_Delete(o);
}

int vt_wa_read_numbers(const char *s, int lo, int hi, int *out, size_t cap)
{
    size_t n = 0;
    const char *p = s ? s : "";
    while (*p) {
        if (strchr(" \t\r\n,;.", *p)) {
            p++;
            continue;
        }
        size_t len = strcspn(p, " \t\r\n,;.");
        int v = 0;
        if ((len == 1 && (*p == 'y' || *p == 'Y' || *p == 'e' || *p == 'E'))) {
            p += len; /* "1 y 3" */
            continue;
        }
        if (len > 4)
            return -1;
        for (size_t k = 0; k < len; k++) {
            if (p[k] < '0' || p[k] > '9')
                return -1;
            v = v * 10 + (p[k] - '0');
        }
        if (v < lo || v > hi)
            return -1;
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen = seen || out[k] == v;
        if (!seen) {
            if (n >= cap)
                return -1;
            out[n++] = v;
        }
        p += len;
    }
    return (int)n;
}
