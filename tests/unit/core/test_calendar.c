/* test_calendar.c - unit tests for src/core/calendar.c.
 *
 * Owns: the hand-checked holiday lists of 2025 and 2026, hand-counted due
 * dates (each worked out in a comment), and the date/time text round trips.
 * Must not: read the clock or the tz database; every instant is built from
 * literal dates so the results never depend on when the test runs.
 */
#include <stdint.h>

#include "core/calendar.h"
#include "core/error.h"
#include "vt_test.h"

static vt_date_t D(int y, int m, int d)
{
    return (vt_date_t){y, m, d};
}

/* Unix ms of a local (Bogota, UTC-5) wall-clock time. */
static int64_t local_ms(int y, int mo, int d, int hh, int mi, int ss)
{
    return ((vt_date_to_days(D(y, mo, d)) * 86400 + hh * 3600 + mi * 60 + ss) + 5 * 3600) * 1000;
}

static const char *fmt(vt_date_t d)
{
    static char buf[8][11];
    static int next;
    char *b = buf[next++ % 8];
    vt_date_format(d, b);
    return b;
}

#define ASSERT_DATE(d, s) ASSERT_STREQ(fmt(d), s)

static void check_year(int year, const char *const dates[], const char *const names[])
{
    struct vt_holiday h[VT_CALENDAR_HOLIDAYS_PER_YEAR + 2];
    for (size_t i = 0; i < VT_CALENDAR_HOLIDAYS_PER_YEAR + 2; i++)
        h[i] = (struct vt_holiday){D(0, 0, 0), NULL};
    ASSERT_EQ(vt_calendar_holidays(year, h, VT_CALENDAR_HOLIDAYS_PER_YEAR + 2), 18);
    for (int i = 0; i < 18; i++) {
        ASSERT_DATE(h[i].date, dates[i]);
        ASSERT_STREQ(h[i].name, names[i]);
        ASSERT_TRUE(vt_calendar_is_holiday(h[i].date));
        ASSERT_TRUE(!vt_calendar_is_business_day(NULL, h[i].date));
    }
    /* Nothing is written past the 18th entry. */
    ASSERT_TRUE(h[18].name == NULL && h[19].name == NULL);
    /* Exactly 18 entries fall on holidays: count the days of the year that are holidays. */
    int days = 0;
    for (vt_date_t d = D(year, 1, 1); d.year == year; d = vt_date_add_days(d, 1))
        days += vt_calendar_is_holiday(d);
    int distinct = 1;
    for (int i = 1; i < 18; i++)
        distinct += vt_date_cmp(h[i - 1].date, h[i].date) != 0;
    ASSERT_EQ(days, distinct);
}

static void test_holidays_2025(void)
{
    static const char *const dates[18] = {
        "2025-01-01", "2025-01-06", "2025-03-24", "2025-04-17", "2025-04-18", "2025-05-01",
        "2025-06-02", "2025-06-23", "2025-06-30", "2025-06-30", "2025-07-20", "2025-08-07",
        "2025-08-18", "2025-10-13", "2025-11-03", "2025-11-17", "2025-12-08", "2025-12-25",
    };
    static const char *const names[18] = {
        "Año Nuevo",
        "Día de los Reyes Magos",
        "Día de San José",
        "Jueves Santo",
        "Viernes Santo",
        "Día del Trabajo",
        "Ascensión del Señor",
        "Corpus Christi",
        /* Same date: the moved fixed feast first, then the Easter-based one. */
        "San Pedro y San Pablo",
        "Sagrado Corazón de Jesús",
        "Día de la Independencia",
        "Batalla de Boyacá",
        "Asunción de la Virgen",
        "Día de la Raza",
        "Día de Todos los Santos",
        "Independencia de Cartagena",
        "Inmaculada Concepción",
        "Navidad",
    };
    check_year(2025, dates, names);
    ASSERT_STREQ(vt_calendar_holiday_name(D(2025, 6, 30)), "San Pedro y San Pablo");
    ASSERT_TRUE(vt_calendar_holiday_name(D(2025, 6, 29)) == NULL);
    /* 2025: 17 distinct days off. */
    int n = 0;
    for (vt_date_t d = D(2025, 1, 1); d.year == 2025; d = vt_date_add_days(d, 1))
        n += vt_calendar_is_holiday(d);
    ASSERT_EQ(n, 17);
}

