/* graph.h - Meta's Graph API for the WhatsApp Cloud API, over libcurl: the
 * outbox transport (text, interactive, template, mark-as-read, documents)
 * and the media download.
 *
 * A row whose body is {"type":"document","document":{"path","filename",
 * "content_type"}} (a staff answer's file, see wa_notify) is sent in two
 * requests: POST /{phone_number_id}/media (multipart/form-data:
 * messaging_product, type, file), answered {"id"}, then a document message
 * with that id. The id is kept only for that attempt; a retry uploads again.
 * A document is free-form: outside the window it is VT_SEND_NO_WINDOW (never
 * the kind's template, which cannot carry a file).
 *
 * Owns: one curl handle per struct vt_wa_graph (each thread that talks to
 * Meta has its own), the mapping of Graph errors onto outbox outcomes and
 * the 24-hour customer-service window rule.
 * Must not: run on the libwebsockets loop thread (every call blocks).
 *
 * Error mapping (send):
 *   2xx with messages[0].id              -> VT_SEND_OK
 *   timeout, connection failure, 5xx, 429 -> VT_SEND_RETRY (Retry-After kept)
 *   131047 (window closed)               -> the configured template, else VT_SEND_NO_WINDOW
 *   131026 (undeliverable)               -> VT_SEND_NO_WINDOW (email copy if possible)
 *   130429, 131048, 131056, 4, 80007 (throttling) -> VT_SEND_RETRY
 *   other 4xx                            -> VT_SEND_REFUSED (dead letter)
 * The upload of a document maps the same way; a document file missing from
 * the data directory, or over Meta's 100 MB, is VT_SEND_REFUSED at once.
 */
#ifndef VT_WA_GRAPH_H
#define VT_WA_GRAPH_H
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "outbox/outbox.h"

struct vt_wa_graph;

/* NULL when curl cannot be set up. */
struct vt_wa_graph *vt_wa_graph_new(const struct vt_config *cfg);
void vt_wa_graph_free(struct vt_wa_graph *g); /* NULL ok */
/* Any thread: makes the request in flight, and every later one, give up at
 * once (the daemon is stopping; the message stays queued). */
void vt_wa_graph_interrupt(void *g);

/* The outbox transport's send (ctx is a struct vt_wa_graph). */
void vt_wa_graph_send(void *ctx, struct vt_store_reader *reader, const struct vt_outbox_msg *m,
                      struct vt_send_result *res);

/* Downloads media_id: its metadata, then its bytes (at most max bytes).
 * Returns 0 with *data (caller frees), *len and the provider's mime type;
 * VT_ETOOBIG when larger than max; VT_EINVAL when Meta refuses the id (do not
 * retry); VT_EIO for what may pass (retry). why gets an English reason. */
int vt_wa_graph_media(struct vt_wa_graph *g, const char *media_id, size_t max, unsigned char **data,
                      size_t *len, char *mime, size_t mimelen, char *why, size_t whylen);

/* True when a free-form message to a citizen whose last message was at
 * last_inbound_ms may be sent at now_ms. */
int vt_wa_window_open(int64_t last_inbound_ms, int64_t now_ms);

#endif
