/* backup.c - `ventanilla backup` and `ventanilla restore` (backup.h).
 *
 * Invariants:
 *  1. The database is copied first, the attachment files after. A file is
 *     written durably before the commit whose rows name it and is never
 *     changed or removed, so every file the copied database names is on disk
 *     by the time the files are listed. (The other order would miss the
 *     files of items committed between the two steps.)
 *  2. The manifest is written last, atomically (temporary file, fsync,
 *     rename). Restore refuses a directory without one.
 *  3. Nothing is overwritten: backup writes only into a new or empty DEST,
 *     restore only into a new or empty data directory, which it locks as the
 *     daemon does so none can start on it halfway. On failure both remove
 *     what they wrote.
 *  4. An attachment file is copied only when its content has the SHA-256 its
 *     name says; restore checks the database copy against the manifest's
 *     checksum before using it and the audit chain after.
 */
#include "store/backup.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/text.h"
#include "store/attach.h"
#include "store/store.h"

#define MANIFEST "manifest.json"
#define FORMAT "ventanilla-backup"
#define FORMAT_VERSION 1
#define PATH_LEN 4400

/* ---- files ---- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool is_sha_name(const char *s)
{
    return vt_attach_hex(s, 64);
}

/* out = dir/name; VT_ERANGE when it does not fit. */
static int join(char *out, size_t n, const char *dir, const char *name)
{
    int w = snprintf(out, n, "%s/%s", dir, name);
    return w < 0 || (size_t)w >= n ? VT_ERANGE : 0;
}

/* Whether dir exists and how many entries it holds (lost+found, which a
 * new file system has, does not count). */
static int dir_state(const char *dir, bool *exists, size_t *entries, char *err, size_t errlen)
{
    *exists = false;
    *entries = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return VT_EIO;
    }
    *exists = true;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "lost+found"))
            (*entries)++;
    closedir(d);
    return 0;
}

/* Makes dir the owner's alone: created 0700, or an empty one made 0700. */
static int own_dir(const char *dir, bool exists, char *err, size_t errlen)
{
    if (exists ? chmod(dir, 0700) : mkdir(dir, 0700)) {
        snprintf(err, errlen, "cannot %s %s: %s", exists ? "use" : "create", dir, strerror(errno));
        return VT_EIO;
    }
    return 0;
}

/* Removes everything under dir that is not lost+found (what this module
 * wrote into a directory that was empty), depth first. */
static void remove_contents(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 4) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (depth == 0 && !strcmp(e->d_name, "lost+found")))
            continue;
        char p[PATH_LEN];
        struct stat st;
        if (join(p, sizeof(p), dir, e->d_name))
            continue;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_contents(p, depth + 1);
            rmdir(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
}

/* Undoes what was written into dir: its contents, and dir itself when it
 * did not exist before. */
static void undo_dir(const char *dir, bool existed)
{
    remove_contents(dir, 0);
    if (!existed)
        rmdir(dir);
}

/* Copies src into dst (new, 0600), fsync'd; the SHA-256 of the bytes copied
 * goes into sha (lowercase hex) and their count into *bytes. */
static int copy_file(const char *src, const char *dst, char sha[65], int64_t *bytes, char *err,
                     size_t errlen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = VT_EIO;
    crypto_hash_sha256_state h;
    unsigned char buf[65536], digest[crypto_hash_sha256_BYTES];
    *bytes = 0;
    if (in < 0) {
        snprintf(err, errlen, "cannot read %s: %s", src, strerror(errno));
        return errno == ENOENT ? VT_ENOTFOUND : VT_EIO;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dst, strerror(errno));
        goto done;
    }
    crypto_hash_sha256_init(&h);
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", src, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
                goto done;
            }
            off += w;
        }
        *bytes += n;
    }
    if (fsync(out) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
        goto done;
    }
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(sha, 65, digest, sizeof(digest));
    rc = 0;
done:
    if (out >= 0 && close(out) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
        rc = VT_EIO;
    }
    close(in);
    if (rc && out >= 0)
        unlink(dst);
    return rc;
}

/* The SHA-256 (hex) and size of a file. */
static int file_sha(const char *path, char sha[65], int64_t *bytes, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    crypto_hash_sha256_state h;
    unsigned char buf[65536], digest[crypto_hash_sha256_BYTES];
    *bytes = 0;
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return VT_EIO;
    }
    crypto_hash_sha256_init(&h);
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            close(fd);
            return VT_EIO;
        }
        crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
        *bytes += n;
    }
    close(fd);
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(sha, 65, digest, sizeof(digest));
    return 0;
}

