/* item.h - what an item is: a PQRSD, a hearing question or a survey response,
 * with its requester kept apart, its attachments and the values given to it
 * when it is committed (radicado, receipt time, due date).
 *
 * Owns: struct vt_item and the closed vocabularies (kinds, PQRSD types,
 * petition classes, person types, ID types, reply channels) with their
 * Spanish labels.
 * Must not: parse requests (intake.c does) or touch the store.
 *
 * Lifecycle of an item's status: intake creates it,
 *
 *     (intake) --vt_store_submit--> radicado
 *
 * and staff move it on from there (the diagram is in casework.h).
 *
 * Invariants:
 *  1. Every pqrsd and hearing_question has a radicado, unique and gap-free per
 *     calendar year, given in commit order by the store's writer thread.
 *  2. received_at, filed_date, due_date and radicado are set only by the store
 *     at commit time, through the stamp hook (see store.h).
 */
#ifndef VT_ITEM_H
#define VT_ITEM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* A NULL-terminated list of accepted spellings for a field. */
extern const char *const vt_item_kinds[];          /* pqrsd, hearing_question, survey_response */
extern const char *const vt_item_types[];          /* peticion ... felicitacion */
extern const char *const vt_item_classes[];        /* general, documentos, consulta */
extern const char *const vt_item_person_types[];   /* natural, juridica, nna, anonimo */
extern const char *const vt_item_id_types[];       /* CC, CE, TI, RC, PA, NIT, PPT, PEP */
extern const char *const vt_item_reply_channels[]; /* email, whatsapp, postal, web */

/* The entry of list equal to s (the static string), or NULL. */
const char *vt_item_enum(const char *const *list, const char *s);

/* Spanish label of a type, class, person type or status for pages; never NULL. */
const char *vt_item_label(const char *code);

struct vt_attachment {
    char sha256[65];
    char content_type[128];
    char *filename;            /* owned; the citizen's name for it, sanitized */
    const unsigned char *data; /* borrowed from the request until the commit */
    size_t size;
};

struct vt_requester {
    const char *person_type; /* static, from vt_item_person_types */
    char *name, *id_type, *id_number, *email, *phone, *address, *municipality; /* owned or NULL */
    bool data_consent;
    bool reserve_requested; /* asked that only those who must see their identity see it */
    char *characterization; /* owned JSON object text or NULL */
};

struct vt_item {
    /* Filled by intake. Static strings point into the vocabularies above. */
    const char *kind;
    const char *type;           /* NULL for survey responses */
    const char *petition_class; /* NULL unless type is peticion */
    const char *channel;        /* web, email, whatsapp, staff */
    const char *reply_channel;
    char *subject, *body; /* owned */
    struct vt_requester req;
    struct vt_attachment *att; /* owned array */
    size_t n_att;
    char group[64];
    char classified_by[160];
    int term_days;     /* -1 when no term applies (felicitacion, survey response) */
    bool needs_triage; /* the type was guessed (an email declares none): staff confirm it */
    /* The learned classifier's decision (domain/classifier.h), or ""/NULL:
     * the dependencia the item is filed routed to, what the model suggested
     * (items.classifier, packed by vt_classifier_pack) and the payload of the routing's audit
     * event. */
    char dependencia[101];
    char *classifier;       /* owned */
    char *route_payload;    /* owned; set with dependencia */
    char tracking_code[16]; /* shown once to the citizen, never stored */
    unsigned char tracking_hash[32];

    /* Set by the store at commit time. */
    int64_t id;
    int64_t received_at; /* Unix ms */
    int year;
    int64_t seq;
    char radicado[48];
    char filed_date[11];
    char due_date[11]; /* "" when no term applies */
    const char *status;
};

/* Allocates an empty item (term_days -1). Returns NULL when out of memory. */
struct vt_item *vt_item_new(void);
/* Frees the item and what it owns; NULL is fine. */
void vt_item_free(struct vt_item *it);

/* The legal term in business days for kind/type/class under cfg, or -1. */
int vt_item_term_days(const struct vt_config *cfg, const char *kind, const char *type,
                      const char *petition_class);

/* Fills filed_date, due_date and (when seq > 0) radicado from received_at,
 * year and seq under cfg: the store's stamp hook at commit time. */
void vt_item_stamp(const struct vt_config *cfg, struct vt_item *it);

/* Draws a new random tracking code (libsodium) into it and its hash. */
void vt_item_new_tracking_code(struct vt_item *it);
/* BLAKE2b-256 of a tracking code as typed by a citizen (case and spaces ignored). */
void vt_item_tracking_hash(const char *code, unsigned char out[32]);

/* A change to a filed item (status, routing), told to the live feed after
 * its commit (store.h's changed hook, and the relay between instances). */
struct vt_item_change {
    int64_t item_id;
    char old_status[24], new_status[24];
    char old_dependencia[101]; /* "" for not routed */
    char actor[72];            /* a username, or "" for the system or a citizen */
    char action[32];           /* the staff action, or the event ("desistido", "completada") */
};

#endif