/* 2026, Easter Sunday 5 April, worked out by hand:
 *   1 Jan Thu (fixed); 6 Jan Tue -> Mon 12 Jan; 19 Mar Thu -> Mon 23 Mar;
 *   Jueves/Viernes Santo 2-3 Apr; 1 May Fri (fixed); Ascensión 5 Apr+43 = Mon 18 May;
 *   Corpus Christi +64 = Mon 8 Jun; Sagrado Corazón +71 = Mon 15 Jun; 29 Jun is a Monday (stays);
 *   20 Jul, 7 Aug fixed; 15 Aug Sat -> Mon 17 Aug; 12 Oct is a Monday (stays);
 *   1 Nov Sun -> Mon 2 Nov; 11 Nov Wed -> Mon 16 Nov; 8 Dec, 25 Dec fixed. */
static void test_holidays_2026(void)
{
    static const char *const dates[18] = {
        "2026-01-01", "2026-01-12", "2026-03-23", "2026-04-02", "2026-04-03", "2026-05-01",
        "2026-05-18", "2026-06-08", "2026-06-15", "2026-06-29", "2026-07-20", "2026-08-07",
        "2026-08-17", "2026-10-12", "2026-11-02", "2026-11-16", "2026-12-08", "2026-12-25",
    };
    static const char *const names[18] = {
        "Año Nuevo",
        "Día de los Reyes Magos",
        "Día de San José",
        "Jueves Santo",
        "Viernes Santo",
        "Día del Trabajo",
        "Ascensión del Señor",
        "Corpus Christi",
        "Sagrado Corazón de Jesús",
        "San Pedro y San Pablo",
        "Día de la Independencia",
        "Batalla de Boyacá",
        "Asunción de la Virgen",
        "Día de la Raza",
        "Día de Todos los Santos",
        "Independencia de Cartagena",
        "Inmaculada Concepción",
        "Navidad",
    };
    check_year(2026, dates, names);
    int n = 0;
    for (vt_date_t d = D(2026, 1, 1); d.year == 2026; d = vt_date_add_days(d, 1))
        n += vt_calendar_is_holiday(d);
    ASSERT_EQ(n, 18);
    ASSERT_STREQ(vt_calendar_holiday_name(D(2026, 11, 16)), "Independencia de Cartagena");
    /* The original dates of moved feasts are ordinary days. */
    ASSERT_TRUE(!vt_calendar_is_holiday(D(2026, 1, 6)));
    ASSERT_TRUE(!vt_calendar_is_holiday(D(2026, 11, 11)));
    ASSERT_TRUE(!vt_calendar_is_holiday(D(2026, 8, 15)));
}

static void test_holidays_cap(void)
{
    struct vt_holiday h[3] = {{D(0, 0, 0), NULL}, {D(0, 0, 0), NULL}, {D(0, 0, 0), NULL}};
    ASSERT_EQ(vt_calendar_holidays(2025, h, 2), 18);
    ASSERT_DATE(h[0].date, "2025-01-01");
    ASSERT_DATE(h[1].date, "2025-01-06");
    ASSERT_TRUE(h[2].name == NULL);
    ASSERT_EQ(vt_calendar_holidays(2030, NULL, 0), 18);
    /* Every year has 18, all inside the year, in date order. */
    for (int y = 1990; y <= 2100; y++) {
        struct vt_holiday all[18];
        ASSERT_EQ(vt_calendar_holidays(y, all, 18), 18);
        int ordered = 1, inside = 1, mondays = 1;
        for (int i = 0; i < 18; i++) {
            inside &= all[i].date.year == y;
            if (i)
                ordered &= vt_date_cmp(all[i - 1].date, all[i].date) <= 0;
        }
        for (int i = 0; i < 18; i++) {
            const char *n = all[i].name;
            if (strcmp(n, "Día de los Reyes Magos") == 0 || strcmp(n, "Corpus Christi") == 0 ||
                strcmp(n, "Independencia de Cartagena") == 0)
                mondays &= vt_date_weekday(all[i].date) == 1;
        }
        ASSERT_TRUE(ordered && inside && mondays);
    }
}

