/* audit.c - event hashing and the chain key (see audit.h). */
#include "store/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

static void put_u64(crypto_generichash_state *st, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    crypto_generichash_update(st, b, 8);
}

static void put_str(crypto_generichash_state *st, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u64(st, n);
    crypto_generichash_update(st, (const unsigned char *)(s ? s : ""), n);
}

void vt_audit_hash(const unsigned char key[VT_AUDIT_KEY_BYTES], const char *prev_hex,
                   const struct vt_audit_event *ev, char out[65])
{
    crypto_generichash_state st;
    unsigned char h[32];
    crypto_generichash_init(&st, key, VT_AUDIT_KEY_BYTES, sizeof(h));
    put_str(&st, prev_hex);
    put_u64(&st, (uint64_t)ev->id);
    put_u64(&st, (uint64_t)ev->item_id);
    put_u64(&st, (uint64_t)ev->at);
    put_str(&st, ev->actor);
    put_str(&st, ev->action);
    put_str(&st, ev->payload);
    put_u64(&st, (uint64_t)(ev->is_public != 0));
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(out, 65, h, sizeof(h));
}

int vt_audit_key_create(const char *path)
{
    unsigned char fresh[VT_AUDIT_KEY_BYTES];
    int w = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w < 0)
        return errno == EEXIST ? VT_EEXIST : VT_EIO;
    randombytes_buf(fresh, sizeof(fresh));
    int ok = fchmod(w, 0600) == 0 && write(w, fresh, sizeof(fresh)) == (ssize_t)sizeof(fresh) &&
             fsync(w) == 0;
    ok = close(w) == 0 && ok;
    sodium_memzero(fresh, sizeof(fresh));
    if (!ok) {
        unlink(path);
        return VT_EIO;
    }
    return 0;
}

int vt_audit_key_load(const char *path, int create, unsigned char key[VT_AUDIT_KEY_BYTES])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        int rc = vt_audit_key_create(path);
        if (rc && rc != VT_EEXIST)
            return rc;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return errno == ENOENT ? VT_ENOTFOUND : VT_EIO;
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 0077))
        fchmod(fd, st.st_mode & 0700); /* a key copied in readable to others */
    ssize_t n = read(fd, key, VT_AUDIT_KEY_BYTES);
    close(fd);
    return n == VT_AUDIT_KEY_BYTES ? 0 : VT_EIO;
}
