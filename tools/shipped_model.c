/* shipped_model.c - run at build time: trains the model a new installation
 * starts with from the shipped corpus's training part (default options) and
 * writes its bytes to the file named by argv[1], which CMake compiles into
 * the daemon as vt_shipped_model. Training is deterministic, so the bytes
 * are the same on every build of the same sources. */
#include <sodium.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/corpus.h"
#include "core/error.h"

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: vt-shipped-model OUT\n");
        return 2;
    }
    struct vt_corpus c;
    char err[200];
    int rc = vt_corpus_parse(vt_corpus_train, vt_corpus_train_len, &c, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "data/corpus/train.jsonl: %s\n", rc == VT_EINVAL ? err : vt_strerror(rc));
        return 1;
    }
    const struct vt_corpus *parts[] = {&c};
    const double weights[] = {1.0};
    struct vt_textmodel *m = NULL;
    struct vt_buf b = {0};
    rc = vt_corpus_train_model(parts, weights, 1, NULL, &m);
    if (!rc)
        rc = vt_textmodel_save(m, &b);
    FILE *f = rc ? NULL : fopen(argv[1], "wb");
    if (!rc && (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0))
        rc = VT_EIO;
    if (rc)
        fprintf(stderr, "vt-shipped-model: %s\n", vt_strerror(rc));
    vt_buf_cleanup(&b);
    vt_textmodel_free(m);
    vt_corpus_free(&c);
    return rc ? 1 : 0;
}
