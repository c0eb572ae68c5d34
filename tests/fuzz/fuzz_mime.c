/* fuzz_mime.c - libFuzzer driver for vt_mime_parse and vt_mime_find_radicado.
 * Besides crashes, leaks and sanitizer reports, it aborts when a parsed mail
 * breaks its contract: a string missing, not NUL-terminated within bounds or
 * not UTF-8, too many parts, or a filename with a path. Owns one input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/mime.h"
#include "core/text.h"

static void check(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : max + 1; /* the NUL must come within max */
    if (n > max || !vt_utf8_valid(s, n))
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vt_mime_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_mail m;
    char rad[64];
    if (vt_mime_parse((const char *)data, size, 10, 1 << 20, 1 << 16, &m, NULL) != 0)
        return 0;
    size_t big = 8 * size + 64; /* Windows-1252 bytes grow as UTF-8 */
    const char *strs[] = {m.from_addr, m.from_name,  m.reply_to,    m.to,
                          m.subject,   m.message_id, m.in_reply_to, m.bounced_message_id};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        check(strs[i], big);
    check(m.text, 1 << 16);
    for (size_t i = 0; i < m.n_references; i++)
        check(m.references[i], big);
    if (m.n_parts > 10)
        abort();
    for (size_t i = 0; i < m.n_parts; i++) {
        check(m.parts[i].filename, 200);
        check(m.parts[i].content_type, big);
        if (!m.parts[i].data || m.parts[i].size > (1 << 20) || !m.parts[i].filename[0] ||
            strpbrk(m.parts[i].filename, "/\\"))
            abort();
    }
    if (vt_mime_find_radicado(m.subject, "", rad, sizeof(rad)))
        check(rad, sizeof(rad) - 1);
    vt_mime_find_radicado(m.subject, "abc", rad, sizeof(rad));
    vt_mail_cleanup(&m);
    return 0;
}
