/* survey.h - the web channel's survey pages (/encuesta/...). */
#ifndef VT_WEB_SURVEY_H
#define VT_WEB_SURVEY_H

#include "http/http.h"

/* Registers /encuesta/{token} and /encuesta/p/{code}. 0 or VT_ETOOBIG. */
int vt_web_survey_register(struct vt_http *http);

#endif
