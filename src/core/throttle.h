/* throttle.h - growing delays after failed sign-ins (auth.c uses one table
 * keyed by username and address, and one keyed by username alone).
 *
 * Owns: a fixed table of entries, each a 64-bit key (the caller's keyed hash,
 * so no username or address is kept here), a count of failures and the time
 * of the last one. Memory stays bounded whatever the number of keys: when the
 * few slots a key may live in are all taken, the stalest entry gives way.
 * Must not: lock. It is used from the loop thread only.
 *
 * The delay rule: with `after` free failures, an entry with f failures is
 * delayed when f >= after, by min(first * 2^(f - after), max_delay) counted
 * from its last failure, or from the last attempt admitted while delayed (so
 * that attempts sent in parallel wait too). An entry is forgotten forget_ms
 * after its last failure, or at once by vt_throttle_clear (a success):
 *
 *   absent --fail--> counting (f < after: no wait)
 *   counting --fail, f reaches after--> delayed
 *   delayed --take before the delay is up--> delayed (refused, nothing counted)
 *   delayed --take after it--> delayed, wait restarted (admitted)
 *   any --clear | forget_ms without a failure--> absent
 */
#ifndef VT_THROTTLE_H
#define VT_THROTTLE_H
#include <stddef.h>
#include <stdint.h>

struct vt_throttle;

/* A table of slots entries (rounded up to 8); the first delay is first_delay_ms
 * and each one after doubles, up to max_delay_ms. NULL when out of memory. */
struct vt_throttle *vt_throttle_new(size_t slots, int64_t first_delay_ms, int64_t max_delay_ms,
                                     int64_t forget_ms);
/* Frees the table. NULL ok. */
void vt_throttle_free(struct vt_throttle *t);

/* The wait after f failures with after free ones: 0 below after. */
int64_t vt_throttle_delay(const struct vt_throttle *t, int failures, int after);
/* Failures of key still remembered at now (0 for an unknown key). */
int vt_throttle_failures(struct vt_throttle *t, uint64_t key, int64_t now);
/* An attempt of key at now: 0 when admitted (restarting the wait of a
 * delayed key), else the milliseconds it must still wait. */
int64_t vt_throttle_take(struct vt_throttle *t, uint64_t key, int after, int64_t now);
/* Counts a failure of key at now; returns its failures, this one included. */
int vt_throttle_fail(struct vt_throttle *t, uint64_t key, int64_t now);
/* Forgets key. */
void vt_throttle_clear(struct vt_throttle *t, uint64_t key);

#endif
