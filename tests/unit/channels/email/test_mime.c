/* test_mime.c - unit tests for channels/email/mime.c, the reader of inbound
 * mail: headers decoded (RFC 2047 with right and wrong charsets), bodies in
 * ISO-8859-1, Windows-1252 and UTF-8, HTML turned into text, alternatives,
 * attachments with RFC 2231 names, inline images, forwarded mail, the replies
 * Outlook and Gmail send, auto-replies, lists, bounces, malformed MIME, the
 * limits, and the radicado found in a subject.
 *
 * Messages are written inline, one line per string literal, with the CRLF
 * line ends of the wire (LF where a test says so), shaped like what the mail
 * clients named in each test send, trimmed to what matters.
 */
#include "channels/email/mime.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "vt_test.h"

static size_t last_dropped;

static bool valid(const char *s)
{
    return s && vt_utf8_valid(s, strlen(s));
}

/* Every string of a parsed mail is there and is valid UTF-8. */
static void assert_valid(const struct vt_mail *m)
{
    ASSERT_TRUE(valid(m->from_addr));
    ASSERT_TRUE(valid(m->from_name));
    ASSERT_TRUE(valid(m->reply_to));
    ASSERT_TRUE(valid(m->to));
    ASSERT_TRUE(valid(m->subject));
    ASSERT_TRUE(valid(m->message_id));
    ASSERT_TRUE(valid(m->in_reply_to));
    ASSERT_TRUE(valid(m->text));
    ASSERT_TRUE(valid(m->bounced_message_id));
    for (size_t i = 0; i < m->n_references; i++)
        ASSERT_TRUE(valid(m->references[i]));
    for (size_t i = 0; i < m->n_parts; i++) {
        ASSERT_TRUE(valid(m->parts[i].filename) && m->parts[i].filename[0]);
        ASSERT_TRUE(valid(m->parts[i].content_type));
        ASSERT_TRUE(m->parts[i].data != NULL);
        ASSERT_TRUE(strchr(m->parts[i].filename, '/') == NULL);
        ASSERT_TRUE(strchr(m->parts[i].filename, '\\') == NULL);
    }
}

static int parse_n(const char *raw, size_t len, struct vt_mail *m, size_t max_parts,
                   size_t max_part_bytes, size_t max_text)
{
    int rc = vt_mime_parse(raw, len, max_parts, max_part_bytes, max_text, m, &last_dropped);
    if (rc == 0)
        assert_valid(m);
    return rc;
}

static int parse(const char *raw, struct vt_mail *m)
{
    return parse_n(raw, strlen(raw), m, 10, 1 << 20, 1 << 16);
}

static void test_quoted_printable_latin1(void)
{
    struct vt_mail m;
    const char *raw =
        "Return-Path: <jose.perez@example.com>\r\n"
        "From: \"=?iso-8859-1?Q?Jos=E9_P=E9rez?=\" <Jose.Perez@Example.COM>\r\n"
        "Reply-To: Jose Perez <JOSE@Respuestas.Example.com>\r\n"
        "To: Ventanilla =?utf-8?Q?=C3=9Anica?= <radicacion@entidad.gov.co>, otro@x.co\r\n"
        "Subject: Solicitud de =?ISO-8859-1?Q?informaci=F3n?=\r\n"
        "Date: Tue, 3 Mar 2026 10:15:00 -0500\r\n"
        "Message-ID: <abc123@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=\"ISO-8859-1\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Se=F1ores: solicito informaci=F3n sobre el tr=E1mite de la =\r\n"
        "licencia.\r\n"
        "\r\n"
        "Gracias, Jos=E9\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.from_addr, "jose.perez@example.com");
    ASSERT_STREQ(m.from_name, "José Pérez");
    ASSERT_STREQ(m.reply_to, "jose@respuestas.example.com");
    ASSERT_STREQ(m.to, "Ventanilla Única <radicacion@entidad.gov.co>, otro@x.co");
    ASSERT_STREQ(m.subject, "Solicitud de información");
    ASSERT_STREQ(m.message_id, "abc123@example.com");
    ASSERT_STREQ(m.in_reply_to, "");
    ASSERT_EQ(m.n_references, 0);
    ASSERT_EQ(m.date_ms, 1772550900000LL);
    ASSERT_STREQ(m.text,
                 "Señores: solicito información sobre el trámite de la licencia.\n\nGracias, José");
    ASSERT_TRUE(!m.text_from_html);
    ASSERT_EQ(m.n_parts, 0);
    ASSERT_EQ(m.automatic, VT_MAIL_HUMAN);
    ASSERT_STREQ(m.bounced_message_id, "");
    vt_mail_cleanup(&m);
    vt_mail_cleanup(&m); /* twice is harmless */
    vt_mail_cleanup(NULL);
}

