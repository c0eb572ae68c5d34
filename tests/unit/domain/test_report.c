/* test_report.c - unit tests for the pure parts of report.c: business days
 * of a response (holidays, weekends, an entity's extra days off), the range
 * checks, the outcome of an item, the topic counter (stopwords, accents,
 * once per subject, ties), and the CSV and HTML of hostile names.
 */
#include "api/report_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "vt_test.h"
#include "core/csv.h"

static vt_date_t D(const char *s)
{
    vt_date_t d = {0, 0, 0};
    if (vt_date_parse(s, &d))
        fprintf(stderr, "bad test date %s\n", s);
    return d;
}

static int bd(const struct vt_calendar *cal, const char *a, const char *b)
{
    return vt_report_business_days(cal, D(a), D(b));
}

static void test_business_days(void)
{
    /* Answered the same day, or (after hours) before the filing day: 0. */
    ASSERT_EQ(bd(NULL, "2025-03-04", "2025-03-04"), 0);
    ASSERT_EQ(bd(NULL, "2025-03-04", "2025-03-03"), 0);
    /* Friday 3 Jan 2025 -> Tuesday 7 Jan: Monday 6 Jan is Reyes (moved). */
    ASSERT_EQ(bd(NULL, "2025-01-03", "2025-01-07"), 1);
    /* Holy week 2025: 17 and 18 April are holidays. */
    ASSERT_EQ(bd(NULL, "2025-04-14", "2025-04-21"), 3);
    /* An answer on a Sunday counts the business days up to it. */
    ASSERT_EQ(bd(NULL, "2025-03-03", "2025-03-09"), 4);
    /* Over a year end: 2025-12-24 (Wed) -> 2026-01-02 (Fri): 26, 29, 30,
     * 31 December and 2 January (25 Dec and 1 Jan are holidays). */
    ASSERT_EQ(bd(NULL, "2025-12-24", "2026-01-02"), 5);
    /* An entity's extra day off is not a business day. */
    struct vt_calendar cal;
    vt_calendar_init(&cal);
    ASSERT_EQ(vt_calendar_add_non_working(&cal, D("2025-04-15")), 0);
    ASSERT_EQ(bd(&cal, "2025-04-14", "2025-04-21"), 2);
    /* The inverse of the due-date arithmetic: n business days after a
     * filing day is n business days of response time. */
    vt_date_t filed = D("2025-06-27");
    for (int n = 0; n <= 45; n++) {
        vt_date_t due = vt_calendar_add_business_days(&cal, filed, n);
        ASSERT_EQ(vt_report_business_days(&cal, filed, due), n);
    }
    vt_calendar_cleanup(&cal);
}

static int range(const char *f, const char *t, const char **field)
{
    vt_date_t a, b;
    char msg[200] = "";
    *field = NULL;
    int rc = vt_report_range(f, t, &a, &b, field, msg, sizeof(msg));
    if (rc)
        ASSERT_TRUE(msg[0] != '\0');
    return rc;
}

static void test_range(void)
{
    const char *field;
    ASSERT_EQ(range("2025-01-01", "2025-03-31", &field), 0);
    ASSERT_EQ(range("2025-01-01", "2025-01-01", &field), 0);
    ASSERT_EQ(range(NULL, "2025-03-31", &field), VT_EINVAL);
    ASSERT_STREQ(field, "from");
    ASSERT_EQ(range("2025-1-01", "2025-03-31", &field), VT_EINVAL);
    ASSERT_STREQ(field, "from");
    ASSERT_EQ(range("2025-01-01", "2025-02-30", &field), VT_EINVAL);
    ASSERT_STREQ(field, "to");
    ASSERT_EQ(range("2025-01-01", "", &field), VT_EINVAL);
    ASSERT_STREQ(field, "to");
    ASSERT_EQ(range("2025-04-01", "2025-03-31", &field), VT_EINVAL);
    ASSERT_STREQ(field, "to");
    /* Up to five years: the last day before the fifth anniversary. */
    ASSERT_EQ(range("2020-01-01", "2024-12-31", &field), 0);
    ASSERT_EQ(range("2020-01-01", "2025-01-01", &field), VT_EINVAL);
    ASSERT_STREQ(field, "to");
    ASSERT_EQ(range("2024-02-29", "2029-02-28", &field), 0);
    ASSERT_EQ(range("2024-02-29", "2029-03-01", &field), VT_EINVAL);
}

