/* main.c - the `ventanilla` command: parses the subcommand and its options,
 * loads the configuration and hands over to the module that does the work.
 *
 *   ventanilla serve --config FILE [--port N] [--data-dir DIR]
 *   ventanilla migrate --config FILE [--data-dir DIR]
 *   ventanilla check-config --config FILE
 *   ventanilla audit verify --config FILE [--data-dir DIR]
 *   ventanilla audit new-key FILE  (a new audit key file, for store.audit_key_file)
 *   ventanilla contacts import --config FILE [--data-dir DIR] CSV
 *   ventanilla outbox list --config FILE [--data-dir DIR] [STATUS]
 *   ventanilla outbox retry --config FILE [--data-dir DIR] ID
 *   ventanilla user add --config FILE [--data-dir DIR] USERNAME --role ROLE [--dependencia D]
 *   ventanilla user passwd --config FILE [--data-dir DIR] USERNAME
 *   ventanilla user disable --config FILE [--data-dir DIR] USERNAME
 *   ventanilla user bootstrap --config FILE [--data-dir DIR]  (first admin, one-time password)
 *   ventanilla calendar holidays YEAR
 *   ventanilla calendar due --type TYPE [--class CLASS] --received ISO8601
 *   ventanilla report pqrsd|acceso --config FILE [--data-dir DIR] --from DATE --to DATE
 *                                  [--format csv|html]
 *   ventanilla backup --config FILE [--data-dir DIR] DEST
 *   ventanilla restore --config FILE [--data-dir DIR] SRC
 *   ventanilla store copy --config FROM.json [--data-dir DIR] --to-config TO.json
 *
 * The data directory is --data-dir, else server.data_dir, else "data" on
 * SQLite; with store.backend "postgresql" it is optional (none when neither
 * is given): the database holds everything but the audit key, which
 * store.audit_key_file then names.
 */
#include <errno.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "store/audit.h"
#include "store/backup.h"
#include "store/copy.h"
#include "core/buf.h"
#include "core/calendar.h"
#include "core/classify.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/item.h"
#include "outbox/outbox.h"
#include "api/report_api.h"
#include "domain/classifier.h"
#include "domain/classifier_eval.h"
#include "domain/users.h"
#include "daemon.h"
#include "store/store.h"

struct opts {
    const char *config, *data_dir, *type, *petition_class, *received, *role, *dependencia;
    const char *to_config;          /* store copy */
    const char *from, *to, *format; /* report */
    int port;                       /* -1: from the config */
    const char *args[4];
    int n_args;
};

static int usage(void)
{
    fprintf(stderr, "usage:\n"
                    "  ventanilla serve --config FILE [--port N] [--data-dir DIR]\n"
                    "  ventanilla migrate --config FILE [--data-dir DIR]\n"
                    "  ventanilla check-config --config FILE\n"
                    "  ventanilla audit verify --config FILE [--data-dir DIR]\n"
                    "  ventanilla audit new-key FILE\n"
                    "  ventanilla contacts import --config FILE [--data-dir DIR] CSV\n"
                    "  ventanilla outbox list --config FILE [--data-dir DIR] [STATUS]\n"
                    "  ventanilla outbox retry --config FILE [--data-dir DIR] ID\n"
                    "  ventanilla user add --config FILE [--data-dir DIR] USERNAME --role ROLE "
                    "[--dependencia D]\n"
                    "  ventanilla user passwd --config FILE [--data-dir DIR] USERNAME\n"
                    "  ventanilla user disable --config FILE [--data-dir DIR] USERNAME\n"
                    "  ventanilla user bootstrap --config FILE [--data-dir DIR]\n"
                    "  ventanilla calendar holidays YEAR\n"
                    "  ventanilla calendar due --type TYPE [--class CLASS] --received ISO8601\n"
                    "  ventanilla report pqrsd|acceso --config FILE [--data-dir DIR] --from "
                    "YYYY-MM-DD --to YYYY-MM-DD [--format csv|html]\n"
                    "  ventanilla backup --config FILE [--data-dir DIR] DEST\n"
                    "  ventanilla restore --config FILE [--data-dir DIR] SRC\n"
                    "  ventanilla store copy --config FROM.json [--data-dir DIR] --to-config "
                    "TO.json\n"
                    "  ventanilla classify eval --config FILE CORPUS.jsonl\n"
                    "  ventanilla classify train --config FILE [--data-dir DIR]\n");
    return 2;
}

