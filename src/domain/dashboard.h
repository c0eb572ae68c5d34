/* dashboard.h - the managers' figures behind /tablero: volume, legal-term
 * compliance, satisfaction and hearing questions, computed from the store as
 * it is now, for the live feed's "dashboard" topic (gerente sessions only).
 *
 * Owns: the read-side SQL of those figures and their definitions (below).
 * Must not: write to the store, carry personal data or an item's text (every
 * figure is a count, a rate or an average; the only names are the codes and
 * labels of channels, types, groups and dependencias), or decide who may see
 * the figures (live.c checks the gerente session).
 *
 * Definitions. "Today" is the local (Bogotá) date of now_ms; "the answer" of
 * an item is its earliest row in responses (by at), and the answer date is
 * that row's local date. Every figure reads the whole store (no date range)
 * unless it says otherwise.
 *
 *  1. Volume: the items of kind pqrsd, counted by channel (items.channel), by
 *     type (items.type, the current label; "sin_tipo" when none), by group
 *     (items.stakeholder_group) and by dependencia
 *     (COALESCE(items.dependencia, staff.triage_dependencia): an item not
 *     routed yet belongs to the triage office). Each breakdown sums to total.
 *  2. Answered on time: PQRSD with an answer whose answer date is on or
 *     before items.due_date (the due date in force, after any extension or
 *     restart), or that has no legal term (due_date NULL, a felicitación).
 *     Answered late: PQRSD with an answer dated after due_date. answered =
 *     on_time + late. These are the same rules as report.h's definition 3.
 *  3. Overdue now: PQRSD whose term runs (status radicado or en_tramite,
 *     vt_casework_term_runs) with due_date before today. Due soon: the same
 *     statuses with due_date from today up to today plus live.due_soon_days
 *     business days, both inclusive. These match the staff queue's overdue
 *     and due_within filters; an item reopened after an answer counts both
 *     in 2 and here.
 *  4. Compliance rate: on_time * 100 / answered, one decimal; null when
 *     nothing is answered.
 *  5. Response time of an answered PQRSD: the business days of the entity's
 *     calendar strictly after items.filed_date up to and including the
 *     answer date (0 when answered on or before the filing date), as
 *     report.h's definition 2. avg_response_days is their mean over the
 *     answered PQRSD, one decimal; null when none.
 *  6. Satisfaction: survey answers (any survey) received in the last 12
 *     local months, the current one included ([first day of the month 11
 *     months ago, first day of next month)), as vt_survey_figures computes
 *     them: CSAT the share of ratings 4-5 (percent, one decimal), NPS the
 *     share of 9-10 minus the share of 0..surveys.detractor_nps_max, each
 *     over the answers that have that question. By month: all 12 months, in
 *     order, a month without answers with csat and nps null; by group: the
 *     answer item's stakeholder group, only the groups that answered.
 *  7. Hearing questions: received, the items of kind hearing_question;
 *     answered, those of them with at least one row in responses.
 *
 * Threads: vt_dashboard_build runs on the thread that owns the reader (for
 * the live feed, its dashboard worker, so that a big store does not hold up
 * the loop); vt_dashboard_business_days is pure.
 */
#ifndef VT_DASHBOARD_H
#define VT_DASHBOARD_H
#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/calendar.h"
#include "core/config.h"
#include "store/store.h"

/* Months of satisfaction figures, the current one included (definition 6). */
#define VT_DASHBOARD_MONTHS 12

/* Business days of cal strictly after filed, up to and including answered;
 * 0 when answered is not after filed (definition 5). cal may be NULL. */
int vt_dashboard_business_days(const struct vt_calendar *cal, vt_date_t filed, vt_date_t answered);

/* The figures as of now_ms, as JSON:
 * {"generated_at", "today", "due_soon_until", "volume": {"total",
 * "by_channel", "by_type", "by_group", "by_dependencia": [{"key", "label",
 * "n"}]}, "compliance": {"answered", "on_time", "late", "overdue",
 * "due_soon", "on_time_pct", "avg_response_days"}, "satisfaction": {"from",
 * "to", "answers", "csat", "nps", "by_month": [{"key", "answers", "csat",
 * "csat_n", "nps", "nps_n"}], "by_group": [{"key", "label", ...}]},
 * "hearings": {"received", "answered"}}. *out is the caller's to delete.
 * 0, VT_ENOMEM or VT_ESTORE (nothing in *out). */
int vt_dashboard_build(struct vt_store_reader *r, const struct vt_config *cfg, int64_t now_ms,
                       cJSON **out);

#endif
