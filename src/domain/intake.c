/* intake.c - validation and classification of intakes (intake.h).
 *
 * Both entry points reduce their input to struct raw (strings as sent) and
 * share validate(); only type checks and unknown-key checks differ between
 * JSON and form input. Field names in errors follow the input: nested JSON
 * paths for JSON, the flat form names for forms, so a page can tie the error
 * to its input.
 */
#include "domain/intake.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/classify.h"
#include "domain/classifier.h"
#include "core/error.h"
#include "core/text.h"

/* Characterization fields (Función Pública guide); all optional. */
static const char *const age_ranges[] = {"0-17", "18-28", "29-59", "60+", NULL};
static const char *const genders[] = {"mujer", "hombre", "no_binario", "otro", "prefiero_no_decir",
                                      NULL};
static const char *const ethnic_groups[] = {"ninguno",    "indigena", "afrocolombiano", "raizal",
                                            "palenquero", "rrom",     "otro",           NULL};
static const char *const zones[] = {"urbana", "rural", NULL};
static const char *const char_enums[] = {"age_range", "gender", "ethnic_group", "zone", NULL};
static const char *const char_bools[] = {"disability", "conflict_victim", "migrant", NULL};

static const char *const *enum_values(const char *field)
{
    if (strcmp(field, "age_range") == 0)
        return age_ranges;
    if (strcmp(field, "gender") == 0)
        return genders;
    if (strcmp(field, "ethnic_group") == 0)
        return ethnic_groups;
    return zones;
}

struct raw {
    const char *kind, *type, *petition_class, *subject, *body, *reply_channel, *declared_group;
    const char *person_type, *name, *id_type, *id_number, *email, *phone, *address, *municipality;
    int data_consent;       /* -1 absent, 0 or 1 */
    int reserve;            /* identity_reserved: -1 absent, 0 or 1 */
    const char *ch_enum[4]; /* parallel to char_enums */
    int ch_bool[3];         /* parallel to char_bools; -1 absent */
    bool flat;              /* form field names in errors */
};

static int error(struct vt_intake_error *e, int status, const char *code, const char *field,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#include <stdarg.h>
static int error(struct vt_intake_error *e, int status, const char *code, const char *field,
                 const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    e->code = code;
    snprintf(e->field, sizeof(e->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return status == 413 ? VT_ETOOBIG : VT_EINVAL;
}

/* The name of a requester field as the input spelled it. */
static const char *rname(const struct raw *r, const char *field, char *buf, size_t n)
{
    if (r->flat)
        return field;
    snprintf(buf, n, "requester.%s", field);
    return buf;
}

static bool blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* Checks a text field: UTF-8, required or not, maximum characters. */
static int check_text(struct vt_intake_error *e, const char *field, const char *label,
                      const char *v, bool required, size_t max_chars)
{
    if (v && !vt_utf8_valid(v, strlen(v)))
        return error(e, 400, "invalid_utf8", field, "El campo «%s» tiene caracteres no válidos.",
                     label);
    if (required && blank(v))
        return error(e, 422, "missing", field, "Falta el campo «%s».", label);
    if (v && vt_utf8_chars(v, strlen(v)) > max_chars)
        return error(e, 422, "too_long", field,
                     "El campo «%s» es demasiado largo: máximo %zu caracteres.", label, max_chars);
    return 0;
}

static int check_enum(struct vt_intake_error *e, const char *field, const char *label,
                      const char *v, const char *const *list, const char **out)
{
    if (v && !vt_utf8_valid(v, strlen(v)))
        return error(e, 400, "invalid_utf8", field, "El campo «%s» tiene caracteres no válidos.",
                     label);
    *out = vt_item_enum(list, v);
    if (v && !*out)
        return error(e, 422, "unknown_value", field, "El valor de «%s» no es una opción válida.",
                     label);
    return 0;
}

static bool valid_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254)
        return false;
    const char *dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == ';')
            return false;
    return true;
}

static bool valid_phone(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (!strchr("+ -().", *p))
            return false;
    }
    return digits >= 7 && digits <= 15;
}

