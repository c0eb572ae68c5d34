/* config_values.c - the configuration keys whose values are structured
 * (times, dates, lists, groups, rules, templates, mailboxes): each checked
 * and stored, or refused with a message naming the problem (config_int.h).
 * The key table and the loading itself are config.c.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_int.h"
#include "core/error.h"
#include "core/roles.h"
#include "core/text.h"

int vt_config__fail(struct ctx *c, const char *fmt, const char *arg)
{
    snprintf(c->msg, c->msglen, fmt, arg);
    return VT_ECONFIG;
}

void vt_config__free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void vt_config__free_templates(struct vt_wa_template *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].kind);
        free(t[i].name);
        free(t[i].language);
    }
    free(t);
}

void vt_config__free_mailboxes(struct vt_mailbox_config *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].imap_url);
        free(m[i].username);
        free(m[i].password);
        free(m[i].move_to);
    }
    free(m);
}

void vt_config__free_type_rules(struct vt_mail_type_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].keyword);
        free(r[i].type);
    }
    free(r);
}

/* The PQRSD types an email's subject can set by default (issue 4): the
 * foundation's vocabulary, matched as whole words without accents. */
static const char *const default_type_rules[][2] = {
    {"queja", "queja"},           {"reclamo", "reclamo"},
    {"denuncia", "denuncia"},     {"corrupcion", "denuncia"},
    {"sugerencia", "sugerencia"}, {"felicitacion", "felicitacion"},
    {"felicito", "felicitacion"}, {"derecho de peticion", "peticion"},
};

int vt_config__default_mail_rules(struct vt_config *cfg)
{
    size_t n = sizeof(default_type_rules) / sizeof(default_type_rules[0]);
    cfg->email.type_rules = calloc(n, sizeof(*cfg->email.type_rules));
    if (!cfg->email.type_rules)
        return VT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        cfg->email.type_rules[i].keyword = strdup(default_type_rules[i][0]);
        cfg->email.type_rules[i].type = strdup(default_type_rules[i][1]);
        cfg->email.n_type_rules++;
        if (!cfg->email.type_rules[i].keyword || !cfg->email.type_rules[i].type)
            return VT_ENOMEM;
    }
    return 0;
}

/* A JSON number that is an exact integer within [min, max]. */
int vt_config__get_integer(struct ctx *c, const cJSON *v, long long min, long long max,
                           long long *out)
{
    if (!cJSON_IsNumber(v))
        return vt_config__fail(c, "must be a number%s", "");
    double d = v->valuedouble;
    /* Range first: converting an out-of-range double to an integer is undefined. */
    if (!(d >= (double)min && d <= (double)max)) {
        snprintf(c->msg, c->msglen, "must be between %lld and %lld", min, max);
        return VT_ECONFIG;
    }
    if (d != (double)(long long)d)
        return vt_config__fail(c, "must be a whole number%s", "");
    *out = (long long)d;
    return 0;
}

int vt_config__get_string(struct ctx *c, const cJSON *v, long long min, long long max, char **out)
{
    if (!cJSON_IsString(v))
        return vt_config__fail(c, "must be a string%s", "");
    size_t len = strlen(v->valuestring);
    if (!vt_utf8_valid(v->valuestring, len))
        return vt_config__fail(c, "must be valid UTF-8%s", "");
    size_t chars = vt_utf8_chars(v->valuestring, len);
    if ((long long)chars < min || (long long)chars > max) {
        snprintf(c->msg, c->msglen, "must be %lld to %lld characters long", min, max);
        return VT_ECONFIG;
    }
    char *s = strdup(v->valuestring);
    if (!s)
        return VT_ENOMEM;
    free(*out);
    *out = s;
    return 0;
}

int vt_config__closing_time(struct ctx *c, const cJSON *v)
{
    int minutes;
    if (!cJSON_IsString(v) || vt_time_parse_hhmm(v->valuestring, &minutes))
        return vt_config__fail(c, "must be a time \"HH:MM\"%s", "");
    c->cfg->calendar.closing_minute = minutes;
    return 0;
}

int vt_config__non_working_days(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of dates \"YYYY-MM-DD\"%s", "");
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        vt_date_t d;
        if (!cJSON_IsString(e) || vt_date_parse(e->valuestring, &d))
            return vt_config__fail(c, "must be an array of dates \"YYYY-MM-DD\"%s", "");
        if (vt_calendar_add_non_working(&c->cfg->calendar, d))
            return VT_ENOMEM;
    }
    return 0;
}

