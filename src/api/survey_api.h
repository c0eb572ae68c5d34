/* survey_api.h - the staff API of surveys and detractor follow-ups. */
#ifndef VT_SURVEY_API_H
#define VT_SURVEY_API_H

#include "http/http.h"

/* Registers /api/v1/surveys..., /api/v1/followups... 0 or VT_ETOOBIG. */
int vt_survey_api_register(struct vt_http *http);

#endif
