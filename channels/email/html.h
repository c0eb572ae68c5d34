/* html.h - the readable text of an HTML body, for mail that has no plain
 * text part (Outlook, newsletters): no tags, no script or style, block ends
 * as line ends, entities decoded, white space collapsed except in <pre>, at
 * most one blank line in a row.
 * Owns: the tag and entity tables. Pure; any thread.
 */
#ifndef VT_MAIL_HTML_H
#define VT_MAIL_HTML_H
#include <stddef.h>
#include <stdint.h>

struct vt_buf;

/* The Unicode code point of Windows-1252 byte c (0x80..0x9F mapped, the five
 * undefined ones as U+FFFD; others as Latin-1). */
uint32_t vt_cp1252(unsigned char c);

/* Appends the text of the UTF-8 HTML s[0..n) to b. 0 or VT_ENOMEM. */
int vt_html_to_text(struct vt_buf *b, const char *s, size_t n);

#endif