int vt_config__allowed_types(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of MIME types%s", "");
    int n = cJSON_GetArraySize(v);
    char **types = calloc((size_t)n + 1, sizeof(char *));
    if (!types)
        return VT_ENOMEM;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) || !strchr(e->valuestring, '/') || strlen(e->valuestring) > 100) {
            vt_config__free_strv(types, i);
            return vt_config__fail(
                c, "must be an array of MIME types such as \"application/pdf\"%s", "");
        }
        if (!(types[i++] = strdup(e->valuestring))) {
            vt_config__free_strv(types, i);
            return VT_ENOMEM;
        }
    }
    vt_config__free_strv(c->cfg->allowed_types, c->cfg->n_allowed_types);
    c->cfg->allowed_types = types;
    c->cfg->n_allowed_types = i;
    return 0;
}

int vt_config_url_origin(const char *url, char *out, size_t outlen)
{
    const char *scheme = strncasecmp(url, "https://", 8) == 0  ? "https"
                         : strncasecmp(url, "http://", 7) == 0 ? "http"
                                                               : NULL;
    if (!scheme)
        return VT_EINVAL;
    const char *host = url + strlen(scheme) + 3;
    size_t n = strcspn(host, "/?#");
    if (n == 0 || n > 255)
        return VT_EINVAL;
    char hp[256];
    for (size_t i = 0; i < n; i++) {
        char ch = host[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']'))
            return VT_EINVAL; /* userinfo, spaces, quotes: not an origin */
        hp[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    hp[n] = '\0';
    /* The port is what follows the last ':' outside an IPv6 literal's brackets. */
    char *colon = strrchr(hp, ':'), *bracket = strrchr(hp, ']');
    if (colon && (!bracket || colon > bracket)) {
        const char *dflt = strcmp(scheme, "https") == 0 ? "443" : "80";
        if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return VT_EINVAL;
        if (strcmp(colon + 1, dflt) == 0)
            *colon = '\0';
        if (colon == hp)
            return VT_EINVAL;
    }
    int w = snprintf(out, outlen, "%s://%s", scheme, hp);
    return w < 0 || (size_t)w >= outlen ? VT_EINVAL : 0;
}

/* ["https://intranet.entidad.gov.co", ...]: origins whose pages may use a
 * staff session on /live, besides entity.public_url's. */
int vt_config__allowed_origins(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return vt_config__fail(
            c, "must be an array of origins such as \"https://pqrsd.entidad.gov.co\"%s", "");
    int n = cJSON_GetArraySize(v);
    char **list = calloc((size_t)n + 1, sizeof(char *));
    if (!list)
        return VT_ENOMEM;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        char origin[300];
        const char *rest = cJSON_IsString(e) ? strstr(e->valuestring, "://") : NULL;
        rest = rest ? rest + 3 + strcspn(rest + 3, "/?#") : NULL; /* what follows host[:port] */
        if (!rest || (*rest && strcmp(rest, "/") != 0) ||
            vt_config_url_origin(e->valuestring, origin, sizeof(origin))) {
            vt_config__free_strv(list, i);
            return vt_config__fail(
                c,
                "must be an array of origins (scheme://host[:port], no path) such as "
                "\"https://pqrsd.entidad.gov.co\"%s",
                "");
        }
        if (!(list[i++] = strdup(origin))) {
            vt_config__free_strv(list, i);
            return VT_ENOMEM;
        }
    }
    vt_config__free_strv(c->cfg->live_allowed_origins, c->cfg->n_live_allowed_origins);
    c->cfg->live_allowed_origins = list;
    c->cfg->n_live_allowed_origins = i;
    return 0;
}

