/* test_delivery.c - unit tests for the delivery plan of src/domain/delivery.c: which
 * ways an answer may take for each kind of requester and channel state, the
 * default, and that an identified requester's answer is never publishable.
 * The channels are a fake probe: "email"/"whatsapp" on or off, and any
 * address with "malo" in it refused.
 */
#include <stdbool.h>
#include <string.h>

#include "domain/delivery.h"
#include "core/error.h"
#include "vt_test.h"

struct channels {
    bool email, whatsapp;
};

static int probe(void *ctx, const char *channel, const char *recipient)
{
    const struct channels *c = ctx;
    bool on = strcmp(channel, "email") == 0 ? c->email : c->whatsapp;
    if (!on)
        return VT_ENOTFOUND;
    return strstr(recipient, "malo") ? VT_EINVAL : 0;
}

static bool available(const struct vt_delivery_plan *p, const char *name)
{
    const struct vt_delivery_option *o = vt_delivery_find(p, name);
    return o && o->available;
}

static const char *dflt(const struct vt_delivery_plan *p)
{
    return p->dflt >= 0 ? p->opt[p->dflt].name : "(none)";
}

static void test_named_email_channel_off(void)
{
    struct channels off = {false, false}, on = {true, false};
    struct vt_delivery_facts f = {"natural", "email", "ana@correo.co", "", ""};
    struct vt_delivery_plan p;
    vt_delivery_plan(&f, probe, &off, &p);
    ASSERT_STREQ(p.opt[p.requested].name, "email");
    ASSERT_TRUE(!available(&p, "email"));
    ASSERT_TRUE(strstr(vt_delivery_find(&p, "email")->why, "no está activo") != NULL);
    ASSERT_TRUE(!available(&p, "publicacion")); /* never for a named requester */
    ASSERT_TRUE(!available(&p, "consulta"));    /* they asked to be reached */
    ASSERT_TRUE(available(&p, "carta"));        /* in person: no postal address */
    ASSERT_STREQ(dflt(&p), "carta");
    vt_delivery_plan(&f, probe, &on, &p);
    ASSERT_STREQ(dflt(&p), "email");
    ASSERT_STREQ(vt_delivery_find(&p, "email")->recipient, "ana@correo.co");
    struct vt_delivery_facts bad = {"natural", "email", "malo@correo", "", ""};
    vt_delivery_plan(&bad, probe, &on, &p);
    ASSERT_TRUE(!available(&p, "email"));
    ASSERT_STREQ(dflt(&p), "carta");
}

static void test_other_channel_offered(void)
{
    struct channels email_only = {true, false};
    struct vt_delivery_facts f = {"juridica", "whatsapp", "ana@correo.co", "3001234567", ""};
    struct vt_delivery_plan p;
    vt_delivery_plan(&f, probe, &email_only, &p);
    ASSERT_STREQ(p.opt[p.requested].name, "whatsapp");
    ASSERT_TRUE(!available(&p, "whatsapp"));
    ASSERT_TRUE(available(&p, "email"));
    ASSERT_STREQ(dflt(&p), "carta"); /* staff choose the email; not silently */
}

static void test_web_and_postal(void)
{
    struct channels off = {false, false};
    struct vt_delivery_plan p;
    struct vt_delivery_facts web = {"natural", "web", "", "", ""};
    vt_delivery_plan(&web, probe, &off, &p);
    ASSERT_STREQ(dflt(&p), "consulta");
    ASSERT_TRUE(!available(&p, "publicacion"));
    struct vt_delivery_facts none = {"nna", "", "", "", ""};
    vt_delivery_plan(&none, probe, &off, &p);
    ASSERT_STREQ(dflt(&p), "consulta");
    struct vt_delivery_facts postal = {"natural", "postal", "", "", "Calle 1 # 2-3"};
    vt_delivery_plan(&postal, probe, &off, &p);
    ASSERT_STREQ(dflt(&p), "carta");
    ASSERT_STREQ(vt_delivery_find(&p, "carta")->recipient, "Calle 1 # 2-3");
    ASSERT_TRUE(!available(&p, "consulta"));
}

static void test_anonymous(void)
{
    struct channels off = {false, false}, on = {true, true};
    struct vt_delivery_plan p;
    struct vt_delivery_facts anon = {"anonimo", "web", "", "", ""};
    vt_delivery_plan(&anon, probe, &off, &p);
    ASSERT_STREQ(dflt(&p), "publicacion");
    ASSERT_TRUE(!available(&p, "carta")); /* nobody to address */
    ASSERT_TRUE(!available(&p, "consulta"));
    struct vt_delivery_facts with_mail = {"anonimo", "email", "x@correo.co", "", ""};
    vt_delivery_plan(&with_mail, probe, &on, &p);
    ASSERT_STREQ(dflt(&p), "email");
    ASSERT_TRUE(available(&p, "publicacion"));
    vt_delivery_plan(&with_mail, probe, &off, &p);
    ASSERT_STREQ(dflt(&p), "publicacion");
}

static void test_names_and_labels(void)
{
    struct channels off = {false, false};
    struct vt_delivery_facts f = {"natural", "web", "", "", ""};
    struct vt_delivery_plan p;
    vt_delivery_plan(&f, probe, &off, &p);
    for (int i = 0; vt_delivery_names[i]; i++) {
        ASSERT_STREQ(p.opt[i].name, vt_delivery_names[i]);
        ASSERT_TRUE(p.opt[i].why[0] != '\0');
        ASSERT_TRUE(strcmp(vt_delivery_label(vt_delivery_names[i]), vt_delivery_names[i]) != 0);
    }
    ASSERT_TRUE(vt_delivery_find(&p, "paloma") == NULL);
}

int main(void)
{
    test_named_email_channel_off();
    test_other_channel_offered();
    test_web_and_postal();
    test_anonymous();
    test_names_and_labels();
    VT_TEST_END();
}
