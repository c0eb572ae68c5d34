/* pages.h - the HTML pages of the web channel, rendered into a vt_buf with
 * every outside value escaped.
 *
 * Owns: the Spanish wording and the markup of the citizen form, the
 * acknowledgement (acuse de recibo), the status page and the live dashboard.
 * Must not: read requests or the store; web.c hands it plain values.
 */
#ifndef VT_WEB_PAGES_H
#define VT_WEB_PAGES_H

#include "core/buf.h"
#include "core/config.h"
#include "core/form.h"
#include "domain/intake.h"
#include "core/item.h"
#include "store/store.h"

/* The PQRSD form; values (may be NULL) refill it, err (may be NULL) marks the
 * field in error. */
struct cJSON;
/* open_hearings: hearings taking questions now (JSON array of {code, name}),
 * each offered as a link to its own form; NULL for none. */
void vt_page_form(struct vt_buf *b, const struct vt_config *cfg, const struct vt_form *values,
                  const struct vt_intake_error *err, const struct cJSON *open_hearings);
/* The acknowledgement of a committed item. */
void vt_page_ack(struct vt_buf *b, const struct vt_config *cfg, const struct vt_item *it);
/* The status page: t, or when t is NULL the lookup form (posted, never a
 * GET: the code stays out of URLs) with radicado typed before (NULL: empty)
 * and alert, a Spanish message (NULL: none). The code is never refilled. */
void vt_page_status(struct vt_buf *b, const struct vt_config *cfg, const struct vt_track *t,
                    const char *radicado, const char *alert);
/* The live dashboard: the public counts, or with manager (a gerente's
 * session) the managers' charts; charts says whether the chart library is
 * served (without it the charts' tables are shown instead). */
void vt_page_tablero(struct vt_buf *b, const struct vt_config *cfg, bool manager, bool charts);
/* A survey to answer (definition JSON), posting to action; values is the
 * form as sent (NULL the first time), error_field the question at fault. */
struct vt_form;
struct cJSON;
void vt_page_survey(struct vt_buf *b, const struct vt_config *cfg, const struct cJSON *def,
                    const char *action, const struct vt_form *values, const char *error_field,
                    const char *error);
/* The end of a survey: thanks, or why it cannot be answered. */
void vt_page_survey_done(struct vt_buf *b, const struct vt_config *cfg, const char *title,
                         const char *text);

/* The answers published for anonymous requesters (CPACA art. 69). */
struct vt_published;
void vt_page_published(struct vt_buf *b, const struct vt_config *cfg, const struct vt_published *p,
                       size_t n);

#endif
