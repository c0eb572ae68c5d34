/* messages.h - the WhatsApp messages Ventanilla sends: text, reply buttons
 * and lists, as the "body" of an outbox row (the Cloud API message object
 * without "to"), within the API's limits.
 *
 * Owns: those limits (at most 3 buttons with titles of at most 20 characters,
 * lists of at most 10 rows with titles of at most 24), the plain-text form
 * of a message for an email copy, and the reading of a typed list of numbers
 * (the answer to a numbered list too long for buttons or rows).
 * Must not: know the conversation; the conversation (conversation.c and its
 * flows) decides what to say.
 */
#ifndef VT_WA_MESSAGES_H
#define VT_WA_MESSAGES_H
#include <stddef.h>

#define VT_WA_MAX_BUTTONS 3
#define VT_WA_BUTTON_TITLE_MAX 20
#define VT_WA_MAX_ROWS 10
#define VT_WA_ROW_TITLE_MAX 24
#define VT_WA_ROW_DESC_MAX 72
#define VT_WA_BODY_MAX 1024
#define VT_WA_TEXT_BODY_MAX 4096

struct vt_wa_choice {
    const char *id;          /* stable reply id, documented in channels/whatsapp/README.md */
    const char *title;       /* cut to the limit on a character boundary */
    const char *description; /* list rows only; may be NULL */
};

/* Each returns the JSON text (caller frees), or NULL when out of memory. */
char *vt_wa_msg_text(const char *text);
char *vt_wa_msg_buttons(const char *text, const struct vt_wa_choice *c, size_t n);
char *vt_wa_msg_list(const char *text, const char *button, const struct vt_wa_choice *c, size_t n);
/* A mark-as-read request for the citizen's message wamid. */
char *vt_wa_msg_read(const char *wamid);

/* The text a person reads in body (text.body or interactive body and choices),
 * written into out. */
void vt_wa_msg_plain(const char *body, char *out, size_t outlen);

/* Copies s into out cutting it to at most max characters on a UTF-8 boundary. */
void vt_wa_cut(const char *s, size_t max, char *out, size_t outlen);

/* Reads the whole numbers a person typed as their picks of a numbered text
 * list ("1, 3 y 4", "2 5", "1;3.") into out, in order and without repeats
 * (at most cap): their count, 0 for none, or -1 when the text says anything
 * else or names a number outside [lo, hi]. Pure. */
int vt_wa_read_numbers(const char *s, int lo, int hi, int *out, size_t cap);

#endif
