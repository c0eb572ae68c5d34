/* test_text.c - unit tests of src/core/text.c: UTF-8 validation and counting,
 * Spanish folding, HTML escaping and percent-decoding.
 *
 * Owns only its stack and the buffers it frees; must not depend on the
 * process locale or on any file, so it runs anywhere under ASan+UBSan.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/text.h"
#include "vt_test.h"

/* vt_utf8_valid over a string literal, NUL included when asked. */
#define VALID(lit) vt_utf8_valid((lit), sizeof(lit) - 1)

static void test_utf8_valid(void)
{
    ASSERT_TRUE(VALID(""));
    ASSERT_TRUE(VALID("hola"));
    ASSERT_TRUE(VALID("Queja ÁÉÍÓÚ Ñandú Pingüino"));
    ASSERT_TRUE(VALID("\xE2\x82\xAC"));     /* U+20AC euro sign */
    ASSERT_TRUE(VALID("\xF0\x9F\x98\x80")); /* U+1F600 emoji */
    ASSERT_TRUE(VALID("\xF4\x8F\xBF\xBF")); /* U+10FFFF, the last one */
    ASSERT_TRUE(VALID("\xED\x9F\xBF"));     /* U+D7FF, just below surrogates */
    ASSERT_TRUE(VALID("\xEE\x80\x80"));     /* U+E000, just above them */
    ASSERT_TRUE(VALID("\xC2\x80"));         /* U+0080, smallest 2-byte */
    ASSERT_TRUE(VALID("\xE0\xA0\x80"));     /* U+0800, smallest 3-byte */
    ASSERT_TRUE(VALID("\xF0\x90\x80\x80")); /* U+10000, smallest 4-byte */

    /* Overlongs. */
    ASSERT_TRUE(!VALID("\xC0\xAF")); /* '/' in two bytes */
    ASSERT_TRUE(!VALID("\xC1\xBF"));
    ASSERT_TRUE(!VALID("\xE0\x80\xAF")); /* '/' in three bytes */
    ASSERT_TRUE(!VALID("\xE0\x9F\xBF"));
    ASSERT_TRUE(!VALID("\xF0\x80\x80\xAF")); /* '/' in four bytes */
    ASSERT_TRUE(!VALID("\xF0\x8F\xBF\xBF"));
    ASSERT_TRUE(!VALID("\xC0\x80")); /* "modified UTF-8" NUL */
    /* Surrogates, paired or not. */
    ASSERT_TRUE(!VALID("\xED\xA0\x80")); /* U+D800 */
    ASSERT_TRUE(!VALID("\xED\xBF\xBF")); /* U+DFFF */
    ASSERT_TRUE(!VALID("\xED\xA0\xBD\xED\xB8\x80"));
    /* Above U+10FFFF. */
    ASSERT_TRUE(!VALID("\xF4\x90\x80\x80")); /* U+110000 */
    ASSERT_TRUE(!VALID("\xF5\x80\x80\x80"));
    ASSERT_TRUE(!VALID("\xF8\x88\x80\x80\x80")); /* old 5-byte form */
    ASSERT_TRUE(!VALID("\xFF"));
    ASSERT_TRUE(!VALID("\xFE"));
    /* Truncated sequences, at the end and in the middle. */
    ASSERT_TRUE(!VALID("\xC3"));
    ASSERT_TRUE(!VALID("\xE2\x82"));
    ASSERT_TRUE(!VALID("\xF0\x9F\x98"));
    ASSERT_TRUE(!VALID("a\xC3z"));
    ASSERT_TRUE(!VALID("\xE2\x82z"));
    /* Lone continuation bytes. */
    ASSERT_TRUE(!VALID("\x80"));
    ASSERT_TRUE(!VALID("a\xBFz"));
    /* Embedded NUL bytes, even when the rest is fine. */
    ASSERT_TRUE(!VALID("a\0b"));
    ASSERT_TRUE(!VALID("\0"));
    /* Only len bytes are read: the bad byte after them does not count. */
    ASSERT_TRUE(vt_utf8_valid("ok\xFF", 2));
    /* Latin-1 text as browsers in the wrong charset send it. */
    ASSERT_TRUE(!VALID("Pinguino con \xFC"));
}