/* ---- attachments ---- */

struct files {
    const char *from, *to; /* data directories: attachments/ below each */
    int64_t count, bytes;
    cJSON *damaged; /* names whose content does not match (backup), or NULL */
    bool made_top;
};

/* Copies every attachment file of f->from into f->to, each checked against
 * its name. A damaged one is listed in f->damaged when that is set (backup:
 * copy the rest, say so), else it is an error (restore). */
static int copy_attachments(struct files *f, char *err, size_t errlen)
{
    char top[PATH_LEN], dst_top[PATH_LEN];
    snprintf(top, sizeof(top), "%s/attachments", f->from);
    snprintf(dst_top, sizeof(dst_top), "%s/attachments", f->to);
    DIR *d = opendir(top);
    if (!d) {
        if (errno == ENOENT)
            return 0; /* no attachment yet */
        snprintf(err, errlen, "cannot read %s: %s", top, strerror(errno));
        return VT_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        const char *sub = e->d_name;
        if (!vt_attach_hex(sub, 2))
            continue;
        char sdir[PATH_LEN], ddir[PATH_LEN];
        if (join(sdir, sizeof(sdir), top, sub) || join(ddir, sizeof(ddir), dst_top, sub)) {
            snprintf(err, errlen, "the path %s is too long", top);
            rc = VT_ERANGE;
            break;
        }
        DIR *s = opendir(sdir);
        if (!s)
            continue; /* not a directory */
        bool made_sub = false;
        struct dirent *fe;
        while (rc == 0 && (fe = readdir(s))) {
            /* Temporary files (".tmp-...") and anything else are not attachments. */
            if (!is_sha_name(fe->d_name) || strncmp(fe->d_name, sub, 2) != 0)
                continue;
            if (!f->made_top) {
                if (mkdir(dst_top, 0700) != 0) {
                    snprintf(err, errlen, "cannot create %s: %s", dst_top, strerror(errno));
                    rc = VT_EIO;
                    break;
                }
                f->made_top = true;
            }
            if (!made_sub) {
                if (mkdir(ddir, 0700) != 0) {
                    snprintf(err, errlen, "cannot create %s: %s", ddir, strerror(errno));
                    rc = VT_EIO;
                    break;
                }
                made_sub = true;
            }
            char sp[PATH_LEN], dp[PATH_LEN], sha[65];
            int64_t n;
            if (join(sp, sizeof(sp), sdir, fe->d_name) || join(dp, sizeof(dp), ddir, fe->d_name)) {
                snprintf(err, errlen, "the path %s is too long", sdir);
                rc = VT_ERANGE;
                break;
            }
            if ((rc = copy_file(sp, dp, sha, &n, err, errlen)))
                break;
            if (strcmp(sha, fe->d_name) != 0) {
                unlink(dp);
                if (!f->damaged) {
                    snprintf(err, errlen,
                             "the attachment %s does not match its name: the file is damaged", sp);
                    rc = VT_ETAMPER;
                    break;
                }
                fprintf(stderr,
                        "backup: warning: %s does not match its name (the file is damaged); "
                        "not copied\n",
                        sp);
                cJSON_AddItemToArray(f->damaged, cJSON_CreateString(fe->d_name));
                continue;
            }
            f->count++;
            f->bytes += n;
        }
        closedir(s);
        if (rc == 0 && made_sub && vt_attach_fsync(ddir)) {
            snprintf(err, errlen, "cannot write %s", ddir);
            rc = VT_EIO;
        }
    }
    closedir(d);
    if (rc == 0 && f->made_top && vt_attach_fsync(dst_top)) {
        snprintf(err, errlen, "cannot write %s", dst_top);
        rc = VT_EIO;
    }
    return rc;
}

/* vt_store_summary's each_file: is the named file in dir's attachments? */
struct presence {
    const char *dir;
    const cJSON *excused; /* restore: names the backup recorded as missing */
    cJSON *missing;       /* backup: collects them; restore: NULL */
    int64_t n_missing, n_excused;
    char first[65];
};