static void test_easter(void)
{
    ASSERT_DATE(vt_calendar_easter(2024), "2024-03-31");
    ASSERT_DATE(vt_calendar_easter(2025), "2025-04-20");
    ASSERT_DATE(vt_calendar_easter(2026), "2026-04-05");
    ASSERT_DATE(vt_calendar_easter(2027), "2027-03-28");
    ASSERT_DATE(vt_calendar_easter(2038), "2038-04-25");
    ASSERT_DATE(vt_calendar_easter(2000), "2000-04-23");
    ASSERT_DATE(vt_calendar_easter(2008), "2008-03-23"); /* near the earliest (22 March) */
    ASSERT_DATE(vt_calendar_easter(2285), "2285-03-22"); /* the earliest possible */
    ASSERT_DATE(vt_calendar_easter(1943), "1943-04-25"); /* the latest possible */
    for (int y = 1900; y <= 2200; y++)
        ASSERT_EQ(vt_date_weekday(vt_calendar_easter(y)), 0);
}

static void test_dates(void)
{
    ASSERT_EQ(vt_date_to_days(D(1970, 1, 1)), 0);
    ASSERT_EQ(vt_date_to_days(D(1969, 12, 31)), -1);
    ASSERT_EQ(vt_date_to_days(D(2000, 3, 1)), 11017);
    ASSERT_EQ(vt_date_to_days(D(2026, 1, 1)), 20454); /* 1767225600 s */
    ASSERT_DATE(vt_date_from_days(20454), "2026-01-01");
    ASSERT_DATE(vt_date_from_days(-719162), "0001-01-01");
    ASSERT_EQ(vt_date_weekday(D(1970, 1, 1)), 4);
    ASSERT_EQ(vt_date_weekday(D(2026, 3, 2)), 1);
    ASSERT_EQ(vt_date_weekday(D(2025, 12, 25)), 4);
    ASSERT_EQ(vt_date_weekday(D(1969, 12, 28)), 0);
    ASSERT_EQ(vt_date_weekday(D(2026, 3, 7)), 6);

    /* Round trip over four centuries each side of the epoch. */
    int bad = 0;
    vt_date_t prev = vt_date_from_days(-146097 * 4 - 1);
    for (int64_t n = -146097 * 4; n <= 146097 * 4; n++) {
        vt_date_t d = vt_date_from_days(n);
        if (vt_date_to_days(d) != n || !vt_date_valid(d) || vt_date_cmp(prev, d) >= 0)
            bad++;
        prev = d;
    }
    ASSERT_EQ(bad, 0);

    ASSERT_DATE(vt_date_add_days(D(2024, 2, 28), 1), "2024-02-29");
    ASSERT_DATE(vt_date_add_days(D(2025, 2, 28), 1), "2025-03-01");
    ASSERT_DATE(vt_date_add_days(D(2026, 1, 1), -1), "2025-12-31");
    ASSERT_DATE(vt_date_add_days(D(2025, 12, 24), 365), "2026-12-24");
    ASSERT_EQ(vt_date_to_days(D(2025, 13, 1)), vt_date_to_days(D(2026, 1, 1)));
    ASSERT_EQ(vt_date_to_days(D(2026, 0, 1)), vt_date_to_days(D(2025, 12, 1)));

    ASSERT_TRUE(vt_date_cmp(D(2025, 12, 31), D(2026, 1, 1)) < 0);
    ASSERT_TRUE(vt_date_cmp(D(2026, 2, 1), D(2026, 1, 31)) > 0);
    ASSERT_EQ(vt_date_cmp(D(2026, 2, 1), D(2026, 2, 1)), 0);

    ASSERT_TRUE(vt_date_valid(D(2024, 2, 29)));
    ASSERT_TRUE(vt_date_valid(D(2000, 2, 29)));
    ASSERT_TRUE(!vt_date_valid(D(2100, 2, 29)));
    ASSERT_TRUE(!vt_date_valid(D(2026, 2, 29)));
    ASSERT_TRUE(!vt_date_valid(D(2024, 2, 30)));
    ASSERT_TRUE(!vt_date_valid(D(2026, 2, 30)));
    ASSERT_TRUE(!vt_date_valid(D(2026, 4, 31)));
    ASSERT_TRUE(!vt_date_valid(D(2026, 13, 1)));
    ASSERT_TRUE(!vt_date_valid(D(2026, 0, 1)));
    ASSERT_TRUE(!vt_date_valid(D(2026, 1, 0)));
    ASSERT_TRUE(!vt_date_valid(D(0, 1, 1)));

    /* Local date of an instant: Bogota is UTC-5. */
    ASSERT_DATE(vt_date_from_unix_ms(0), "1969-12-31");
    ASSERT_DATE(vt_date_from_unix_ms(18000000), "1970-01-01");
    ASSERT_DATE(vt_date_from_unix_ms(17999999), "1969-12-31");
    ASSERT_DATE(vt_date_from_unix_ms(1767225600000LL), "2025-12-31"); /* 2026-01-01T00:00Z */
    ASSERT_DATE(vt_date_from_unix_ms(1767243600000LL), "2026-01-01"); /* 2026-01-01T05:00Z */
    ASSERT_DATE(vt_date_from_unix_ms(-1), "1969-12-31");
    ASSERT_DATE(vt_date_from_unix_ms(-68400000), "1969-12-31"); /* local midnight */
    ASSERT_DATE(vt_date_from_unix_ms(-68400001), "1969-12-30");
    vt_date_from_unix_ms(INT64_MIN); /* no overflow (UBSan) */
    vt_date_from_unix_ms(INT64_MAX);
}

