/* test_schedule.c - the claims of periodic work (domain/schedule.h) on a real
 * store: the first run claims; on a shared store another instance is refused
 * within the period and granted once a period passed without a run; the
 * instance that ran last keeps its rhythm; a store that is not shared
 * (SQLite's one instance) always claims. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "domain/schedule.h"
#include "store/db.h"
#include "store/store.h"
#include "vt_test.h"

static struct vt_store *store;

struct claim {
    const char *name, *instance;
    int64_t period_ms;
    bool shared;
    int got;
    char run_by[64];
};

static int claim_run(struct vt_store_tx *tx, void *ctx)
{
    struct claim *c = ctx;
    c->got = vt_schedule_claim(tx, c->name, c->period_ms, c->instance, c->shared);
    struct vt_db_stmt *st =
        vt_db_prepare(vt_store_tx_db(tx), "SELECT run_by FROM scheduled_runs WHERE name = ?1");
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, c->name);
    if (vt_db_step(st) == VT_DB_ROW)
        vt_db_col_copy(st, 0, c->run_by, sizeof(c->run_by));
    vt_db_reset(st);
    return c->got < 0 ? c->got : 0;
}

/* The claim's answer, and who the row names after it. */
static int claim(const char *name, const char *instance, int64_t period_ms, bool shared,
                 char *run_by)
{
    struct claim c = {name, instance, period_ms, shared, -100, ""};
    int rc = vt_store_run(store, claim_run, &c);
    if (run_by)
        snprintf(run_by, 64, "%s", c.run_by);
    return rc ? rc : c.got;
}

int main(void)
{
    char dir[] = "/tmp/vt-test-schedule-XXXXXX", err[300], by[64];
    if (sodium_init() < 0 || !mkdtemp(dir))
        return 1;
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);
    struct vt_store_options opt = {{.data_dir = dir}, 64, {0}, NULL};
    ASSERT_EQ(vt_store_open(&opt, &store, err, sizeof(err)), 0);

    const int64_t hour = 3600000;
    /* The first run of a job claims it. */
    ASSERT_EQ(claim("barrido", "host-a:/a", hour, true, by), 1);
    ASSERT_STREQ(by, "host-a:/a");
    /* Another instance within the period: refused, the row unchanged. */
    ASSERT_EQ(claim("barrido", "host-b:/b", hour, true, by), 0);
    ASSERT_STREQ(by, "host-a:/a");
    /* The one that ran last keeps its own rhythm. */
    ASSERT_EQ(claim("barrido", "host-a:/a", hour, true, by), 1);
    /* Jobs are independent. */
    ASSERT_EQ(claim("otro", "host-b:/b", hour, true, by), 1);
    /* A period passed without a run (a period of 0: any earlier run is
     * older): another instance takes it over, and then keeps it. */
    ASSERT_EQ(claim("barrido", "host-b:/b", 0, true, by), 1);
    ASSERT_STREQ(by, "host-b:/b");
    ASSERT_EQ(claim("barrido", "host-a:/a", hour, true, by), 0);
    ASSERT_EQ(claim("barrido", "host-b:/b", hour, true, by), 1);
    /* A store that is not shared has one instance: it always claims (even
     * one whose name changed, its data directory moved). */
    ASSERT_EQ(claim("barrido", "host-a:/a", hour, false, by), 1);
    ASSERT_STREQ(by, "host-a:/a");

    vt_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    VT_TEST_END();
}