/* ["coordinador", ...]: the roles that see who filed a denuncia. */
int vt_config__identity_roles(struct ctx *c, const cJSON *v)
{
    static const char *const roles[] = VT_ROLE_NAMES;
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of roles%s", "");
    unsigned mask = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        int found = -1;
        for (int i = 0; cJSON_IsString(e) && roles[i]; i++)
            if (strcmp(roles[i], e->valuestring) == 0)
                found = i;
        if (found < 0)
            return vt_config__fail(c,
                                   "must list roles among agente, coordinador, gerente, moderador, "
                                   "admin%s",
                                   "");
        mask |= 1u << found;
    }
    c->cfg->staff.denuncia_identity_roles = mask;
    return 0;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static const char *str_member(const cJSON *obj, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

int vt_config__groups(struct ctx *c, const cJSON *v)
{
    struct vt_classify_rules *r = &c->cfg->rules;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return vt_config__fail(c, "must be a non-empty array of {\"id\", \"name\"}%s", "");
    int n = cJSON_GetArraySize(v);
    struct vt_group *g = calloc((size_t)n, sizeof(*g));
    if (!g)
        return VT_ENOMEM;
    size_t i = 0;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        const char *id = str_member(e, "id"), *name = str_member(e, "name");
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !id || !name || !*name) {
            rc =
                vt_config__fail(c, "each group must be {\"id\": \"...\", \"name\": \"...\"}%s", "");
            goto fail;
        }
        if (!valid_id(id)) {
            rc =
                vt_config__fail(c, "group id \"%s\" must be 1-63 characters of a-z, 0-9 and _", id);
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(g[j].id, id) == 0) {
                rc = vt_config__fail(c, "group id \"%s\" appears twice", id);
                goto fail;
            }
        g[i].id = strdup(id);
        g[i].name = strdup(name);
        i++;
        if (!g[i - 1].id || !g[i - 1].name) {
            rc = VT_ENOMEM;
            goto fail;
        }
    }
    for (size_t j = 0; j < r->n_groups; j++) {
        free(r->groups[j].id);
        free(r->groups[j].name);
    }
    free(r->groups);
    r->groups = g;
    r->n_groups = i;
    return 0;
fail:
    for (size_t j = 0; j < i; j++) {
        free(g[j].id);
        free(g[j].name);
    }
    free(g);
    return rc;
}

int vt_config__default_group(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsString(v) || !valid_id(v->valuestring))
        return vt_config__fail(c, "must be a group id%s", "");
    char *s = strdup(v->valuestring);
    if (!s)
        return VT_ENOMEM;
    free(c->cfg->rules.default_group);
    c->cfg->rules.default_group = s;
    return 0;
}

int vt_config__domain_rules(struct ctx *c, const cJSON *v)
{
    struct vt_classify_rules *r = &c->cfg->rules;
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of {\"pattern\", \"group\"}%s", "");
    int n = cJSON_GetArraySize(v);
    struct vt_domain_rule *d = calloc((size_t)n + 1, sizeof(*d));
    if (!d)
        return VT_ENOMEM;
    size_t i = 0;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        const char *pat = str_member(e, "pattern"), *grp = str_member(e, "group");
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !pat || !*pat || !grp) {
            rc = vt_config__fail(
                c, "each rule must be {\"pattern\": \"*.gov.co\", \"group\": \"...\"}%s", "");
            goto fail;
        }
        d[i].pattern = strdup(pat);
        d[i].group = strdup(grp);
        i++;
        if (!d[i - 1].pattern || !d[i - 1].group) {
            rc = VT_ENOMEM;
            goto fail;
        }
    }
    for (size_t j = 0; j < r->n_domains; j++) {
        free(r->domains[j].pattern);
        free(r->domains[j].group);
    }
    free(r->domains);
    r->domains = d;
    r->n_domains = i;
    return 0;
fail:
    for (size_t j = 0; j < i; j++) {
        free(d[j].pattern);
        free(d[j].group);
    }
    free(d);
    return rc;
}

static void free_keyword_rules(struct vt_keyword_rule *k, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        vt_config__free_strv(k[j].keywords, k[j].n_keywords);
        free(k[j].group);
    }
    free(k);
}

int vt_config__keyword_rules(struct ctx *c, const cJSON *v)
{
    struct vt_classify_rules *r = &c->cfg->rules;
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of {\"keywords\": [...], \"group\"}%s", "");
    int n = cJSON_GetArraySize(v);
    struct vt_keyword_rule *k = calloc((size_t)n + 1, sizeof(*k));
    if (!k)
        return VT_ENOMEM;
    size_t i = 0;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        const cJSON *words = cJSON_GetObjectItemCaseSensitive(e, "keywords");
        const char *grp = str_member(e, "group");
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsArray(words) ||
            cJSON_GetArraySize(words) == 0 || !grp) {
            rc = vt_config__fail(
                c, "each rule must be {\"keywords\": [\"...\"], \"group\": \"...\"}%s", "");
            goto fail;
        }
        struct vt_keyword_rule *rule = &k[i++];
        if (!(rule->group = strdup(grp)) ||
            !(rule->keywords = calloc((size_t)cJSON_GetArraySize(words), sizeof(char *)))) {
            rc = VT_ENOMEM;
            goto fail;
        }
        const cJSON *w;
        cJSON_ArrayForEach(w, words)
        {
            if (!cJSON_IsString(w) || !*w->valuestring) {
                rc = vt_config__fail(c, "keywords must be non-empty strings%s", "");
                goto fail;
            }
            if (!(rule->keywords[rule->n_keywords] = strdup(w->valuestring))) {
                rc = VT_ENOMEM;
                goto fail;
            }
            rule->n_keywords++;
        }
    }
    free_keyword_rules(r->keywords, r->n_keywords);
    r->keywords = k;
    r->n_keywords = i;
    return 0;