static void test_date_text(void)
{
    vt_date_t d = D(0, 0, 0);
    ASSERT_EQ(vt_date_parse("2026-03-02", &d), 0);
    ASSERT_DATE(d, "2026-03-02");
    ASSERT_EQ(vt_date_parse("2024-02-29", &d), 0);
    ASSERT_DATE(d, "2024-02-29");
    d = D(1, 1, 1);
    ASSERT_EQ(vt_date_parse("2026-02-30", &d), VT_EINVAL);
    ASSERT_DATE(d, "0001-01-01"); /* untouched on failure */
    ASSERT_EQ(vt_date_parse("2025-02-29", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2024-02-30", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-13-01", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-00-10", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-01-00", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-04-31", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("0000-01-01", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-3-02", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-03-2", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026/03/02", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-03-02 ", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse(" 2026-03-02", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-03-02T00:00", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("+026-03-02", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-03", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("", &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse(NULL, &d), VT_EINVAL);
    ASSERT_EQ(vt_date_parse("2026-03-02", NULL), VT_EINVAL);

    char out[11];
    vt_date_format(D(987, 6, 5), out);
    ASSERT_STREQ(out, "0987-06-05");
    vt_date_format(D(123456, -3, 100), out); /* clamped, never overflows out */
    ASSERT_STREQ(out, "9999-00-99");

    int m = -1;
    ASSERT_EQ(vt_time_parse_hhmm("17:00", &m), 0);
    ASSERT_EQ(m, 1020);
    ASSERT_EQ(vt_time_parse_hhmm("00:00", &m), 0);
    ASSERT_EQ(m, 0);
    ASSERT_EQ(vt_time_parse_hhmm("23:59", &m), 0);
    ASSERT_EQ(m, 1439);
    ASSERT_EQ(vt_time_parse_hhmm("08:30", &m), 0);
    ASSERT_EQ(m, 510);
    ASSERT_EQ(vt_time_parse_hhmm("24:00", &m), VT_EINVAL);
    ASSERT_EQ(vt_time_parse_hhmm("12:60", &m), VT_EINVAL);
    ASSERT_EQ(vt_time_parse_hhmm("8:30", &m), VT_EINVAL);
    ASSERT_EQ(vt_time_parse_hhmm("08:30:00", &m), VT_EINVAL);
    ASSERT_EQ(vt_time_parse_hhmm("0830", &m), VT_EINVAL);
    ASSERT_EQ(vt_time_parse_hhmm("", &m), VT_EINVAL);
    ASSERT_EQ(vt_time_parse_hhmm(NULL, &m), VT_EINVAL);
    ASSERT_EQ(m, 510);
}

static void test_iso(void)
{
    char out[32];
    int64_t t = 0;

    /* The example of the header, and an instant whose Unix time is known (1767225600 s). */
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T10:15:30-05:00", &t), 0);
    ASSERT_EQ(t, local_ms(2026, 11, 22, 10, 15, 30));
    vt_time_format_iso(t, out);
    ASSERT_STREQ(out, "2026-11-22T10:15:30-05:00");

    ASSERT_EQ(vt_time_parse_iso("2026-01-01T00:00:00Z", &t), 0);
    ASSERT_EQ(t, 1767225600000LL);
    vt_time_format_iso(t, out);
    ASSERT_STREQ(out, "2025-12-31T19:00:00-05:00");

    /* As citizens read it: Bogotá day first, hours and minutes. */
    vt_time_format_es(t, out);
    ASSERT_STREQ(out, "31/12/2025 19:00");
    vt_time_format_es(local_ms(2026, 11, 22, 10, 15, 30), out);
    ASSERT_STREQ(out, "22/11/2026 10:15");
    char day[16];
    vt_date_format_es("2026-01-31", day);
    ASSERT_STREQ(day, "31/01/2026");
    vt_date_format_es("sin plazo", day);
    ASSERT_STREQ(day, "sin plazo");

    int64_t z = 0, plus2 = 1, plus2b = 2, local = 3, space = 4, minus = 5;
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T15:15:30Z", &z), 0);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T17:15:30+02:00", &plus2), 0);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T17:15:30+0200", &plus2b), 0);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T10:15:30", &local), 0);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22 10:15:30", &space), 0);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T10:15:30-0500", &minus), 0);
    ASSERT_EQ(z, plus2);
    ASSERT_EQ(z, plus2b);
    ASSERT_EQ(z, local);
    ASSERT_EQ(z, space);
    ASSERT_EQ(z, minus);
    ASSERT_EQ(z, local_ms(2026, 11, 22, 10, 15, 30));
    vt_time_format_iso(plus2, out);
    ASSERT_STREQ(out, "2026-11-22T10:15:30-05:00");

    /* Without seconds; with fractions (truncated to ms). */
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T10:15", &t), 0);
    ASSERT_EQ(t, local_ms(2026, 11, 22, 10, 15, 0));
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T10:15Z", &t), 0);
    ASSERT_EQ(t, local_ms(2026, 11, 22, 5, 15, 0));
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T15:15:30.5Z", &t), 0);
    ASSERT_EQ(t, z + 500);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T15:15:30.123456789Z", &t), 0);
    ASSERT_EQ(t, z + 123);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T15:15:30.007+00:00", &t), 0);
    ASSERT_EQ(t, z + 7);
    vt_time_format_iso(t, out);
    ASSERT_STREQ(out, "2026-11-22T10:15:30-05:00"); /* seconds truncated */

    /* Offsets that cross the date line. */
    ASSERT_EQ(vt_time_parse_iso("2026-03-03T01:30:00+02:00", &t), 0);
    vt_time_format_iso(t, out);
    ASSERT_STREQ(out, "2026-03-02T18:30:00-05:00");
    ASSERT_EQ(vt_time_parse_iso("2026-03-02T23:30:00-08:00", &t), 0);
    vt_time_format_iso(t, out);
    ASSERT_STREQ(out, "2026-03-03T02:30:00-05:00");

    /* Format then parse gives the same second, across many instants. */
    int bad = 0;
    for (int64_t s = 1700000000; s < 1900000000; s += 7777777) {
        int64_t back = -1;
        vt_time_format_iso(s * 1000 + 999, out);
        if (vt_time_parse_iso(out, &back) || back != s * 1000)
            bad++;
    }
    ASSERT_EQ(bad, 0);
    vt_time_format_iso(-1, out);
    ASSERT_STREQ(out, "1969-12-31T18:59:59-05:00");
    vt_time_format_iso(INT64_MIN, out); /* fits in 32 bytes */
    ASSERT_TRUE(strlen(out) < 32);
    vt_time_format_iso(INT64_MAX, out);
    ASSERT_TRUE(strlen(out) < 32);

    static const char *const bad_inputs[] = {
        "2026-02-30T10:00:00Z",       /* no such day */
        "2026-13-01T10:00:00Z",       /* 13th month */
        "2026-00-01T10:00:00Z",       /* month 0 */
        "2026-11-22T24:00:00Z",       /* hour */
        "2026-11-22T10:60:00Z",       /* minute */
        "2026-11-22T10:15:60Z",       /* second */
        "2026-11-22T10:15:30+24:00",  /* offset hour */
        "2026-11-22T10:15:30+02:60",  /* offset minute */
        "2026-11-22T10:15:30+02",     /* offset without minutes */
        "2026-11-22T10:15:30+2:00",   /* offset hour one digit */
        "2026-11-22T10:15:30.Z",      /* empty fraction */
        "2026-11-22T10:15:30ZZ",      /* trailing junk */
        "2026-11-22T10:15:30 ",       /* trailing space */
        "2026-11-22T10:15:3",         /* short seconds */
        "2026-11-22T1:15:30",         /* short hour */
        "2026-11-22T10",              /* no minutes */
        "2026-11-22",                 /* no time */
        "2026-11-22X10:15:30",        /* bad separator */
        "2026-11-2210:15:30",         /* no separator */
        "26-11-22T10:15:30",          /* short year */
        "2026-11-22T10:15:30 -05:00", /* space before offset */
        "",
        "garbage",
    };
    for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
        t = 42;
        int rc = vt_time_parse_iso(bad_inputs[i], &t);
        VT_CHECK_(rc == VT_EINVAL && t == 42, "accepted \"%s\"", bad_inputs[i]);
    }
    ASSERT_EQ(vt_time_parse_iso(NULL, &t), VT_EINVAL);
    ASSERT_EQ(vt_time_parse_iso("2026-11-22T10:15:30Z", NULL), VT_EINVAL);
}

