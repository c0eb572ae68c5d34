/* throttle.c - failure counts in a bucketed table (throttle.h).
 *
 * A key lives in one of the WAYS slots that follow slot key % n. Lookups scan
 * all of them (an empty slot ends nothing), so an entry is removed by
 * emptying its slot, without tombstones. Keys are keyed hashes chosen by the
 * caller, so nobody outside can aim many keys at one neighbourhood.
 */
#include "core/throttle.h"

#include <stdbool.h>
#include <stdlib.h>

#define WAYS 8
#define SHIFT_MAX 30 /* 2^30 s is past any max_delay */

struct entry {
    uint64_t key; /* 0: empty */
    int64_t last; /* Unix ms: the last failure, or the last attempt admitted while delayed */
    int64_t seen; /* Unix ms: the last failure (what forgetting counts from) */
    int failures;
};

struct vt_throttle {
    size_t n;
    int64_t first_delay, max_delay, forget;
    struct entry *e;
};

struct vt_throttle *vt_throttle_new(size_t slots, int64_t first_delay_ms, int64_t max_delay_ms,
                                     int64_t forget_ms)
{
    struct vt_throttle *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->n = (slots + WAYS - 1) / WAYS * WAYS;
    if (t->n < WAYS)
        t->n = WAYS;
    t->first_delay = first_delay_ms;
    t->max_delay = max_delay_ms;
    t->forget = forget_ms;
    if (!(t->e = calloc(t->n, sizeof(*t->e)))) {
        free(t);
        return NULL;
    }
    return t;
}

void vt_throttle_free(struct vt_throttle *t)
{
    if (!t)
        return;
    free(t->e);
    free(t);
}

static uint64_t norm(uint64_t key)
{
    return key ? key : 1; /* 0 marks an empty slot */
}

static bool stale(const struct vt_throttle *t, const struct entry *e, int64_t now)
{
    return e->key && now - e->seen > t->forget;
}

/* The live entry of key, or NULL; a stale one is emptied on the way. */
static struct entry *find(struct vt_throttle *t, uint64_t key, int64_t now)
{
    size_t start = (size_t)(key % t->n);
    for (size_t i = 0; i < WAYS; i++) {
        struct entry *e = &t->e[(start + i) % t->n];
        if (stale(t, e, now))
            e->key = 0;
        else if (e->key == key)
            return e;
    }
    return NULL;
}

int64_t vt_throttle_delay(const struct vt_throttle *t, int failures, int after)
{
    if (failures < after)
        return 0;
    int shift = failures - after;
    if (shift > SHIFT_MAX)
        shift = SHIFT_MAX;
    if (t->first_delay >= t->max_delay || shift >= 62 - 22)
        return t->max_delay; /* first_delay is at most 2^22 ms: no overflow below */
    int64_t d = t->first_delay << shift;
    return d < t->max_delay ? d : t->max_delay;
}

int vt_throttle_failures(struct vt_throttle *t, uint64_t key, int64_t now)
{
    struct entry *e = find(t, norm(key), now);
    return e ? e->failures : 0;
}

int64_t vt_throttle_take(struct vt_throttle *t, uint64_t key, int after, int64_t now)
{
    struct entry *e = find(t, norm(key), now);
    int64_t d = e ? vt_throttle_delay(t, e->failures, after) : 0;
    if (!d)
        return 0;
    /* A wall clock stepped back (NTP) makes the wait at most one delay long. */
    int64_t left = e->last + d - now;
    if (left > d)
        left = d;
    if (left > 0)
        return left;
    e->last = now;
    return 0;
}

int vt_throttle_fail(struct vt_throttle *t, uint64_t key, int64_t now)
{
    key = norm(key);
    struct entry *e = find(t, key, now);
    if (!e) {
        /* An empty slot, else the one whose last failure is oldest. */
        size_t start = (size_t)(key % t->n);
        for (size_t i = 0; i < WAYS; i++) {
            struct entry *c = &t->e[(start + i) % t->n];
            if (!c->key) {
                e = c;
                break;
            }
            if (!e || c->seen < e->seen)
                e = c;
        }
        e->key = key;
        e->failures = 0;
    }
    if (e->failures < 1 << 20)
        e->failures++;
    e->last = e->seen = now;
    return e->failures;
}

void vt_throttle_clear(struct vt_throttle *t, uint64_t key)
{
    key = norm(key);
    size_t start = (size_t)(key % t->n);
    for (size_t i = 0; i < WAYS; i++) {
        struct entry *e = &t->e[(start + i) % t->n];
        if (e->key == key)
            e->key = 0;
    }
}
