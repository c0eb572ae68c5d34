/* survey_question.h - a survey question as a WhatsApp message, and a
 * citizen's reply as its answer; pure, so the unit tests drive it
 * (tests/unit/channels/whatsapp/test_wa_survey.c).
 *
 * Owns: the reply ids survey.q.QUESTION.VALUE and survey.q.QUESTION.omitir
 * (channels/whatsapp/README.md lists them), how each question type is shown
 * within WhatsApp's limits, and what may be typed instead of tapped.
 * Must not: touch the store or the conversation (flow_survey.c does).
 */
#ifndef VT_WA_SURVEY_QUESTION_H
#define VT_WA_SURVEY_QUESTION_H
#include <cjson/cJSON.h>
#include <stddef.h>

/* The "questions" array of the survey definition def (borrowed; NULL when
 * it has none). */
const cJSON *vt_wa__survey_questions(const cJSON *def);

/* Question i of the survey definition def as a message body (JSON, caller
 * frees; NULL: no memory or no such question): reply buttons, a list of at
 * most 10 rows, or text when neither fits. step 0, or for an NPS question the
 * half picked first (1: 0-5, 2: 6-10). lead (NULL ok) opens the text. */
char *vt_wa__survey_question(const cJSON *def, int i, int step, const char *lead);

enum vt_wa_survey_reading {
    VT_WA_SURVEY_BAD,   /* why says what is wrong, in Spanish: ask again */
    VT_WA_SURVEY_VALUE, /* *value: the answer as the web form sends it (caller frees) */
    VT_WA_SURVEY_SKIP,  /* "omitir" on an optional question */
    VT_WA_SURVEY_STEP,  /* an NPS half picked: *step is 1 or 2, ask again */
};
/* Reads a reply (reply_id, "" for none) or a typed text (NULL when the
 * message was not text) as the answer to question q at step. The value is a
 * string ("4", "si", "2" as an option index from 0, free text) or, for a
 * multiple-choice question, an array of index strings. Pure. */
enum vt_wa_survey_reading vt_wa__survey_read(const cJSON *q, int step, const char *reply_id,
                                             const char *text, cJSON **value, int *next_step,
                                             char *why, size_t whylen);

#endif