static void test_business_days(void)
{
    struct vt_calendar cal;
    vt_calendar_init(&cal);
    ASSERT_EQ(cal.closing_minute, 17 * 60);
    ASSERT_EQ(cal.n_non_working, 0);

    ASSERT_TRUE(vt_calendar_is_business_day(&cal, D(2026, 3, 2)));   /* Monday */
    ASSERT_TRUE(vt_calendar_is_business_day(&cal, D(2026, 3, 6)));   /* Friday */
    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2026, 3, 7)));  /* Saturday */
    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2026, 3, 8)));  /* Sunday */
    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2026, 3, 23))); /* San José */
    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2026, 4, 2)));  /* Jueves Santo */
    ASSERT_TRUE(vt_calendar_is_business_day(&cal, D(2026, 4, 6)));   /* Easter Monday works */
    ASSERT_TRUE(vt_calendar_is_business_day(&cal, D(2026, 1, 6)));   /* Reyes moved to the 12th */
    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2026, 1, 12)));
    ASSERT_TRUE(!vt_calendar_is_holiday(D(2026, 3, 7))); /* a Saturday is no holiday */

    /* Counting from a Friday: 1 -> Monday, 0 -> itself. */
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 3, 6), 0), "2026-03-06");
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 3, 7), 0), "2026-03-07");
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 3, 6), 1), "2026-03-09");
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 3, 7), 1), "2026-03-09");
    /* Friday 20 March + 1 skips the weekend and San José (Monday 23). */
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 3, 20), 1), "2026-03-24");
    /* Wednesday 1 April + 1 skips Jueves and Viernes Santo and the weekend. */
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 4, 1), 1), "2026-04-06");
    /* Backwards. */
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 3, 24), -1), "2026-03-20");
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2026, 4, 6), -2), "2026-03-31");
    ASSERT_DATE(vt_calendar_add_business_days(NULL, D(2026, 3, 6), 1), "2026-03-09");

    /* 2026 has 261 weekdays (365 days from a Thursday) and all 18 holidays fall on weekdays. */
    int weekdays = 0, business = 0;
    for (vt_date_t d = D(2026, 1, 1); d.year == 2026; d = vt_date_add_days(d, 1)) {
        int w = vt_date_weekday(d);
        weekdays += w != 0 && w != 6;
        business += vt_calendar_is_business_day(&cal, d);
    }
    ASSERT_EQ(weekdays, 261);
    ASSERT_EQ(business, 261 - 18); /* all 18 holidays of 2026 are on weekdays */
    ASSERT_DATE(vt_calendar_add_business_days(&cal, D(2025, 12, 31), 243), "2026-12-31");
    vt_calendar_cleanup(&cal);
}