static int parse_opts(int argc, char **argv, int first, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port = -1;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--config") == 0)
            dst = &o->config;
        else if (strcmp(a, "--to-config") == 0)
            dst = &o->to_config;
        else if (strcmp(a, "--data-dir") == 0)
            dst = &o->data_dir;
        else if (strcmp(a, "--type") == 0)
            dst = &o->type;
        else if (strcmp(a, "--class") == 0)
            dst = &o->petition_class;
        else if (strcmp(a, "--received") == 0)
            dst = &o->received;
        else if (strcmp(a, "--role") == 0)
            dst = &o->role;
        else if (strcmp(a, "--dependencia") == 0)
            dst = &o->dependencia;
        else if (strcmp(a, "--from") == 0)
            dst = &o->from;
        else if (strcmp(a, "--to") == 0)
            dst = &o->to;
        else if (strcmp(a, "--format") == 0)
            dst = &o->format;
        else if (strcmp(a, "--port") == 0) {
            if (i + 1 >= argc)
                return -1;
            char *end;
            errno = 0;
            long p = strtol(argv[++i], &end, 10);
            if (*end || errno || p < 0 || p > 65535) {
                fprintf(stderr, "--port: must be a number from 0 to 65535\n");
                return -1;
            }
            o->port = (int)p;
            continue;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "unknown option %s\n", a);
            return -1;
        } else {
            if (o->n_args == 4)
                return -1;
            o->args[o->n_args++] = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s needs a value\n", a);
            return -1;
        }
        *dst = argv[++i];
    }
    return 0;
}

