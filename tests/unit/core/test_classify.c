/* test_classify.c - unit tests for classify.c: every rule of the stakeholder
 * classifier, their order, the defaults and the contact normalizers.
 *
 * The contacts registry is a fake lookup over a small array, so these tests
 * need no database; it records how often it was called so that the tests can
 * tell which keys were asked for.
 */
#include "core/classify.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "vt_test.h"

struct fake_contact {
    const char *key_type, *key, *group;
};

struct fake_registry {
    const struct fake_contact *rows;
    size_t n;
    int fail_with; /* non-zero: every lookup returns this */
    int calls;
    char last_type[16], last_key[64];
};

static int fake_lookup(void *ctx, const char *key_type, const char *key, char *group,
                       size_t group_len)
{
    struct fake_registry *reg = ctx;
    reg->calls++;
    snprintf(reg->last_type, sizeof(reg->last_type), "%s", key_type);
    snprintf(reg->last_key, sizeof(reg->last_key), "%s", key);
    if (reg->fail_with)
        return reg->fail_with;
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->rows[i].key_type, key_type) == 0 && strcmp(reg->rows[i].key, key) == 0) {
            snprintf(group, group_len, "%s", reg->rows[i].group);
            return 0;
        }
    return VT_ENOTFOUND;
}

static const struct fake_contact contacts[] = {
    {"email", "auditor@gmail.com", "organismos_control"},
    {"phone", "3001234567", "medios"},
    {"id", "1020304", "sector_privado"},
    {"email", "funcionario@alcaldia.gov.co", "servidores_publicos"},
    {"email", "viejo@example.com", "grupo_retirado"},
};

static struct fake_registry registry(void)
{
    struct fake_registry reg = {contacts, sizeof(contacts) / sizeof(contacts[0]), 0, 0, "", ""};
    return reg;
}

/* Classifies and returns the rc; out is filled. */
static int run(const struct vt_classify_rules *r, struct fake_registry *reg,
               const struct vt_classify_input *in, struct vt_classification *out)
{
    return vt_classify(r, reg ? fake_lookup : NULL, reg, in, out);
}

static void test_defaults(void)
{
    struct vt_classify_rules r;
    ASSERT_EQ(vt_classify_rules_defaults(&r), 0);
    ASSERT_EQ(r.n_groups, 9);
    ASSERT_STREQ(r.default_group, "ciudadania");
    const char *ids[] = {
        "ciudadania",         "nna",    "organizaciones_sociales", "entidades_publicas",
        "organismos_control", "medios", "sector_privado",          "academia",
        "servidores_publicos"};
    for (size_t i = 0; i < 9; i++)
        ASSERT_TRUE(vt_classify_group_known(&r, ids[i]));
    ASSERT_STREQ(vt_classify_group_name(&r, "nna"), "Niños, niñas y adolescentes");
    ASSERT_STREQ(vt_classify_group_name(&r, "medios"), "Medios de comunicación");
    ASSERT_STREQ(vt_classify_group_name(&r, "ciudadania"), "Ciudadanía");
    ASSERT_TRUE(!vt_classify_group_known(&r, "Ciudadania"));
    ASSERT_TRUE(!vt_classify_group_known(&r, ""));
    ASSERT_TRUE(!vt_classify_group_known(&r, NULL));
    ASSERT_TRUE(!vt_classify_group_known(NULL, "nna"));
    /* Only domains that always mean one group: a catch-all *.gov.co would
     * also catch the entity's own servants (the learned classifier sees the
     * kind of domain instead). */
    ASSERT_EQ(r.n_domains, 9);
    ASSERT_STREQ(r.domains[0].pattern, "contraloria.gov.co");
    ASSERT_STREQ(r.domains[8].pattern, "*.personeria*.gov.co");
    ASSERT_STREQ(r.domains[8].group, "organismos_control");
    ASSERT_EQ(r.n_keywords, 4);
    ASSERT_EQ(r.keywords[1].n_keywords, 4);
    ASSERT_STREQ(r.keywords[1].keywords[1], "veeduria");
    vt_classify_rules_cleanup(&r);
    ASSERT_EQ(r.n_groups, 0);
    ASSERT_TRUE(r.groups == NULL);
    vt_classify_rules_cleanup(&r); /* twice is harmless */
    vt_classify_rules_cleanup(NULL);
}

