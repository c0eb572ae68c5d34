/* test_wa_db.c - the WhatsApp channel's SQL on a real store: a staff request
 * to complete an item takes a conversation resting at the menu back to idle,
 * its draft dropped but for a pending survey invitation's mark; a flow in
 * progress is left alone; the window's time only grows. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channels/whatsapp/db.h"
#include "core/error.h"
#include "store/store.h"
#include "vt_test.h"

static struct vt_store *store;

struct put {
    const char *wa_id, *state, *draft;
    int64_t at;
};

static int put_run(struct vt_store_tx *tx, void *ctx)
{
    const struct put *p = ctx;
    return vt_wa_db_conv_put(tx, p->wa_id, p->state, p->draft, p->at);
}

static void put(const char *wa_id, const char *state, const char *draft, int64_t at)
{
    struct put p = {wa_id, state, draft, at};
    ASSERT_EQ(vt_store_run(store, put_run, &p), 0);
}

static int expect_run(struct vt_store_tx *tx, void *ctx)
{
    return vt_wa_db_conv_expect_reply(tx, ctx);
}

struct get {
    const char *wa_id;
    struct vt_wa_conv c;
};

static int get_run(struct vt_store_tx *tx, void *ctx)
{
    struct get *g = ctx;
    return vt_wa_db_conv_get(tx, g->wa_id, &g->c);
}

/* Checks wa_id's conversation: its state and draft text. */
static void check(const char *wa_id, const char *state, const char *draft, int64_t at)
{
    struct get g = {wa_id, {0}};
    ASSERT_EQ(vt_store_run(store, get_run, &g), 0);
    ASSERT_TRUE(g.c.exists);
    ASSERT_STREQ(g.c.state, state);
    ASSERT_STREQ(g.c.draft, draft);
    ASSERT_EQ(g.c.last_inbound_at, at);
    vt_wa_conv_cleanup(&g.c);
}

int main(void)
{
    char dir[] = "/tmp/vt-test-wa-db-XXXXXX", err[300];
    if (sodium_init() < 0 || !mkdtemp(dir))
        return 1;
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);
    struct vt_store_options opt = {{.data_dir = dir}, 64, {0}, NULL};
    ASSERT_EQ(vt_store_open(&opt, &store, err, sizeof(err)), 0);

    /* Resting at the menu: back to idle, the survey mark kept whole. */
    put("573001", "menu",
        "{\"pending_item\":\"2026-000001\",\"survey\":{\"item\":7,\"due\":1700000000000}}", 1000);
    ASSERT_EQ(vt_store_run(store, expect_run, "573001"), 0);
    check("573001", "idle", "{\"survey\":{\"item\":7,\"due\":1700000000000}}", 1000);

    /* Offered to add a message to an item, without a survey: an empty draft. */
    put("573002", "offer", "{\"pending_item\":\"2026-000002\"}", 1000);
    ASSERT_EQ(vt_store_run(store, expect_run, "573002"), 0);
    check("573002", "idle", "{}", 1000);

    /* A draft that is not JSON, or whose mark is no object, is dropped. */
    put("573003", "status", "not json", 1000);
    ASSERT_EQ(vt_store_run(store, expect_run, "573003"), 0);
    check("573003", "idle", "{}", 1000);
    put("573004", "new", "{\"survey\":3}", 1000);
    ASSERT_EQ(vt_store_run(store, expect_run, "573004"), 0);
    check("573004", "idle", "{}", 1000);

    /* A flow in progress is left alone; an unknown number changes nothing. */
    put("573005", "pqrsd.description", "{\"type\":\"queja\"}", 1000);
    ASSERT_EQ(vt_store_run(store, expect_run, "573005"), 0);
    check("573005", "pqrsd.description", "{\"type\":\"queja\"}", 1000);
    ASSERT_EQ(vt_store_run(store, expect_run, "573999"), 0);

    /* The window's time only grows. */
    put("573005", "idle", "{}", 500);
    check("573005", "idle", "{}", 1000);
    put("573005", "idle", "{}", 2000);
    check("573005", "idle", "{}", 2000);

    vt_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    VT_TEST_END();
}