/* Loads --config into cfg; prints the error and returns non-zero on failure. */
static int load_config(const struct opts *o, struct vt_config *cfg)
{
    char err[600];
    if (!o->config) {
        fprintf(stderr, "--config FILE is required\n");
        return 2;
    }
    if (vt_config_defaults(cfg)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if (vt_config_load(cfg, o->config, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        vt_config_cleanup(cfg);
        return 1;
    }
    return 0;
}

/* The store's name for this process when a command opens it (it claims no
 * outbox message: vt_store_instance matters to the daemon only). */
#define CLI_INSTANCE "ventanilla-cli"

/* The data directory: NULL for none (PostgreSQL only). */
static const char *data_dir(const struct opts *o, const struct vt_config *cfg)
{
    if (o->data_dir && o->data_dir[0])
        return o->data_dir;
    if (cfg->data_dir[0])
        return cfg->data_dir;
    return strcmp(cfg->store_backend, "postgresql") == 0 ? NULL : "data";
}

/* Where the store is: store.backend's database, the data directory, the
 * audit key's file. */
static struct vt_store_place place(const struct opts *o, const struct vt_config *cfg)
{
    return (struct vt_store_place){data_dir(o, cfg), cfg->store_backend, cfg->pg_conninfo,
                                   cfg->audit_key_file};
}

/* ---- files ---- */

/* The whole file at path (NUL-terminated, caller frees) and its length; NULL
 * with errno set when it cannot be read. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t cap = 0, got;
    char chunk[65536];
    *len = 0;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (*len + got + 1 > cap) {
            cap = (*len + got + 1) * 2;
            char *p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        memcpy(data + *len, chunk, got);
        *len += got;
    }
    fclose(f);
    if (!data)
        data = calloc(1, 1);
    else
        data[*len] = '\0';
    return data;
}

/* ---- classify ---- */

static void cli_stamp(void *ctx, struct vt_item *it)
{
    vt_item_stamp(ctx, it);
}

/* `classify eval CORPUS`: the model a new installation starts with (the
 * shipped one, or for classify.kind "nb" one trained the same way) classifies each line as intake
 * would; `classify train`: a new model from the shipped corpus and the
 * store's corrections, adopted unless it scores worse on the held-out part. */
static int cmd_classify(const char *verb, const struct opts *o, struct vt_config *cfg)
{
    if (strcmp(verb, "eval") == 0) {
        if (o->n_args != 1)
            return usage();
        size_t len;
        char *data = read_file(o->args[0], &len), err[200];
        if (!data) {
            fprintf(stderr, "%s: %s\n", o->args[0], strerror(errno));
            return 1;
        }
        struct vt_corpus c;
        int rc = vt_corpus_parse(data, len, &c, err, sizeof(err));
        free(data);
        if (rc) {
            fprintf(stderr, "%s: %s\n", o->args[0], rc == VT_EINVAL ? err : vt_strerror(rc));
            return 1;
        }
        struct vt_textmodel *m = NULL;
        rc = !cfg->learn.enabled             ? 0
             : strcmp(cfg->learn.kind, "lr") ? vt_classifier_train(cfg, NULL, &m)
                                             : vt_classifier_shipped(&m);
        if (!rc)
            rc = vt_classifier_report(cfg, m, &c, stdout);
        if (rc)
            fprintf(stderr, "classify eval: %s\n", vt_strerror(rc));
        vt_textmodel_free(m);
        vt_corpus_free(&c);
        return rc ? 1 : 0;
    }
    if (o->n_args != 0)
        return usage();
    char err[600];
    struct vt_store *s = NULL;
    struct vt_store_options opt = {
        place(o, cfg), 16, {.ctx = cfg, .stamp = cli_stamp}, CLI_INSTANCE};
    if (vt_store_open(&opt, &s, err, sizeof(err))) {
        fprintf(stderr, "classify train: %s\n", err);
        return 1;
    }
    struct vt_retrain_result r;
    int rc = vt_classifier_retrain(cfg, s, &r);
    vt_store_close(s);
    if (rc) {
        fprintf(stderr, "classify train: %s\n", vt_strerror(rc));
        return 1;
    }
    printf("trained %s on %zu messages (%zu corrections from the store)\n", r.version, r.trained_on,
           r.corrections);
    for (int t = 0; t < VT_TASKS; t++) {
        printf("  held-out %-15s %.3f", vt_task_names[t], r.scores.accuracy[t]);
        if (r.had_model)
            printf("  (active %s: %.3f)", r.previous_version, r.previous.accuracy[t]);
        printf("\n");
    }
    if (r.same)
        printf("the active model is already this one\n");
    else if (r.adopted)
        printf("adopted: running daemons use it within classify.refresh_seconds (%d s)\n",
               cfg->learn.refresh_seconds);
    else
        printf("kept the active model %s: the new one scores worse on the held-out part "
               "(classify.retrain_tolerance)\n",
               r.previous_version);
    return 0;
}

/* check-config: the file is valid; with PostgreSQL, the server answers too. */
static int cmd_check_config(const struct opts *o, struct vt_config *cfg)
{
    struct vt_store_place pl = place(o, cfg);
    if (!vt_store_place_pg(&pl)) {
        printf("ok\n");
        return 0;
    }
    char err[600];
    int version = 0;
    if (vt_store_reach(&pl, &version, err, sizeof(err))) {
        fprintf(stderr, "store.postgresql_conninfo: %s\n", err);
        return 1;
    }
    printf("ok\n");
    printf("PostgreSQL reachable; schema version %d of %d%s\n", version, vt_store_schema_latest(),
           version < vt_store_schema_latest() ? " (run `ventanilla migrate`)" : "");
    return 0;
}

static int cmd_migrate(const struct opts *o, struct vt_config *cfg)
{
    char err[600];
    struct vt_store_place pl = place(o, cfg);
    int rc = vt_store_migrate(&pl, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "migrate: %s\n", err);
        return 1;
    }
    printf("database is up to date\n");
    return 0;
}

static int cmd_audit_verify(const struct opts *o, struct vt_config *cfg)
{
    char err[600] = "";
    int64_t n = 0, bad = 0;
    struct vt_store_place pl = place(o, cfg);
    int rc = vt_store_audit_verify(&pl, &n, &bad, err, sizeof(err));
    if (rc == VT_ETAMPER) {
        printf("audit chain broken at event %lld: %s\n", (long long)bad, err);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "audit verify: %s\n", err[0] ? err : vt_strerror(rc));
        return 1;
    }
    printf("audit chain ok: %lld events\n", (long long)n);
    return 0;
}

/* ---- contacts import ---- */

struct import {
    const struct vt_config *cfg;
    struct vt_contact *rows;
    char **strings; /* owned copies behind rows */
    size_t n_rows, n_strings;
    bool header_seen;
    int col_email, col_phone, col_id, col_group, col_name;
    char err[300];
};

static const char *keep(struct import *im, const char *s)
{
    char **p = realloc(im->strings, (im->n_strings + 1) * sizeof(char *));
    if (!p)
        return NULL;
    im->strings = p;
    return (p[im->n_strings++] = strdup(s));
}

