/* test_form.c - unit tests of src/core/form.c: urlencoded bodies and query
 * strings, and multipart/form-data bodies as browsers and hostile clients
 * send them.
 *
 * Owns the forms and buffers it builds and frees each one, so ASan's leak
 * checker also tests the cleanup paths. Must not need a network or a file.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/form.h"
#include "vt_test.h"

/* ---- urlencoded ---- */

/* Parses a string literal; the form is left for the caller to inspect. */
static int urlenc(const char *s, size_t max, struct vt_form *f)
{
    vt_form_cleanup(f);
    return vt_form_parse_urlencoded(s, strlen(s), max, f);
}

static void test_urlencoded(void)
{
    struct vt_form f = {0};

    ASSERT_EQ(urlenc("subject=Queja+por+ruido&body=Hola%2C+vecinos%21&municipality=Medell%C3%ADn",
                     64, &f),
              0);
    ASSERT_EQ(f.n, 3);
    ASSERT_STREQ(f.fields[0].name, "subject");
    ASSERT_STREQ(f.fields[0].value, "Queja por ruido");
    ASSERT_EQ(f.fields[0].value_len, strlen("Queja por ruido"));
    ASSERT_STREQ(vt_form_get(&f, "body")->value, "Hola, vecinos!");
    ASSERT_STREQ(vt_form_get(&f, "municipality")->value, "Medellín");
    ASSERT_TRUE(vt_form_get(&f, "municipality")->filename == NULL);
    ASSERT_TRUE(vt_form_get(&f, "municipality")->content_type == NULL);
    ASSERT_TRUE(vt_form_get(&f, "missing") == NULL);
    ASSERT_TRUE(vt_form_get(&f, "subjec") == NULL);

    /* Empty values. */
    ASSERT_EQ(urlenc("a=&b=", 64, &f), 0);
    ASSERT_EQ(f.n, 2);
    ASSERT_STREQ(f.fields[0].name, "a");
    ASSERT_STREQ(f.fields[0].value, "");
    ASSERT_EQ(f.fields[0].value_len, 0);
    ASSERT_STREQ(f.fields[1].name, "b");
    ASSERT_EQ(f.fields[1].value_len, 0);

    /* Repeated keys: all kept in order, vt_form_get gives the first. */
    ASSERT_EQ(urlenc("x=1&y=2&x=3", 64, &f), 0);
    ASSERT_EQ(f.n, 3);
    ASSERT_STREQ(vt_form_get(&f, "x")->value, "1");
    ASSERT_STREQ(f.fields[2].name, "x");
    ASSERT_STREQ(f.fields[2].value, "3");

    /* Missing '=': a name with an empty value. */
    ASSERT_EQ(urlenc("data_consent&name=Ana", 64, &f), 0);
    ASSERT_EQ(f.n, 2);
    ASSERT_STREQ(f.fields[0].name, "data_consent");
    ASSERT_STREQ(f.fields[0].value, "");
    ASSERT_STREQ(f.fields[1].value, "Ana");

    /* '+' is a space in names and values; %2B is a plus; '=' after the first
     * belongs to the value. */
    ASSERT_EQ(urlenc("full+name=Ana+Mar%C3%ADa&sum=1%2B1=2", 64, &f), 0);
    ASSERT_STREQ(f.fields[0].name, "full name");
    ASSERT_STREQ(f.fields[0].value, "Ana María");
    ASSERT_STREQ(f.fields[1].value, "1+1=2");

    /* Empty segments are not fields. */
    ASSERT_EQ(urlenc("&&a=1&&", 64, &f), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_EQ(urlenc("", 64, &f), 0);
    ASSERT_EQ(f.n, 0);
    ASSERT_EQ(urlenc("&", 0, &f), 0);
    ASSERT_EQ(f.n, 0);
    vt_form_cleanup(&f);
    ASSERT_EQ(vt_form_parse_urlencoded(NULL, 0, 64, &f), 0);
    ASSERT_EQ(f.n, 0);

    /* Malformed escapes. */
    ASSERT_EQ(urlenc("a=%G1", 64, &f), VT_EINVAL);
    ASSERT_EQ(urlenc("a=1&b=%4", 64, &f), VT_EINVAL);
    ASSERT_EQ(urlenc("%zz=1", 64, &f), VT_EINVAL);
    ASSERT_EQ(urlenc("a=%", 64, &f), VT_EINVAL);

    /* A NUL in a value is data; in a name it would fake a shorter name. */
    ASSERT_EQ(urlenc("a=x%00y", 64, &f), 0);
    ASSERT_EQ(f.fields[0].value_len, 3);
    ASSERT_TRUE(memcmp(f.fields[0].value, "x\0y", 4) == 0);
    ASSERT_EQ(urlenc("kind%00evil=1", 64, &f), VT_EINVAL);

    /* The field limit counts fields, not empty segments. */
    ASSERT_EQ(urlenc("a=1&b=2&c=3", 2, &f), VT_ETOOBIG);
    ASSERT_EQ(urlenc("a=1&b=2&c=3", 3, &f), 0);
    ASSERT_EQ(f.n, 3);
    ASSERT_EQ(urlenc("a=1&&&b=2&", 2, &f), 0);
    ASSERT_EQ(urlenc("a", 0, &f), VT_ETOOBIG);

    /* Only len bytes are read: the body needs no terminator. */
    vt_form_cleanup(&f);
    const char raw[] = {'q', '=', 'o', 'k', '&', 'z', '=', '%'};
    ASSERT_EQ(vt_form_parse_urlencoded(raw, 4, 64, &f), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STREQ(f.fields[0].value, "ok");

    vt_form_cleanup(&f);
    ASSERT_EQ(f.n, 0);
    ASSERT_TRUE(f.fields == NULL);
    vt_form_cleanup(&f); /* twice is fine */
    vt_form_cleanup(NULL);
    ASSERT_TRUE(vt_form_get(NULL, "a") == NULL);
}

/* ---- multipart ---- */

#define CT "multipart/form-data; boundary=----VtBoundary7MA4YWxkTrZu0gW"
#define B "------VtBoundary7MA4YWxkTrZu0gW"

/* A file with everything that trips naive parsers: CRLF, "--", a line that
 * starts like the delimiter but is not one, NUL bytes and high bytes. */
static const char file_bytes[] = "%PDF-1.4\r\n--\r\n\r\n-- \n\0\0\xff\xfe\r\n"
                                 "--"
                                 "----VtBoundary7MA4YWxkTrZu0gWX not a delimiter\r\n"
                                 "\r\n--end\0";
#define FILE_LEN (sizeof(file_bytes) - 1)

/* Parses body (a vt_buf, binary) with a content type; returns the result. */
static int mp(const char *ct, const struct vt_buf *b, size_t max, struct vt_form *f)
{
    vt_form_cleanup(f);
    return vt_form_parse_multipart(ct, b->data, b->len, max, f);
}

/* Parses a string literal body. */
static int mps(const char *ct, const char *body, size_t max, struct vt_form *f)
{
    vt_form_cleanup(f);
    return vt_form_parse_multipart(ct, body, strlen(body), max, f);
}

static void test_multipart_browser(void)
{
    struct vt_form f = {0};
    struct vt_buf b = {0};
    vt_buf_puts(&b, "This is the preamble, to be ignored.\r\n");
    vt_buf_puts(&b, B "\r\n"
                      "Content-Disposition: form-data; name=\"subject\"\r\n"
                      "\r\n"
                      "Queja por ruido\r\n" B "\r\n"
                      "Content-Disposition: form-data; name=\"body\"\r\n"
                      "\r\n"
                      "Línea 1\r\n--\r\nLínea 3\r\n" B "\r\n"
                      "Content-Disposition: form-data; name=\"attachments\"; "
                      "filename=\"acta.pdf\"\r\n"
                      "Content-Type: application/pdf\r\n"
                      "\r\n");
    vt_buf_append(&b, file_bytes, FILE_LEN);
    vt_buf_puts(&b, "\r\n" B "--\r\nThis is the epilogue, also ignored.\r\n" B "\r\n");

    ASSERT_EQ(mp(CT, &b, 64, &f), 0);
    ASSERT_EQ(f.n, 3);
    const struct vt_form_field *s = vt_form_get(&f, "subject"), *body = vt_form_get(&f, "body"),
                               *a = vt_form_get(&f, "attachments");
    ASSERT_TRUE(s && body && a);
    if (s && body && a) {
        ASSERT_STREQ(s->value, "Queja por ruido");
        ASSERT_EQ(s->value_len, strlen("Queja por ruido"));
        ASSERT_TRUE(s->filename == NULL);
        ASSERT_TRUE(s->content_type == NULL);
        ASSERT_STREQ(body->value, "Línea 1\r\n--\r\nLínea 3");
        ASSERT_STREQ(a->filename, "acta.pdf");
        ASSERT_STREQ(a->content_type, "application/pdf");
        ASSERT_EQ(a->value_len, FILE_LEN);
        ASSERT_TRUE(memcmp(a->value, file_bytes, FILE_LEN) == 0);
        ASSERT_EQ(a->value[a->value_len], '\0');
    }

    /* The same with a quoted boundary and odd capitals in the header. */
    ASSERT_EQ(mp("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"----VtBoundary7MA4YWxkTrZu0gW\"",
                 &b, 64, &f),
              0);
    ASSERT_EQ(f.n, 3);
    ASSERT_EQ(f.fields[2].value_len, FILE_LEN);

    /* Bare LF everywhere (some scripts) still works. */
    ASSERT_EQ(mps(CT,
                  B "\n"
                    "content-disposition: form-data; name=a\n"
                    "X-Ignored: yes\n"
                    "\n"
                    "uno\n" B "\n"
                    "Content-Disposition: form-data; name=\"b\"\r\n"
                    "\n"
                    "dos\n" B "--",
                  64, &f),
              0);
    ASSERT_EQ(f.n, 2);
    ASSERT_STREQ(vt_form_get(&f, "a")->value, "uno");
    ASSERT_STREQ(vt_form_get(&f, "b")->value, "dos");

    /* Padding after a delimiter, an empty value, an empty form. */
    ASSERT_EQ(
        mps(CT, B " \t\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n" B "--", 64, &f),
        0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STREQ(f.fields[0].value, "");
    ASSERT_EQ(f.fields[0].value_len, 0);
    ASSERT_EQ(mps(CT, B "--\r\n", 64, &f), 0);
    ASSERT_EQ(f.n, 0);

    vt_form_cleanup(&f);
    vt_buf_cleanup(&b);
}

/* Parses a one-part body with the given Content-Disposition parameters and
 * content; returns the result. */
static int one_part(const char *params, const char *content, struct vt_form *f)
{
    struct vt_buf b = {0};
    vt_buf_printf(&b, B "\r\nContent-Disposition: form-data; %s\r\n\r\n%s\r\n" B "--\r\n", params,
                  content);
    int rc = mp(CT, &b, 64, f);
    vt_buf_cleanup(&b);
    return rc;
}

static void test_multipart_filenames(void)
{
    struct vt_form f = {0};

    /* Path components are stripped, whatever the separator. */
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"C:\\fakepath\\a.pdf\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "a.pdf");
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"C:\\\\fakepath\\\\a.pdf\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "a.pdf");
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"../../x\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "x");
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"/etc/passwd\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "passwd");
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"..\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "");
    ASSERT_EQ(one_part("name=\"attachments\"; filename=foto.jpg", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "foto.jpg");

    /* Quoted-string escapes, and UTF-8 as browsers send it. */
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"dice \\\"hola\\\".txt\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "dice \"hola\".txt");
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"Resolución año.pdf\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].filename, "Resolución año.pdf");
    ASSERT_EQ(one_part("name=\"a;b=c\"", "x", &f), 0);
    ASSERT_STREQ(f.fields[0].name, "a;b=c");

    /* filename* wins over filename, in either order. */
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"fallback.pdf\"; "
                       "filename*=UTF-8''Resoluci%C3%B3n%20final+1.pdf",
                       "x", &f),
              0);
    ASSERT_STREQ(f.fields[0].filename, "Resolución final+1.pdf");
    ASSERT_EQ(one_part("filename*=utf-8'es'..%2F..%2Fa%C3%B1o.pdf; name=\"attachments\"; "
                       "filename=\"fallback.pdf\"",
                       "x", &f),
              0);
    ASSERT_STREQ(f.fields[0].filename, "año.pdf");
    ASSERT_EQ(one_part("name=\"a\"; filename*=ISO-8859-1''a%F1o.pdf", "x", &f), VT_EINVAL);
    ASSERT_EQ(one_part("name=\"a\"; filename*=UTF-8''a%G1.pdf", "x", &f), VT_EINVAL);
    ASSERT_EQ(one_part("name=\"a\"; filename*=UTF-8''a%00.pdf", "x", &f), VT_EINVAL);
    ASSERT_EQ(one_part("name=\"a\"; filename*=a.pdf", "x", &f), VT_EINVAL);

    /* An empty file input is skipped; an empty named file is kept. */
    ASSERT_EQ(mps(CT,
                  B "\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\nHola\r\n" B
                    "\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n\r\n" B
                    "\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nTexto\r\n" B "--\r\n",
                  64, &f),
              0);
    ASSERT_EQ(f.n, 2);
    ASSERT_TRUE(vt_form_get(&f, "attachments") == NULL);
    ASSERT_STREQ(vt_form_get(&f, "body")->value, "Texto");
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"vacio.txt\"", "", &f), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STREQ(f.fields[0].filename, "vacio.txt");
    ASSERT_EQ(f.fields[0].value_len, 0);
    ASSERT_EQ(one_part("name=\"attachments\"; filename=\"\"", "data", &f), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STREQ(f.fields[0].filename, "");

    vt_form_cleanup(&f);
}

static void test_multipart_rejects(void)
{
    struct vt_form f = {0};
    const char *ok = B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B "--\r\n";
    ASSERT_EQ(mps(CT, ok, 64, &f), 0);

    /* No boundary, or not a multipart/form-data type. */
    ASSERT_EQ(mps("multipart/form-data", ok, 64, &f), VT_EINVAL);
    ASSERT_EQ(mps("multipart/form-data; charset=utf-8", ok, 64, &f), VT_EINVAL);
    ASSERT_EQ(mps("multipart/form-data; boundary=", ok, 64, &f), VT_EINVAL);
    ASSERT_EQ(mps("multipart/form-data; boundary=\"\"", ok, 64, &f), VT_EINVAL);
    ASSERT_EQ(mps("multipart/form-data; boundary=\"----VtBoundary7MA4YWxkTrZu0gW", ok, 64, &f),
              VT_EINVAL);
    ASSERT_EQ(mps("multipart/mixed; boundary=----VtBoundary7MA4YWxkTrZu0gW", ok, 64, &f),
              VT_EINVAL);
    ASSERT_EQ(mps("text/plain", ok, 64, &f), VT_EINVAL);
    ASSERT_EQ(mps(CT "; boundary=other", ok, 64, &f), VT_EINVAL);
    ASSERT_EQ(mps("multipart/form-data; boundary=12345678901234567890123456789012345678901234567"
                  "890123456789012345678901",
                  ok, 64, &f),
              VT_EINVAL);
    vt_form_cleanup(&f);
    ASSERT_EQ(vt_form_parse_multipart(NULL, ok, strlen(ok), 64, &f), VT_EINVAL);
    ASSERT_EQ(vt_form_parse_multipart(CT, NULL, 0, 64, &f), VT_EINVAL);

    /* Missing closing delimiter, in its several shapes. */
    ASSERT_EQ(mps(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n", 64, &f),
              VT_EINVAL);
    ASSERT_EQ(mps(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B, 64, &f),
              VT_EINVAL);
    ASSERT_EQ(
        mps(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B "-", 64, &f),
        VT_EINVAL);
    ASSERT_EQ(
        mps(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B "\r\n", 64, &f),
        VT_EINVAL);
    ASSERT_EQ(mps(CT, "", 64, &f), VT_EINVAL);
    ASSERT_EQ(mps(CT, "no delimiter at all", 64, &f), VT_EINVAL);

    /* Too many parts. */
    const char *three = B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B
                          "\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n" B
                          "\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n" B "--";
    ASSERT_EQ(mps(CT, three, 2, &f), VT_ETOOBIG);
    ASSERT_EQ(mps(CT, three, 3, &f), 0);
    ASSERT_EQ(f.n, 3);
    ASSERT_EQ(mps(CT, three, 0, &f), VT_ETOOBIG);

    /* Parts without a usable Content-Disposition. */
    ASSERT_EQ(mps(CT, B "\r\nContent-Type: text/plain\r\n\r\n1\r\n" B "--", 64, &f), VT_EINVAL);
    ASSERT_EQ(mps(CT, B "\r\n\r\n1\r\n" B "--", 64, &f), VT_EINVAL);
    ASSERT_EQ(one_part("filename=\"a.pdf\"", "x", &f), VT_EINVAL); /* no name */
    ASSERT_EQ(
        mps(CT, B "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n" B "--", 64, &f),
        VT_EINVAL);
    ASSERT_EQ(one_part("name=\"a\"; name=\"b\"", "x", &f), VT_EINVAL);

    /* Malformed headers. */
    ASSERT_EQ(one_part("name=\"a", "x", &f), VT_EINVAL); /* unterminated quote */
    ASSERT_EQ(one_part("name=\"a\\\"", "x", &f), VT_EINVAL);
    ASSERT_EQ(one_part("name", "x", &f), VT_EINVAL);
    ASSERT_EQ(one_part("name=\"a\" junk", "x", &f), VT_EINVAL);
    ASSERT_EQ(one_part("=\"a\"", "x", &f), VT_EINVAL);
    ASSERT_EQ(mps(CT, B "\r\nno colon here\r\n\r\n1\r\n" B "--", 64, &f), VT_EINVAL);
    ASSERT_EQ(mps(CT, B "\r\n: empty name\r\n\r\n1\r\n" B "--", 64, &f), VT_EINVAL);
    ASSERT_EQ(mps(CT, B "\r\nContent Disposition: form-data; name=a\r\n\r\n1\r\n" B "--", 64, &f),
              VT_EINVAL);
    ASSERT_EQ(
        mps(CT, B "\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\n1\r\n" B "--", 64, &f),
        VT_EINVAL);
    ASSERT_EQ(mps(CT,
                  B "\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                    "Content-Disposition: form-data; name=\"b\"\r\n\r\n1\r\n" B "--",
                  64, &f),
              VT_EINVAL);
    /* Headers that never end before the next delimiter. */
    ASSERT_EQ(mps(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n" B "--", 64, &f),
              VT_EINVAL);

    /* A header block over 8 KiB, and one just under. */
    struct vt_buf b = {0};
    vt_buf_puts(&b, B "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    size_t pad =
        8192 - strlen("Content-Disposition: form-data; name=\"a\"\r\nX-Pad: ") - strlen("\r\n\r\n");
    for (size_t i = 0; i < pad; i++)
        vt_buf_puts(&b, "p");
    vt_buf_puts(&b, "\r\n\r\n1\r\n" B "--");
    ASSERT_EQ(mp(CT, &b, 64, &f), 0);
    ASSERT_EQ(f.n, 1);
    vt_buf_cleanup(&b);
    vt_buf_puts(&b, B "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    for (size_t i = 0; i < pad + 1; i++)
        vt_buf_puts(&b, "p");
    vt_buf_puts(&b, "\r\n\r\n1\r\n" B "--");
    ASSERT_EQ(mp(CT, &b, 64, &f), VT_EINVAL);
    vt_buf_cleanup(&b);

    /* After a failure in a later part the form still cleans up whole. */
    ASSERT_EQ(mps(CT,
                  B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B
                    "\r\nContent-Disposition: form-data; name=\"b\"; filename=\"x\"\r\n"
                    "Content-Type: text/plain\r\nBroken\r\n\r\n2\r\n" B "--",
                  64, &f),
              VT_EINVAL);
    vt_form_cleanup(&f);
    ASSERT_EQ(f.n, 0);
}

int main(void)
{
    test_urlencoded();
    test_multipart_browser();
    test_multipart_filenames();
    test_multipart_rejects();
    VT_TEST_END();
}
