/* store_admin.c - the store's commands on a data directory rather than an
 * open store (store.h): `ventanilla audit verify`, `contacts import`, and
 * the database half of `backup` and `restore` (backup.c does the rest).
 *
 * Owns: the audit chain's verification walk, the contacts upsert, and what
 * a copy of the database is read for (struct vt_store_summary).
 * Must not: run beside the daemon's writer except for the backup copy,
 * which is one read snapshot and holds up no writer.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/migrate.h"

static const char SQL_EVENTS[] =
    "SELECT id, coalesce(item_id, 0), at, actor, action, payload, public, prev_hash, hash "
    "FROM audit_events ORDER BY id";
static const char SQL_HEAD[] = "SELECT last_event_id, last_hash FROM audit_head WHERE id = 1";
static const char SQL_CONTACT_PUT[] =
    "INSERT INTO contacts (key_type, key, group_id, label) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (key_type, key) DO UPDATE SET group_id = excluded.group_id, "
    "label = excluded.label";
static const char SQL_SUMMARY[] =
    "SELECT (SELECT coalesce(max(version), 0) FROM schema_migrations), "
    "(SELECT count(*) FROM items), (SELECT count(*) FROM audit_events), "
    "(SELECT coalesce(max(last_event_id), 0) FROM audit_head), "
    "(SELECT last_hash FROM audit_head WHERE id = 1), "
    "(SELECT radicado FROM items WHERE radicado IS NOT NULL "
    "ORDER BY radicado_year DESC, radicado_seq DESC LIMIT 1)";

/* ---- audit verify ---- */

/* Walks the events in id order, checking each against the one before it. */
static int walk_chain(struct vt_db *db, const unsigned char *key, char prev[65], int64_t *last_id,
                      int64_t *n_events, int64_t *bad_id, char *err, size_t errlen)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_EVENTS);
    if (!st)
        return VT_ESTORE;
    int step, rc = 0;
    while ((step = vt_db_step(st)) == VT_DB_ROW) {
        struct vt_audit_event ev = {
            vt_db_col_int(st, 0),      vt_db_col_int(st, 1),  vt_db_col_int(st, 2),
            vt_db_col_text(st, 3),     vt_db_col_text(st, 4), vt_db_col_text(st, 5),
            (int)vt_db_col_int(st, 6),
        };
        const char *row_prev = vt_db_col_text(st, 7);
        const char *row_hash = vt_db_col_text(st, 8);
        char hash[65];
        *bad_id = ev.id;
        if (ev.id != *last_id + 1) {
            snprintf(err, errlen, "event %lld is missing (deleted or renumbered)",
                     (long long)(*last_id + 1));
            *bad_id = *last_id + 1;
            rc = VT_ETAMPER;
            break;
        }
        if (!row_prev || strcmp(row_prev, prev) != 0) {
            snprintf(err, errlen, "its previous hash does not match event %lld",
                     (long long)*last_id);
            rc = VT_ETAMPER;
            break;
        }
        vt_audit_hash(key, prev, &ev, hash);
        if (!row_hash || strcmp(row_hash, hash) != 0) {
            snprintf(err, errlen, "its contents do not match its hash (altered or forged)");
            rc = VT_ETAMPER;
            break;
        }
        memcpy(prev, hash, 65);
        *last_id = ev.id;
        (*n_events)++;
    }
    vt_db_reset(st);
    if (rc == 0 && step != VT_DB_DONE)
        rc = VT_ESTORE;
    return rc;
}

int vt_store_audit_verify(const struct vt_store_place *place, int64_t *n_events, int64_t *bad_id,
                          char *err, size_t errlen)
{
    struct vt_db *db = NULL;
    unsigned char key[VT_AUDIT_KEY_BYTES];
    char prev[65] = VT_AUDIT_GENESIS;
    int64_t last_id = 0;
    *n_events = 0;
    *bad_id = 0;
    int rc = vt_migrate_open_current(place, false, &db, err, errlen);
    if (rc)
        return rc;
    if ((rc = vt_store_key_load(place, key, err, errlen)))
        goto done;
    if ((rc = walk_chain(db, key, prev, &last_id, n_events, bad_id, err, errlen)))
        goto done;
    /* The head catches a deleted tail. */
    int64_t head_id = 0;
    char head_hash[65] = VT_AUDIT_GENESIS;
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_HEAD);
    if (!st) {
        rc = VT_ESTORE;
        goto done;
    }
    if (vt_db_step(st) == VT_DB_ROW) {
        head_id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, head_hash, sizeof(head_hash));
    }
    vt_db_reset(st);
    if (head_id != last_id || strcmp(head_hash, prev) != 0) {
        *bad_id = last_id + 1;
        snprintf(err, errlen, "the chain ends at event %lld but its head records event %lld",
                 (long long)last_id, (long long)head_id);
        rc = VT_ETAMPER;
        goto done;
    }
    *bad_id = 0;
done:
    sodium_memzero(key, sizeof(key));
    vt_db_close(db);
    return rc;
}

/* ---- contacts import ---- */

