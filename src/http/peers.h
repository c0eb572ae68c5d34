/* peers.h - how many connections each client address holds, for the per-IP
 * connection cap (server.max_connections_per_ip, enforced in http.c when a
 * connection is accepted).
 *
 * Owns: two open-addressing tables, address -> open connections and
 * connection -> address. An address is an IPv4 address (also written as a
 * v4-mapped IPv6 one) or an IPv6 /64: one subscriber line usually holds a
 * whole /64, so counting IPv6 addresses one by one would cap nothing.
 * Must not: know lws; a connection is an opaque pointer.
 *
 * Threads: the caller's (http.c uses it on the loop thread only).
 */
#ifndef VT_PEERS_H
#define VT_PEERS_H
#include <stdbool.h>
#include <stddef.h>

struct vt_peers;
struct sockaddr;

/* The key of a peer: 16 bytes. */
struct vt_peer_key {
    unsigned char b[16];
};

/* A table for up to max_conns connections at once. NULL when out of memory. */
struct vt_peers *vt_peers_new(size_t max_conns);
/* Frees it; NULL ok. */
void vt_peers_free(struct vt_peers *p);

/* The key of sa (AF_INET or AF_INET6); false for any other family. */
bool vt_peers_key(const struct sockaddr *sa, struct vt_peer_key *out);
/* Connections the address of key holds now. */
int vt_peers_count(const struct vt_peers *p, const struct vt_peer_key *key);
/* True when no more connection can be recorded (the table is full). */
bool vt_peers_full(const struct vt_peers *p);
/* Records conn as held by key's address (conn already recorded: moved to key).
 * 0, or VT_ETOOBIG when full (nothing recorded). */
int vt_peers_add(struct vt_peers *p, const void *conn, const struct vt_peer_key *key);
/* Forgets conn; a conn never added is ignored. */
void vt_peers_remove(struct vt_peers *p, const void *conn);
/* Connections recorded, all addresses together. */
size_t vt_peers_total(const struct vt_peers *p);

#endif
