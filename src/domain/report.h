/* report.h - the reports a Colombian public entity must publish about its
 * PQRSD: the quarterly PQRSD statistics (informe trimestral de PQRSD) and the
 * access-to-information requests report (Decreto 1081 de 2015, art.
 * 2.1.1.6.2), for any range of filing dates, as figures (their JSON, CSV
 * and HTML and their endpoints are api/report_api.h).
 *
 * Owns: the read-side SQL of the reports and the definitions of every
 * figure (below).
 * Must not: write to the store, or show a requester's data or an item's text
 * (a report is published: it carries counts, radicados, dates and the most
 * frequent words of the subjects, never names, subjects or bodies).
 *
 * Definitions. The population of both reports is the items of kind pqrsd
 * whose filing date (items.filed_date, the business day the receipt counts
 * on) is in [from, to], both inclusive, with their current labels (type,
 * class, dependencia after any reclassification or routing). Each figure
 * reads the store as it is when the report is made:
 *
 *  1. Answered: the item has a row in responses; the earliest one (by at,
 *     then id) is "the answer". Its local (Bogotá) date is the answer date.
 *  2. Response time: the business days of the entity's calendar strictly
 *     after the filing date up to and including the answer date (0 when
 *     answered on or before the filing date); vt_report_business_days.
 *     The average is over the answered items.
 *  3. Every item falls in exactly one outcome (enum vt_report_outcome):
 *     answered on time (answer date <= due_date, the due date in force,
 *     which already reflects an extension or a term restarted after a
 *     completion; an item without a legal term is always on time);
 *     answered late; and, for the unanswered, by status: pendiente_completar
 *     is "suspended", desistido "withdrawn", trasladado "transferred",
 *     cerrado "closed without answer", and every other status (radicado,
 *     en_tramite) "pending": overdue when its due date is before the cut-off
 *     date, within term otherwise (or when it has no term).
 *  4. The cut-off date (as_of) is to, or today when to is later (a quarter
 *     still running): an item due tomorrow is not overdue yet.
 *  5. Transferred (the transfers figure, whatever the outcome): the item has
 *     an audit event trasladado or its status is trasladado; "within 5
 *     business days" when its first trasladado event's payload says
 *     within_5_days true (Ley 1755 art. 21).
 *  6. Recurring topics: the words of the subjects, cut at anything but
 *     letters and digits, accent- and case-folded (vt_fold_es), without
 *     Spanish stopwords and greetings, shorter than 3 letters or only
 *     digits; each counted once per subject; the 10 most frequent (ties by
 *     word), shown as first written (lowercased).
 *  7. Access report: the items of type peticion, class documentos. The
 *     access decision is the latest answer's responses.access (concedido,
 *     parcial, negado; an answer recorded without one is "sin_decision").
 *
 * Threads: the build functions run on the thread that owns the reader; the
 * rest is pure.
 */
#ifndef VT_REPORT_H
#define VT_REPORT_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/config.h"
#include "store/store.h"

/* Longest range a report covers: to must be before from + 5 years. */
#define VT_REPORT_MAX_YEARS 5
#define VT_REPORT_TOPICS 10

/* ---- pure parts ---- */

/* Business days of cal strictly after filed, up to and including answered;
 * 0 when answered is not after filed. cal may be NULL (national calendar). */
int vt_report_business_days(const struct vt_calendar *cal, vt_date_t filed, vt_date_t answered);

/* Parses and checks a report's range. 0 with *from and *to set; or VT_EINVAL
 * with *field ("from" or "to") and a Spanish msg: a missing or malformed
 * date, from after to, or a range of more than VT_REPORT_MAX_YEARS years. */
int vt_report_range(const char *from, const char *to, vt_date_t *f, vt_date_t *t,
                    const char **field, char *msg, size_t msglen);


/* True when folded (ASCII, lowercase, unaccented) is a stopword. */
bool vt_report_stopword(const char *folded);

struct vt_report_topic {
    char word[65];  /* folded: the key words are grouped by */
    char label[65]; /* as first written, lowercased */
    long long count;
};

