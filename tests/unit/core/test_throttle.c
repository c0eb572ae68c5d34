/* test_throttle.c - unit tests of src/core/throttle.c: the growing delays, their
 * cap, admission while delayed, forgetting, clearing and a full table.
 *
 * Owns only the tables it makes; the clock is a plain number, so nothing here
 * waits or depends on the machine's speed.
 */
#include <stdint.h>

#include "core/throttle.h"
#include "vt_test.h"

#define S 1000 /* ms */

static void test_delays(void)
{
    struct vt_throttle *t = vt_throttle_new(64, 1 * S, 300 * S, 3600 * S);
    ASSERT_TRUE(t != NULL);
    ASSERT_EQ(vt_throttle_delay(t, 0, 5), 0);
    ASSERT_EQ(vt_throttle_delay(t, 4, 5), 0);
    ASSERT_EQ(vt_throttle_delay(t, 5, 5), 1 * S);
    ASSERT_EQ(vt_throttle_delay(t, 6, 5), 2 * S);
    ASSERT_EQ(vt_throttle_delay(t, 13, 5), 256 * S);
    ASSERT_EQ(vt_throttle_delay(t, 14, 5), 300 * S); /* capped */
    ASSERT_EQ(vt_throttle_delay(t, 1000000, 5), 300 * S);
    ASSERT_EQ(vt_throttle_delay(t, 1, 1), 1 * S);
    vt_throttle_free(t);
    /* A longer first delay doubles the same way; one past the cap is the cap. */
    t = vt_throttle_new(64, 5 * S, 60 * S, 3600 * S);
    ASSERT_EQ(vt_throttle_delay(t, 2, 3), 0);
    ASSERT_EQ(vt_throttle_delay(t, 3, 3), 5 * S);
    ASSERT_EQ(vt_throttle_delay(t, 4, 3), 10 * S);
    ASSERT_EQ(vt_throttle_delay(t, 6, 3), 40 * S);
    ASSERT_EQ(vt_throttle_delay(t, 7, 3), 60 * S);
    ASSERT_EQ(vt_throttle_delay(t, 100, 3), 60 * S);
    vt_throttle_free(t);
    t = vt_throttle_new(64, 90 * S, 60 * S, 3600 * S);
    ASSERT_EQ(vt_throttle_delay(t, 3, 3), 60 * S);
    vt_throttle_free(t);
}

static void test_take_and_fail(void)
{
    struct vt_throttle *t = vt_throttle_new(64, 1 * S, 8 * S, 3600 * S);
    uint64_t k = 42;
    int64_t now = 1000000;
    /* Three free failures. */
    for (int i = 1; i <= 3; i++) {
        ASSERT_EQ(vt_throttle_take(t, k, 3, now), 0);
        ASSERT_EQ(vt_throttle_fail(t, k, now), i);
    }
    /* The third started a 1 s delay; attempts inside it are refused, uncounted. */
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 1), 999);
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 500), 500);
    ASSERT_EQ(vt_throttle_failures(t, k, now + 500), 3);
    /* After it: admitted once, and one sent right behind it waits again. */
    now += S;
    ASSERT_EQ(vt_throttle_take(t, k, 3, now), 0);
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 10), 990);
    /* The fourth failure: 2 s, then 4, then the cap of 8. */
    ASSERT_EQ(vt_throttle_fail(t, k, now + 100), 4);
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 100), 2 * S);
    ASSERT_EQ(vt_throttle_fail(t, k, now + 100), 5);
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 100), 4 * S);
    ASSERT_EQ(vt_throttle_fail(t, k, now + 100), 6);
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 100), 8 * S);
    ASSERT_EQ(vt_throttle_fail(t, k, now + 100), 7);
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 100), 8 * S);
    /* A stricter `after` (an account under attack) delays from fewer failures. */
    uint64_t k2 = 43;
    ASSERT_EQ(vt_throttle_fail(t, k2, now), 1);
    ASSERT_EQ(vt_throttle_take(t, k2, 3, now), 0);
    ASSERT_EQ(vt_throttle_take(t, k2, 1, now), S);
    /* A clock stepped back waits one delay at most. */
    ASSERT_EQ(vt_throttle_take(t, k, 3, now - 3600 * S / 2), 8 * S);
    /* A success clears; the key 0 is a key like the others. */
    vt_throttle_clear(t, k);
    ASSERT_EQ(vt_throttle_failures(t, k, now), 0);
    ASSERT_EQ(vt_throttle_take(t, k, 3, now + 100), 0);
    ASSERT_EQ(vt_throttle_fail(t, 0, now), 1);
    ASSERT_EQ(vt_throttle_failures(t, 0, now), 1);
    vt_throttle_free(t);
}

static void test_forget(void)
{
    struct vt_throttle *t = vt_throttle_new(64, 1 * S, 8 * S, 60 * S);
    int64_t now = 5000000;
    for (int i = 0; i < 10; i++)
        vt_throttle_fail(t, 7, now);
    ASSERT_EQ(vt_throttle_failures(t, 7, now + 60 * S), 10);
    ASSERT_EQ(vt_throttle_failures(t, 7, now + 60 * S + 1), 0);
    ASSERT_EQ(vt_throttle_take(t, 7, 3, now + 60 * S + 1), 0);
    ASSERT_EQ(vt_throttle_fail(t, 7, now + 61 * S), 1);
    vt_throttle_free(t);
}

static void test_full_table(void)
{
    /* 8 slots: every key shares them; the stalest failure gives way. */
    struct vt_throttle *t = vt_throttle_new(1, 1 * S, 8 * S, 3600 * S);
    int64_t now = 9000000;
    for (uint64_t k = 1; k <= 8; k++)
        vt_throttle_fail(t, k, now + (int64_t)k);
    for (uint64_t k = 1; k <= 8; k++)
        ASSERT_EQ(vt_throttle_failures(t, k, now + 10), 1);
    vt_throttle_fail(t, 100, now + 20);
    ASSERT_EQ(vt_throttle_failures(t, 1, now + 20), 0); /* the oldest went */
    ASSERT_EQ(vt_throttle_failures(t, 2, now + 20), 1);
    ASSERT_EQ(vt_throttle_failures(t, 100, now + 20), 1);
    vt_throttle_free(t);
}

int main(void)
{
    test_delays();
    test_take_and_fail();
    test_forget();
    test_full_table();
    VT_TEST_END();
}
