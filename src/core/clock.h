/* clock.h - wall-clock time in Unix milliseconds, and deadlines for the
 * threads that sleep on a condition variable until something is due.
 * Pure functions over CLOCK_REALTIME; no state. */
#ifndef VT_CLOCK_H
#define VT_CLOCK_H
#include <stdint.h>
#include <time.h>

/* Now, in Unix milliseconds. */
int64_t vt_clock_now_ms(void);
/* The CLOCK_REALTIME instant in_ms from now, for pthread_cond_timedwait. */
void vt_clock_deadline(int64_t in_ms, struct timespec *ts);

#endif
