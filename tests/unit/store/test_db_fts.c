/* test_db_fts.c - full-text search behind store/db.h on the SQLite driver:
 * the query text made from what staff type (vt_db_fts_query), the subquery
 * of matching ids (vt_db_fts_ids_sql), and the two together finding rows of
 * an FTS5 table with the queue's tokenizer, accents and case ignored. */
#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "store/db.h"
#include "vt_test.h"

static void test_query_text(struct vt_db *db)
{
    char out[1024];
    ASSERT_TRUE(vt_db_fts_query(db, "  Fontibón, niño!  ", out, sizeof(out)));
    ASSERT_STREQ(out, "\"Fontibón\"* \"niño\"*");
    /* Quotes, stars and operators are not words: no syntax reaches FTS5. */
    ASSERT_TRUE(vt_db_fts_query(db, "\"a\" OR b* NOT (c)", out, sizeof(out)));
    ASSERT_STREQ(out, "\"a\"* \"OR\"* \"b\"* \"NOT\"* \"c\"*");
    ASSERT_TRUE(!vt_db_fts_query(db, " ,.;*\"() ", out, sizeof(out)));
    ASSERT_TRUE(!vt_db_fts_query(db, "", out, sizeof(out)));
    /* At most 12 words. */
    ASSERT_TRUE(vt_db_fts_query(db, "1 2 3 4 5 6 7 8 9 10 11 12 13 14", out, sizeof(out)));
    ASSERT_STREQ(out,
                 "\"1\"* \"2\"* \"3\"* \"4\"* \"5\"* \"6\"* \"7\"* \"8\"* \"9\"* \"10\"* \"11\"* "
                 "\"12\"*");
    /* A long word counts by its first 64 bytes, never half a character. */
    char word[200];
    memset(word, 'a', 63);
    strcpy(word + 63, "ñññ");
    ASSERT_TRUE(vt_db_fts_query(db, word, out, sizeof(out)));
    ASSERT_EQ(strlen(out), 1 + 63 + 2); /* the ñ cut at byte 64 is left out whole */
    /* Words that do not fit are left out; none fits: false. */
    ASSERT_TRUE(vt_db_fts_query(db, "uno dos", out, 10));
    ASSERT_STREQ(out, "\"uno\"*");
    ASSERT_TRUE(!vt_db_fts_query(db, "alcantarillado", out, 10));
}

static void test_ids_sql(struct vt_db *db)
{
    char sql[256], q[256];
    ASSERT_EQ(vt_db_fts_ids_sql(db, "items_fts", 3, sql, sizeof(sql)), 0);
    ASSERT_TRUE(strstr(sql, "?3") != NULL);
    ASSERT_EQ(vt_db_fts_ids_sql(db, "t; DROP TABLE x", 1, sql, sizeof(sql)), VT_EINVAL);
    ASSERT_EQ(vt_db_fts_ids_sql(db, "items_fts", 1, sql, 8), VT_EINVAL);

    ASSERT_EQ(vt_db_exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, subject TEXT, body TEXT);"
                             "CREATE VIRTUAL TABLE items_fts USING fts5 (subject, body, "
                             "content = 'items', content_rowid = 'id', "
                             "tokenize = 'unicode61 remove_diacritics 2');"
                             "INSERT INTO items VALUES (7, 'Alcantarillado en Fontibón', 'niño'),"
                             " (9, 'Basuras', 'en la calle 5');"
                             "INSERT INTO items_fts (rowid, subject, body) "
                             "SELECT id, subject, body FROM items;"),
              0);
    /* ?1 is the query; the subquery sits where the caller puts it. */
    ASSERT_EQ(vt_db_fts_ids_sql(db, "items_fts", 1, sql, sizeof(sql)), 0);
    char full[512];
    snprintf(full, sizeof(full), "SELECT count(*), COALESCE(min(m.id), 0) FROM (%s) m", sql);
    static const struct {
        const char *words;
        int n;
        int64_t id;
    } cases[] = {{"fontibon", 1, 7},     {"FONTIB", 1, 7}, {"nino alcantar", 1, 7},
                 {"calle basura", 1, 9}, {"en", 2, 7},     {"fontibon basuras", 0, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ASSERT_TRUE(vt_db_fts_query(db, cases[i].words, q, sizeof(q)));
        struct vt_db_stmt *st = vt_db_prepare_text(db, full);
        ASSERT_TRUE(st != NULL);
        vt_db_bind_text(st, 1, q);
        ASSERT_EQ(vt_db_step(st), VT_DB_ROW);
        ASSERT_EQ(vt_db_col_int(st, 0), cases[i].n);
        ASSERT_EQ(vt_db_col_int(st, 1), cases[i].id);
        vt_db_reset(st);
    }
}

int main(void)
{
    struct vt_db_options opt = {.driver = "sqlite", .path = ":memory:"};
    struct vt_db *db = NULL;
    char err[200];
    ASSERT_EQ(vt_db_open(&opt, &db, err, sizeof(err)), 0);
    test_query_text(db);
    test_ids_sql(db);
    vt_db_close(db);
    VT_TEST_END();
}
