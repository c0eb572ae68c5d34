/* calendar.h - business days, legal due dates and the date/time formats of Ventanilla.
 *
 * Owns: Colombian national holidays (Ley 51 de 1983), an entity's business-day
 * calendar (office closing time and extra non-working days from its config),
 * the counting of legal terms in business days (Ley 4 de 1913 art. 62,
 * Ley 1755 de 2015), and the conversions between Unix milliseconds, local
 * dates and ISO 8601 text.
 * Must not: consult the tz database, the system clock or any mutable global
 * state; every function is pure (apart from the calendar it is given) and safe
 * to call from several threads at once.
 *
 * "Local" always means America/Bogota, which is UTC-5 all year (no DST), so
 * the offset is a constant and all arithmetic is done here (days-from-civil).
 * Dates are proleptic Gregorian; holidays and Easter are meant for years 1583
 * and later.
 */
#ifndef VT_CALENDAR_H
#define VT_CALENDAR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offset of local time (America/Bogota) from UTC, in minutes. */
#define VT_CALENDAR_UTC_OFFSET_MIN (-5 * 60)
/* Number of national holidays every year (two may share a date). */
#define VT_CALENDAR_HOLIDAYS_PER_YEAR 18
/* Default office closing time, minutes after local midnight. */
#define VT_CALENDAR_DEFAULT_CLOSING (17 * 60)

typedef struct {
    int year, month, day;
} vt_date_t;

struct vt_holiday {
    vt_date_t date;
    const char *name; /* Spanish, static */
};

/* Per-entity settings. */
struct vt_calendar {
    vt_date_t *non_working; /* extra non-working days from config, owned; kept sorted, unique */
    size_t n_non_working;
    int closing_minute; /* minutes after local midnight; default 17*60 */
};

/* ---- national holidays ---- */

/* Fills out with up to cap holidays of year in date order (within one date: fixed, moved,
 * Easter-based, as Ley 51 lists them); returns the number of holidays of that year (18) even if
 * cap is smaller. out may be NULL when cap is 0; names are static. */
size_t vt_calendar_holidays(int year, struct vt_holiday *out, size_t cap);
/* Returns the Gregorian Easter Sunday of year (Anonymous Gregorian algorithm). */
vt_date_t vt_calendar_easter(int year);
/* True when d is a national holiday (Ley 51 de 1983); weekends are not holidays by themselves. */
bool vt_calendar_is_holiday(vt_date_t d);
/* Returns the Spanish name of the first holiday on d (static), or NULL if d is no holiday. */
const char *vt_calendar_holiday_name(vt_date_t d);

/* ---- an entity's calendar ---- */

/* Sets cal to no extra non-working days and closing at 17:00. */
void vt_calendar_init(struct vt_calendar *cal);
/* Frees the extra non-working days and re-initializes cal; NULL ok. */
void vt_calendar_cleanup(struct vt_calendar *cal);
/* Adds d to the extra non-working days (duplicates ignored); 0, VT_ENOMEM, or VT_EINVAL if d is
 * not a valid date. */
int vt_calendar_add_non_working(struct vt_calendar *cal, vt_date_t d);
/* True unless d is a Saturday, Sunday, national holiday or extra non-working day of cal;
 * cal may be NULL (national calendar only). */
bool vt_calendar_is_business_day(const struct vt_calendar *cal, vt_date_t d);
/* The n-th business day strictly after from (n == 0 returns from unchanged; n < 0 counts
 * backwards, the |n|-th business day strictly before from); cal may be NULL. */
vt_date_t vt_calendar_add_business_days(const struct vt_calendar *cal, vt_date_t from, int n);
/* The business day a receipt at unix_ms counts on: the local date if it is a business day and the
 * local time is before closing; otherwise the next business day. cal may be NULL (17:00). */
vt_date_t vt_calendar_filed_date(const struct vt_calendar *cal, int64_t unix_ms);
/* Due date: term_days business days counted from the business day after the filed date, i.e.
 * add_business_days(filed_date(received), term_days). No allocation; cal may be NULL. */
vt_date_t vt_calendar_due_date(const struct vt_calendar *cal, int64_t received_unix_ms,
                               int term_days);

/* ---- dates ---- */

/* Returns the local (UTC-5) calendar date of unix_ms. */
vt_date_t vt_date_from_unix_ms(int64_t unix_ms);
/* Returns days since 1970-01-01 (negative before); an out-of-range month or day rolls over. */
int64_t vt_date_to_days(vt_date_t d);
/* Returns the date days after 1970-01-01 (days is clamped to about +-1.5 billion years). */
vt_date_t vt_date_from_days(int64_t days);
/* Returns d moved by n calendar days (n may be negative). */
vt_date_t vt_date_add_days(vt_date_t d, int n);
/* Returns the weekday of d: 0 = Sunday .. 6 = Saturday. */
int vt_date_weekday(vt_date_t d);
/* Returns <0, 0 or >0 as a is before, equal to or after b (field by field). */
int vt_date_cmp(vt_date_t a, vt_date_t b);
/* True when d is a real date of years 1..9999. */
bool vt_date_valid(vt_date_t d);
/* Parses strict "YYYY-MM-DD" (a valid date, nothing after it) into *out; 0 or VT_EINVAL. */
int vt_date_parse(const char *s, vt_date_t *out);
/* Writes "YYYY-MM-DD" and a NUL into out (fields out of 4/2 digits are clamped). */
void vt_date_format(vt_date_t d, char out[11]);

/* ---- times ---- */

/* Writes local time with the fixed offset, "2026-11-22T10:15:30-05:00" (seconds truncated),
 * into out, which must hold 32 bytes. */
void vt_time_format_iso(int64_t unix_ms, char out[32]);
/* The same local time as Colombians write it, "22/11/2026 10:15", for texts
 * citizens read; out holds 32 bytes. */
void vt_time_format_es(int64_t unix_ms, char out[32]);
/* "2026-01-31" as "31/01/2026"; anything else copied as is (cut to 15 bytes). */
void vt_date_format_es(const char *iso, char out[16]);
/* Parses YYYY-MM-DDTHH:MM[:SS[.fraction]] followed by Z, +-HH:MM, +-HHMM or nothing (then local
 * Bogota time); a space may replace T. Fractions below 1 ms are truncated. 0 or VT_EINVAL (bad
 * syntax or field ranges). */
int vt_time_parse_iso(const char *s, int64_t *unix_ms);
/* Parses strict "HH:MM" (00:00..23:59) into minutes after midnight; 0 or VT_EINVAL. */
int vt_time_parse_hhmm(const char *s, int *minutes);

#endif
