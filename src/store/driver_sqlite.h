/* driver_sqlite.h - what the SQLite driver offers beyond db.h, to the store
 * only. Transitional: vt_db_sqlite_adopt lets the store hand its existing
 * connections to modules through db.h while it moves onto db.h itself.
 */
#ifndef VT_DRIVER_SQLITE_H
#define VT_DRIVER_SQLITE_H

struct vt_db;

/* A db.h connection over an open sqlite3 handle, which stays the caller's
 * (vt_db_close frees only the wrapper and its statements). NULL on ENOMEM. */
struct vt_db *vt_db_sqlite_adopt(void *handle);

#endif
