/* config.c - reads the JSON configuration and checks it against keys[].
 *
 * Owns: the table of every key (path, type, default, bounds, secret env var)
 * and the cross-checks between keys. Keys whose name starts with "//" are
 * comments and ignored, so the example file can document itself.
 * Must not: touch the network, the store or the file system beyond reading
 * the one file.
 */
#include "core/config.h"
#include "core/roles.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/text.h"

enum kind { K_BOOL, K_INT, K_I64, K_STR, K_CUSTOM };

struct ctx {
    struct vt_config *cfg;
    char *msg;
    size_t msglen;
};

typedef int (*custom_fn)(struct ctx *c, const cJSON *v);

struct key {
    const char *path;
    enum kind kind;
    size_t off;         /* offset in struct vt_config (not for K_CUSTOM) */
    long long dflt;     /* K_BOOL, K_INT, K_I64 */
    const char *sdflt;  /* K_STR */
    long long min, max; /* bounds; for K_STR the length in characters */
    const char *env;    /* environment variable that overrides the value */
    custom_fn custom;
};

static int closing_time(struct ctx *c, const cJSON *v);
static int non_working_days(struct ctx *c, const cJSON *v);
static int allowed_types(struct ctx *c, const cJSON *v);
static int allowed_origins(struct ctx *c, const cJSON *v);
static int identity_roles(struct ctx *c, const cJSON *v);
static int groups(struct ctx *c, const cJSON *v);
static int default_group(struct ctx *c, const cJSON *v);
static int domain_rules(struct ctx *c, const cJSON *v);
static int keyword_rules(struct ctx *c, const cJSON *v);
static int log_level(struct ctx *c, const cJSON *v);
static int wa_templates(struct ctx *c, const cJSON *v);
static int mailboxes(struct ctx *c, const cJSON *v);
static int mail_type_rules(struct ctx *c, const cJSON *v);
static int default_mail_rules(struct vt_config *cfg);

#define O(f) offsetof(struct vt_config, f)
#define T(i) (O(terms) + (i) * sizeof(int))
#define MIB (1024LL * 1024)

