/* test_config.c - configuration validation: defaults, comments, every kind of
 * rejection with its "FILE: key.path: message", secrets from the environment
 * and the cross-checks between classification keys. */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "vt_test.h"

static char err[600];

/* Loads text over the defaults; returns the result and leaves err set. */
static int load(struct vt_config *cfg, const char *text)
{
    err[0] = '\0';
    vt_config_cleanup(cfg);
    if (vt_config_defaults(cfg))
        return VT_ENOMEM;
    return vt_config_load_text(cfg, "c.json", text, strlen(text), err, sizeof(err));
}

static void rejects(struct vt_config *cfg, const char *text, const char *want_prefix)
{
    ASSERT_EQ(load(cfg, text), VT_ECONFIG);
    VT_CHECK_(strncmp(err, want_prefix, strlen(want_prefix)) == 0,
              "for %s: got \"%s\", want \"%s...\"", text, err, want_prefix);
}

/* Origins (live.allowed_origins, entity.public_url's) and the HTTP limits. */
static void test_origins_and_limits(struct vt_config *cfg)
{
    char o[300];
    static const char *const same[][2] = {
        {"https://PQRSD.Entidad.gov.co/", "https://pqrsd.entidad.gov.co"},
        {"https://pqrsd.entidad.gov.co:443/x?y#z", "https://pqrsd.entidad.gov.co"},
        {"http://localhost:8080", "http://localhost:8080"},
        {"http://127.0.0.1:80", "http://127.0.0.1"},
        {"https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"},
        {"https://[2001:db8::1]", "https://[2001:db8::1]"},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        ASSERT_EQ(vt_config_url_origin(same[i][0], o, sizeof(o)), 0);
        ASSERT_STREQ(o, same[i][1]);
    }
    static const char *const bad[] = {"ftp://x",         "null",          "https://",
                                      "https://a@b.com", "https://x:8a/", "https://:443",
                                      "https://a b",     "https://x\"y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        VT_CHECK_(vt_config_url_origin(bad[i], o, sizeof(o)) == VT_EINVAL, "accepted %s", bad[i]);
    ASSERT_EQ(vt_config_url_origin("https://pqrsd.entidad.gov.co", o, 10), VT_EINVAL);

    ASSERT_EQ(load(cfg, "{\"live\": {\"allowed_origins\": [\"https://Intranet.X.gov.co:443\", "
                        "\"http://10.0.0.5:8080/\"]}}"),
              0);
    ASSERT_EQ(cfg->n_live_allowed_origins, 2);
    ASSERT_STREQ(cfg->live_allowed_origins[0], "https://intranet.x.gov.co");
    ASSERT_STREQ(cfg->live_allowed_origins[1], "http://10.0.0.5:8080");
    rejects(cfg, "{\"live\": {\"allowed_origins\": [\"https://x.gov.co/staff\"]}}",
            "c.json: live.allowed_origins: must be an array of origins");
    rejects(cfg, "{\"live\": {\"allowed_origins\": \"https://x.gov.co\"}}",
            "c.json: live.allowed_origins: must be an array of origins");

    ASSERT_EQ(load(cfg, "{}"), 0);
    ASSERT_EQ(cfg->max_connections_per_ip, 256);
    ASSERT_EQ(cfg->header_timeout_seconds, 10);
    ASSERT_EQ(cfg->body_budget_bytes, 128LL * 1024 * 1024);
    rejects(cfg, "{\"server\": {\"max_body_bytes\": 2048, \"body_budget_bytes\": 1024}}",
            "c.json: server.body_budget_bytes: must not be below server.max_body_bytes");
    rejects(cfg, "{\"server\": {\"header_timeout_seconds\": 0}}",
            "c.json: server.header_timeout_seconds: must be between 1 and 300");
}

int main(void)
{
    struct vt_config cfg;
    memset(&cfg, 0, sizeof(cfg));

    /* Defaults: the legal terms and the office hours of domain.md. */
    ASSERT_EQ(load(&cfg, "{}"), 0);
    ASSERT_EQ(cfg.port, 8080);
    ASSERT_EQ(cfg.terms[VT_TERM_PETICION_GENERAL], 15);
    ASSERT_EQ(cfg.terms[VT_TERM_PETICION_DOCUMENTOS], 10);
    ASSERT_EQ(cfg.terms[VT_TERM_PETICION_CONSULTA], 30);
    ASSERT_EQ(cfg.calendar.closing_minute, 17 * 60);
    ASSERT_EQ(cfg.radicado_digits, 6);
    ASSERT_STREQ(cfg.rules.default_group, "ciudadania");
    ASSERT_EQ(cfg.rules.n_groups, 9);

    /* Values and comment keys. */
    ASSERT_EQ(load(&cfg, "{\"//\": \"x\", \"server\": {\"// port\": \"doc\", \"port\": 9000}, "
                         "\"office\": {\"closing_time\": \"16:30\", \"non_working_days\": "
                         "[\"2026-12-24\"]}, \"radicado\": {\"prefix\": \"ABC\", \"digits\": 8}}"),
              0);
    ASSERT_EQ(cfg.port, 9000);
    ASSERT_EQ(cfg.calendar.closing_minute, 16 * 60 + 30);
    ASSERT_EQ(cfg.calendar.n_non_working, 1);
    ASSERT_STREQ(cfg.radicado_prefix, "ABC");

    /* Staff: defaults, the roles that see a denunciante, and their refusals. */
    ASSERT_EQ(load(&cfg, "{}"), 0);
    ASSERT_EQ(cfg.staff.session_idle_seconds, 1800);
    ASSERT_EQ(cfg.staff.login_delay_after, 5);
    ASSERT_EQ(cfg.staff.login_delay_first_seconds, 1);
    ASSERT_EQ(cfg.staff.login_delay_max_seconds, 300);
    ASSERT_EQ(cfg.staff.login_account_failures, 100);
    ASSERT_EQ(cfg.staff.login_workers, 0);
    ASSERT_EQ(cfg.staff.login_queue_per_address, 4);
    ASSERT_STREQ(cfg.staff.triage_dependencia, "atencion_ciudadano");
    ASSERT_EQ(cfg.staff.denuncia_identity_roles, 1u << 1); /* coordinador only */
    ASSERT_EQ(cfg.staff.completion_wait_days, 30);
    ASSERT_EQ(load(&cfg, "{\"staff\": {\"denuncia_identity_roles\": [\"gerente\", "
                         "\"coordinador\"], \"triage_dependencia\": \"ventanilla\"}}"),
              0);
    ASSERT_EQ(cfg.staff.denuncia_identity_roles, (1u << 2) | (1u << 1));
    ASSERT_STREQ(cfg.staff.triage_dependencia, "ventanilla");
    ASSERT_EQ(load(&cfg, "{\"staff\": {\"denuncia_identity_roles\": []}}"), 0);
    ASSERT_EQ(cfg.staff.denuncia_identity_roles, 0);
    rejects(&cfg, "{\"staff\": {\"denuncia_identity_roles\": [\"jefe\"]}}",
            "c.json: staff.denuncia_identity_roles: must list roles");
    rejects(&cfg, "{\"staff\": {\"completion_wait_days\": 45}}",
            "c.json: staff.completion_wait_days:");
    rejects(&cfg, "{\"staff\": {\"session_idle_seconds\": 1}}",
            "c.json: staff.session_idle_seconds:");
    rejects(&cfg, "{\"staff\": {\"lockout_after\": 5}}",
            "c.json: staff.lockout_after: is gone: failed sign-ins now bring growing delays");
    rejects(&cfg, "{\"staff\": {\"login_workers\": 65}}", "c.json: staff.login_workers:");

    /* Each rejection names the file and the key path. */
    rejects(&cfg, "{\"servr\": {}}", "c.json: servr: unknown key");
    rejects(&cfg, "{\"server\": {\"prot\": 1}}", "c.json: server.prot: unknown key");
    rejects(&cfg, "{\"server\": {\"port\": \"80\"}}", "c.json: server.port: must be a number");
    rejects(&cfg, "{\"server\": {\"port\": 70000}}",
            "c.json: server.port: must be between 0 and 65535");
    rejects(&cfg, "{\"server\": {\"port\": 80.5}}", "c.json: server.port: must be a whole number");
    rejects(&cfg, "{\"server\": {\"port\": 1e300}}", "c.json: server.port: must be between");
    rejects(&cfg, "{\"terms\": {\"queja\": 0}}", "c.json: terms.queja: must be between 1 and 365");
    rejects(&cfg, "{\"server\": {\"trust_forwarded_for\": 1}}",
            "c.json: server.trust_forwarded_for: must be true or false");
    rejects(&cfg, "{\"office\": {\"closing_time\": \"25:00\"}}", "c.json: office.closing_time:");
    rejects(&cfg, "{\"office\": {\"non_working_days\": [\"2026-02-30\"]}}",
            "c.json: office.non_working_days:");
    rejects(&cfg, "{\"radicado\": {\"prefix\": \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"}}",
            "c.json: radicado.prefix: must be 0 to 20 characters long");
    rejects(&cfg, "{\"log\": {\"level\": \"loud\"}}", "c.json: log.level:");
    rejects(&cfg, "{\"server\": 5}", "c.json: server: must be an object");
    rejects(&cfg, "[1]", "c.json: (document): must be a JSON object");
    rejects(&cfg, "{\"server\": ", "c.json: (document): not valid JSON");
    rejects(&cfg, "{\"classification\": {\"default_group\": \"nadie\"}}",
            "c.json: classification.default_group: group \"nadie\" is not in");
    rejects(&cfg,
            "{\"classification\": {\"domain_rules\": [{\"pattern\": \"*.co\", \"group\": "
            "\"x\"}]}}",
            "c.json: classification.domain_rules[0].group:");
    rejects(&cfg, "{\"classification\": {\"groups\": [{\"id\": \"A B\", \"name\": \"x\"}]}}",
            "c.json: classification.groups:");

    /* Replacing the groups replaces the whole list, and rules must follow. */
    ASSERT_EQ(load(&cfg, "{\"classification\": {\"groups\": [{\"id\": \"todos\", \"name\": "
                         "\"Todos\"}], \"default_group\": \"todos\", \"domain_rules\": [], "
                         "\"keyword_rules\": []}}"),
              0);
    ASSERT_EQ(cfg.rules.n_groups, 1);

    /* Secrets come from the environment when set. */
    setenv("VENTANILLA_METRICS_TOKEN", "s3cr3t", 1);
    ASSERT_EQ(load(&cfg, "{\"metrics\": {\"token\": \"in-file\"}}"), 0);
    ASSERT_STREQ(cfg.metrics_token, "s3cr3t");
    unsetenv("VENTANILLA_METRICS_TOKEN");
    ASSERT_EQ(load(&cfg, "{\"metrics\": {\"token\": \"in-file\"}}"), 0);
    ASSERT_STREQ(cfg.metrics_token, "in-file");

    /* channels.whatsapp: nested keys, templates, secrets from the environment,
     * and the keys an enabled channel cannot do without. */
    ASSERT_EQ(load(&cfg, "{}"), 0);
    ASSERT_TRUE(!cfg.whatsapp.enabled);
    ASSERT_STREQ(cfg.whatsapp.graph_base_url, "https://graph.facebook.com");
    ASSERT_EQ(cfg.outbox.max_attempts, 8);
    const char *wa = "{\"channels\": {\"whatsapp\": {\"enabled\": true, \"verify_token\": \"v\", "
                     "\"app_secret\": \"a\", \"access_token\": \"t\", \"phone_number_id\": \"1\", "
                     "\"templates\": {\"ack\": {\"name\": \"acuse\", \"language\": \"es\"}, "
                     "\"default\": {\"name\": \"aviso\", \"language\": \"es_CO\"}}}}}";
    ASSERT_EQ(load(&cfg, wa), 0);
    ASSERT_EQ(cfg.whatsapp.n_templates, 2);
    ASSERT_STREQ(vt_config_wa_template(&cfg, "ack")->name, "acuse");
    ASSERT_STREQ(vt_config_wa_template(&cfg, "reply")->name, "aviso");
    setenv("VENTANILLA_WHATSAPP_APP_SECRET", "from-env", 1);
    setenv("VENTANILLA_WHATSAPP_ACCESS_TOKEN", "token-env", 1);
    setenv("VENTANILLA_WHATSAPP_VERIFY_TOKEN", "verify-env", 1);
    ASSERT_EQ(load(&cfg, wa), 0);
    ASSERT_STREQ(cfg.whatsapp.app_secret, "from-env");
    ASSERT_STREQ(cfg.whatsapp.access_token, "token-env");
    ASSERT_STREQ(cfg.whatsapp.verify_token, "verify-env");
    /* With every secret in the environment the file needs none. */
    ASSERT_EQ(load(&cfg, "{\"channels\": {\"whatsapp\": {\"enabled\": true, "
                         "\"phone_number_id\": \"1\"}}}"),
              0);
    unsetenv("VENTANILLA_WHATSAPP_APP_SECRET");
    unsetenv("VENTANILLA_WHATSAPP_ACCESS_TOKEN");
    unsetenv("VENTANILLA_WHATSAPP_VERIFY_TOKEN");
    rejects(&cfg, "{\"channels\": {\"whatsapp\": {\"enabled\": true, \"phone_number_id\": \"1\"}}}",
            "c.json: channels.whatsapp.verify_token: is required");
    rejects(&cfg, "{\"channels\": {\"whatsapp\": {\"graph_base_url\": \"ftp://example.com\"}}}",
            "c.json: channels.whatsapp.graph_base_url: must start with https://");
    rejects(&cfg, "{\"channels\": {\"whatsapp\": {\"templates\": {\"ack\": {\"name\": \"x\"}}}}}",
            "c.json: channels.whatsapp.templates: each template");
    rejects(&cfg, "{\"channels\": {\"whatsap\": {}}}", "c.json: channels.whatsap: unknown key");
    rejects(&cfg, "{\"channels\": {\"whatsapp\": {\"enabld\": true}}}",
            "c.json: channels.whatsapp.enabld: unknown key");
    rejects(&cfg, "{\"outbox\": {\"max_attempts\": 0}}",
            "c.json: outbox.max_attempts: must be between");
    rejects(&cfg, "{\"outbox\": {\"backoff_base_ms\": 5000, \"backoff_max_ms\": 1000}}",
            "c.json: outbox.backoff_max_ms: must not be below");

    /* channels.email: mailboxes, passwords from the environment, type rules. */
    ASSERT_EQ(load(&cfg, "{}"), 0);
    ASSERT_EQ(cfg.email.n_type_rules, 8);
    setenv("VT_TEST_IMAP_PASSWORD", "desde-el-entorno", 1);
    ASSERT_EQ(load(&cfg,
                   "{\"channels\": {\"email\": {\"enabled\": true, \"from\": "
                   "\"atencion@entidad.gov.co\", \"smtp_url\": \"smtps://smtp.entidad.gov.co\", "
                   "\"mailboxes\": [{\"name\": \"atencion\", \"imap_url\": "
                   "\"imaps://imap.entidad.gov.co/INBOX\", \"username\": \"u\", "
                   "\"password_env\": \"VT_TEST_IMAP_PASSWORD\", \"move_to\": \"Radicados\"}], "
                   "\"type_rules\": [{\"keyword\": \"tutela\", \"type\": \"peticion\"}]}}}"),
              0);
    unsetenv("VT_TEST_IMAP_PASSWORD");
    ASSERT_EQ(cfg.email.n_mailboxes, 1);
    ASSERT_STREQ(cfg.email.mailboxes[0].password, "desde-el-entorno");
    ASSERT_STREQ(cfg.email.mailboxes[0].move_to, "Radicados");
    ASSERT_EQ(cfg.email.mailboxes[0].poll_seconds, 60);
    ASSERT_EQ(cfg.email.n_type_rules, 1);
    rejects(&cfg, "{\"channels\": {\"email\": {\"enabled\": true, \"smtp_url\": \"smtp://x\"}}}",
            "c.json: channels.email.from: is required");
    rejects(&cfg,
            "{\"channels\": {\"email\": {\"mailboxes\": [{\"name\": \"a\", \"imap_url\": "
            "\"pop3://x\", \"username\": \"u\", \"password\": \"p\"}]}}}",
            "c.json: channels.email.mailboxes: mailbox \"a\": imap_url must start with");
    rejects(&cfg,
            "{\"channels\": {\"email\": {\"mailboxes\": [{\"name\": \"a\", \"imap_url\": "
            "\"imap://x\", \"username\": \"u\"}]}}}",
            "c.json: channels.email.mailboxes: mailbox \"a\": give password");
    rejects(&cfg,
            "{\"channels\": {\"email\": {\"mailboxes\": [{\"name\": \"a\", \"imap_url\": "
            "\"imap://x\", \"username\": \"u\", \"password\": \"p\", \"pol\": 5}]}}}",
            "c.json: channels.email.mailboxes: unknown mailbox key \"pol\"");
    rejects(&cfg,
            "{\"channels\": {\"email\": {\"type_rules\": [{\"keyword\": \"x\", \"type\": "
            "\"tutela\"}]}}}",
            "c.json: channels.email.type_rules: each rule");

    /* The shipped example is valid as it stands. */
    char path[4096];
    const char *src = getenv("VT_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/config/ventanilla.example.json", src ? src : ".");
    vt_config_cleanup(&cfg);
    ASSERT_EQ(vt_config_defaults(&cfg), 0);
    ASSERT_EQ(vt_config_load(&cfg, path, err, sizeof(err)), 0);
    ASSERT_STREQ(cfg.entity_name, "Entidad de ejemplo");

    test_origins_and_limits(&cfg);

    vt_config_cleanup(&cfg);
    VT_TEST_END();
}
