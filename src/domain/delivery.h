/* delivery.h - how an answer reaches the person who filed an item, decided
 * before it is sent and told truthfully after.
 *
 * Owns: the rules of which ways of delivering an answer the requester's data
 * and the channels running here allow (the "plan"), their Spanish
 * explanations for staff, the JSON of GET /api/v1/items/{radicado}/delivery,
 * and the printable letter of an answer delivered by post or by hand.
 * Must not: write (casework.c records the answer and its delivery), or put
 * an address or a name into an explanation (the JSON adds them apart, only
 * for those who may see the requester's identity).
 *
 * The ways (vt_delivery_names):
 *   email, whatsapp  queued in the outbox to the address the requester gave,
 *                    when that channel runs here and takes the address;
 *   carta            a printed letter (GET .../responses/{id}/carta), sent by
 *                    post to the address given or handed over in person;
 *                    pending until staff mark it delivered (deliver_letter);
 *   consulta         nothing is sent: the requester reads the answer on the
 *                    status page with their radicado and tracking code; for a
 *                    named requester who asked for that ("web") or gave no
 *                    address at all;
 *   publicacion      CPACA art. 69: shown on /respuestas and the status page;
 *                    only for an anonymous requester. Never for anyone who
 *                    gave their name.
 * The default is the way the requester asked for when it is available;
 * else publicacion for an anonymous requester and carta for anyone who gave
 * their name (a letter is always possible for them: by post, or handed over
 * when they come). Staff see the default and its reason before sending, may
 * choose any available way, and are told afterwards what actually happened.
 *
 * Threads: vt_delivery_plan is pure apart from the channels' can_notify;
 * vt_delivery_get and vt_delivery_letter run on the loop thread with its
 * reader.
 */
#ifndef VT_DELIVERY_H
#define VT_DELIVERY_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "domain/staff.h"
#include "core/buf.h"
#include "store/store.h"
#include "domain/domain.h"


enum vt_delivery {
    VT_DELIVERY_EMAIL,
    VT_DELIVERY_WHATSAPP,
    VT_DELIVERY_CARTA,
    VT_DELIVERY_CONSULTA,
    VT_DELIVERY_PUBLICACION,
    VT_DELIVERY_N
};

/* NULL-terminated, in enum order: email, whatsapp, carta, consulta, publicacion. */
extern const char *const vt_delivery_names[];

/* What the plan depends on; "" (never NULL) for what the requester did not give. */
struct vt_delivery_facts {
    const char *person_type;   /* natural, juridica, nna, anonimo */
    const char *reply_channel; /* email, whatsapp, postal, web ("" counts as web) */
    const char *email, *phone, *address;
};

struct vt_delivery_option {
    const char *name;      /* vt_delivery_names entry */
    bool available;        /* the respond action accepts it */
    bool requested;        /* the way the requester asked for */
    const char *recipient; /* the address it uses (points into the facts), or NULL */
    char why[400];         /* Spanish, no personal data: how it reaches them, or why not */
};

struct vt_delivery_plan {
    struct vt_delivery_option opt[VT_DELIVERY_N];
    int requested; /* index of the requested way */
    int dflt;      /* index of the default way (-1, staff must choose: not reached today) */
};

/* Whether channel (email, whatsapp) would take recipient now: 0, VT_EINVAL,
 * VT_ENOTFOUND (the channels' can_notify). */
typedef int (*vt_delivery_probe)(void *ctx, const char *channel, const char *recipient);

/* Fills plan from f; probe asks the channels (vt_delivery_probe_channels in
 * the daemon, a fake in unit tests). */
void vt_delivery_plan(const struct vt_delivery_facts *f, vt_delivery_probe probe, void *ctx,
                      struct vt_delivery_plan *plan);
/* The probe of the channels that can send; ctx is the struct vt_domain. */
int vt_delivery_probe_domain(void *dom, const char *channel, const char *recipient);

/* The option called name, or NULL. */
const struct vt_delivery_option *vt_delivery_find(const struct vt_delivery_plan *plan,
                                                  const char *name);

/* Spanish label of a way ("Correo electrónico", "Carta impresa", ...); never NULL. */
const char *vt_delivery_label(const char *name);

/* GET /api/v1/items/{radicado}/delivery as JSON (docs/staff-api.md), *out
 * owned by the caller. 0, VT_ENOTFOUND (unknown or out of who's scope), or
 * VT_ESTORE. Addresses only when who may see the requester's identity. */
int vt_delivery_get(const struct vt_domain *dom, struct vt_store_reader *r, const struct vt_staff *who,
                    const char *radicado, cJSON **out);

/* The printable letter of answer response_id of item radicado as an HTML
 * page into b. 0; VT_ENOTFOUND (unknown, out of scope, or not an answer of
 * that item); VT_EPERM (the requester's identity is reserved from who); or
 * VT_ESTORE. */
int vt_delivery_letter(const struct vt_domain *dom, struct vt_store_reader *r, const struct vt_staff *who,
                       const char *radicado, int64_t response_id, struct vt_buf *b);

#endif
