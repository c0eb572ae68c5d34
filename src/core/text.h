/* text.h - small text utilities shared by every module that handles outside
 * text: UTF-8 checks, Spanish-aware folding for matching, HTML escaping and
 * percent-decoding. Pure functions; no allocation unless stated. */
#ifndef VT_TEXT_H
#define VT_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). Embedded NUL bytes are rejected. */
bool vt_utf8_valid(const char *s, size_t len);

/* Number of code points in a valid UTF-8 string of len bytes. */
size_t vt_utf8_chars(const char *s, size_t len);

/* Folds UTF-8 text for accent- and case-insensitive matching of Spanish:
 * ASCII lowercased, Latin-1 letters with accents mapped to the bare letter
 * (á->a, É->e, ñ->n, ü->u, ...). Writes a NUL-terminated result into out
 * (truncated to outlen-1 bytes on a character boundary); returns the length. */
size_t vt_fold_es(const char *s, char *out, size_t outlen);

/* Appends s, HTML-escaped (& < > " '), to the growable buffer. Returns 0 or
 * VT_ENOMEM. */
struct vt_buf;
int vt_html_escape(struct vt_buf *b, const char *s);

/* Decodes %XX and '+' (as space) in place; returns the new length, or -1 on a
 * malformed escape. The result is NUL-terminated. */
long vt_percent_decode(char *s, size_t len);

/* As vt_percent_decode but '+' stays '+' (RFC 3986 and RFC 5987 values such
 * as filename*=UTF-8''...). s must have room for len + 1 bytes; on -1 it is
 * left unchanged. The result may hold NUL bytes: use the returned length. */
long vt_percent_decode_uri(char *s, size_t len);

/* n bytes for a person: "512 bytes", "3.4 KiB", "12.0 MiB", "1.25 GiB". */
void vt_human_bytes(int64_t n, char *out, size_t len);

#endif
