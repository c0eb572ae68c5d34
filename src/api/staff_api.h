/* staff_api.h - the staff JSON API (docs/staff-api.md) and the /staff page. */
#ifndef VT_STAFF_API_H
#define VT_STAFF_API_H

#include "http/http.h"

/* Registers /api/v1/items (GET), /api/v1/items/..., /api/v1/dependencias,
 * /api/v1/users and /staff. 0 or VT_ETOOBIG. */
int vt_staff_api_register(struct vt_http *http);

#endif
