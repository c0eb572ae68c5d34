/* error.h - the one error convention of Ventanilla.
 *
 * Every fallible function returns int: 0 on success, a negative VT_E* code on
 * failure. Human detail goes into a caller's buffer or the log, never into the
 * return value. vt_strerror() names a code in English for logs.
 */
#ifndef VT_ERROR_H
#define VT_ERROR_H

enum {
    VT_OK = 0,
    VT_ENOMEM = -1,     /* allocation failed */
    VT_EINVAL = -2,     /* bad input from a caller or a citizen */
    VT_EIO = -3,        /* file system or socket failure */
    VT_ENOTFOUND = -4,  /* no such row, file or key */
    VT_ETOOBIG = -5,    /* over a configured limit */
    VT_EBUSY = -6,      /* resource busy, retry later */
    VT_ECONFIG = -7,    /* configuration rejected */
    VT_ESTORE = -8,     /* database failure */
    VT_EEXIST = -9,     /* already exists (idempotent duplicate) */
    VT_ESHUTDOWN = -10, /* the daemon is stopping */
    VT_ETAMPER = -11,   /* audit chain does not verify */
    VT_ERANGE = -12,    /* value out of range */
    VT_EVERSION = -13,  /* database newer than this binary */
    VT_EPERM = -14,     /* not allowed (no session, wrong role or scope) */
    VT_ESTATE = -15,    /* not allowed in the current state (an item's, a session's) */
};

/* Returns a static English description of a VT_E* code; never NULL. */
const char *vt_strerror(int err);

#endif