static int add_contact(struct import *im, const char *type, const char *key, const char *group,
                       const char *label)
{
    struct vt_contact *r = realloc(im->rows, (im->n_rows + 1) * sizeof(*r));
    if (!r)
        return VT_ENOMEM;
    im->rows = r;
    r[im->n_rows].key_type = type;
    r[im->n_rows].key = keep(im, key);
    r[im->n_rows].group = keep(im, group);
    r[im->n_rows].label = label && *label ? keep(im, label) : NULL;
    im->n_rows++;
    return 0;
}

static int import_row(void *ctx, size_t line, char **f, size_t n)
{
    struct import *im = ctx;
    if (!im->header_seen) {
        im->header_seen = true;
        im->col_email = im->col_phone = im->col_id = im->col_group = im->col_name = -1;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(f[i], "email") == 0)
                im->col_email = (int)i;
            else if (strcmp(f[i], "phone") == 0)
                im->col_phone = (int)i;
            else if (strcmp(f[i], "id_number") == 0)
                im->col_id = (int)i;
            else if (strcmp(f[i], "group") == 0)
                im->col_group = (int)i;
            else if (strcmp(f[i], "name") == 0)
                im->col_name = (int)i;
        }
        if (im->col_group < 0 || (im->col_email < 0 && im->col_phone < 0 && im->col_id < 0)) {
            snprintf(im->err, sizeof(im->err),
                     "line %zu: the header must name a group column and at least one of email, "
                     "phone, id_number",
                     line);
            return VT_EINVAL;
        }
        return 0;
    }
#define COL(c) ((c) >= 0 && (size_t)(c) < n ? f[c] : "")
    const char *group = COL(im->col_group), *name = COL(im->col_name);
    if (!vt_classify_group_known(&im->cfg->rules, group)) {
        snprintf(im->err, sizeof(im->err), "line %zu: unknown group \"%.64s\"", line, group);
        return VT_EINVAL;
    }
    char key[320];
    int found = 0, rc = 0;
    if (*COL(im->col_email) && !vt_contact_normalize_email(COL(im->col_email), key, sizeof(key))) {
        rc = rc ? rc : add_contact(im, "email", key, group, name);
        found++;
    }
    if (*COL(im->col_phone) && !vt_contact_normalize_phone(COL(im->col_phone), key, sizeof(key))) {
        rc = rc ? rc : add_contact(im, "phone", key, group, name);
        found++;
    }
    if (*COL(im->col_id) && !vt_contact_normalize_id(COL(im->col_id), key, sizeof(key))) {
        rc = rc ? rc : add_contact(im, "id", key, group, name);
        found++;
    }
#undef COL
    if (!found) {
        snprintf(im->err, sizeof(im->err), "line %zu: no usable email, phone or id_number", line);
        return VT_EINVAL;
    }
    return rc;
}

static int cmd_contacts_import(const struct opts *o, struct vt_config *cfg)
{
    if (o->n_args != 1)
        return usage();
    const char *file = o->args[0];
    size_t len = 0;
    char *data = read_file(file, &len);
    if (!data) {
        fprintf(stderr, "%s: %s\n", file, strerror(errno));
        return 1;
    }
    struct import im = {.cfg = cfg};
    size_t err_line = 0;
    int rc = vt_csv_parse(data ? data : "", len, 64, import_row, &im, &err_line);
    int code = 1;
    if (rc) {
        if (!im.err[0])
            snprintf(im.err, sizeof(im.err), "line %zu: malformed CSV", err_line);
        fprintf(stderr, "%s: %s\n", file, im.err);
        goto done;
    }
    char err[600];
    struct vt_store_place pl = place(o, cfg);
    if (vt_store_contacts_import(&pl, im.rows, im.n_rows, err, sizeof(err))) {
        fprintf(stderr, "contacts import: %s\n", err);
        goto done;
    }
    printf("imported %zu contacts\n", im.n_rows);
    code = 0;
done:
    for (size_t i = 0; i < im.n_strings; i++)
        free(im.strings[i]);
    free(im.strings);
    free(im.rows);
    free(data);
    return code;
}

/* ---- outbox ---- */

/* `outbox list [STATUS]` and `outbox retry ID`, with the daemon running or
 * not: the store serializes writers through SQLite's lock. */
