/*
 * tools/report_html.c: the audit report is escaped, self-contained, scales
 * cents to pixels with integer arithmetic, renders an ACO with no data, and
 * flags every unverified figure where an auditor will see it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "daemon/rc.h"
#include "tools/report_html.h"

/* What @p fn wrote for @p arg, as a new string (free()). */
static char *
capture_year(void (*fn)(FILE *, const struct ctl_report_year *),
             const struct ctl_report_year *y)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        cr_assert(not(zero(ptr, f)));
        fn(f, y);
        cr_assert(eq(int, fclose(f), 0));
        return buf;
}

static char *
capture_report(const struct ctl_report *r)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        cr_assert(not(zero(ptr, f)));
        cr_assert(eq(int, ctl_report_html(f, r), CLM_OK));
        cr_assert(eq(int, fclose(f), 0));
        return buf;
}

static char *
escaped(const char *s)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        cr_assert(not(zero(ptr, f)));
        ctl_html_escape(f, s);
        cr_assert(eq(int, fclose(f), 0));
        return buf;
}

static size_t
count(const char *hay, const char *needle)
{
        size_t n = 0;

        for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
                n++;
        }
        return n;
}

static struct ctl_report_year
empty_year(const char *aco, int32_t year)
{
        struct ctl_report_year y;

        memset(&y, 0, sizeof(y));
        (void)snprintf(y.aco, sizeof(y.aco), "%s", aco);
        y.year = year;
        y.quality_score_bp = -1;
        return y;
}

static struct ctl_report
report_of(const struct ctl_report_year *years,
          size_t n_years,
          const char (*acos)[CLM_ACO_MAX],
          size_t n_acos)
{
        struct ctl_report r;

        memset(&r, 0, sizeof(r));
        strcpy(r.name, "audit-1");
        strcpy(r.prefix, "claimsd:replay:audit-1:");
        strcpy(r.live_prefix, "claimsd:");
        strcpy(r.state, "complete");
        r.created_ms = 1795600000000;
        r.finished_ms = 1795600060000;
        r.generated_ms = 1795600120000;
        r.years = years;
        r.n_years = n_years;
        r.acos = acos;
        r.n_acos = n_acos;
        return r;
}

Test(report_html, escapes_markup_quotes_and_drops_control_characters)
{
        char *s = escaped("<script>alert(\"x\")</script>&'\x01\tok\n");

        cr_assert(eq(str, s,
                     (char *)"&lt;script&gt;alert(&quot;x&quot;)&lt;/script"
                             "&gt;&amp;&#39;\tok\n"));
        free(s);
}

Test(report_html, every_stored_text_is_escaped_in_the_document)
{
        static const char acos[1][CLM_ACO_MAX] = {"A<1>"};
        struct ctl_report_year y = empty_year("A<1>", 2025);
        struct ctl_report_field proj = {"outcome", "<b>savings</b>"};
        struct ctl_report_param pp = {"program", "MSSP<x>", CTL_PARAM_SETTING};
        struct ctl_report r;
        char *s;

        y.projection = &proj;
        y.n_projection = 1;
        y.params = &pp;
        y.n_params = 1;
        r = report_of(&y, 1, acos, 1);
        strcpy(r.until, "2026-06-30\"><img src=x>");
        strcpy(r.config_sha256, "<sha>");
        s = capture_report(&r);
        cr_assert(zero(ptr, strstr(s, "A<1>")));
        cr_assert(zero(ptr, strstr(s, "<b>savings")));
        cr_assert(zero(ptr, strstr(s, "<img")));
        cr_assert(zero(ptr, strstr(s, "<sha>")));
        cr_assert(zero(ptr, strstr(s, "MSSP<x>")));
        cr_assert(not(zero(ptr, strstr(s, "A&lt;1&gt;"))));
        cr_assert(not(zero(ptr, strstr(s, "&lt;b&gt;savings&lt;/b&gt;"))));
        free(s);
}