static bool valid_id_number(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 20)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
            return false;
    return true;
}

static char *dup_trim(const char *s)
{
    if (blank(s))
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

static char *characterization_json(const struct raw *r)
{
    cJSON *o = cJSON_CreateObject();
    int n = 0;
    for (int i = 0; char_enums[i]; i++)
        if (r->ch_enum[i]) {
            cJSON_AddStringToObject(o, char_enums[i], r->ch_enum[i]);
            n++;
        }
    for (int i = 0; char_bools[i]; i++)
        if (r->ch_bool[i] >= 0) {
            cJSON_AddBoolToObject(o, char_bools[i], r->ch_bool[i]);
            n++;
        }
    char *s = n ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

/* The shared rules. On success fills it (strings copied). */
static int validate(const struct vt_intake_ctx *ctx, const struct raw *r, struct vt_item *it,
                    struct vt_intake_error *e)
{
    const struct vt_config *cfg = ctx->cfg;
    char nb[64];
    int rc;
    if (!r->kind)
        return error(e, 422, "missing", "kind", "Falta el campo «kind».");
    if ((rc = check_enum(e, "kind", "kind", r->kind, vt_item_kinds, &it->kind)))
        return rc;
    if (strcmp(it->kind, "pqrsd") != 0)
        return error(e, 422, "invalid", "kind",
                     "Este formulario solo recibe peticiones, quejas, reclamos, sugerencias, "
                     "denuncias y felicitaciones.");
    if (!r->type)
        return error(e, 422, "missing", "type", "Elija el tipo de solicitud.");
    if ((rc = check_enum(e, "type", "tipo de solicitud", r->type, vt_item_types, &it->type)))
        return rc;
    if ((rc = check_enum(e, "petition_class", "clase de petición", r->petition_class,
                         vt_item_classes, &it->petition_class)))
        return rc;
    if (it->petition_class && strcmp(it->type, "peticion") != 0)
        return error(e, 422, "invalid", "petition_class",
                     "La clase de petición solo aplica cuando el tipo es «Petición».");
    if (!it->petition_class && strcmp(it->type, "peticion") == 0)
        it->petition_class = "general";
    if ((rc = check_text(e, "subject", "asunto", r->subject, true, (size_t)cfg->max_subject_chars)))
        return rc;
    if ((rc = check_text(e, "body", "descripción", r->body, true, (size_t)cfg->max_body_chars)))
        return rc;

    const char *f = rname(r, "person_type", nb, sizeof(nb));
    if (!r->person_type)
        return error(e, 422, "missing", f,
                     "Indique si es persona natural, jurídica, niña, niño "
                     "o adolescente, o si prefiere el anonimato.");
    if ((rc = check_enum(e, f, "tipo de persona", r->person_type, vt_item_person_types,
                         &it->req.person_type)))
        return rc;
    bool anonymous = strcmp(it->req.person_type, "anonimo") == 0;
    static const struct {
        const char *field, *label;
        size_t max;
    } texts[] = {{"name", "nombre", 200},
                 {"id_number", "número de documento", 20},
                 {"email", "correo electrónico", 254},
                 {"phone", "teléfono", 20},
                 {"address", "dirección", 300},
                 {"municipality", "municipio", 100}};
    const char *vals[] = {r->name, r->id_number, r->email, r->phone, r->address, r->municipality};
    for (size_t i = 0; i < 6; i++)
        if ((rc = check_text(e, rname(r, texts[i].field, nb, sizeof(nb)), texts[i].label, vals[i],
                             false, texts[i].max)))
            return rc;
    if ((rc = check_enum(e, rname(r, "id_type", nb, sizeof(nb)), "tipo de documento", r->id_type,
                         vt_item_id_types, (const char **)&vals[0] /* scratch */)))
        return rc;
    if (anonymous && (!blank(r->name) || !blank(r->id_number)))
        return error(e, 422, "invalid",
                     rname(r, blank(r->name) ? "id_number" : "name", nb, sizeof(nb)),
                     "Si presenta la solicitud de forma anónima, no escriba su nombre ni su "
                     "documento.");
    if (!anonymous && blank(r->name))
        return error(e, 422, "missing", rname(r, "name", nb, sizeof(nb)),
                     "Escriba su nombre o el de la organización.");
    if (!blank(r->id_number) && !valid_id_number(r->id_number))
        return error(e, 422, "invalid", rname(r, "id_number", nb, sizeof(nb)),
                     "El número de documento debe tener entre 3 y 20 letras o números.");
    if (!blank(r->id_number) && !r->id_type)
        return error(e, 422, "missing", rname(r, "id_type", nb, sizeof(nb)),
                     "Elija el tipo de documento.");
    if (!blank(r->email) && !valid_email(r->email))
        return error(e, 422, "invalid", rname(r, "email", nb, sizeof(nb)),
                     "El correo electrónico no es válido. Ejemplo: nombre@correo.com");
    if (!blank(r->phone) && !valid_phone(r->phone))
        return error(e, 422, "invalid", rname(r, "phone", nb, sizeof(nb)),
                     "El teléfono debe tener entre 7 y 15 números.");

    if ((rc = check_enum(e, "reply_channel", "medio de respuesta", r->reply_channel,
                         vt_item_reply_channels, &it->reply_channel)))
        return rc;
    if (!it->reply_channel)
        it->reply_channel = !blank(r->email) ? "email" : "web";
    if (strcmp(it->reply_channel, "email") == 0 && blank(r->email))
        return error(e, 422, "missing", rname(r, "email", nb, sizeof(nb)),
                     "Para responderle por correo electrónico necesitamos su correo.");
    if (strcmp(it->reply_channel, "whatsapp") == 0 && blank(r->phone))
        return error(e, 422, "missing", rname(r, "phone", nb, sizeof(nb)),
                     "Para responderle por WhatsApp necesitamos su número de celular.");
    if (strcmp(it->reply_channel, "postal") == 0 && blank(r->address))
        return error(e, 422, "missing", rname(r, "address", nb, sizeof(nb)),
                     "Para responderle por correo postal necesitamos su dirección.");
    if (r->declared_group && !vt_utf8_valid(r->declared_group, strlen(r->declared_group)))
        return error(e, 400, "invalid_utf8", "declared_group",
                     "El grupo tiene caracteres no válidos.");
    if (!blank(r->declared_group) && !vt_classify_group_known(&cfg->rules, r->declared_group))
        return error(e, 422, "unknown_value", "declared_group",
                     "El grupo de interés elegido no es una opción válida.");
    for (int i = 0; char_enums[i]; i++) {
        const char *ok;
        char path[64];
        snprintf(path, sizeof(path), "%s%s", r->flat ? "" : "requester.characterization.",
                 char_enums[i]);
        if ((rc = check_enum(e, path, "caracterización", r->ch_enum[i], enum_values(char_enums[i]),
                             &ok)))
            return rc;
    }

    /* Everything is valid: copy. */
    it->channel = NULL;
    if (!(it->subject = dup_trim(r->subject)) || !(it->body = dup_trim(r->body)))
        return error(e, 500, "internal", "", "Sin memoria.");
    it->req.name = dup_trim(r->name);
    it->req.id_type = r->id_type ? strdup(r->id_type) : NULL;
    it->req.id_number = dup_trim(r->id_number);
    it->req.email = dup_trim(r->email);
    it->req.phone = dup_trim(r->phone);
    it->req.address = dup_trim(r->address);
    it->req.municipality = dup_trim(r->municipality);
    it->req.data_consent = r->data_consent == 1;
    it->req.reserve_requested = r->reserve == 1;
    it->req.characterization = characterization_json(r);
    rc = vt_intake_complete(cfg, it, blank(r->declared_group) ? NULL : r->declared_group,
                            ctx->reader ? vt_store_contact_lookup : NULL, ctx->reader);
    if (rc)
        return error(e, 503, "unavailable", "",
                     "No pudimos clasificar la solicitud; intente de "
                     "nuevo en un momento.");
    return 0;
}

/* ---- completing and filing, for every channel ---- */

/* "[PQRSD:queja]" anywhere in the subject, else the first keyword rule that
 * matches a whole word of it; NULL when none does. */
const char *vt_intake_type_from_subject(const struct vt_config *cfg, const char *subject)
{
    char fold[1024];
    vt_fold_es(subject ? subject : "", fold, sizeof(fold));
    const char *tag = strstr(fold, "[pqrsd:");
    if (tag) {
        char t[24] = "";
        size_t n = strcspn(tag + 7, "].");
        if (n < sizeof(t)) {
            memcpy(t, tag + 7, n);
            t[n] = '\0';
            const char *known = vt_item_enum(vt_item_types, t);
            if (known)
                return known;
        }
    }
    for (size_t i = 0; i < cfg->email.n_type_rules; i++) {
        char kw[128];
        vt_fold_es(cfg->email.type_rules[i].keyword, kw, sizeof(kw));
        size_t kl = strlen(kw);
        for (const char *p = fold; kl && (p = strstr(p, kw)); p++) {
            bool start = p == fold || !isalnum((unsigned char)p[-1]);
            bool end = !isalnum((unsigned char)p[kl]);
            if (start && end)
                return vt_item_enum(vt_item_types, cfg->email.type_rules[i].type);
        }
    }
    return NULL;
}

int vt_intake_classify(const struct vt_config *cfg, const struct vt_textmodel *m,
                       struct vt_item *it, const char *declared_group, vt_contact_lookup_fn lookup,
                       void *lookup_ctx, struct vt_suggestion *sug_out)
{
    struct vt_suggestion sug;
    memset(&sug, 0, sizeof(sug));
    if (!it->status)
        it->status = "radicado";
    bool pqrsd = it->kind && strcmp(it->kind, "pqrsd") == 0;
    bool tracked = it->kind && (pqrsd || strcmp(it->kind, "hearing_question") == 0);
    if (tracked && !it->tracking_code[0])
        vt_item_new_tracking_code(it);
    bool have = false;
    if (m && pqrsd) {
        /* The requester's own name and address never become a reason. */
        const char *exclude[] = {it->req.name, it->req.email};
        struct vt_text_input in = {it->channel, it->req.email ? it->req.email : it->req.phone,
                                   it->subject, it->body,
                                   exclude,     2};
        int rc = vt_classifier_suggest(m, &in, &sug);
        if (rc)
            return rc;
        have = true;
    }
    /* The type: the channel's, or when it only guessed (an e-mail without a
     * tag or keyword), the model's; triage confirms it below the threshold. */
    const char *mt = have ? vt_item_enum(vt_item_types, sug.p[VT_TASK_TYPE].label) : NULL;
    if (pqrsd && it->needs_triage && mt) {
        it->type = mt;
        it->needs_triage = sug.p[VT_TASK_TYPE].confidence * 100 < cfg->learn.type_confidence;
    }
    if (pqrsd && !it->type) {
        it->type = "peticion";
        it->needs_triage = true;
    }
    if (it->type && strcmp(it->type, "peticion") == 0 && !it->petition_class) {
        const char *mc = have ? vt_item_enum(vt_item_classes, sug.p[VT_TASK_CLASS].label) : NULL;
        it->petition_class = mc ? mc : "general";
    }
    it->term_days = vt_item_term_days(cfg, it->kind, it->type, it->petition_class);
    if (have) {
        free(it->classifier);
        if (!(it->classifier = vt_classifier_pack(&sug)))
            return VT_ENOMEM;
        const struct vt_prediction *d = &sug.p[VT_TASK_DEPENDENCIA];
        if (d->label[0] && !it->dependencia[0] &&
            d->confidence * 100 >= cfg->learn.route_confidence &&
            vt_classifier_routable(d->label)) {
            snprintf(it->dependencia, sizeof(it->dependencia), "%s", d->label);
            free(it->route_payload);
            if (!(it->route_payload = vt_classifier_route_json(&sug)))
                return VT_ENOMEM;
        }
    }
    if (sug_out)
        *sug_out = sug;
    if (it->group[0])
        return 0; /* the channel knows the group (a hearing, a survey's invitation) */
    char rule[40];
    snprintf(rule, sizeof(rule), "modelo:%s", sug.version);
    bool model_group = have && sug.p[VT_TASK_GROUP].label[0];
    struct vt_classify_input in = {declared_group,
                                   it->req.person_type,
                                   it->req.email,
                                   it->req.phone,
                                   it->req.id_number,
                                   it->subject,
                                   it->body,
                                   model_group ? sug.p[VT_TASK_GROUP].label : NULL,
                                   rule};
    struct vt_classification cl;
    int rc = vt_classify(&cfg->rules, lookup, lookup_ctx, &in, &cl);
    if (rc)
        return rc;
    snprintf(it->group, sizeof(it->group), "%s", cl.group);
    snprintf(it->classified_by, sizeof(it->classified_by), "%s", cl.rule);
    return 0;
}

int vt_intake_complete(const struct vt_config *cfg, struct vt_item *it, const char *declared_group,
                       vt_contact_lookup_fn lookup, void *lookup_ctx)
{
    if (!cfg->learn.enabled)
        return vt_intake_classify(cfg, NULL, it, declared_group, lookup, lookup_ctx, NULL);
    const struct vt_textmodel *m = vt_classifier_acquire();
    int rc = vt_intake_classify(cfg, m, it, declared_group, lookup, lookup_ctx, NULL);
    vt_classifier_release();
    return rc;
}

int vt_intake_file(const struct vt_config *cfg, struct vt_store_tx *tx, struct vt_item *it,
                   const char *declared_group)
{
    int rc = vt_intake_complete(cfg, it, declared_group, vt_store_tx_contact_lookup, tx);
    return rc ? rc : vt_store_tx_item_insert(tx, it);
}

/* ---- JSON ---- */

static const char *const top_keys[] = {
    "kind",      "type",          "petition_class", "subject",      "body",
    "requester", "reply_channel", "declared_group", "data_consent", NULL};
static const char *const requester_keys[] = {
    "person_type", "name",         "id_type",          "id_number",         "email", "phone",
    "address",     "municipality", "characterization", "identity_reserved", NULL};

static int json_string(const cJSON *obj, const char *key, const char *path,
                       struct vt_intake_error *e, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return error(e, 422, "wrong_type", path, "El campo «%s» debe ser texto.", path);
    *out = v->valuestring;
    return 0;
}

static int unknown_keys(const cJSON *obj, const char *const *allowed, const char *prefix,
                        struct vt_intake_error *e)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
    {
        if (!vt_item_enum(allowed, c->string)) {
            char path[64];
            snprintf(path, sizeof(path), "%s%.40s", prefix, c->string);
            if (!vt_utf8_valid(path, strlen(path)))
                snprintf(path, sizeof(path), "%s?", prefix);
            return error(e, 422, "unknown_field", path, "El campo «%s» no existe.", path);
        }
    }
    return 0;
}

static int json_characterization(const cJSON *o, struct raw *r, struct vt_intake_error *e)
{
    const char *path = "requester.characterization";
    if (!o || cJSON_IsNull(o))
        return 0;
    if (!cJSON_IsObject(o))
        return error(e, 422, "wrong_type", path, "La caracterización debe ser un objeto.");
    const cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        char sub[64];
        snprintf(sub, sizeof(sub), "%s.%.20s", path, c->string);
        int i;
        for (i = 0; char_enums[i] && strcmp(char_enums[i], c->string); i++)
            ;
        if (char_enums[i]) {
            if (!cJSON_IsString(c))
                return error(e, 422, "wrong_type", sub, "El campo «%s» debe ser texto.", sub);
            r->ch_enum[i] = c->valuestring;
            continue;
        }
        for (i = 0; char_bools[i] && strcmp(char_bools[i], c->string); i++)
            ;
        if (!char_bools[i])
            return error(e, 422, "unknown_field", path,
                         "La caracterización tiene un campo que "
                         "no existe.");
        if (!cJSON_IsBool(c))
            return error(e, 422, "wrong_type", sub, "El campo «%s» debe ser verdadero o falso.",
                         sub);
        r->ch_bool[i] = cJSON_IsTrue(c);
    }
    return 0;
}