/* Every key the daemon understands; one line each: path, type, offset, default, bounds. */
static const struct key keys[] = {
    {"server.listen", K_STR, O(listen), 0, "127.0.0.1", 1, 255, NULL, NULL},
    {"server.port", K_INT, O(port), 8080, NULL, 0, 65535, NULL, NULL},
    {"server.data_dir", K_STR, O(data_dir), 0, "data", 1, 4000, NULL, NULL},
    {"server.max_body_bytes", K_I64, O(max_body_bytes), 25 * MIB, NULL, 1024, 1024 * MIB, NULL,
     NULL},
    {"server.max_json_bytes", K_I64, O(max_json_bytes), 256 * 1024, NULL, 1024, 64 * MIB, NULL,
     NULL},
    {"server.trust_forwarded_for", K_BOOL, O(trust_forwarded_for), 0, NULL, 0, 1, NULL, NULL},
    {"server.max_connections_per_ip", K_INT, O(max_connections_per_ip), 256, NULL, 0, 100000, NULL,
     NULL},
    {"server.header_timeout_seconds", K_INT, O(header_timeout_seconds), 10, NULL, 1, 300, NULL,
     NULL},
    {"server.body_budget_bytes", K_I64, O(body_budget_bytes), 128 * MIB, NULL, 1024,
     64 * 1024 * MIB, NULL, NULL},
    {"entity.name", K_STR, O(entity_name), 0, "Entidad de ejemplo", 1, 200, NULL, NULL},
    {"entity.public_url", K_STR, O(public_url), 0, "http://localhost:8080", 1, 300, NULL, NULL},
    {"office.closing_time", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, closing_time},
    {"office.non_working_days", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, non_working_days},
    {"terms.peticion_general", K_INT, T(VT_TERM_PETICION_GENERAL), 15, NULL, 1, 365, NULL, NULL},
    {"terms.peticion_documentos", K_INT, T(VT_TERM_PETICION_DOCUMENTOS), 10, NULL, 1, 365, NULL,
     NULL},
    {"terms.peticion_consulta", K_INT, T(VT_TERM_PETICION_CONSULTA), 30, NULL, 1, 365, NULL, NULL},
    {"terms.queja", K_INT, T(VT_TERM_QUEJA), 15, NULL, 1, 365, NULL, NULL},
    {"terms.reclamo", K_INT, T(VT_TERM_RECLAMO), 15, NULL, 1, 365, NULL, NULL},
    {"terms.sugerencia", K_INT, T(VT_TERM_SUGERENCIA), 15, NULL, 1, 365, NULL, NULL},
    {"terms.denuncia", K_INT, T(VT_TERM_DENUNCIA), 15, NULL, 1, 365, NULL, NULL},
    {"terms.hearing_question", K_INT, T(VT_TERM_HEARING_QUESTION), 15, NULL, 1, 365, NULL, NULL},
    {"radicado.prefix", K_STR, O(radicado_prefix), 0, "", 0, 20, NULL, NULL},
    {"radicado.digits", K_INT, O(radicado_digits), 6, NULL, 4, 10, NULL, NULL},
    {"intake.rate_limit_per_minute", K_INT, O(rate_limit_per_minute), 60, NULL, 0, 1000000, NULL,
     NULL},
    {"intake.rate_limit_burst", K_INT, O(rate_limit_burst), 20, NULL, 1, 1000000, NULL, NULL},
    {"tracking.rate_limit_per_minute", K_INT, O(track_rate_limit_per_minute), 10, NULL, 0, 1000000,
     NULL, NULL},
    {"tracking.rate_limit_burst", K_INT, O(track_rate_limit_burst), 10, NULL, 1, 1000000, NULL,
     NULL},
    {"intake.max_subject_chars", K_INT, O(max_subject_chars), 200, NULL, 10, 1000, NULL, NULL},
    {"intake.max_body_chars", K_INT, O(max_body_chars), 20000, NULL, 100, 1000000, NULL, NULL},
    {"attachments.max_bytes", K_I64, O(attachment_max_bytes), 10 * MIB, NULL, 1024, 1024 * MIB,
     NULL, NULL},
    {"attachments.max_count", K_INT, O(attachment_max_count), 5, NULL, 0, 100, NULL, NULL},
    {"attachments.allowed_types", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, allowed_types},
    {"classification.groups", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, groups},
    {"classification.default_group", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, default_group},
    {"classification.domain_rules", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, domain_rules},
    {"classification.keyword_rules", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, keyword_rules},
    {"store.batch_max", K_INT, O(batch_max), 1024, NULL, 1, 100000, NULL, NULL},
    {"live.due_soon_days", K_INT, O(due_soon_days), 3, NULL, 0, 60, NULL, NULL},
    {"live.allowed_origins", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, allowed_origins},
    {"metrics.token", K_STR, O(metrics_token), 0, "", 0, 200, "VENTANILLA_METRICS_TOKEN", NULL},
    {"log.level", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, log_level},
    {"outbox.max_attempts", K_INT, O(outbox.max_attempts), 8, NULL, 1, 100, NULL, NULL},
    {"outbox.backoff_base_ms", K_INT, O(outbox.backoff_base_ms), 2000, NULL, 10, 3600000, NULL,
     NULL},
    {"outbox.backoff_max_ms", K_INT, O(outbox.backoff_max_ms), 600000, NULL, 10, 86400000, NULL,
     NULL},
    {"outbox.timeout_ms", K_INT, O(outbox.timeout_ms), 15000, NULL, 100, 300000, NULL, NULL},
    {"outbox.batch", K_INT, O(outbox.batch), 32, NULL, 1, 1000, NULL, NULL},
    {"outbox.senders", K_INT, O(outbox.senders), 4, NULL, 1, 64, NULL, NULL},
    {"channels.whatsapp.enabled", K_BOOL, O(whatsapp.enabled), 0, NULL, 0, 1, NULL, NULL},
    {"channels.whatsapp.verify_token", K_STR, O(whatsapp.verify_token), 0, "", 0, 200,
     "VENTANILLA_WHATSAPP_VERIFY_TOKEN", NULL},
    {"channels.whatsapp.app_secret", K_STR, O(whatsapp.app_secret), 0, "", 0, 200,
     "VENTANILLA_WHATSAPP_APP_SECRET", NULL},
    {"channels.whatsapp.access_token", K_STR, O(whatsapp.access_token), 0, "", 0, 1000,
     "VENTANILLA_WHATSAPP_ACCESS_TOKEN", NULL},
    {"channels.whatsapp.phone_number_id", K_STR, O(whatsapp.phone_number_id), 0, "", 0, 64, NULL,
     NULL},
    {"channels.whatsapp.graph_base_url", K_STR, O(whatsapp.graph_base_url), 0,
     "https://graph.facebook.com", 8, 300, NULL, NULL},
    {"channels.whatsapp.api_version", K_STR, O(whatsapp.api_version), 0, "v21.0", 2, 20, NULL,
     NULL},
    {"channels.whatsapp.templates", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, wa_templates},
    {"channels.email.enabled", K_BOOL, O(email.enabled), 0, NULL, 0, 1, NULL, NULL},
    {"channels.email.mailboxes", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, mailboxes},
    {"channels.email.smtp_url", K_STR, O(email.smtp_url), 0, "", 0, 300, NULL, NULL},
    {"channels.email.smtp_username", K_STR, O(email.smtp_username), 0, "", 0, 200, NULL, NULL},
    {"channels.email.smtp_password", K_STR, O(email.smtp_password), 0, "", 0, 200,
     "VENTANILLA_EMAIL_SMTP_PASSWORD", NULL},
    {"channels.email.from", K_STR, O(email.from), 0, "", 0, 254, NULL, NULL},
    {"channels.email.allow_plaintext_loopback", K_BOOL, O(email.allow_plaintext_loopback), 0, NULL,
     0, 1, NULL, NULL},
    {"channels.email.ca_file", K_STR, O(email.ca_file), 0, "", 0, 4096, NULL, NULL},
    {"channels.email.type_rules", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, mail_type_rules},
    {"channels.email.tracking_url", K_STR, O(email.tracking_url), 0, "", 0, 300, NULL, NULL},
    {"channels.email.hearing_address", K_STR, O(email.hearing_address), 0, "", 0, 254, NULL, NULL},
    {"channels.whatsapp.max_events", K_INT, O(whatsapp.max_events), 1000, NULL, 1, 100000, NULL,
     NULL},
    {"staff.session_idle_seconds", K_INT, O(staff.session_idle_seconds), 1800, NULL, 2, 604800,
     NULL, NULL},
    {"staff.session_max_seconds", K_INT, O(staff.session_max_seconds), 43200, NULL, 2, 604800, NULL,
     NULL},
    {"staff.secure_cookie", K_BOOL, O(staff.secure_cookie), 0, NULL, 0, 1, NULL, NULL},
    {"staff.login_delay_after", K_INT, O(staff.login_delay_after), 5, NULL, 1, 100, NULL, NULL},
    {"staff.login_delay_first_seconds", K_INT, O(staff.login_delay_first_seconds), 1, NULL, 1, 60,
     NULL, NULL},
    {"staff.login_delay_max_seconds", K_INT, O(staff.login_delay_max_seconds), 300, NULL, 1, 3600,
     NULL, NULL},
    {"staff.login_account_failures", K_INT, O(staff.login_account_failures), 100, NULL, 1, 100000,
     NULL, NULL},
    {"staff.login_workers", K_INT, O(staff.login_workers), 0, NULL, 0, 64, NULL, NULL},
    {"staff.login_queue_per_address", K_INT, O(staff.login_queue_per_address), 4, NULL, 1, 256,
     NULL, NULL},
    {"staff.login_per_minute", K_INT, O(staff.login_per_minute), 20, NULL, 1, 10000, NULL, NULL},
    {"staff.triage_dependencia", K_STR, O(staff.triage_dependencia), 0, "atencion_ciudadano", 1, 63,
     NULL, NULL},
    {"staff.denuncia_identity_roles", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, identity_roles},
    {"staff.completion_wait_days", K_INT, O(staff.completion_wait_days), 30, NULL, 1, 31, NULL,
     NULL},
    {"surveys.after_item", K_STR, O(surveys.after_item), 0, "satisfaccion", 0, 63, NULL, NULL},
    {"surveys.invite_delay_minutes", K_INT, O(surveys.invite_delay_minutes), 60, NULL, 0, 10080,
     NULL, NULL},
    {"surveys.link_days", K_INT, O(surveys.link_days), 15, NULL, 1, 365, NULL, NULL},
    {"surveys.detractor_nps_max", K_INT, O(surveys.detractor_nps_max), 6, NULL, 0, 10, NULL, NULL},
    {"surveys.detractor_csat_max", K_INT, O(surveys.detractor_csat_max), 2, NULL, 1, 5, NULL, NULL},
    {"staff.due_refresh_seconds", K_INT, O(staff.due_refresh_seconds), 60, NULL, 1, 3600, NULL,
     NULL},
};