static void test_outcome(void)
{
    const char *as_of = "2025-03-31";
    ASSERT_EQ(vt_report_outcome_of("respondido", "2025-03-10", "2025-03-10", as_of),
              VT_OUT_ON_TIME);
    ASSERT_EQ(vt_report_outcome_of("cerrado", "2025-03-11", "2025-03-10", as_of), VT_OUT_LATE);
    /* An answer decides, whatever the status became afterwards. */
    ASSERT_EQ(vt_report_outcome_of("trasladado", "2025-03-01", "2025-03-10", as_of),
              VT_OUT_ON_TIME);
    /* No term (felicitación): never late, never overdue. */
    ASSERT_EQ(vt_report_outcome_of("respondido", "2026-01-01", "", as_of), VT_OUT_ON_TIME);
    ASSERT_EQ(vt_report_outcome_of("radicado", "", "", as_of), VT_OUT_PENDING);
    /* Due on the cut-off day: still in term; the day before: overdue. */
    ASSERT_EQ(vt_report_outcome_of("en_tramite", "", "2025-03-31", as_of), VT_OUT_PENDING);
    ASSERT_EQ(vt_report_outcome_of("en_tramite", "", "2025-03-30", as_of), VT_OUT_OVERDUE);
    ASSERT_EQ(vt_report_outcome_of("pendiente_completar", "", "2025-01-01", as_of),
              VT_OUT_SUSPENDED);
    ASSERT_EQ(vt_report_outcome_of("desistido", "", "2025-01-01", as_of), VT_OUT_WITHDRAWN);
    ASSERT_EQ(vt_report_outcome_of("trasladado", "", "2025-01-01", as_of), VT_OUT_TRANSFERRED);
    ASSERT_EQ(vt_report_outcome_of("cerrado", "", "2025-01-01", as_of), VT_OUT_CLOSED);
    ASSERT_STREQ(vt_report_outcome_code(VT_OUT_OVERDUE), "pendiente_vencida");
    ASSERT_STREQ(vt_report_outcome_code(VT_OUT_CLOSED), "cerrada_sin_respuesta");
}

/* The top topics as "word/label=count word/label=count ...". */
static void top_text(const struct vt_report_topics *t, size_t cap, char *out, size_t n)
{
    struct vt_report_topic top[32];
    size_t k = vt_report_topics_top(t, top, cap < 32 ? cap : 32), o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s/%s=%lld", i ? " " : "", top[i].word,
                              top[i].label, top[i].count);
}

