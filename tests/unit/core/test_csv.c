/* test_csv.c - unit tests for csv.c, the reader behind `ventanilla contacts
 * import`: quoting, escaped quotes, embedded line breaks, the BOM, Excel's
 * semicolons, CRLF, limits, and malformed input reported at the right line.
 *
 * Each parse is flattened into one string, "LINE:[field|field]" per record,
 * so that a failure shows the whole result at once.
 */
#include "core/csv.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "vt_test.h"

struct result {
    char text[1024];
    size_t records;
    size_t stop_after; /* non-zero: the callback returns 42 after this many records */
};

static int collect(void *ctx, size_t line_no, char **fields, size_t n_fields)
{
    struct result *res = ctx;
    size_t len = strlen(res->text);
    len += (size_t)snprintf(res->text + len, sizeof(res->text) - len, "%zu:[", line_no);
    for (size_t i = 0; i < n_fields && len < sizeof(res->text); i++)
        len += (size_t)snprintf(res->text + len, sizeof(res->text) - len, "%s%s", i ? "|" : "",
                                fields[i]);
    if (len < sizeof(res->text))
        snprintf(res->text + len, sizeof(res->text) - len, "]");
    /* Fields may be modified by the callback. */
    if (n_fields)
        fields[0][0] = '\0';
    return res->stop_after && ++res->records == res->stop_after ? 42 : 0;
}

/* Parses s (strlen) with up to 8 fields; returns the rc, fills res. */
static int parse(const char *s, struct result *res, size_t *line)
{
    memset(res, 0, sizeof(*res));
    return vt_csv_parse(s, strlen(s), 8, collect, res, line);
}

#define EXPECT_CSV(input, expected)                                                                \
    do {                                                                                           \
        struct result res_;                                                                        \
        size_t line_ = 99;                                                                         \
        ASSERT_EQ(parse((input), &res_, &line_), 0);                                               \
        ASSERT_STREQ(res_.text, (expected));                                                       \
        ASSERT_EQ(line_, 0);                                                                       \
    } while (0)

#define EXPECT_BAD(input, rc, line)                                                                \
    do {                                                                                           \
        struct result res_;                                                                        \
        size_t line_ = 99;                                                                         \
        ASSERT_EQ(parse((input), &res_, &line_), (rc));                                            \
        ASSERT_EQ(line_, (line));                                                                  \
    } while (0)

static void test_plain(void)
{
    EXPECT_CSV("correo,grupo\nana@x.co,medios\n", "1:[correo|grupo]2:[ana@x.co|medios]");
    /* No final newline. */
    EXPECT_CSV("a,b\nc,d", "1:[a|b]2:[c|d]");
    /* Empty fields, leading and trailing. */
    EXPECT_CSV(",a,\n,,\n", "1:[|a|]2:[||]");
    /* A single column. */
    EXPECT_CSV("uno\ndos\n", "1:[uno]2:[dos]");
    /* Spaces are data. */
    EXPECT_CSV(" a , b \n", "1:[ a | b ]");
    /* Empty input, or only line ends or a BOM: no records. */
    EXPECT_CSV("", "");
    EXPECT_CSV("\n\r\n", "");
    EXPECT_CSV("\xEF\xBB\xBF", "");
    /* Empty lines are skipped but counted. */
    EXPECT_CSV("a\n\n\nb\n\n", "1:[a]4:[b]");
    /* UTF-8 passes through untouched. */
    EXPECT_CSV("Niños,Medellín\n", "1:[Niños|Medellín]");
}

static void test_quotes(void)
{
    EXPECT_CSV("\"a,b\",c\n", "1:[a,b|c]");
    EXPECT_CSV("\"Pérez, Ana\",\"\"\n", "1:[Pérez, Ana|]");
    /* "" inside quotes is one quote. */
    EXPECT_CSV("\"dijo \"\"hola\"\"\",x\n", "1:[dijo \"hola\"|x]");
    EXPECT_CSV("\"\"\"\"\n", "1:[\"]");
    /* A quoted last field without a final newline. */
    EXPECT_CSV("a,\"b\"", "1:[a|b]");
    EXPECT_CSV("a,\"\"", "1:[a|]");
    /* A quoted field that only holds a separator. */
    EXPECT_CSV("\",\",\";\"\n", "1:[,|;]");
}

static void test_line_ends(void)
{
    EXPECT_CSV("a,b\r\nc,d\r\n", "1:[a|b]2:[c|d]");
    /* Mixed line ends, and a lone CR (old Mac files). */
    EXPECT_CSV("a\r\nb\nc\rd", "1:[a]2:[b]3:[c]4:[d]");
    /* Line breaks inside quotes are kept as they are and counted. */
    EXPECT_CSV("\"Calle 1\nBarrio Centro\",x\ny,z\n", "1:[Calle 1\nBarrio Centro|x]3:[y|z]");
    EXPECT_CSV("\"a\r\nb\r\nc\",d\r\ne\r\n", "1:[a\r\nb\r\nc|d]4:[e]");
    EXPECT_CSV("\"a\rb\"\nc\n", "1:[a\rb]3:[c]");
}

