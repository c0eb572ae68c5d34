/* ratelimit.h - per-client-IP token buckets for public intake.
 *
 * Owns: a bounded table of buckets. Loop thread only (no locking).
 * Must not: log addresses (they are personal data).
 */
#ifndef VT_RATELIMIT_H
#define VT_RATELIMIT_H
#include <stdbool.h>
#include <stdint.h>

struct vt_ratelimit;

/* per_minute tokens refill per minute, up to burst. per_minute 0 disables. */
struct vt_ratelimit *vt_ratelimit_new(int per_minute, int burst);
void vt_ratelimit_free(struct vt_ratelimit *rl); /* NULL ok */
/* Takes a token for ip at now_ms; false when empty, with the seconds to wait. */
bool vt_ratelimit_take(struct vt_ratelimit *rl, const char *ip, int64_t now_ms, int *retry_after);

#endif
