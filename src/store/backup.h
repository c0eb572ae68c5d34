/* backup.h - `ventanilla backup` and `ventanilla restore`: a consistent copy
 * of a data directory, taken while the daemon runs and takes intakes, and
 * putting such a copy back into a new data directory.
 *
 * Owns: the layout of a backup directory and its manifest.
 * Must not: write into a live data directory (backup only reads one; restore
 * writes only into an empty or new one) or overwrite anything.
 *
 * A backup directory is laid out like a data directory:
 *
 *   DEST/ventanilla.db        the database, one snapshot (vt_store_backup)
 *   DEST/audit.key            the key of the audit chain
 *   DEST/attachments/ab/ab... every attachment file, content-addressed
 *   DEST/manifest.json        written last: a backup without one is unfinished
 *
 * Everything in it is the owner's alone (directories 0700, files 0600).
 */
#ifndef VT_BACKUP_H
#define VT_BACKUP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Copies data_dir into dest, a new directory or an empty one (its parent
 * must exist), and prints a summary for the operator to out. Returns 0 when
 * the backup is written; *incomplete is then set when the data directory
 * lacks (or holds damaged) attachment files its database names, which the
 * backup records, warning on stderr. On failure returns a VT_E* code with a
 * sentence in err and leaves dest as it found it. */
int vt_backup_make(const char *data_dir, const char *dest, FILE *out, bool *incomplete, char *err,
                   size_t errlen);

/* Puts the backup in src back into data_dir, a new directory or an empty one
 * (a data directory in use is refused), after checking it against its
 * manifest; upgrades its schema when this program's is newer and verifies
 * the audit chain. Prints a summary to out. Returns 0, or a VT_E* code with
 * a sentence in err and data_dir left as it found it. */
int vt_backup_restore(const char *src, const char *data_dir, FILE *out, char *err, size_t errlen);

#endif
