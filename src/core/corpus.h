/* corpus.h - labelled messages for the learned classifier: one JSON object
 * a line, {"channel","from","subject","text","type","petition_class",
 * "group","dependencia"}, and training a model from such corpora.
 *
 * The shipped corpus (data/corpus/train.jsonl and heldout.jsonl) is compiled
 * in (vt_corpus_train, vt_corpus_heldout); so is the model trained from its
 * training part at build time (tools/shipped_model.c: vt_shipped_model), the
 * one a new installation starts with.
 *
 * Owns: the parsed lines. Pure: no file, no store.
 */
#ifndef VT_CORPUS_H
#define VT_CORPUS_H
#include <stddef.h>

#include "core/textmodel.h"

struct vt_corpus_doc {
    char *channel, *from, *subject, *text;
    char *label[VT_TASKS]; /* "" when the line has none */
};

struct vt_corpus {
    struct vt_corpus_doc *d;
    size_t n;
};

extern const char vt_corpus_train[], vt_corpus_heldout[];
extern const size_t vt_corpus_train_len, vt_corpus_heldout_len;

/* Parses JSONL text. 0, or VT_EINVAL with err naming the line at fault, or
 * VT_ENOMEM. */
int vt_corpus_parse(const char *data, size_t len, struct vt_corpus *c, char *err, size_t errlen);
void vt_corpus_free(struct vt_corpus *c);
/* The channel of a line as intake names it: email, whatsapp, else web. */
const char *vt_corpus_channel(const struct vt_corpus_doc *d);

/* Trains on the parts' lines, each line of parts[i] weighing weights[i]. 0 or VT_E*. */
int vt_corpus_train_model(const struct vt_corpus *const *parts, const double *weights,
                          size_t n_parts, const struct vt_train_opts *o, struct vt_textmodel **out);

#endif