static void test_utf8_chars(void)
{
    ASSERT_EQ(vt_utf8_chars("", 0), 0);
    ASSERT_EQ(vt_utf8_chars("hola", 4), 4);
    const char *s = "Ñandú";
    ASSERT_EQ(strlen(s), 7);
    ASSERT_EQ(vt_utf8_chars(s, strlen(s)), 5);
    s = "€\xF0\x9F\x98\x80"
        "a";
    ASSERT_EQ(vt_utf8_chars(s, strlen(s)), 3);
    s = "Queja ÁÉÍÓÚ Ñandú Pingüino";
    ASSERT_EQ(vt_utf8_chars(s, strlen(s)), 26);
}

static void test_fold(void)
{
    char out[128];
    size_t n = vt_fold_es("Queja ÁÉÍÓÚ Ñandú Pingüino", out, sizeof(out));
    ASSERT_STREQ(out, "queja aeiou nandu pinguino");
    ASSERT_EQ(n, strlen("queja aeiou nandu pinguino"));

    vt_fold_es("àâãäå ÀÂÃÄÅ çÇ èêë ìîï òôõöø ùûü ýÿÝ", out, sizeof(out));
    ASSERT_STREQ(out, "aaaaa aaaaa cc eee iii ooooo uuu yyy");
    vt_fold_es("Æsir Straße Þor Ðe", out, sizeof(out));
    ASSERT_STREQ(out, "aesir strasse thor de");
    /* Not letters, or not Latin-1: copied unchanged. */
    vt_fold_es("2×3÷1 ¿Qué? «sí» €5 Ωμέγα 😀", out, sizeof(out));
    ASSERT_STREQ(out, "2×3÷1 ¿que? «si» €5 Ωμέγα 😀");
    vt_fold_es("ABCXYZ @[`{", out, sizeof(out));
    ASSERT_STREQ(out, "abcxyz @[`{");

    /* Truncation never splits a character nor overflows. */
    char small[5];
    memset(small, 'X', sizeof(small));
    n = vt_fold_es("abÑdef", small, sizeof(small));
    ASSERT_STREQ(small, "abnd");
    ASSERT_EQ(n, 4);
    n = vt_fold_es("abc€", small, sizeof(small));
    ASSERT_STREQ(small, "abc"); /* € needs 3 bytes, only 1 left */
    ASSERT_EQ(n, 3);
    n = vt_fold_es("abcÆ", small, sizeof(small));
    ASSERT_STREQ(small, "abc"); /* "ae" needs 2 bytes, only 1 left */
    n = vt_fold_es("x", small, 1);
    ASSERT_EQ(n, 0);
    ASSERT_STREQ(small, "");
    ASSERT_EQ(vt_fold_es("x", NULL, 0), 0);

    /* Malformed input: stray bytes copied, nothing read past the NUL. */
    n = vt_fold_es("a\xC3", out, sizeof(out));
    ASSERT_EQ(n, 2);
    ASSERT_TRUE(memcmp(out, "a\xC3", 3) == 0);
    vt_fold_es("\x80\xC3\x91Z", out, sizeof(out));
    ASSERT_STREQ(out, "\x80nz");
}

