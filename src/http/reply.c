/* reply.c - the standard answers (reply.h). */
#include "http/reply.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "http/request.h"

bool vt_reply_wants_json(const struct vt_http_request *req)
{
    return strncmp(req->path, "/api/", 5) == 0 || strncmp(req->path, "/webhooks/", 10) == 0;
}

void vt_reply_json(struct vt_http_request *req, int status, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    vt_http_respond(req, status, "application/json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
    cJSON_Delete(o);
}

void vt_reply_error(struct vt_http_request *req, int status, const char *code, const char *field,
                    const char *message)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    if (field && *field)
        cJSON_AddStringToObject(e, "field", field);
    else
        cJSON_AddNullToObject(e, "field");
    cJSON_AddStringToObject(e, "message", message ? message : "");
    vt_reply_json(req, status, o);
}

static void page(struct vt_http_request *req, int status, const char *title, const char *text)
{
    struct vt_buf b = {0};
    vt_buf_puts(&b, "<!doctype html><html lang=\"es-CO\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>");
    vt_html_escape(&b, title);
    vt_buf_puts(&b, "</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>"
                    "<body><main><h1>");
    vt_html_escape(&b, title);
    vt_buf_puts(&b, "</h1><p>");
    vt_html_escape(&b, text);
    vt_buf_puts(&b, "</p><p><a href=\"/\">Ir al formulario</a></p></main></body></html>");
    vt_http_respond(req, status, "text/html; charset=utf-8", b.data, b.len);
    vt_buf_cleanup(&b);
}

void vt_reply_problem(struct vt_http_request *req, int status, const char *code, const char *title,
                      const char *message)
{
    if (vt_reply_wants_json(req))
        vt_reply_error(req, status, code, NULL, message);
    else
        page(req, status, title, message);
}

void vt_reply_not_found(struct vt_http_request *req)
{
    if (vt_reply_wants_json(req))
        vt_reply_error(req, 404, "not_found", NULL, "No existe esa dirección.");
    else
        page(req, 404, "Página no encontrada", "La dirección que abrió no existe.");
}

void vt_reply_too_large(struct vt_http_request *req)
{
    if (vt_reply_wants_json(req)) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "La solicitud es demasiado grande. Los archivos pueden pesar hasta %lld MB.",
                 req->file_max_bytes / (1024 * 1024));
        vt_reply_error(req, 413, "too_large", "body", msg);
    } else {
        page(req, 413, "Archivos demasiado grandes",
             "Lo que envió supera el tamaño permitido. Adjunte archivos más livianos e intente "
             "de nuevo.");
    }
}

void vt_reply_busy(struct vt_http_request *req)
{
    vt_http_header(req, "Retry-After", "5");
    if (vt_reply_wants_json(req))
        vt_reply_error(req, 503, "busy", NULL,
                       "El servicio está recibiendo muchos datos en este momento. Intente de "
                       "nuevo en unos segundos.");
    else
        page(req, 503, "Servicio ocupado",
             "El servicio está recibiendo muchos datos en este momento. Intente de nuevo en unos "
             "segundos: lo que escribió no se guardó.");
}

void vt_reply_internal_error(struct vt_http_request *req)
{
    vt_reply_problem(req, 500, "internal", "Error interno",
                     "Ocurrió un error interno. Intente de nuevo en un momento.");
}

void vt_reply_store_failed(struct vt_http_request *req)
{
    vt_http_header(req, "Retry-After", "5");
    vt_reply_error(req, 503, "unavailable", NULL,
                   "No pudimos leer o guardar los datos. Intente de nuevo.");
}

bool vt_reply_require_json(struct vt_http_request *req)
{
    if (vt_http_content_is(req, "application/json"))
        return true;
    vt_reply_error(req, 415, "unsupported_media_type", "body",
                   "Envíe JSON (Content-Type: application/json).");
    return false;
}
