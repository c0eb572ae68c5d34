/* attach.c - attachment sniffing and content-addressed storage (attach.h). */
#include "store/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

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

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
        return fsync_dir(parent);
    return errno == EEXIST ? 0 : VT_EIO;
}

int vt_attach_write(const char *data_dir, const void *data, size_t len, const char *sha)
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
    return fsync_dir(dir);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return VT_EIO;
}