static void test_html_escape(void)
{
    struct vt_buf b = {0};
    ASSERT_EQ(vt_html_escape(&b, "<script>\"'&"), 0);
    ASSERT_STREQ(b.data, "&lt;script&gt;&quot;&#39;&amp;");
    vt_buf_cleanup(&b);

    ASSERT_EQ(vt_html_escape(&b, "Tomás & \"Ñandú\" <b>'x'</b> fin"), 0);
    ASSERT_STREQ(b.data, "Tomás &amp; &quot;Ñandú&quot; &lt;b&gt;&#39;x&#39;&lt;/b&gt; fin");
    vt_buf_cleanup(&b);

    /* Appends to what is already there. */
    vt_buf_puts(&b, "<p>");
    ASSERT_EQ(vt_html_escape(&b, "a<b"), 0);
    ASSERT_EQ(vt_html_escape(&b, ""), 0);
    ASSERT_STREQ(b.data, "<p>a&lt;b");
    ASSERT_EQ(b.len, strlen("<p>a&lt;b"));
    vt_buf_cleanup(&b);

    ASSERT_EQ(vt_html_escape(&b, ""), 0);
    ASSERT_STREQ(b.data, "");
    vt_buf_cleanup(&b);
}

/* Decodes a literal in a scratch copy; returns the length, result in out. */
static long decode(const char *lit, char *out, size_t outlen, int plus)
{
    snprintf(out, outlen, "%s", lit);
    return plus ? vt_percent_decode(out, strlen(out)) : vt_percent_decode_uri(out, strlen(out));
}

static void test_percent_decode(void)
{
    char s[64];
    ASSERT_EQ(decode("hola", s, sizeof(s), 1), 4);
    ASSERT_STREQ(s, "hola");
    ASSERT_EQ(decode("a+b%20c", s, sizeof(s), 1), 5);
    ASSERT_STREQ(s, "a b c");
    ASSERT_EQ(decode("%C3%B1and%c3%ba", s, sizeof(s), 1), 7);
    ASSERT_STREQ(s, "ñandú");
    ASSERT_EQ(decode("%2B%26%3D%25", s, sizeof(s), 1), 4);
    ASSERT_STREQ(s, "+&=%");
    ASSERT_EQ(decode("", s, sizeof(s), 1), 0);
    ASSERT_STREQ(s, "");

    /* Malformed escapes: rejected and left untouched. */
    ASSERT_EQ(decode("%G1", s, sizeof(s), 1), -1);
    ASSERT_STREQ(s, "%G1");
    ASSERT_EQ(decode("%4", s, sizeof(s), 1), -1);
    ASSERT_EQ(decode("a+b%", s, sizeof(s), 1), -1);
    ASSERT_STREQ(s, "a+b%");
    ASSERT_EQ(decode("%1G", s, sizeof(s), 1), -1);
    ASSERT_EQ(decode("ok%20then%zz", s, sizeof(s), 1), -1);
    ASSERT_STREQ(s, "ok%20then%zz");

    /* %00 decodes to a NUL byte: the length tells. */
    ASSERT_EQ(decode("a%00b", s, sizeof(s), 1), 3);
    ASSERT_TRUE(memcmp(s, "a\0b\0", 4) == 0);

    /* Only len bytes are decoded and the result is terminated at the end. */
    snprintf(s, sizeof(s), "%%41%%42rest");
    ASSERT_EQ(vt_percent_decode(s, 6), 2);
    ASSERT_STREQ(s, "AB");

    /* The URI flavour keeps '+'. */
    ASSERT_EQ(decode("a+b%2Bc", s, sizeof(s), 0), 5);
    ASSERT_STREQ(s, "a+b+c");
    ASSERT_EQ(decode("%G1", s, sizeof(s), 0), -1);
}

/* The sizes backup, restore and store copy print. */
static void test_human_bytes(void)
{
    char out[32];
    vt_human_bytes(512, out, sizeof(out));
    ASSERT_STREQ(out, "512 bytes");
    vt_human_bytes(3482, out, sizeof(out));
    ASSERT_STREQ(out, "3.4 KiB");
    vt_human_bytes(12 * 1024 * 1024, out, sizeof(out));
    ASSERT_STREQ(out, "12.0 MiB");
    vt_human_bytes((int64_t)1342177280, out, sizeof(out));
    ASSERT_STREQ(out, "1.25 GiB");
}

int main(void)
{
    test_human_bytes();
    test_utf8_valid();
    test_utf8_chars();
    test_fold();
    test_html_escape();
    test_percent_decode();
    VT_TEST_END();
}
