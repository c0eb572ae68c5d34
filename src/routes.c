/* routes.c - the route table (routes.h): the only file that includes every
 * API module's header, and the one that starts the channels. A newcomer
 * reads here which module answers which path. */
#include "routes.h"

#include <stdio.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/hearing_api.h"
#include "api/report_api.h"
#include "api/staff_api.h"
#include "api/survey_api.h"
#include "channels/channel.h"
#include "core/error.h"

/* VT_ROUTE_STAFF POSTs, from their headers: the session and its CSRF token. */
static bool staff_gate(struct vt_http_request *req)
{
    struct vt_staff who;
    return vt_auth_check(req, true, &who) == 0;
}

int vt_routes_register(struct vt_app *app, struct vt_http *http, char *err, size_t errlen)
{
    vt_http_set_gate(http, VT_ROUTE_STAFF, staff_gate);
    vt_http_set_gate(http, VT_ROUTE_RATE_LIMITED, vt_app_rate_gate);
    /* /api/v1/items (intake), /api/v1/track, /healthz, /metrics */
    if (vt_api_register(http) ||
        /* /api/v1/session, /session/logout, /session/password */
        vt_auth_register(http) ||
        /* the queue, items and their actions, dependencias, users, /staff */
        vt_staff_api_register(http) ||
        /* /api/v1/reports/{pqrsd,acceso} */
        vt_report_register(http) ||
        /* /api/v1/surveys, /api/v1/followups */
        vt_survey_api_register(http) ||
        /* /api/v1/hearings, /api/v1/commitments */
        vt_hearing_api_register(http)) {
        snprintf(err, errlen, "too many routes");
        return VT_ECONFIG;
    }
    /* The channels' own: the citizen pages (web), /webhooks/whatsapp. */
    for (const struct vt_channel *const *c = vt_channels; *c; c++)
        if ((*c)->start(app, http)) {
            snprintf(err, errlen, "channel %s did not start", (*c)->name);
            return VT_ECONFIG;
        }
    return 0;
}

void vt_routes_stop(struct vt_app *app)
{
    for (const struct vt_channel *const *c = vt_channels; *c; c++)
        if ((*c)->stop)
            (*c)->stop(app);
}