static void test_declared(const struct vt_classify_rules *r)
{
    struct fake_registry reg = registry();
    struct vt_classification out;
    /* Declared beats everything else, the registry included. */
    struct vt_classify_input in = {.declared_group = "academia",
                                   .person_type = "nna",
                                   .email = "auditor@gmail.com",
                                   .subject = "Soy periodista"};
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.group, "academia");
    ASSERT_STREQ(out.rule, "declared");
    ASSERT_EQ(reg.calls, 0);

    in.declared_group = "marcianos";
    ASSERT_EQ(run(r, &reg, &in, &out), VT_EINVAL);
    in.declared_group = "Academia"; /* ids are exact */
    ASSERT_EQ(run(r, &reg, &in, &out), VT_EINVAL);

    /* An empty declared group is no declaration. */
    in.declared_group = "";
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.rule, "person_type:nna");
}

static void test_person_type(const struct vt_classify_rules *r)
{
    struct fake_registry reg = registry();
    struct vt_classification out;
    struct vt_classify_input in = {.person_type = "nna", .email = "auditor@gmail.com"};
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.group, "nna");
    ASSERT_STREQ(out.rule, "person_type:nna");
    ASSERT_EQ(reg.calls, 0);

    in.person_type = "natural";
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.rule, "contacts:email");

    /* Without a group "nna" the rule does not apply. */
    struct vt_classify_rules small = {0};
    struct vt_group g[] = {{"ciudadania", "Ciudadanía"}, {"medios", "Medios"}};
    small.groups = g;
    small.n_groups = 2;
    small.default_group = "ciudadania";
    struct vt_classify_input kid = {.person_type = "nna"};
    ASSERT_EQ(vt_classify(&small, NULL, NULL, &kid, &out), 0);
    ASSERT_STREQ(out.group, "ciudadania");
    ASSERT_STREQ(out.rule, "default");
}

static void test_registry(const struct vt_classify_rules *r)
{
    struct vt_classification out;
    struct fake_registry reg = registry();

    /* The e-mail is normalized before the lookup, and the registry beats the
     * domain rules (alcaldia.gov.co would be entidades_publicas). */
    struct vt_classify_input in = {.email = "  Funcionario@Alcaldia.GOV.CO "};
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.group, "servidores_publicos");
    ASSERT_STREQ(out.rule, "contacts:email");
    ASSERT_STREQ(reg.last_key, "funcionario@alcaldia.gov.co");

    /* Phone, normalized, when the e-mail is unknown. */
    reg = registry();
    struct vt_classify_input by_phone = {
        .email = "nadie@gmail.com", .phone = "+57 300 123 4567", .subject = "Soy de la veeduría"};
    ASSERT_EQ(run(r, &reg, &by_phone, &out), 0);
    ASSERT_STREQ(out.group, "medios");
    ASSERT_STREQ(out.rule, "contacts:phone");
    ASSERT_EQ(reg.calls, 2);

    /* Id number last. */
    reg = registry();
    struct vt_classify_input by_id = {
        .email = "nadie@gmail.com", .phone = "311 000 0000", .id_number = "1.020.304"};
    ASSERT_EQ(run(r, &reg, &by_id, &out), 0);
    ASSERT_STREQ(out.group, "sector_privado");
    ASSERT_STREQ(out.rule, "contacts:id");
    ASSERT_EQ(reg.calls, 3);
    ASSERT_STREQ(reg.last_type, "id");
    ASSERT_STREQ(reg.last_key, "1020304");

    /* E-mail beats phone when both are registered. */
    reg = registry();
    struct vt_classify_input both = {.email = "auditor@gmail.com", .phone = "3001234567"};
    ASSERT_EQ(run(r, &reg, &both, &out), 0);
    ASSERT_STREQ(out.rule, "contacts:email");
    ASSERT_STREQ(out.group, "organismos_control");
    ASSERT_EQ(reg.calls, 1);

    /* Keys that normalize to nothing are not looked up. */
    reg = registry();
    struct vt_classify_input empty = {.email = "   ", .phone = "n/a", .id_number = "-"};
    ASSERT_EQ(run(r, &reg, &empty, &out), 0);
    ASSERT_EQ(reg.calls, 0);
    ASSERT_STREQ(out.rule, "default");

    /* A registry group the rules do not know is skipped. */
    reg = registry();
    struct vt_classify_input stale = {.email = "viejo@example.com"};
    ASSERT_EQ(run(r, &reg, &stale, &out), 0);
    ASSERT_STREQ(out.group, "ciudadania");
    ASSERT_STREQ(out.rule, "default");

    /* A failing registry is reported, not papered over. */
    reg = registry();
    reg.fail_with = VT_ESTORE;
    ASSERT_EQ(run(r, &reg, &in, &out), VT_ESTORE);

    /* No registry at all: no domain rule names an alcaldía; the default. */
    ASSERT_EQ(run(r, NULL, &in, &out), 0);
    ASSERT_STREQ(out.group, "ciudadania");
    ASSERT_STREQ(out.rule, "default");
}