static bool listed(const cJSON *list, const char *name)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
    {
        if (cJSON_IsString(x) && strcmp(x->valuestring, name) == 0)
            return true;
    }
    return false;
}

static int check_present(void *ctx, const char *sha)
{
    struct presence *p = ctx;
    char path[PATH_LEN];
    bool ok = is_sha_name(sha);
    if (ok) {
        snprintf(path, sizeof(path), "%s/attachments/%.2s/%s", p->dir, sha, sha);
        ok = access(path, F_OK) == 0;
    }
    if (ok)
        return 0;
    if (p->excused && listed(p->excused, sha)) {
        p->n_excused++;
        return 0;
    }
    if (!p->n_missing)
        snprintf(p->first, sizeof(p->first), "%.64s", sha);
    p->n_missing++;
    if (p->missing)
        cJSON_AddItemToArray(p->missing, cJSON_CreateString(sha));
    return 0;
}

/* ---- the manifest ---- */

static void utc_text(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_manifest(const char *dest, const cJSON *m, char *err, size_t errlen)
{
    char tmp[PATH_LEN], path[PATH_LEN];
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dest, MANIFEST);
    snprintf(path, sizeof(path), "%s/%s", dest, MANIFEST);
    char *text = cJSON_Print(m);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return VT_ENOMEM;
    }
    size_t len = strlen(text);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc = VT_EIO;
    if (fd >= 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
        fsync(fd) == 0 && close(fd) == 0) {
        fd = -1;
        if (rename(tmp, path) == 0 && vt_attach_fsync(dest) == 0)
            rc = 0;
    }
    if (fd >= 0)
        close(fd);
    if (rc) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(text);
    return rc;
}

static cJSON *read_manifest(const char *src, char *err, size_t errlen)
{
    char path[PATH_LEN];
    snprintf(path, sizeof(path), "%s/%s", src, MANIFEST);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen,
                 errno == ENOENT ? "%s has no " MANIFEST
                                   ": it is not a ventanilla backup, or its backup did not finish"
                                 : "cannot read %s/" MANIFEST,
                 src);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && len < ((size_t)64 << 20)) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *p = realloc(buf, cap);
            if (!p)
                break;
            buf = p;
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    cJSON *m = buf ? cJSON_ParseWithLength(buf, len) : NULL;
    free(buf);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(m, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(m, "format_version");
    if (!m || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, FORMAT) != 0 ||
        !cJSON_IsNumber(ver)) {
        snprintf(err, errlen, "%s is not a ventanilla backup manifest", path);
        cJSON_Delete(m);
        return NULL;
    }
    if (ver->valueint != FORMAT_VERSION) {
        snprintf(err, errlen,
                 "%s is a backup of format %d; this ventanilla reads format %d: use the "
                 "ventanilla that made it",
                 src, ver->valueint, FORMAT_VERSION);
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* A number or string member of the manifest; NULL when absent or mistyped. */
static const cJSON *member(const cJSON *m, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');
    if (!dot)
        return cJSON_GetObjectItemCaseSensitive(m, path);
    snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, key), dot + 1);
}

static int64_t member_int(const cJSON *m, const char *path)
{
    const cJSON *x = member(m, path);
    return cJSON_IsNumber(x) ? (int64_t)x->valuedouble : -1;
}

static const char *member_str(const cJSON *m, const char *path)
{
    const cJSON *x = member(m, path);
    return cJSON_IsString(x) ? x->valuestring : "";
}

/* ---- backup ---- */

