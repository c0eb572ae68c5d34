/* attach.h - attachment files: content type by content, content-addressed
 * durable storage under DATA_DIR/attachments/ab/abcdef... (SHA-256).
 * Directories are made 0700 and files 0600 whatever the umask: citizens'
 * documents are the daemon user's alone.
 *
 * Owns: the attachments directory and the libmagic handle of a sniffer.
 * Must not: trust a file's name or its declared Content-Type.
 */
#ifndef VT_ATTACH_H
#define VT_ATTACH_H
#include <stddef.h>

struct vt_sniffer;

/* A content sniffer (libmagic) for the calling thread; NULL on failure. */
struct vt_sniffer *vt_sniffer_new(void);
void vt_sniffer_free(struct vt_sniffer *s); /* NULL ok */
/* Writes the MIME type found in the bytes (e.g. "application/pdf") into mime. */
int vt_sniff(struct vt_sniffer *s, const void *data, size_t len, char *mime, size_t mimelen);

/* Lowercase hex SHA-256 of data. */
void vt_attach_sha256(const void *data, size_t len, char out[65]);

/* Stores data as DATA_DIR/attachments/<sha[0..2]>/<sha> durably (written to a
 * temporary file, fsync'd, renamed, directory fsync'd). A file already there
 * is kept. Returns 0 or VT_EIO. */
int vt_attach_write(const char *data_dir, const void *data, size_t len, const char *sha);

#endif
