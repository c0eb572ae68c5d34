/* fuzz_fts_query.c - libFuzzer driver for the staff queue's free-text
 * search: vt_queue_fts_query turns what staff type into an FTS5 query, which
 * runs here against an in-memory table with the queue's tokenizer. Aborts
 * when valid UTF-8 yields a query SQLite refuses (the staff member would get
 * an error instead of results) or the query overruns its buffer.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/queue.h"
#include "core/text.h"

static sqlite3 *db;
static sqlite3_stmt *st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE t USING fts5 (subject, body, tokenize = "
                         "'unicode61 remove_diacritics 2');"
                         "INSERT INTO t VALUES ('Alcantarillado en Fontibón', 'niño 2026');",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1", -1, &st, NULL) !=
                SQLITE_OK)
            abort();
    }
    char *q = malloc(size + 1), out[1024];
    if (!q)
        return 0;
    memcpy(q, data, size);
    q[size] = '\0';
    if (strlen(q) == size && vt_utf8_valid(q, size) && vt_queue_fts_query(q, out, sizeof(out))) {
        if (strlen(out) >= sizeof(out))
            abort();
        sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (rc != SQLITE_DONE)
            abort();
        sqlite3_reset(st);
    }
    free(q);
    return 0;
}
