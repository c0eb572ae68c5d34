/* html.c - HTML turned into readable text for the email channel (html.h). */
#include "channels/email/html.h"

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

/* Windows-1252 bytes 0x80..0x9F; the five it leaves undefined read as U+FFFD. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

uint32_t vt_cp1252(unsigned char c)
{
    return c >= 0x80 && c <= 0x9F ? cp1252_high[c - 0x80] : c;
}

/* Latin-1 entities, U+00A0 to U+00FF in order (HTML 4, section 24.2). */
static const char *const latin1_entities[96] = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
    "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
    "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml",
};

static const struct {
    const char *name;
    uint32_t cp;
} other_entities[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"euro", 0x20AC},   {"ndash", 0x2013},  {"mdash", 0x2014},
    {"lsquo", 0x2018},  {"rsquo", 0x2019},  {"sbquo", 0x201A},  {"ldquo", 0x201C},
    {"rdquo", 0x201D},  {"bdquo", 0x201E},  {"hellip", 0x2026}, {"bull", 0x2022},
    {"trade", 0x2122},  {"dagger", 0x2020}, {"Dagger", 0x2021}, {"permil", 0x2030},
    {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"OElig", 0x0152},  {"oelig", 0x0153},
    {"Scaron", 0x0160}, {"scaron", 0x0161}, {"Yuml", 0x0178},   {"fnof", 0x0192},
    {"circ", 0x02C6},   {"tilde", 0x02DC},  {"ensp", ' '},      {"emsp", ' '},
    {"thinsp", ' '},    {"zwnj", 0x200C},   {"zwj", 0x200D},    {"lrm", 0x200E},
    {"rlm", 0x200F},    {"larr", 0x2190},   {"rarr", 0x2192},   {"check", 0x2713},
};

/* Decodes the entity at s[0] == '&'. Returns the bytes it takes and sets *cp,
 * or 0 when this is a plain ampersand. Named entities need their ';' except
 * the five that old mailers write without it. */
static size_t entity(const char *s, size_t n, uint32_t *cp)
{
    size_t i = 1;
    if (i < n && s[i] == '#') {
        bool hex = i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X');
        uint32_t v = 0;
        size_t digits = 0;
        for (i += hex ? 2 : 1; i < n; i++, digits++) {
            int d = hex ? g_ascii_xdigit_value(s[i]) : g_ascii_digit_value(s[i]);
            if (d < 0)
                break;
            if (v <= 0x10FFFF)
                v = v * (hex ? 16 : 10) + (uint32_t)d;
        }
        if (digits == 0)
            return 0;
        if (i < n && s[i] == ';')
            i++;
        /* HTML reads 0x80..0x9F as Windows-1252, as browsers do. */
        *cp = v >= 0x80 && v <= 0x9F ? vt_cp1252((unsigned char)v) : v;
        return i;
    }
    char name[12];
    size_t len = 0;
    while (i < n && g_ascii_isalnum(s[i]) && len + 1 < sizeof(name))
        name[len++] = s[i++];
    name[len] = '\0';
    bool semi = i < n && s[i] == ';';
    if (len == 0 || (!semi && i < n && g_ascii_isalnum(s[i])))
        return 0;
    for (size_t k = 0; k < 96; k++)
        if (strcmp(name, latin1_entities[k]) == 0 && (semi || k == 0)) {
            *cp = 0xA0 + (uint32_t)k;
            return i + semi;
        }
    for (size_t k = 0; k < sizeof(other_entities) / sizeof(other_entities[0]); k++)
        if (strcmp(name, other_entities[k].name) == 0 && (semi || k < 4)) {
            *cp = other_entities[k].cp;
            return i + semi;
        }
    return 0;
}

/* Finds needle (lowercase ASCII) in s[0..n) ignoring ASCII case; n when absent. */
static size_t find_ci(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (g_ascii_strncasecmp(s + i, needle, m) == 0)
            return i;
    return n;
}

struct html {
    struct vt_buf *b;
    bool space;                         /* white space seen since the last character written */
    int pre;                            /* depth of <pre> */
    bool no_close_title, no_close_head; /* known absent: look once, not at every tag */
    int rc;
};

static void h_put(struct html *h, const char *s, size_t n)
{
    if (h->rc)
        return;
    if (h->space && h->b->len && h->b->data[h->b->len - 1] != '\n' &&
        h->b->data[h->b->len - 1] != ' ')
        h->rc = vt_buf_append(h->b, " ", 1);
    h->space = false;
    if (!h->rc)
        h->rc = vt_buf_append(h->b, s, n);
}

/* Ends the line; lines is how many line ends the text must end with (1: a
 * new line, 2: a blank line between paragraphs). hard adds one whatever is
 * there (<br>), up to one blank line. Nothing goes before the first text. */
static void h_break(struct html *h, int lines, bool hard)
{
    struct vt_buf *b = h->b;
    h->space = false;
    if (h->rc || b->len == 0)
        return;
    while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
        b->data[--b->len] = '\0';
    int have = 0;
    while (have < 2 && (size_t)have < b->len && b->data[b->len - 1 - (size_t)have] == '\n')
        have++;
    int want = hard ? (have < 2 ? have + 1 : 2) : lines;
    while (have < want && !h->rc) {
        h->rc = vt_buf_append(b, "\n", 1);
        have++;
    }
}