static void test_non_working(void)
{
    struct vt_calendar cal;
    vt_calendar_init(&cal);
    /* Added out of order and twice: kept sorted and unique. */
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D(2026, 3, 4)), 0);
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D(2025, 12, 31)), 0);
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D(2026, 12, 24)), 0);
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D(2026, 3, 4)), 0);
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D(2026, 2, 30)), VT_EINVAL);
    ASSERT_EQ(cal.n_non_working, 3);
    ASSERT_DATE(cal.non_working[0], "2025-12-31");
    ASSERT_DATE(cal.non_working[1], "2026-03-04");
    ASSERT_DATE(cal.non_working[2], "2026-12-24");

    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2026, 3, 4)));
    ASSERT_TRUE(vt_calendar_is_business_day(&cal, D(2026, 3, 3)));
    ASSERT_TRUE(vt_calendar_is_business_day(&cal, D(2026, 3, 5)));
    ASSERT_TRUE(vt_calendar_is_business_day(NULL, D(2026, 3, 4)));
    ASSERT_TRUE(!vt_calendar_is_holiday(D(2026, 3, 4))); /* not a national holiday */

    /* Received Monday 2 March 09:00, 10 days, with Wednesday 4 March off:
     * 3(1) 5(2) 6(3) 9(4) 10(5) 11(6) 12(7) 13(8) 16(9) 17(10) -> 17 March (16 without it). */
    int64_t t = local_ms(2026, 3, 2, 9, 0, 0);
    ASSERT_DATE(vt_calendar_due_date(&cal, t, 10), "2026-03-17");
    ASSERT_DATE(vt_calendar_due_date(NULL, t, 10), "2026-03-16");
    /* Received on the extra day itself: filed on Thursday 5 March. */
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 4, 10, 0, 0)), "2026-03-05");

    /* Many extra days still found by the binary search. */
    for (int i = 0; i < 200; i += 2)
        ASSERT_EQ(vt_calendar_add_non_working(&cal, vt_date_add_days(D(2030, 1, 1), i)), 0);
    ASSERT_EQ(cal.n_non_working, 103);
    int sorted = 1;
    for (size_t i = 1; i < cal.n_non_working; i++)
        sorted &= vt_date_cmp(cal.non_working[i - 1], cal.non_working[i]) < 0;
    ASSERT_TRUE(sorted);
    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2030, 1, 3)));  /* Thursday, day 2 */
    ASSERT_TRUE(vt_calendar_is_business_day(&cal, D(2030, 1, 4)));   /* Friday, day 3 */
    ASSERT_TRUE(!vt_calendar_is_business_day(&cal, D(2030, 7, 18))); /* day 198 */

    vt_calendar_cleanup(&cal);
    ASSERT_TRUE(cal.non_working == NULL && cal.n_non_working == 0);
    vt_calendar_cleanup(&cal); /* twice is fine */
    vt_calendar_cleanup(NULL);
}

