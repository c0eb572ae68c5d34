/* calendar.c - business days, legal due dates and date/time conversions.
 *
 * Owns: the holiday rules of Ley 51 de 1983 (one table), the civil-date
 * arithmetic (Howard Hinnant's days_from_civil / civil_from_days), and the
 * business-day counting behind every due date.
 * Must not: allocate anywhere but vt_calendar_add_non_working, keep mutable
 * globals, or read the clock or the tz database; callers run this from many
 * threads at once.
 *
 * Invariants:
 *   1. struct vt_calendar's non_working array is sorted ascending and holds no
 *      duplicates (vt_calendar_add_non_working keeps it so), so a lookup is a
 *      binary search.
 *   2. A year's holidays all fall inside that year (the latest moved one is
 *      11 Nov -> at most 17 Nov), so one year's set fits in a 366-bit mask.
 *
 * Speed: vt_calendar_due_date runs on every intake. It walks day numbers, not
 * dates, over a bitmask of the current year's days off (struct days_off: weekends,
 * holidays, extra days) built on the stack and rebuilt only when the walk
 * crosses into another year, so a 30-day term is a few hundred nanoseconds.
 */
#include "core/calendar.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define MS_PER_DAY 86400000LL
#define LOCAL_OFFSET_MS ((int64_t)VT_CALENDAR_UTC_OFFSET_MIN * 60000)
/* About 1.5 billion years each way: keeps every intermediate and the int year in range. */
#define MAX_ABS_DAYS (1LL << 39)

/* ---- civil-date arithmetic ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static vt_date_t civil_from_days(int64_t z)
{
    if (z > MAX_ABS_DAYS)
        z = MAX_ABS_DAYS;
    if (z < -MAX_ABS_DAYS)
        z = -MAX_ABS_DAYS;
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    return (vt_date_t){(int)y, (int)m, (int)d};
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday_of(int64_t days)
{
    int64_t w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dm[m - 1];
}

int64_t vt_date_to_days(vt_date_t d)
{
    /* Normalize the month so that 2025-13-01 means 2026-01-01; the day then just adds. */
    int64_t m0 = (int64_t)d.month - 1;
    int64_t y = (int64_t)d.year + floor_div(m0, 12);
    int64_t m = m0 - floor_div(m0, 12) * 12 + 1;
    return days_from_civil(y, m, 1) + (int64_t)d.day - 1;
}

vt_date_t vt_date_from_days(int64_t days)
{
    return civil_from_days(days);
}

vt_date_t vt_date_add_days(vt_date_t d, int n)
{
    return civil_from_days(vt_date_to_days(d) + n);
}

int vt_date_weekday(vt_date_t d)
{
    return weekday_of(vt_date_to_days(d));
}

int vt_date_cmp(vt_date_t a, vt_date_t b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    if (a.day != b.day)
        return a.day < b.day ? -1 : 1;
    return 0;
}

bool vt_date_valid(vt_date_t d)
{
    return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= days_in_month(d.year, d.month);
}

/* Splits unix_ms into a local day number and milliseconds into that local day. */
static int64_t local_days(int64_t unix_ms, int64_t *ms_of_day)
{
    /* Divide first, then shift by the offset, so no extreme input overflows. */
    int64_t days = floor_div(unix_ms, MS_PER_DAY);
    int64_t rem = unix_ms % MS_PER_DAY;
    if (rem < 0)
        rem += MS_PER_DAY;
    rem += LOCAL_OFFSET_MS;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    if (ms_of_day)
        *ms_of_day = rem;
    return days;
}

vt_date_t vt_date_from_unix_ms(int64_t unix_ms)
{
    return civil_from_days(local_days(unix_ms, NULL));
}

/* ---- holidays ---- */

enum rule_kind {
    FIXED,         /* month/day as is */
    EASTER,        /* Easter + offset as is */
    MONDAY,        /* month/day, moved to the following Monday unless a Monday */
    EASTER_MONDAY, /* Easter + offset, moved to the following Monday unless a Monday */
};