static int cmd_outbox(const char *verb, const struct opts *o, struct vt_config *cfg)
{
    char err[600];
    struct vt_store *s = NULL;
    struct vt_store_options opt = {
        place(o, cfg), 16, {.ctx = cfg, .stamp = cli_stamp}, CLI_INSTANCE};
    if (vt_store_open(&opt, &s, err, sizeof(err))) {
        fprintf(stderr, "outbox: %s\n", err);
        return 1;
    }
    int code = 1;
    if (strcmp(verb, "list") == 0 && o->n_args <= 1) {
        int rc = vt_outbox_list(s, o->n_args ? o->args[0] : NULL, stdout);
        if (rc)
            fprintf(stderr, "outbox list: %s\n", vt_strerror(rc));
        code = rc ? 1 : 0;
    } else if (strcmp(verb, "retry") == 0 && o->n_args == 1) {
        char *end;
        long long id = strtoll(o->args[0], &end, 10);
        int rc = *end || id <= 0 ? VT_EINVAL : vt_outbox_retry(s, id);
        if (rc == 0)
            printf("message %lld queued again\n", id);
        else if (rc == VT_ENOTFOUND)
            fprintf(stderr, "outbox retry: no message %s\n", o->args[0]);
        else if (rc == VT_EINVAL)
            fprintf(stderr, "outbox retry: message %s is not dead, failed or undeliverable\n",
                    o->args[0]);
        else
            fprintf(stderr, "outbox retry: %s\n", vt_strerror(rc));
        code = rc ? 1 : 0;
    } else {
        code = usage();
    }
    vt_store_close(s);
    return code;
}

/* ---- user ---- */

/* The new password: the first line of standard input when it is not a
 * terminal (scripts, the start command), else typed twice without echo. */
