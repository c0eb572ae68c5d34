/* test_wa_parse.c - unit tests for channels/whatsapp/parse.c, the WhatsApp
 * Cloud API webhook parser and X-Hub-Signature-256 check: every message type
 * and status Meta documents, batches, tolerance of unknown fields, refusal of
 * malformed bodies, limits, UTF-8-safe truncation and the signature.
 *
 * Payloads follow the shapes of Meta's webhook reference: object /
 * entry[] / changes[] / value { messaging_product, metadata, contacts[],
 * messages[] | statuses[] }.
 */
#include "channels/whatsapp/parse.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "vt_test.h"

#define PNID "106540352242922"
#define ANA_WA "573001234567"
#define ANA_CONTACT "\"contacts\":[{\"profile\":{\"name\":\"Ana Pérez\"},\"wa_id\":\"" ANA_WA "\"}]"
#define WAMID "wamid.HBgMNTczMDAxMjM0NTY3FQIAEhggQTVGMkQ2RjBCMzQ1RTg3NDlBAA=="

/* Wraps the inner members of one change value (contacts, messages, statuses)
 * in Meta's envelope. The result lives in a static buffer until the next call. */
static const char *wrap(const char *inner)
{
    static char buf[65536];
    snprintf(buf, sizeof(buf),
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\","
             "\"changes\":[{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\","
             "\"metadata\":{\"display_phone_number\":\"15550783881\",\"phone_number_id\":"
             "\"" PNID "\"},%s}}]}]}",
             inner);
    return buf;
}

/* One message from Ana: the given type and the members that go with it. */
static const char *from_ana(const char *type, const char *members)
{
    static char inner[32768];
    snprintf(inner, sizeof(inner),
             ANA_CONTACT ",\"messages\":[{\"from\":\"" ANA_WA "\",\"id\":\"" WAMID "\","
                         "\"timestamp\":\"1717000000\",\"type\":\"%s\"%s%s}]",
             type, members[0] ? "," : "", members);
    return wrap(inner);
}

/* True when every string field of e is NUL-terminated valid UTF-8. */
static int strings_valid(const struct vt_wa_event *e)
{
#define FIELD_OK(f) (memchr(e->f, '\0', sizeof(e->f)) && vt_utf8_valid(e->f, strlen(e->f)))
    return FIELD_OK(id) && FIELD_OK(phone_number_id) && FIELD_OK(from) && FIELD_OK(profile_name) &&
           FIELD_OK(type_name) && FIELD_OK(text) && FIELD_OK(reply_id) && FIELD_OK(media_id) &&
           FIELD_OK(mime_type) && FIELD_OK(filename) && FIELD_OK(context_id) && FIELD_OK(status) &&
           FIELD_OK(recipient) && FIELD_OK(error_title);
#undef FIELD_OK
}

/* Parses json (strlen) keeping up to 100 events; on success every event must
 * have valid strings. */
static int parse(const char *json, struct vt_wa_batch *b, char *why, size_t whylen)
{
    int rc = vt_wa_parse(json, strlen(json), 100, b, why, whylen);
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        ASSERT_TRUE(strings_valid(&b->ev[i]));
    return rc;
}

/* Expects exactly one message event and leaves it in *b. */
#define PARSE_ONE(json, b)                                                                         \
    do {                                                                                           \
        char why_[128] = "";                                                                       \
        ASSERT_EQ(parse((json), (b), why_, sizeof(why_)), 0);                                      \
        ASSERT_EQ((b)->n, 1);                                                                      \
    } while (0)

/* Expects the body to be refused with rc, a reason, and an empty batch. */
#define EXPECT_BAD(json, rc)                                                                       \
    do {                                                                                           \
        struct vt_wa_batch b_;                                                                     \
        char why_[128] = "";                                                                       \
        ASSERT_EQ(parse((json), &b_, why_, sizeof(why_)), (rc));                                   \
        ASSERT_TRUE(why_[0] != '\0');                                                              \
        ASSERT_EQ(b_.n, 0);                                                                        \
        ASSERT_TRUE(b_.ev == NULL);                                                                \
        vt_wa_batch_cleanup(&b_);                                                                  \
    } while (0)

static void test_text(void)
{
    struct vt_wa_batch b;
    PARSE_ONE(from_ana("text", "\"text\":{\"body\":\"Hola, quiero radicar una petición\"}"), &b);
    if (b.n == 1) {
        const struct vt_wa_event *e = &b.ev[0];
        ASSERT_EQ(e->kind, VT_WA_EV_MESSAGE);
        ASSERT_STREQ(e->id, WAMID);
        ASSERT_STREQ(e->phone_number_id, PNID);
        ASSERT_STREQ(e->from, ANA_WA);
        ASSERT_EQ(e->timestamp, 1717000000);
        ASSERT_STREQ(e->profile_name, "Ana Pérez");
        ASSERT_EQ(e->type, VT_WA_MSG_TEXT);
        ASSERT_STREQ(e->type_name, "text");
        ASSERT_STREQ(e->text, "Hola, quiero radicar una petición");
        ASSERT_STREQ(e->context_id, "");
        ASSERT_STREQ(e->media_id, "");
        ASSERT_TRUE(!e->has_location);
    }
    vt_wa_batch_cleanup(&b);

    /* A reply to one of our messages carries context. */
    PARSE_ONE(from_ana("text", "\"context\":{\"from\":\"15550783881\",\"id\":\"wamid.PREV\"},"
                               "\"text\":{\"body\":\"Sí, ese es mi radicado\"}"),
              &b);
    if (b.n == 1) {
        ASSERT_STREQ(b.ev[0].context_id, "wamid.PREV");
        ASSERT_STREQ(b.ev[0].text, "Sí, ese es mi radicado");
    }
    vt_wa_batch_cleanup(&b);

    /* Text without its text object is not a text message we can use. */
    PARSE_ONE(from_ana("text", ""), &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
        ASSERT_STREQ(b.ev[0].type_name, "text");
        ASSERT_STREQ(b.ev[0].text, "");
    }
    vt_wa_batch_cleanup(&b);
}