static const char *default_types[] = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/msword",
    "application/vnd.ms-excel",
    "audio/ogg",
    "audio/mpeg",
    "video/mp4",
};

static int fail(struct ctx *c, const char *fmt, const char *arg)
{
    snprintf(c->msg, c->msglen, fmt, arg);
    return VT_ECONFIG;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int vt_config_defaults(struct vt_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    vt_calendar_init(&cfg->calendar);
    cfg->log_level = VT_LOG_INFO;
    cfg->staff.denuncia_identity_roles = 1u << VT_ROLE_COORDINADOR;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        char *p = (char *)cfg + k->off;
        switch (k->kind) {
        case K_BOOL:
            *(bool *)p = k->dflt != 0;
            break;
        case K_INT:
            *(int *)p = (int)k->dflt;
            break;
        case K_I64:
            *(long long *)p = k->dflt;
            break;
        case K_STR:
            if (!(*(char **)p = strdup(k->sdflt)))
                goto fail;
            break;
        case K_CUSTOM:
            break;
        }
    }
    size_t n = sizeof(default_types) / sizeof(default_types[0]);
    if (!(cfg->allowed_types = calloc(n + 1, sizeof(char *)))) /* NULL-terminated */
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!(cfg->allowed_types[i] = strdup(default_types[i])))
            goto fail;
        cfg->n_allowed_types++;
    }
    if (vt_classify_rules_defaults(&cfg->rules) || default_mail_rules(cfg))
        goto fail;
    return 0;