Test(report_html, document_is_self_contained)
{
        static const char acos[1][CLM_ACO_MAX] = {"A0001"};
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report r = report_of(&y, 1, acos, 1);
        char *s = capture_report(&r);

        cr_assert(eq(int, strncmp(s, "<!DOCTYPE html>", 15), 0));
        cr_assert(not(zero(ptr, strstr(s, "default-src 'none'"))));
        cr_assert(not(zero(ptr, strstr(s, "<svg"))));
        cr_assert(zero(ptr, strstr(s, "<script")));
        cr_assert(zero(ptr, strstr(s, "http:")));
        cr_assert(zero(ptr, strstr(s, "https:")));
        cr_assert(zero(ptr, strstr(s, "//")));
        cr_assert(zero(ptr, strstr(s, " src=")));
        cr_assert(eq(sz, count(s, "href=\""), count(s, "href=\"#")));
        cr_assert(not(zero(ptr, strstr(s, "</html>\n"))));
        free(s);
}

Test(report_html, scale_is_integer_rounded_and_clamped)
{
        cr_assert(eq(i64, ctl_report_scale(50, 100, 240), 120));
        cr_assert(eq(i64, ctl_report_scale(0, 100, 240), 0));
        cr_assert(eq(i64, ctl_report_scale(-5, 100, 240), 0));
        cr_assert(eq(i64, ctl_report_scale(100, 100, 240), 240));
        cr_assert(eq(i64, ctl_report_scale(500, 100, 240), 240));
        /* 0.5 px rounds up, 0.49 px down. */
        cr_assert(eq(i64, ctl_report_scale(1, 480, 240), 1));
        cr_assert(eq(i64, ctl_report_scale(49, 24000, 240), 0));
        /* value * px is far beyond 2^63 here. */
        cr_assert(eq(i64, ctl_report_scale(INT64_MAX / 2, INT64_MAX - 1, 240),
                     120));
        cr_assert(eq(i64, ctl_report_scale(1, 0, 240), 0));
}

Test(report_html, axis_tops_are_1_2_5_times_a_power_of_ten_cents)
{
        cr_assert(eq(i64, ctl_report_axis_max(0), 100));
        cr_assert(eq(i64, ctl_report_axis_max(-700), 100));
        cr_assert(eq(i64, ctl_report_axis_max(100), 100));
        cr_assert(eq(i64, ctl_report_axis_max(101), 200));
        cr_assert(eq(i64, ctl_report_axis_max(250), 500));
        cr_assert(eq(i64, ctl_report_axis_max(501), 1000));
        cr_assert(eq(i64, ctl_report_axis_max(123456), 200000));
        cr_assert(eq(i64, ctl_report_axis_max(INT64_MAX), INT64_MAX));
}

Test(report_html, per_capita_month_rounds_half_away_from_zero)
{
        cr_assert(eq(i64, ctl_report_per_capita_month(1000, 24), 500));
        cr_assert(eq(i64, ctl_report_per_capita_month(1, 24), 1));
        cr_assert(eq(i64, ctl_report_per_capita_month(-1, 24), -1));
        cr_assert(eq(i64, ctl_report_per_capita_month(1, 25), 0));
        cr_assert(eq(i64, ctl_report_per_capita_month(1000, 0), 0));
}

Test(report_html, chart_scales_cents_to_pixels_against_the_benchmark)
{
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report_field bmk = {"benchmark_per_capita_cents", "120000"};
        char *s;

        /* 12 person-months = 1 beneficiary: per capita = paid. Benchmark
         * $1200.00 a year = $100.00 a month = the axis top (10000 cents). */
        y.person_months = 12;
        y.paid[1] = 5000;
        y.paid[2] = 10000;
        y.paid[3] = 2500;
        y.projection = &bmk;
        y.n_projection = 1;
        s = capture_year(ctl_report_chart, &y);
        cr_assert(not(zero(ptr, strstr(s, "height=\"120\""))), "%s", s);
        cr_assert(not(zero(ptr, strstr(s, "height=\"240\""))));
        cr_assert(not(zero(ptr, strstr(s, "height=\"60\""))));
        cr_assert(eq(sz, count(s, "class=\"bar\""), 12));
        cr_assert(not(zero(ptr, strstr(s, "class=\"benchmark\" x1=\"110\" "
                                          "y1=\"30\""))));
        cr_assert(not(zero(ptr, strstr(s, ">$100.00</text>"))));
        cr_assert(not(zero(ptr, strstr(s, ">$50.00</text>"))));
        cr_assert(not(zero(ptr, strstr(s, "= $100.00 (from the "
                                          "projection)</text>"))));
        cr_assert(not(zero(ptr, strstr(s, "Jan 2025: $50.00"))));
        free(s);
}

