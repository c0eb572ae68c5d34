/* peers.c - per-address connection counts (peers.h).
 *
 * Both tables use linear probing and are never more than half full (the
 * capacity is a power of two at least twice max_conns), so a probe ends
 * quickly at an empty slot. Removal shifts the following entries of the run
 * back instead of leaving tombstones, so the tables never degrade however
 * many connections come and go.
 */
#include "http/peers.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"

struct addr_slot {
    struct vt_peer_key key;
    int count; /* 0: empty slot */
};

struct conn_slot {
    const void *conn; /* NULL: empty slot */
    struct vt_peer_key key;
};

struct vt_peers {
    size_t cap, max_conns, n_conns;
    struct addr_slot *addrs;
    struct conn_slot *conns;
};

struct vt_peers *vt_peers_new(size_t max_conns)
{
    struct vt_peers *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->max_conns = max_conns ? max_conns : 1;
    p->cap = 16;
    while (p->cap < 2 * p->max_conns)
        p->cap *= 2;
    p->addrs = calloc(p->cap, sizeof(*p->addrs));
    p->conns = calloc(p->cap, sizeof(*p->conns));
    if (!p->addrs || !p->conns) {
        vt_peers_free(p);
        return NULL;
    }
    return p;
}

void vt_peers_free(struct vt_peers *p)
{
    if (!p)
        return;
    free(p->addrs);
    free(p->conns);
    free(p);
}

bool vt_peers_key(const struct sockaddr *sa, struct vt_peer_key *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->b[10] = out->b[11] = 0xff; /* ::ffff:a.b.c.d, as a v4-mapped address */
        memcpy(out->b + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(out->b, &in6->sin6_addr, 16);
        if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            memset(out->b + 8, 0, 8); /* the /64 */
        return true;
    }
    return false;
}

static size_t hash_bytes(const unsigned char *b, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 29));
}

static size_t hash_conn(const void *conn)
{
    uintptr_t v = (uintptr_t)conn;
    return hash_bytes((const unsigned char *)&v, sizeof(v));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t addr_find(const struct vt_peers *p, const struct vt_peer_key *key)
{
    size_t mask = p->cap - 1, i = hash_bytes(key->b, 16) & mask;
    while (p->addrs[i].count && memcmp(&p->addrs[i].key, key, 16) != 0)
        i = (i + 1) & mask;
    return i;
}

static size_t conn_find(const struct vt_peers *p, const void *conn)
{
    size_t mask = p->cap - 1, i = hash_conn(conn) & mask;
    while (p->conns[i].conn && p->conns[i].conn != conn)
        i = (i + 1) & mask;
    return i;
}

/* Empties slot i of addrs and moves back the entries after it that probed
 * past it (backward-shift deletion). */
static void addr_delete(struct vt_peers *p, size_t i)
{
    size_t mask = p->cap - 1, j = i;
    p->addrs[i].count = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!p->addrs[j].count)
            return;
        size_t home = hash_bytes(p->addrs[j].key.b, 16) & mask;
        /* j's entry may move to i when its home is not within (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            p->addrs[i] = p->addrs[j];
            p->addrs[j].count = 0;
            i = j;
        }
    }
}

static void conn_delete(struct vt_peers *p, size_t i)
{
    size_t mask = p->cap - 1, j = i;
    p->conns[i].conn = NULL;
    for (;;) {
        j = (j + 1) & mask;
        if (!p->conns[j].conn)
            return;
        size_t home = hash_conn(p->conns[j].conn) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            p->conns[i] = p->conns[j];
            p->conns[j].conn = NULL;
            i = j;
        }
    }
}

int vt_peers_count(const struct vt_peers *p, const struct vt_peer_key *key)
{
    return p->addrs[addr_find(p, key)].count;
}

bool vt_peers_full(const struct vt_peers *p)
{
    return p->n_conns >= p->max_conns;
}

size_t vt_peers_total(const struct vt_peers *p)
{
    return p->n_conns;
}

void vt_peers_remove(struct vt_peers *p, const void *conn)
{
    if (!conn)
        return;
    size_t c = conn_find(p, conn);
    if (!p->conns[c].conn)
        return;
    size_t a = addr_find(p, &p->conns[c].key);
    if (p->addrs[a].count && --p->addrs[a].count == 0)
        addr_delete(p, a);
    conn_delete(p, c);
    p->n_conns--;
}

int vt_peers_add(struct vt_peers *p, const void *conn, const struct vt_peer_key *key)
{
    if (!conn)
        return VT_EINVAL;
    vt_peers_remove(p, conn); /* a pointer reused by a new connection */
    if (vt_peers_full(p))
        return VT_ETOOBIG;
    size_t c = conn_find(p, conn);
    p->conns[c].conn = conn;
    p->conns[c].key = *key;
    p->n_conns++;
    size_t a = addr_find(p, key);
    if (!p->addrs[a].count)
        p->addrs[a].key = *key;
    p->addrs[a].count++;
    return 0;
}
