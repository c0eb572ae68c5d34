/* roles.c - the staff roles' names (roles.h). */
#include "core/roles.h"

#include <string.h>

static const char *const role_names[] = VT_ROLE_NAMES;

int vt_role_of(const char *name)
{
    for (int i = 0; name && role_names[i]; i++)
        if (strcmp(role_names[i], name) == 0)
            return i;
    return -1;
}

const char *vt_role_name(enum vt_role r)
{
    return (r >= 0 && r < VT_ROLE_COUNT) ? role_names[r] : "";
}