struct rule {
    unsigned char kind;
    signed char month; /* unused for Easter-based rules */
    signed char day;   /* day of month, or days after Easter Sunday */
    const char *name;
};

/* Ley 51 de 1983, in the order the law lists them; this order breaks ties within one date. */
static const struct rule rules[VT_CALENDAR_HOLIDAYS_PER_YEAR] = {
    {FIXED, 1, 1, "Año Nuevo"},
    {FIXED, 5, 1, "Día del Trabajo"},
    {FIXED, 7, 20, "Día de la Independencia"},
    {FIXED, 8, 7, "Batalla de Boyacá"},
    {FIXED, 12, 8, "Inmaculada Concepción"},
    {FIXED, 12, 25, "Navidad"},
    {EASTER, 0, -3, "Jueves Santo"},
    {EASTER, 0, -2, "Viernes Santo"},
    {MONDAY, 1, 6, "Día de los Reyes Magos"},
    {MONDAY, 3, 19, "Día de San José"},
    {MONDAY, 6, 29, "San Pedro y San Pablo"},
    {MONDAY, 8, 15, "Asunción de la Virgen"},
    {MONDAY, 10, 12, "Día de la Raza"},
    {MONDAY, 11, 1, "Día de Todos los Santos"},
    {MONDAY, 11, 11, "Independencia de Cartagena"},
    /* The Thursday or Friday feasts, each moved to the Monday after: Easter+43, +64, +71. */
    {EASTER_MONDAY, 0, 39, "Ascensión del Señor"},
    {EASTER_MONDAY, 0, 60, "Corpus Christi"},
    {EASTER_MONDAY, 0, 68, "Sagrado Corazón de Jesús"},
};

static int64_t easter_days(int64_t year)
{
    /* Anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
    int64_t a = year % 19, b = year / 100, c = year % 100;
    int64_t d = b / 4, e = b % 4;
    int64_t f = (b + 8) / 25, g = (b - f + 1) / 3;
    int64_t h = (19 * a + b - d - g + 15) % 30;
    int64_t i = c / 4, k = c % 4;
    int64_t l = (32 + 2 * e + 2 * i - h - k) % 7;
    int64_t m = (a + 11 * h + 22 * l) / 451;
    int64_t month = (h + l - 7 * m + 114) / 31;
    int64_t day = (h + l - 7 * m + 114) % 31 + 1;
    return days_from_civil(year, month, day);
}

vt_date_t vt_calendar_easter(int year)
{
    return civil_from_days(easter_days(year));
}

static int64_t rule_days(const struct rule *r, int64_t year, int64_t easter)
{
    int64_t days;
    if (r->kind == FIXED || r->kind == MONDAY)
        days = days_from_civil(year, r->month, r->day);
    else
        days = easter + r->day;
    if (r->kind == MONDAY || r->kind == EASTER_MONDAY)
        days += (8 - weekday_of(days)) % 7;
    return days;
}

size_t vt_calendar_holidays(int year, struct vt_holiday *out, size_t cap)
{
    int64_t easter = easter_days(year);
    int64_t days[VT_CALENDAR_HOLIDAYS_PER_YEAR] = {0}; /* zeroed only to quiet cppcheck */
    int order[VT_CALENDAR_HOLIDAYS_PER_YEAR] = {0};
    /* Insertion sort by date; stable, so equal dates keep the order of the rules table. */
    for (int i = 0; i < VT_CALENDAR_HOLIDAYS_PER_YEAR; i++) {
        int64_t d = rule_days(&rules[i], year, easter);
        int j = i;
        while (j > 0 && days[j - 1] > d) {
            days[j] = days[j - 1];
            order[j] = order[j - 1];
            j--;
        }
        days[j] = d;
        order[j] = i;
    }
    for (size_t i = 0; i < cap && i < VT_CALENDAR_HOLIDAYS_PER_YEAR; i++) {
        out[i].date = civil_from_days(days[i]);
        out[i].name = rules[order[i]].name;
    }
    return VT_CALENDAR_HOLIDAYS_PER_YEAR;
}