static void test_topics(void)
{
    ASSERT_TRUE(vt_report_stopword("de"));
    ASSERT_TRUE(vt_report_stopword("solicitud"));
    ASSERT_TRUE(vt_report_stopword("peticion"));
    ASSERT_TRUE(vt_report_stopword("tambien"));
    ASSERT_TRUE(vt_report_stopword("a"));
    ASSERT_TRUE(vt_report_stopword("yo"));
    ASSERT_TRUE(vt_report_stopword("consulta"));
    ASSERT_TRUE(vt_report_stopword("usted"));
    ASSERT_TRUE(!vt_report_stopword("informacion"));
    ASSERT_TRUE(!vt_report_stopword("alumbrado"));
    ASSERT_TRUE(!vt_report_stopword(""));

    struct vt_report_topics t = {0};
    char s[1024];
    ASSERT_EQ(vt_report_topics_add(&t, "Solicitud de información sobre el alumbrado"), 0);
    ASSERT_EQ(vt_report_topics_add(&t, "Alumbrado público dañado en la vía 2024"), 0);
    /* Twice in one subject counts once; accents and case fold together. */
    ASSERT_EQ(vt_report_topics_add(&t, "INFORMACIÓN: alumbrado, ALUMBRADO y más"), 0);
    ASSERT_EQ(vt_report_topics_add(&t, "¿Cuándo arreglan la vía?"), 0);
    ASSERT_EQ(vt_report_topics_add(&t, NULL), 0);
    ASSERT_EQ(vt_report_topics_add(&t, ""), 0);
    top_text(&t, 10, s, sizeof(s));
    /* Ties by the folded word; the label is the first spelling, lowercased. */
    ASSERT_STREQ(s, "alumbrado/alumbrado=3 informacion/información=2 via/vía=2 "
                    "arreglan/arreglan=1 danado/dañado=1 publico/público=1");
    top_text(&t, 2, s, sizeof(s));
    ASSERT_STREQ(s, "alumbrado/alumbrado=3 informacion/información=2");
    vt_report_topics_cleanup(&t);

    /* Markup is cut into plain words; digits alone and short words go. */
    ASSERT_EQ(vt_report_topics_add(&t, "<script>alert(1)</script> ok 12345 x1z"), 0);
    top_text(&t, 10, s, sizeof(s));
    ASSERT_STREQ(s, "alert/alert=1 script/script=1 x1z/x1z=1");
    vt_report_topics_cleanup(&t);

    /* Many distinct words grow the table; a long word is cut at 64 bytes. */
    char long_word[200];
    memset(long_word, 'z', 150);
    long_word[150] = '\0';
    ASSERT_EQ(vt_report_topics_add(&t, long_word), 0);
    for (int i = 0; i < 2000; i++) {
        char subj[64];
        snprintf(subj, sizeof(subj), "palabra%d comun", i);
        ASSERT_EQ(vt_report_topics_add(&t, subj), 0);
    }
    struct vt_report_topic top[3];
    size_t k = vt_report_topics_top(&t, top, 3);
    ASSERT_EQ(k, 3);
    ASSERT_STREQ(top[0].word, "comun");
    ASSERT_EQ(top[0].count, 2000);
    ASSERT_EQ(t.n, 2002);
    bool found = false;
    for (size_t i = 0; i < t.cap; i++)
        if (t.slots[i].word[0] == 'z') {
            found = true;
            ASSERT_EQ(strlen(t.slots[i].word), 64);
        }
    ASSERT_TRUE(found);
    vt_report_topics_cleanup(&t);
    vt_report_topics_cleanup(NULL);
}

static void csv1(const char *in, const char *want)
{
    struct vt_buf b = {0};
    ASSERT_EQ(vt_csv_field(&b, in), 0);
    ASSERT_STREQ(b.data ? b.data : "", want);
    vt_buf_cleanup(&b);
}

static void test_csv_field(void)
{
    csv1("Obras públicas", "Obras públicas");
    csv1(NULL, "");
    csv1("", "");
    csv1("Obras, vías", "\"Obras, vías\"");
    csv1("La \"mejor\" oficina", "\"La \"\"mejor\"\" oficina\"");
    csv1("\"", "\"\"\"\"");
    csv1("línea 1\r\nlínea 2", "\"línea 1\r\nlínea 2\"");
    csv1("solo\nLF", "\"solo\nLF\"");
    /* Formula injection: kept as text. */
    csv1("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    csv1("+57 300", "\"'+57 300\"");
    csv1("@SUM(A1)", "\"'@SUM(A1)\"");
    csv1("a=b", "a=b");
}

