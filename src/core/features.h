/* features.h - what the learned classifier sees of a message: Spanish words
 * stemmed with Snowball, word pairs, the words of the signature, the kind of
 * sender domain and the channel.
 *
 * Owns: the tokenizer, the Spanish stop words and the list of given names and
 * surnames that are never features, and the text staff read for a feature.
 * Must not: keep state between calls (it runs on several threads at once) or
 * let personal data through: e-mail addresses, web addresses and anything
 * with a digit (ID numbers, phones, radicados) never become features; neither
 * do common Colombian names nor any word of the strings the caller excludes
 * (the requester's name and e-mail), so the reasons shown to staff, which are
 * features, never name anyone.
 *
 * Features (key: what staff read):
 *   "w:STEM"        a word of the subject or body: "concejal"
 *   "b:STEM STEM"   two words in a row, stop words skipped: "accion comunal"
 *   "g:STEM"        a word of the signature (the last 3 lines): "firma: concejal"
 *   "d:KIND"        the sender's domain kind: webmail, gov.co, edu.co, org, com,
 *                   mil.co, otro: "dominio .gov.co"
 *   "l:STEM"        a word of the sender's domain: "dominio: personeria"
 *   "c:CHANNEL"     the channel: "canal: correo"
 *   "x:correo"      the text holds an e-mail address; "x:url" a web address
 * Each feature appears at most once per message (presence, not counts).
 */
#ifndef VT_FEATURES_H
#define VT_FEATURES_H
#include <stddef.h>
#include <stdint.h>

struct vt_text_input {
    const char *channel;        /* web, email, whatsapp, ... or NULL */
    const char *from;           /* the sender's address or phone, or NULL */
    const char *subject, *body; /* UTF-8, may be NULL */
    const char *const *exclude; /* words never to use (names), may be NULL */
    size_t n_exclude;
};

struct vt_feature {
    uint32_t hash;  /* FNV-1a of key (the model's lookups use it) */
    char key[64];   /* the model's vocabulary entry */
    char shown[64]; /* what staff read */
};

struct vt_features {
    struct vt_feature *f;
    size_t n, cap;
};

/* Extracts the features of in into out (emptied first; grows as needed).
 * Only the first 8 KB of subject and body are read. 0 or VT_ENOMEM. */
int vt_features_extract(const struct vt_text_input *in, struct vt_features *out);
void vt_features_cleanup(struct vt_features *f);

#endif
