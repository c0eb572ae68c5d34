/* staff.c - who may work an item and who may see its requester (staff.h). */
#include "domain/staff.h"

#include <string.h>

bool vt_staff_in_scope(const struct vt_config *cfg, const struct vt_staff *who,
                       const char *dependencia)
{
    if (who->role == VT_ROLE_GERENTE)
        return true;
    if (who->role != VT_ROLE_AGENTE && who->role != VT_ROLE_COORDINADOR)
        return false;
    const char *dep = dependencia && *dependencia ? dependencia : cfg->staff.triage_dependencia;
    return who->dependencia[0] && strcmp(dep, who->dependencia) == 0;
}

bool vt_staff_sees_identity(const struct vt_config *cfg, const struct vt_staff *who, bool reserved)
{
    if (!reserved)
        return who->role == VT_ROLE_AGENTE || who->role == VT_ROLE_COORDINADOR ||
               who->role == VT_ROLE_GERENTE;
    return (cfg->staff.denuncia_identity_roles & (1u << who->role)) != 0;
}