Test(report_html, chart_takes_the_benchmark_of_the_settlement_record_first)
{
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report_field bmk = {"benchmark_per_capita_cents", "120000"};
        struct clm_payment p;
        char *s;

        /* The projection stops at the settlement; the record is the figure
         * as of the cutoff: $2400.00 a year, $200.00 a month. */
        clm_payment_init(&p, "A0001", "MSSP", "shared_savings", "2025", 2025);
        cr_assert(clm_payment_input(&p, "benchmark_per_capita_cents", 240000));
        y.person_months = 12;
        y.paid[1] = 5000;
        y.projection = &bmk;
        y.n_projection = 1;
        y.payments = &p;
        y.n_payments = 1;
        s = capture_year(ctl_report_chart, &y);
        cr_assert(not(zero(ptr, strstr(s, "= $200.00 (from the settlement "
                                          "record)</text>"))),
                  "%s", s);
        cr_assert(not(zero(ptr, strstr(s, "class=\"benchmark\" x1=\"110\" "
                                          "y1=\"30\""))));
        free(s);
        y.projection = NULL;
        y.n_projection = 0;
        y.n_payments = 0;
        s = capture_year(ctl_report_chart, &y);
        cr_assert(zero(ptr, strstr(s, "class=\"benchmark\"")));
        cr_assert(not(zero(ptr, strstr(s, "no benchmark stored"))));
        free(s);
}

Test(report_html, chart_without_population_shows_totals_and_no_benchmark)
{
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report_field bmk = {"benchmark_per_capita_cents", "120000"};
        char *s;

        y.paid[12] = 123456;
        y.projection = &bmk;
        y.n_projection = 1;
        s = capture_year(ctl_report_chart, &y);
        cr_assert(zero(ptr, strstr(s, "class=\"benchmark\"")));
        cr_assert(not(zero(ptr, strstr(s, "no assigned population"))));
        cr_assert(not(zero(ptr, strstr(s, "Dec 2025: $1234.56"))));
        cr_assert(not(zero(ptr, strstr(s, ">$2000.00</text>"))));
        free(s);
}

Test(report_html, aco_with_no_data_is_listed_and_a_year_with_nothing_renders)
{
        static const char acos[2][CLM_ACO_MAX] = {"A0001", "A0009"};
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report r = report_of(&y, 1, acos, 2);
        char *s = capture_report(&r);

        cr_assert(
                not(zero(ptr, strstr(s, "A0009: no data under this prefix"))));
        cr_assert(eq(sz, count(s, "<section"), 1));
        cr_assert(not(zero(ptr, strstr(s, "No projection stored"))));
        cr_assert(not(zero(ptr, strstr(s, "No parameter set stored"))));
        cr_assert(not(zero(ptr, strstr(s, "Payments issued (0)"))));
        cr_assert(not(zero(ptr, strstr(s, "No measures defined"))));
        cr_assert(zero(ptr, strstr(s, "UNVERIFIED")));
        free(s);
        r = report_of(NULL, 0, acos + 1, 1);
        s = capture_report(&r);
        cr_assert(eq(sz, count(s, "<section"), 0));
        cr_assert(not(zero(ptr, strstr(s, "A0009: no data"))));
        free(s);
}

