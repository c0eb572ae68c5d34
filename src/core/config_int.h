/* config_int.h - what config.c (the key table, loading) and config_values.c
 * (the keys with structured values) share. Private to the config module.
 */
#ifndef VT_CONFIG_INT_H
#define VT_CONFIG_INT_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

/* Where a load reports: the config being filled and the message buffer. */
struct ctx {
    struct vt_config *cfg;
    char *msg;
    size_t msglen;
};

typedef int (*custom_fn)(struct ctx *c, const cJSON *v);

/* Writes fmt (with arg) into c's message; returns VT_ECONFIG. */
int vt_config__fail(struct ctx *c, const char *fmt, const char *arg);
/* A JSON number that is an exact integer within [min, max]. */
int vt_config__get_integer(struct ctx *c, const cJSON *v, long long min, long long max,
                           long long *out);
/* A JSON string of min..max characters (valid UTF-8), copied into *out. */
int vt_config__get_string(struct ctx *c, const cJSON *v, long long min, long long max, char **out);
/* Frees n strings and the array; NULL ok. */
void vt_config__free_strv(char **v, size_t n);
void vt_config__free_templates(struct vt_wa_template *t, size_t n);
void vt_config__free_mailboxes(struct vt_mailbox_config *m, size_t n);
void vt_config__free_type_rules(struct vt_mail_type_rule *r, size_t n);
/* The email subject keywords that set a type by default. 0 or VT_ENOMEM. */
int vt_config__default_mail_rules(struct vt_config *cfg);

/* The keys with structured values (K_CUSTOM in config.c's table): each
 * checks v and stores it in c->cfg, or fails naming the problem. */
int vt_config__closing_time(struct ctx *c, const cJSON *v);
int vt_config__non_working_days(struct ctx *c, const cJSON *v);
int vt_config__allowed_types(struct ctx *c, const cJSON *v);
int vt_config__allowed_origins(struct ctx *c, const cJSON *v);
int vt_config__identity_roles(struct ctx *c, const cJSON *v);
int vt_config__groups(struct ctx *c, const cJSON *v);
int vt_config__dependencias(struct ctx *c, const cJSON *v);
void vt_config__free_dependencias(struct vt_dependencia_seed *d, size_t n);
int vt_config__default_group(struct ctx *c, const cJSON *v);
int vt_config__domain_rules(struct ctx *c, const cJSON *v);
int vt_config__keyword_rules(struct ctx *c, const cJSON *v);
int vt_config__log_level(struct ctx *c, const cJSON *v);
int vt_config__wa_templates(struct ctx *c, const cJSON *v);
int vt_config__mailboxes(struct ctx *c, const cJSON *v);
int vt_config__mail_type_rules(struct ctx *c, const cJSON *v);

#endif
