/* classify.h - the deterministic stakeholder classifier (grupos de valor e
 * interés).
 *
 * Every petition is assigned exactly one stakeholder group. The decision is a
 * fixed sequence of rules, so the same input and the same rules always give the
 * same group, and the "rule" string of the result says which rule decided (it
 * is stored with the item so that a person can check the decision):
 *
 *   1. "declared"          the group the requester chose, if any;
 *   2. "person_type:nna"   a child or adolescent, if the group "nna" exists;
 *   3. "contacts:email"    the entity's stakeholder register (matriz de partes
 *      "contacts:phone"    interesadas), looked up by e-mail, then phone, then
 *      "contacts:id"       id number, through a caller-supplied callback;
 *   4. "domain:PATTERN"    the first e-mail domain rule that matches;
 *   5. "modelo:VERSION"    the learned classifier's group, when the caller
 *                          passes one (domain/classifier.h): it replaces
 *      "keyword:KEYWORD"   the first keyword rule that matches the subject, or
 *                          failing that the body, used without a model;
 *   6. "default"           the default group.
 *
 * Owns: the rules (struct vt_classify_rules and every string in it, once
 * filled by vt_classify_rules_defaults or by the config loader).
 * Must not: talk to the database (the registry is reached only through
 * vt_contact_lookup_fn), keep mutable state (the rules are read-only after
 * setup and vt_classify runs on several threads at once), or log personal data.
 */
#ifndef VT_CLASSIFY_H
#define VT_CLASSIFY_H
#include <stdbool.h>
#include <stddef.h>

struct vt_group {
    char *id;   /* e.g. "ciudadania" */
    char *name; /* Spanish, e.g. "Ciudadanía" */
};

/* pattern: case-insensitive glob on the e-mail domain; '*' matches any run of
 * characters ("*.gov.co", "contraloria.gov.co", "personeria*.gov.co"). */
struct vt_domain_rule {
    char *pattern;
    char *group;
};

/* Any keyword, matched accent- and case-insensitively as a whole word or
 * phrase (a space matches any run of white space) in the subject or body. */
struct vt_keyword_rule {
    char **keywords;
    size_t n_keywords;
    char *group;
};

struct vt_classify_rules {
    struct vt_group *groups;
    size_t n_groups;
    char *default_group;
    struct vt_domain_rule *domains; /* first match wins, in order */
    size_t n_domains;
    struct vt_keyword_rule *keywords; /* first matching rule wins, in order */
    size_t n_keywords;
};

/* Fills r (overwritten, not freed) with the built-in defaults, all strings
 * heap-owned by r. Returns 0 or VT_ENOMEM (r is then empty). */
int vt_classify_rules_defaults(struct vt_classify_rules *r);
/* Frees everything r owns and zeroes it; NULL ok. */
void vt_classify_rules_cleanup(struct vt_classify_rules *r);
/* True when id names one of r's groups; false for NULL r or id. */
bool vt_classify_group_known(const struct vt_classify_rules *r, const char *id);
/* The Spanish name of group id, owned by r; NULL when unknown. */
const char *vt_classify_group_name(const struct vt_classify_rules *r, const char *id);

/* Contacts registry lookup: key_type is "email", "phone" or "id", key
 * normalized by the vt_contact_normalize_* functions. Returns 0 and copies the
 * group id into group (NUL-terminated, truncated to group_len) when found,
 * VT_ENOTFOUND when not, another negative VT_E* on failure. */
typedef int (*vt_contact_lookup_fn)(void *ctx, const char *key_type, const char *key, char *group,
                                    size_t group_len);

struct vt_classify_input {
    const char *declared_group;            /* NULL or "" (none), or a group id */
    const char *person_type;               /* natural|juridica|nna|anonimo, may be NULL */
    const char *email, *phone, *id_number; /* raw, may be NULL */
    const char *subject, *body;            /* UTF-8, may be NULL */
    const char *model_group;               /* the model's group for rule 5, or NULL */
    const char *model_rule;                /* its rule string, e.g. "modelo:3fa2c01b9e4d" */
};

struct vt_classification {
    char group[64]; /* a group id of the rules */
    char rule[160]; /* which rule decided, as listed at the top of this file */
};

/* Decides the group of in and fills out. lookup may be NULL (no registry); ctx
 * is passed to it. A registry group that is not in r is ignored (the register
 * may be older than the configuration). Returns 0; VT_EINVAL if
 * declared_group is set but unknown (or r, in or out is NULL); a lookup
 * failure other than VT_ENOTFOUND as is; VT_ENOMEM. */
int vt_classify(const struct vt_classify_rules *r, vt_contact_lookup_fn lookup, void *ctx,
                const struct vt_classify_input *in, struct vt_classification *out);

/* Normalizers used both when the register is imported and at lookup. Each
 * writes a NUL-terminated key into out and returns 0, VT_EINVAL when nothing
 * usable remains (or in/out is NULL), or VT_ETOOBIG when the key does not fit
 * in outlen bytes (out is then ""). */
/* Trims white space and lowercases ASCII: " Ana@Example.COM " -> "ana@example.com". */
int vt_contact_normalize_email(const char *in, char *out, size_t outlen);
/* Digits only, without the Colombian country code: "+57 300 123 4567",
 * "573001234567" and "300-123-4567" all give "3001234567". */
int vt_contact_normalize_phone(const char *in, char *out, size_t outlen);
/* ASCII letters and digits only, uppercased: "1.020.304" -> "1020304". */
int vt_contact_normalize_id(const char *in, char *out, size_t outlen);

#endif