static void expect_domain(const struct vt_classify_rules *r, const char *email, const char *group,
                          const char *rule)
{
    struct vt_classification out;
    struct vt_classify_input in = {.email = email};
    ASSERT_EQ(vt_classify(r, NULL, NULL, &in, &out), 0);
    ASSERT_STREQ(out.group, group);
    ASSERT_STREQ(out.rule, rule);
}

static void test_domains(const struct vt_classify_rules *r)
{
    expect_domain(r, "ana@contraloria.gov.co", "organismos_control", "domain:contraloria.gov.co");
    expect_domain(r, "ana@CONTRALORIA.gov.co", "organismos_control", "domain:contraloria.gov.co");
    expect_domain(r, "ana@boyaca.contraloria.gov.co", "organismos_control",
                  "domain:*.contraloria.gov.co");
    expect_domain(r, "ana@contraloriabogota.gov.co", "organismos_control",
                  "domain:contraloria*.gov.co");
    expect_domain(r, "ana@procuraduria.gov.co", "organismos_control", "domain:procuraduria.gov.co");
    expect_domain(r, "ana@defensoria.gov.co", "organismos_control", "domain:defensoria.gov.co");
    expect_domain(r, "ana@personeriamedellin.gov.co", "organismos_control",
                  "domain:personeria*.gov.co");
    expect_domain(r, "ana@mail.personeriacali.gov.co", "organismos_control",
                  "domain:*.personeria*.gov.co");
    expect_domain(r, "ana@minsalud.gov.co", "ciudadania", "default");
    expect_domain(r, "ana@unal.edu.co", "ciudadania", "default");
    /* The domain is what follows the last '@'. */
    expect_domain(r, "\"a@contraloria.gov.co\"@gmail.com", "ciudadania", "default");

    /* A catch-all an entity may configure. '*' needs the dot: "gov.co"
     * itself and look-alikes do not match. */
    struct vt_group cg[] = {{"ciudadania", "C"}, {"entidades_publicas", "E"}};
    struct vt_domain_rule cd[] = {{"*.gov.co", "entidades_publicas"}};
    struct vt_classify_rules catchall = {cg, 2, "ciudadania", cd, 1, NULL, 0};
    r = &catchall;
    expect_domain(r, "ana@minsalud.gov.co", "entidades_publicas", "domain:*.gov.co");
    expect_domain(r, "ana@gov.co", "ciudadania", "default");
    expect_domain(r, "ana@fakegov.co", "ciudadania", "default");
    expect_domain(r, "ana@minsalud.gov.co.evil.com", "ciudadania", "default");
    expect_domain(r, "sin-arroba.gov.co", "ciudadania", "default");
    expect_domain(r, "ana@", "ciudadania", "default");

    /* Rule order decides between overlapping patterns. */
    struct vt_group g[] = {{"a", "A"}, {"b", "B"}};
    struct vt_domain_rule d[] = {{"*.example.org", "a"}, {"x.example.org", "b"}};
    struct vt_classify_rules custom = {g, 2, "b", d, 2, NULL, 0};
    expect_domain(&custom, "u@x.example.org", "a", "domain:*.example.org");
    struct vt_domain_rule d2[] = {{"X.Example.ORG", "b"}, {"*.example.org", "a"}};
    custom.domains = d2;
    expect_domain(&custom, "u@x.example.org", "b", "domain:X.Example.ORG");
    /* Several stars, and a pathological pattern that must stay fast. */
    struct vt_domain_rule d3[] = {{"*a*a*a*a*a*a*a*a*b", "a"}, {"*", "b"}};
    custom.domains = d3;
    expect_domain(&custom, "u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "b",
                  "domain:*");
    expect_domain(&custom, "u@xaaaaaaaaaaaaaaaab", "a", "domain:*a*a*a*a*a*a*a*a*b");
}

static void expect_keyword(const struct vt_classify_rules *r, const char *subject, const char *body,
                           const char *group, const char *rule)
{
    struct vt_classification out;
    struct vt_classify_input in = {.subject = subject, .body = body};
    ASSERT_EQ(vt_classify(r, NULL, NULL, &in, &out), 0);
    ASSERT_STREQ(out.group, group);
    ASSERT_STREQ(out.rule, rule);
}