static void test_header_charsets(void)
{
    struct vt_mail m;
    /* Windows-1252 in base64: curly quotes and an en dash beyond Latin-1. */
    ASSERT_EQ(parse("From: a@b.co\r\n"
                    "Subject: =?windows-1252?B?UGV0aWNp824gk3VyZ2VudGWUIJYgYfFvIDIwMjY=?=\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.subject, "Petición “urgente” – año 2026");
    vt_mail_cleanup(&m);
    /* Declared UTF-8, sent in Latin-1: read as Windows-1252, not as '?'. */
    ASSERT_EQ(parse("From: =?utf-8?Q?Mu=F1oz?= <m@b.co>\r\n"
                    "Subject: =?utf-8?Q?Se=F1or?=\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.subject, "Señor");
    ASSERT_STREQ(m.from_name, "Muñoz");
    vt_mail_cleanup(&m);
    /* Declared Latin-1, sent in UTF-8. */
    ASSERT_EQ(parse("Subject: =?iso-8859-1?Q?Se=C3=B1or_alcalde?=\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.subject, "Señor alcalde");
    vt_mail_cleanup(&m);
    /* UTF-8 split across two base64 words, and raw 8-bit bytes undeclared. */
    ASSERT_EQ(parse("Subject: =?UTF-8?B?QW5hIE1hcs?=\r\n"
                    " =?UTF-8?B?OtYSBHw7NtZXo=?=\r\n"
                    "X-Raw: x\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.subject, "Ana María Gómez");
    vt_mail_cleanup(&m);
    ASSERT_EQ(parse("Subject: Petici\xf3n de \xc3\xa1rea\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.subject, "Petición de área");
    vt_mail_cleanup(&m);
    /* Folded header, tabs and line ends inside a decoded word become spaces. */
    ASSERT_EQ(parse("Subject: uno\r\n"
                    "\tdos =?utf-8?Q?tres=0Acuatro?=\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.subject, "uno dos tres cuatro");
    vt_mail_cleanup(&m);
}

static void test_utf8_8bit_body(void)
{
    struct vt_mail m;
    ASSERT_EQ(parse("From: Niña <nina@example.co>\r\n"
                    "Subject: Peticion\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n"
                    "\r\n"
                    "\xEF\xBB\xBFHola, señor.\r\n"
                    "Línea dos\rcon CR suelto\x01.\r\n"
                    "\r\n"
                    "\r\n"
                    "\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.from_name, "Niña");
    ASSERT_STREQ(m.text, "Hola, señor.\nLínea dos\ncon CR suelto.");
    vt_mail_cleanup(&m);
    /* Undeclared 8-bit Latin-1: not UTF-8, so Windows-1252. */
    ASSERT_EQ(parse("Subject: x\r\n"
                    "\r\n"
                    "Caf\xe9 \x93pronto\x94 a\xf1o\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "Café “pronto” año");
    vt_mail_cleanup(&m);
    /* Declared UTF-8 with a stray Latin-1 byte: the rest stays UTF-8. */
    ASSERT_EQ(parse("Content-Type: text/plain; charset=UTF-8\r\n"
                    "\r\n"
                    "a\xf1o y a\xc3\xb1o\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "año y año");
    vt_mail_cleanup(&m);
    /* A charset iconv knows: Windows-1251 (Cyrillic), and ISO-8859-15's euro. */
    ASSERT_EQ(parse("Content-Type: text/plain; charset=windows-1251\r\n"
                    "\r\n"
                    "\xcf\xf0\xe8\xe2\xe5\xf2\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "Привет");
    vt_mail_cleanup(&m);
    ASSERT_EQ(parse("Content-Type: text/plain; charset=iso-8859-15\r\n"
                    "\r\n"
                    "10 \xa4\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "10 €");
    vt_mail_cleanup(&m);
    /* An unknown charset falls back to UTF-8, else Windows-1252. */
    ASSERT_EQ(parse("Content-Type: text/plain; charset=x-nadie\r\n"
                    "\r\n"
                    "ni\xf1o\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "niño");
    vt_mail_cleanup(&m);
}

static void test_format_flowed(void)
{
    struct vt_mail m;
    /* Thunderbird and Apple Mail wrap paragraphs with format=flowed. */
    ASSERT_EQ(parse("Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
                    "\r\n"
                    "Solicito copia del expediente \r\n"
                    "n\xc3\xbamero 12.\r\n"
                    " From stuffed\r\n"
                    "\r\n"
                    "> cita que sigue \r\n"
                    "> en la misma l\xc3\xadnea\r\n"
                    "-- \r\n"
                    "Ana\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "Solicito copia del expediente número 12.\nFrom stuffed\n\n"
                         "> cita que sigue en la misma línea\n-- \nAna");
    vt_mail_cleanup(&m);
    ASSERT_EQ(parse("Content-Type: text/plain; format=flowed; delsp=yes\r\n"
                    "\r\n"
                    "pala \r\n"
                    "bra\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "palabra");
    vt_mail_cleanup(&m);
}

static void test_html_only(void)
{
    struct vt_mail m;
    ASSERT_EQ(parse("From: portal@entidad.gov.co\r\n"
                    "Subject: Formulario\r\n"
                    "Content-Type: text/html; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n"
                    "\r\n"
                    "<html><head><style>p { color: red; }</style><title>t</title></head>=\r\n"
                    "<body><p>Buenos d&iacute;as,</p><p>Adjunto &quot;petici&oacute;n=\r\n"
                    "&quot; &amp; anexos &lt;2&gt;.<br>Caf&#233; &#xF1; &nbsp;fin=\r\n"
                    "</p><script>alert('<p>no</p>')</script><div>L&iacute;nea=\r\n"
                    "&nbsp;1</div><div>L&iacute;nea   2</div><ul><li>uno=\r\n"
                    "</li><li>dos</li></ul><!-- nota --><h1>T&iacute;t=\r\n"
                    "ulo</h1><br><br><br><br>=E1rbol &euro; &bogus; =\r\n"
                    "a &lt b &#128;</body></html>\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "Buenos días,\n\nAdjunto \"petición\" & anexos <2>.\nCafé ñ  fin\n\n"
                         "Línea 1\nLínea 2\n\nuno\ndos\n\nTítulo\n\nárbol € &bogus; a < b €");
    ASSERT_TRUE(m.text_from_html);
    vt_mail_cleanup(&m);
    /* Unclosed <style> runs to the end; a table reads row by row. */
    ASSERT_EQ(parse("Content-Type: text/html\r\n"
                    "\r\n"
                    "<table><tr><td>Nombre</td><td>Ana</td></tr><tr><td>C&eacute;dula</td>\r\n"
                    "<td>123</td></tr></table>Fin<style>x{}\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "Nombre Ana\nCédula 123\n\nFin");
    vt_mail_cleanup(&m);
    /* Many unclosed <title> tags: the text after them is shown, quickly. */
    static char titles[200000];
    size_t n = (size_t)snprintf(titles, sizeof(titles), "Content-Type: text/html\r\n\r\n");
    while (n + 8 < sizeof(titles))
        n += (size_t)snprintf(titles + n, sizeof(titles) - n, "<title>");
    n += (size_t)snprintf(titles + n, sizeof(titles) - n, "x");
    ASSERT_EQ(parse_n(titles, n, &m, 10, 1000, 1000), 0);
    ASSERT_STREQ(m.text, "x");
    vt_mail_cleanup(&m);
}

static void test_alternative(void)
{
    struct vt_mail m;
    const char *raw = "From: Ana <ana@example.com>\r\n"
                      "Subject: Alternativa\r\n"
                      "MIME-Version: 1.0\r\n"
                      "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
                      "\r\n"
                      "--alt\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "\r\n"
                      "Texto plano.\r\n"
                      "--alt\r\n"
                      "Content-Type: text/html; charset=utf-8\r\n"
                      "\r\n"
                      "<p>Texto <b>HTML</b>.</p>\r\n"
                      "--alt--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.text, "Texto plano.");
    ASSERT_TRUE(!m.text_from_html);
    ASSERT_EQ(m.n_parts, 0);
    vt_mail_cleanup(&m);
    /* HTML first, plain second: still the plain text. */
    raw = "Content-Type: multipart/alternative; boundary=alt\r\n"
          "\r\n"
          "--alt\r\n"
          "Content-Type: text/html\r\n"
          "\r\n"
          "<p>HTML</p>\r\n"
          "--alt\r\n"
          "Content-Type: text/plain\r\n"
          "\r\n"
          "Plano\r\n"
          "--alt--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.text, "Plano");
    vt_mail_cleanup(&m);
    /* A blank plain version (some web forms): the HTML is read instead. */
    raw = "Content-Type: multipart/alternative; boundary=alt\r\n"
          "\r\n"
          "--alt\r\n"
          "Content-Type: text/plain\r\n"
          "\r\n"
          "  \r\n"
          "--alt\r\n"
          "Content-Type: text/html\r\n"
          "\r\n"
          "<p>Solo HTML</p>\r\n"
          "--alt--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.text, "Solo HTML");
    ASSERT_TRUE(m.text_from_html);
    vt_mail_cleanup(&m);
}

static void test_attachments(void)
{
    struct vt_mail m;
    const char *raw =
        "From: Ana <ana@example.com>\r\n"
        "Subject: Anexos\r\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
        "\r\n"
        "preamble\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Adjunto los documentos.\r\n"
        "--b1\r\n"
        "Content-Type: application/pdf; name=\"Se=?utf-8?Q?=C3=B1?=.pdf\"\r\n"
        "Content-Disposition: attachment;\r\n"
        " filename*=UTF-8''Se%C3%B1or_%C3%B1.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "JVBERi0xLjQKJeLjCjEgMCBvYmoK\r\n"
        "--b1\r\n"
        "Content-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment; filename=\"..\\\\..\\\\C:\\\\tmp\\\\x\x01y.exe\"\r\n"
        "\r\n"
        "MZ\r\n"
        "--b1\r\n"
        "Content-Type: application/vnd.ms-excel\r\n"
        "\r\n"
        "raw\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; name=\"=?utf-8?B?SW5mb3JtZSBhw7FvLnBkZg==?=\"\r\n"
        "\r\n"
        "texto adjunto\r\n"
        "--b1--\r\n"
        "epilogue\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.text, "Adjunto los documentos.");
    ASSERT_EQ(m.n_parts, 4);
    if (m.n_parts == 4) {
        ASSERT_STREQ(m.parts[0].filename, "Señor_ñ.pdf");
        ASSERT_STREQ(m.parts[0].content_type, "application/pdf");
        ASSERT_EQ(m.parts[0].size, 21);
        ASSERT_TRUE(memcmp(m.parts[0].data, "%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", 21) == 0);
        ASSERT_TRUE(!m.parts[0].inline_image);
        ASSERT_STREQ(m.parts[1].filename, "xy.exe"); /* no path, no control character */
        ASSERT_EQ(m.parts[1].size, 2);
        ASSERT_STREQ(m.parts[2].filename, "adjunto");
        ASSERT_STREQ(m.parts[2].content_type, "application/vnd.ms-excel");
        ASSERT_STREQ(m.parts[3].filename, "Informe año.pdf");
        ASSERT_STREQ(m.parts[3].content_type, "text/plain");
    }
    vt_mail_cleanup(&m);
    /* A right-to-left override hides ".exe": it is removed. */
    raw = "Content-Type: multipart/mixed; boundary=b\r\n"
          "\r\n"
          "--b\r\n"
          "Content-Type: application/octet-stream\r\n"
          "Content-Disposition: attachment; filename*=utf-8''factura%E2%80%AEfdp.exe\r\n"
          "\r\n"
          "x\r\n"
          "--b--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_EQ(m.n_parts, 1);
    if (m.n_parts == 1)
        ASSERT_STREQ(m.parts[0].filename, "facturafdp.exe");
    vt_mail_cleanup(&m);
}

static void test_inline_image(void)
{
    struct vt_mail m;
    const char *raw = "From: Ana <ana@example.com>\r\n"
                      "Subject: Foto\r\n"
                      "Content-Type: multipart/related; boundary=rel; type=\"text/html\"\r\n"
                      "\r\n"
                      "--rel\r\n"
                      "Content-Type: text/html; charset=utf-8\r\n"
                      "\r\n"
                      "<p>Vea la foto:</p><img src=\"cid:foto1@example.com\"><p>Gracias</p>\r\n"
                      "--rel\r\n"
                      "Content-Type: image/png\r\n"
                      "Content-Transfer-Encoding: base64\r\n"
                      "Content-ID: <foto1@example.com>\r\n"
                      "Content-Disposition: inline\r\n"
                      "\r\n"
                      "iVBORw0KGgoAAAANSUhEUg==\r\n"
                      "--rel\r\n"
                      "Content-Type: image/jpeg\r\n"
                      "Content-ID: <logo@example.com>\r\n"
                      "\r\n"
                      "JPEG\r\n"
                      "--rel\r\n"
                      "Content-Type: image/gif\r\n"
                      "Content-Disposition: attachment; filename=a.gif\r\n"
                      "\r\n"
                      "GIF\r\n"
                      "--rel--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.text, "Vea la foto:\n\nGracias");
    ASSERT_TRUE(m.text_from_html);
    ASSERT_EQ(m.n_parts, 3);
    if (m.n_parts == 3) {
        ASSERT_STREQ(m.parts[0].content_type, "image/png");
        ASSERT_TRUE(m.parts[0].inline_image);
        ASSERT_EQ(m.parts[0].size, 16);
        ASSERT_TRUE(memcmp(m.parts[0].data, "\x89PNG\r\n\x1a\n", 8) == 0);
        ASSERT_STREQ(m.parts[0].filename, "adjunto");
        ASSERT_TRUE(m.parts[1].inline_image); /* a Content-ID and no disposition */
        ASSERT_TRUE(!m.parts[2].inline_image);
        ASSERT_STREQ(m.parts[2].filename, "a.gif");
    }
    vt_mail_cleanup(&m);
}

static void test_forwarded(void)
{
    struct vt_mail m;
    const char *raw = "From: Funcionario <funcionario@entidad.gov.co>\r\n"
                      "Subject: RV: Queja\r\n"
                      "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                      "\r\n"
                      "--outer\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "\r\n"
                      "Les reenvío el correo.\r\n"
                      "--outer\r\n"
                      "Content-Type: message/rfc822\r\n"
                      "Content-Disposition: attachment; filename=\"Queja.eml\"\r\n"
                      "\r\n"
                      "From: =?utf-8?Q?Ana_G=C3=B3mez?= <ana@example.com>\r\n"
                      "Subject: Queja por =?utf-8?Q?atenci=C3=B3n?=\r\n"
                      "Date: Wed, 4 Mar 2026 08:00:00 +0000\r\n"
                      "Message-ID: <queja-1@example.com>\r\n"
                      "Content-Type: multipart/mixed; boundary=inner\r\n"
                      "\r\n"
                      "--inner\r\n"
                      "Content-Type: text/plain; charset=iso-8859-1\r\n"
                      "\r\n"
                      "Texto original: atenci\xf3n mala.\r\n"
                      "--inner\r\n"
                      "Content-Type: application/pdf\r\n"
                      "Content-Disposition: attachment; filename=q.pdf\r\n"
                      "\r\n"
                      "PDF\r\n"
                      "--inner--\r\n"
                      "\r\n"
                      "--outer--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.text, "Les reenvío el correo.\n\n"
                         "---------- Mensaje reenviado ----------\n"
                         "De: Ana Gómez <ana@example.com>\n"
                         "Asunto: Queja por atención\n"
                         "Fecha: Wed, 4 Mar 2026 08:00:00 +0000\n"
                         "\n"
                         "Texto original: atención mala.");
    ASSERT_STREQ(m.message_id, ""); /* the outer mail has none */
    ASSERT_EQ(m.n_parts, 1);
    if (m.n_parts == 1)
        ASSERT_STREQ(m.parts[0].filename, "q.pdf");
    ASSERT_EQ(m.automatic, VT_MAIL_HUMAN);
    vt_mail_cleanup(&m);
    /* A forward of a forward in HTML, with no text of its own. */
    raw = "Subject: Fwd\r\n"
          "Content-Type: message/rfc822\r\n"
          "\r\n"
          "Subject: uno\r\n"
          "Content-Type: multipart/mixed; boundary=x\r\n"
          "\r\n"
          "--x\r\n"
          "Content-Type: text/html\r\n"
          "\r\n"
          "<p>Hola</p>\r\n"
          "--x\r\n"
          "Content-Type: message/rfc822\r\n"
          "\r\n"
          "From: b@c.co\r\n"
          "Subject: dos\r\n"
          "\r\n"
          "Adentro\r\n"
          "--x--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.text, "---------- Mensaje reenviado ----------\n"
                         "Asunto: uno\n\nHola\n\n"
                         "---------- Mensaje reenviado ----------\n"
                         "De: b@c.co\nAsunto: dos\n\nAdentro");
    vt_mail_cleanup(&m);
}

static void test_outlook_reply(void)
{
    struct vt_mail m;
    char rad[64];
    const char *raw = "From: \"Gomez, Ana\" <Ana.Gomez@Contoso.com>\r\n"
                      "To: \"radicacion@entidad.gov.co\" <radicacion@entidad.gov.co>\r\n"
                      "Subject: RE: Radicado 2026-000123\r\n"
                      "Thread-Topic: Radicado 2026-000123\r\n"
                      "Thread-Index: AQHZx1234567890\r\n"
                      "Date: Tue, 3 Mar 2026 15:30:12 +0000\r\n"
                      "Message-ID: <DM6PR01MB1234.namprd01.prod.outlook.com>\r\n"
                      "References: <rad-2026-000123@entidad.gov.co>\r\n"
                      "In-Reply-To: <rad-2026-000123@entidad.gov.co>\r\n"
                      "X-Auto-Response-Suppress: All\r\n"
                      "Content-Language: es-CO\r\n"
                      "Content-Type: multipart/alternative;\r\n"
                      "\tboundary=\"_000_DM6PR01MB_\"\r\n"
                      "MIME-Version: 1.0\r\n"
                      "\r\n"
                      "--_000_DM6PR01MB_\r\n"
                      "Content-Type: text/plain; charset=\"Windows-1252\"\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n"
                      "\r\n"
                      "Env=EDo el docum=\r\n"
                      "ento.\r\n"
                      "\r\n"
                      "From: radicacion\r\n"
                      "--_000_DM6PR01MB_\r\n"
                      "Content-Type: text/html\r\n"
                      "\r\n"
                      "<p>H</p>\r\n"
                      "--_000_DM6PR01MB_--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.from_addr, "ana.gomez@contoso.com");
    ASSERT_STREQ(m.from_name, "Gomez, Ana");
    ASSERT_STREQ(m.subject, "RE: Radicado 2026-000123");
    ASSERT_STREQ(m.message_id, "DM6PR01MB1234.namprd01.prod.outlook.com");
    ASSERT_STREQ(m.in_reply_to, "rad-2026-000123@entidad.gov.co");
    ASSERT_EQ(m.n_references, 1);
    if (m.n_references == 1)
        ASSERT_STREQ(m.references[0], "rad-2026-000123@entidad.gov.co");
    ASSERT_STREQ(m.text, "Envío el documento.\n\nFrom: radicacion");
    ASSERT_EQ(m.automatic, VT_MAIL_HUMAN); /* X-Auto-Response-Suppress is only a request */
    ASSERT_TRUE(vt_mime_find_radicado(m.subject, "", rad, sizeof(rad)));
    ASSERT_STREQ(rad, "2026-000123");
    vt_mail_cleanup(&m);
}

static void test_gmail_reply(void)
{
    struct vt_mail m;
    const char *raw = "MIME-Version: 1.0\r\n"
                      "References: <root@entidad.gov.co>\r\n"
                      " <CAF=abc@mail.gmail.com>\t<rad-2026-000124@entidad.gov.co>\r\n"
                      "In-Reply-To: <rad-2026-000124@entidad.gov.co>\r\n"
                      "From: =?UTF-8?Q?Mar=C3=ADa_Pe=C3=B1a?= <maria.pena@gmail.com>\r\n"
                      "Date: Wed, 4 Mar 2026 08:00:00 +0000\r\n"
                      "Message-ID: <CAKx=Yq1@mail.gmail.com>\r\n"
                      "Subject: Re: ABC-2026-000124 Derecho de =?UTF-8?Q?petici=C3=B3n?=\r\n"
                      "To: radicacion@entidad.gov.co\r\n"
                      "Content-Type: multipart/alternative; boundary=\"000000000000aa\"\r\n"
                      "\r\n"
                      "--000000000000aa\r\n"
                      "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n"
                      "\r\n"
                      "Muchas gracias por la respuesta=C2=A0r=C3=A1pida.\r\n"
                      "\r\n"
                      "El mar, 3 mar 2026 a las 10:15, Ventanilla (<radicacion@entidad.gov.co>)\r\n"
                      "escribi=C3=B3:\r\n"
                      "\r\n"
                      "> Su solicitud qued=C3=B3 radicada.\r\n"
                      "\r\n"
                      "--000000000000aa\r\n"
                      "Content-Type: text/html; charset=\"UTF-8\"\r\n"
                      "\r\n"
                      "<div dir=\"ltr\">Muchas gracias</div>\r\n"
                      "--000000000000aa--\r\n";
    ASSERT_EQ(parse(raw, &m), 0);
    ASSERT_STREQ(m.from_addr, "maria.pena@gmail.com");
    ASSERT_STREQ(m.from_name, "María Peña");
    ASSERT_STREQ(m.in_reply_to, "rad-2026-000124@entidad.gov.co");
    ASSERT_EQ(m.n_references, 3);
    if (m.n_references == 3) {
        ASSERT_STREQ(m.references[0], "root@entidad.gov.co");
        ASSERT_STREQ(m.references[1], "CAF=abc@mail.gmail.com");
        ASSERT_STREQ(m.references[2], "rad-2026-000124@entidad.gov.co");
    }
    ASSERT_STREQ(m.message_id, "CAKx=Yq1@mail.gmail.com");
    ASSERT_EQ(m.date_ms, 1772611200000LL);
    ASSERT_STREQ(m.text,
                 "Muchas gracias por la respuesta\xC2\xA0rápida.\n\n"
                 "El mar, 3 mar 2026 a las 10:15, Ventanilla (<radicacion@entidad.gov.co>)\n"
                 "escribió:\n\n> Su solicitud quedó radicada.");
    char rad[32];
    ASSERT_TRUE(vt_mime_find_radicado(m.subject, "abc", rad, sizeof(rad)));
    ASSERT_STREQ(rad, "ABC-2026-000124");
    ASSERT_EQ(m.automatic, VT_MAIL_HUMAN);
    vt_mail_cleanup(&m);
}

#define EXPECT_AUTO(raw, kind)                                                                     \
    do {                                                                                           \
        struct vt_mail m_;                                                                         \
        ASSERT_EQ(parse((raw), &m_), 0);                                                           \
        ASSERT_EQ(m_.automatic, (kind));                                                           \
        vt_mail_cleanup(&m_);                                                                      \
    } while (0)

static void test_auto_replies(void)
{
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Auto-Submitted: auto-replied\r\n"
                "Subject: Re: x\r\n"
                "\r\n"
                "Estoy de vacaciones.\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Auto-Submitted: Auto-Generated; owner=x\r\n"
                "\r\n"
                "\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Auto-Submitted: no\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_HUMAN);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "X-Autoreply: yes\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "X-Autorespond: Fuera\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "X-Auto-Response-Suppress: OOF\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_HUMAN);
    /* Out of office told only by the subject, as Outlook and Exchange send it. */
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Subject: =?utf-8?Q?Respuesta_autom=C3=A1tica:_Radicado_2026-000123?=\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Subject: Fuera de la oficina: x\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Subject: Out of Office: Radicado\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Subject: Automatic reply: Radicado\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Subject: [Autoreply] hola\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
    EXPECT_AUTO("From: ana@example.com\r\n"
                "Subject: RE: la respuesta automatica no llega\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_HUMAN);
    /* A read receipt (MDN) is automatic too. */
    EXPECT_AUTO(
        "From: ana@example.com\r\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n"
        "\r\n"
        "--r\r\n"
        "\r\n"
        "Leído\r\n"
        "--r\r\n"
        "Content-Type: message/disposition-notification\r\n"
        "\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
        "--r--\r\n",
        VT_MAIL_AUTO_REPLY);
}

static void test_bulk(void)
{
    EXPECT_AUTO("From: boletin@example.com\r\n"
                "Precedence: bulk\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_BULK);
    EXPECT_AUTO("From: boletin@example.com\r\n"
                "Precedence: junk\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_BULK);
    EXPECT_AUTO("From: lista@example.com\r\n"
                "Precedence: list\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_BULK);
    EXPECT_AUTO("From: lista@example.com\r\n"
                "List-Id: <vecinos.example.com>\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_BULK);
    EXPECT_AUTO("From: news@example.com\r\n"
                "List-Unsubscribe: <mailto:u@example.com>\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_BULK);
    /* An auto-reply sent by a list program is an auto-reply first. */
    EXPECT_AUTO("From: a@example.com\r\n"
                "Precedence: bulk\r\n"
                "Auto-Submitted: auto-replied\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_AUTO_REPLY);
}

static void test_bounces(void)
{
    struct vt_mail m;
    const char *dsn = "Return-Path: <>\r\n"
                      "From: Mail Delivery System <MAILER-DAEMON@mx.entidad.gov.co>\r\n"
                      "To: radicacion@entidad.gov.co\r\n"
                      "Subject: Undelivered Mail Returned to Sender\r\n"
                      "Auto-Submitted: auto-replied\r\n"
                      "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                      "\tboundary=\"9B0A5\"\r\n"
                      "MIME-Version: 1.0\r\n"
                      "\r\n"
                      "--9B0A5\r\n"
                      "Content-Description: Notification\r\n"
                      "Content-Type: text/plain; charset=us-ascii\r\n"
                      "\r\n"
                      "I'm sorry to have to inform you that your message could not\r\n"
                      "be delivered to one or more recipients.\r\n"
                      "\r\n"
                      "--9B0A5\r\n"
                      "Content-Type: message/delivery-status\r\n"
                      "\r\n"
                      "Reporting-MTA: dns; mx\r\n"
                      "\r\n"
                      "Final-Recipient: rfc822; nadie@example.com\r\n"
                      "Action: failed\r\n"
                      "Status: 5.1.1\r\n"
                      "\r\n"
                      "--9B0A5\r\n"
                      "Content-Type: text/rfc822-headers\r\n"
                      "\r\n"
                      "From: radicacion@entidad.gov.co\r\n"
                      "Message-ID: <sent-42@ventanilla.example>\r\n"
                      "Subject: Radicado\r\n"
                      "\r\n"
                      "--9B0A5--\r\n";
    ASSERT_EQ(parse(dsn, &m), 0);
    ASSERT_EQ(m.automatic, VT_MAIL_BOUNCE);
    ASSERT_STREQ(m.bounced_message_id, "sent-42@ventanilla.example");
    ASSERT_STREQ(m.text, "I'm sorry to have to inform you that your message could not\n"
                         "be delivered to one or more recipients.");
    ASSERT_EQ(m.n_parts, 0);
    vt_mail_cleanup(&m);
    /* The returned mail whole, as message/rfc822, from an Exchange DSN. */
    ASSERT_EQ(
        parse("From: postmaster@contoso.com\r\n"
              "Subject: Undeliverable: Radicado\r\n"
              "Content-Type: multipart/report; report-type=\"Delivery-Status\"; boundary=b\r\n"
              "\r\n"
              "--b\r\n"
              "Content-Type: text/plain\r\n"
              "\r\n"
              "No entregado.\r\n"
              "--b\r\n"
              "Content-Type: message/delivery-status\r\n"
              "\r\n"
              "Action: failed\r\n"
              "--b\r\n"
              "Content-Type: message/rfc822\r\n"
              "\r\n"
              "Message-ID: <sent-43@ventanilla.example>\r\n"
              "Content-Type: multipart/mixed; boundary=c\r\n"
              "\r\n"
              "--c\r\n"
              "Content-Type: application/pdf\r\n"
              "\r\n"
              "PDF\r\n"
              "--c--\r\n"
              "--b--\r\n",
              &m),
        0);
    ASSERT_EQ(m.automatic, VT_MAIL_BOUNCE);
    ASSERT_STREQ(m.bounced_message_id, "sent-43@ventanilla.example");
    ASSERT_EQ(m.n_parts, 0); /* our own attachment is not kept again */
    ASSERT_STREQ(m.text, "No entregado.");
    vt_mail_cleanup(&m);
    /* MAILER-DAEMON with no report: the returned headers quoted in the text. */
    ASSERT_EQ(parse("From: MAILER-DAEMON@mx.example.com\r\n"
                    "Subject: failure notice\r\n"
                    "\r\n"
                    "Hi. This is the qmail-send program.\r\n"
                    "\r\n"
                    "--- Below this line is a copy of the message.\r\n"
                    "\r\n"
                    "Message-ID: <sent-44@ventanilla.example>\r\n",
                    &m),
              0);
    ASSERT_EQ(m.automatic, VT_MAIL_BOUNCE);
    ASSERT_STREQ(m.bounced_message_id, "sent-44@ventanilla.example");
    vt_mail_cleanup(&m);
    /* Postmaster, with In-Reply-To. */
    ASSERT_EQ(parse("From: Postmaster <POSTMASTER@example.org>\r\n"
                    "In-Reply-To: <sent-45@ventanilla.example>\r\n"
                    "\r\n"
                    "Rechazado.\r\n",
                    &m),
              0);
    ASSERT_EQ(m.automatic, VT_MAIL_BOUNCE);
    ASSERT_STREQ(m.bounced_message_id, "sent-45@ventanilla.example");
    vt_mail_cleanup(&m);
    /* A null Return-Path and no From; then only References. */
    ASSERT_EQ(parse("Return-Path: <>\r\n"
                    "Subject: x\r\n"
                    "References: <r1@x> <sent-46@v>\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_EQ(m.automatic, VT_MAIL_BOUNCE);
    ASSERT_STREQ(m.bounced_message_id, "sent-46@v");
    vt_mail_cleanup(&m);
    /* A null Return-Path alone is an auto-responder's habit, not a bounce. */
    EXPECT_AUTO("Return-Path: <>\r\n"
                "From: ana@example.com\r\n"
                "\r\n"
                "x\r\n",
                VT_MAIL_HUMAN);
}

static void test_malformed(void)
{
    struct vt_mail m;
    /* No header at all. */
    ASSERT_EQ(vt_mime_parse("", 0, 10, 1000, 1000, &m, NULL), VT_EINVAL);
    ASSERT_TRUE(m.text == NULL);
    ASSERT_EQ(vt_mime_parse("hola mundo\n", 11, 10, 1000, 1000, &m, NULL), VT_EINVAL);
    ASSERT_EQ(vt_mime_parse("\x01\x02\xff\xfe garbage\n\nbody", 17, 10, 1000, 1000, &m, NULL),
              VT_EINVAL);
    ASSERT_EQ(vt_mime_parse(NULL, 0, 10, 1000, 1000, &m, NULL), VT_EINVAL);
    /* Header only, not even a blank line; with LF line ends. */
    ASSERT_EQ(parse("Subject: solo encabezado", &m), 0);
    ASSERT_STREQ(m.subject, "solo encabezado");
    ASSERT_STREQ(m.text, "");
    ASSERT_STREQ(m.from_addr, "");
    vt_mail_cleanup(&m);
    /* A byte order mark and blank lines before the headers. */
    ASSERT_EQ(parse("\xEF\xBB\xBF\r\n\nSubject: x\n\ncuerpo\n", &m), 0);
    ASSERT_STREQ(m.text, "cuerpo");
    vt_mail_cleanup(&m);
    /* Unterminated multipart: what is there is read. */
    ASSERT_EQ(parse("Subject: x\r\n"
                    "Content-Type: multipart/mixed; boundary=b\r\n"
                    "\r\n"
                    "--b\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "primera parte\r\n"
                    "--b\r\n"
                    "Content-Type: application/pdf\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n"
                    "JVBERi0xLjQK\r\n"
                    "JVBE\r\n",
                    &m),
              0);
    ASSERT_STREQ(m.text, "primera parte");
    ASSERT_EQ(m.n_parts, 1);
    vt_mail_cleanup(&m);
    /* A multipart without its boundary parameter, and bad base64. */
    ASSERT_EQ(parse("Content-Type: multipart/mixed\r\n"
                    "\r\n"
                    "--b\r\n"
                    "texto\r\n",
                    &m),
              0);
    vt_mail_cleanup(&m);
    ASSERT_EQ(parse("Content-Type: text/plain\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n"
                    "SG9s!!YS*B*t\r\n"
                    "dW5k#bw=\r\n"
                    "=junk==\r\n",
                    &m),
              0);
    ASSERT_TRUE(strncmp(m.text, "Hola mundo", 10) == 0);
    vt_mail_cleanup(&m);
    /* Binary garbage after the headers, NUL bytes included. */
    static const char garbage[] = "From: a@b.co\r\nSubject: bin\r\n\r\n\x00\xff\xfe\x80\x01\x02"
                                  "abc\x00\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80 fin";
    ASSERT_EQ(parse_n(garbage, sizeof(garbage) - 1, &m, 10, 1000, 1000), 0);
    ASSERT_STREQ(m.subject, "bin");
    ASSERT_TRUE(strstr(m.text, "abc") != NULL && strstr(m.text, "fin") != NULL);
    vt_mail_cleanup(&m);
    /* An unparsable Date and a From that is no address. */
    ASSERT_EQ(parse("Date: mañana\r\n"
                    "From: nadie\r\n"
                    "Message-ID: sin-corchetes\r\n"
                    "\r\n"
                    "x\r\n",
                    &m),
              0);
    ASSERT_EQ(m.date_ms, 0);
    ASSERT_STREQ(m.message_id, "sin-corchetes");
    vt_mail_cleanup(&m);
    /* Deep nesting is cut, not followed to the end of the stack. */
    char deep[20000];
    size_t n = (size_t)snprintf(deep, sizeof(deep), "Subject: deep\r\n");
    for (int i = 0; i < 300 && n < sizeof(deep) - 200; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n,
                              "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "Content-Type: text/plain\r\n\r\nhondo\r\n");
    ASSERT_EQ(parse_n(deep, n, &m, 10, 1000, 1000), 0);
    vt_mail_cleanup(&m);
}

static void test_limits(void)
{
    struct vt_mail m;
    const char *raw = "Subject: x\r\n"
                      "Content-Type: multipart/mixed; boundary=b\r\n"
                      "\r\n"
                      "--b\r\n"
                      "\r\n"
                      "Año: niño\r\n"
                      "--b\r\n"
                      "Content-Type: application/pdf\r\n"
                      "\r\n"
                      "0123456789\r\n"
                      "--b\r\n"
                      "Content-Type: application/pdf\r\n"
                      "\r\n"
                      "0123456789ABCDEFGHIJ\r\n"
                      "--b\r\n"
                      "Content-Type: image/png\r\n"
                      "\r\n"
                      "png\r\n"
                      "--b\r\n"
                      "Content-Type: image/gif\r\n"
                      "\r\n"
                      "gif\r\n"
                      "--b--\r\n";
    ASSERT_EQ(parse_n(raw, strlen(raw), &m, 2, 15, 1000), 0);
    ASSERT_EQ(m.n_parts, 2);
    ASSERT_EQ(last_dropped, 2); /* the 20-byte PDF, and the GIF beyond two parts */
    if (m.n_parts == 2) {
        ASSERT_EQ(m.parts[0].size, 10);
        ASSERT_STREQ(m.parts[1].content_type, "image/png");
    }
    vt_mail_cleanup(&m);
    /* The text is cut on a character boundary: "Año: niño" cut at 2 bytes is
     * "A" (the ñ takes two), at 8 is "Año: ni". */
    ASSERT_EQ(parse_n(raw, strlen(raw), &m, 0, 15, 2), 0);
    ASSERT_STREQ(m.text, "A");
    ASSERT_EQ(m.n_parts, 0);
    ASSERT_EQ(last_dropped, 4);
    vt_mail_cleanup(&m);
    ASSERT_EQ(parse_n(raw, strlen(raw), &m, 10, 1 << 20, 8), 0);
    ASSERT_STREQ(m.text, "Año: ni");
    ASSERT_EQ(m.n_parts, 4);
    ASSERT_EQ(last_dropped, 0);
    vt_mail_cleanup(&m);
    ASSERT_EQ(parse_n(raw, strlen(raw), &m, 10, 1 << 20, 0), 0);
    ASSERT_STREQ(m.text, "");
    vt_mail_cleanup(&m);
    /* dropped may be NULL. */
    ASSERT_EQ(vt_mime_parse(raw, strlen(raw), 1, 5, 100, &m, NULL), 0);
    ASSERT_EQ(m.n_parts, 1);
    vt_mail_cleanup(&m);
}

static void test_find_radicado(void)
{
    char out[32];
    ASSERT_TRUE(vt_mime_find_radicado("RE: Radicado 2026-000123", "", out, sizeof(out)));
    ASSERT_STREQ(out, "2026-000123");
    ASSERT_TRUE(vt_mime_find_radicado("2026-0001", "", out, sizeof(out)));
    ASSERT_STREQ(out, "2026-0001");
    ASSERT_TRUE(vt_mime_find_radicado("Radicado:2026-000123.", NULL, out, sizeof(out)));
    ASSERT_STREQ(out, "2026-000123");
    ASSERT_TRUE(vt_mime_find_radicado("(2099-12345678)", "", out, sizeof(out)));
    ASSERT_STREQ(out, "2099-12345678");
    ASSERT_TRUE(vt_mime_find_radicado("Re: abc-2026-000123 queja", "ABC", out, sizeof(out)));
    ASSERT_STREQ(out, "ABC-2026-000123");
    ASSERT_TRUE(vt_mime_find_radicado("RV: ABC-2026-000777", "abc", out, sizeof(out)));
    ASSERT_STREQ(out, "ABC-2026-000777");
    ASSERT_TRUE(
        vt_mime_find_radicado("Radicado nº ALC-2026-0042 y 2026-0043", "ALC", out, sizeof(out)));
    ASSERT_STREQ(out, "ALC-2026-0042");
    /* Not radicados. */
    ASSERT_TRUE(!vt_mime_find_radicado("Radicado 2026-12", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("Radicado 12026-000123", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("Radicado 2026-000123x", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("Radicado 1999-000123", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("Radicado 2100-000123", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("Radicado 2026/000123", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("XABC-2026-000123", "ABC", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("Radicado 2026-000123", "ABC", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("ABC-2026-000123", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado("", "", out, sizeof(out)));
    ASSERT_TRUE(!vt_mime_find_radicado(NULL, "", out, sizeof(out)));
    /* No room for it: not found rather than cut. */
    ASSERT_TRUE(!vt_mime_find_radicado("2026-000123", "", out, 11));
    ASSERT_TRUE(vt_mime_find_radicado("2026-000123", "", out, 12));
}

int main(void)
{
    vt_mime_init();
    vt_mime_init(); /* twice is harmless */
    test_quoted_printable_latin1();
    test_header_charsets();
    test_utf8_8bit_body();
    test_format_flowed();
    test_html_only();
    test_alternative();
    test_attachments();
    test_inline_image();
    test_forwarded();
    test_outlook_reply();
    test_gmail_reply();
    test_auto_replies();
    test_bulk();
    test_bounces();
    test_malformed();
    test_limits();
    test_find_radicado();
    VT_TEST_END();
}
