/* mime_header.h - the headers of an inbound email, decoded: RFC 2047
 * encoded words (with the common faults of mail clients repaired),
 * addresses, Message-IDs and References.
 *
 * Owns: reading a header of a GMime object into a clean UTF-8 string
 * (mime_text.h's rules). Every string returned is malloc'd unless said
 * otherwise; NULL means out of memory.
 * Must not: keep GMime objects, touch the store or the network.
 */
#ifndef VT_MIME_HEADER_H
#define VT_MIME_HEADER_H
#include <gmime/gmime.h>
#include <stdbool.h>
#include <stddef.h>

/* The unfolded raw value of the first header called name, NULL when absent.
 * g_free it. */
char *vt_mime_header_raw(GMimeObject *o, const char *name);
/* The decoded, cleaned value of header name; "" when absent. */
char *vt_mime_header_decoded(GMimeObject *o, const char *name, GMimeParserOptions *opt);
/* The header's list of addresses as decoded text ("Ana <ana@x.co>, ..."); the
 * decoded header itself when it is not a list GMime can read. */
char *vt_mime_header_addresses(GMimeObject *o, const char *hdr, GMimeParserOptions *opt);
/* Sets *addr (lowercase address, "" when none) and, when name is not NULL,
 * *name (display name) from the first mailbox of header hdr. 0 or VT_ENOMEM. */
int vt_mime_header_mailbox(GMimeObject *o, const char *hdr, GMimeParserOptions *opt, char **addr,
                           char **name);
/* The first token of a header value, lowercased, into out ("auto-replied" of
 * "Auto-Replied; owner-email=..."); "" when absent. */
void vt_mime_header_token(GMimeObject *o, const char *name, char *out, size_t outlen);
bool vt_mime_header_has(GMimeObject *o, const char *name);
/* Present, and not "no" (Auto-Submitted: no is a person's mail). */
bool vt_mime_header_yes(GMimeObject *o, const char *name);
/* *out: the Message-ID in raw (a header value, NULL ok) without angle
 * brackets, "" when none. 0 or VT_ENOMEM. */
int vt_mime_header_message_id(const char *raw, char **out);
/* The References of o: *ids (an array of *n_ids ids without brackets, oldest
 * first, at most 100: the thread's root and the newest), both owned by the
 * caller even on failure. 0 or VT_ENOMEM. */
int vt_mime_header_references(GMimeObject *o, GMimeParserOptions *opt, char ***ids, size_t *n_ids);

#endif
