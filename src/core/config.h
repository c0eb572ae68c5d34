/* config.h - the daemon's configuration: one JSON file read with cJSON and
 * checked against a table of keys (config.c), one line per key.
 *
 * Owns: struct vt_config and everything hanging off it.
 * Must not: open the store or start anything; it only reads and validates.
 *
 * Errors are reported as "FILE: key.path: message" so an operator can find the
 * offending node at once. Secrets may come from environment variables instead
 * of the file (the table says which).
 */
#ifndef VT_CONFIG_H
#define VT_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/calendar.h"
#include "core/classify.h"

/* Legal terms, indexed by enum vt_term (see item.h for the mapping). */
enum vt_term {
    VT_TERM_PETICION_GENERAL,
    VT_TERM_PETICION_DOCUMENTOS,
    VT_TERM_PETICION_CONSULTA,
    VT_TERM_QUEJA,
    VT_TERM_RECLAMO,
    VT_TERM_SUGERENCIA,
    VT_TERM_DENUNCIA,
    VT_TERM_HEARING_QUESTION,
    VT_TERM_COUNT
};

enum vt_log_level { VT_LOG_DEBUG, VT_LOG_INFO, VT_LOG_WARN, VT_LOG_ERROR };

/* An approved WhatsApp message template, used for a kind of outbound message
 * when the 24-hour customer-service window is closed. */
struct vt_wa_template {
    char *kind;     /* outbound kind it stands for: "ack", "reply", "default", ... */
    char *name;     /* the template's name as approved by Meta */
    char *language; /* its language code, e.g. "es" or "es_CO" */
};

struct vt_whatsapp_config {
    bool enabled;
    char *verify_token, *app_secret, *access_token; /* secrets; also from the environment */
    char *phone_number_id;
    char *graph_base_url; /* https://graph.facebook.com; tests point it at a fake */
    char *api_version;    /* v21.0 */
    struct vt_wa_template *templates;
    size_t n_templates;
    int max_events; /* events accepted in one webhook delivery */
};

/* One IMAP mailbox the email channel polls. */
struct vt_mailbox_config {
    char *name;     /* short id, unique: "atencion" (a-z, 0-9, _) */
    char *imap_url; /* imaps://host/INBOX, or imap:// (STARTTLS required unless loopback allowed) */
    char *username, *password; /* password also from the variable named by password_env */
    int poll_seconds;
    char *move_to; /* folder to move filed mail to, or NULL to leave it in place */
};

/* A subject keyword that sets the PQRSD type of an email ("queja" -> queja). */
struct vt_mail_type_rule {
    char *keyword;
    char *type;
};

struct vt_email_config {
    bool enabled;
    struct vt_mailbox_config *mailboxes;
    size_t n_mailboxes;
    char *smtp_url; /* smtps://host:465 or smtp://host:587 (STARTTLS required unless loopback) */
    char *smtp_username, *smtp_password;
    char *from; /* the entity's sending address; mail from it is never filed */
    bool allow_plaintext_loopback;
    char *ca_file; /* PEM CA bundle that signs the servers' certificates; "" for the system's */
    struct vt_mail_type_rule *type_rules;
    size_t n_type_rules;
    char *tracking_url;    /* public address of /consulta for acknowledgements, may be "" */
    char *hearing_address; /* mail to it is a question for the open hearing; "" for none */
};

struct vt_outbox_config {
    int max_attempts;    /* attempts before a message goes to the dead-letter state */
    int backoff_base_ms; /* first retry delay; doubles each attempt, with jitter */
    int backoff_max_ms;
    int timeout_ms; /* one delivery attempt */
    int batch;      /* messages claimed per round */
    int senders;    /* sender threads */
};

/* Staff sessions and casework (issue 5). */
struct vt_staff_config {
    int session_idle_seconds;         /* a session ends after this long without a request */
    int session_max_seconds;          /* and this long after login, whatever happens */
    bool secure_cookie;               /* add Secure to the cookie (served over TLS by a proxy) */
    int login_delay_after;            /* failures on a username from one address before delays */
    int login_delay_first_seconds;    /* the first of those delays; each next one doubles */
    int login_delay_max_seconds;      /* the longest of those growing delays */
    int login_account_failures;       /* failures on a username from anywhere: under attack */
    int login_workers;                /* threads checking passwords; 0: one per CPU, up to 8 */
    int login_queue_per_address;      /* checks waiting from one address */
    int login_per_minute;             /* login attempts per client address */
    char *triage_dependencia;         /* where items with no dependencia yet are worked */
    unsigned denuncia_identity_roles; /* bit i: vt_user_roles[i] sees a denunciante */
    int completion_wait_days;         /* art. 17: calendar days the requester has */
    int due_refresh_seconds;          /* how often overdue / due-soon are recounted */
};

