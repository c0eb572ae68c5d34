/* report_api.h - the reports of domain/report.h rendered as JSON, CSV and
 * printable HTML, and their endpoints GET /api/v1/reports/{pqrsd,acceso}.
 *
 * Owns: the shape of each rendering (docs/staff-api.md, "Reports"). Must
 * not: compute a figure, or show a requester's data or an item's text.
 */
#ifndef VT_REPORT_API_H
#define VT_REPORT_API_H
#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/buf.h"
#include "domain/report.h"
#include "http/http.h"

/* ---- renderings ---- */

/* The figures as JSON (docs/staff-api.md, "Reports"); caller deletes; NULL
 * when out of memory. */
cJSON *vt_report_pqrsd_json(const struct vt_report_pqrsd *p);
cJSON *vt_report_access_json(const struct vt_report_access *a);
/* One CSV of every section, first column "seccion", a header row, CRLF line
 * ends, numbers without thousands separators (decimals with a point). The
 * same figures give the same bytes. Appended to b; 0 or VT_ENOMEM. */
int vt_report_pqrsd_csv(const struct vt_report_pqrsd *p, struct vt_buf *b);
int vt_report_access_csv(const struct vt_report_access *a, struct vt_buf *b);
/* A printable page (es-CO, a captioned table per section, /static/style.css,
 * no script or inline style); generated_ms is the time printed on it.
 * Appended to b; 0 or VT_ENOMEM. */
int vt_report_pqrsd_html(const struct vt_report_pqrsd *p, const char *entity, int64_t generated_ms,
                         struct vt_buf *b);
int vt_report_access_html(const struct vt_report_access *a, const char *entity,
                          int64_t generated_ms, struct vt_buf *b);

/* Registers GET /api/v1/reports/pqrsd and /api/v1/reports/acceso (role
 * gerente; ?from=&to=&format=json|csv|html). 0 or VT_ETOOBIG. */
int vt_report_register(struct vt_http *http);

#endif