bool vt_calendar_is_holiday(vt_date_t d)
{
    return vt_calendar_holiday_name(d) != NULL;
}

const char *vt_calendar_holiday_name(vt_date_t d)
{
    int64_t days = vt_date_to_days(d);
    int64_t year = civil_from_days(days).year;
    int64_t easter = easter_days(year);
    /* The table order is the tie order of vt_calendar_holidays, so the first match is first. */
    for (int i = 0; i < VT_CALENDAR_HOLIDAYS_PER_YEAR; i++)
        if (rule_days(&rules[i], year, easter) == days)
            return rules[i].name;
    return NULL;
}

/* ---- an entity's calendar ---- */

void vt_calendar_init(struct vt_calendar *cal)
{
    cal->non_working = NULL;
    cal->n_non_working = 0;
    cal->closing_minute = VT_CALENDAR_DEFAULT_CLOSING;
}

void vt_calendar_cleanup(struct vt_calendar *cal)
{
    if (!cal)
        return;
    free(cal->non_working);
    vt_calendar_init(cal);
}

/* Index of the first extra non-working day not before days (invariant 1). */
static size_t extra_lower_bound(const struct vt_calendar *cal, int64_t days)
{
    size_t lo = 0, hi = cal->n_non_working;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vt_date_to_days(cal->non_working[mid]) < days)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int vt_calendar_add_non_working(struct vt_calendar *cal, vt_date_t d)
{
    if (!vt_date_valid(d))
        return VT_EINVAL;
    int64_t days = vt_date_to_days(d);
    size_t at = extra_lower_bound(cal, days);
    if (at < cal->n_non_working && vt_date_to_days(cal->non_working[at]) == days)
        return 0;
    /* Config-time only and short lists: growing by one each time is plenty. */
    vt_date_t *grown = realloc(cal->non_working, (cal->n_non_working + 1) * sizeof(*grown));
    if (!grown)
        return VT_ENOMEM;
    for (size_t i = cal->n_non_working; i > at; i--)
        grown[i] = grown[i - 1];
    grown[at] = d;
    cal->non_working = grown;
    cal->n_non_working++;
    return 0;
}

/* One year's days off (weekends, national holidays and the calendar's extra non-working days) as
 * a bitmask of day-of-year; [first, next) are the year's day numbers. A walk over days keeps one
 * on the stack and reloads it only when it crosses into another year. */
struct days_off {
    const struct vt_calendar *cal; /* NULL: national calendar only */
    int64_t first, next;
    uint64_t bits[6];
};

static void days_off_init(struct days_off *o, const struct vt_calendar *cal)
{
    o->cal = cal;
    o->first = 1; /* an empty range, so the first lookup loads its year */
    o->next = 0;
}

static void set_bit(struct days_off *o, int64_t idx)
{
    if (idx >= 0 && idx < o->next - o->first) /* always true by invariant 2; cheap insurance */
        o->bits[idx / 64] |= (uint64_t)1 << (idx % 64);
}

static void days_off_load(struct days_off *o, int64_t year)
{
    o->first = days_from_civil(year, 1, 1);
    o->next = days_from_civil(year + 1, 1, 1);
    for (int i = 0; i < 6; i++)
        o->bits[i] = 0;
    int64_t len = o->next - o->first;
    int w0 = weekday_of(o->first);
    for (int64_t i = (6 - w0) % 7; i < len; i += 7) /* Saturdays */
        set_bit(o, i);
    for (int64_t i = (7 - w0) % 7; i < len; i += 7) /* Sundays */
        set_bit(o, i);
    int64_t easter = easter_days(year);
    for (int i = 0; i < VT_CALENDAR_HOLIDAYS_PER_YEAR; i++)
        set_bit(o, rule_days(&rules[i], year, easter) - o->first);
    if (o->cal && o->cal->n_non_working) {
        for (size_t i = extra_lower_bound(o->cal, o->first); i < o->cal->n_non_working; i++) {
            int64_t idx = vt_date_to_days(o->cal->non_working[i]) - o->first;
            if (idx >= len)
                break;
            set_bit(o, idx);
        }
    }
}

