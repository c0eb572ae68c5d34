/* staff.h - the staff member an action is done by, as the domain sees it,
 * and the two rules every domain module applies to them: which items they
 * may work (scope) and whose identity they may see.
 *
 * Owns: the type and the rules. api/auth.c fills the type from a session;
 * casework, queue, delivery, reports and the live feed decide with the rules.
 * Kept apart from auth so that the domain never sees HTTP.
 */
#ifndef VT_STAFF_H
#define VT_STAFF_H
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/roles.h"

/* The staff member behind a request, as the database has it now. */
struct vt_staff {
    int64_t id;
    char username[65];
    enum vt_role role;
    char dependencia[101]; /* "" for none */
    bool must_change;      /* a one-time password: only the password change is allowed */
};

/* The scope test of who on an item of dependencia (NULL or "": not routed
 * yet, which belongs to the triage dependencia). gerente sees every item;
 * agente and coordinador their dependencia's; others none. */
bool vt_staff_in_scope(const struct vt_config *cfg, const struct vt_staff *who,
                       const char *dependencia);

/* Whether who sees the identity of an item's requester; reserved is the
 * item's identity_reserved (it was ever a denuncia, or the requester asked):
 * then only staff.denuncia_identity_roles do. */
bool vt_staff_sees_identity(const struct vt_config *cfg, const struct vt_staff *who, bool reserved);

#endif
