/* request.c - answering a request (request.h): the status, type, body and
 * extra headers a handler sets, and the wake-up that gets them written. */
#include "http/request.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void vt_http_respond(struct vt_http_request *req, int status, const char *content_type,
                     const char *body, size_t len)
{
    req->status = status;
    /* Copied: a handler may pass a buffer of its own stack (a stored file's
     * type), and the headers are written later, from the loop. */
    snprintf(req->resp_type_buf, sizeof(req->resp_type_buf), "%s",
             content_type ? content_type : "application/octet-stream");
    req->resp_type = req->resp_type_buf;
    req->resp.len = 0;
    if (req->resp.data)
        req->resp.data[0] = '\0';
    vt_buf_append(&req->resp, body ? body : "", body ? len : 0);
    req->responded = true;
    if (req->wsi && !req->orphan) {
        if (!req->unwritten) {
            req->unwritten = true;
            (*req->unwritten_count)++;
        }
        lws_callback_on_writable(req->wsi);
    }
}

void vt_http_header(struct vt_http_request *req, const char *name, const char *value)
{
    size_t used = strlen(req->extra_headers);
    snprintf(req->extra_headers + used, sizeof(req->extra_headers) - used, "%s: %s\r\n", name,
             value);
}

bool vt_http_content_is(const struct vt_http_request *req, const char *mime)
{
    size_t n = strlen(mime);
    const char *t = req->content_type;
    return strncasecmp(t, mime, n) == 0 && (t[n] == '\0' || t[n] == ';' || t[n] == ' ');
}
