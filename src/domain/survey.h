/* survey.h - satisfaction and perception surveys: definitions (versioned),
 * invitations with single-use links, answers (each one an item of kind
 * survey_response) and the follow-up of detractors.
 *
 * Owns: the SQL of surveys, survey_versions, survey_invitations and
 * survey_answers (migrations/0007_surveys.sql), the rules of a valid
 * definition and of a valid set of answers, and the satisfaction figures
 * (CSAT, NPS, response rate; survey_figures.c). A detractor's follow-up task
 * is followups.h's.
 * Must not: render pages (channels/web does), speak HTTP (api/survey_api.c
 * does) or speak to a provider (an invitation goes out through a channel's
 * notify()).
 *
 * An invitation's life:
 *
 *   (item closed) --vt_survey_invite--> created (notice queued after the delay)
 *   created --vt_survey_answer (before expires_at)--> used (an answer item)
 *   created --expires_at passes--> expired (the link answers 410)
 *   used --the link again--> refused (409: answered already)
 *
 * Question types: rating (1-5, CSAT), nps (0-10), yes_no, single, multiple,
 * text. CSAT is the share of ratings 4-5; NPS the share of 9-10 minus the
 * share of 0-6 (the detractor bounds are configurable: surveys.*).
 *
 * Threads: _invite, _answer_run and _save_run run on the writer thread in a
 * job; the validators are pure; _find, _list, _versions and _figures on the
 * reader's thread.
 */
#ifndef VT_SURVEY_H
#define VT_SURVEY_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "store/store.h"

struct vt_domain;

/* Checks a definition {"title","intro","questions":[...]}: 0, or VT_EINVAL
 * with a Spanish why naming the question. Pure. */
int vt_survey_check_definition(const cJSON *def, char *why, size_t whylen);

/* Reads one answer value per question through get(ctx, name, i) (the i-th
 * value of a form field "q_<id>", NULL past the last) into a normalized JSON
 * object *answers (caller frees). csat/nps get the first rating/NPS answer or
 * -1. Returns 0, or VT_EINVAL with the question id in field and a Spanish
 * why. Pure. */
int vt_survey_read_answers(const cJSON *def, const char *(*get)(void *ctx, const char *name, int i),
                           void *ctx, cJSON **answers, int *csat, int *nps, char *field,
                           size_t flen, char *why, size_t whylen);

/* Whether the answers make a detractor under cfg. */
bool vt_survey_is_detractor(const struct vt_config *cfg, int csat, int nps);

/* A survey as an answer page needs it. */
struct vt_survey_form {
    int64_t survey_id, invitation_id; /* invitation 0: a public survey */
    int version;
    char code[64], purpose[16];
    cJSON *definition; /* owned; vt_survey_form_cleanup frees */
    int64_t expires_at, used_at;
    int64_t source_item_id;
    char channel[16];
};
void vt_survey_form_cleanup(struct vt_survey_form *f);

/* Finds the survey behind an invitation token (64 hex) or, with token NULL,
 * the active public or event survey code. 0, or VT_ENOTFOUND. Reader's thread. */
int vt_survey_find(struct vt_store_reader *r, const char *token, const char *code,
                   struct vt_survey_form *out);

/* Writer thread: the newest invitation sent about item_id, used, expired or
 * not (vt_survey_find_invitation tells), for a channel that keeps the
 * invitation's id rather than its token. 0, VT_ENOTFOUND or VT_ESTORE. */
int vt_survey_invitation_of_item(struct vt_store_tx *tx, int64_t item_id, int64_t *invitation_id);
/* Writer thread: the survey behind an invitation id, as vt_survey_find finds
 * it behind a token. 0, VT_ENOTFOUND or VT_ESTORE. */
int vt_survey_find_invitation(struct vt_store_tx *tx, int64_t invitation_id,
                              struct vt_survey_form *out);

/* Writer thread, when a PQRSD is closed: invites its requester to the
 * surveys.after_item survey on channel (email or whatsapp) through that
 * channel's notify(), after the configured delay, once per item. Does
 * nothing (0) when there is no such survey or channel. 0 or VT_E*. */
int vt_survey_invite(const struct vt_domain *dom, struct vt_store_tx *tx, int64_t item_id,
                     const char *radicado, const char *channel, const char *recipient,
                     const char *group, const char *dependencia);

/* An answer, as the web page (or another channel) collected it. */
struct vt_survey_answer {
    const struct vt_config *cfg;
    const char *token;     /* or NULL and code for a public survey */
    int64_t invitation_id; /* or, with token NULL: the invitation by id (a channel such as
                              WhatsApp that never holds the token); single use and expiry as
                              for a token */
    const char *code;
    const char *channel; /* web, whatsapp, email */
    const char *declared_group;
    cJSON *answers; /* borrowed, normalized (vt_survey_read_answers) */
    int csat, nps;
    /* Filled by the job. */
    int outcome; /* 0 saved, VT_EEXIST answered already, VT_ERANGE expired, VT_ENOTFOUND */
    int64_t item_id;
    bool detractor;
    bool followup;        /* a follow-up task was opened (a detractor about a PQRSD of theirs) */
    struct vt_item *item; /* the answer item: the store's committed hook reads it after the
                             commit, so the caller frees it (vt_item_free) once done */
};
/* The job's run callback (ctx is a struct vt_survey_answer). */
int vt_survey_answer_run(struct vt_store_tx *tx, void *ctx);

/* Every survey with its current version, by code: a JSON array [{"code",
 * "purpose","active","version","definition","answers"}] (definition parsed,
 * answers the number given to any version); caller frees; NULL on a store
 * error. */
cJSON *vt_survey_list(struct vt_store_reader *r);
/* A survey with every version, oldest first: *out = {"code","purpose",
 * "active","current_version","versions":[{"version","definition",
 * "created_at"}]}, caller frees. 0, VT_ENOTFOUND or VT_ESTORE. */
int vt_survey_versions(struct vt_store_reader *r, const char *code, cJSON **out);

/* A save job. Without set_active: creates the survey code (version 1) or,
 * when it exists with the same purpose, adds a version and makes it current
 * (the answers given keep theirs). With set_active: turns the survey on or
 * off. The caller fills the inputs (definition checked with
 * vt_survey_check_definition, owned by the caller until done). */
struct vt_survey_save {
    char code[64], purpose[16];
    const char *definition; /* JSON text */
    bool set_active, active;
    char actor[80]; /* "staff:<username>" */
    /* Filled by the job. */
    int version; /* the version saved, or the current one for set_active */
    int outcome; /* 0, VT_ENOTFOUND (set_active on no survey), VT_EINVAL (the code exists
                    with another purpose) */
};
int vt_survey_save_run(struct vt_store_tx *tx, void *ctx);

/* Satisfaction figures for answers received in [from_ms, to_ms), grouped by
 * by (survey, channel, group, dependencia, month): JSON {"by", "rows":
 * [{"key", "answers", "csat", "csat_n", "nps", "nps_n", "promoters",
 * "detractors", and by survey, group, dependencia or month also
 * "invitations", "invitations_answered", "response_rate"}], "total":
 * {...}, "invitations", "invitations_answered", "response_rate"}
 * (invitations sent in the range and how many were used; by channel there
 * is no per-row rate: an email invitation is answered on the web page);
 * *out owned by the caller.
 * Percentages have one decimal. 0, VT_EINVAL
 * (unknown by) or VT_ESTORE. */
int vt_survey_figures(struct vt_store_reader *r, const struct vt_config *cfg, int64_t from_ms,
                      int64_t to_ms, const char *by, cJSON **out);

#endif
