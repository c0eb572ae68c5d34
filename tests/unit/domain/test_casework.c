/* test_casework.c - unit tests for the legal arithmetic of src/domain/casework.c and
 * its table of who may do what.
 *
 * Every date is literal and worked out by hand in its comment against the
 * 2026 holidays (Ley 51 de 1983): 23 March (San José, moved), 2-3 April
 * (Semana Santa), 8 June (Corpus Christi), 15 June (Sagrado Corazón), 29 June
 * (San Pedro y San Pablo).
 */
#include <stdint.h>

#include "domain/casework.h"
#include "vt_test.h"

static vt_date_t D(int y, int m, int d)
{
    return (vt_date_t){y, m, d};
}

/* Unix ms of a local (Bogota, UTC-5) wall-clock time. */
static int64_t local_ms(int y, int mo, int d, int hh, int mi)
{
    return ((vt_date_to_days(D(y, mo, d)) * 86400 + hh * 3600 + mi * 60) + 5 * 3600) * 1000;
}

static const char *fmt(vt_date_t d)
{
    static char buf[8][11];
    static int next;
    char *b = buf[next++ % 8];
    vt_date_format(d, b);
    return b;
}

static void test_completion_window(const struct vt_calendar *cal)
{
    /* Filed Tue 17 March: 18, 19, 20 (3), 23 is San José, 24, 25, 26, 27 (7),
     * 30, 31 (9), 1 April (10). */
    ASSERT_STREQ(fmt(vt_casework_completion_ask_limit(cal, D(2026, 3, 17))), "2026-04-01");
    /* Calendar days, not business days: 31 January + 30 = 2 March. */
    ASSERT_STREQ(fmt(vt_casework_completion_deadline(D(2026, 1, 31), 30)), "2026-03-02");
    ASSERT_STREQ(fmt(vt_casework_completion_deadline(D(2026, 12, 15), 30)), "2027-01-14");
}

static void test_resumed_term(const struct vt_calendar *cal)
{
    /* Completed Wed 1 April at 16:00: counts on 1 April. 2 and 3 April are
     * holidays; 6-10 (5), 13-17 (10), 20-24 (15): 24 April. */
    ASSERT_STREQ(fmt(vt_casework_resumed_due(cal, local_ms(2026, 4, 1, 16, 0), 15)), "2026-04-24");
    /* At 17:30 it counts on the next business day, Mon 6 April: 7-10 (4),
     * 13-17 (9), 20-24 (14), 27 (15). */
    ASSERT_STREQ(fmt(vt_casework_resumed_due(cal, local_ms(2026, 4, 1, 17, 30), 15)), "2026-04-27");
    /* A documents petition restarts its own 10 days: from 6 April, 7-10 (4),
     * 13-17 (9), 20 (10). */
    ASSERT_STREQ(fmt(vt_casework_resumed_due(cal, local_ms(2026, 4, 3, 9, 0), 10)), "2026-04-20");
}

static void test_extension_limit(const struct vt_calendar *cal)
{
    /* Due Fri 5 June, term 15: 8 June is Corpus; 9-12 (4), 15 is Sagrado
     * Corazón, 16-19 (8), 22-26 (13), 29 is San Pedro, 30 (14), 1 July (15). */
    ASSERT_STREQ(fmt(vt_casework_extension_limit(cal, D(2026, 6, 5), 15)), "2026-07-01");
    /* A consulta (30 days) doubles to 30 more: from Mon 2 Nov (a holiday is
     * not a due date; take Tue 3 Nov): 4-6 (3), 9-13 (8), 16 is a holiday,
     * 17-20 (12), 23-27 (17), 30 Nov - 4 Dec (22), 7, 9, 10, 11 (26; 8 Dec
     * is a holiday), 14-17 (30). */
    ASSERT_STREQ(fmt(vt_casework_extension_limit(cal, D(2026, 11, 3), 30)), "2026-12-17");
}

static void test_transfer_term(const struct vt_calendar *cal)
{
    /* Filed 17 March: 18, 19, 20, 24, 25 are the five business days. */
    ASSERT_TRUE(vt_casework_transfer_in_term(cal, D(2026, 3, 17), D(2026, 3, 17)));
    ASSERT_TRUE(vt_casework_transfer_in_term(cal, D(2026, 3, 17), D(2026, 3, 25)));
    ASSERT_TRUE(!vt_casework_transfer_in_term(cal, D(2026, 3, 17), D(2026, 3, 26)));
}

static bool allows_on(const struct vt_calendar *cal, const struct vt_staff *who,
                      const struct vt_case_facts *f, vt_date_t today, const char *action)
{
    const char *acts[16];
    size_t n = vt_casework_allowed(cal, who, f, today, acts, 16);
    for (size_t i = 0; i < n; i++)
        if (strcmp(acts[i], action) == 0)
            return true;
    return false;
}

/* By role and status only (no calendar: the legal limits are not checked). */
static bool allows(const struct vt_staff *who, const char *status, const char *action)
{
    struct vt_case_facts f = {status, 15, "", "", "", 0};
    return allows_on(NULL, who, &f, D(2026, 3, 17), action);
}

