/* test_dashboard.c - unit tests for the pure part of src/domain/dashboard.c: the
 * response time in business days (dashboard.h, definition 5), on hand-counted
 * spans around weekends, moved holidays and a year's end. The figures read
 * from a store are checked by tests/integration/test_20_dashboard.py.
 */
#include "core/calendar.h"
#include "domain/dashboard.h"
#include "vt_test.h"

static vt_date_t D(int y, int m, int d)
{
    return (vt_date_t){y, m, d};
}

int main(void)
{
    /* The same day, or an answer dated before the filing day: 0. */
    ASSERT_EQ(vt_dashboard_business_days(NULL, D(2025, 3, 20), D(2025, 3, 20)), 0);
    ASSERT_EQ(vt_dashboard_business_days(NULL, D(2025, 3, 20), D(2025, 3, 18)), 0);
    /* Thu 20 Mar 2025 -> Tue 25: Fri 21 counts; Sat, Sun and Mon 24 (San José,
     * moved) do not; Tue 25 counts. */
    ASSERT_EQ(vt_dashboard_business_days(NULL, D(2025, 3, 20), D(2025, 3, 25)), 2);
    /* Fri 27 Jun 2025 -> Tue 1 Jul: Mon 30 holds two holidays; only Tue 1. */
    ASSERT_EQ(vt_dashboard_business_days(NULL, D(2025, 6, 27), D(2025, 7, 1)), 1);
    /* Wed 31 Dec 2025 -> Fri 2 Jan 2026: 1 Jan is a holiday. */
    ASSERT_EQ(vt_dashboard_business_days(NULL, D(2025, 12, 31), D(2026, 1, 2)), 1);
    /* Fifteen business days after a filing day end on its due date. */
    vt_date_t filed = D(2025, 4, 10);
    vt_date_t due = vt_calendar_add_business_days(NULL, filed, 15);
    ASSERT_EQ(vt_dashboard_business_days(NULL, filed, due), 15);
    /* An extra non-working day of the entity's calendar does not count. */
    struct vt_calendar cal;
    vt_calendar_init(&cal);
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D(2025, 3, 25)), 0);
    ASSERT_EQ(vt_dashboard_business_days(&cal, D(2025, 3, 20), D(2025, 3, 25)), 1);
    vt_calendar_cleanup(&cal);
    /* Nonsense dates end in bounded time. */
    ASSERT_TRUE(vt_dashboard_business_days(NULL, D(1900, 1, 1), D(9999, 12, 31)) > 0);
    VT_TEST_END();
}