static int finish(const struct vt_intake_ctx *ctx, const struct raw *r, const char *channel,
                  struct vt_item **out, struct vt_intake_error *e)
{
    struct vt_item *it = vt_item_new();
    if (!it)
        return error(e, 500, "internal", "", "Sin memoria.");
    int rc = validate(ctx, r, it, e);
    if (rc) {
        vt_item_free(it);
        return rc;
    }
    it->channel = channel;
    *out = it;
    return 0;
}

int vt_intake_from_json(const struct vt_intake_ctx *ctx, const char *body, size_t len,
                        const char *channel, struct vt_item **out, struct vt_intake_error *e)
{
    struct raw r = {.data_consent = -1, .reserve = -1, .ch_bool = {-1, -1, -1}};
    int rc = 0;
    *out = NULL;
    if ((long long)len > ctx->cfg->max_json_bytes)
        return error(e, 413, "too_large", "body", "La solicitud es demasiado grande.");
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root)
        return error(e, 400, "malformed_json", "body",
                     "El cuerpo de la solicitud no es JSON válido.");
    if (!cJSON_IsObject(root)) {
        rc = error(e, 400, "malformed_json", "body", "El cuerpo debe ser un objeto JSON.");
        goto done;
    }
    if ((rc = unknown_keys(root, top_keys, "", e)))
        goto done;
    static const struct {
        const char *key;
        size_t off;
    } top[] = {
        {"kind", offsetof(struct raw, kind)},
        {"type", offsetof(struct raw, type)},
        {"petition_class", offsetof(struct raw, petition_class)},
        {"subject", offsetof(struct raw, subject)},
        {"body", offsetof(struct raw, body)},
        {"reply_channel", offsetof(struct raw, reply_channel)},
        {"declared_group", offsetof(struct raw, declared_group)},
    };
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
        if ((rc = json_string(root, top[i].key, top[i].key, e,
                              (const char **)((char *)&r + top[i].off))))
            goto done;
    const cJSON *consent = cJSON_GetObjectItemCaseSensitive(root, "data_consent");
    if (consent && !cJSON_IsNull(consent)) {
        if (!cJSON_IsBool(consent)) {
            rc = error(e, 422, "wrong_type", "data_consent",
                       "El campo «data_consent» debe ser verdadero o falso.");
            goto done;
        }
        r.data_consent = cJSON_IsTrue(consent);
    }
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "requester");
    if (!req || cJSON_IsNull(req)) {
        rc = error(e, 422, "missing", "requester",
                   "Faltan los datos de quien presenta la "
                   "solicitud.");
        goto done;
    }
    if (!cJSON_IsObject(req)) {
        rc = error(e, 422, "wrong_type", "requester", "El campo «requester» debe ser un objeto.");
        goto done;
    }
    if ((rc = unknown_keys(req, requester_keys, "requester.", e)))
        goto done;
    static const struct {
        const char *key, *path;
        size_t off;
    } rq[] = {
        {"person_type", "requester.person_type", offsetof(struct raw, person_type)},
        {"name", "requester.name", offsetof(struct raw, name)},
        {"id_type", "requester.id_type", offsetof(struct raw, id_type)},
        {"id_number", "requester.id_number", offsetof(struct raw, id_number)},
        {"email", "requester.email", offsetof(struct raw, email)},
        {"phone", "requester.phone", offsetof(struct raw, phone)},
        {"address", "requester.address", offsetof(struct raw, address)},
        {"municipality", "requester.municipality", offsetof(struct raw, municipality)},
    };
    for (size_t i = 0; i < sizeof(rq) / sizeof(rq[0]); i++)
        if ((rc = json_string(req, rq[i].key, rq[i].path, e,
                              (const char **)((char *)&r + rq[i].off))))
            goto done;
    if ((rc = json_characterization(cJSON_GetObjectItemCaseSensitive(req, "characterization"), &r,
                                    e)))
        goto done;
    const cJSON *reserve = cJSON_GetObjectItemCaseSensitive(req, "identity_reserved");
    if (reserve && !cJSON_IsNull(reserve)) {
        if (!cJSON_IsBool(reserve)) {
            rc = error(e, 422, "wrong_type", "requester.identity_reserved",
                       "El campo «requester.identity_reserved» debe ser verdadero o falso.");
            goto done;
        }
        r.reserve = cJSON_IsTrue(reserve);
    }
    rc = finish(ctx, &r, channel, out, e);
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- forms ---- */

