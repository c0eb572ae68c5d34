/* log.h - one-line structured logs (logfmt) on standard error.
 *
 * Owns: the log threshold, set once at start.
 * Must not: be given personal data. Callers log radicados, channels, sizes and
 * error codes, never names, emails, phones, ID numbers, bodies or codes.
 */
#ifndef VT_LOG_H
#define VT_LOG_H

#include "core/config.h"

/* Sets the threshold (enum vt_log_level); call before starting threads. */
void vt_log_set_level(int level);
/* Writes "ts=... level=... event=EVENT " followed by the formatted key=value
 * pairs, as one write(2). Thread-safe. */
void vt_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* s when it is a plain field name (lowercase letters, digits, _ . [ ],
 * up to 40 bytes), else "(other)" ("-" for NULL or ""): a name a client
 * made up is neither logged as markup nor as someone's data. */
const char *vt_log_name(const char *s);

#endif
