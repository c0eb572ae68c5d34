/* fuzz_fts_query.c - libFuzzer driver for the staff queue's free-text
 * search: vt_db_fts_query turns what staff type into the database's
 * full-text query, which runs here, through the SQL vt_db_fts_ids_sql gives,
 * against an in-memory SQLite table with the queue's tokenizer. Aborts when
 * valid UTF-8 yields a query the database refuses (the staff member would get
 * an error instead of results) or the query overruns its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "store/db.h"

static struct vt_db *db;
static char sql[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        struct vt_db_options opt = {.driver = "sqlite", .path = ":memory:"};
        char err[200];
        if (vt_db_open(&opt, &db, err, sizeof(err)) ||
            vt_db_exec(db, "CREATE VIRTUAL TABLE t USING fts5 (subject, body, tokenize = "
                           "'unicode61 remove_diacritics 2');"
                           "INSERT INTO t VALUES ('Alcantarillado en Fontibón', 'niño 2026');") ||
            vt_db_fts_ids_sql(db, "t", 1, sql, sizeof(sql)))
            abort();
    }
    char *q = malloc(size + 1), out[1024];
    if (!q)
        return 0;
    memcpy(q, data, size);
    q[size] = '\0';
    if (strlen(q) == size && vt_utf8_valid(q, size) && vt_db_fts_query(db, q, out, sizeof(out))) {
        if (strlen(out) >= sizeof(out))
            abort();
        struct vt_db_stmt *st = vt_db_prepare(db, sql);
        if (!st)
            abort();
        vt_db_bind_text(st, 1, out);
        int rc;
        while ((rc = vt_db_step(st)) == VT_DB_ROW)
            ;
        vt_db_reset(st);
        if (rc != VT_DB_DONE)
            abort();
    }
    free(q);
    return 0;
}
