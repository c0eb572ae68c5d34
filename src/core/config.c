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
#include "core/config_int.h"

enum kind { K_BOOL, K_INT, K_I64, K_STR, K_CUSTOM };

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

#define O(f) offsetof(struct vt_config, f)
#define T(i) (O(terms) + (i) * sizeof(int))
#define MIB (1024LL * 1024)

/* Every key the daemon understands; one line each: path, type, offset, default, bounds. */
static const struct key keys[] = {
    {"server.listen", K_STR, O(listen), 0, "127.0.0.1", 1, 255, NULL, NULL},
    {"server.port", K_INT, O(port), 8080, NULL, 0, 65535, NULL, NULL},
    {"server.data_dir", K_STR, O(data_dir), 0, "", 0, 4000, NULL, NULL},
    {"server.instance_name", K_STR, O(instance_name), 0, "", 0, 200, NULL, NULL},
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
    {"office.closing_time", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__closing_time},
    {"office.non_working_days", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__non_working_days},
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
    {"attachments.allowed_types", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__allowed_types},
    {"classification.groups", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__groups},
    {"dependencias", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__dependencias},
    {"classification.default_group", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__default_group},
    {"classification.domain_rules", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__domain_rules},
    {"classification.keyword_rules", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__keyword_rules},
    {"store.batch_max", K_INT, O(batch_max), 1024, NULL, 1, 100000, NULL, NULL},
    {"store.backend", K_STR, O(store_backend), 0, "sqlite", 1, 20, NULL, NULL},
    {"store.postgresql_conninfo", K_STR, O(pg_conninfo), 0, "", 0, 4000, "VENTANILLA_PG_CONNINFO",
     NULL},
    {"store.audit_key_file", K_STR, O(audit_key_file), 0, "", 0, 4000, "VENTANILLA_AUDIT_KEY_FILE",
     NULL},
    {"live.due_soon_days", K_INT, O(due_soon_days), 3, NULL, 0, 60, NULL, NULL},
    {"live.allowed_origins", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__allowed_origins},
    {"metrics.token", K_STR, O(metrics_token), 0, "", 0, 200, "VENTANILLA_METRICS_TOKEN", NULL},
    {"log.level", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__log_level},
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
    {"channels.whatsapp.templates", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__wa_templates},
    {"channels.email.enabled", K_BOOL, O(email.enabled), 0, NULL, 0, 1, NULL, NULL},
    {"channels.email.mailboxes", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__mailboxes},
    {"channels.email.smtp_url", K_STR, O(email.smtp_url), 0, "", 0, 300, NULL, NULL},
    {"channels.email.smtp_username", K_STR, O(email.smtp_username), 0, "", 0, 200, NULL, NULL},
    {"channels.email.smtp_password", K_STR, O(email.smtp_password), 0, "", 0, 200,
     "VENTANILLA_EMAIL_SMTP_PASSWORD", NULL},
    {"channels.email.from", K_STR, O(email.from), 0, "", 0, 254, NULL, NULL},
    {"channels.email.allow_plaintext_loopback", K_BOOL, O(email.allow_plaintext_loopback), 0, NULL,
     0, 1, NULL, NULL},
    {"channels.email.ca_file", K_STR, O(email.ca_file), 0, "", 0, 4096, NULL, NULL},
    {"channels.email.type_rules", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__mail_type_rules},
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
    {"classify.enabled", K_BOOL, O(learn.enabled), 1, NULL, 0, 1, NULL, NULL},
    {"classify.kind", K_STR, O(learn.kind), 0, "lr", 2, 2, NULL, NULL},
    {"classify.route_confidence", K_INT, O(learn.route_confidence), 70, NULL, 0, 101, NULL, NULL},
    {"classify.type_confidence", K_INT, O(learn.type_confidence), 70, NULL, 0, 101, NULL, NULL},
    {"classify.retrain_hours", K_INT, O(learn.retrain_hours), 24, NULL, 0, 8760, NULL, NULL},
    {"classify.refresh_seconds", K_INT, O(learn.refresh_seconds), 60, NULL, 1, 3600, NULL, NULL},
    {"classify.retrain_tolerance", K_INT, O(learn.retrain_tolerance), 10, NULL, 0, 100, NULL, NULL},
    {"classify.correction_weight", K_INT, O(learn.correction_weight), 10, NULL, 1, 100, NULL, NULL},
    {"staff.triage_dependencia", K_STR, O(staff.triage_dependencia), 0, "atencion_ciudadano", 1, 63,
     NULL, NULL},
    {"staff.denuncia_identity_roles", K_CUSTOM, 0, 0, NULL, 0, 0, NULL, vt_config__identity_roles},
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
    if (vt_classify_rules_defaults(&cfg->rules) || vt_config__default_mail_rules(cfg))
        goto fail;
    return 0;
fail:
    vt_config_cleanup(cfg);
    return VT_ENOMEM;
}

