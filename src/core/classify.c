/* classify.c - the stakeholder classifier of classify.h.
 *
 * Invariants:
 *   1. vt_classify reads the rules and writes only to its output and to its own
 *      stack and heap scratch, so any number of threads may call it at once.
 *   2. Every group it returns is a group of the rules: the declared group is
 *      checked, a registry group that the rules do not know is skipped, and the
 *      rule groups themselves are checked by the config loader.
 *   3. Matching is ASCII-only after folding (vt_fold_es), so it never depends
 *      on the process locale.
 *
 * Must not: talk to the database or log; the registry is a callback.
 */
#include "core/classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"

/* ---- defaults ---- */

static const struct {
    const char *id, *name;
} default_groups[] = {
    {"ciudadania", "Ciudadanía"},
    {"nna", "Niños, niñas y adolescentes"},
    {"organizaciones_sociales", "Organizaciones sociales"},
    {"entidades_publicas", "Entidades públicas"},
    {"organismos_control", "Organismos de control"},
    {"medios", "Medios de comunicación"},
    {"sector_privado", "Sector privado"},
    {"academia", "Academia"},
    {"servidores_publicos", "Servidores públicos"},
};

static const struct {
    const char *pattern, *group;
} default_domains[] = {
    {"contraloria.gov.co", "organismos_control"},    {"*.contraloria.gov.co", "organismos_control"},
    {"contraloria*.gov.co", "organismos_control"},   {"procuraduria.gov.co", "organismos_control"},
    {"*.procuraduria.gov.co", "organismos_control"}, {"defensoria.gov.co", "organismos_control"},
    {"*.defensoria.gov.co", "organismos_control"},   {"personeria*.gov.co", "organismos_control"},
    {"*.personeria*.gov.co", "organismos_control"},
};

/* Each list ends with NULL. */
static const struct {
    const char *keywords[5];
    const char *group;
} default_keywords[] = {
    {{"periodista", "medio de comunicacion", "prensa", NULL}, "medios"},
    {{"junta de accion comunal", "veeduria", "junta administradora local", "fundacion", NULL},
     "organizaciones_sociales"},
    {{"camara de comercio", "gremio", "proveedor", NULL}, "sector_privado"},
    {{"universidad", NULL}, "academia"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int vt_classify_rules_defaults(struct vt_classify_rules *r)
{
    memset(r, 0, sizeof(*r));
    if (!(r->groups = calloc(COUNT(default_groups), sizeof(*r->groups))) ||
        !(r->domains = calloc(COUNT(default_domains), sizeof(*r->domains))) ||
        !(r->keywords = calloc(COUNT(default_keywords), sizeof(*r->keywords))) ||
        !(r->default_group = strdup("ciudadania")))
        goto fail;
    for (size_t i = 0; i < COUNT(default_groups); i++) {
        struct vt_group *g = &r->groups[r->n_groups++];
        if (!(g->id = strdup(default_groups[i].id)) || !(g->name = strdup(default_groups[i].name)))
            goto fail;
    }
    for (size_t i = 0; i < COUNT(default_domains); i++) {
        struct vt_domain_rule *d = &r->domains[r->n_domains++];
        if (!(d->pattern = strdup(default_domains[i].pattern)) ||
            !(d->group = strdup(default_domains[i].group)))
            goto fail;
    }
    for (size_t i = 0; i < COUNT(default_keywords); i++) {
        struct vt_keyword_rule *k = &r->keywords[r->n_keywords++];
        size_t n = 0;
        while (default_keywords[i].keywords[n])
            n++;
        if (!(k->group = strdup(default_keywords[i].group)) ||
            !(k->keywords = calloc(n, sizeof(*k->keywords))))
            goto fail;
        for (size_t j = 0; j < n; j++)
            if (!(k->keywords[k->n_keywords++] = strdup(default_keywords[i].keywords[j])))
                goto fail;
    }
    return 0;
fail:
    vt_classify_rules_cleanup(r);
    return VT_ENOMEM;
}

void vt_classify_rules_cleanup(struct vt_classify_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_keywords; i++) {
        for (size_t j = 0; j < r->keywords[i].n_keywords; j++)
            free(r->keywords[i].keywords[j]);
        free(r->keywords[i].keywords);
        free(r->keywords[i].group);
    }
    free(r->keywords);
    for (size_t i = 0; i < r->n_domains; i++) {
        free(r->domains[i].pattern);
        free(r->domains[i].group);
    }
    free(r->domains);
    free(r->default_group);
    for (size_t i = 0; i < r->n_groups; i++) {
        free(r->groups[i].id);
        free(r->groups[i].name);
    }
    free(r->groups);
    memset(r, 0, sizeof(*r));
}

const char *vt_classify_group_name(const struct vt_classify_rules *r, const char *id)
{
    if (!r || !id)
        return NULL;
    for (size_t i = 0; i < r->n_groups; i++)
        if (r->groups[i].id && strcmp(r->groups[i].id, id) == 0)
            return r->groups[i].name;
    return NULL;
}

bool vt_classify_group_known(const struct vt_classify_rules *r, const char *id)
{
    return vt_classify_group_name(r, id) != NULL;
}

/* ---- normalizers ---- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int vt_contact_normalize_email(const char *in, char *out, size_t outlen)
{
    if (!out || !outlen)
        return VT_EINVAL;
    out[0] = '\0';
    if (!in)
        return VT_EINVAL;
    size_t n = strlen(in);
    while (n && is_space(in[n - 1]))
        n--;
    while (n && is_space(*in))
        in++, n--;
    if (!n)
        return VT_EINVAL;
    if (n >= outlen)
        return VT_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        out[i] = lower(in[i]);
    out[n] = '\0';
    return 0;
}

int vt_contact_normalize_phone(const char *in, char *out, size_t outlen)
{
    if (!out || !outlen)
        return VT_EINVAL;
    out[0] = '\0';
    if (!in)
        return VT_EINVAL;
    /* A '+' before the first digit means the number carries a country code. */
    size_t digits = 0;
    bool plus = false;
    for (const char *p = in; *p; p++) {
        if (is_digit(*p))
            digits++;
        else if (*p == '+' && !digits)
            plus = true;
    }
    const char *p = in;
    while (*p && !is_digit(*p))
        p++;
    size_t skip = 0;
    if (digits >= 2 && p[0] == '5' && p[1] == '7' && (plus || digits == 12))
        skip = 2;
    if (digits - skip == 0)
        return VT_EINVAL;
    if (digits - skip >= outlen)
        return VT_ETOOBIG;
    size_t n = 0, seen = 0;
    for (; *p; p++)
        if (is_digit(*p) && seen++ >= skip)
            out[n++] = *p;
    out[n] = '\0';
    return 0;
}

