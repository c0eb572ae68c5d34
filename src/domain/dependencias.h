/* dependencias.h - the entity's offices (dependencias): the ones staff route
 * items to, their names for the dashboard, and an admin's changes.
 *
 * Owns: the SQL of the dependencias table. Every change is an audit event.
 * Must not: know HTTP or the JSON of the staff API (staff_api.c shapes it);
 * decide who may change them (staff_api.c's policy does).
 *
 * The triage dependencia (staff.triage_dependencia) exists whether or not a
 * row names it: callers that list or check dependencias add it themselves.
 */
#ifndef VT_DEPENDENCIAS_H
#define VT_DEPENDENCIAS_H
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "store/store.h"

/* Reader's thread: calls each(ctx, code, name, active) for every dependencia,
 * by name (the strings live for the call only). 0 or VT_ESTORE. */
int vt_dependencias_list(struct vt_store_reader *r,
                         void (*each)(void *ctx, const char *code, const char *name, bool active),
                         void *ctx);

/* Reader's thread: the name of dependencia code into out (cap bytes), or
 * code itself when no row names it. */
void vt_dependencias_name(struct vt_store_reader *r, const char *code, char *out, size_t cap);

/* Writer thread: whether dependencia code exists and is active. 0 or VT_E*. */
int vt_dependencias_active(struct vt_store_tx *tx, const char *code, bool *active);

/* Writer thread: creates dependencia code or updates its name and state, and
 * appends the event "dependencia_guardada" by staff member username. The
 * caller checked code and name. 0 or VT_E*. */
int vt_dependencias_save(struct vt_store_tx *tx, const char *username, const char *code,
                         const char *name, bool active);

/* Writer thread: on the first start (no dependencia at all), creates the
 * configured ones (cfg "dependencias"), each with its event by
 * "sistema:configuracion"; *n gets how many. Later starts change nothing
 * (admins own the list then). 0 or VT_E*. */
int vt_dependencias_seed(struct vt_store_tx *tx, const struct vt_config *cfg, size_t *n);

#endif