void vt_config_cleanup(struct vt_config *cfg)
{
    if (!cfg)
        return;
    vt_config__free_mailboxes(cfg->email.mailboxes, cfg->email.n_mailboxes);
    vt_config__free_type_rules(cfg->email.type_rules, cfg->email.n_type_rules);
    vt_config__free_templates(cfg->whatsapp.templates, cfg->whatsapp.n_templates);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (keys[i].kind == K_STR) {
            char **p = (char **)((char *)cfg + keys[i].off);
            free(*p);
            *p = NULL;
        }
    }
    free(cfg->file);
    vt_config__free_strv(cfg->allowed_types, cfg->n_allowed_types);
    vt_config__free_strv(cfg->live_allowed_origins, cfg->n_live_allowed_origins);
    vt_calendar_cleanup(&cfg->calendar);
    vt_classify_rules_cleanup(&cfg->rules);
    vt_config__free_dependencias(cfg->dependencias, cfg->n_dependencias);
    memset(cfg, 0, sizeof(*cfg));
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
            return vt_config__fail(
                c,
                "is gone: failed sign-ins now bring growing delays, not a lockout "
                "(staff.login_delay_after, staff.login_delay_max_seconds)%s",
                "");
        if (!is_section(here))
            return vt_config__fail(c, "unknown key%s", "");
        if (!cJSON_IsObject(v))
            return vt_config__fail(c, "must be an object%s", "");
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
            return vt_config__fail(c, "must be true or false%s", "");
        *(bool *)p = cJSON_IsTrue(v);
        return 0;
    case K_INT:
        if ((rc = vt_config__get_integer(c, v, k->min, k->max, &n)))
            return rc;
        *(int *)p = (int)n;
        return 0;
    case K_I64:
        if ((rc = vt_config__get_integer(c, v, k->min, k->max, &n)))
            return rc;
        *(long long *)p = n;
        return 0;
    case K_STR:
        return vt_config__get_string(c, v, k->min, k->max, (char **)p);
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
        return vt_config__fail(c, "must start with https:// (or http:// for a local test server)%s",
                               "");
    }
    if (wa->enabled) {
        static const char *const need[] = {"verify_token", "app_secret", "access_token",
                                           "phone_number_id"};
        const char *val[] = {wa->verify_token, wa->app_secret, wa->access_token,
                             wa->phone_number_id};
        for (int i = 0; i < 4; i++)
            if (!val[i][0]) {
                snprintf(path, pathlen, "channels.whatsapp.%s", need[i]);
                return vt_config__fail(
                    c,
                    "is required when channels.whatsapp.enabled is true (secrets may come "
                    "from the environment)%s",
                    "");
            }
    }
    const struct vt_email_config *em = &c->cfg->email;
    if (em->enabled) {
        if (!em->from[0] || !strchr(em->from, '@')) {
            snprintf(path, pathlen, "channels.email.from");
            return vt_config__fail(
                c,
                "is required (the entity's address) when channels.email.enabled is "
                "true%s",
                "");
        }
        if (strncmp(em->smtp_url, "smtps://", 8) != 0 && strncmp(em->smtp_url, "smtp://", 7) != 0) {
            snprintf(path, pathlen, "channels.email.smtp_url");
            return vt_config__fail(
                c,
                "must start with smtps:// or smtp:// when channels.email.enabled is "
                "true%s",
                "");
        }
    }
    if (strcmp(c->cfg->store_backend, "sqlite") != 0 &&
        strcmp(c->cfg->store_backend, "postgresql") != 0) {
        snprintf(path, pathlen, "store.backend");
        return vt_config__fail(c, "must be \"sqlite\" or \"postgresql\"%s", "");
    }
    if (strcmp(c->cfg->store_backend, "postgresql") == 0 && !c->cfg->pg_conninfo[0]) {
        snprintf(path, pathlen, "store.postgresql_conninfo");
        return vt_config__fail(c,
                               "is required when store.backend is \"postgresql\" (it may come "
                               "from VENTANILLA_PG_CONNINFO)%s",
                               "");
    }
    if (c->cfg->body_budget_bytes < c->cfg->max_body_bytes) {
        snprintf(path, pathlen, "server.body_budget_bytes");
        return vt_config__fail(
            c, "must not be below server.max_body_bytes (the largest request must fit)%s", "");
    }
    if (c->cfg->outbox.backoff_max_ms < c->cfg->outbox.backoff_base_ms) {
        snprintf(path, pathlen, "outbox.backoff_max_ms");
        return vt_config__fail(c, "must not be below outbox.backoff_base_ms%s", "");
    }
    if (strcmp(c->cfg->learn.kind, "lr") != 0 && strcmp(c->cfg->learn.kind, "nb") != 0) {
        snprintf(path, pathlen, "classify.kind");
        return vt_config__fail(c, "must be \"lr\" or \"nb\", not \"%s\"", c->cfg->learn.kind);
    }
    if (!vt_classify_group_known(r, r->default_group)) {
        snprintf(path, pathlen, "classification.default_group");
        return vt_config__fail(c, "group \"%s\" is not in classification.groups", r->default_group);
    }
    for (size_t i = 0; i < r->n_domains; i++)
        if (!vt_classify_group_known(r, r->domains[i].group)) {
            snprintf(path, pathlen, "classification.domain_rules[%zu].group", i);
            return vt_config__fail(c, "group \"%s\" is not in classification.groups",
                                   r->domains[i].group);
        }
    for (size_t i = 0; i < r->n_keywords; i++)
        if (!vt_classify_group_known(r, r->keywords[i].group)) {
            snprintf(path, pathlen, "classification.keyword_rules[%zu].group", i);
            return vt_config__fail(c, "group \"%s\" is not in classification.groups",
                                   r->keywords[i].group);
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
        rc = vt_config__fail(&c, "must be a JSON object%s", "");
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