fail:
    vt_config_cleanup(cfg);
    return VT_ENOMEM;
}

static void free_templates(struct vt_wa_template *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].kind);
        free(t[i].name);
        free(t[i].language);
    }
    free(t);
}

static void free_mailboxes(struct vt_mailbox_config *m, size_t n)
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

static void free_type_rules(struct vt_mail_type_rule *r, size_t n)
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

static int default_mail_rules(struct vt_config *cfg)
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

void vt_config_cleanup(struct vt_config *cfg)
{
    if (!cfg)
        return;
    free_mailboxes(cfg->email.mailboxes, cfg->email.n_mailboxes);
    free_type_rules(cfg->email.type_rules, cfg->email.n_type_rules);
    free_templates(cfg->whatsapp.templates, cfg->whatsapp.n_templates);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (keys[i].kind == K_STR) {
            char **p = (char **)((char *)cfg + keys[i].off);
            free(*p);
            *p = NULL;
        }
    }
    free(cfg->file);
    free_strv(cfg->allowed_types, cfg->n_allowed_types);
    free_strv(cfg->live_allowed_origins, cfg->n_live_allowed_origins);
    vt_calendar_cleanup(&cfg->calendar);
    vt_classify_rules_cleanup(&cfg->rules);
    memset(cfg, 0, sizeof(*cfg));
}

/* A JSON number that is an exact integer within [min, max]. */
static int get_integer(struct ctx *c, const cJSON *v, long long min, long long max, long long *out)
{
    if (!cJSON_IsNumber(v))
        return fail(c, "must be a number%s", "");
    double d = v->valuedouble;
    /* Range first: converting an out-of-range double to an integer is undefined. */
    if (!(d >= (double)min && d <= (double)max)) {
        snprintf(c->msg, c->msglen, "must be between %lld and %lld", min, max);
        return VT_ECONFIG;
    }
    if (d != (double)(long long)d)
        return fail(c, "must be a whole number%s", "");
    *out = (long long)d;
    return 0;
}