static void test_allowed(const struct vt_calendar *cal)
{
    struct vt_staff agente = {.role = VT_ROLE_AGENTE}, coord = {.role = VT_ROLE_COORDINADOR},
                    gerente = {.role = VT_ROLE_GERENTE};
    ASSERT_TRUE(allows(&agente, "radicado", "respond"));
    ASSERT_TRUE(!allows(&agente, "radicado", "extend")); /* a coordinador approves it */
    ASSERT_TRUE(allows(&coord, "en_tramite", "extend"));
    ASSERT_TRUE(!allows(&coord, "pendiente_completar", "extend"));
    ASSERT_TRUE(allows(&coord, "pendiente_completar", "complete"));
    ASSERT_TRUE(!allows(&agente, "cerrado", "reopen"));
    ASSERT_TRUE(allows(&coord, "cerrado", "reopen"));
    ASSERT_TRUE(allows(&coord, "trasladado", "note"));
    ASSERT_TRUE(!allows(&coord, "trasladado", "respond"));
    const char *acts[16];
    struct vt_case_facts any = {"radicado", 15, "2026-03-17", "2026-04-10", "", 0};
    ASSERT_EQ(vt_casework_allowed(cal, &gerente, &any, D(2026, 3, 18), acts, 16), 0);
    ASSERT_TRUE(vt_casework_term_runs("en_tramite"));
    ASSERT_TRUE(!vt_casework_term_runs("pendiente_completar"));

    /* The legal limits: filed 17 March, due 10 April. */
    struct vt_case_facts f = {"en_tramite", 15, "2026-03-17", "2026-04-10", "", 0};
    ASSERT_TRUE(allows_on(cal, &coord, &f, D(2026, 4, 10), "extend"));  /* on the due date */
    ASSERT_TRUE(!allows_on(cal, &coord, &f, D(2026, 4, 13), "extend")); /* after it */
    ASSERT_TRUE(allows_on(cal, &coord, &f, D(2026, 4, 1), "request_completion")); /* day 10 */
    ASSERT_TRUE(!allows_on(cal, &coord, &f, D(2026, 4, 6), "request_completion"));
    struct vt_case_facts extended = {"en_tramite", 15, "2026-03-17", "2026-05-04", "2026-04-10", 0};
    ASSERT_TRUE(!allows_on(cal, &coord, &extended, D(2026, 4, 1), "extend")); /* only once */
    struct vt_case_facts felicitacion = {"radicado", -1, "2026-03-17", "", "", 0};
    ASSERT_TRUE(!allows_on(cal, &coord, &felicitacion, D(2026, 3, 18), "extend"));
    ASSERT_TRUE(!allows_on(cal, &coord, &felicitacion, D(2026, 3, 18), "request_completion"));
    ASSERT_TRUE(allows_on(cal, &coord, &felicitacion, D(2026, 3, 18), "respond"));

    /* A letter to mark delivered: only while one is pending, in any state. */
    struct vt_case_facts letter = {"cerrado", 15, "2026-03-17", "2026-04-10", "", 1};
    ASSERT_TRUE(allows_on(cal, &agente, &letter, D(2026, 4, 20), "deliver_letter"));
    ASSERT_TRUE(!allows_on(cal, &gerente, &letter, D(2026, 4, 20), "deliver_letter"));
    letter.pending_letters = 0;
    ASSERT_TRUE(!allows_on(cal, &agente, &letter, D(2026, 4, 20), "deliver_letter"));
    ASSERT_TRUE(!allows(&coord, "respondido", "deliver_letter"));
}

static void test_scope(void)
{
    struct vt_config cfg = {0};
    cfg.staff.triage_dependencia = "atencion_ciudadano";
    struct vt_staff triage = {.role = VT_ROLE_AGENTE, .dependencia = "atencion_ciudadano"};
    struct vt_staff obras = {.role = VT_ROLE_COORDINADOR, .dependencia = "obras"};
    struct vt_staff nobody = {.role = VT_ROLE_AGENTE};
    struct vt_staff admin = {.role = VT_ROLE_ADMIN, .dependencia = "obras"};
    struct vt_staff gerente = {.role = VT_ROLE_GERENTE};
    ASSERT_TRUE(vt_staff_in_scope(&cfg, &triage, NULL)); /* not routed yet */
    ASSERT_TRUE(!vt_staff_in_scope(&cfg, &obras, NULL));
    ASSERT_TRUE(vt_staff_in_scope(&cfg, &obras, "obras"));
    ASSERT_TRUE(!vt_staff_in_scope(&cfg, &triage, "obras"));
    ASSERT_TRUE(!vt_staff_in_scope(&cfg, &nobody, NULL));
    ASSERT_TRUE(!vt_staff_in_scope(&cfg, &admin, "obras"));
    ASSERT_TRUE(vt_staff_in_scope(&cfg, &gerente, "obras"));
}

int main(void)
{
    struct vt_calendar cal;
    vt_calendar_init(&cal);
    test_completion_window(&cal);
    test_resumed_term(&cal);
    test_extension_limit(&cal);
    test_transfer_term(&cal);
    test_allowed(&cal);
    test_scope();
    vt_calendar_cleanup(&cal);
    VT_TEST_END();
}
