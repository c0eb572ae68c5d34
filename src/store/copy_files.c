/* copy_files.c - the data directory half of `ventanilla store copy`
 * (copy.h): the attachment files and the audit key, from the SQLite store's
 * data directory into the PostgreSQL one's.
 *
 * Owns: writing into the target's data directory, each file whole before it
 * has its name (a temporary file, fsync'd, renamed), as attach.c writes
 * them. Must not: touch a database, or overwrite an attachment file that
 * already has the content its name says.
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
#include "store/audit.h"

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

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return VT_EIO;
    int rc = fsync(fd) == 0 ? 0 : VT_EIO;
    close(fd);
    return rc;
}

static bool is_hex(const char *s, size_t n)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == n;
}

/* The SHA-256 (hex) and size of the file open as fd. */
static int fd_sha(int fd, char sha[65], int64_t *bytes)
{
    crypto_hash_sha256_state h;
    unsigned char buf[65536], digest[crypto_hash_sha256_BYTES];
    *bytes = 0;
    crypto_hash_sha256_init(&h);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return VT_EIO;
        if (n == 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
        *bytes += n;
    }
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(sha, 65, digest, sizeof(digest));
    return 0;
}

/* Whether path holds content whose SHA-256 is name. */
static bool file_matches(const char *path, const char *name)
{
    char sha[65];
    int64_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fd_sha(fd, sha, &n) == 0 && strcmp(sha, name) == 0;
    close(fd);
    return ok;
}

/* Copies src into dir/name through a temporary file, renamed into place
 * once written, fsync'd and found to have the SHA-256 its name says. 1 when
 * copied, 0 when the source does not match its name (damaged: not
 * copied), or VT_EIO with err filled. */
static int copy_file(struct vt_copy_files *f, const char *src, const char *dir, const char *name)
{
    char tmp[PATH_LEN], dst[PATH_LEN], sha[65];
    unsigned char buf[65536], digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state h;
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = VT_EIO;
    bool made = false;
    int64_t bytes = 0;
    if (join(f, tmp, sizeof(tmp), dir, ".tmp-copy-XXXXXX") ||
        join(f, dst, sizeof(dst), dir, name)) {
        if (in >= 0)
            close(in);
        return VT_ERANGE;
    }
    if (in < 0) {
        snprintf(f->err, f->errlen, "cannot read %s: %s", src, strerror(errno));
        return VT_EIO;
    }
    out = mkstemp(tmp); /* 0600 */
    made = out >= 0;
    if (!made) {
        snprintf(f->err, f->errlen, "cannot create a file in %s: %s", dir, strerror(errno));
        goto done;
    }
    crypto_hash_sha256_init(&h);
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(f->err, f->errlen, "cannot read %s: %s", src, strerror(errno));
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
                snprintf(f->err, f->errlen, "cannot write %s: %s", tmp, strerror(errno));
                goto done;
            }
            off += w;
        }
        bytes += n;
    }
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(sha, 65, digest, sizeof(digest));
    if (strcmp(sha, name) != 0) {
        rc = 0;
        goto done;
    }
    if (fsync(out) != 0 || close(out) != 0) {
        out = -1;
        snprintf(f->err, f->errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    out = -1;
    if (rename(tmp, dst) != 0) {
        snprintf(f->err, f->errlen, "cannot write %s: %s", dst, strerror(errno));
        goto done;
    }
    f->copied++;
    f->bytes += bytes;
    rc = 1;
done:
    if (out >= 0)
        close(out);
    if (rc != 1 && made)
        unlink(tmp);
    close(in);
    return rc;
}

static int make_dir(struct vt_copy_files *f, const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(f->err, f->errlen, "cannot create %s: %s", dir, strerror(errno));
        return VT_EIO;
    }
    return 0;
}

/* Copies every attachment file of the source's data directory into the
 * target's, each checked against its name; a file the target already has
 * with the right content is kept (invariant 4). */