static int get_string(struct ctx *c, const cJSON *v, long long min, long long max, char **out)
{
    if (!cJSON_IsString(v))
        return fail(c, "must be a string%s", "");
    size_t len = strlen(v->valuestring);
    if (!vt_utf8_valid(v->valuestring, len))
        return fail(c, "must be valid UTF-8%s", "");
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

static int closing_time(struct ctx *c, const cJSON *v)
{
    int minutes;
    if (!cJSON_IsString(v) || vt_time_parse_hhmm(v->valuestring, &minutes))
        return fail(c, "must be a time \"HH:MM\"%s", "");
    c->cfg->calendar.closing_minute = minutes;
    return 0;
}

static int non_working_days(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of dates \"YYYY-MM-DD\"%s", "");
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        vt_date_t d;
        if (!cJSON_IsString(e) || vt_date_parse(e->valuestring, &d))
            return fail(c, "must be an array of dates \"YYYY-MM-DD\"%s", "");
        if (vt_calendar_add_non_working(&c->cfg->calendar, d))
            return VT_ENOMEM;
    }
    return 0;
}

static int allowed_types(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of MIME types%s", "");
    int n = cJSON_GetArraySize(v);
    char **types = calloc((size_t)n + 1, sizeof(char *));
    if (!types)
        return VT_ENOMEM;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) || !strchr(e->valuestring, '/') || strlen(e->valuestring) > 100) {
            free_strv(types, i);
            return fail(c, "must be an array of MIME types such as \"application/pdf\"%s", "");
        }
        if (!(types[i++] = strdup(e->valuestring))) {
            free_strv(types, i);
            return VT_ENOMEM;
        }
    }
    free_strv(c->cfg->allowed_types, c->cfg->n_allowed_types);
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
static int allowed_origins(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of origins such as \"https://pqrsd.entidad.gov.co\"%s",
                    "");
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
            free_strv(list, i);
            return fail(c,
                        "must be an array of origins (scheme://host[:port], no path) such as "
                        "\"https://pqrsd.entidad.gov.co\"%s",
                        "");
        }
        if (!(list[i++] = strdup(origin))) {
            free_strv(list, i);
            return VT_ENOMEM;
        }
    }
    free_strv(c->cfg->live_allowed_origins, c->cfg->n_live_allowed_origins);
    c->cfg->live_allowed_origins = list;
    c->cfg->n_live_allowed_origins = i;
    return 0;
}

/* ["coordinador", ...]: the roles that see who filed a denuncia. */
static int identity_roles(struct ctx *c, const cJSON *v)
{
    static const char *const roles[] = VT_ROLE_NAMES;
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of roles%s", "");
    unsigned mask = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        int found = -1;
        for (int i = 0; cJSON_IsString(e) && roles[i]; i++)
            if (strcmp(roles[i], e->valuestring) == 0)
                found = i;
        if (found < 0)
            return fail(c,
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

static int groups(struct ctx *c, const cJSON *v)
{
    struct vt_classify_rules *r = &c->cfg->rules;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return fail(c, "must be a non-empty array of {\"id\", \"name\"}%s", "");
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
            rc = fail(c, "each group must be {\"id\": \"...\", \"name\": \"...\"}%s", "");
            goto fail;
        }
        if (!valid_id(id)) {
            rc = fail(c, "group id \"%s\" must be 1-63 characters of a-z, 0-9 and _", id);
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(g[j].id, id) == 0) {
                rc = fail(c, "group id \"%s\" appears twice", id);
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

static int default_group(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsString(v) || !valid_id(v->valuestring))
        return fail(c, "must be a group id%s", "");
    char *s = strdup(v->valuestring);
    if (!s)
        return VT_ENOMEM;
    free(c->cfg->rules.default_group);
    c->cfg->rules.default_group = s;
    return 0;
}

static int domain_rules(struct ctx *c, const cJSON *v)
{
    struct vt_classify_rules *r = &c->cfg->rules;
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of {\"pattern\", \"group\"}%s", "");
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
            rc = fail(c, "each rule must be {\"pattern\": \"*.gov.co\", \"group\": \"...\"}%s", "");
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
        free_strv(k[j].keywords, k[j].n_keywords);
        free(k[j].group);
    }
    free(k);
}

static int keyword_rules(struct ctx *c, const cJSON *v)
{
    struct vt_classify_rules *r = &c->cfg->rules;
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of {\"keywords\": [...], \"group\"}%s", "");
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
            rc = fail(c, "each rule must be {\"keywords\": [\"...\"], \"group\": \"...\"}%s", "");
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
                rc = fail(c, "keywords must be non-empty strings%s", "");
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

static int log_level(struct ctx *c, const cJSON *v)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; cJSON_IsString(v) && i < 4; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            c->cfg->log_level = i;
            return 0;
        }
    return fail(c, "must be one of \"debug\", \"info\", \"warn\", \"error\"%s", "");
}

