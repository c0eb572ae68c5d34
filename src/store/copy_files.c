/* copy_files.c - the files half of `ventanilla store copy` (copy.h): the
 * attachment files of the SQLite store's data directory, into the
 * PostgreSQL database's attachment_blobs (attach.h), and the audit key into
 * the target's key file.
 *
 * Owns: reading the source's attachment files, each checked against its
 * SHA-256 name, and writing the key file whole before it has its name (a
 * temporary file, fsync'd, renamed). Must not: overwrite attachment bytes
 * the target already has.
 */
#include "store/copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "store/attach.h"
#include "store/audit.h"
#include "store/db.h"
#include <stdlib.h>

#define PATH_LEN 4400

/* out = dir/name; VT_ERANGE with err filled when it does not fit. */
static int join(struct vt_copy_files *f, char *out, size_t n, const char *dir, const char *name)
{
    int w = snprintf(out, n, "%s/%s", dir, name);
    if (w >= 0 && (size_t)w < n)
        return 0;
    snprintf(f->err, f->errlen, "the path %.200s/%.100s is too long", dir, name);
    return VT_ERANGE;
}

/* Reads src whole into *out (malloc'd) and checks its SHA-256 against
 * name: 1 when it matches, 0 when not (damaged: *out freed), or VT_EIO /
 * VT_ENOMEM with err filled. */
static int read_file(struct vt_copy_files *f, const char *src, const char *name,
                     unsigned char **out, size_t *len)
{
    char sha[65];
    int fd = open(src, O_RDONLY | O_CLOEXEC), rc = VT_EIO;
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0;
    *out = NULL;
    *len = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(f->err, f->errlen, "cannot read %s: %s", src, strerror(errno));
        goto done;
    }
    if (!(buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1))) {
        snprintf(f->err, f->errlen, "out of memory reading %s", src);
        rc = VT_ENOMEM;
        goto done;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(f->err, f->errlen, "cannot read %s: %s", src,
                     n < 0 ? strerror(errno) : "it shrank while read");
            goto done;
        }
        got += (size_t)n;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, buf, got);
    sodium_bin2hex(sha, sizeof(sha), digest, sizeof(digest));
    if (strcmp(sha, name) != 0) {
        rc = 0;
        goto done;
    }
    *out = buf;
    *len = got;
    buf = NULL;
    rc = 1;
done:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

static const char SQL_BLOB_HAS[] = "SELECT 1 FROM attachment_blobs WHERE sha256 = ?1";
static const char SQL_BLOB_PUT[] = "INSERT INTO attachment_blobs (sha256, bytes) VALUES (?1, ?2) "
                                   "ON CONFLICT (sha256) DO NOTHING";

bool vt_store_copy__has_file(struct vt_db *to, const char *sha)
{
    struct vt_db_stmt *st = vt_db_prepare(to, SQL_BLOB_HAS);
    if (!st)
        return false;
    vt_db_bind_text(st, 1, sha);
    bool has = vt_db_step(st) == VT_DB_ROW;
    vt_db_reset(st);
    return has;
}

/* Puts the bytes of src (named name) into the target. 0, or VT_E* with
 * err filled. */
static int copy_blob(struct vt_copy_files *f, const char *src, const char *name)
{
    if (vt_store_copy__has_file(f->to, name)) {
        f->present++;
        return 0;
    }
    unsigned char *data;
    size_t len;
    int got = read_file(f, src, name, &data, &len);
    if (got < 0)
        return got;
    if (got == 0) {
        fprintf(stderr,
                "store copy: warning: %s does not match its name (the file is damaged); "
                "not copied\n",
                src);
        f->damaged++;
        return 0;
    }
    struct vt_db_stmt *st = vt_db_prepare(f->to, SQL_BLOB_PUT);
    int rc = VT_ESTORE;
    if (st) {
        vt_db_bind_text(st, 1, name);
        vt_db_bind_blob(st, 2, data, len);
        rc = vt_db_run(st) ? VT_ESTORE : 0;
    }
    free(data);
    if (rc) {
        snprintf(f->err, f->errlen, "cannot store %s in PostgreSQL: %s", src, vt_db_errmsg(f->to));
        return rc;
    }
    f->copied++;
    f->bytes += (int64_t)len;
    return 0;
}

/* Copies the bytes of every attachment file of the source's data directory
 * into the target's attachment_blobs, each checked against its name; bytes
 * the target already has are kept. */
int vt_store_copy__attachments(struct vt_copy_files *f)
{
    char top[PATH_LEN];
    snprintf(top, sizeof(top), "%s/attachments", f->from);
    DIR *d = opendir(top);
    if (!d) {
        if (errno == ENOENT)
            return 0; /* no attachment yet */
        snprintf(f->err, f->errlen, "cannot read %s: %s", top, strerror(errno));
        return VT_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        char sdir[PATH_LEN];
        if (!vt_attach_hex(e->d_name, 2))
            continue;
        if ((rc = join(f, sdir, sizeof(sdir), top, e->d_name)))
            break;
        DIR *s = opendir(sdir);
        if (!s)
            continue; /* not a directory */
        struct dirent *fe;
        while (rc == 0 && (fe = readdir(s))) {
            char sp[PATH_LEN];
            /* Temporary files (".tmp-...") and anything else are not attachments. */
            if (!vt_attach_hex(fe->d_name, 64) || strncmp(fe->d_name, e->d_name, 2) != 0)
                continue;
            if ((rc = join(f, sp, sizeof(sp), sdir, fe->d_name)))
                break;
            rc = copy_blob(f, sp, fe->d_name);
        }
        closedir(s);
    }
    closedir(d);
    return rc;
}

/* The source's audit key in the target's key file, written whole (a
 * temporary file beside it, renamed): the chain was made with it.
 * *replaced: a different key was there (the one migrate made). */
int vt_store_copy__key(struct vt_copy_files *f, bool *replaced)
{
    unsigned char key[VT_AUDIT_KEY_BYTES], old[VT_AUDIT_KEY_BYTES];
    char tmp[PATH_LEN], path[PATH_LEN];
    int rc = VT_EIO, fd = -1;
    *replaced = false;
    char from_key[PATH_LEN], dir[PATH_LEN];
    snprintf(from_key, sizeof(from_key), "%s/audit.key", f->from);
    if (vt_audit_key_load(from_key, 0, key)) {
        snprintf(f->err, f->errlen, "cannot read %s, the key of the source's audit chain",
                 from_key);
        return VT_EIO;
    }
    if (vt_audit_key_load(f->to_key, 0, old) == 0) {
        if (sodium_memcmp(key, old, sizeof(key)) == 0) {
            rc = 0;
            goto done;
        }
        *replaced = true;
    }
    snprintf(path, sizeof(path), "%s", f->to_key);
    snprintf(tmp, sizeof(tmp), "%s.copy-tmp", f->to_key);
    snprintf(dir, sizeof(dir), "%s", f->to_key);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
        fsync(fd) != 0) {
        snprintf(f->err, f->errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0 || vt_attach_fsync(dir) != 0) {
        snprintf(f->err, f->errlen, "cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(old, sizeof(old));
    return rc;
}
