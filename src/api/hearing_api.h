/* hearing_api.h - the staff API of public hearings and their questions. */
#ifndef VT_HEARING_API_H
#define VT_HEARING_API_H

#include "http/http.h"

/* Registers /api/v1/hearings... 0 or VT_ETOOBIG. */
int vt_hearing_api_register(struct vt_http *http);

#endif