/* "templates": {"ack": {"name": "acuse_radicado", "language": "es"}, ...} */
static int wa_templates(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return fail(c, "must be an object of {\"kind\": {\"name\", \"language\"}}%s", "");
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
            rc = fail(c,
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
    free_templates(c->cfg->whatsapp.templates, c->cfg->whatsapp.n_templates);
    c->cfg->whatsapp.templates = t;
    c->cfg->whatsapp.n_templates = i;
    return 0;
fail:
    free_templates(t, i);
    return rc;
}

static const char *member_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "mailboxes": [{"name", "imap_url", "username", "password" | "password_env",
 * "poll_seconds", "move_to"}, ...] */
static int mailboxes(struct ctx *c, const cJSON *v)
{
    static const char *const known[] = {"name",         "imap_url",     "username", "password",
                                        "password_env", "poll_seconds", "move_to",  NULL};
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of mailboxes%s", "");
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
            rc = fail(c, "each mailbox must be an object%s", "");
            goto fail;
        }
        cJSON_ArrayForEach(f, e)
        {
            bool ok = strncmp(f->string, "//", 2) == 0;
            for (int k = 0; !ok && known[k]; k++)
                ok = strcmp(f->string, known[k]) == 0;
            if (!ok) {
                rc = fail(c, "unknown mailbox key \"%s\"", f->string);
                goto fail;
            }
        }
        const char *name = member_str(e, "name"), *url = member_str(e, "imap_url");
        const char *user = member_str(e, "username"), *pass = member_str(e, "password");
        const char *env = member_str(e, "password_env"), *move = member_str(e, "move_to");
        const cJSON *poll = cJSON_GetObjectItemCaseSensitive(e, "poll_seconds");
        if (!name || !valid_id(name)) {
            rc = fail(c, "each mailbox needs a \"name\" of a-z, 0-9 and _%s", "");
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(m[j].name, name) == 0) {
                rc = fail(c, "mailbox \"%s\" appears twice", name);
                goto fail;
            }
        if (!url || (strncmp(url, "imaps://", 8) != 0 && strncmp(url, "imap://", 7) != 0)) {
            rc = fail(c, "mailbox \"%s\": imap_url must start with imaps:// or imap://", name);
            goto fail;
        }
        if (!user || !*user) {
            rc = fail(c, "mailbox \"%s\": username is required", name);
            goto fail;
        }
        if (env && getenv(env))
            pass = getenv(env);
        if (!pass) {
            rc = fail(c, "mailbox \"%s\": give password or password_env (set)", name);
            goto fail;
        }
        int secs = 60;
        if (poll) {
            if (!cJSON_IsNumber(poll) || poll->valuedouble < 1 || poll->valuedouble > 86400) {
                rc = fail(c, "mailbox \"%s\": poll_seconds must be 1-86400", name);
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
    free_mailboxes(c->cfg->email.mailboxes, c->cfg->email.n_mailboxes);
    c->cfg->email.mailboxes = m;
    c->cfg->email.n_mailboxes = i;
    return 0;
fail:
    free_mailboxes(m, i);
    return rc;
}

/* "type_rules": [{"keyword": "queja", "type": "queja"}, ...] replaces the defaults. */
static int mail_type_rules(struct ctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return fail(c, "must be an array of {\"keyword\", \"type\"}%s", "");
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
            rc = fail(c,
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
    free_type_rules(c->cfg->email.type_rules, c->cfg->email.n_type_rules);
    c->cfg->email.type_rules = r;
    c->cfg->email.n_type_rules = i;
    return 0;
fail:
    free_type_rules(r, i);
    return rc;
}

const struct vt_wa_template *vt_config_wa_template(const struct vt_config *cfg, const char *kind)
{
    const struct vt_wa_template *dflt = NULL;
    for (size_t i = 0; i < cfg->whatsapp.n_templates; i++) {
        if (strcmp(cfg->whatsapp.templates[i].kind, kind) == 0)
            return &cfg->whatsapp.templates[i];
        if (strcmp(cfg->whatsapp.templates[i].kind, "default") == 0)
            dflt = &cfg->whatsapp.templates[i];
    }
    return dflt;
}

static const struct key *find_key(const char *path)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

static bool is_section(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strncmp(keys[i].path, name, n) == 0 && keys[i].path[n] == '.')
            return true;
    return false;
}

static int apply(struct ctx *c, const struct key *k, const cJSON *v);

/* Applies every member of obj, whose own path is prefix ("" for the root):
 * a known key is applied, a known section is walked, anything else refused. */
static int walk(struct ctx *c, const cJSON *obj, const char *prefix, char *path, size_t pathlen)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        if (strncmp(v->string, "//", 2) == 0)
            continue;
        char here[200];
        snprintf(here, sizeof(here), "%s%s%s", prefix, *prefix ? "." : "", v->string);
        snprintf(path, pathlen, "%s", here);
        const struct key *k = find_key(here);
        int rc;
        if (k) {
            if ((rc = apply(c, k, v)))
                return rc;
            continue;
        }
        if (strcmp(here, "staff.lockout_after") == 0 || strcmp(here, "staff.lockout_seconds") == 0)
            return fail(c,
                        "is gone: failed sign-ins now bring growing delays, not a lockout "
                        "(staff.login_delay_after, staff.login_delay_max_seconds)%s",
                        "");
        if (!is_section(here))
            return fail(c, "unknown key%s", "");
        if (!cJSON_IsObject(v))
            return fail(c, "must be an object%s", "");
        if ((rc = walk(c, v, here, path, pathlen)))
            return rc;
    }
    return 0;
}

