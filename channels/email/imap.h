/* imap.h - the few IMAP commands the email poller needs, over libcurl.
 *
 * Owns: one curl handle (the poller thread's), so the IMAP session and its
 * selected mailbox are reused between commands.
 * Must not: decide what a message is; the poller does.
 *
 * TLS: imaps:// always; imap:// upgrades with STARTTLS, required, unless
 * allow_plain is set and the host is a loopback address (tests).
 *
 * Note: libcurl fetches a message with FETCH BODY[], which sets \Seen on the
 * server as a side effect. The poller never relies on \Seen (it fetches UIDs
 * above the last committed one), so a crash between fetch and commit still
 * files the message on the next poll.
 */
#ifndef VT_IMAP_H
#define VT_IMAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vt_imap;

/* url is "imap[s]://host[:port]/MAILBOX"; ca_file a PEM bundle to verify the
 * server with ("" or NULL: the system's). NULL when curl cannot start. */
struct vt_imap *vt_imap_new(const char *url, const char *user, const char *password,
                            bool allow_plain, const char *ca_file, int timeout_ms);
void vt_imap_free(struct vt_imap *c); /* NULL ok */

/* UIDVALIDITY and UIDNEXT (0 when the server gives none) of the mailbox, on
 * a new session: call it first in each round. 0 or VT_EIO with why (English). */
int vt_imap_status(struct vt_imap *c, int64_t *uidvalidity, int64_t *uidnext, char *why,
                   size_t whylen);
/* UIDs in (after, upto], or above after when upto <= after, ascending.
 * libcurl cuts long IMAP response lines, so callers ask for windows of a few
 * hundred UIDs. Caller frees *uids. */
int vt_imap_uids_after(struct vt_imap *c, int64_t after, int64_t upto, int64_t **uids, size_t *n,
                       char *why, size_t whylen);
/* The whole message uid (at most max bytes; VT_ETOOBIG beyond). Caller frees *raw. */
int vt_imap_fetch(struct vt_imap *c, int64_t uid, size_t max, char **raw, size_t *len, char *why,
                  size_t whylen);
/* Sets \Seen on uid. */
int vt_imap_mark_seen(struct vt_imap *c, int64_t uid, char *why, size_t whylen);
/* Moves uid to folder (UID MOVE, else COPY + \Deleted + EXPUNGE). */
int vt_imap_move(struct vt_imap *c, int64_t uid, const char *folder, char *why, size_t whylen);

/* True for 127.0.0.0/8, ::1 and localhost in url's host. */
bool vt_url_is_loopback(const char *url);

#endif