static void test_bom_and_semicolons(void)
{
    EXPECT_CSV("\xEF\xBB\xBF"
               "correo,grupo\nana@x.co,medios\n",
               "1:[correo|grupo]2:[ana@x.co|medios]");
    /* Excel in a Spanish locale. */
    EXPECT_CSV("\xEF\xBB\xBF"
               "correo;grupo;nombre\r\nana@x.co;medios;\"Pérez; Ana\"\r\n",
               "1:[correo|grupo|nombre]2:[ana@x.co|medios|Pérez; Ana]");
    /* With ';' as separator, commas are data. */
    EXPECT_CSV("nombre;valor\nPérez, Ana;1,5\n", "1:[nombre|valor]2:[Pérez, Ana|1,5]");
    /* A header with both keeps ','. */
    EXPECT_CSV("a;b,c\nd;e,f\n", "1:[a;b|c]2:[d;e|f]");
    /* Separators inside quotes in the header do not count. */
    EXPECT_CSV("\"a,b\";c\nd;e\n", "1:[a,b|c]2:[d|e]");
    EXPECT_CSV("\"a;b\",c\n", "1:[a;b|c]");
    /* A BOM anywhere else is data. */
    EXPECT_CSV("a\n\xEF\xBB\xBF"
               "b\n",
               "1:[a]2:[\xEF\xBB\xBF"
               "b]");
}

static void test_malformed(void)
{
    /* Unterminated quote: the line where the field began. */
    EXPECT_BAD("a,b\n\"abierta,c\nd,e\n", VT_EINVAL, 2);
    EXPECT_BAD("\"", VT_EINVAL, 1);
    EXPECT_BAD("a\nb\n\"c\"\"", VT_EINVAL, 3);
    /* Stray quote inside an unquoted field. */
    EXPECT_BAD("a,b\nc,d\"e\n", VT_EINVAL, 2);
    EXPECT_BAD("a,b\n c,\"d\"\nx\"", VT_EINVAL, 3);
    EXPECT_BAD("a, \"b\"\n", VT_EINVAL, 1);
    /* Text after a closing quote; the line counts the quoted line breaks. */
    EXPECT_BAD("a\n\"b\"c\n", VT_EINVAL, 2);
    EXPECT_BAD("a\n\"b\nc\nd\"e\n", VT_EINVAL, 4);
    /* Records before the error were delivered. */
    struct result res;
    size_t line;
    ASSERT_EQ(parse("a,b\nc,d\"e\n", &res, &line), VT_EINVAL);
    ASSERT_STREQ(res.text, "1:[a|b]");
    /* NUL bytes (a UTF-16 file, say) are rejected, not truncated. */
    memset(&res, 0, sizeof(res));
    ASSERT_EQ(vt_csv_parse("a,b\nc\0d\n", 8, 8, collect, &res, &line), VT_EINVAL);
    ASSERT_EQ(line, 2);
    ASSERT_EQ(vt_csv_parse("\"a\0\"\n", 5, 8, collect, &res, &line), VT_EINVAL);
    ASSERT_EQ(line, 1);
}

static void test_limits(void)
{
    struct result res = {0};
    size_t line = 99;
    const char *s = "a,b,c\nd,e,f,g\n";
    ASSERT_EQ(vt_csv_parse(s, strlen(s), 3, collect, &res, &line), VT_ETOOBIG);
    ASSERT_EQ(line, 2);
    ASSERT_STREQ(res.text, "1:[a|b|c]");
    /* A multi-line record over the limit is reported at its first line. */
    memset(&res, 0, sizeof(res));
    s = "a\n\"b\nc\",d,e,f\n";
    ASSERT_EQ(vt_csv_parse(s, strlen(s), 3, collect, &res, &line), VT_ETOOBIG);
    ASSERT_EQ(line, 2);

    /* The callback stops the parse; its value comes back. */
    memset(&res, 0, sizeof(res));
    res.stop_after = 2;
    s = "a\n\nb\nc\n";
    ASSERT_EQ(vt_csv_parse(s, strlen(s), 8, collect, &res, &line), 42);
    ASSERT_EQ(line, 3);
    ASSERT_STREQ(res.text, "1:[a]3:[b]");

    /* Only len bytes are read. */
    memset(&res, 0, sizeof(res));
    ASSERT_EQ(vt_csv_parse("a,b\nc,d", 5, 8, collect, &res, &line), 0);
    ASSERT_STREQ(res.text, "1:[a|b]2:[c]");

    /* Bad arguments. */
    ASSERT_EQ(vt_csv_parse("a", 1, 0, collect, &res, &line), VT_EINVAL);
    ASSERT_EQ(vt_csv_parse("a", 1, 8, NULL, &res, NULL), VT_EINVAL);
    ASSERT_EQ(vt_csv_parse(NULL, 1, 8, collect, &res, NULL), VT_EINVAL);
    ASSERT_EQ(vt_csv_parse(NULL, 0, 8, collect, &res, NULL), 0);

    /* Many fields and a long field grow the scratch buffers. */
    static char big[20000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s%d", i ? "," : "", i % 10);
    big[n++] = '\n';
    memset(big + n, 'x', 5000);
    n += 5000;
    memset(&res, 0, sizeof(res));
    ASSERT_EQ(vt_csv_parse(big, n, 1000, collect, &res, &line), 0);
    ASSERT_TRUE(strncmp(res.text, "1:[0|1|2|3", 10) == 0);
    ASSERT_EQ(vt_csv_parse(big, n, 999, collect, &res, &line), VT_ETOOBIG);
}

int main(void)
{
    test_plain();
    test_quotes();
    test_line_ends();
    test_bom_and_semicolons();
    test_malformed();
    test_limits();
    VT_TEST_END();
}