static int apply(struct ctx *c, const struct key *k, const cJSON *v)
{
    char *p = (char *)c->cfg + k->off;
    long long n;
    int rc;
    switch (k->kind) {
    case K_BOOL:
        if (!cJSON_IsBool(v))
            return fail(c, "must be true or false%s", "");
        *(bool *)p = cJSON_IsTrue(v);
        return 0;
    case K_INT:
        if ((rc = get_integer(c, v, k->min, k->max, &n)))
            return rc;
        *(int *)p = (int)n;
        return 0;
    case K_I64:
        if ((rc = get_integer(c, v, k->min, k->max, &n)))
            return rc;
        *(long long *)p = n;
        return 0;
    case K_STR:
        return get_string(c, v, k->min, k->max, (char **)p);
    case K_CUSTOM:
        return k->custom(c, v);
    }
    return VT_ECONFIG;
}

/* Checks that every group a rule names exists. */
static int cross_check(struct ctx *c, char *path, size_t pathlen)
{
    const struct vt_classify_rules *r = &c->cfg->rules;
    const struct vt_whatsapp_config *wa = &c->cfg->whatsapp;
    if (strncmp(wa->graph_base_url, "https://", 8) != 0 &&
        strncmp(wa->graph_base_url, "http://", 7) != 0) {
        snprintf(path, pathlen, "channels.whatsapp.graph_base_url");
        return fail(c, "must start with https:// (or http:// for a local test server)%s", "");
    }
    if (wa->enabled) {
        static const char *const need[] = {"verify_token", "app_secret", "access_token",
                                           "phone_number_id"};
        const char *val[] = {wa->verify_token, wa->app_secret, wa->access_token,
                             wa->phone_number_id};
        for (int i = 0; i < 4; i++)
            if (!val[i][0]) {
                snprintf(path, pathlen, "channels.whatsapp.%s", need[i]);
                return fail(c,
                            "is required when channels.whatsapp.enabled is true (secrets may come "
                            "from the environment)%s",
                            "");
            }
    }
    const struct vt_email_config *em = &c->cfg->email;
    if (em->enabled) {
        if (!em->from[0] || !strchr(em->from, '@')) {
            snprintf(path, pathlen, "channels.email.from");
            return fail(c,
                        "is required (the entity's address) when channels.email.enabled is "
                        "true%s",
                        "");
        }
        if (strncmp(em->smtp_url, "smtps://", 8) != 0 && strncmp(em->smtp_url, "smtp://", 7) != 0) {
            snprintf(path, pathlen, "channels.email.smtp_url");
            return fail(c,
                        "must start with smtps:// or smtp:// when channels.email.enabled is "
                        "true%s",
                        "");
        }
    }
    if (c->cfg->body_budget_bytes < c->cfg->max_body_bytes) {
        snprintf(path, pathlen, "server.body_budget_bytes");
        return fail(c, "must not be below server.max_body_bytes (the largest request must fit)%s",
                    "");
    }
    if (c->cfg->outbox.backoff_max_ms < c->cfg->outbox.backoff_base_ms) {
        snprintf(path, pathlen, "outbox.backoff_max_ms");
        return fail(c, "must not be below outbox.backoff_base_ms%s", "");
    }
    if (!vt_classify_group_known(r, r->default_group)) {
        snprintf(path, pathlen, "classification.default_group");
        return fail(c, "group \"%s\" is not in classification.groups", r->default_group);
    }
    for (size_t i = 0; i < r->n_domains; i++)
        if (!vt_classify_group_known(r, r->domains[i].group)) {
            snprintf(path, pathlen, "classification.domain_rules[%zu].group", i);
            return fail(c, "group \"%s\" is not in classification.groups", r->domains[i].group);
        }
    for (size_t i = 0; i < r->n_keywords; i++)
        if (!vt_classify_group_known(r, r->keywords[i].group)) {
            snprintf(path, pathlen, "classification.keyword_rules[%zu].group", i);
            return fail(c, "group \"%s\" is not in classification.groups", r->keywords[i].group);
        }
    return 0;
}