int vt_backup_make(const char *data_dir, const char *dest, FILE *out, bool *incomplete, char *err,
                   size_t errlen)
{
    double t0 = mono_s();
    char path[PATH_LEN], real[PATH_LEN], sha[65];
    int64_t db_bytes = 0, started = 0;
    bool existed;
    size_t entries;
    struct timespec now;
    struct vt_store_summary sum;
    struct files files = {.from = data_dir, .to = dest};
    struct presence pres = {.dir = dest};
    cJSON *m = NULL;
    int rc;
    *incomplete = false;
    clock_gettime(CLOCK_REALTIME, &now);
    started = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;

    if ((rc = dir_state(dest, &existed, &entries, err, errlen)))
        return rc;
    if (existed && entries) {
        snprintf(err, errlen,
                 "%s already exists and is not empty; give a new directory (for example one "
                 "named after today's date)",
                 dest);
        return VT_EEXIST;
    }
    snprintf(path, sizeof(path), "%s/ventanilla.db", data_dir);
    if (access(path, F_OK) != 0) {
        snprintf(err, errlen, "there is no database at %s: check --data-dir or server.data_dir",
                 path);
        return VT_ENOTFOUND;
    }
    if ((rc = own_dir(dest, existed, err, errlen)))
        return rc;
    if (!(m = cJSON_CreateObject()) || !(files.damaged = cJSON_CreateArray()) ||
        !(pres.missing = cJSON_CreateArray())) {
        snprintf(err, errlen, "out of memory");
        rc = VT_ENOMEM;
        goto fail;
    }

    /* 1. The database (invariant 1: before the files). */
    snprintf(path, sizeof(path), "%s/ventanilla.db", dest);
    if ((rc = vt_store_backup(data_dir, path, err, errlen)))
        goto fail;
    if ((rc = file_sha(path, sha, &db_bytes, err, errlen)))
        goto fail;

    /* 2. The audit key. */
    char key_from[PATH_LEN], key_to[PATH_LEN], key_sha[65];
    int64_t key_bytes;
    snprintf(key_from, sizeof(key_from), "%s/audit.key", data_dir);
    snprintf(key_to, sizeof(key_to), "%s/audit.key", dest);
    if ((rc = copy_file(key_from, key_to, key_sha, &key_bytes, err, errlen)))
        goto fail;
    sodium_memzero(key_sha, sizeof(key_sha));

    /* 3. The attachment files, then whether the copy names any it lacks. */
    if ((rc = copy_attachments(&files, err, errlen)))
        goto fail;
    if ((rc = vt_store_summary(path, &sum, check_present, &pres, err, errlen)))
        goto fail;

    /* 4. The manifest, last. */
    char when[32];
    utc_text(started, when);
    cJSON_AddStringToObject(m, "format", FORMAT);
    cJSON_AddNumberToObject(m, "format_version", FORMAT_VERSION);
    cJSON_AddStringToObject(m, "created_at", when);
    cJSON_AddNumberToObject(m, "created_at_ms", (double)started);
    const char *source = realpath(data_dir, real) ? real : data_dir;
    cJSON_AddStringToObject(m, "source", source);
    cJSON_AddNumberToObject(m, "schema_version", sum.schema_version);
    cJSON *db = cJSON_AddObjectToObject(m, "database");
    cJSON_AddStringToObject(db, "file", "ventanilla.db");
    cJSON_AddNumberToObject(db, "bytes", (double)db_bytes);
    cJSON_AddStringToObject(db, "sha256", sha);
    cJSON_AddNumberToObject(m, "items", (double)sum.items);
    cJSON_AddStringToObject(m, "last_radicado", sum.last_radicado);
    cJSON_AddNumberToObject(m, "audit_events", (double)sum.audit_events);
    cJSON *head = cJSON_AddObjectToObject(m, "audit_head");
    cJSON_AddNumberToObject(head, "event_id", (double)sum.audit_head_id);
    cJSON_AddStringToObject(head, "hash", sum.audit_head_hash);
    cJSON *att = cJSON_AddObjectToObject(m, "attachments");
    cJSON_AddNumberToObject(att, "files", (double)files.count);
    cJSON_AddNumberToObject(att, "bytes", (double)files.bytes);
    cJSON_AddItemToObject(att, "missing", pres.missing);
    cJSON_AddItemToObject(att, "damaged", files.damaged);
    int64_t n_damaged = cJSON_GetArraySize(files.damaged);
    pres.missing = files.damaged = NULL; /* the manifest's now */
    double secs = mono_s() - t0;
    cJSON_AddNumberToObject(m, "seconds", (double)(int64_t)(secs * 1000) / 1000);
    if ((rc = write_manifest(dest, m, err, errlen)))
        goto fail;
    char parent[PATH_LEN];
    snprintf(parent, sizeof(parent), "%s/..", dest);
    vt_attach_fsync(parent); /* the new directory's own entry */

    char dbh[32], fh[32];
    vt_human_bytes(db_bytes, dbh, sizeof(dbh));
    vt_human_bytes(files.bytes, fh, sizeof(fh));
    fprintf(out,
            "Backup of %s written to %s in %.1f s (taken at %s).\n"
            "  database:    %s, schema %d, %lld items%s%s%s, %lld audit events\n"
            "  attachments: %lld files, %s\n"
            "  audit key:   copied\n"
            "  manifest:    %s/" MANIFEST " (database sha256 %.16s...)\n"
            "Restore it with: ventanilla restore --config FILE --data-dir NEW_DIR %s\n",
            source, dest, secs, when, dbh, sum.schema_version, (long long)sum.items,
            sum.last_radicado[0] ? " (last radicado " : "", sum.last_radicado,
            sum.last_radicado[0] ? ")" : "", (long long)sum.audit_events, (long long)files.count,
            fh, dest, sha, dest);
    *incomplete = pres.n_missing || n_damaged;
    if (pres.n_missing)
        fprintf(stderr,
                "backup: warning: the backup is incomplete: the database names %lld attachment "
                "file(s) that %s lacks or holds damaged (first: %s); they are listed under "
                "attachments.missing in %s/" MANIFEST "\n",
                (long long)pres.n_missing, data_dir, pres.first, dest);
    if (n_damaged)
        fprintf(stderr,
                "backup: warning: %lld attachment file(s) in %s/attachments do not match their "
                "names (damaged) and were not copied; they are listed under attachments.damaged "
                "in %s/" MANIFEST "\n",
                (long long)n_damaged, data_dir, dest);
    cJSON_Delete(m);
    return 0;
fail:
    cJSON_Delete(m);
    cJSON_Delete(files.damaged);
    cJSON_Delete(pres.missing);
    undo_dir(dest, existed);
    return rc;
}