fail:
    free_keyword_rules(k, i);
    return rc;
}

int vt_config__log_level(struct ctx *c, const cJSON *v)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; cJSON_IsString(v) && i < 4; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            c->cfg->log_level = i;
            return 0;
        }
    return vt_config__fail(c, "must be one of \"debug\", \"info\", \"warn\", \"error\"%s", "");
}

/* "templates": {"ack": {"name": "acuse_radicado", "language": "es"}, ...} */
int vt_config__wa_templates(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return vt_config__fail(c, "must be an object of {\"kind\": {\"name\", \"language\"}}%s",
                               "");
    int n = cJSON_GetArraySize(v);
    struct vt_wa_template *t = calloc((size_t)n + 1, sizeof(*t));
    if (!t)
        return VT_ENOMEM;
    size_t i = 0;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (strncmp(e->string, "//", 2) == 0)
            continue;
        const char *name = str_member(e, "name"), *lang = str_member(e, "language");
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !name || !*name || !lang ||
            !*lang || !valid_id(e->string)) {
            rc =
                vt_config__fail(c,
                                "each template must be \"kind\": {\"name\": \"...\", \"language\": "
                                "\"es\"} (kind \"%s\")",
                                e->string);
            goto fail;
        }
        t[i].kind = strdup(e->string);
        t[i].name = strdup(name);
        t[i].language = strdup(lang);
        i++;
        if (!t[i - 1].kind || !t[i - 1].name || !t[i - 1].language) {
            rc = VT_ENOMEM;
            goto fail;
        }
    }
    vt_config__free_templates(c->cfg->whatsapp.templates, c->cfg->whatsapp.n_templates);
    c->cfg->whatsapp.templates = t;
    c->cfg->whatsapp.n_templates = i;
    return 0;
fail:
    vt_config__free_templates(t, i);
    return rc;
}

static const char *member_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "mailboxes": [{"name", "imap_url", "username", "password" | "password_env",
 * "poll_seconds", "move_to"}, ...] */
int vt_config__mailboxes(struct ctx *c, const cJSON *v)
{
    static const char *const known[] = {"name",         "imap_url",     "username", "password",
                                        "password_env", "poll_seconds", "move_to",  NULL};
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of mailboxes%s", "");
    int n = cJSON_GetArraySize(v);
    struct vt_mailbox_config *m = calloc((size_t)n + 1, sizeof(*m));
    if (!m)
        return VT_ENOMEM;
    size_t i = 0;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        const cJSON *f;
        if (!cJSON_IsObject(e)) {
            rc = vt_config__fail(c, "each mailbox must be an object%s", "");
            goto fail;
        }
        cJSON_ArrayForEach(f, e)
        {
            bool ok = strncmp(f->string, "//", 2) == 0;
            for (int k = 0; !ok && known[k]; k++)
                ok = strcmp(f->string, known[k]) == 0;
            if (!ok) {
                rc = vt_config__fail(c, "unknown mailbox key \"%s\"", f->string);
                goto fail;
            }
        }
        const char *name = member_str(e, "name"), *url = member_str(e, "imap_url");
        const char *user = member_str(e, "username"), *pass = member_str(e, "password");
        const char *env = member_str(e, "password_env"), *move = member_str(e, "move_to");
        const cJSON *poll = cJSON_GetObjectItemCaseSensitive(e, "poll_seconds");
        if (!name || !valid_id(name)) {
            rc = vt_config__fail(c, "each mailbox needs a \"name\" of a-z, 0-9 and _%s", "");
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(m[j].name, name) == 0) {
                rc = vt_config__fail(c, "mailbox \"%s\" appears twice", name);
                goto fail;
            }
        if (!url || (strncmp(url, "imaps://", 8) != 0 && strncmp(url, "imap://", 7) != 0)) {
            rc = vt_config__fail(c, "mailbox \"%s\": imap_url must start with imaps:// or imap://",
                                 name);
            goto fail;
        }
        if (!user || !*user) {
            rc = vt_config__fail(c, "mailbox \"%s\": username is required", name);
            goto fail;
        }
        if (env && getenv(env))
            pass = getenv(env);
        if (!pass) {
            rc = vt_config__fail(c, "mailbox \"%s\": give password or password_env (set)", name);
            goto fail;
        }
        int secs = 60;
        if (poll) {
            if (!cJSON_IsNumber(poll) || poll->valuedouble < 1 || poll->valuedouble > 86400) {
                rc = vt_config__fail(c, "mailbox \"%s\": poll_seconds must be 1-86400", name);
                goto fail;
            }
            secs = (int)poll->valuedouble;
        }
        m[i].name = strdup(name);
        m[i].imap_url = strdup(url);
        m[i].username = strdup(user);
        m[i].password = strdup(pass);
        m[i].move_to = move && *move ? strdup(move) : NULL;
        m[i].poll_seconds = secs;
        i++;
        if (!m[i - 1].name || !m[i - 1].imap_url || !m[i - 1].username || !m[i - 1].password ||
            (move && *move && !m[i - 1].move_to)) {
            rc = VT_ENOMEM;
            goto fail;
        }
    }
    vt_config__free_mailboxes(c->cfg->email.mailboxes, c->cfg->email.n_mailboxes);
    c->cfg->email.mailboxes = m;
    c->cfg->email.n_mailboxes = i;
    return 0;
