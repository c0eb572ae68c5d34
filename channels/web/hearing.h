/* hearing.h - the web channel's hearing pages (/audiencia/...). */
#ifndef VT_WEB_HEARING_H
#define VT_WEB_HEARING_H

#include "http/http.h"

/* Registers /audiencia/{code} (the question form) and
 * /audiencia/{code}/pantalla (the room's wall) and the answers report
 * /audiencia/{code}/respuestas[.csv]. 0 or VT_ETOOBIG. */
int vt_web_hearing_register(struct vt_http *http);

#endif
