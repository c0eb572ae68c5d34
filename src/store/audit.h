/* audit.h - the hash chain of the append-only audit trail.
 *
 * Owns: how an event's hash is computed and the per-installation chain key.
 * Must not: read or write the database (the store walks the rows and calls
 * vt_audit_hash for each).
 *
 * Each event's hash is keyed BLAKE2b-256 (libsodium crypto_generichash) over
 * the previous event's hash and every field of the event, each length-prefixed
 * so no two different events serialize alike. The key is a file of 32 random
 * bytes outside the database: DATA_DIR/audit.key (created by `migrate`, mode
 * 0600), or the file store.audit_key_file names (made by `ventanilla audit
 * new-key FILE`, given to every instance on one PostgreSQL database).
 * Someone who can only write SQL cannot recompute a forged chain.
 */
#ifndef VT_AUDIT_H
#define VT_AUDIT_H
#include <stddef.h>
#include <stdint.h>

#define VT_AUDIT_KEY_BYTES 32
/* prev_hash of the first event. */
#define VT_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct vt_audit_event {
    int64_t id, item_id; /* item_id 0 when the event concerns no item */
    int64_t at;          /* Unix ms */
    const char *actor, *action, *payload;
    int is_public;
};

/* Writes the lowercase hex hash of ev chained to prev_hex into out. */
void vt_audit_hash(const unsigned char key[VT_AUDIT_KEY_BYTES], const char *prev_hex,
                   const struct vt_audit_event *ev, char out[65]);

/* Reads the key file at path, creating it (vt_audit_key_create) when create
 * is set and it does not exist; a key readable by others is made 0600.
 * Returns 0, VT_ENOTFOUND or VT_EIO (also for a file shorter than a key). */
int vt_audit_key_load(const char *path, int create, unsigned char key[VT_AUDIT_KEY_BYTES]);
/* Creates path (which must not exist) holding a new random key, mode 0600,
 * durable. 0, VT_EEXIST or VT_EIO. */
int vt_audit_key_create(const char *path);

#endif
