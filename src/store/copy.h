/* copy.h - `ventanilla store copy`: an entity's SQLite store moved into an
 * empty PostgreSQL database (issue 14, point 4).
 *
 * Owns: the move. Every table of the schema is found in the databases'
 * catalogs (none is named here but schema_migrations, the migrator's own),
 * copied whole (every column, ids kept) in foreign key order inside one
 * PostgreSQL transaction, row by row from a single SQLite snapshot; the
 * attachment files and the audit key go into the target's data directory.
 * Must not: change the SQLite store, or leave data in the target when it
 * fails: the target's database is changed only by its migrations (when it
 * had no schema) until the one commit that fills it.
 */
#ifndef VT_COPY_H
#define VT_COPY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store/migrate.h"

struct vt_store_copy_options {
    struct vt_store_place from; /* a SQLite store: its data directory */
    struct vt_store_place to;   /* store.backend postgresql, and its data directory */
    /* How messages name each side (the config files given). */
    const char *from_name, *to_name;
};

/* Copies opt->from into opt->to, which must hold no data (it is migrated
 * first when it has no schema yet), verifies the copy's audit chain and
 * prints a summary to out (progress too). Returns 0 when the copy is
 * committed and verifies; *incomplete is then set when attachment files the
 * rows name were missing or damaged in the source (warned about on
 * stderr). On failure returns a VT_E* code with a sentence in err, and the
 * target's database holds no copied row. */
int vt_store_copy(const struct vt_store_copy_options *opt, FILE *out, bool *incomplete, char *err,
                  size_t errlen);

#endif