int vt_contact_normalize_id(const char *in, char *out, size_t outlen)
{
    if (!out || !outlen)
        return VT_EINVAL;
    out[0] = '\0';
    if (!in)
        return VT_EINVAL;
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (!is_alnum(*p))
            continue;
        if (n + 1 >= outlen) {
            out[0] = '\0';
            return VT_ETOOBIG;
        }
        out[n++] = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
    }
    out[n] = '\0';
    return n ? 0 : VT_EINVAL;
}

/* ---- matching ---- */

/* Case-insensitive glob where '*' matches any run of characters. Greedy with
 * one backtrack point, so it runs in O(len(s) * len(pat)) whatever the input. */
static bool glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = ++pat;
            resume = s;
        } else if (*pat && lower(*pat) == lower(*s)) {
            pat++;
            s++;
        } else if (star) {
            pat = star;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* Folded text is ASCII for every Spanish letter; any other byte (punctuation,
 * typographic quotes, emoji) separates words. */
static bool is_word(char c)
{
    return is_alnum(c);
}

/* Matches the folded keyword kw at text[i]; a space in kw matches any run of
 * white space. Returns the end of the match, or NULL. */
static const char *match_at(const char *t, const char *kw)
{
    while (*kw) {
        if (*kw == ' ') {
            if (!is_space(*t))
                return NULL;
            while (is_space(*t))
                t++;
            while (*kw == ' ')
                kw++;
        } else if (*kw == *t) {
            kw++;
            t++;
        } else {
            return NULL;
        }
    }
    return t;
}

/* True when the folded, trimmed keyword kw occurs in folded text as a whole
 * word or phrase. */
static bool contains_word(const char *text, const char *kw)
{
    if (!*kw)
        return false;
    for (const char *t = text; (t = strchr(t, *kw)); t++) {
        if (t > text && is_word(t[-1]))
            continue;
        const char *end = match_at(t, kw);
        if (end && !is_word(*end))
            return true;
    }
    return false;
}

/* Folds a keyword into out and trims white space at both ends. */
static void fold_keyword(const char *kw, char *out, size_t outlen)
{
    vt_fold_es(kw, out, outlen);
    size_t n = strlen(out);
    while (n && is_space(out[n - 1]))
        out[--n] = '\0';
    size_t lead = 0;
    while (is_space(out[lead]))
        lead++;
    memmove(out, out + lead, n - lead + 1);
}

/* The first keyword rule with a keyword in folded text, or NULL; *which is the
 * index of the keyword. kwbuf holds kwlen bytes of scratch. */
static const struct vt_keyword_rule *keyword_rule(const struct vt_classify_rules *r,
                                                  const char *text, char *kwbuf, size_t kwlen,
                                                  size_t *which)
{
    for (size_t i = 0; i < r->n_keywords; i++) {
        const struct vt_keyword_rule *k = &r->keywords[i];
        for (size_t j = 0; j < k->n_keywords; j++) {
            if (!k->keywords[j])
                continue;
            fold_keyword(k->keywords[j], kwbuf, kwlen);
            if (contains_word(text, kwbuf)) {
                *which = j;
                return k;
            }
        }
    }
    return NULL;
}

static size_t len_or_zero(const char *s)
{
    return s ? strlen(s) : 0;
}

/* vt_fold_es does not lengthen text today ("æ", two bytes, becomes "ae");
 * twice the room keeps a future wider mapping from silently cutting the body. */
static size_t fold_size(size_t n)
{
    return n * 2 + 1;
}

/* Rule 5: subject first, then body; within each, the first matching rule. */
static int by_keywords(const struct vt_classify_rules *r, const struct vt_classify_input *in,
                       struct vt_classification *out, bool *found)
{
    *found = false;
    if (!r->n_keywords || (!len_or_zero(in->subject) && !len_or_zero(in->body)))
        return 0;
    size_t kwmax = 0;
    for (size_t i = 0; i < r->n_keywords; i++)
        for (size_t j = 0; j < r->keywords[i].n_keywords; j++)
            if (len_or_zero(r->keywords[i].keywords[j]) > kwmax)
                kwmax = strlen(r->keywords[i].keywords[j]);
    size_t slen = fold_size(len_or_zero(in->subject)), blen = fold_size(len_or_zero(in->body));
    size_t klen = fold_size(kwmax);
    char *scratch = malloc(slen + blen + klen);
    if (!scratch)
        return VT_ENOMEM;
    char *subject = scratch, *body = scratch + slen, *kw = body + blen;
    vt_fold_es(in->subject ? in->subject : "", subject, slen);
    vt_fold_es(in->body ? in->body : "", body, blen);
    const char *texts[] = {subject, body};
    for (size_t t = 0; t < 2 && !*found; t++) {
        size_t which;
        const struct vt_keyword_rule *k = keyword_rule(r, texts[t], kw, klen, &which);
        if (k && k->group) {
            snprintf(out->group, sizeof(out->group), "%s", k->group);
            snprintf(out->rule, sizeof(out->rule), "keyword:%s", k->keywords[which]);
            *found = true;
        }
    }
    free(scratch);
    return 0;
}

/* Rule 3: the registry, by e-mail, phone and id number in that order. */
static int by_registry(const struct vt_classify_rules *r, vt_contact_lookup_fn lookup, void *ctx,
                       const struct vt_classify_input *in, struct vt_classification *out,
                       bool *found)
{
    static const struct {
        const char *type;
        int (*normalize)(const char *, char *, size_t);
    } keys[] = {
        {"email", vt_contact_normalize_email},
        {"phone", vt_contact_normalize_phone},
        {"id", vt_contact_normalize_id},
    };
    const char *raw[] = {in->email, in->phone, in->id_number};
    *found = false;
    for (size_t i = 0; lookup && i < COUNT(keys); i++) {
        char key[320], group[sizeof(out->group)] = "";
        if (!raw[i] || keys[i].normalize(raw[i], key, sizeof(key)))
            continue;
        int rc = lookup(ctx, keys[i].type, key, group, sizeof(group));
        if (rc == VT_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        group[sizeof(group) - 1] = '\0';
        if (!vt_classify_group_known(r, group))
            continue;
        snprintf(out->group, sizeof(out->group), "%s", group);
        snprintf(out->rule, sizeof(out->rule), "contacts:%s", keys[i].type);
        *found = true;
        return 0;
    }
    return 0;
}

/* Rule 4: the first domain rule matching the part after the last '@'. */
static bool by_domain(const struct vt_classify_rules *r, const char *email,
                      struct vt_classification *out)
{
    char norm[320];
    if (!email || vt_contact_normalize_email(email, norm, sizeof(norm)))
        return false;
    const char *at = strrchr(norm, '@');
    if (!at || !at[1])
        return false;
    for (size_t i = 0; i < r->n_domains; i++) {
        const struct vt_domain_rule *d = &r->domains[i];
        if (d->pattern && d->group && glob_match(d->pattern, at + 1)) {
            snprintf(out->group, sizeof(out->group), "%s", d->group);
            snprintf(out->rule, sizeof(out->rule), "domain:%s", d->pattern);
            return true;
        }
    }
    return false;
}

static void decide(struct vt_classification *out, const char *group, const char *rule)
{
    snprintf(out->group, sizeof(out->group), "%s", group);
    snprintf(out->rule, sizeof(out->rule), "%s", rule);
}

int vt_classify(const struct vt_classify_rules *r, vt_contact_lookup_fn lookup, void *ctx,
                const struct vt_classify_input *in, struct vt_classification *out)
{
    if (!r || !in || !out)
        return VT_EINVAL;
    memset(out, 0, sizeof(*out));
    bool found = false;
    int rc;
    if (in->declared_group && *in->declared_group) {
        if (!vt_classify_group_known(r, in->declared_group))
            return VT_EINVAL;
        decide(out, in->declared_group, "declared");
        return 0;
    }
    if (in->person_type && strcmp(in->person_type, "nna") == 0 &&
        vt_classify_group_known(r, "nna")) {
        decide(out, "nna", "person_type:nna");
        return 0;
    }
    if ((rc = by_registry(r, lookup, ctx, in, out, &found)) || found)
        return rc;
    if (by_domain(r, in->email, out))
        return 0;
    if (in->model_group && vt_classify_group_known(r, in->model_group)) {
        decide(out, in->model_group, in->model_rule ? in->model_rule : "model");
        return 0;
    }
    if ((rc = by_keywords(r, in, out, &found)) || found)
        return rc;
    decide(out, r->default_group ? r->default_group : "", "default");
    return 0;
}