static bool business(struct days_off *o, int64_t days)
{
    if (days < o->first || days >= o->next)
        days_off_load(o, civil_from_days(days).year);
    int64_t idx = days - o->first;
    return !((o->bits[idx / 64] >> (idx % 64)) & 1);
}

bool vt_calendar_is_business_day(const struct vt_calendar *cal, vt_date_t d)
{
    struct days_off o;
    days_off_init(&o, cal);
    return business(&o, vt_date_to_days(d));
}

static int64_t add_business(struct days_off *o, int64_t days, int n)
{
    int step = n < 0 ? -1 : 1;
    while (n != 0) {
        days += step;
        if (business(o, days))
            n -= step;
    }
    return days;
}

vt_date_t vt_calendar_add_business_days(const struct vt_calendar *cal, vt_date_t from, int n)
{
    if (n == 0)
        return from;
    struct days_off o;
    days_off_init(&o, cal);
    return civil_from_days(add_business(&o, vt_date_to_days(from), n));
}

static int64_t filed_days(struct days_off *o, int64_t unix_ms)
{
    int64_t ms_of_day;
    int64_t days = local_days(unix_ms, &ms_of_day);
    int closing = o->cal ? o->cal->closing_minute : VT_CALENDAR_DEFAULT_CLOSING;
    if (ms_of_day < (int64_t)closing * 60000 && business(o, days))
        return days;
    return add_business(o, days, 1);
}

vt_date_t vt_calendar_filed_date(const struct vt_calendar *cal, int64_t unix_ms)
{
    struct days_off o;
    days_off_init(&o, cal);
    return civil_from_days(filed_days(&o, unix_ms));
}

vt_date_t vt_calendar_due_date(const struct vt_calendar *cal, int64_t received_unix_ms,
                               int term_days)
{
    struct days_off o;
    days_off_init(&o, cal);
    int64_t filed = filed_days(&o, received_unix_ms);
    return civil_from_days(add_business(&o, filed, term_days));
}

/* ---- text ---- */

/* Reads exactly n decimal digits at s; stops at the first non-digit (so never passes a NUL). */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return VT_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Parses "YYYY-MM-DD" at s (no terminator check) into a valid date. */
static int parse_date_prefix(const char *s, vt_date_t *out)
{
    vt_date_t d;
    if (digits(s, 4, &d.year) || s[4] != '-' || digits(s + 5, 2, &d.month) || s[7] != '-' ||
        digits(s + 8, 2, &d.day))
        return VT_EINVAL;
    if (!vt_date_valid(d))
        return VT_EINVAL;
    *out = d;
    return 0;
}

int vt_date_parse(const char *s, vt_date_t *out)
{
    vt_date_t d;
    if (!s || !out || parse_date_prefix(s, &d) || s[10] != '\0')
        return VT_EINVAL;
    *out = d;
    return 0;
}

/* Writes v zero-padded to at least width digits (a '-' first if negative) at p; returns the end. */
static char *put_int(char *p, int64_t v, int width)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n < width)
        tmp[n++] = '0';
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void vt_date_format(vt_date_t d, char out[11])
{
    char *p = put_int(out, clamp(d.year, 0, 9999), 4);
    *p++ = '-';
    p = put_int(p, clamp(d.month, 0, 99), 2);
    *p++ = '-';
    p = put_int(p, clamp(d.day, 0, 99), 2);
    *p = '\0';
}

