/* ratelimit.c - token buckets in an open-addressing table (ratelimit.h).
 *
 * The table has a fixed size; when it is full the stalest buckets are
 * forgotten (a forgotten client starts with a full bucket again), so memory
 * stays bounded whatever the number of addresses.
 */
#include "core/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 16384

struct bucket {
    char ip[48];
    double tokens;
    int64_t last_ms;
};

struct vt_ratelimit {
    double per_ms, burst;
    size_t used;
    struct bucket slots[SLOTS];
};

struct vt_ratelimit *vt_ratelimit_new(int per_minute, int burst)
{
    struct vt_ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->per_ms = per_minute / 60000.0;
    rl->burst = burst;
    return rl;
}

void vt_ratelimit_free(struct vt_ratelimit *rl)
{
    free(rl);
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Forgets buckets that have refilled completely: they hold no information. */
static void sweep(struct vt_ratelimit *rl, int64_t now_ms)
{
    for (size_t i = 0; i < SLOTS; i++) {
        struct bucket *b = &rl->slots[i];
        if (b->ip[0] && b->tokens + (double)(now_ms - b->last_ms) * rl->per_ms >= rl->burst) {
            b->ip[0] = '\0';
            rl->used--;
        }
    }
    /* Deleting from linear probing breaks chains; rebuild the table. */
    struct bucket *old = malloc(sizeof(rl->slots));
    if (!old)
        return;
    memcpy(old, rl->slots, sizeof(rl->slots));
    memset(rl->slots, 0, sizeof(rl->slots));
    for (size_t i = 0; i < SLOTS; i++) {
        if (!old[i].ip[0])
            continue;
        size_t j = hash(old[i].ip) % SLOTS;
        while (rl->slots[j].ip[0])
            j = (j + 1) % SLOTS;
        rl->slots[j] = old[i];
    }
    free(old);
    if (rl->used > SLOTS / 2) { /* still crowded: start over */
        memset(rl->slots, 0, sizeof(rl->slots));
        rl->used = 0;
    }
}

bool vt_ratelimit_take(struct vt_ratelimit *rl, const char *ip, int64_t now_ms, int *retry_after)
{
    *retry_after = 0;
    if (!rl || rl->per_ms <= 0)
        return true;
    if (rl->used > SLOTS * 3 / 4)
        sweep(rl, now_ms);
    size_t j = hash(ip) % SLOTS;
    while (rl->slots[j].ip[0] && strcmp(rl->slots[j].ip, ip) != 0)
        j = (j + 1) % SLOTS;
    struct bucket *b = &rl->slots[j];
    if (!b->ip[0]) {
        snprintf(b->ip, sizeof(b->ip), "%s", ip);
        b->tokens = rl->burst;
        b->last_ms = now_ms;
        rl->used++;
    }
    /* A wall clock stepped back (NTP) refills nothing and takes nothing. */
    if (now_ms > b->last_ms)
        b->tokens += (double)(now_ms - b->last_ms) * rl->per_ms;
    if (b->tokens > rl->burst)
        b->tokens = rl->burst;
    b->last_ms = now_ms;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    *retry_after = (int)((1.0 - b->tokens) / rl->per_ms / 1000.0) + 1;
    return false;
}