static bool tag_in(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

/* Handles the tag at s[0] == '<'; returns the bytes it takes (at least 1). */
static size_t h_tag(struct html *h, const char *s, size_t n)
{
    static const char *const paragraph[] = {"p",  "h1", "h2", "h3",    "h4",         "h5", "h6",
                                            "ul", "ol", "hr", "table", "blockquote", NULL};
    static const char *const line[] = {"div",     "li",      "tr",      "dt",       "dd",
                                       "section", "article", "header",  "footer",   "address",
                                       "center",  "form",    "caption", "fieldset", NULL};
    size_t i = 1;
    if (n >= 4 && memcmp(s, "<!--", 4) == 0) {
        size_t e = find_ci(s + 4, n - 4, "-->");
        return e == n - 4 ? n : 4 + e + 3;
    }
    if (i < n && (s[i] == '!' || s[i] == '?')) {
        const char *e = memchr(s, '>', n);
        return e ? (size_t)(e - s) + 1 : n;
    }
    bool close = i < n && s[i] == '/';
    i += close;
    if (i >= n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) {
        h_put(h, "<", 1); /* "a < b" in text */
        return 1;
    }
    char name[12];
    size_t len = 0;
    while (i < n && g_ascii_isalnum(s[i])) {
        if (len + 1 < sizeof(name))
            name[len++] = g_ascii_tolower(s[i]);
        i++;
    }
    name[len] = '\0';
    for (char q = 0; i < n; i++) { /* to the '>' outside quoted attribute values */
        if (q) {
            q = s[i] == q ? 0 : q;
        } else if (s[i] == '"' || s[i] == '\'') {
            q = s[i];
        } else if (s[i] == '>') {
            break;
        }
    }
    i = i < n ? i + 1 : n;
    if (!close && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
                   strcmp(name, "title") == 0 || strcmp(name, "head") == 0)) {
        bool *absent = name[0] == 't' ? &h->no_close_title : &h->no_close_head;
        if (name[0] != 's' && *absent)
            return i;
        char end[16];
        snprintf(end, sizeof(end), "</%s", name);
        size_t e = find_ci(s + i, n - i, end);
        if (e == n - i && name[0] != 's') {
            *absent = true;
            return i; /* an unclosed <title> or <head>: show what follows */
        }
        if (e == n - i)
            return n; /* an unclosed script or style runs to the end, as in a browser */
        const char *gt = memchr(s + i + e, '>', n - i - e);
        return gt ? (size_t)(gt - s) + 1 : n;
    }
    if (strcmp(name, "br") == 0) {
        h_break(h, 1, true);
    } else if (tag_in(name, paragraph)) {
        h_break(h, 2, false);
    } else if (tag_in(name, line)) {
        h_break(h, 1, false);
    } else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
        h->space = true;
    }
    if (strcmp(name, "pre") == 0) {
        h_break(h, 2, false);
        h->pre += close ? (h->pre > 0 ? -1 : 0) : 1;
    }
    return i;
}

/* Appends the readable text of the UTF-8 HTML s[0..n) to b: no tags, no
 * script or style, block ends as line ends, entities decoded, white space
 * collapsed (except in <pre>), at most one blank line in a row. */
int vt_html_to_text(struct vt_buf *b, const char *s, size_t n)
{
    struct html h = {b, false, 0, false, false, vt_buf_append(b, "", 0)};
    for (size_t i = 0; i < n && !h.rc;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<') {
            i += h_tag(&h, s + i, n - i);
        } else if (c == '&') {
            uint32_t cp = 0;
            size_t k = entity(s + i, n - i, &cp);
            if (k == 0) {
                h_put(&h, "&", 1);
                i++;
                continue;
            }
            i += k;
            if (cp == 0xA0 || cp == ' ') {
                h_put(&h, " ", 1); /* a space that is kept */
            } else if (cp == '\n' || cp == '\t' || cp == '\r' || cp == 0x0C) {
                h.space = true;
            } else if (cp >= 0x20 && cp != 0x7F && cp != 0xAD && cp != 0x200B && cp != 0xFEFF) {
                char u[6];
                if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                    cp = 0xFFFD;
                h_put(&h, u, (size_t)g_unichar_to_utf8(cp, u));
            }
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0C) {
            if (h.pre && c == '\n')
                h_break(&h, 1, true);
            else if (h.pre && c != '\r')
                h_put(&h, (const char *)&s[i], 1);
            else
                h.space = true;
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            i++;
        } else {
            gunichar ch = g_utf8_get_char_validated(s + i, (gssize)(n - i));
            size_t k = ch < (gunichar)-2 ? (size_t)g_utf8_skip[c] : 1; /* stay safe anyway */
            if (k > n - i)
                k = 1;
            h_put(&h, s + i, k);
            i += k;
        }
    }
    if (!h.rc)
        h_break(&h, 1, false);
    return h.rc;
}
