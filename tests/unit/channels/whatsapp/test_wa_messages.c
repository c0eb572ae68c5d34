/* test_wa_messages.c - the WhatsApp message builders keep Meta's limits
 * (3 buttons of 20 characters, 10 list rows of 24, bodies of 1024 and 4096)
 * and cut text only on character boundaries, whatever the input. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "channels/whatsapp/messages.h"
#include "core/text.h"
#include "vt_test.h"

static size_t chars(const char *s)
{
    return vt_utf8_chars(s, strlen(s));
}

static const cJSON *at(const cJSON *o, const char *path)
{
    char buf[200];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
        o = (*k >= '0' && *k <= '9') ? cJSON_GetArrayItem(o, atoi(k))
                                     : cJSON_GetObjectItemCaseSensitive(o, k);
    return o;
}

static void test_cut(void)
{
    char out[64];
    vt_wa_cut("Petición ñandú", 8, out, sizeof(out));
    ASSERT_STREQ(out, "Petición");
    vt_wa_cut("€€€€", 2, out, sizeof(out));
    ASSERT_STREQ(out, "€€");
    /* Room for bytes, not characters, decides too. */
    vt_wa_cut("€€€€", 10, out, 7);
    ASSERT_STREQ(out, "€€");
    /* A sequence cut short by the end of the string stops the copy there. */
    vt_wa_cut("ab\xE2\x82", 10, out, sizeof(out));
    ASSERT_STREQ(out, "ab");
    vt_wa_cut("ab\x82z", 10, out, sizeof(out));
    ASSERT_STREQ(out, "ab");
    vt_wa_cut(NULL, 10, out, sizeof(out));
    ASSERT_STREQ(out, "");
    vt_wa_cut("abc", 0, out, sizeof(out));
    ASSERT_STREQ(out, "");
}

static void test_buttons_and_lists(void)
{
    struct vt_wa_choice c[5] = {{"a", "Un título demasiado largo para un botón", NULL},
                                {"b", "Sí, autorizo", NULL},
                                {"c", "ñññññññññññññññññññññññññ", NULL},
                                {"d", "cuarto", NULL},
                                {"e", "quinto", NULL}};
    char *s = vt_wa_msg_buttons("¿Autoriza?", c, 5);
    cJSON *o = cJSON_Parse(s);
    const cJSON *b = at(o, "interactive.action.buttons");
    ASSERT_EQ(cJSON_GetArraySize(b), 3);
    for (int i = 0; i < 3; i++) {
        const char *title = at(o, i == 0   ? "interactive.action.buttons.0.reply.title"
                                  : i == 1 ? "interactive.action.buttons.1.reply.title"
                                           : "interactive.action.buttons.2.reply.title")
                                ->valuestring;
        ASSERT_TRUE(chars(title) <= 20 && vt_utf8_valid(title, strlen(title)));
    }
    ASSERT_STREQ(at(o, "interactive.action.buttons.1.reply.id")->valuestring, "b");
    ASSERT_STREQ(at(o, "interactive.type")->valuestring, "button");
    cJSON_Delete(o);
    free(s);

    struct vt_wa_choice rows[12];
    char ids[12][8];
    for (int i = 0; i < 12; i++) {
        snprintf(ids[i], sizeof(ids[i]), "r%d", i);
        rows[i] = (struct vt_wa_choice){ids[i], "Una fila con un título muy largo",
                                        "Una descripción que también es bastante más larga de lo "
                                        "que WhatsApp permite en una fila"};
    }
    char body[3000];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    s = vt_wa_msg_list(body, "Ver todas las opciones disponibles", rows, 12);
    o = cJSON_Parse(s);
    ASSERT_EQ(cJSON_GetArraySize(at(o, "interactive.action.sections.0.rows")), 10);
    ASSERT_TRUE(chars(at(o, "interactive.action.sections.0.rows.9.title")->valuestring) <= 24);
    ASSERT_TRUE(chars(at(o, "interactive.action.sections.0.rows.9.description")->valuestring) <=
                72);
    ASSERT_TRUE(chars(at(o, "interactive.action.button")->valuestring) <= 20);
    ASSERT_EQ(chars(at(o, "interactive.body.text")->valuestring), 1024);
    cJSON_Delete(o);
    free(s);

    char big[6000];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s = vt_wa_msg_text(big);
    o = cJSON_Parse(s);
    ASSERT_EQ(chars(at(o, "text.body")->valuestring), 4096);
    cJSON_Delete(o);
    free(s);
}

static void test_plain(void)
{
    char out[200];
    char *s = vt_wa_msg_text("Radicamos su queja.");
    vt_wa_msg_plain(s, out, sizeof(out));
    ASSERT_STREQ(out, "Radicamos su queja.");
    free(s);
    struct vt_wa_choice c[1] = {{"x", "Sí", NULL}};
    s = vt_wa_msg_buttons("¿Continuar?", c, 1);
    vt_wa_msg_plain(s, out, sizeof(out));
    ASSERT_STREQ(out, "¿Continuar?");
    free(s);
    vt_wa_msg_plain("no es json", out, sizeof(out));
    ASSERT_STREQ(out, "");
    s = vt_wa_msg_read("wamid.ABC");
    cJSON *o = cJSON_Parse(s);
    ASSERT_STREQ(at(o, "status")->valuestring, "read");
    ASSERT_STREQ(at(o, "message_id")->valuestring, "wamid.ABC");
    cJSON_Delete(o);
    free(s);
}

int main(void)
{
    test_cut();
    test_buttons_and_lists();
    test_plain();
    VT_TEST_END();
}
