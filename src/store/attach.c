/* attach.c - attachment sniffing and content-addressed storage (attach.h):
 * files under the data directory, or rows of attachment_blobs. */
#include "store/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/buf.h"
#include "store/db.h"
#include "store/migrate.h"

struct vt_sniffer {
    magic_t magic;
};

struct vt_sniffer *vt_sniffer_new(void)
{
    struct vt_sniffer *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF);
    if (!s->magic || magic_load(s->magic, NULL) != 0) {
        vt_sniffer_free(s);
        return NULL;
    }
    return s;
}

void vt_sniffer_free(struct vt_sniffer *s)
{
    if (!s)
        return;
    if (s->magic)
        magic_close(s->magic);
    free(s);
}

int vt_sniff(struct vt_sniffer *s, const void *data, size_t len, char *mime, size_t mimelen)
{
    const char *m = magic_buffer(s->magic, data, len);
    if (!m)
        return VT_EINVAL;
    snprintf(mime, mimelen, "%s", m);
    return 0;
}

void vt_attach_sha256(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

bool vt_attach_hex(const char *s, size_t n)
{
    size_t i = 0;
    for (; s && s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s && i == n;
}

bool vt_attach_valid_sha(const char *s)
{
    return vt_attach_hex(s, 64);
}

/* ---- files: DATA_DIR/attachments/ab/abcdef... ---- */

int vt_attach_fsync(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return VT_EIO;
    int rc = fsync(fd) == 0 ? 0 : VT_EIO;
    close(fd);
    return rc;
}

/* Creates dir if needed; a new directory is made durable in its parent. */
static int ensure_dir(const char *dir, const char *parent)
{
    if (mkdir(dir, 0700) == 0)
        return vt_attach_fsync(parent);
    return errno == EEXIST ? 0 : VT_EIO;
}

static int file_put(const char *data_dir, const void *data, size_t len, const char *sha)
{
    char top[4096], dir[4200], path[4300], tmp[4300];
    snprintf(top, sizeof(top), "%s/attachments", data_dir);
    snprintf(dir, sizeof(dir), "%s/%.2s", top, sha);
    snprintf(path, sizeof(path), "%s/%s", dir, sha);
    if (ensure_dir(top, data_dir) || ensure_dir(dir, top))
        return VT_EIO;
    if (access(path, F_OK) == 0)
        return 0; /* same content, same name: already durable */
    unsigned char rnd[8];
    char rhex[17];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(rhex, sizeof(rhex), rnd, sizeof(rnd));
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, rhex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return VT_EIO;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    return vt_attach_fsync(dir);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return VT_EIO;
}

static int file_get(const char *data_dir, const char *sha, unsigned char **data, size_t *len)
{
    char path[4300];
    snprintf(path, sizeof(path), "%s/attachments/%.2s/%s", data_dir, sha, sha);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? VT_ENOTFOUND : VT_EIO;
    struct vt_buf b = {0};
    char chunk[65536];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = VT_EIO;
            break;
        }
        if (n == 0)
            break;
        if (vt_buf_append(&b, chunk, (size_t)n)) {
            rc = VT_ENOMEM;
            break;
        }
    }
    close(fd);
    if (rc == 0 && !b.data && !(b.data = malloc(1)))
        rc = VT_ENOMEM;
    if (rc) {
        vt_buf_cleanup(&b);
        return rc;
    }
    *data = (unsigned char *)b.data;
    *len = b.len;
    return 0;
}

/* ---- the database: attachment_blobs ---- */

static const char SQL_BLOB_PUT[] = "INSERT INTO attachment_blobs (sha256, bytes) VALUES (?1, ?2) "
                                   "ON CONFLICT (sha256) DO NOTHING";
static const char SQL_BLOB_GET[] = "SELECT bytes FROM attachment_blobs WHERE sha256 = ?1";