static void test_closing(void)
{
    struct vt_calendar cal;
    vt_calendar_init(&cal);
    /* Monday 2 March 2026: before 17:00 it counts that day; at or after, the next. */
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 16, 59, 0)), "2026-03-02");
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 16, 59, 59) + 999), "2026-03-02");
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 17, 0, 0)), "2026-03-03");
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 17, 1, 0)), "2026-03-03");
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 0, 0, 0)), "2026-03-02");
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 23, 59, 59)), "2026-03-03");

    /* The same instants in UTC: 21:59Z is 16:59 local; 22:00Z is 17:00 local. The UTC date
     * turns at 19:00 local, which must not matter. */
    int64_t t;
    ASSERT_EQ(vt_time_parse_iso("2026-03-02T21:59:00Z", &t), 0);
    ASSERT_DATE(vt_calendar_filed_date(&cal, t), "2026-03-02");
    ASSERT_EQ(vt_time_parse_iso("2026-03-02T22:00:00Z", &t), 0);
    ASSERT_DATE(vt_calendar_filed_date(&cal, t), "2026-03-03");
    ASSERT_EQ(vt_time_parse_iso("2026-03-03T04:59:00Z", &t), 0); /* 23:59 local on the 2nd */
    ASSERT_DATE(vt_calendar_filed_date(&cal, t), "2026-03-03");
    ASSERT_EQ(vt_time_parse_iso("2026-03-03T05:00:00Z", &t), 0); /* 00:00 local on the 3rd */
    ASSERT_DATE(vt_calendar_filed_date(&cal, t), "2026-03-03");

    /* Due dates, 15 days.
     * Filed Mon 2 Mar: 3(1) 4(2) 5(3) 6(4) 9(5) 10(6) 11(7) 12(8) 13(9) 16(10) 17(11) 18(12)
     *   19(13) 20(14) [21-22 weekend, 23 San José] 24(15) -> 24 March.
     * Filed Tue 3 Mar (after closing on the 2nd): one business day later -> 25 March. */
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2026, 3, 2, 16, 59, 0), 15), "2026-03-24");
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2026, 3, 2, 17, 0, 0), 15), "2026-03-25");
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2026, 3, 2, 17, 1, 0), 15), "2026-03-25");

    /* A configured closing time of 08:30. */
    cal.closing_minute = 8 * 60 + 30;
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 8, 29, 0)), "2026-03-02");
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 2, 8, 30, 0)), "2026-03-03");
    /* Friday 20 March after closing: weekend and San José skipped. */
    cal.closing_minute = 17 * 60;
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 20, 18, 0, 0)), "2026-03-24");
    ASSERT_DATE(vt_calendar_filed_date(NULL, local_ms(2026, 3, 20, 18, 0, 0)), "2026-03-24");
    vt_calendar_cleanup(&cal);
}