static void test_interactive_and_button(void)
{
    struct vt_wa_batch b;
    PARSE_ONE(from_ana("interactive",
                       "\"context\":{\"from\":\"15550783881\",\"id\":\"wamid.MENU\"},"
                       "\"interactive\":{\"type\":\"button_reply\",\"button_reply\":"
                       "{\"id\":\"consultar_estado\",\"title\":\"Consultar estado\"}}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_BUTTON_REPLY);
        ASSERT_STREQ(b.ev[0].type_name, "interactive");
        ASSERT_STREQ(b.ev[0].reply_id, "consultar_estado");
        ASSERT_STREQ(b.ev[0].text, "Consultar estado");
        ASSERT_STREQ(b.ev[0].context_id, "wamid.MENU");
    }
    vt_wa_batch_cleanup(&b);

    PARSE_ONE(from_ana("interactive",
                       "\"interactive\":{\"type\":\"list_reply\",\"list_reply\":"
                       "{\"id\":\"tramite_peticion\",\"title\":\"Petición\","
                       "\"description\":\"Derecho de petición (15 días hábiles)\"}}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_LIST_REPLY);
        ASSERT_STREQ(b.ev[0].reply_id, "tramite_peticion");
        ASSERT_STREQ(b.ev[0].text, "Petición");
    }
    vt_wa_batch_cleanup(&b);

    /* Flows replies (nfm_reply) and empty interactive objects are kept as unknown. */
    PARSE_ONE(from_ana("interactive", "\"interactive\":{\"type\":\"nfm_reply\",\"nfm_reply\":"
                                      "{\"name\":\"flow\",\"response_json\":\"{}\"}}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
        ASSERT_STREQ(b.ev[0].type_name, "interactive");
        ASSERT_STREQ(b.ev[0].reply_id, "");
    }
    vt_wa_batch_cleanup(&b);
    PARSE_ONE(from_ana("interactive", ""), &b);
    if (b.n == 1)
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
    vt_wa_batch_cleanup(&b);

    /* The quick-reply button of a template. */
    PARSE_ONE(from_ana("button", "\"context\":{\"from\":\"15550783881\",\"id\":\"wamid.TPL\"},"
                                 "\"button\":{\"payload\":\"CONFIRMAR_CITA\",\"text\":\"Sí, "
                                 "confirmo\"}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_BUTTON);
        ASSERT_STREQ(b.ev[0].type_name, "button");
        ASSERT_STREQ(b.ev[0].reply_id, "CONFIRMAR_CITA");
        ASSERT_STREQ(b.ev[0].text, "Sí, confirmo");
        ASSERT_STREQ(b.ev[0].context_id, "wamid.TPL");
    }
    vt_wa_batch_cleanup(&b);
}

static void test_media(void)
{
    struct vt_wa_batch b;
    PARSE_ONE(from_ana("image", "\"image\":{\"caption\":\"Foto del hueco en la vía\","
                                "\"mime_type\":\"image/jpeg\",\"sha256\":"
                                "\"bXHUBGhSGdG1k0tVQnFTRkvLgRbkSYOZRwHCzEbDSqg=\","
                                "\"id\":\"1003383421387256\"}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_IMAGE);
        ASSERT_STREQ(b.ev[0].type_name, "image");
        ASSERT_STREQ(b.ev[0].media_id, "1003383421387256");
        ASSERT_STREQ(b.ev[0].mime_type, "image/jpeg");
        ASSERT_STREQ(b.ev[0].text, "Foto del hueco en la vía");
        ASSERT_STREQ(b.ev[0].filename, "");
    }
    vt_wa_batch_cleanup(&b);

    PARSE_ONE(from_ana("document", "\"document\":{\"caption\":\"Adjunto la cédula\","
                                   "\"filename\":\"cédula ana.pdf\",\"mime_type\":"
                                   "\"application/pdf\",\"sha256\":\"Yz8/hQ==\","
                                   "\"id\":\"2229981337425577\"}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_DOCUMENT);
        ASSERT_STREQ(b.ev[0].media_id, "2229981337425577");
        ASSERT_STREQ(b.ev[0].mime_type, "application/pdf");
        ASSERT_STREQ(b.ev[0].filename, "cédula ana.pdf");
        ASSERT_STREQ(b.ev[0].text, "Adjunto la cédula");
    }
    vt_wa_batch_cleanup(&b);

    PARSE_ONE(from_ana("audio", "\"audio\":{\"mime_type\":\"audio/ogg; codecs=opus\","
                                "\"sha256\":\"abc=\",\"id\":\"908071211463291\",\"voice\":true}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_AUDIO);
        ASSERT_STREQ(b.ev[0].media_id, "908071211463291");
        ASSERT_STREQ(b.ev[0].mime_type, "audio/ogg; codecs=opus");
        ASSERT_STREQ(b.ev[0].text, "");
    }
    vt_wa_batch_cleanup(&b);

    PARSE_ONE(from_ana("video", "\"video\":{\"caption\":\"Así quedó la calle\",\"mime_type\":"
                                "\"video/mp4\",\"sha256\":\"def=\",\"id\":\"1420556255312345\"}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_VIDEO);
        ASSERT_STREQ(b.ev[0].media_id, "1420556255312345");
        ASSERT_STREQ(b.ev[0].mime_type, "video/mp4");
        ASSERT_STREQ(b.ev[0].text, "Así quedó la calle");
    }
    vt_wa_batch_cleanup(&b);

    PARSE_ONE(from_ana("sticker", "\"sticker\":{\"mime_type\":\"image/webp\",\"sha256\":\"ghi=\","
                                  "\"id\":\"773004921567890\",\"animated\":false}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_STICKER);
        ASSERT_STREQ(b.ev[0].type_name, "sticker");
        ASSERT_STREQ(b.ev[0].media_id, "773004921567890");
        ASSERT_STREQ(b.ev[0].mime_type, "image/webp");
    }
    vt_wa_batch_cleanup(&b);

    /* Media without an id cannot be downloaded: unknown, but still recorded. */
    PARSE_ONE(from_ana("image", "\"image\":{\"mime_type\":\"image/jpeg\"}"), &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
        ASSERT_STREQ(b.ev[0].type_name, "image");
    }
    vt_wa_batch_cleanup(&b);
    /* The media object must be the one named by type. */
    PARSE_ONE(from_ana("video", "\"image\":{\"id\":\"1\"}"), &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
        ASSERT_STREQ(b.ev[0].media_id, "");
    }
    vt_wa_batch_cleanup(&b);
}

static void test_location(void)
{
    struct vt_wa_batch b;
    PARSE_ONE(from_ana("location",
                       "\"location\":{\"address\":\"Cra. 7 #32-16, Bogotá\","
                       "\"latitude\":4.6243335,\"longitude\":-74.0687645,"
                       "\"name\":\"Alcaldía Local\",\"url\":\"https://example.gov.co\"}"),
              &b);
    if (b.n == 1) {
        const struct vt_wa_event *e = &b.ev[0];
        ASSERT_EQ(e->type, VT_WA_MSG_LOCATION);
        ASSERT_STREQ(e->type_name, "location");
        ASSERT_TRUE(e->has_location);
        ASSERT_TRUE(e->latitude > 4.6243 && e->latitude < 4.6244);
        ASSERT_TRUE(e->longitude < -74.0687 && e->longitude > -74.0688);
        ASSERT_STREQ(e->text, "Alcaldía Local, Cra. 7 #32-16, Bogotá");
    }
    vt_wa_batch_cleanup(&b);

    /* A dropped pin: coordinates only, no name or address. */
    PARSE_ONE(from_ana("location", "\"location\":{\"latitude\":-0.5,\"longitude\":180}"), &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_LOCATION);
        ASSERT_TRUE(b.ev[0].has_location);
        ASSERT_STREQ(b.ev[0].text, "");
    }
    vt_wa_batch_cleanup(&b);
    PARSE_ONE(from_ana("location", "\"location\":{\"latitude\":1,\"longitude\":2,"
                                   "\"address\":\"Calle 10\"}"),
              &b);
    if (b.n == 1)
        ASSERT_STREQ(b.ev[0].text, "Calle 10");
    vt_wa_batch_cleanup(&b);

    /* Out of range or non-numeric coordinates are not a location. */
    const char *bad[] = {
        "\"location\":{\"latitude\":91,\"longitude\":0}",
        "\"location\":{\"latitude\":0,\"longitude\":-180.5}",
        "\"location\":{\"latitude\":\"4.6\",\"longitude\":\"-74.1\"}",
        "\"location\":{\"latitude\":4.6}",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        PARSE_ONE(from_ana("location", bad[i]), &b);
        if (b.n == 1) {
            ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
            ASSERT_TRUE(!b.ev[0].has_location);
        }
        vt_wa_batch_cleanup(&b);
    }
}

static void test_reaction(void)
{
    struct vt_wa_batch b;
    PARSE_ONE(from_ana("reaction",
                       "\"reaction\":{\"message_id\":\"wamid.OURS\",\"emoji\":\"\\uD83D\\uDC4D\"}"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_REACTION);
        ASSERT_STREQ(b.ev[0].type_name, "reaction");
        ASSERT_STREQ(b.ev[0].context_id, "wamid.OURS");
        ASSERT_STREQ(b.ev[0].text, "\xF0\x9F\x91\x8D"); /* U+1F44D thumbs up */
    }
    vt_wa_batch_cleanup(&b);

    /* Removing a reaction sends an empty emoji. */
    PARSE_ONE(from_ana("reaction", "\"reaction\":{\"message_id\":\"wamid.OURS\"}"), &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_REACTION);
        ASSERT_STREQ(b.ev[0].text, "");
    }
    vt_wa_batch_cleanup(&b);
}

static void test_unknown_types(void)
{
    struct vt_wa_batch b;
    /* What Meta sends for a message type the Cloud API does not support. */
    PARSE_ONE(from_ana("unsupported",
                       "\"errors\":[{\"code\":131051,\"title\":\"Message type unknown\","
                       "\"message\":\"Message type unknown\",\"error_data\":{\"details\":"
                       "\"Message type is currently not supported.\"}}]"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
        ASSERT_STREQ(b.ev[0].type_name, "unsupported");
        ASSERT_STREQ(b.ev[0].id, WAMID);
        ASSERT_STREQ(b.ev[0].profile_name, "Ana Pérez");
    }
    vt_wa_batch_cleanup(&b);

    PARSE_ONE(from_ana("unknown", "\"errors\":[{\"code\":131051,\"details\":\"Message type is "
                                  "not currently supported\",\"title\":\"Unsupported message "
                                  "type\"}]"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
        ASSERT_STREQ(b.ev[0].type_name, "unknown");
    }
    vt_wa_batch_cleanup(&b);

    /* Types we do not handle, and a message without a type at all. */
    PARSE_ONE(from_ana("contacts", "\"contacts\":[{\"name\":{\"formatted_name\":\"Luis\"}}]"), &b);
    if (b.n == 1)
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
    vt_wa_batch_cleanup(&b);
    PARSE_ONE(from_ana("system", "\"system\":{\"body\":\"User changed number\"}"), &b);
    if (b.n == 1)
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
    vt_wa_batch_cleanup(&b);
    PARSE_ONE(wrap("\"messages\":[{\"from\":\"573001234567\",\"id\":\"wamid.X\"}]"), &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_UNKNOWN);
        ASSERT_STREQ(b.ev[0].type_name, "");
        ASSERT_EQ(b.ev[0].timestamp, 0);
    }
    vt_wa_batch_cleanup(&b);

    ASSERT_STREQ(vt_wa_msg_type_name(VT_WA_MSG_TEXT), "text");
    ASSERT_STREQ(vt_wa_msg_type_name(VT_WA_MSG_LIST_REPLY), "interactive");
    ASSERT_STREQ(vt_wa_msg_type_name(VT_WA_MSG_STICKER), "sticker");
    ASSERT_STREQ(vt_wa_msg_type_name(VT_WA_MSG_UNKNOWN), "unknown");
    ASSERT_STREQ(vt_wa_msg_type_name((enum vt_wa_msg_type)99), "unknown");
}

/* One status from Meta about the message wamid.OUT to Ana. */
static const char *status_json(const char *status, const char *extra)
{
    static char inner[4096];
    snprintf(inner, sizeof(inner),
             "\"statuses\":[{\"id\":\"wamid.OUT\",\"status\":\"%s\",\"timestamp\":\"1717000100\","
             "\"recipient_id\":\"" ANA_WA "\"%s%s}]",
             status, extra[0] ? "," : "", extra);
    return wrap(inner);
}

static void test_statuses(void)
{
    struct vt_wa_batch b;
    PARSE_ONE(status_json("sent",
                          "\"conversation\":{\"id\":\"CONVERSATION_ID\",\"expiration_timestamp\":"
                          "\"1717086500\",\"origin\":{\"type\":\"service\"}},\"pricing\":"
                          "{\"billable\":true,\"pricing_model\":\"CBP\",\"category\":\"service\"}"),
              &b);
    if (b.n == 1) {
        const struct vt_wa_event *e = &b.ev[0];
        ASSERT_EQ(e->kind, VT_WA_EV_STATUS);
        ASSERT_STREQ(e->id, "wamid.OUT");
        ASSERT_STREQ(e->status, "sent");
        ASSERT_STREQ(e->recipient, ANA_WA);
        ASSERT_STREQ(e->phone_number_id, PNID);
        ASSERT_EQ(e->timestamp, 1717000100);
        ASSERT_EQ(e->error_code, 0);
        ASSERT_STREQ(e->error_title, "");
        ASSERT_STREQ(e->from, "");
    }
    vt_wa_batch_cleanup(&b);

    PARSE_ONE(status_json("delivered", ""), &b);
    if (b.n == 1)
        ASSERT_STREQ(b.ev[0].status, "delivered");
    vt_wa_batch_cleanup(&b);
    PARSE_ONE(status_json("read", ""), &b);
    if (b.n == 1)
        ASSERT_STREQ(b.ev[0].status, "read");
    vt_wa_batch_cleanup(&b);

    /* Outside the 24-hour customer service window. */
    PARSE_ONE(status_json("failed", "\"errors\":[{\"code\":131047,\"title\":\"Re-engagement "
                                    "message\",\"message\":\"Re-engagement message\","
                                    "\"error_data\":{\"details\":\"Message failed to send "
                                    "because more than 24 hours have passed since the customer "
                                    "last replied to this number.\"},\"href\":"
                                    "\"https://developers.facebook.com/docs/whatsapp/\"}]"),
              &b);
    if (b.n == 1) {
        ASSERT_STREQ(b.ev[0].status, "failed");
        ASSERT_EQ(b.ev[0].error_code, 131047);
        ASSERT_STREQ(b.ev[0].error_title, "Re-engagement message");
    }
    vt_wa_batch_cleanup(&b);

    /* The number is not on WhatsApp; only errors[0] is kept. */
    PARSE_ONE(status_json("failed", "\"errors\":[{\"code\":131026,\"title\":\"Message "
                                    "undeliverable\"},{\"code\":1,\"title\":\"other\"}]"),
              &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].error_code, 131026);
        ASSERT_STREQ(b.ev[0].error_title, "Message undeliverable");
    }
    vt_wa_batch_cleanup(&b);

    /* Strange errors are tolerated: not an array, a string code, negative code. */
    const char *odd[] = {"\"errors\":{\"code\":1}", "\"errors\":[{\"code\":\"131026\"}]",
                         "\"errors\":[{\"code\":-5}]", "\"errors\":[]", "\"errors\":[7]"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        PARSE_ONE(status_json("failed", odd[i]), &b);
        if (b.n == 1)
            ASSERT_EQ(b.ev[0].error_code, 0);
        vt_wa_batch_cleanup(&b);
    }

    /* A status Meta may add later is kept as given. */
    PARSE_ONE(status_json("deleted", ""), &b);
    if (b.n == 1)
        ASSERT_STREQ(b.ev[0].status, "deleted");
    vt_wa_batch_cleanup(&b);
}

static void test_batch(void)
{
    /* Two entries; the first has two changes, one of them with two messages
     * and a status in the same value; the second a status and a message. */
    const char *json =
        "{\"object\":\"whatsapp_business_account\",\"entry\":["
        "{\"id\":\"WABA1\",\"changes\":["
        "{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\","
        "\"metadata\":{\"display_phone_number\":\"15550000001\",\"phone_number_id\":\"111\"},"
        "\"contacts\":[{\"profile\":{\"name\":\"Ana\"},\"wa_id\":\"573001234567\"},"
        "{\"profile\":{\"name\":\"Luis\"},\"wa_id\":\"573109876543\"}],"
        "\"messages\":[{\"from\":\"573001234567\",\"id\":\"wamid.M1\",\"timestamp\":\"1\","
        "\"type\":\"text\",\"text\":{\"body\":\"uno\"}},"
        "{\"from\":\"573109876543\",\"id\":\"wamid.M2\",\"timestamp\":\"2\","
        "\"type\":\"text\",\"text\":{\"body\":\"dos\"}}],"
        "\"statuses\":[{\"id\":\"wamid.S1\",\"status\":\"read\",\"timestamp\":\"3\","
        "\"recipient_id\":\"573001234567\"}]}},"
        "{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\","
        "\"metadata\":{\"display_phone_number\":\"15550000002\",\"phone_number_id\":\"222\"},"
        "\"statuses\":[{\"id\":\"wamid.S2\",\"status\":\"delivered\",\"timestamp\":\"4\","
        "\"recipient_id\":\"573001234567\"}]}}]},"
        "{\"id\":\"WABA2\",\"changes\":["
        "{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\","
        "\"metadata\":{\"display_phone_number\":\"15550000003\",\"phone_number_id\":\"333\"},"
        "\"statuses\":[{\"id\":\"wamid.S3\",\"status\":\"sent\",\"timestamp\":\"5\","
        "\"recipient_id\":\"573001234567\"}],"
        "\"contacts\":[{\"profile\":{\"name\":\"Eva\"},\"wa_id\":\"573205550000\"}],"
        "\"messages\":[{\"from\":\"573205550000\",\"id\":\"wamid.M3\",\"timestamp\":\"6\","
        "\"type\":\"image\",\"image\":{\"id\":\"9\",\"mime_type\":\"image/png\"}}]}}]}]}";
    struct vt_wa_batch b;
    char why[128] = "";
    ASSERT_EQ(parse(json, &b, why, sizeof(why)), 0);
    ASSERT_EQ(b.n, 6);
    if (b.n == 6) {
        /* Document order, except that within one value messages precede statuses. */
        const char *ids[] = {"wamid.M1", "wamid.M2", "wamid.S1",
                             "wamid.S2", "wamid.M3", "wamid.S3"};
        const char *pnids[] = {"111", "111", "111", "222", "333", "333"};
        const int kinds[] = {VT_WA_EV_MESSAGE, VT_WA_EV_MESSAGE, VT_WA_EV_STATUS,
                             VT_WA_EV_STATUS,  VT_WA_EV_MESSAGE, VT_WA_EV_STATUS};
        for (size_t i = 0; i < 6; i++) {
            ASSERT_STREQ(b.ev[i].id, ids[i]);
            ASSERT_STREQ(b.ev[i].phone_number_id, pnids[i]);
            ASSERT_EQ(b.ev[i].kind, kinds[i]);
        }
        ASSERT_STREQ(b.ev[0].profile_name, "Ana");
        ASSERT_STREQ(b.ev[1].profile_name, "Luis");
        ASSERT_STREQ(b.ev[1].text, "dos");
        ASSERT_STREQ(b.ev[2].status, "read");
        ASSERT_STREQ(b.ev[4].profile_name, "Eva");
        ASSERT_EQ(b.ev[4].type, VT_WA_MSG_IMAGE);
        ASSERT_EQ(b.ev[5].timestamp, 5);
    }
    vt_wa_batch_cleanup(&b);
    vt_wa_batch_cleanup(&b); /* twice is harmless */
    vt_wa_batch_cleanup(NULL);

    /* Many messages in one value grow the array past its first allocation. */
    static char inner[32768];
    size_t n = (size_t)snprintf(inner, sizeof(inner), "\"messages\":[");
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(inner + n, sizeof(inner) - n,
                              "%s{\"from\":\"57300%07d\",\"id\":\"wamid.%d\",\"type\":\"text\","
                              "\"text\":{\"body\":\"m%d\"}}",
                              i ? "," : "", i, i, i);
    snprintf(inner + n, sizeof(inner) - n, "]");
    ASSERT_EQ(parse(wrap(inner), &b, why, sizeof(why)), 0);
    ASSERT_EQ(b.n, 50);
    if (b.n == 50) {
        ASSERT_STREQ(b.ev[0].id, "wamid.0");
        ASSERT_STREQ(b.ev[49].id, "wamid.49");
        ASSERT_STREQ(b.ev[49].from, "573000000049");
        ASSERT_STREQ(b.ev[49].text, "m49");
    }
    vt_wa_batch_cleanup(&b);
}

static void test_tolerance(void)
{
    struct vt_wa_batch b;
    char why[128] = "";
    /* Unknown members at every level are ignored. */
    const char *json =
        "{\"object\":\"whatsapp_business_account\",\"api_version\":\"v99.0\",\"entry\":["
        "{\"id\":\"WABA\",\"time\":1717000000,\"new\":[1,2],\"changes\":["
        "{\"field\":\"messages\",\"extra\":null,\"value\":{\"messaging_product\":\"whatsapp\","
        "\"metadata\":{\"display_phone_number\":\"1\",\"phone_number_id\":\"" PNID "\","
        "\"tier\":{\"x\":true}},"
        "\"contacts\":[{\"profile\":{\"name\":\"Ana\",\"pic\":\"p\"},\"wa_id\":\"" ANA_WA "\","
        "\"user_id\":\"CO.123\"}],"
        "\"messages\":[{\"from\":\"" ANA_WA "\",\"id\":\"wamid.T\",\"timestamp\":\"7\","
        "\"type\":\"text\",\"text\":{\"body\":\"hola\",\"preview_url\":false},"
        "\"referral\":{\"source_url\":\"https://x\"},\"identity\":{\"acknowledged\":true},"
        "\"from_user_id\":\"CO.123\",\"future\":[{\"a\":{}}]}]}}]}]}";
    ASSERT_EQ(parse(json, &b, why, sizeof(why)), 0);
    ASSERT_EQ(b.n, 1);
    if (b.n == 1) {
        ASSERT_STREQ(b.ev[0].text, "hola");
        ASSERT_STREQ(b.ev[0].profile_name, "Ana");
    }
    vt_wa_batch_cleanup(&b);

    /* Notifications without messages or statuses give no event: another
     * field, a change without value, an entry without changes, empty arrays. */
    const char *empty[] = {
        "{\"object\":\"whatsapp_business_account\",\"entry\":[]}",
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"W\"}]}",
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"W\",\"changes\":[]}]}",
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"W\",\"changes\":"
        "[{\"field\":\"account_update\"}]}]}",
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"W\",\"changes\":"
        "[{\"field\":\"message_template_status_update\",\"value\":{\"event\":\"APPROVED\","
        "\"message_template_id\":594425479261596,\"message_template_name\":\"aviso\","
        "\"message_template_language\":\"es\",\"reason\":\"NONE\"}}]}]}",
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"value\":"
        "{\"messages\":[],\"statuses\":[],\"contacts\":[]}}]}]}",
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"value\":5}]}]}",
        "  \n{\"entry\":[],\"object\":\"whatsapp_business_account\"}\n",
    };
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        ASSERT_EQ(parse(empty[i], &b, why, sizeof(why)), 0);
        ASSERT_EQ(b.n, 0);
        vt_wa_batch_cleanup(&b);
    }

    /* A message without contacts, or whose sender is not among them, has no
     * profile name; and no metadata gives no phone_number_id. */
    ASSERT_EQ(parse("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"value\":"
                    "{\"messages\":[{\"from\":\"57\",\"id\":\"w\",\"type\":\"text\","
                    "\"text\":{\"body\":\"x\"}}]}}]}]}",
                    &b, why, sizeof(why)),
              0);
    if (b.n == 1) {
        ASSERT_STREQ(b.ev[0].profile_name, "");
        ASSERT_STREQ(b.ev[0].phone_number_id, "");
        ASSERT_STREQ(b.ev[0].text, "x");
    }
    vt_wa_batch_cleanup(&b);

    /* Numbers and other non-strings where strings belong are read as absent. */
    PARSE_ONE(from_ana("text", "\"text\":{\"body\":12}"), &b);
    if (b.n == 1) {
        ASSERT_EQ(b.ev[0].type, VT_WA_MSG_TEXT);
        ASSERT_STREQ(b.ev[0].text, "");
    }
    vt_wa_batch_cleanup(&b);

    /* Invalid UTF-8 inside a string is dropped, the message kept. */
    PARSE_ONE(from_ana("text", "\"text\":{\"body\":\"caf\xE9 \xFF\"}"), &b);
    if (b.n == 1)
        ASSERT_STREQ(b.ev[0].text, "");
    vt_wa_batch_cleanup(&b);

    /* Only len bytes are read: the same body cut short is not JSON. */
    const char *good = from_ana("text", "\"text\":{\"body\":\"hola\"}");
    ASSERT_EQ(vt_wa_parse(good, strlen(good) - 1, 10, &b, why, sizeof(why)), VT_EINVAL);
    ASSERT_EQ(b.n, 0);
    vt_wa_batch_cleanup(&b);
}

static void test_timestamps(void)
{
    struct vt_wa_batch b;
    char why[128];
    const struct {
        const char *ts;
        long long want;
    } cases[] = {
        {"\"1717000000\"", 1717000000},
        {"1717000000", 1717000000},
        {"\"\"", 0},
        {"\"17x\"", 0},
        {"\"-5\"", 0},
        {"-5", 0},
        {"0", 0},
        {"1e300", 0},
        {"null", 0},
        {"[1]", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char inner[256];
        snprintf(inner, sizeof(inner),
                 "\"messages\":[{\"from\":\"57\",\"id\":\"w\",\"timestamp\":%s}],"
                 "\"statuses\":[{\"id\":\"s\",\"status\":\"sent\",\"timestamp\":%s}]",
                 cases[i].ts, cases[i].ts);
        ASSERT_EQ(parse(wrap(inner), &b, why, sizeof(why)), 0);
        ASSERT_EQ(b.n, 2);
        if (b.n == 2) {
            ASSERT_EQ(b.ev[0].timestamp, cases[i].want);
            ASSERT_EQ(b.ev[1].timestamp, cases[i].want);
        }
        vt_wa_batch_cleanup(&b);
    }
}

static void test_malformed(void)
{
    EXPECT_BAD("", VT_EINVAL);
    EXPECT_BAD("not json", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\",\"entry\":[", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"page\",\"entry\":[]}", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"instagram\",\"entry\":[]}", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"WhatsApp_Business_Account\",\"entry\":[]}", VT_EINVAL);
    EXPECT_BAD("{\"object\":7,\"entry\":[]}", VT_EINVAL);
    EXPECT_BAD("{\"entry\":[]}", VT_EINVAL);
    EXPECT_BAD("[{\"object\":\"whatsapp_business_account\",\"entry\":[]}]", VT_EINVAL);
    EXPECT_BAD("\"whatsapp_business_account\"", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\"}", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\",\"entry\":{}}", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\",\"entry\":\"x\"}", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\",\"entry\":null}", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\",\"entry\":[3]}", VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":{}}]}",
               VT_EINVAL);
    EXPECT_BAD("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[\"x\"]}]}",
               VT_EINVAL);
    EXPECT_BAD(wrap("\"messages\":{\"from\":\"57\",\"id\":\"w\"}"), VT_EINVAL);
    EXPECT_BAD(wrap("\"messages\":\"hola\""), VT_EINVAL);
    EXPECT_BAD(wrap("\"statuses\":{}"), VT_EINVAL);
    EXPECT_BAD(wrap("\"contacts\":{},\"messages\":[]"), VT_EINVAL);
    EXPECT_BAD(wrap("\"messages\":[\"hola\"]"), VT_EINVAL);
    EXPECT_BAD(wrap("\"statuses\":[null]"), VT_EINVAL);

    /* A message must say who sent it and what it is. */
    EXPECT_BAD(wrap("\"messages\":[{\"from\":\"" ANA_WA "\",\"type\":\"text\","
                    "\"text\":{\"body\":\"x\"}}]"),
               VT_EINVAL);
    EXPECT_BAD(wrap("\"messages\":[{\"from\":\"" ANA_WA "\",\"id\":\"\",\"type\":\"text\"}]"),
               VT_EINVAL);
    EXPECT_BAD(wrap("\"messages\":[{\"id\":\"wamid.X\",\"type\":\"text\","
                    "\"text\":{\"body\":\"x\"}}]"),
               VT_EINVAL);
    EXPECT_BAD(wrap("\"messages\":[{\"from\":573001234567,\"id\":\"wamid.X\"}]"), VT_EINVAL);
    EXPECT_BAD(wrap("\"messages\":[{\"from\":\"anónimo\",\"id\":\"wamid.X\"}]"), VT_EINVAL);
    /* A bad message after a good one refuses the whole body. */
    EXPECT_BAD(wrap("\"messages\":[{\"from\":\"57\",\"id\":\"ok\"},{\"from\":\"57\"}]"), VT_EINVAL);
    /* A status must name its message and its status. */
    EXPECT_BAD(wrap("\"statuses\":[{\"status\":\"read\",\"recipient_id\":\"57\"}]"), VT_EINVAL);
    EXPECT_BAD(wrap("\"statuses\":[{\"id\":\"wamid.X\",\"recipient_id\":\"57\"}]"), VT_EINVAL);

    /* The reason names the problem. */
    struct vt_wa_batch b;
    char why[128] = "";
    ASSERT_EQ(parse("nope", &b, why, sizeof(why)), VT_EINVAL);
    ASSERT_TRUE(strstr(why, "JSON") != NULL);
    ASSERT_EQ(parse(wrap("\"messages\":[{\"from\":\"57\"}]"), &b, why, sizeof(why)), VT_EINVAL);
    ASSERT_TRUE(strstr(why, "id") != NULL);
    /* A short reason buffer is still NUL-terminated. */
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    ASSERT_EQ(parse("nope", &b, tiny, sizeof(tiny)), VT_EINVAL);
    ASSERT_TRUE(memchr(tiny, '\0', sizeof(tiny)) != NULL);
}

static void test_limits(void)
{
    struct vt_wa_batch b;
    char why[128] = "";
    const char *three = wrap("\"messages\":[{\"from\":\"57\",\"id\":\"a\"},{\"from\":\"57\","
                             "\"id\":\"b\"}],\"statuses\":[{\"id\":\"c\",\"status\":\"read\"}]");
    ASSERT_EQ(vt_wa_parse(three, strlen(three), 3, &b, why, sizeof(why)), 0);
    ASSERT_EQ(b.n, 3);
    vt_wa_batch_cleanup(&b);
    /* Over the limit, whether the extra event is a message or a status. */
    ASSERT_EQ(vt_wa_parse(three, strlen(three), 2, &b, why, sizeof(why)), VT_ETOOBIG);
    ASSERT_TRUE(why[0] != '\0');
    ASSERT_EQ(b.n, 0);
    ASSERT_TRUE(b.ev == NULL);
    why[0] = '\0';
    ASSERT_EQ(vt_wa_parse(three, strlen(three), 1, &b, why, sizeof(why)), VT_ETOOBIG);
    ASSERT_TRUE(why[0] != '\0');
    ASSERT_EQ(b.n, 0);
    ASSERT_EQ(vt_wa_parse(three, strlen(three), 0, &b, why, sizeof(why)), VT_ETOOBIG);
    ASSERT_EQ(b.n, 0);
    /* With no events, even a limit of zero is fine. */
    const char *none = "{\"object\":\"whatsapp_business_account\",\"entry\":[]}";
    ASSERT_EQ(vt_wa_parse(none, strlen(none), 0, &b, why, sizeof(why)), 0);
    ASSERT_EQ(b.n, 0);
    vt_wa_batch_cleanup(&b);
}

static void test_truncation(void)
{
    struct vt_wa_batch b;
    /* 'a' then "ñ" (2 bytes) repeated: the cut at 4095 bytes falls inside a
     * character on one of the two alignments. */
    static char body[12000];
    for (int shift = 0; shift < 2; shift++) {
        size_t n = 0;
        for (int i = 0; i < shift; i++)
            body[n++] = 'a';
        while (n < 6000) {
            memcpy(body + n, "ñ", 2);
            n += 2;
        }
        body[n] = '\0';
        char members[12100];
        snprintf(members, sizeof(members), "\"text\":{\"body\":\"%s\"}", body);
        PARSE_ONE(from_ana("text", members), &b);
        if (b.n == 1) {
            size_t len = strlen(b.ev[0].text);
            ASSERT_TRUE(len <= VT_WA_TEXT_MAX - 1);
            ASSERT_TRUE(len >= VT_WA_TEXT_MAX - 4);
            ASSERT_TRUE(vt_utf8_valid(b.ev[0].text, len));
            ASSERT_TRUE(strncmp(b.ev[0].text, body, len) == 0);
        }
        vt_wa_batch_cleanup(&b);
    }

    /* Four-byte emoji: every alignment of the cut against the sequence. */
    for (int shift = 0; shift < 4; shift++) {
        size_t n = 0;
        for (int i = 0; i < shift; i++)
            body[n++] = 'b';
        while (n < 5000) {
            memcpy(body + n, "\xF0\x9F\x98\x80", 4); /* U+1F600 */
            n += 4;
        }
        body[n] = '\0';
        char members[12100];
        snprintf(members, sizeof(members), "\"text\":{\"body\":\"%s\"}", body);
        PARSE_ONE(from_ana("text", members), &b);
        if (b.n == 1) {
            size_t len = strlen(b.ev[0].text);
            ASSERT_TRUE(len <= VT_WA_TEXT_MAX - 1 && len >= VT_WA_TEXT_MAX - 4);
            ASSERT_TRUE(vt_utf8_valid(b.ev[0].text, len));
            ASSERT_EQ((len - (size_t)shift) % 4, 0);
        }
        vt_wa_batch_cleanup(&b);
    }

    /* Exactly the capacity minus one fits whole. */
    memset(body, 'z', VT_WA_TEXT_MAX - 1);
    body[VT_WA_TEXT_MAX - 1] = '\0';
    char members[12100];
    snprintf(members, sizeof(members), "\"text\":{\"body\":\"%s\"}", body);
    PARSE_ONE(from_ana("text", members), &b);
    if (b.n == 1)
        ASSERT_STREQ(b.ev[0].text, body);
    vt_wa_batch_cleanup(&b);

    /* A long wamid and profile name are cut to their fields too. */
    char inner[2048];
    snprintf(inner, sizeof(inner),
             "\"contacts\":[{\"profile\":{\"name\":\"%0300d\"},\"wa_id\":\"57\"}],"
             "\"messages\":[{\"from\":\"57\",\"id\":\"wamid.%0400d\",\"type\":\"document\","
             "\"document\":{\"id\":\"1\",\"filename\":\"%0500d.pdf\"}}]",
             0, 0, 0);
    PARSE_ONE(wrap(inner), &b);
    if (b.n == 1) {
        ASSERT_EQ(strlen(b.ev[0].id), VT_WA_ID_MAX - 1);
        ASSERT_TRUE(strncmp(b.ev[0].id, "wamid.000", 9) == 0);
        ASSERT_EQ(strlen(b.ev[0].profile_name), sizeof(b.ev[0].profile_name) - 1);
        ASSERT_EQ(strlen(b.ev[0].filename), sizeof(b.ev[0].filename) - 1);
    }
    vt_wa_batch_cleanup(&b);
}

static void test_profile_and_from(void)
{
    struct vt_wa_batch b;
    char why[128] = "";
    /* The profile name comes from the contact with the sender's wa_id, not
     * from the first contact; a sender without a contact has none. */
    ASSERT_EQ(parse(wrap("\"contacts\":[{\"profile\":{\"name\":\"Luis\"},\"wa_id\":"
                         "\"573109876543\"},{\"profile\":{\"name\":\"Ana\"},\"wa_id\":"
                         "\"573001234567\"},{\"wa_id\":\"573205550000\"},\"raro\"],"
                         "\"messages\":[{\"from\":\"573001234567\",\"id\":\"a\"},"
                         "{\"from\":\"573109876543\",\"id\":\"b\"},"
                         "{\"from\":\"573205550000\",\"id\":\"c\"},"
                         "{\"from\":\"573999999999\",\"id\":\"d\"}]"),
                    &b, why, sizeof(why)),
              0);
    ASSERT_EQ(b.n, 4);
    if (b.n == 4) {
        ASSERT_STREQ(b.ev[0].profile_name, "Ana");
        ASSERT_STREQ(b.ev[1].profile_name, "Luis");
        ASSERT_STREQ(b.ev[2].profile_name, "");
        ASSERT_STREQ(b.ev[3].profile_name, "");
    }
    vt_wa_batch_cleanup(&b);

    /* "from" and recipient_id keep digits only, and the contact still matches. */
    ASSERT_EQ(parse(wrap("\"contacts\":[{\"profile\":{\"name\":\"Ana\"},\"wa_id\":"
                         "\"+57 300 123 4567\"}],"
                         "\"messages\":[{\"from\":\"+57 (300) 123-4567\",\"id\":\"a\"}],"
                         "\"statuses\":[{\"id\":\"s\",\"status\":\"sent\","
                         "\"recipient_id\":\"+57-300-123-4567\"}]"),
                    &b, why, sizeof(why)),
              0);
    ASSERT_EQ(b.n, 2);
    if (b.n == 2) {
        ASSERT_STREQ(b.ev[0].from, "573001234567");
        ASSERT_STREQ(b.ev[0].profile_name, "Ana");
        ASSERT_STREQ(b.ev[1].recipient, "573001234567");
    }
    vt_wa_batch_cleanup(&b);

    /* An overlong sender is cut to the field, digits only. */
    PARSE_ONE(wrap("\"messages\":[{\"from\":\"1234567890123456789012345678901234567890\","
                   "\"id\":\"a\"}]"),
              &b);
    if (b.n == 1)
        ASSERT_STREQ(b.ev[0].from, "1234567890123456789012345678901");
    vt_wa_batch_cleanup(&b);
}

static void test_signature(void)
{
    const char *body = from_ana("text", "\"text\":{\"body\":\"Hola\"}");
    size_t len = strlen(body);
    const char *secret = "app-secret-0123456789abcdef";
    char sig[72];
    vt_wa_sign(secret, body, len, sig);
    ASSERT_EQ(strlen(sig), 71);
    ASSERT_TRUE(strncmp(sig, "sha256=", 7) == 0);
    ASSERT_TRUE(vt_wa_signature_ok(sig, secret, body, len));

    /* A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"). */
    const char *fox = "The quick brown fox jumps over the lazy dog";
    vt_wa_sign("key", fox, strlen(fox), sig);
    ASSERT_STREQ(sig, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    ASSERT_TRUE(vt_wa_signature_ok(
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", "key", fox,
        strlen(fox)));

    vt_wa_sign(secret, body, len, sig);
    /* Wrong secret, or one changed byte of the body. */
    ASSERT_TRUE(!vt_wa_signature_ok(sig, "app-secret-0123456789abcdeg", body, len));
    static char copy[65536];
    memcpy(copy, body, len);
    copy[len / 2] ^= 0x01;
    ASSERT_TRUE(!vt_wa_signature_ok(sig, secret, copy, len));
    ASSERT_TRUE(!vt_wa_signature_ok(sig, secret, body, len - 1));

    /* One changed hex digit. */
    char bad[80];
    memcpy(bad, sig, sizeof(sig));
    bad[40] = bad[40] == '0' ? '1' : '0';
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));

    /* Missing or different prefix. */
    ASSERT_TRUE(!vt_wa_signature_ok(sig + 7, secret, body, len));
    snprintf(bad, sizeof(bad), "sha1=%s", sig + 7);
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));
    snprintf(bad, sizeof(bad), "SHA256=%s", sig + 7);
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));
    snprintf(bad, sizeof(bad), " %s", sig);
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));

    /* Truncated, overlong, or non-hex. */
    memcpy(bad, sig, sizeof(sig));
    bad[70] = '\0';
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));
    ASSERT_TRUE(!vt_wa_signature_ok("sha256=", secret, body, len));
    snprintf(bad, sizeof(bad), "%s0", sig);
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));
    snprintf(bad, sizeof(bad), "%s ", sig);
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));
    memcpy(bad, sig, sizeof(sig));
    bad[10] = 'g';
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));

    /* Meta sends lowercase hex; the same digits in uppercase are refused. */
    memcpy(bad, sig, sizeof(sig));
    int has_letter = 0;
    for (size_t i = 7; bad[i]; i++)
        if (bad[i] >= 'a' && bad[i] <= 'f') {
            bad[i] = (char)(bad[i] - 'a' + 'A');
            has_letter = 1;
        }
    ASSERT_TRUE(has_letter);
    ASSERT_TRUE(!vt_wa_signature_ok(bad, secret, body, len));

    /* No header, no secret, or an empty one. */
    ASSERT_TRUE(!vt_wa_signature_ok(NULL, secret, body, len));
    ASSERT_TRUE(!vt_wa_signature_ok("", secret, body, len));
    ASSERT_TRUE(!vt_wa_signature_ok(sig, NULL, body, len));
    ASSERT_TRUE(!vt_wa_signature_ok(sig, "", body, len));
    char empty_sig[72];
    vt_wa_sign("", body, len, empty_sig);
    ASSERT_TRUE(!vt_wa_signature_ok(empty_sig, "", body, len));

    /* An empty body signs and checks like any other. */
    vt_wa_sign(secret, "", 0, sig);
    ASSERT_TRUE(vt_wa_signature_ok(sig, secret, "", 0));
    ASSERT_TRUE(!vt_wa_signature_ok(sig, secret, "x", 1));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_text();
    test_interactive_and_button();
    test_media();
    test_location();
    test_reaction();
    test_unknown_types();
    test_statuses();
    test_batch();
    test_tolerance();
    test_timestamps();
    test_malformed();
    test_limits();
    test_truncation();
    test_profile_and_from();
    test_signature();
    VT_TEST_END();
}