struct vt_blobs {
    bool in_db;
    char *data_dir; /* NULL when there is none (PostgreSQL without one) */
    char *conninfo;
    pthread_mutex_t lock; /* guards own */
    struct vt_db *own;    /* opened at first use; the driver reconnects it */
};

static int db_put(struct vt_db *db, const char *sha, const void *data, size_t len)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_BLOB_PUT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, sha);
    vt_db_bind_blob(st, 2, data, len);
    return vt_db_run(st) ? VT_ESTORE : 0;
}

static int db_get(struct vt_db *db, const char *sha, unsigned char **data, size_t *len)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_BLOB_GET);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, sha);
    int r = vt_db_step(st), rc = VT_ENOTFOUND;
    if (r == VT_DB_ROW) {
        size_t n = 0;
        const void *p = vt_db_col_blob(st, 0, &n);
        unsigned char *copy = malloc(n ? n : 1);
        if (!copy) {
            rc = VT_ENOMEM;
        } else {
            if (n)
                memcpy(copy, p, n);
            *data = copy;
            *len = n;
            rc = 0;
        }
    } else if (r != VT_DB_DONE) {
        rc = VT_ESTORE;
    }
    vt_db_reset(st);
    return rc;
}

/* The blobs' own connection, opened at first use; b->lock held. */
static struct vt_db *own_db(struct vt_blobs *b)
{
    if (b->own)
        return b->own;
    char err[300];
    struct vt_store_place place = {b->data_dir, "postgresql", b->conninfo, NULL};
    struct vt_db_options opt;
    vt_migrate_db_options(&place, NULL, 0, &opt);
    if (vt_db_open(&opt, &b->own, err, sizeof(err))) {
        vt_log(VT_LOG_ERROR, "blobs_open_failed", "error=\"%s\"", err);
        b->own = NULL;
    }
    return b->own;
}

struct vt_blobs *vt_blobs_new(const struct vt_store_place *place)
{
    struct vt_blobs *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->in_db = vt_store_place_pg(place);
    if ((place->data_dir && !(b->data_dir = strdup(place->data_dir))) ||
        (b->in_db && !(b->conninfo = strdup(place->conninfo ? place->conninfo : "")))) {
        free(b->data_dir);
        free(b);
        return NULL;
    }
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

void vt_blobs_free(struct vt_blobs *b)
{
    if (!b)
        return;
    vt_db_close(b->own);
    pthread_mutex_destroy(&b->lock);
    free(b->data_dir);
    free(b->conninfo);
    free(b);
}

bool vt_blobs_in_db(const struct vt_blobs *b)
{
    return b->in_db;
}

int vt_blobs_put(struct vt_blobs *b, struct vt_db *db, const char *sha, const void *data,
                 size_t len)
{
    if (!vt_attach_valid_sha(sha))
        return VT_EINVAL;
    if (!b->in_db)
        return b->data_dir ? file_put(b->data_dir, data, len, sha) : VT_EIO;
    if (db)
        return db_put(db, sha, data, len);
    pthread_mutex_lock(&b->lock);
    struct vt_db *own = own_db(b);
    int rc = own ? db_put(own, sha, data, len) : VT_ESTORE; /* autocommit: durable now */
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int vt_blobs_get(struct vt_blobs *b, struct vt_db *db, const char *sha, unsigned char **data,
                 size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!vt_attach_valid_sha(sha))
        return VT_EINVAL;
    if (!b->in_db)
        return b->data_dir ? file_get(b->data_dir, sha, data, len) : VT_ENOTFOUND;
    int rc;
    if (db) {
        rc = db_get(db, sha, data, len);
    } else {
        pthread_mutex_lock(&b->lock);
        struct vt_db *own = own_db(b);
        rc = own ? db_get(own, sha, data, len) : VT_ESTORE;
        pthread_mutex_unlock(&b->lock);
    }
    /* A file an instance stored before migration 0017 is still served by
     * the instance whose data directory holds it. */
    if (rc == VT_ENOTFOUND && b->data_dir)
        rc = file_get(b->data_dir, sha, data, len);
    return rc;
}