static void test_renderings(void)
{
    struct vt_report_pqrsd p;
    memset(&p, 0, sizeof(p));
    snprintf(p.from, sizeof(p.from), "2025-01-01");
    snprintf(p.to, sizeof(p.to), "2025-03-31");
    snprintf(p.as_of, sizeof(p.as_of), "2025-03-31");
    struct vt_report_row rows[1];
    memset(rows, 0, sizeof(rows));
    snprintf(rows[0].key, sizeof(rows[0].key), "control");
    snprintf(rows[0].label, sizeof(rows[0].label),
             "Control <script>alert(\"x\")</script>, \"Interno\"\ny más");
    rows[0].received = 1234;
    rows[0].on_time = 3;
    rows[0].late = 1;
    rows[0].days_sum = 18;
    p.by_dependencia.v = rows;
    p.by_dependencia.n = 1;
    p.total = rows[0];
    snprintf(p.total.key, sizeof(p.total.key), "total");
    snprintf(p.total.label, sizeof(p.total.label), "Total");
    p.outcomes[VT_OUT_ON_TIME] = 3;

    struct vt_buf b = {0};
    ASSERT_EQ(vt_report_pqrsd_html(&p, "Entidad <b>de prueba</b>", 1735707600000, &b), 0);
    ASSERT_TRUE(strstr(b.data, "<script") == NULL);
    ASSERT_TRUE(strstr(b.data, "<b>") == NULL);
    ASSERT_TRUE(strstr(b.data, "Control &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, "
                               "&quot;Interno&quot;") != NULL);
    ASSERT_TRUE(strstr(b.data, "Entidad &lt;b&gt;de prueba&lt;/b&gt;") != NULL);
    ASSERT_TRUE(strstr(b.data, "style=") == NULL);
    ASSERT_TRUE(strstr(b.data, "<caption>") != NULL);
    ASSERT_TRUE(strstr(b.data, "<th scope=\"row\">") != NULL);
    ASSERT_TRUE(strstr(b.data, "<html lang=\"es-CO\">") != NULL);
    ASSERT_TRUE(strstr(b.data, ">1.234<") != NULL); /* thousands as es-CO writes them */
    ASSERT_TRUE(strstr(b.data, ">4,5<") != NULL);   /* 18 days / 4 answers */
    ASSERT_TRUE(strstr(b.data, "1 de enero de 2025") != NULL);
    vt_buf_cleanup(&b);

    ASSERT_EQ(vt_report_pqrsd_csv(&p, &b), 0);
    ASSERT_TRUE(strncmp(b.data,
                        "seccion,clave,descripcion,cantidad,a_tiempo,tarde,sin_respuesta,"
                        "promedio_dias_habiles\r\n",
                        87) == 0);
    ASSERT_TRUE(strstr(b.data,
                       "\r\npor_dependencia,control,\"Control <script>alert(\"\"x\"\")"
                       "</script>, \"\"Interno\"\"\ny más\",1234,3,1,1230,4.50\r\n") != NULL);
    ASSERT_TRUE(strstr(b.data, "\r\nperiodo,corte,2025-03-31,,,,,\r\n") != NULL);
    ASSERT_TRUE(strstr(b.data, "\r\nestado,a_tiempo,Respondidas a tiempo,3,,,,\r\n") != NULL);
    vt_buf_cleanup(&b);

    cJSON *o = vt_report_pqrsd_json(&p);
    ASSERT_TRUE(o != NULL);
    const cJSON *deps = cJSON_GetObjectItemCaseSensitive(o, "by_dependencia");
    const cJSON *d0 = cJSON_GetArrayItem(deps, 0);
    ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(d0, "unanswered")->valuedouble, 1230);
    ASSERT_TRUE(cJSON_GetObjectItemCaseSensitive(d0, "average_business_days")->valuedouble == 4.5);
    cJSON_Delete(o);
}

int main(void)
{
    test_business_days();
    test_range();
    test_outcome();
    test_topics();
    test_csv_field();
    test_renderings();
    VT_TEST_END();
}
