/* attach.h - attachments: content type by content, and where their bytes
 * live (struct vt_blobs), content-addressed by SHA-256.
 *
 * Two homes, one interface, so no caller knows which:
 *  - SQLite (the default): files DATA_DIR/attachments/ab/abcdef..., written
 *    to a temporary file, fsync'd, renamed, the directory fsync'd.
 *    Directories are made 0700 and files 0600 whatever the umask: citizens'
 *    documents are the daemon user's alone.
 *  - PostgreSQL: rows of attachment_blobs (migration 0017), so that every
 *    instance on the database reads every file, and the database's own
 *    replication and backups cover them; no shared file system to set up.
 *
 * Owns: the attachments directory, the attachment_blobs table's SQL, a
 * connection of its own for writes and reads made outside a store
 * transaction (PostgreSQL), and the libmagic handle of a sniffer.
 * Must not: trust a file's name or its declared Content-Type; use a name
 * that is not a SHA-256 in lowercase hex.
 */
#ifndef VT_ATTACH_H
#define VT_ATTACH_H
#include <stdbool.h>
#include <stddef.h>

struct vt_sniffer;
struct vt_blobs;
struct vt_db;
struct vt_store_place;

/* A content sniffer (libmagic) for the calling thread; NULL on failure. */
struct vt_sniffer *vt_sniffer_new(void);
void vt_sniffer_free(struct vt_sniffer *s); /* NULL ok */
/* Writes the MIME type found in the bytes (e.g. "application/pdf") into mime. */
int vt_sniff(struct vt_sniffer *s, const void *data, size_t len, char *mime, size_t mimelen);

/* Lowercase hex SHA-256 of data. */
void vt_attach_sha256(const void *data, size_t len, char out[65]);
/* Whether s is a SHA-256 in lowercase hex (64 characters). */
bool vt_attach_valid_sha(const char *s);
/* Whether s is exactly n lowercase hex digits (NULL: false): an attachment
 * file's name has 64, the directory holding it the first 2. */
bool vt_attach_hex(const char *s, size_t n);
/* Makes path, a file or a directory, durable (fsync): 0 or VT_EIO. A
 * directory's fsync makes the names just created or renamed in it last. */
int vt_attach_fsync(const char *path);

/* The attachment store of place (copied: place may go). Connects to nothing
 * yet. Thread-safe: any thread may put and get. NULL when out of memory. */
struct vt_blobs *vt_blobs_new(const struct vt_store_place *place);
/* Closes its connection, if any; NULL ok. */
void vt_blobs_free(struct vt_blobs *b);
/* Whether the bytes live in the database (PostgreSQL) rather than in files. */
bool vt_blobs_in_db(const struct vt_blobs *b);

/* Stores len bytes at data under sha (their SHA-256). db: a write
 * connection of the same database whose open transaction the write joins
 * (the store writer's, inside a job: the bytes commit with their rows), or
 * NULL: durable before return (the blobs' own connection, or a file). Bytes
 * already there are kept. 0, VT_EINVAL (sha), VT_EIO or VT_ESTORE. */
int vt_blobs_put(struct vt_blobs *b, struct vt_db *db, const char *sha, const void *data,
                 size_t len);
/* Reads the bytes stored under sha into *data (malloc'd, the caller frees;
 * never NULL on success, even for 0 bytes) and *len. db: a connection of the
 * calling thread to read on (a reader's), or NULL for the blobs' own. 0,
 * VT_EINVAL (sha), VT_ENOTFOUND, VT_ENOMEM, VT_EIO or VT_ESTORE. */
int vt_blobs_get(struct vt_blobs *b, struct vt_db *db, const char *sha, unsigned char **data,
                 size_t *len);

#endif