static void test_keywords(const struct vt_classify_rules *r)
{
    expect_keyword(r, "Veeduría ciudadana del acueducto", NULL, "organizaciones_sociales",
                   "keyword:veeduria");
    expect_keyword(r, NULL, "Escribo como PERIODISTA de El Tiempo.", "medios",
                   "keyword:periodista");
    expect_keyword(r, "Solicitud", "Somos un Medio de Comunicación comunitario", "medios",
                   "keyword:medio de comunicacion");
    /* A space in a phrase matches any run of white space, line breaks too. */
    expect_keyword(r, NULL, "la Junta  de\r\nAcción Comunal del barrio", "organizaciones_sociales",
                   "keyword:junta de accion comunal");
    expect_keyword(r, "Cámara de Comercio de Tunja", NULL, "sector_privado",
                   "keyword:camara de comercio");
    expect_keyword(r, "Consulta", "Estudiante de la universidad.", "academia",
                   "keyword:universidad");
    /* Punctuation and typographic quotes are word boundaries. */
    expect_keyword(r, "“Prensa”", NULL, "medios", "keyword:prensa");
    expect_keyword(r, "(gremio)", NULL, "sector_privado", "keyword:gremio");
    /* Whole words only. */
    expect_keyword(r, "Intermediación", "un proveedores", "ciudadania", "default");
    expect_keyword(r, "impresas", "universidades", "ciudadania", "default");
    expect_keyword(r, "periodistas", "fundaciones", "ciudadania", "default");
    expect_keyword(r, NULL, NULL, "ciudadania", "default");
    expect_keyword(r, "", "", "ciudadania", "default");

    /* The subject is read before the body, even for a later rule. */
    expect_keyword(r, "Derecho de petición de la fundación", "como dijo la prensa",
                   "organizaciones_sociales", "keyword:fundacion");
    /* Within one text, the first matching rule wins. */
    expect_keyword(r, "Universidad y prensa", NULL, "medios", "keyword:prensa");

    /* Configured keywords with accents, capitals and spaces are folded too, and
     * "medio" does not match "intermedio". */
    struct vt_group g[] = {{"ciudadania", "C"}, {"medios", "M"}, {"otro", "O"}};
    char *kw1[] = {" Medio ", "Señal"};
    char *kw2[] = {"Niño"};
    struct vt_keyword_rule k[] = {{kw1, 2, "medios"}, {kw2, 1, "otro"}};
    struct vt_classify_rules custom = {g, 3, "ciudadania", NULL, 0, k, 2};
    expect_keyword(&custom, "El intermedio", NULL, "ciudadania", "default");
    expect_keyword(&custom, "Un medio.", NULL, "medios", "keyword: Medio ");
    expect_keyword(&custom, "SENAL abierta", NULL, "medios", "keyword:Señal");
    expect_keyword(&custom, "la NIÑA y el nino", NULL, "otro", "keyword:Niño");
}

static void test_order(const struct vt_classify_rules *r)
{
    struct fake_registry reg = registry();
    struct vt_classification out;
    /* Domain beats keyword. */
    struct vt_classify_input in = {.email = "ana@boyaca.contraloria.gov.co",
                                   .subject = "Soy periodista",
                                   .body = "de la veeduría"};
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.group, "organismos_control");
    ASSERT_STREQ(out.rule, "domain:*.contraloria.gov.co");
    /* Registry beats domain. */
    in.phone = "573001234567";
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.group, "medios");
    ASSERT_STREQ(out.rule, "contacts:phone");
    /* Without an e-mail domain rule, the keyword decides. */
    in.phone = NULL;
    in.email = "ana@gmail.com";
    ASSERT_EQ(run(r, &reg, &in, &out), 0);
    ASSERT_STREQ(out.group, "medios");
    ASSERT_STREQ(out.rule, "keyword:periodista");
    /* Nothing matches: the default. */
    struct vt_classify_input plain = {.email = "ana@gmail.com", .subject = "Queja por ruido"};
    ASSERT_EQ(run(r, &reg, &plain, &out), 0);
    ASSERT_STREQ(out.group, "ciudadania");
    ASSERT_STREQ(out.rule, "default");
    /* Bad arguments. */
    ASSERT_EQ(vt_classify(NULL, NULL, NULL, &plain, &out), VT_EINVAL);
    ASSERT_EQ(vt_classify(r, NULL, NULL, NULL, &out), VT_EINVAL);
}

