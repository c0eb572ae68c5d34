/* routes.h - the one place every route of the daemon is registered. */
#ifndef VT_ROUTES_H
#define VT_ROUTES_H
#include <stddef.h>

#include "api/app.h"

/* Installs the gates, registers the API's routes and starts every channel
 * (which register theirs). 0, or VT_E* with err filled. */
int vt_routes_register(struct vt_app *app, struct vt_http *http, char *err, size_t errlen);
/* Stops the channels started by vt_routes_register. */
void vt_routes_stop(struct vt_app *app);

#endif