/* Counts the words of subjects (definition 6). */
struct vt_report_topics {
    struct vt_report_topic *slots; /* open addressing, owned */
    long long *seen;               /* per slot: the last subject that counted it */
    size_t cap, n;
    long long subject; /* subjects added so far */
};

/* Counts the words of one subject; NULL ok. 0 or VT_ENOMEM. */
int vt_report_topics_add(struct vt_report_topics *t, const char *subject);
/* The most frequent words into out (count desc, then word); returns how many. */
size_t vt_report_topics_top(const struct vt_report_topics *t, struct vt_report_topic *out,
                            size_t cap);
/* Frees the counter; it is empty and reusable afterwards. NULL ok. */
void vt_report_topics_cleanup(struct vt_report_topics *t);

/* ---- the figures ---- */

enum vt_report_outcome {
    VT_OUT_ON_TIME,
    VT_OUT_LATE,
    VT_OUT_PENDING,
    VT_OUT_OVERDUE,
    VT_OUT_SUSPENDED,
    VT_OUT_WITHDRAWN,
    VT_OUT_TRANSFERRED,
    VT_OUT_CLOSED,
    VT_OUT_COUNT
};
/* The code of an outcome ("a_tiempo", "tarde", "pendiente_en_termino",
 * "pendiente_vencida", "suspendida", "desistida", "trasladada",
 * "cerrada_sin_respuesta") and its Spanish label; static. */
const char *vt_report_outcome_code(enum vt_report_outcome o);
const char *vt_report_outcome_label(enum vt_report_outcome o);
/* The label of one item's outcome ("Respondida a tiempo"...). */
const char *vt_report_outcome_one(enum vt_report_outcome o);
/* The Spanish name of month 1-12 ("enero"), "" otherwise. */
const char *vt_report_month_name(int month);

/* The outcome of an item (definition 3). answered/due/as_of: "" when none. */
enum vt_report_outcome vt_report_outcome_of(const char *status, const char *answered,
                                            const char *due, const char *as_of);

/* One line of a breakdown (a type, channel, dependencia or month), or the total. */
struct vt_report_row {
    char key[128];   /* "peticion/documentos", "email", a dependencia's code, "2025-03" */
    char label[832]; /* Spanish, for people */
    long long received, on_time, late, days_sum;
};

struct vt_report_rows {
    struct vt_report_row *v; /* owned */
    size_t n, cap;
};

struct vt_report_pqrsd {
    char from[11], to[11], as_of[11];
    struct vt_report_row total;
    long long outcomes[VT_OUT_COUNT];
    struct vt_report_rows by_type, by_channel, by_dependencia, by_month;
    long long transfers, transfers_in_5;
    struct vt_report_topic topics[VT_REPORT_TOPICS];
    size_t n_topics;
};

/* One request for information (access report). */
struct vt_report_request {
    char radicado[48], filed[11], due[11], answered[11]; /* "" when none */
    int days;                                            /* -1: not answered */
    enum vt_report_outcome outcome;
    char access[16]; /* concedido, parcial, negado, sin_decision; "" unanswered */
    bool transferred;
};

struct vt_report_access {
    char from[11], to[11], as_of[11];
    long long received, transferred, answered, on_time, late, days_sum;
    long long granted, partial, denied, no_decision;
    struct vt_report_request *requests; /* owned, by filing date then radicado */
    size_t n_requests;
};

/* Computes the reports over the items filed in [from, to] as the store is
 * now; today is the local date (for the cut-off). Reader's thread. 0,
 * VT_ENOMEM or VT_ESTORE; *out is cleaned up on failure. */
int vt_report_pqrsd_build(struct vt_store_reader *r, const struct vt_config *cfg, vt_date_t from,
                          vt_date_t to, vt_date_t today, struct vt_report_pqrsd *out);
int vt_report_access_build(struct vt_store_reader *r, const struct vt_config *cfg, vt_date_t from,
                           vt_date_t to, vt_date_t today, struct vt_report_access *out);
/* Frees what the figures own; NULL ok. */
void vt_report_pqrsd_cleanup(struct vt_report_pqrsd *p);
void vt_report_access_cleanup(struct vt_report_access *a);

#endif