/* ---- restore ---- */

int vt_backup_restore(const char *src, const char *data_dir, FILE *out, char *err, size_t errlen)
{
    char path[PATH_LEN], tmp_db[PATH_LEN], sha[65];
    bool existed = false;
    size_t entries;
    int64_t db_bytes, key_bytes;
    int lock_fd = -1;
    struct vt_store_summary sum;
    struct files files = {.from = src, .to = data_dir};
    struct presence pres = {.dir = data_dir};
    int rc;
    bool touched = false;

    /* 1. The backup and its manifest. */
    cJSON *m = read_manifest(src, err, errlen);
    if (!m)
        return VT_ENOTFOUND;
    int64_t schema = member_int(m, "schema_version");
    const char *want_sha = member_str(m, "database.sha256");
    if (schema < 1 || !is_sha_name(want_sha) || member_int(m, "database.bytes") < 0 ||
        member_int(m, "items") < 0 || member_int(m, "audit_events") < 0) {
        snprintf(err, errlen, "%s/" MANIFEST " lacks what a backup's manifest holds", src);
        rc = VT_EINVAL;
        goto out;
    }
    if (schema > vt_store_schema_latest()) {
        snprintf(err, errlen,
                 "the backup's database has schema %lld, newer than this ventanilla knows (%d): "
                 "restore it with the ventanilla that made it",
                 (long long)schema, vt_store_schema_latest());
        rc = VT_EVERSION;
        goto out;
    }

    /* 2. The target: new or empty, and locked against a daemon starting on it. */
    if ((rc = dir_state(data_dir, &existed, &entries, err, errlen)))
        goto out;
    if (existed && entries) {
        snprintf(err, errlen,
                 "%s is not empty: restore never overwrites a data directory. Stop the daemon, "
                 "move the directory aside (for example: mv %s %s.old) or choose a new one, and "
                 "run restore again",
                 data_dir, data_dir, data_dir);
        rc = VT_EEXIST;
        goto out;
    }
    if ((rc = own_dir(data_dir, existed, err, errlen)))
        goto out;
    touched = true;
    snprintf(path, sizeof(path), "%s/ventanilla.lock", data_dir);
    lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "cannot lock %s: another ventanilla is using it", data_dir);
        rc = VT_EBUSY;
        goto out;
    }

    /* 3. The database, under a temporary name until everything is in place. */
    snprintf(path, sizeof(path), "%s/ventanilla.db", src);
    snprintf(tmp_db, sizeof(tmp_db), "%s/.ventanilla.db.restoring", data_dir);
    if ((rc = copy_file(path, tmp_db, sha, &db_bytes, err, errlen)))
        goto out;
    if (strcmp(sha, want_sha) != 0 || db_bytes != member_int(m, "database.bytes")) {
        snprintf(err, errlen,
                 "%s does not match the checksum in its manifest: the backup was changed or "
                 "damaged",
                 path);
        rc = VT_ETAMPER;
        goto out;
    }
    if ((rc = vt_store_summary(tmp_db, &sum, NULL, NULL, err, errlen)))
        goto out;
    if (sum.items != member_int(m, "items") || sum.audit_events != member_int(m, "audit_events") ||
        sum.schema_version != schema) {
        snprintf(err, errlen, "the backup's database does not hold what its manifest says");
        rc = VT_ETAMPER;
        goto out;
    }

    /* 4. The key and the attachment files, each checked against its name. */
    char key_from[PATH_LEN], key_to[PATH_LEN], key_sha[65];
    snprintf(key_from, sizeof(key_from), "%s/audit.key", src);
    snprintf(key_to, sizeof(key_to), "%s/audit.key", data_dir);
    if ((rc = copy_file(key_from, key_to, key_sha, &key_bytes, err, errlen)))
        goto out;
    sodium_memzero(key_sha, sizeof(key_sha));
    if ((rc = copy_attachments(&files, err, errlen)))
        goto out;
    if (files.count < member_int(m, "attachments.files")) {
        snprintf(err, errlen,
                 "the backup holds %lld attachment files, its manifest says %lld: files were "
                 "removed from it",
                 (long long)files.count, (long long)member_int(m, "attachments.files"));
        rc = VT_ETAMPER;
        goto out;
    }
    pres.excused = member(m, "attachments.missing");
    if ((rc = vt_store_summary(tmp_db, &sum, check_present, &pres, err, errlen)))
        goto out;
    if (pres.n_missing) {
        snprintf(err, errlen,
                 "the backup lacks %lld attachment file(s) its database names (first: %s)",
                 (long long)pres.n_missing, pres.first);
        rc = VT_ETAMPER;
        goto out;
    }

    /* 5. In place; the schema brought up to date; the audit chain checked. */
    snprintf(path, sizeof(path), "%s/ventanilla.db", data_dir);
    if (rename(tmp_db, path) != 0 || vt_attach_fsync(data_dir) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rc = VT_EIO;
        goto out;
    }
    if (!existed) {
        char parent[PATH_LEN];
        snprintf(parent, sizeof(parent), "%s/..", data_dir);
        vt_attach_fsync(parent);
    }
    bool upgraded = schema < vt_store_schema_latest();
    if (upgraded &&
        (rc = vt_store_migrate(&(struct vt_store_place){.data_dir = data_dir}, err, errlen)))
        goto out;
    int64_t n_events = 0, bad = 0;
    char why[400] = "";
    rc = vt_store_audit_verify(&(struct vt_store_place){.data_dir = data_dir}, &n_events, &bad, why,
                               sizeof(why));
    if (rc == VT_ETAMPER) {
        snprintf(err, errlen, "the backup's audit chain does not verify: event %lld: %s",
                 (long long)bad, why);
        goto out;
    }
    if (rc) {
        snprintf(err, errlen, "cannot verify the audit chain: %s", why[0] ? why : "?");
        goto out;
    }

    char fh[32];
    vt_human_bytes(files.bytes, fh, sizeof(fh));
    fprintf(out,
            "Restored the backup taken at %s (of %s) into %s.\n"
            "  database:    %lld items%s%s%s, schema %lld%s\n"
            "  audit chain: verified, %lld events\n"
            "  attachments: %lld files, %s, each checked against its checksum\n",
            member_str(m, "created_at"), member_str(m, "source"), data_dir, (long long)sum.items,
            sum.last_radicado[0] ? " (last radicado " : "", sum.last_radicado,
            sum.last_radicado[0] ? ")" : "", (long long)schema,
            upgraded ? " (upgraded to this ventanilla's)" : "", (long long)n_events,
            (long long)files.count, fh);
    if (pres.n_excused)
        fprintf(out,
                "  warning:     %lld attachment file(s) were already missing when the backup "
                "was taken (listed in its manifest)\n",
                (long long)pres.n_excused);
    fprintf(out, "Start the daemon on it: ventanilla serve --config FILE --data-dir %s\n",
            data_dir);
    rc = 0;
out:
    if (rc && touched)
        undo_dir(data_dir, existed);
    if (lock_fd >= 0)
        close(lock_fd);
    cJSON_Delete(m);
    return rc;
}
