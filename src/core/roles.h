/* roles.h - the staff roles, by number and by name, for users (accounts),
 * config (which roles see a denunciante) and auth (what each role may do).
 *
 * agente: triage and answer the items of its dependencia. coordinador: the
 * same, plus reassigning, approving extensions and reopening. gerente: reads
 * everything. moderador: hearing questions. admin: users and dependencias.
 */
#ifndef VT_ROLES_H
#define VT_ROLES_H

enum vt_role {
    VT_ROLE_AGENTE,
    VT_ROLE_COORDINADOR,
    VT_ROLE_GERENTE,
    VT_ROLE_MODERADOR,
    VT_ROLE_ADMIN,
    VT_ROLE_COUNT
};

/* Initializer of a NULL-terminated name table indexed by enum vt_role. */
#define VT_ROLE_NAMES                                                                              \
    {                                                                                              \
        "agente", "coordinador", "gerente", "moderador", "admin", NULL                             \
    }

/* The role called name, or -1. */
int vt_role_of(const char *name);
/* The name of r ("" when out of range). */
const char *vt_role_name(enum vt_role r);

#endif