Test(report_html, unverified_figures_are_flagged_and_counted)
{
        static const char acos[1][CLM_ACO_MAX] = {"A0001"};
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report_param pp[3] = {
                {"program", "MSSP", CTL_PARAM_SETTING},
                {"assign.min_benes", "5000", CTL_PARAM_VERIFIED},
                {"sharing.rate", "400000", CTL_PARAM_UNVERIFIED},
        };
        struct ctl_report r;
        char *s;
        char *row;

        y.params = pp;
        y.n_params = 3;
        r = report_of(&y, 1, acos, 1);
        s = capture_report(&r);
        cr_assert(
                not(zero(ptr, strstr(s, "1 unverified figure in 1 ACO-year"))));
        cr_assert(not(zero(ptr, strstr(s, "Parameters (1 unverified)"))));
        row = strstr(s, "<tr class=\"unv\"><td><code>sharing.rate");
        cr_assert(not(zero(ptr, row)));
        cr_assert(lt(ptr, (void *)strstr(row, "UNVERIFIED"),
                     (void *)strstr(row, "</tr>")));
        cr_assert(zero(ptr, strstr(s, "<tr class=\"unv\"><td><code>assign")));
        cr_assert(not(
                zero(ptr, strstr(s, "<code>5000</code></td><td>verified"))));
        cr_assert(
                not(zero(ptr, strstr(s, "<code>MSSP</code></td><td>setting"))));
        free(s);
}

Test(report_html, projection_steps_in_their_units_and_unverified_flag)
{
        static const char acos[1][CLM_ACO_MAX] = {"A0001"};
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report_field p[5] = {
                {"net_cents", "-123456"}, {"savings_rate_ppm", "28800"},
                {"quality_bp", "7385"},   {"verified", "0"},
                {"future_field", "x<y"},
        };
        struct ctl_report r;
        char *s;

        y.projection = p;
        y.n_projection = 5;
        r = report_of(&y, 1, acos, 1);
        s = capture_report(&r);
        cr_assert(not(zero(ptr, strstr(s, "-$1234.56"))));
        cr_assert(not(zero(ptr, strstr(s, "2.8800%"))));
        cr_assert(not(zero(ptr, strstr(s, "73.85%"))));
        cr_assert(not(zero(ptr, strstr(s, "no <span class=\"unverified\">"
                                          "UNVERIFIED</span>"))));
        cr_assert(not(zero(ptr, strstr(s, "x&lt;y"))));
        cr_assert(zero(ptr, strstr(s, "settlement of this year was issued")));
        free(s);
}

Test(report_html, payments_show_every_field_with_amounts_in_dollars)
{
        static const char acos[1][CLM_ACO_MAX] = {"A0001"};
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct clm_payment p[2];
        struct ctl_report_field proj = {"net_cents", "100"};
        struct ctl_report r;
        char *s;

        clm_payment_init(&p[0], "A0001", "MSSP", "shared_savings", "2025",
                         2025);
        p[0].amount_cents = 264000000;
        p[0].as_of_ms = 1775001600000; /* 2026-04-01 */
        strcpy(p[0].parameter_version, "abc123");
        p[0].verified = false;
        cr_assert(clm_payment_input(&p[0], "gross_cents", 660000000));
        cr_assert(clm_payment_input(&p[0], "sharing_rate_ppm", 400000));
        cr_assert(clm_payment_input(&p[0], "assigned_benes", 6000));
        cr_assert(clm_payment_input(&p[0], "exp_cents.E", 123));
        clm_payment_init(&p[1], "A0001", "MSSP", "recoupment", "2025", 2025);
        p[1].amount_cents = -73000;
        p[1].verified = true;
        y.payments = p;
        y.n_payments = 2;
        y.projection = &proj;
        y.n_projection = 1;
        r = report_of(&y, 1, acos, 1);
        s = capture_report(&r);
        cr_assert(not(zero(ptr, strstr(s, "A0001:MSSP:2025:shared_savings"))));
        cr_assert(not(zero(ptr, strstr(s, "A0001:MSSP:2025:recoupment"))));
        cr_assert(not(zero(ptr, strstr(s, "$2640000.00"))));
        cr_assert(not(zero(ptr, strstr(s, "-$730.00"))));
        cr_assert(
                not(zero(ptr, strstr(s, "gross_cents</code> = $6600000.00"))));
        cr_assert(not(
                zero(ptr, strstr(s, "sharing_rate_ppm</code> = 40.0000%"))));
        cr_assert(not(zero(ptr, strstr(s, "assigned_benes</code> = 6000"))));
        cr_assert(not(zero(ptr, strstr(s, "exp_cents.E</code> = $1.23"))));
        cr_assert(not(zero(ptr, strstr(s, "2026-04-01 00:00:00 UTC"))));
        cr_assert(not(zero(ptr, strstr(s, "<code>abc123</code>"))));
        cr_assert(not(zero(ptr, strstr(s, "Payments issued (2)"))));
        /* A stored projection stops moving once the settlement is issued. */
        cr_assert(not(zero(ptr, strstr(s, "settlement of this year was "
                                          "issued"))));
        cr_assert(not(zero(ptr, strstr(s, "$2639270.00"))));
        cr_assert(
                eq(sz, count(s, "<tr class=\"unv\"><td><code>A0001:MSSP"), 1));
        free(s);
}

