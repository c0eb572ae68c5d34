/* error.c - names for the VT_E* codes declared in error.h. */
#include "core/error.h"

const char *vt_strerror(int err)
{
    switch (err) {
    case VT_OK:
        return "success";
    case VT_ENOMEM:
        return "out of memory";
    case VT_EINVAL:
        return "invalid input";
    case VT_EIO:
        return "input/output error";
    case VT_ENOTFOUND:
        return "not found";
    case VT_ETOOBIG:
        return "over the limit";
    case VT_EBUSY:
        return "busy";
    case VT_ECONFIG:
        return "configuration error";
    case VT_ESTORE:
        return "store error";
    case VT_EEXIST:
        return "already exists";
    case VT_ESHUTDOWN:
        return "shutting down";
    case VT_ETAMPER:
        return "audit chain broken";
    case VT_ERANGE:
        return "out of range";
    case VT_EVERSION:
        return "database is newer than this program";
    case VT_EPERM:
        return "not allowed";
    case VT_ESTATE:
        return "not allowed in the current state";
    }
    return "unknown error";
}