void vt_time_format_iso(int64_t unix_ms, char out[32])
{
    _Static_assert(VT_CALENDAR_UTC_OFFSET_MIN == -5 * 60, "the offset text below is -05:00");
    int64_t ms;
    vt_date_t d = civil_from_days(local_days(unix_ms, &ms));
    int s = (int)(ms / 1000);
    /* Any int64 ms gives a year of at most 9 digits and a sign: 31 characters, never cut. */
    char *p = put_int(out, d.year, 4);
    const int fields[5] = {d.month, d.day, s / 3600, s / 60 % 60, s % 60};
    const char seps[5] = {'-', '-', 'T', ':', ':'};
    for (int i = 0; i < 5; i++) {
        *p++ = seps[i];
        p = put_int(p, fields[i], 2);
    }
    memcpy(p, "-05:00", 7);
}

void vt_time_format_es(int64_t unix_ms, char out[32])
{
    int64_t ms;
    vt_date_t d = civil_from_days(local_days(unix_ms, &ms));
    int s = (int)(ms / 1000);
    char *p = put_int(out, clamp(d.day, 0, 99), 2);
    *p++ = '/';
    p = put_int(p, clamp(d.month, 0, 99), 2);
    *p++ = '/';
    p = put_int(p, d.year, 4);
    *p++ = ' ';
    p = put_int(p, s / 3600, 2);
    *p++ = ':';
    p = put_int(p, s / 60 % 60, 2);
    *p = '\0';
}

void vt_date_format_es(const char *iso, char out[16])
{
    if (strlen(iso) == 10 && iso[4] == '-' && iso[7] == '-')
        snprintf(out, 16, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
    else
        snprintf(out, 16, "%.15s", iso);
}

int vt_time_parse_iso(const char *s, int64_t *unix_ms)
{
    vt_date_t d;
    int hh, mi, ss = 0, ms = 0, offset_min = VT_CALENDAR_UTC_OFFSET_MIN;
    if (!s || !unix_ms || parse_date_prefix(s, &d))
        return VT_EINVAL;
    const char *p = s + 10;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return VT_EINVAL;
    p++;
    if (digits(p, 2, &hh) || p[2] != ':' || digits(p + 3, 2, &mi))
        return VT_EINVAL;
    p += 5;
    if (*p == ':') {
        if (digits(p + 1, 2, &ss))
            return VT_EINVAL;
        p += 3;
        if (*p == '.') {
            p++;
            if (*p < '0' || *p > '9')
                return VT_EINVAL;
            for (int scale = 100; *p >= '0' && *p <= '9'; p++, scale /= 10)
                ms += (*p - '0') * scale;
        }
    }
    if (hh > 23 || mi > 59 || ss > 59)
        return VT_EINVAL;
    if (*p == 'Z' || *p == 'z') {
        offset_min = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(p, 2, &oh))
            return VT_EINVAL;
        p += 2;
        if (*p == ':')
            p++;
        if (digits(p, 2, &om))
            return VT_EINVAL;
        p += 2;
        if (oh > 23 || om > 59)
            return VT_EINVAL;
        offset_min = sign * (oh * 60 + om);
    }
    if (*p != '\0')
        return VT_EINVAL;
    int64_t secs = vt_date_to_days(d) * 86400 + hh * 3600 + mi * 60 + ss - offset_min * 60;
    *unix_ms = secs * 1000 + ms;
    return 0;
}

int vt_time_parse_hhmm(const char *s, int *minutes)
{
    int hh, mm;
    if (!s || !minutes || digits(s, 2, &hh) || s[2] != ':' || digits(s + 3, 2, &mm) ||
        s[5] != '\0' || hh > 23 || mm > 59)
        return VT_EINVAL;
    *minutes = hh * 60 + mm;
    return 0;
}
