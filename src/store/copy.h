/* copy.h - `ventanilla store copy`: an entity's SQLite store moved into an
 * empty PostgreSQL database (issue 14, point 4).
 *
 * Owns: the move. Every table of the schema is found in the databases'
 * catalogs (none is named here but schema_migrations, the migrator's own),
 * copied whole (every column, ids kept) in foreign key order inside one
 * PostgreSQL transaction, row by row from a single SQLite snapshot; the
 * attachment files' bytes go into the target's attachment_blobs in that
 * transaction (attach.h), and the audit key where the target's config puts
 * it (store.audit_key_file, or its data directory's audit.key).
 * Must not: change the SQLite store, or leave data in the target when it
 * fails: the target's database is changed only by its migrations (when it
 * had no schema) until the one commit that fills it.
 *
 * Files: copy.c (the databases and the command), copy_files.c (the
 * attachment files and the audit key).
 */
#ifndef VT_COPY_H
#define VT_COPY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/migrate.h"

struct vt_store_copy_options {
    struct vt_store_place from; /* a SQLite store: its data directory */
    struct vt_store_place to;   /* store.backend postgresql; its data directory optional */
    /* How messages name each side (the config files given). */
    const char *from_name, *to_name;
};

/* Copies opt->from into opt->to, which must hold no data (it is migrated
 * first when it has no schema yet), verifies the copy's audit chain and
 * prints a summary to out (progress too). Returns 0 when the copy is
 * committed and verifies; *incomplete is then set when attachment files the
 * rows name were missing or damaged in the source (warned about on
 * stderr). On failure returns a VT_E* code with a sentence in err, and the
 * target's database holds no copied row (unless only the check after the
 * commit failed, which err says). */
int vt_store_copy(const struct vt_store_copy_options *opt, FILE *out, bool *incomplete, char *err,
                  size_t errlen);

/* ---- shared-internal: the data directory half (copy_files.c) ---- */

struct vt_db;

struct vt_copy_files {
    const char *from;   /* the source's data directory: attachments/ and audit.key */
    struct vt_db *to;   /* the target's connection, inside the copy's transaction */
    const char *to_key; /* the target's audit key file */
    char *err;          /* a sentence on failure */
    size_t errlen;
    int64_t copied, bytes; /* attachments written into the target, and their bytes */
    int64_t present;       /* already in the target */
    int64_t damaged;       /* in from without the content their name says: not copied */
};

/* Copies the bytes of every attachment file of from into the target's
 * attachment_blobs (in its open transaction), each checked to have the
 * SHA-256 its name says. 0 or VT_E* with f->err filled. */
int vt_store_copy__attachments(struct vt_copy_files *f);
/* Writes from's audit.key into to_key, whole, unless it is there already;
 * *replaced: a different key was there. 0 or VT_EIO with f->err filled. */
int vt_store_copy__key(struct vt_copy_files *f, bool *replaced);
/* Whether the target (its open transaction) holds the bytes named sha. */
bool vt_store_copy__has_file(struct vt_db *to, const char *sha);

#endif