static const char *const form_keys[] = {"kind",
                                        "type",
                                        "petition_class",
                                        "subject",
                                        "body",
                                        "person_type",
                                        "name",
                                        "id_type",
                                        "id_number",
                                        "email",
                                        "phone",
                                        "address",
                                        "municipality",
                                        "reply_channel",
                                        "declared_group",
                                        "data_consent",
                                        "identity_reserved",
                                        "age_range",
                                        "gender",
                                        "ethnic_group",
                                        "zone",
                                        "disability",
                                        "conflict_victim",
                                        "migrant",
                                        "attachments",
                                        NULL};

static const char *form_text(const struct vt_form *f, const char *name)
{
    const struct vt_form_field *v = vt_form_get(f, name);
    if (!v || v->filename)
        return NULL;
    /* An empty <select> or input means "not given". */
    return v->value_len ? v->value : NULL;
}

static int form_bool(const struct vt_form *f, const char *name, int *out, struct vt_intake_error *e)
{
    const char *v = form_text(f, name);
    *out = -1;
    if (!v)
        return 0;
    static const char *yes[] = {"on", "si", "sí", "true", "1", NULL};
    static const char *no[] = {"off", "no", "false", "0", NULL};
    if (vt_item_enum(yes, v))
        *out = 1;
    else if (vt_item_enum(no, v))
        *out = 0;
    else
        return error(e, 422, "unknown_value", name, "Responda «sí» o «no».");
    return 0;
}