static void test_due_dates(void)
{
    struct vt_calendar cal;
    vt_calendar_init(&cal);
    int64_t mon = local_ms(2026, 3, 2, 9, 0, 0);

    /* Terms from Monday 2 March 09:00 (filed that day, counting from the 3rd):
     * 10: 3 4 5 6 | 9 10 11 12 13 | 16 -> 16 March.
     * 15: ... 17 18 19 20 | [23 San José] 24 -> 24 March.
     * 30: 25(16) 26(17) 27(18) | 30(19) 31(20) 1 Apr(21) [2-3 Jueves/Viernes Santo, 4-5 weekend]
     *     6(22) 7(23) 8(24) 9(25) 10(26) | 13(27) 14(28) 15(29) 16(30) -> 16 April. */
    ASSERT_DATE(vt_calendar_due_date(&cal, mon, 10), "2026-03-16");
    ASSERT_DATE(vt_calendar_due_date(&cal, mon, 15), "2026-03-24");
    ASSERT_DATE(vt_calendar_due_date(&cal, mon, 30), "2026-04-16");
    ASSERT_DATE(vt_calendar_due_date(&cal, mon, 0), "2026-03-02");

    /* Received Saturday 7 or Sunday 8 March: filed Monday 9; 10 days from the 10th:
     * 10 11 12 13 | 16 17 18 19 20 | [23] 24 -> 24 March. */
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 7, 10, 0, 0)), "2026-03-09");
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 8, 10, 0, 0)), "2026-03-09");
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2026, 3, 7, 10, 0, 0), 10), "2026-03-24");
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2026, 3, 8, 3, 0, 0), 10), "2026-03-24");

    /* Received on a holiday (Monday 23 March, San José) at 08:00: filed Tuesday 24; 15 days:
     * 25(1) 26(2) 27(3) | 30(4) 31(5) 1 Apr(6) [2-3 Jueves/Viernes Santo] | 6(7) 7(8) 8(9) 9(10)
     * 10(11) | 13(12) 14(13) 15(14) 16(15) -> 16 April. */
    ASSERT_DATE(vt_calendar_filed_date(&cal, local_ms(2026, 3, 23, 8, 0, 0)), "2026-03-24");
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2026, 3, 23, 8, 0, 0), 15), "2026-04-16");

    /* Across the year end: received Wednesday 24 December 2025 at 10:00, 15 days.
     * Filed 24 Dec (a business day, before closing); counting from the next business day:
     *   [25 Navidad] 26 Fri(1) | [27-28] 29(2) 30(3) 31(4) [1 Jan Año Nuevo] 2 Fri(5) |
     *   5(6) 6(7) 7(8) 8(9) 9(10) | [12 Jan Reyes, moved] 13(11) 14(12) 15(13) 16(14) |
     *   19(15) -> Monday 19 January 2026. */
    int64_t xmas_eve = local_ms(2025, 12, 24, 10, 0, 0);
    ASSERT_DATE(vt_calendar_filed_date(&cal, xmas_eve), "2025-12-24");
    ASSERT_DATE(vt_calendar_due_date(&cal, xmas_eve, 15), "2026-01-19");
    /* 10 days: ... 9 Jan is the 10th -> 9 January. 30 days: 19(15) 20 21 22 23 (19) |
     * 26 27 28 29 30 (24) | 2 Feb 3 4 5 6 (29) | 9 Feb (30). */
    ASSERT_DATE(vt_calendar_due_date(&cal, xmas_eve, 10), "2026-01-09");
    ASSERT_DATE(vt_calendar_due_date(&cal, xmas_eve, 30), "2026-02-09");
    /* The same receipt after closing: filed Friday 26 December, one day later -> 20 January. */
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2025, 12, 24, 17, 30, 0), 15), "2026-01-20");

    /* With 31 December 2025 declared non-working by the entity: one day later again. */
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D(2025, 12, 31)), 0);
    ASSERT_DATE(vt_calendar_due_date(&cal, xmas_eve, 15), "2026-01-20");

    /* The double holiday of 30 June 2025 counts once: received Friday 27 June 2025 10:00, 1 day
     * -> Tuesday 1 July. */
    ASSERT_DATE(vt_calendar_due_date(&cal, local_ms(2025, 6, 27, 10, 0, 0), 1), "2025-07-01");
    vt_calendar_cleanup(&cal);
}

int main(void)
{
    test_easter();
    test_holidays_2025();
    test_holidays_2026();
    test_holidays_cap();
    test_dates();
    test_date_text();
    test_iso();
    test_business_days();
    test_non_working();
    test_closing();
    test_due_dates();
    VT_TEST_END();
}
