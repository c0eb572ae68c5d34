/* driver_sqlite.h - what the SQLite driver offers beyond db.h.
 *
 * Transitional (issue 13): vt_db_sqlite_raw hands the store's
 * vt_store_tx_stmt and vt_store_reader_stmt* SQLite's own statement handle
 * for the modules that still call SQLite directly. It goes, with those
 * functions, once every module speaks db.h.
 */
#ifndef VT_DRIVER_SQLITE_H
#define VT_DRIVER_SQLITE_H

struct vt_db_stmt;

/* SQLite's handle of the statement st, or NULL for NULL or a statement of
 * another driver. It stays st's: reset it, never finalize it. */
void *vt_db_sqlite_raw(struct vt_db_stmt *st);

#endif
