/* media.h - the WhatsApp media worker: fetches the photos, documents, audio,
 * video and stickers citizens send, through the Graph API media endpoint,
 * and stores them like web attachments (same size limit, same allowed types
 * judged by content, same content-addressed durable files).
 *
 * Owns: its thread, its curl handle (struct vt_wa_graph) and its sniffer.
 * Must not: run on the loop thread or write the database itself; results go
 * through store jobs (vt_store_run).
 *
 * A media row's states (wa_media.status):
 *
 *   pending --fetched, allowed type, within size--> stored --item filed--> attached
 *   pending --too large | type not allowed--> rejected   (the citizen is told)
 *   pending --Meta refuses the id, or attempts used up--> failed
 *   pending --network, 5xx, 429--> pending (later, with backoff)
 */
#ifndef VT_WA_MEDIA_H
#define VT_WA_MEDIA_H

#include "core/config.h"
#include "store/store.h"

struct vt_wa_media;

/* Starts the worker. NULL on failure. */
struct vt_wa_media *vt_wa_media_start(const struct vt_config *cfg, struct vt_store *store);
/* Any thread: new media rows were committed. */
void vt_wa_media_wake(struct vt_wa_media *m);
/* Stops the worker (finishing the file in hand) and frees; NULL ok. */
void vt_wa_media_stop(struct vt_wa_media *m);

#endif
