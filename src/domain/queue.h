/* queue.h - what staff read: the filtered, sorted, paginated queue of items
 * and one item's whole record (requester, attachments, timeline from the
 * audit events, answers, outbound messages with their delivery status).
 *
 * Owns: the read-side SQL of the staff API, including the full-text search
 * on items_fts (its dialect is store/db.h's: vt_db_fts_query and
 * vt_db_fts_ids_sql), and the scope rule applied to every row it returns.
 * Must not: write (casework.c does), or show a reserved requester (an item
 * that ever was a denuncia, or whose requester asked for reserve) to a role
 * not in staff.denuncia_identity_roles, in any field it returns. The queue's
 * free text searches subject, body and radicado only, never the requester.
 *
 * Threads: the loop thread, with its reader.
 */
#ifndef VT_QUEUE_H
#define VT_QUEUE_H
#include <cjson/cJSON.h>
#include <stdbool.h>

#include "domain/staff.h"
#include "core/config.h"
#include "store/store.h"

struct vt_queue_filter {
    const char *kind; /* NULL: pqrsd */
    const char *status, *type, *petition_class, *channel, *group, *dependencia, *assignee;
    const char *q; /* free text */
    bool overdue;
    int due_within; /* business days; -1: no filter */
    int page, per_page;
};

/* The queue page as JSON (docs/staff-api.md), *out owned by the caller.
 * 0, VT_EINVAL (q is not UTF-8 or has no word: vt_db_fts_query), or
 * VT_ESTORE. */
int vt_queue_list(struct vt_store_reader *r, const struct vt_config *cfg,
                  const struct vt_staff *who, const struct vt_queue_filter *f, cJSON **out);

/* One item as JSON, or VT_ENOTFOUND when it does not exist or is out of
 * who's scope (the same answer, so scope does not leak existence). */
int vt_queue_item(struct vt_store_reader *r, const struct vt_config *cfg,
                  const struct vt_staff *who, const char *radicado, cJSON **out);

/* Whether sha256 is a file of item radicado (a citizen's or an answer's) that
 * who may read; fills its type and name. 0 or VT_ENOTFOUND. */
int vt_queue_attachment(struct vt_store_reader *r, const struct vt_config *cfg,
                        const struct vt_staff *who, const char *radicado, const char *sha256,
                        char *content_type, size_t tlen, char *filename, size_t flen);

/* A queue row of one item by id, for the live feed; NULL when gone. */
cJSON *vt_queue_row(struct vt_store_reader *r, const struct vt_config *cfg, int64_t item_id,
                    char *dependencia, size_t dlen);

/* Ids of open items (term running) due in (after, upto], at most cap. */
size_t vt_queue_due_between(struct vt_store_reader *r, const char *after, const char *upto,
                            int64_t *ids, size_t cap);


#endif
