/* mime_text.h - the text of an inbound email made readable: any charset to
 * valid UTF-8, line ends and control characters normalized, format=flowed
 * undone, header values made fit to show.
 *
 * Owns: the rule that every string Ventanilla takes from a mail is valid
 * UTF-8: bytes that are not UTF-8 in a text said to be UTF-8, or not said to
 * be anything, are read as Windows-1252, which gives every byte a
 * character; UTF-8 read as Latin-1 ("SeÃ±or") is read again as UTF-8.
 * Must not: touch GMime objects (mime.c and mime_header.c do), the store,
 * the network or the process locale (no <ctype.h>). Pure, for the fuzzers.
 */
#ifndef VT_MIME_TEXT_H
#define VT_MIME_TEXT_H
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* How a declared charset is read. */
enum vt_mime_charset {
    VT_MIME_UTF8,   /* UTF-8 or ASCII, or undeclared: UTF-8, else Windows-1252 per byte */
    VT_MIME_LATIN1, /* ISO-8859-1 or Windows-1252 (unless the bytes are valid UTF-8) */
    VT_MIME_OTHER,  /* anything else, through iconv */
};
/* The kind of charset cs (NULL or "" when undeclared). */
enum vt_mime_charset vt_mime_text_charset(const char *cs);

/* Appends s[0..n), declared in charset (NULL when undeclared), to b as
 * UTF-8. 0 or VT_ENOMEM. */
int vt_mime_text_append(struct vt_buf *b, const char *s, size_t n, const char *charset);
/* Appends s[0..n) to b: well-formed UTF-8 as it is, every other byte read as
 * Windows-1252; NUL bytes dropped. 0 or VT_ENOMEM. */
int vt_mime_text_repair(struct vt_buf *b, const char *s, size_t n);
/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 when there is
 * none; NUL is not one. */
size_t vt_mime_text_seq_len(const unsigned char *s, size_t n);
/* b (valid UTF-8) read again as UTF-8 when it is UTF-8 decoded as Latin-1
 * ("SeÃ±or"); unchanged otherwise. */
void vt_mime_text_unmojibake(struct vt_buf *b);

/* In place: drops a leading byte order mark, turns CRLF and lone CR into LF
 * and removes control characters other than tab and LF. */
void vt_mime_text_normalize_lines(struct vt_buf *b);
/* In place: removes leading blank lines and trailing white space. */
void vt_mime_text_trim(struct vt_buf *b);
/* True when b holds nothing but spaces, tabs and line ends. */
bool vt_mime_text_is_blank(const struct vt_buf *b);
/* The length of s[0..n) cut to at most max bytes on a character boundary. */
size_t vt_mime_text_cut(const char *s, size_t n, size_t max);
/* Undoes format=flowed (RFC 3676) in b, whose line ends are LF; delsp as
 * the part declares it. 0 or VT_ENOMEM (b unchanged). */
int vt_mime_text_unflow(struct vt_buf *b, bool delsp);

/* A header value made fit to show: valid UTF-8, UTF-8 read as Latin-1
 * undone, control characters as spaces, runs of spaces as one, trimmed. s
 * may be NULL. malloc'd; NULL on ENOMEM. */
char *vt_mime_text_clean_line(const char *s);
/* The same, ASCII lowercased and without spaces (addresses, content types). */
char *vt_mime_text_lower_clean(const char *s);

#endif