static int read_password(char *out, size_t n)
{
    if (!isatty(STDIN_FILENO)) {
        if (!fgets(out, (int)n, stdin))
            return -1;
        out[strcspn(out, "\r\n")] = '\0';
        return 0;
    }
    char again[VT_PASSWORD_MAX + 2];
    struct termios old, quiet;
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    int rc = -1;
    fprintf(stderr, "Contraseña nueva: ");
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    if (fgets(out, (int)n, stdin)) {
        fprintf(stderr, "\nRepita la contraseña: ");
        if (fgets(again, sizeof(again), stdin)) {
            out[strcspn(out, "\r\n")] = '\0';
            again[strcspn(again, "\r\n")] = '\0';
            rc = strcmp(out, again) == 0 ? 0 : -2;
        }
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fprintf(stderr, "\n");
    sodium_memzero(again, sizeof(again));
    if (rc == -2)
        fprintf(stderr, "user: the two passwords differ\n");
    return rc;
}

/* The first admin, for the start command: prints a one-time password once;
 * says so and does nothing when an admin exists. */
static int cmd_user_bootstrap(const struct opts *o, struct vt_config *cfg)
{
    if (o->n_args != 0)
        return usage();
    char err[600], name[32], pw[32];
    struct vt_store *s = NULL;
    struct vt_store_options opt = {
        place(o, cfg), 16, {.ctx = cfg, .stamp = cli_stamp}, CLI_INSTANCE};
    if (vt_store_open(&opt, &s, err, sizeof(err))) {
        fprintf(stderr, "user: %s\n", err);
        return 1;
    }
    int rc = vt_users_bootstrap(s, name, sizeof(name), pw, sizeof(pw));
    vt_store_close(s);
    if (rc == VT_EEXIST) {
        printf("user bootstrap: an admin account exists; nothing to do\n");
        return 0;
    }
    if (rc) {
        fprintf(stderr, "user bootstrap: %s\n", vt_strerror(rc));
        return 1;
    }
    printf("First admin created. Sign in at /staff as \"%s\" with the one-time password\n"
           "    %s\n"
           "which must be changed at the first sign-in. It is not shown again.\n",
           name, pw);
    sodium_memzero(pw, sizeof(pw));
    return 0;
}

static int cmd_user(const char *verb, const struct opts *o, struct vt_config *cfg)
{
    if (strcmp(verb, "bootstrap") == 0)
        return cmd_user_bootstrap(o, cfg);
    if (o->n_args != 1 || (strcmp(verb, "add") == 0 && !o->role))
        return usage();
    char err[600], why[200] = "", pw[VT_PASSWORD_MAX + 2] = "";
    if (strcmp(verb, "disable") != 0 && read_password(pw, sizeof(pw)) != 0) {
        fprintf(stderr, "user %s: no password given\n", verb);
        return 1;
    }
    struct vt_store *s = NULL;
    struct vt_store_options opt = {
        place(o, cfg), 16, {.ctx = cfg, .stamp = cli_stamp}, CLI_INSTANCE};
    if (vt_store_open(&opt, &s, err, sizeof(err))) {
        fprintf(stderr, "user: %s\n", err);
        sodium_memzero(pw, sizeof(pw));
        return 1;
    }
    const char *name = o->args[0];
    int rc;
    if (strcmp(verb, "add") == 0)
        rc = vt_users_add(s, name, o->role, o->dependencia, pw, why, sizeof(why));
    else if (strcmp(verb, "passwd") == 0)
        rc = vt_users_passwd(s, name, pw, why, sizeof(why));
    else
        rc = vt_users_disable(s, name);
    sodium_memzero(pw, sizeof(pw));
    vt_store_close(s);
    if (rc == 0) {
        printf("user %s: %s\n", name,
               strcmp(verb, "add") == 0      ? "created"
               : strcmp(verb, "passwd") == 0 ? "password changed"
                                             : "disabled");
        return 0;
    }
    fprintf(stderr, "user %s: %s\n", verb,
            why[0] ? why : (rc == VT_ENOTFOUND ? "no such user" : vt_strerror(rc)));
    return 1;
}

/* ---- report ---- */

/* `report pqrsd|acceso`: the same figures and CSV as GET /api/v1/reports/,
 * to standard output, with the daemon running or not (a reader only). */
static int cmd_report(const char *which, const struct opts *o, struct vt_config *cfg)
{
    const char *format = o->format ? o->format : "csv", *field;
    char msg[200], err[600];
    vt_date_t from, to;
    if (o->n_args || (strcmp(format, "csv") && strcmp(format, "html")))
        return usage();
    if (vt_report_range(o->from, o->to, &from, &to, &field, msg, sizeof(msg))) {
        fprintf(stderr, "report: --%s: %s\n", field, msg);
        return 2;
    }
    struct vt_store *s = NULL;
    struct vt_store_options opt = {
        place(o, cfg), 16, {.ctx = cfg, .stamp = cli_stamp}, CLI_INSTANCE};
    if (vt_store_open(&opt, &s, err, sizeof(err))) {
        fprintf(stderr, "report: %s\n", err);
        return 1;
    }
    struct vt_store_reader *r = vt_store_reader_new(s);
    struct vt_buf b = {0};
    int64_t now = vt_clock_now_ms();
    vt_date_t today = vt_date_from_unix_ms(now);
    bool pqrsd = strcmp(which, "pqrsd") == 0, csv = strcmp(format, "csv") == 0;
    struct vt_report_pqrsd p;
    struct vt_report_access a;
    int rc = !r      ? VT_ESTORE
             : pqrsd ? vt_report_pqrsd_build(r, cfg, from, to, today, &p)
                     : vt_report_access_build(r, cfg, from, to, today, &a);
    if (rc == 0) {
        if (pqrsd)
            rc = csv ? vt_report_pqrsd_csv(&p, &b)
                     : vt_report_pqrsd_html(&p, cfg->entity_name, now, &b);
        else
            rc = csv ? vt_report_access_csv(&a, &b)
                     : vt_report_access_html(&a, cfg->entity_name, now, &b);
        if (pqrsd)
            vt_report_pqrsd_cleanup(&p);
        else
            vt_report_access_cleanup(&a);
    }
    if (rc == 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = VT_EIO;
    if (rc)
        fprintf(stderr, "report: %s\n", vt_strerror(rc));
    vt_buf_cleanup(&b);
    vt_store_reader_free(r);
    vt_store_close(s);
    return rc ? 1 : 0;
}

/* ---- backup and restore (backup.c) ---- */

static int cmd_backup(const char *cmd, const struct opts *o, struct vt_config *cfg)
{
    if (o->n_args != 1)
        return usage();
    char err[1200] = "";
    bool incomplete = false;
    struct vt_store_place pl = place(o, cfg);
    if (vt_store_place_pg(&pl)) {
        fprintf(stderr,
                "%s: store.backend is \"postgresql\": back up and restore the database "
                "with PostgreSQL's tools (pg_dump, pg_basebackup; attachments are in it) and "
                "the audit key file with your file backups\n",
                cmd);
        return 1;
    }
    int rc =
        strcmp(cmd, "backup") == 0
            ? vt_backup_make(data_dir(o, cfg), o->args[0], stdout, &incomplete, err, sizeof(err))
            : vt_backup_restore(o->args[0], data_dir(o, cfg), stdout, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "%s failed: %s\n", cmd, err[0] ? err : vt_strerror(rc));
        if (rc != VT_EEXIST && strcmp(cmd, "backup") == 0)
            fprintf(stderr, "Nothing was left in %s.\n", o->args[0]);
        else if (rc != VT_EEXIST)
            fprintf(stderr, "Nothing was restored; %s is as it was.\n", data_dir(o, cfg));
        return 1;
    }
    return incomplete ? 1 : 0;
}

/* ---- store copy (copy.c) ---- */

/* `store copy`: FROM (--config, its data directory --data-dir or its
 * config's) must be a SQLite store, TO (--to-config, its config's data
 * directory) a PostgreSQL one. */
static int cmd_store_copy(const struct opts *o, struct vt_config *from)
{
    if (o->n_args || !o->to_config)
        return usage();
    struct opts to_o = {.config = o->to_config};
    struct vt_config to;
    int rc = load_config(&to_o, &to);
    if (rc)
        return rc;
    struct vt_store_copy_options opt = {.from = place(o, from),
                                        .to = place(&to_o, &to),
                                        .from_name = o->config,
                                        .to_name = o->to_config};
    char err[1200] = "";
    bool incomplete = false;
    rc = 1;
    if (vt_store_place_pg(&opt.from))
        fprintf(stderr,
                "store copy: %s has store.backend \"postgresql\": store copy reads a SQLite store "
                "(the entity's current config) and writes it into PostgreSQL\n",
                o->config);
    else if (!vt_store_place_pg(&opt.to))
        fprintf(stderr,
                "store copy: %s has store.backend \"%s\": the target of store copy must have "
                "store.backend \"postgresql\"\n",
                o->to_config, to.store_backend);
    else if ((rc = vt_store_copy(&opt, stdout, &incomplete, err, sizeof(err))))
        fprintf(stderr, "store copy failed: %s\n", err[0] ? err : vt_strerror(rc));
    else
        rc = incomplete ? 1 : 0;
    vt_config_cleanup(&to);
    return rc ? 1 : 0;
}

/* ---- audit new-key ---- */

/* `audit new-key FILE`: a new random audit key for store.audit_key_file
 * (never over an existing file: a chain made with it would no longer
 * verify). */
static int cmd_audit_new_key(int argc, char **argv)
{
    if (argc != 4 || argv[3][0] == '-')
        return usage();
    int rc = vt_audit_key_create(argv[3]);
    if (rc == VT_EEXIST) {
        fprintf(stderr,
                "audit new-key: %s exists already; it is kept (an audit chain made with "
                "it verifies only with it)\n",
                argv[3]);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "audit new-key: cannot create %s: %s\n", argv[3], strerror(errno));
        return 1;
    }
    printf("new audit key in %s (mode 0600): name it in store.audit_key_file (or "
           "VENTANILLA_AUDIT_KEY_FILE) and give every instance on the database the same file; "
           "keep a copy with your backups\n",
           argv[3]);
    return 0;
}