static int form_attachments(const struct vt_intake_ctx *ctx, const struct vt_form *f,
                            struct vt_item *it, struct vt_intake_error *e)
{
    const struct vt_config *cfg = ctx->cfg;
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->fields[i].filename && strcmp(f->fields[i].name, "attachments") == 0)
            n++;
    if (n == 0)
        return 0;
    if (n > (size_t)cfg->attachment_max_count)
        return error(e, 413, "too_large", "attachments", "Puede adjuntar hasta %d archivos.",
                     cfg->attachment_max_count);
    if (!(it->att = calloc(n, sizeof(*it->att))))
        return error(e, 500, "internal", "", "Sin memoria.");
    for (size_t i = 0; i < f->n; i++) {
        const struct vt_form_field *ff = &f->fields[i];
        if (!ff->filename || strcmp(ff->name, "attachments") != 0)
            continue;
        struct vt_attachment *a = &it->att[it->n_att++];
        if ((long long)ff->value_len > cfg->attachment_max_bytes)
            return error(e, 413, "too_large", "attachments",
                         "El archivo «%.80s» es demasiado grande: máximo %lld MB.",
                         vt_utf8_valid(ff->filename, strlen(ff->filename)) ? ff->filename : "?",
                         cfg->attachment_max_bytes / (1024 * 1024));
        if (ff->value_len == 0)
            return error(e, 422, "invalid", "attachments", "Uno de los archivos está vacío.");
        if (!ctx->sniffer ||
            vt_sniff(ctx->sniffer, ff->value, ff->value_len, a->content_type,
                     sizeof(a->content_type)) ||
            !vt_item_enum((const char *const *)cfg->allowed_types, a->content_type))
            return error(e, 415, "unsupported_type", "attachments",
                         "Solo se aceptan documentos PDF, de texto u ofimática, imágenes, audio "
                         "y video. Revise el archivo «%.80s».",
                         vt_utf8_valid(ff->filename, strlen(ff->filename)) ? ff->filename : "?");
        /* Keep the citizen's name for the file, made safe for display. */
        char name[201];
        size_t k = 0;
        const char *src = vt_utf8_valid(ff->filename, strlen(ff->filename)) ? ff->filename : "";
        for (; *src && k < sizeof(name) - 1; src++)
            name[k++] = ((unsigned char)*src < 0x20 || *src == '/' || *src == '\\') ? '_' : *src;
        while (k > 0 && ((unsigned char)name[k - 1] & 0xC0) == 0x80)
            k--; /* never cut a character in half */
        if (k > 0 && (unsigned char)name[k - 1] >= 0xC0)
            k--;
        name[k] = '\0';
        if (!(a->filename = strdup(k ? name : "adjunto")))
            return error(e, 500, "internal", "", "Sin memoria.");
        a->data = (const unsigned char *)ff->value;
        a->size = ff->value_len;
        vt_attach_sha256(ff->value, ff->value_len, a->sha256);
    }
    return 0;
}