int vt_store_copy__attachments(struct vt_copy_files *f)
{
    char top[PATH_LEN], dst_top[PATH_LEN];
    snprintf(top, sizeof(top), "%s/attachments", f->from);
    snprintf(dst_top, sizeof(dst_top), "%s/attachments", f->to);
    DIR *d = opendir(top);
    if (!d) {
        if (errno == ENOENT)
            return 0; /* no attachment yet */
        snprintf(f->err, f->errlen, "cannot read %s: %s", top, strerror(errno));
        return VT_EIO;
    }
    int rc = make_dir(f, dst_top);
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        char sdir[PATH_LEN], ddir[PATH_LEN];
        if (!is_hex(e->d_name, 2))
            continue;
        if ((rc = join(f, sdir, sizeof(sdir), top, e->d_name)) ||
            (rc = join(f, ddir, sizeof(ddir), dst_top, e->d_name)))
            break;
        DIR *s = opendir(sdir);
        if (!s)
            continue; /* not a directory */
        if ((rc = make_dir(f, ddir))) {
            closedir(s);
            break;
        }
        struct dirent *fe;
        while (rc == 0 && (fe = readdir(s))) {
            char sp[PATH_LEN], dp[PATH_LEN];
            /* Temporary files (".tmp-...") and anything else are not attachments. */
            if (!is_hex(fe->d_name, 64) || strncmp(fe->d_name, e->d_name, 2) != 0)
                continue;
            if ((rc = join(f, sp, sizeof(sp), sdir, fe->d_name)) ||
                (rc = join(f, dp, sizeof(dp), ddir, fe->d_name)))
                break;
            if (access(dp, F_OK) == 0 && file_matches(dp, fe->d_name)) {
                f->present++;
                continue;
            }
            int got = copy_file(f, sp, ddir, fe->d_name);
            if (got < 0) {
                rc = got;
            } else if (got == 0) {
                fprintf(stderr,
                        "store copy: warning: %s does not match its name (the file is damaged); "
                        "not copied\n",
                        sp);
                f->damaged++;
            }
        }
        closedir(s);
        if (rc == 0 && fsync_path(ddir)) {
            snprintf(f->err, f->errlen, "cannot write %s", ddir);
            rc = VT_EIO;
        }
    }
    closedir(d);
    if (rc == 0 && fsync_path(dst_top)) {
        snprintf(f->err, f->errlen, "cannot write %s", dst_top);
        rc = VT_EIO;
    }
    return rc;
}

/* The source's audit key in the target's data directory, written whole
 * (a temporary file renamed): the chain was made with it. *replaced: a
 * different key was there (the one migrate made). */
int vt_store_copy__key(struct vt_copy_files *f, bool *replaced)
{
    unsigned char key[VT_AUDIT_KEY_BYTES], old[VT_AUDIT_KEY_BYTES];
    char tmp[PATH_LEN], path[PATH_LEN];
    int rc = VT_EIO, fd = -1;
    *replaced = false;
    if (vt_audit_key_load(f->from, 0, key)) {
        snprintf(f->err, f->errlen, "cannot read %s/audit.key, the key of the source's audit chain",
                 f->from);
        return VT_EIO;
    }
    if (vt_audit_key_load(f->to, 0, old) == 0) {
        if (sodium_memcmp(key, old, sizeof(key)) == 0) {
            rc = 0;
            goto done;
        }
        *replaced = true;
    }
    snprintf(tmp, sizeof(tmp), "%s/.audit.key.copy", f->to);
    snprintf(path, sizeof(path), "%s/audit.key", f->to);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
        fsync(fd) != 0) {
        snprintf(f->err, f->errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0 || fsync_path(f->to) != 0) {
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

/* ---- the command ---- */

bool vt_store_copy__has_file(const char *data_dir, const char *sha)
{
    char path[PATH_LEN];
    int w = snprintf(path, sizeof(path), "%s/attachments/%.2s/%s", data_dir, sha, sha);
    return is_hex(sha, 64) && w > 0 && (size_t)w < sizeof(path) && access(path, F_OK) == 0;
}