/* ---- calendar ---- */

static int cmd_calendar(int argc, char **argv)
{
    struct opts o;
    if (argc < 3 || parse_opts(argc, argv, 3, &o))
        return usage();
    if (strcmp(argv[2], "holidays") == 0) {
        char *end;
        long year = o.n_args == 1 ? strtol(o.args[0], &end, 10) : 0;
        if (o.n_args != 1 || *end || year < 1900 || year > 9999) {
            fprintf(stderr, "calendar holidays: YEAR must be from 1900 to 9999\n");
            return 2;
        }
        struct vt_holiday h[32];
        size_t n = vt_calendar_holidays((int)year, h, 32);
        for (size_t i = 0; i < n && i < 32; i++) {
            char d[11];
            vt_date_format(h[i].date, d);
            printf("%s %s\n", d, h[i].name);
        }
        return 0;
    }
    if (strcmp(argv[2], "due") == 0) {
        struct vt_config cfg;
        int64_t ms;
        if (vt_config_defaults(&cfg))
            return 1;
        const char *type = vt_item_enum(vt_item_types, o.type);
        const char *cls = vt_item_enum(vt_item_classes, o.petition_class);
        int code = 2;
        if (!type || (o.petition_class && !cls)) {
            fprintf(stderr, "calendar due: --type must be one of peticion, queja, reclamo, "
                            "sugerencia, denuncia, felicitacion; --class one of general, "
                            "documentos, consulta\n");
        } else if (!o.received || vt_time_parse_iso(o.received, &ms)) {
            fprintf(stderr, "calendar due: --received must be an ISO 8601 date and time\n");
        } else {
            int days = vt_item_term_days(&cfg, "pqrsd", type, cls);
            if (days < 0) {
                printf("none\n");
            } else {
                char d[11];
                vt_date_format(vt_calendar_due_date(&cfg.calendar, ms, days), d);
                printf("%s\n", d);
            }
            code = 0;
        }
        vt_config_cleanup(&cfg);
        return code;
    }
    return usage();
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (sodium_init() < 0) {
        fprintf(stderr, "libsodium failed to start\n");
        return 1;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "calendar") == 0)
        return cmd_calendar(argc, argv);
    if (strcmp(cmd, "audit") == 0 && argc >= 3 && strcmp(argv[2], "new-key") == 0)
        return cmd_audit_new_key(argc, argv);
    int first = 2;
    if (strcmp(cmd, "audit") == 0 || strcmp(cmd, "contacts") == 0 || strcmp(cmd, "outbox") == 0 ||
        strcmp(cmd, "user") == 0 || strcmp(cmd, "report") == 0 || strcmp(cmd, "store") == 0 ||
        strcmp(cmd, "classify") == 0) {
        if (argc < 3)
            return usage();
        if ((strcmp(cmd, "audit") == 0 && strcmp(argv[2], "verify") != 0) ||
            (strcmp(cmd, "contacts") == 0 && strcmp(argv[2], "import") != 0) ||
            (strcmp(cmd, "outbox") == 0 && strcmp(argv[2], "list") != 0 &&
             strcmp(argv[2], "retry") != 0) ||
            (strcmp(cmd, "user") == 0 && strcmp(argv[2], "add") != 0 &&
             strcmp(argv[2], "passwd") != 0 && strcmp(argv[2], "disable") != 0 &&
             strcmp(argv[2], "bootstrap") != 0) ||
            (strcmp(cmd, "report") == 0 && strcmp(argv[2], "pqrsd") != 0 &&
             strcmp(argv[2], "acceso") != 0) ||
            (strcmp(cmd, "store") == 0 && strcmp(argv[2], "copy") != 0) ||
            (strcmp(cmd, "classify") == 0 && strcmp(argv[2], "eval") != 0 &&
             strcmp(argv[2], "train") != 0))
            return usage();
        first = 3;
    } else if (strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "check-config") &&
               strcmp(cmd, "backup") && strcmp(cmd, "restore")) {
        return usage();
    }
    struct opts o;
    if (parse_opts(argc, argv, first, &o))
        return usage();
    struct vt_config cfg;
    int rc = load_config(&o, &cfg);
    if (rc)
        return rc;
    if (strcmp(cmd, "check-config") == 0) {
        rc = cmd_check_config(&o, &cfg);
    } else if (strcmp(cmd, "migrate") == 0) {
        rc = cmd_migrate(&o, &cfg);
    } else if (strcmp(cmd, "audit") == 0) {
        rc = cmd_audit_verify(&o, &cfg);
    } else if (strcmp(cmd, "contacts") == 0) {
        rc = cmd_contacts_import(&o, &cfg);
    } else if (strcmp(cmd, "outbox") == 0) {
        rc = cmd_outbox(argv[2], &o, &cfg);
    } else if (strcmp(cmd, "user") == 0) {
        rc = cmd_user(argv[2], &o, &cfg);
    } else if (strcmp(cmd, "report") == 0) {
        rc = cmd_report(argv[2], &o, &cfg);
    } else if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0) {
        rc = cmd_backup(cmd, &o, &cfg);
    } else if (strcmp(cmd, "store") == 0) {
        rc = cmd_store_copy(&o, &cfg);
    } else if (strcmp(cmd, "classify") == 0) {
        rc = cmd_classify(argv[2], &o, &cfg);
    } else {
        int port = o.port >= 0 ? o.port : cfg.port;
        struct vt_store_place pl = place(&o, &cfg);
        rc = vt_daemon_main(&cfg, &pl, port);
    }
    vt_config_cleanup(&cfg);
    return rc;
}