Test(report_html, measures_as_claimsctl_quality_shows_them)
{
        static const char acos[1][CLM_ACO_MAX] = {"A0001"};
        struct ctl_report_year y = empty_year("A0001", 2025);
        struct ctl_report_measure m = {
                .id = "001",
                .name = "HbA1c Poor Control (>9%)",
                .lower_is_better = true,
                .verified = false,
                .den = 200,
                .num = 30,
                .excl = 4,
                .rate_bp = 1500,
                .scored = true,
                .points_x100 = 185,
        };
        struct ctl_report r;
        char *s;

        y.measures = &m;
        y.n_measures = 1;
        y.quality_score_bp = 9250;
        r = report_of(&y, 1, acos, 1);
        s = capture_report(&r);
        cr_assert(not(zero(ptr, strstr(s, "HbA1c Poor Control (&gt;9%)"))));
        cr_assert(not(zero(ptr, strstr(s, "lower is better"))));
        cr_assert(not(zero(ptr, strstr(s, ">200</td>"))));
        cr_assert(not(zero(ptr, strstr(s, ">15.00%"))));
        cr_assert(not(zero(ptr, strstr(s, ">1.85</td>"))));
        cr_assert(not(zero(ptr, strstr(s, "Quality score: 92.50%"))));
        cr_assert(not(zero(ptr, strstr(s, "<tr class=\"unv\"><td>001"))));
        free(s);
}

Test(report_html, replay_not_finished_is_said)
{
        struct ctl_report r = report_of(NULL, 0, NULL, 0);
        char *s;

        strcpy(r.state, "running");
        s = capture_report(&r);
        cr_assert(not(zero(ptr, strstr(s, "has not finished"))));
        cr_assert(not(zero(ptr, strstr(s, "2026-11-25"))));
        free(s);
}

Test(report_html, ranges_show_message_counts)
{
        struct ctl_report_range g[2] = {
                {"claims", 0, 100, 350},
                {"claims", 1, 0, 20},
        };
        struct ctl_report r = report_of(NULL, 0, NULL, 0);
        char *s;

        r.ranges = g;
        r.n_ranges = 2;
        s = capture_report(&r);
        cr_assert(not(zero(ptr, strstr(s, ">250</td>"))));
        cr_assert(not(zero(ptr, strstr(s, ">270</td>"))));
        free(s);
}

Test(report_html, write_error_is_reported)
{
        struct ctl_report r = report_of(NULL, 0, NULL, 0);
        FILE *f = fopen("/dev/full", "w");

        cr_assert(not(zero(ptr, f)));
        /* Unbuffered, so the first write already fails. */
        cr_assert(eq(int, setvbuf(f, NULL, _IONBF, 0), 0));
        cr_assert(eq(int, ctl_report_html(f, &r), CLM_ERR_IO));
        (void)fclose(f);
}
