/* parse.h - the WhatsApp Cloud API webhook: signature check and payload
 * parser.
 *
 * Owns: the mapping of Meta's webhook JSON (object / entry[] / changes[] /
 * value.messages[] / value.statuses[]) onto a flat list of events.
 * Must not: touch the store, the network or the clock. It is pure so the
 * fuzzer can drive it.
 *
 * Tolerance: fields we do not know are ignored (Meta adds fields without
 * notice), message types we do not know become VT_WA_MSG_UNKNOWN and are
 * recorded rather than refused. A body that is not JSON, is not a
 * whatsapp_business_account notification, or whose entry/changes/messages
 * are not arrays is refused whole, with a reason.
 */
#ifndef VT_WA_PARSE_H
#define VT_WA_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vt_wa_event_kind { VT_WA_EV_MESSAGE, VT_WA_EV_STATUS };

enum vt_wa_msg_type {
    VT_WA_MSG_TEXT,
    VT_WA_MSG_BUTTON_REPLY, /* interactive.button_reply */
    VT_WA_MSG_LIST_REPLY,   /* interactive.list_reply */
    VT_WA_MSG_BUTTON,       /* quick-reply button of a template */
    VT_WA_MSG_IMAGE,
    VT_WA_MSG_DOCUMENT,
    VT_WA_MSG_AUDIO,
    VT_WA_MSG_VIDEO,
    VT_WA_MSG_STICKER,
    VT_WA_MSG_LOCATION,
    VT_WA_MSG_REACTION,
    VT_WA_MSG_UNKNOWN, /* "unknown", "unsupported" or a type we do not handle */
};

/* Longest strings kept; longer input is cut at a UTF-8 boundary. */
#define VT_WA_ID_MAX 160
#define VT_WA_TEXT_MAX 4096

struct vt_wa_event {
    enum vt_wa_event_kind kind;
    char id[VT_WA_ID_MAX];    /* wamid of the message or of the message a status is about */
    char phone_number_id[64]; /* metadata.phone_number_id of the business number */
    char from[32];            /* message: sender wa_id (digits) */
    int64_t timestamp;        /* Unix seconds, 0 when absent */
    char profile_name[128];   /* message: contacts[].profile.name of the sender */
    /* Messages. */
    enum vt_wa_msg_type type;
    char type_name[32];          /* the type string as Meta sent it */
    char text[VT_WA_TEXT_MAX];   /* text body, caption, button text, reaction emoji,
                                    location name/address */
    char reply_id[256];          /* button_reply/list_reply id, button payload */
    char media_id[VT_WA_ID_MAX]; /* image/document/audio/video/sticker */
    char mime_type[128];
    char filename[256];         /* document */
    double latitude, longitude; /* location */
    bool has_location;
    char context_id[VT_WA_ID_MAX]; /* the message replied to or reacted to */
    /* Statuses. */
    char status[16]; /* sent, delivered, read, failed (others kept as given) */
    char recipient[32];
    int error_code; /* errors[0].code, 0 when none */
    char error_title[200];
};

struct vt_wa_batch {
    struct vt_wa_event *ev; /* owned */
    size_t n;
};

/* Parses a webhook body. Returns 0 and fills out (possibly with no event:
 * Meta also notifies changes we do not use), or VT_EINVAL with a short English
 * reason in why, or VT_ENOMEM. At most max_events events are kept; more gives
 * VT_ETOOBIG. Caller frees out with vt_wa_batch_cleanup. */
int vt_wa_parse(const char *body, size_t len, size_t max_events, struct vt_wa_batch *out, char *why,
                size_t whylen);
void vt_wa_batch_cleanup(struct vt_wa_batch *b); /* NULL ok */

/* Checks an X-Hub-Signature-256 header value ("sha256=" + 64 hex digits)
 * against HMAC-SHA256 of body under secret, in constant time. True only for
 * a well-formed header that matches. */
bool vt_wa_signature_ok(const char *header, const char *secret, const void *body, size_t len);

/* Writes "sha256=<hex>" for body under secret into out (72 bytes at least). */
void vt_wa_sign(const char *secret, const void *body, size_t len, char out[72]);

/* The name Meta uses for a message type ("text", "interactive", ...). */
const char *vt_wa_msg_type_name(enum vt_wa_msg_type t);

#endif