/* Surveys (issue 6). */
struct vt_surveys_config {
    char *after_item; /* code of the survey invited when a PQRSD is closed, "" for none */
    int invite_delay_minutes;
    int link_days;          /* an invitation link works this many days */
    int detractor_nps_max;  /* NPS 0..this is a detractor */
    int detractor_csat_max; /* CSAT 1..this is a detractor */
};

/* The learned classifier (issue 15, domain/classifier.h). Confidences are
 * percentages: 101 never reaches, so it turns the automatic step off. */
struct vt_learn_config {
    bool enabled;          /* false: the keyword rules as before, no model */
    char *kind;            /* "lr" or "nb" (core/textmodel.h) */
    int route_confidence;  /* route to the suggested dependencia at or above this */
    int type_confidence;   /* an e-mail's suggested type stands without triage at or above */
    int retrain_hours;     /* the daemon retrains this often; 0: only by command */
    int refresh_seconds;   /* how often an instance looks for a newer active model */
    int correction_weight; /* a staff correction counts as this many shipped messages */
    int retrain_tolerance; /* thousandths of held-out accuracy a new model may lose */
};

/* A dependencia the configuration creates on the first start (an empty
 * dependencias table): code and Spanish name. */
struct vt_dependencia_seed {
    char *code, *name;
};

struct vt_config {
    char *file; /* the path it was read from */

    char *listen;
    int port;
    char *data_dir;       /* "": none given (main.c: "data" on SQLite, none on PostgreSQL) */
    char *instance_name;  /* "": the default name (daemon.c) */
    char *store_backend;  /* "sqlite" or "postgresql" */
    char *pg_conninfo;    /* libpq connection string (postgresql); may hold a password */
    char *audit_key_file; /* the audit key's file; "": DATA_DIR/audit.key */
    long long max_body_bytes;
    long long max_json_bytes;
    bool trust_forwarded_for;
    int max_connections_per_ip;  /* open connections one address may hold; 0: no cap */
    int header_timeout_seconds;  /* to send a request's headers, from its first byte */
    long long body_budget_bytes; /* request body bytes held in memory, all requests together */

    char *entity_name;
    char *public_url; /* where citizens reach this daemon (links in messages), no trailing / */

    struct vt_calendar calendar; /* closing time and extra non-working days */

    int terms[VT_TERM_COUNT];

    char *radicado_prefix;
    int radicado_digits;

    int rate_limit_per_minute; /* 0 disables */
    int rate_limit_burst;
    int track_rate_limit_per_minute; /* tracking lookups per client IP; 0 disables */
    int track_rate_limit_burst;
    int max_subject_chars;
    int max_body_chars;

    long long attachment_max_bytes;
    int attachment_max_count;
    char **allowed_types;
    size_t n_allowed_types;

    struct vt_classify_rules rules;
    struct vt_learn_config learn;
    struct vt_dependencia_seed *dependencias; /* "dependencias": created on first start */
    size_t n_dependencias;

    int batch_max;
    int due_soon_days;
    char **live_allowed_origins; /* normalized (vt_config_url_origin), besides public_url's */
    size_t n_live_allowed_origins;
    char *metrics_token; /* empty: /metrics is open */
    int log_level;

    struct vt_outbox_config outbox;
    struct vt_whatsapp_config whatsapp;
    struct vt_email_config email;
    struct vt_staff_config staff;
    struct vt_surveys_config surveys;
};

/* The template configured for an outbound kind, else the "default" one, else NULL. */
const struct vt_wa_template *vt_config_wa_template(const struct vt_config *cfg, const char *kind);

/* Writes the origin of url ("scheme://host[:port]": http or https, lower case,
 * the scheme's default port left out, no path) into out. 0, or VT_EINVAL when
 * url is not an http(s) URL or out is too small. */
int vt_config_url_origin(const char *url, char *out, size_t outlen);

/* Fills cfg with the defaults of every key. Returns 0 or VT_ENOMEM. */
int vt_config_defaults(struct vt_config *cfg);

/* Reads and validates FILE over the defaults. On failure returns VT_ECONFIG
 * (or VT_EIO/VT_ENOMEM) and writes "FILE: key.path: message" into err. */
int vt_config_load(struct vt_config *cfg, const char *file, char *err, size_t errlen);

/* Same as vt_config_load but from a JSON text in memory (tests, fuzzing);
 * name stands for the file in messages. */
int vt_config_load_text(struct vt_config *cfg, const char *name, const char *text, size_t len,
                        char *err, size_t errlen);

/* Frees everything cfg owns; NULL is fine. */
void vt_config_cleanup(struct vt_config *cfg);

#endif