int vt_config_load_text(struct vt_config *cfg, const char *name, const char *text, size_t len,
                        char *err, size_t errlen)
{
    char msg[300] = "", path[200] = "";
    struct ctx c = {cfg, msg, sizeof(msg)};
    int rc = 0;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        snprintf(path, sizeof(path), "(document)");
        snprintf(msg, sizeof(msg), "not valid JSON near byte %ld",
                 (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0));
        rc = VT_ECONFIG;
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(path, sizeof(path), "(document)");
        rc = fail(&c, "must be a JSON object%s", "");
        goto done;
    }
    if ((rc = walk(&c, root, "", path, sizeof(path))))
        goto done;
    /* Secrets from the environment win over the file. */
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *env = keys[i].env ? getenv(keys[i].env) : NULL;
        if (!env)
            continue;
        char **p = (char **)((char *)cfg + keys[i].off);
        char *s = strdup(env);
        if (!s) {
            rc = VT_ENOMEM;
            goto done;
        }
        free(*p);
        *p = s;
    }
    rc = cross_check(&c, path, sizeof(path));
done:
    if (rc && err)
        snprintf(err, errlen, "%s: %s: %s", name, path, rc == VT_ENOMEM ? "out of memory" : msg);
    cJSON_Delete(root);
    if (rc == 0) {
        free(cfg->file);
        if (!(cfg->file = strdup(name)))
            rc = VT_ENOMEM;
    }
    return rc == VT_ENOMEM ? rc : rc ? VT_ECONFIG : 0;
}

int vt_config_load(struct vt_config *cfg, const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: (file): %s", file, strerror(errno));
        return VT_EIO;
    }
    struct vt_buf_s {
        char *p;
        size_t n;
    } b = {NULL, 0};
    char chunk[8192];
    size_t got;
    int rc = 0;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.n + got > 4 * 1024 * 1024) {
            snprintf(err, errlen, "%s: (file): larger than 4 MiB", file);
            rc = VT_ECONFIG;
            goto done;
        }
        char *p = realloc(b.p, b.n + got + 1);
        if (!p) {
            rc = VT_ENOMEM;
            goto done;
        }
        b.p = p;
        memcpy(b.p + b.n, chunk, got);
        b.n += got;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: (file): read error", file);
        rc = VT_EIO;
        goto done;
    }
    rc = vt_config_load_text(cfg, file, b.p ? b.p : "", b.n, err, errlen);
done:
    free(b.p);
    fclose(f);
    return rc;
}