static void test_normalizers(void)
{
    char out[32];
    ASSERT_EQ(vt_contact_normalize_email("  Ana.Perez@Example.COM\t\n", out, sizeof(out)), 0);
    ASSERT_STREQ(out, "ana.perez@example.com");
    ASSERT_EQ(vt_contact_normalize_email(" \t ", out, sizeof(out)), VT_EINVAL);
    ASSERT_EQ(vt_contact_normalize_email("", out, sizeof(out)), VT_EINVAL);
    ASSERT_EQ(vt_contact_normalize_email(NULL, out, sizeof(out)), VT_EINVAL);
    ASSERT_EQ(vt_contact_normalize_email("averyveryverylongaddress@example.com", out, sizeof(out)),
              VT_ETOOBIG);
    ASSERT_STREQ(out, "");

    const char *same[] = {"+57 300 123 4567", "573001234567",       "300-123-4567",
                          "(300) 123 4567",   "+57 (300) 123-4567", " 3001234567 "};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        ASSERT_EQ(vt_contact_normalize_phone(same[i], out, sizeof(out)), 0);
        ASSERT_STREQ(out, "3001234567");
    }
    /* "57" is only a country code on 12 digits or after '+'. */
    ASSERT_EQ(vt_contact_normalize_phone("5712345678", out, sizeof(out)), 0);
    ASSERT_STREQ(out, "5712345678");
    ASSERT_EQ(vt_contact_normalize_phone("+57 601 234 5678", out, sizeof(out)), 0);
    ASSERT_STREQ(out, "6012345678");
    ASSERT_EQ(vt_contact_normalize_phone("+1 555 123 4567", out, sizeof(out)), 0);
    ASSERT_STREQ(out, "15551234567");
    ASSERT_EQ(vt_contact_normalize_phone("no tengo", out, sizeof(out)), VT_EINVAL);
    ASSERT_EQ(vt_contact_normalize_phone("+57", out, sizeof(out)), VT_EINVAL);
    ASSERT_EQ(vt_contact_normalize_phone(NULL, out, sizeof(out)), VT_EINVAL);
    ASSERT_EQ(vt_contact_normalize_phone("3001234567", out, 10), VT_ETOOBIG);
    ASSERT_EQ(vt_contact_normalize_phone("3001234567", out, 11), 0);
    ASSERT_STREQ(out, "3001234567");

    ASSERT_EQ(vt_contact_normalize_id("1.020.304", out, sizeof(out)), 0);
    ASSERT_STREQ(out, "1020304");
    ASSERT_EQ(vt_contact_normalize_id(" pa-123.45x ", out, sizeof(out)), 0);
    ASSERT_STREQ(out, "PA12345X");
    ASSERT_EQ(vt_contact_normalize_id("900.123.456-7", out, sizeof(out)), 0);
    ASSERT_STREQ(out, "9001234567");
    ASSERT_EQ(vt_contact_normalize_id(" .-. ", out, sizeof(out)), VT_EINVAL);
    ASSERT_EQ(vt_contact_normalize_id("12345", out, 5), VT_ETOOBIG);
    ASSERT_EQ(vt_contact_normalize_id("12345", out, 6), 0);
    ASSERT_EQ(vt_contact_normalize_id("1", out, 0), VT_EINVAL);
}

/* The learned classifier's group takes the keywords' place (rule 5), below
 * the domain rules; a group the rules do not know is ignored. */
static void test_model(const struct vt_classify_rules *r)
{
    struct vt_classification out;
    struct vt_classify_input in = {.subject = "Estudiante de la universidad",
                                   .email = "ana@gmail.com",
                                   .model_group = "medios",
                                   .model_rule = "modelo:0123456789ab"};
    ASSERT_EQ(vt_classify(r, NULL, NULL, &in, &out), 0);
    ASSERT_STREQ(out.group, "medios");
    ASSERT_STREQ(out.rule, "modelo:0123456789ab");
    in.email = "ana@contraloria.gov.co";
    ASSERT_EQ(vt_classify(r, NULL, NULL, &in, &out), 0);
    ASSERT_STREQ(out.rule, "domain:contraloria.gov.co");
    in.email = NULL;
    in.model_group = "grupo_que_no_existe";
    ASSERT_EQ(vt_classify(r, NULL, NULL, &in, &out), 0);
    ASSERT_STREQ(out.group, "academia");
    ASSERT_STREQ(out.rule, "keyword:universidad");
}

int main(void)
{
    struct vt_classify_rules r;
    if (vt_classify_rules_defaults(&r)) {
        fprintf(stderr, "cannot build the default rules\n");
        return 1;
    }
    test_defaults();
    test_declared(&r);
    test_person_type(&r);
    test_registry(&r);
    test_domains(&r);
    test_keywords(&r);
    test_order(&r);
    test_model(&r);
    test_normalizers();
    vt_classify_rules_cleanup(&r);
    VT_TEST_END();
}