fail:
    vt_config__free_mailboxes(m, i);
    return rc;
}

/* "type_rules": [{"keyword": "queja", "type": "queja"}, ...] replaces the defaults. */
int vt_config__mail_type_rules(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of {\"keyword\", \"type\"}%s", "");
    int n = cJSON_GetArraySize(v);
    struct vt_mail_type_rule *r = calloc((size_t)n + 1, sizeof(*r));
    if (!r)
        return VT_ENOMEM;
    size_t i = 0;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        const char *kw = member_str(e, "keyword"), *type = member_str(e, "type");
        static const char *const types[] = {"peticion", "queja",        "reclamo", "sugerencia",
                                            "denuncia", "felicitacion", NULL};
        bool known = false;
        for (int k = 0; type && types[k]; k++)
            known = known || strcmp(type, types[k]) == 0;
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !kw || !*kw || !known) {
            rc = vt_config__fail(
                c,
                "each rule must be {\"keyword\": \"...\", \"type\": \"queja\"} with a "
                "PQRSD type%s",
                "");
            goto fail;
        }
        r[i].keyword = strdup(kw);
        r[i].type = strdup(type);
        i++;
        if (!r[i - 1].keyword || !r[i - 1].type) {
            rc = VT_ENOMEM;
            goto fail;
        }
    }
    vt_config__free_type_rules(c->cfg->email.type_rules, c->cfg->email.n_type_rules);
    c->cfg->email.type_rules = r;
    c->cfg->email.n_type_rules = i;
    return 0;
fail:
    vt_config__free_type_rules(r, i);
    return rc;
}

void vt_config__free_dependencias(struct vt_dependencia_seed *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].code);
        free(d[i].name);
    }
    free(d);
}

/* "dependencias": [{"code": "obras", "name": "Secretaría de Obras Públicas"}, ...]:
 * the offices created on the first start (domain/dependencias.h). */
int vt_config__dependencias(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return vt_config__fail(c, "must be an array of {\"code\", \"name\"}%s", "");
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    struct vt_dependencia_seed *d = calloc(n + 1, sizeof(*d));
    if (!d)
        return VT_ENOMEM;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        const char *code = str_member(e, "code"), *name = str_member(e, "name");
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !code || !name || !*name ||
            strlen(name) > 200) {
            rc = vt_config__fail(
                c, "each dependencia must be {\"code\": \"...\", \"name\": \"...\"}%s", "");
            goto fail;
        }
        if (!valid_id(code)) {
            rc = vt_config__fail(c,
                                 "dependencia code \"%s\" must be 1-63 characters of a-z, 0-9 "
                                 "and _",
                                 code);
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(d[j].code, code) == 0) {
                rc = vt_config__fail(c, "dependencia \"%s\" appears twice", code);
                goto fail;
            }
        d[i].code = strdup(code);
        d[i].name = strdup(name);
        i++;
        if (!d[i - 1].code || !d[i - 1].name) {
            rc = VT_ENOMEM;
            goto fail;
        }
    }
    vt_config__free_dependencias(c->cfg->dependencias, c->cfg->n_dependencias);
    c->cfg->dependencias = d;
    c->cfg->n_dependencias = i;
    return 0;
fail:
    vt_config__free_dependencias(d, i);
    return rc;
}