int vt_intake_from_form(const struct vt_intake_ctx *ctx, const struct vt_form *form,
                        const char *channel, struct vt_item **out, struct vt_intake_error *e)
{
    struct raw r = {.flat = true, .data_consent = -1, .reserve = -1, .ch_bool = {-1, -1, -1}};
    int rc;
    *out = NULL;
    for (size_t i = 0; i < form->n; i++)
        if (!vt_item_enum(form_keys, form->fields[i].name)) {
            char name[48];
            snprintf(name, sizeof(name), "%.40s", form->fields[i].name);
            if (!vt_utf8_valid(name, strlen(name)))
                snprintf(name, sizeof(name), "?");
            return error(e, 422, "unknown_field", name, "El campo «%s» no existe.", name);
        }
    r.kind = form_text(form, "kind");
    if (!r.kind)
        r.kind = "pqrsd";
    r.type = form_text(form, "type");
    r.petition_class = form_text(form, "petition_class");
    r.subject = form_text(form, "subject");
    r.body = form_text(form, "body");
    r.person_type = form_text(form, "person_type");
    r.name = form_text(form, "name");
    r.id_type = form_text(form, "id_type");
    r.id_number = form_text(form, "id_number");
    r.email = form_text(form, "email");
    r.phone = form_text(form, "phone");
    r.address = form_text(form, "address");
    r.municipality = form_text(form, "municipality");
    r.reply_channel = form_text(form, "reply_channel");
    r.declared_group = form_text(form, "declared_group");
    for (int i = 0; char_enums[i]; i++)
        r.ch_enum[i] = form_text(form, char_enums[i]);
    if ((rc = form_bool(form, "data_consent", &r.data_consent, e)) ||
        (rc = form_bool(form, "identity_reserved", &r.reserve, e)))
        return rc;
    for (int i = 0; char_bools[i]; i++)
        if ((rc = form_bool(form, char_bools[i], &r.ch_bool[i], e)))
            return rc;
    /* Text fields may carry NUL bytes in a form body; refuse them like bad UTF-8. */
    for (size_t i = 0; i < form->n; i++)
        if (!form->fields[i].filename && strlen(form->fields[i].value) != form->fields[i].value_len)
            return error(e, 400, "invalid_utf8", form->fields[i].name,
                         "Un campo tiene caracteres no válidos.");
    if ((rc = finish(ctx, &r, channel, out, e)))
        return rc;
    if ((rc = form_attachments(ctx, form, *out, e))) {
        vt_item_free(*out);
        *out = NULL;
    }
    return rc;
}

char *vt_intake_error_json(const struct vt_intake_error *err)
{
    cJSON *o = cJSON_CreateObject(), *inner = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(inner, "code", err->code);
    if (err->field[0])
        cJSON_AddStringToObject(inner, "field", err->field);
    else
        cJSON_AddNullToObject(inner, "field");
    cJSON_AddStringToObject(inner, "message", err->message);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