int vt_store_contacts_import(const struct vt_store_place *place, const struct vt_contact *rows,
                             size_t n, char *err, size_t errlen)
{
    struct vt_db *db = NULL;
    int rc = vt_migrate_open_current(place, false, &db, err, errlen);
    if (rc)
        return rc;
    if (vt_db_begin(db, true))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        struct vt_db_stmt *st = vt_db_prepare(db, SQL_CONTACT_PUT);
        if (!st)
            goto fail;
        vt_db_bind_text(st, 1, rows[i].key_type);
        vt_db_bind_text(st, 2, rows[i].key);
        vt_db_bind_text(st, 3, rows[i].group);
        vt_db_bind_text(st, 4, rows[i].label && *rows[i].label ? rows[i].label : NULL);
        if (vt_db_run(st))
            goto fail;
    }
    if (vt_db_commit(db))
        goto fail;
    vt_db_close(db);
    return 0;
fail:
    snprintf(err, errlen, "cannot import contacts: %s", vt_db_errmsg(db));
    vt_db_rollback(db);
    vt_db_close(db);
    return VT_ESTORE;
}

/* ---- backups ---- */

int vt_store_backup(const char *data_dir, const char *dest_file, char *err, size_t errlen)
{
    char src_path[4200];
    vt_migrate_db_path(data_dir, src_path, sizeof(src_path));
    if (access(src_path, F_OK) != 0) {
        snprintf(err, errlen, "there is no database at %s", src_path);
        return VT_ENOTFOUND;
    }
    int fd = open(dest_file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dest_file, strerror(errno));
        return errno == EEXIST ? VT_EEXIST : VT_EIO;
    }
    close(fd);
    struct vt_db *src = NULL;
    struct vt_db_options opt = {.path = src_path};
    int rc = vt_db_open(&opt, &src, err, errlen);
    if (rc) {
        unlink(dest_file);
        return VT_ESTORE;
    }
    rc = vt_db_copy_to(src, dest_file, err, errlen);
    vt_db_close(src);
    return rc;
}

/* The rows that name attachment files, in every table that has them. */
static const char *const file_tables[][2] = {
    {"attachments", "SELECT sha256 FROM attachments"},
    {"response_files", "SELECT sha256 FROM response_files"},
    {"wa_media", "SELECT sha256 FROM wa_media WHERE sha256 IS NOT NULL"},
};

/* Calls each_file for every attachment file the copy's rows name: 0,
 * VT_ESTORE, or each_file's non-zero return in *stopped. */
static int each_named_file(struct vt_db *db, int (*each_file)(void *ctx, const char *sha256),
                           void *ctx, int *stopped)
{
    /* One UNION of the tables this copy's schema has: each name once. */
    char sql[512] = "";
    for (size_t t = 0; t < sizeof(file_tables) / sizeof(file_tables[0]); t++)
        if (vt_db_table_exists(db, file_tables[t][0]) == 1)
            snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s%s", sql[0] ? " UNION " : "",
                     file_tables[t][1]);
    if (!sql[0])
        return 0;
    struct vt_db_stmt *st = vt_db_prepare_text(db, sql);
    if (!st)
        return VT_ESTORE;
    int step;
    while ((step = vt_db_step(st)) == VT_DB_ROW)
        if ((*stopped = each_file(ctx, vt_db_col_str(st, 0))))
            break;
    vt_db_reset(st);
    return *stopped || step == VT_DB_DONE ? 0 : VT_ESTORE;
}

int vt_store_summary(const char *db_file, struct vt_store_summary *out,
                     int (*each_file)(void *ctx, const char *sha256), void *ctx, char *err,
                     size_t errlen)
{
    struct vt_db *db = NULL;
    struct vt_db_stmt *st = NULL;
    memset(out, 0, sizeof(*out));
    struct vt_db_options opt = {.path = db_file, .read_only = true, .immutable = true};
    int rc = vt_db_open(&opt, &db, err, errlen);
    if (rc)
        return VT_ESTORE;
    if (vt_db_table_exists(db, "schema_migrations") != 1 || vt_db_table_exists(db, "items") != 1 ||
        vt_db_table_exists(db, "audit_events") != 1) {
        snprintf(err, errlen, "%s is not a ventanilla database", db_file);
        rc = VT_ESTORE;
        goto done;
    }
    if (!(st = vt_db_prepare(db, SQL_SUMMARY)) || vt_db_step(st) != VT_DB_ROW) {
        vt_db_reset(st);
        goto sqlfail;
    }
    out->schema_version = (int)vt_db_col_int(st, 0);
    out->items = vt_db_col_int(st, 1);
    out->audit_events = vt_db_col_int(st, 2);
    out->audit_head_id = vt_db_col_int(st, 3);
    vt_db_col_copy(st, 4, out->audit_head_hash, sizeof(out->audit_head_hash));
    vt_db_col_copy(st, 5, out->last_radicado, sizeof(out->last_radicado));
    vt_db_reset(st);
    int stopped = 0;
    if (each_file && each_named_file(db, each_file, ctx, &stopped))
        goto sqlfail;
    rc = stopped;
    goto done;
sqlfail:
    snprintf(err, errlen, "cannot read %s: %s", db_file, vt_db_errmsg(db));
    rc = VT_ESTORE;
done:
    vt_db_close(db);
    return rc;
}
