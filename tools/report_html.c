/*
 * Renders a struct ctl_report as one HTML file an auditor can archive and
 * open anywhere: nothing is fetched (the CSP forbids it, so a stray link
 * would show as a console error rather than a silent request), nothing
 * runs. This file owns presentation only: it never reads Redis, the clock
 * or the environment, and every string it did not write itself goes
 * through ctl_html_escape. Money stays in integer cents up to the moment
 * it is printed, and chart coordinates are integer pixels.
 */
#include "tools/report_html.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/rc.h"
#include "tools/money.h"

/* Chart geometry, in pixels: 12 slots of SLOT_W across the plot. */
#define CHART_W 760
#define CHART_H 330
#define PLOT_X  110
#define PLOT_Y  30
#define SLOT_W  52
#define BAR_W   34
#define PLOT_W  (12 * SLOT_W)
#define PLOT_H  240
#define TICKS   4

__extension__ typedef __int128 i128;

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr",
                                            "May", "Jun", "Jul", "Aug",
                                            "Sep", "Oct", "Nov", "Dec"};

void
ctl_html_escape(FILE *f, const char *s)
{
        for (; *s != '\0'; s++) {
                unsigned char ch = (unsigned char)*s;

                switch (ch) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\'':
                        fputs("&#39;", f);
                        break;
                default:
                        /* Control characters have no business in a report
                         * and some are not allowed in HTML at all. */
                        if (ch >= 0x20 || ch == '\t' || ch == '\n') {
                                fputc(ch, f);
                        }
                }
        }
}

int64_t
ctl_report_scale(int64_t value, int64_t axis_max, int64_t px)
{
        if (value <= 0 || axis_max <= 0) {
                return 0;
        }
        if (value >= axis_max) {
                return px;
        }
        /* 128 bits: value * px passes 2^63 for large totals in cents. */
        return (int64_t)(((i128)2 * value * px + axis_max) /
                         ((i128)2 * axis_max));
}

int64_t
ctl_report_axis_max(int64_t max)
{
        int64_t step = 100;

        for (;;) {
                if (max <= step) {
                        return step;
                }
                if (max <= 2 * step) {
                        return 2 * step;
                }
                if (max <= 5 * step) {
                        return 5 * step;
                }
                if (step > INT64_MAX / 100) {
                        return INT64_MAX;
                }
                step *= 10;
        }
}

int64_t
ctl_report_per_capita_month(int64_t paid, int64_t person_months)
{
        i128 n;

        if (person_months <= 0) {
                return 0;
        }
        n = (i128)paid * 12;
        return (int64_t)(n >= 0 ? (2 * n + person_months) /
                                          (2 * (i128)person_months)
                                : -((-2 * n + person_months) /
                                    (2 * (i128)person_months)));
}

/* "2026-11-25 13:06:16 UTC" from epoch ms; "not recorded" for 0. */
static const char *
utc(int64_t ms, char buf[48])
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;

        if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
            strftime(buf, 48, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
                (void)snprintf(buf, 48, "%s", "not recorded");
        }
        return buf;
}

/* A rate in @p scale units of 100% (ppm: 10^6, bp: 10^4) as a percent. */
static void
print_rate(FILE *f, int64_t v, int64_t scale)
{
        int64_t per_pct = scale / 100;
        uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        int digits = scale == 1000000 ? 4 : 2;

        fprintf(f, "%s%" PRIu64 ".%0*" PRIu64 "%%", v < 0 ? "-" : "",
                a / (uint64_t)per_pct, digits, a % (uint64_t)per_pct);
}

static void
flag_unverified(FILE *f)
{
        fputs(" <span class=\"unverified\">UNVERIFIED</span>", f);
}

static void
text_cell(FILE *f, const char *s)
{
        fputs("<td>", f);
        ctl_html_escape(f, s);
        fputs("</td>", f);
}

static void
money_cell(FILE *f, int64_t cents)
{
        char b[CTL_MONEY_MAX];

        fprintf(f, "<td class=\"num\">%s</td>", ctl_money(cents, b));
}

static const char style[] =
        "body{font-family:system-ui,sans-serif;margin:2em;color:#1b1b1b;"
        "background:#fff}\n"
        "h1{font-size:1.6em}h2{border-bottom:2px solid #2c5282;"
        "padding-bottom:.2em;margin-top:2em}h3{margin-bottom:.3em}\n"
        "table{border-collapse:collapse;margin:.5em 0 1em}\n"
        "th,td{border:1px solid #c8ccd0;padding:.25em .6em;text-align:left;"
        "vertical-align:top}\n"
        "th{background:#edf2f7}td.num{text-align:right;white-space:nowrap;"
        "font-variant-numeric:tabular-nums}\n"
        "code{font-size:.9em;overflow-wrap:anywhere}\n"
        ".unverified{background:#fde2e1;color:#9b1c1c;font-weight:bold;"
        "padding:0 .3em;border:1px solid #9b1c1c;border-radius:3px;"
        "font-size:.8em}\n"
        "tr.unv td{background:#fff5f5}\n"
        ".note{color:#555;font-size:.9em}\n"
        ".state-running{color:#9b1c1c;font-weight:bold}\n"
        ".state-complete{color:#22543d;font-weight:bold}\n"
        "svg{display:block;margin:.5em 0}\n";

/* ---- header ---- */

static void
header_row(FILE *f, const char *name, const char *value)
{
        fprintf(f, "<tr><th>%s</th>", name);
        text_cell(f, value[0] != '\0' ? value : "not recorded");
        fputs("</tr>\n", f);
}

static void
print_ranges(FILE *f, const struct ctl_report *r)
{
        int64_t total = 0;
        bool known = true;

        fprintf(f,
                "<h3>%s</h3>\n<table>\n<tr><th>topic</th><th>partition"
                "</th><th>start</th><th>end</th><th>messages</th></tr>\n",
                r->live ? "Applied offsets" : "Replayed topic ranges");
        for (size_t i = 0; i < r->n_ranges; i++) {
                const struct ctl_report_range *g = &r->ranges[i];

                fputs("<tr>", f);
                text_cell(f, g->topic);
                fprintf(f, "<td class=\"num\">%" PRId32 "</td>", g->partition);
                for (int k = 0; k < 2; k++) {
                        int64_t v = k == 0 ? g->start : g->end;

                        if (v < 0) {
                                fputs("<td class=\"num\">-</td>", f);
                        } else {
                                fprintf(f, "<td class=\"num\">%" PRId64 "</td>",
                                        v);
                        }
                }
                if (g->start >= 0 && g->end >= g->start) {
                        fprintf(f, "<td class=\"num\">%" PRId64 "</td>",
                                g->end - g->start);
                        total += g->end - g->start;
                } else {
                        fputs("<td class=\"num\">-</td>", f);
                        known = false;
                }
                fputs("</tr>\n", f);
        }
        if (r->n_ranges == 0) {
                fputs("<tr><td colspan=\"5\">none recorded</td></tr>\n", f);
        } else if (known) {
                fprintf(f,
                        "<tr><th colspan=\"4\">total</th><td class=\"num\">"
                        "%" PRId64 "</td></tr>\n",
                        total);
        }
        fputs("</table>\n", f);
}

static size_t
year_unverified(const struct ctl_report_year *y)
{
        size_t n = 0;

        for (size_t i = 0; i < y->n_params; i++) {
                n += y->params[i].flag == CTL_PARAM_UNVERIFIED;
        }
        return n;
}

static void
print_header(FILE *f, const struct ctl_report *r)
{
        char t[48];
        size_t unv = 0;

        for (size_t i = 0; i < r->n_years; i++) {
                unv += year_unverified(&r->years[i]);
        }
        fputs("<h1>claimsd audit report: ", f);
        ctl_html_escape(f, r->name);
        fputs("</h1>\n<table>\n", f);
        header_row(f, "namespace", r->live ? "live data (no replay)" : r->name);
        header_row(f, "Redis prefix", r->prefix);
        if (!r->live) {
                header_row(f, "live prefix", r->live_prefix);
                fprintf(f, "<tr><th>state</th><td class=\"state-%s\">",
                        strcmp(r->state, "complete") == 0 ? "complete"
                                                          : "running");
                ctl_html_escape(f, r->state[0] != '\0' ? r->state
                                                       : "not recorded");
                if (strcmp(r->state, "complete") != 0) {
                        fputs(" (the replay has not finished: figures are "
                              "partial)",
                              f);
                }
                fputs("</td></tr>\n", f);
                header_row(f, "until", r->until);
                header_row(f, "created", utc(r->created_ms, t));
                header_row(f, "finished", utc(r->finished_ms, t));
                header_row(f, "claimsd version", r->version);
                header_row(f, "config SHA-256", r->config_sha256);
                header_row(f, "topics", r->topics);
        }
        header_row(f, "report written", utc(r->generated_ms, t));
        fprintf(f,
                "<tr><th>parameters</th><td>%zu unverified figure%s in %zu "
                "ACO-year%s%s</td></tr>\n</table>\n",
                unv, unv == 1 ? "" : "s", r->n_years,
                r->n_years == 1 ? "" : "s",
                unv > 0 ? " <span class=\"unverified\">UNVERIFIED</span>" : "");
        fputs("<p class=\"note\">Counts, money and ACO ids only: no "
              "beneficiary or claim data is read for this report. Amounts "
              "are unadjusted, claims-based estimates unless a payment "
              "record says otherwise.</p>\n",
              f);
        print_ranges(f, r);
}

/* ---- chart ---- */

/* The y axis: gridlines and dollar labels at TICKS + 1 levels. */
static void
chart_axes(FILE *f, int64_t axis_max, bool per_capita, int32_t year)
{
        char b[CTL_MONEY_MAX];

        for (int k = 0; k <= TICKS; k++) {
                int64_t v = axis_max / TICKS * k;
                int64_t y =
                        PLOT_Y + PLOT_H - ctl_report_scale(v, axis_max, PLOT_H);

                fprintf(f,
                        "<line x1=\"%d\" y1=\"%" PRId64 "\" x2=\"%d\" "
                        "y2=\"%" PRId64 "\" stroke=\"#d5d9de\"/>\n"
                        "<text x=\"%d\" y=\"%" PRId64 "\" text-anchor=\"end\" "
                        "font-size=\"12\">%s</text>\n",
                        PLOT_X, y, PLOT_X + PLOT_W, y, PLOT_X - 6, y + 4,
                        ctl_money(v, b));
        }
        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                "stroke=\"#333\"/>\n"
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                "stroke=\"#333\"/>\n",
                PLOT_X, PLOT_Y, PLOT_X, PLOT_Y + PLOT_H, PLOT_X,
                PLOT_Y + PLOT_H, PLOT_X + PLOT_W, PLOT_Y + PLOT_H);
        for (int m = 0; m < 12; m++) {
                fprintf(f,
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                        "font-size=\"12\">%s</text>\n",
                        PLOT_X + m * SLOT_W + SLOT_W / 2, PLOT_Y + PLOT_H + 18,
                        month_names[m]);
        }
        fprintf(f,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                "font-size=\"13\">service month, %" PRId32 "</text>\n"
                "<text x=\"16\" y=\"%d\" text-anchor=\"middle\" "
                "font-size=\"13\" transform=\"rotate(-90 16 %d)\">%s</text>\n",
                PLOT_X + PLOT_W / 2, PLOT_Y + PLOT_H + 40, year,
                PLOT_Y + PLOT_H / 2, PLOT_Y + PLOT_H / 2,
                per_capita ? "paid per capita (dollars)"
                           : "paid, total (dollars)");
}

/*
 * The monthly benchmark per capita, -1 when unknown. A settlement record's
 * inputs hold the figure as of its cutoff, so the last record that carries
 * it wins; the projection (which the engine stops updating once the
 * settlement is issued) is the fallback.
 */
static int64_t
benchmark_month(const struct ctl_report_year *y, const char **source)
{
        static const char name[] = "benchmark_per_capita_cents";
        int64_t v = -1;

        for (size_t i = 0; i < y->n_payments; i++) {
                const struct clm_payment *p = &y->payments[i];

                for (size_t k = 0; k < p->n_inputs; k++) {
                        if (strcmp(p->inputs[k].name, name) == 0) {
                                v = p->inputs[k].value;
                                *source = "the settlement record";
                        }
                }
        }
        for (size_t i = 0; v < 0 && i < y->n_projection; i++) {
                const struct ctl_report_field *p = &y->projection[i];
                char *end;
                long long n = strtoll(p->value, &end, 10);

                if (strcmp(p->name, name) == 0 && *end == '\0' &&
                    end != p->value) {
                        v = (int64_t)n;
                        *source = "the projection";
                }
        }
        /* An annual per-capita figure, shown per month. */
        return v > 0 ? (v * 2 + 12) / 24 : -1;
}

void
ctl_report_chart(FILE *f, const struct ctl_report_year *y)
{
        bool per_capita = y->person_months > 0;
        const char *source = "";
        int64_t bmk = per_capita ? benchmark_month(y, &source) : -1;
        int64_t v[12];
        int64_t max = bmk;
        int64_t axis_max;
        char b[CTL_MONEY_MAX];

        for (int m = 0; m < 12; m++) {
                v[m] = per_capita ? ctl_report_per_capita_month(
                                            y->paid[m + 1], y->person_months)
                                  : y->paid[m + 1];
                max = v[m] > max ? v[m] : max;
        }
        axis_max = ctl_report_axis_max(max);
        fprintf(f,
                "<svg width=\"%d\" "
                "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n<title>",
                CHART_W, CHART_H, CHART_W, CHART_H);
        fputs(per_capita ? "Paid per capita by service month"
                         : "Paid in total by service month",
              f);
        if (!per_capita) {
                fputs(" (no assigned population: no per-capita benchmark)", f);
        } else if (bmk < 0) {
                fputs(" (no benchmark stored)", f);
        } else {
                fprintf(f, " against the monthly benchmark (from %s)", source);
        }
        fputs("</title>\n", f);
        chart_axes(f, axis_max, per_capita, y->year);
        for (int m = 0; m < 12; m++) {
                int64_t h = ctl_report_scale(v[m], axis_max, PLOT_H);

                fprintf(f,
                        "<rect class=\"bar\" x=\"%d\" y=\"%" PRId64 "\" "
                        "width=\"%d\" height=\"%" PRId64 "\" "
                        "fill=\"#3b6ea5\"><title>%s %" PRId32 ": %s</title>"
                        "</rect>\n",
                        PLOT_X + m * SLOT_W + (SLOT_W - BAR_W) / 2,
                        PLOT_Y + PLOT_H - h, BAR_W, h, month_names[m], y->year,
                        ctl_money(v[m], b));
        }
        /* The legend sits above the plot so no label covers a bar. */
        fprintf(f,
                "<rect x=\"%d\" y=\"4\" width=\"12\" height=\"12\" "
                "fill=\"#3b6ea5\"/>\n<text x=\"%d\" y=\"14\" "
                "font-size=\"12\">%s</text>\n",
                PLOT_X, PLOT_X + 18,
                per_capita ? "paid per capita" : "paid, total");
        if (bmk >= 0) {
                int64_t by = PLOT_Y + PLOT_H -
                             ctl_report_scale(bmk, axis_max, PLOT_H);

                fprintf(f,
                        "<line class=\"benchmark\" x1=\"%d\" y1=\"%" PRId64
                        "\" x2=\"%d\" y2=\"%" PRId64 "\" stroke=\"#c0392b\" "
                        "stroke-width=\"2\" stroke-dasharray=\"8 4\"/>\n"
                        "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"10\" "
                        "stroke=\"#c0392b\" stroke-width=\"2\" "
                        "stroke-dasharray=\"8 4\"/>\n"
                        "<text x=\"%d\" y=\"14\" font-size=\"12\" "
                        "fill=\"#c0392b\">benchmark per capita / 12 = %s "
                        "(from %s)</text>\n",
                        PLOT_X, by, PLOT_X + PLOT_W, by, PLOT_X + 140,
                        PLOT_X + 172, PLOT_X + 178, ctl_money(bmk, b), source);
        }
        fputs("</svg>\n", f);
}

/* The chart's figures as a table, for exact values and screen readers. */
static void
print_months(FILE *f, const struct ctl_report_year *y)
{
        fputs("<table>\n<tr><th>month</th><th>paid</th>"
              "<th>paid per capita</th></tr>\n",
              f);
        for (int m = 1; m <= 12; m++) {
                fprintf(f, "<tr><td>%" PRId32 "-%02d</td>", y->year, m);
                money_cell(f, y->paid[m]);
                if (y->person_months > 0) {
                        money_cell(f, ctl_report_per_capita_month(
                                              y->paid[m], y->person_months));
                } else {
                        fputs("<td class=\"num\">-</td>", f);
                }
                fputs("</tr>\n", f);
        }
        fprintf(f,
                "</table>\n<p class=\"note\">Per capita = paid &times; 12 / "
                "assigned beneficiary-months (%" PRId64 ").</p>\n",
                y->person_months);
}

/* ---- projection ---- */

enum unit { U_TEXT, U_COUNT, U_MONEY, U_PPM, U_BP, U_TIME, U_FLAG };

static const struct {
        const char *name;
        const char *label;
        enum unit unit;
} steps[] = {
        {"as_of", "as of (received watermark)", U_TIME},
        {"assigned_benes", "assigned beneficiaries", U_COUNT},
        {"exp_per_capita_cents", "expenditure per capita", U_MONEY},
        {"benchmark_per_capita_cents", "benchmark per capita", U_MONEY},
        {"savings_rate_ppm", "savings rate", U_PPM},
        {"msr_ppm", "minimum savings rate (MSR)", U_PPM},
        {"eligibility_flags", "eligibility flags", U_COUNT},
        {"outcome", "outcome", U_TEXT},
        {"quality_bp", "quality score", U_BP},
        {"shared_savings_cents", "shared savings", U_MONEY},
        {"losses_owed_cents", "losses owed", U_MONEY},
        {"recoup_cents", "advances recouped", U_MONEY},
        {"net_cents", "net (+ CMS pays the ACO)", U_MONEY},
        {"verified", "all figures verified", U_FLAG},
};

/* One stored value in its unit; the raw text when it is not a number. */
static void
print_value(FILE *f, const char *s, enum unit unit)
{
        char *end;
        long long v = strtoll(s, &end, 10);
        char b[48];

        if (unit == U_TEXT || *end != '\0' || end == s) {
                ctl_html_escape(f, s);
                return;
        }
        switch (unit) {
        case U_MONEY:
                fputs(ctl_money((int64_t)v, b), f);
                break;
        case U_PPM:
                print_rate(f, (int64_t)v, 1000000);
                break;
        case U_BP:
                if (v < 0) {
                        fputs("none", f);
                } else {
                        print_rate(f, (int64_t)v, 10000);
                }
                break;
        case U_TIME:
                fputs(utc((int64_t)v, b), f);
                break;
        case U_FLAG:
                if (v != 0) {
                        fputs("yes", f);
                } else {
                        fputs("no", f);
                        flag_unverified(f);
                }
                break;
        default:
                fprintf(f, "%lld", v);
        }
}

/* Whether the year's settlement record is among its payments. */
static bool
settled(const struct ctl_report_year *y)
{
        for (size_t i = 0; i < y->n_payments; i++) {
                const char *k = y->payments[i].kind;

                if (strcmp(k, "shared_savings") == 0 ||
                    strcmp(k, "shared_losses") == 0) {
                        return true;
                }
        }
        return false;
}

static void
print_projection(FILE *f, const struct ctl_report_year *y)
{
        fputs("<h3>Savings projection</h3>\n", f);
        if (y->n_projection == 0) {
                fputs("<p>No projection stored (the settlement was issued, "
                      "the year has no sharing terms, or the payment engine "
                      "has not run on this prefix).</p>\n",
                      f);
                return;
        }
        if (settled(y)) {
                fputs("<p class=\"note\">The settlement of this year was "
                      "issued (see the payments below): the engine stopped "
                      "updating this projection then, so it shows the last "
                      "estimate before the settlement.</p>\n",
                      f);
        }
        fputs("<table>\n<tr><th>step</th><th>value</th><th>stored as</th>"
              "</tr>\n",
              f);
        for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
                for (size_t i = 0; i < y->n_projection; i++) {
                        const struct ctl_report_field *p = &y->projection[i];

                        if (strcmp(p->name, steps[s].name) != 0) {
                                continue;
                        }
                        fprintf(f, "<tr><td>%s</td><td class=\"num\">",
                                steps[s].label);
                        print_value(f, p->value, steps[s].unit);
                        fputs("</td>", f);
                        text_cell(f, p->name);
                        fputs("</tr>\n", f);
                }
        }
        /* Fields this version does not know are shown, not hidden. */
        for (size_t i = 0; i < y->n_projection; i++) {
                size_t s = 0;

                while (s < sizeof(steps) / sizeof(steps[0]) &&
                       strcmp(steps[s].name, y->projection[i].name) != 0) {
                        s++;
                }
                if (s == sizeof(steps) / sizeof(steps[0])) {
                        fputs("<tr><td>(other)</td>", f);
                        text_cell(f, y->projection[i].value);
                        text_cell(f, y->projection[i].name);
                        fputs("</tr>\n", f);
                }
        }
        fputs("</table>\n", f);
}

/* ---- quality ---- */

static void
print_measures(FILE *f, const struct ctl_report_year *y)
{
        fputs("<h3>Quality measures (unadjusted, claims-based estimates)"
              "</h3>\n",
              f);
        if (y->n_measures == 0) {
                fputs("<p>No measures defined for this year "
                      "(quality.measures_dir).</p>\n",
                      f);
                return;
        }
        fputs("<table>\n<tr><th>id</th><th>measure</th><th>direction</th>"
              "<th>denominator</th><th>numerator</th><th>exclusions</th>"
              "<th>rate</th><th>points</th><th>definition</th></tr>\n",
              f);
        for (size_t i = 0; i < y->n_measures; i++) {
                const struct ctl_report_measure *m = &y->measures[i];

                fprintf(f, "<tr%s>", m->verified ? "" : " class=\"unv\"");
                text_cell(f, m->id);
                text_cell(f, m->name);
                fprintf(f,
                        "<td>%s is better</td><td class=\"num\">%" PRId64
                        "</td><td class=\"num\">%" PRId64
                        "</td><td class=\"num\">%" PRId64
                        "</td><td class=\"num\">",
                        m->lower_is_better ? "lower" : "higher", m->den, m->num,
                        m->excl);
                if (m->rate_bp < 0) {
                        fputs("-", f);
                } else {
                        print_rate(f, m->rate_bp, 10000);
                }
                if (m->scored) {
                        fprintf(f, "</td><td class=\"num\">%d.%02d</td>",
                                m->points_x100 / 100, m->points_x100 % 100);
                } else {
                        fputs("</td><td class=\"num\">-</td>", f);
                }
                fputs("<td>", f);
                if (m->verified) {
                        fputs("verified", f);
                } else {
                        flag_unverified(f);
                }
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n<p>Quality score: ", f);
        if (y->quality_score_bp >= 0) {
                print_rate(f, y->quality_score_bp, 10000);
                fputs(" (points scale", f);
                flag_unverified(f);
                fputs(")", f);
        } else {
                fputs("none (no measure reaches the minimum denominator)", f);
        }
        fputs("</p>\n", f);
}

/* ---- payments ---- */

static void
print_input(FILE *f, const struct clm_pay_input *in)
{
        size_t len = strlen(in->name);
        char b[CTL_MONEY_MAX];

        fputs("<code>", f);
        ctl_html_escape(f, in->name);
        fputs("</code> = ", f);
        if (strstr(in->name, "_cents") != NULL) {
                fputs(ctl_money(in->value, b), f);
        } else if (len > 4 && strcmp(in->name + len - 4, "_ppm") == 0) {
                print_rate(f, in->value, 1000000);
        } else if (len > 3 && strcmp(in->name + len - 3, "_bp") == 0) {
                print_rate(f, in->value, 10000);
        } else {
                fprintf(f, "%" PRId64, in->value);
        }
        fputs("<br>", f);
}

static void
print_payment(FILE *f, const struct clm_payment *p)
{
        char t[48];

        fprintf(f, "<tr%s>", p->verified ? "" : " class=\"unv\"");
        fputs("<td><code>", f);
        ctl_html_escape(f, p->id);
        fputs("</code></td>", f);
        text_cell(f, p->model);
        text_cell(f, p->kind);
        text_cell(f, p->period);
        money_cell(f, p->amount_cents);
        text_cell(f, utc(p->as_of_ms, t));
        fputs("<td><code>", f);
        ctl_html_escape(f, p->parameter_version);
        fputs("</code></td><td>", f);
        if (p->verified) {
                fputs("verified", f);
        } else {
                flag_unverified(f);
        }
        fputs("</td><td><code>", f);
        ctl_html_escape(f, p->adjusts[0] != '\0' ? p->adjusts : "-");
        fputs("</code></td><td>", f);
        for (size_t i = 0; i < p->n_inputs; i++) {
                print_input(f, &p->inputs[i]);
        }
        fputs("</td></tr>\n", f);
}

static void
print_payments(FILE *f, const struct ctl_report_year *y)
{
        int64_t total = 0;

        fprintf(f, "<h3>Payments issued (%zu)</h3>\n", y->n_payments);
        if (y->n_payments == 0) {
                fputs("<p>None.</p>\n", f);
                return;
        }
        fputs("<table>\n<tr><th>record id</th><th>model</th><th>kind</th>"
              "<th>period</th><th>amount</th><th>as of</th>"
              "<th>parameter version</th><th>figures</th><th>adjusts</th>"
              "<th>inputs</th></tr>\n",
              f);
        for (size_t i = 0; i < y->n_payments; i++) {
                print_payment(f, &y->payments[i]);
                total += y->payments[i].amount_cents;
        }
        fputs("<tr><th colspan=\"4\">total (+ CMS pays the ACO)</th>", f);
        money_cell(f, total);
        fputs("<td colspan=\"5\"></td></tr>\n</table>\n", f);
}

/* ---- parameters ---- */

static void
print_params(FILE *f, const struct ctl_report_year *y)
{
        size_t unv = year_unverified(y);

        fprintf(f, "<h3>Parameters (%zu unverified)%s</h3>\n", unv,
                unv > 0 ? " <span class=\"unverified\">UNVERIFIED</span>" : "");
        if (y->n_params == 0) {
                fputs("<p>No parameter set stored for this year.</p>\n", f);
                return;
        }
        fputs("<table>\n<tr><th>key</th><th>value</th><th>flag</th></tr>\n", f);
        for (size_t i = 0; i < y->n_params; i++) {
                const struct ctl_report_param *p = &y->params[i];

                fprintf(f, "<tr%s><td><code>",
                        p->flag == CTL_PARAM_UNVERIFIED ? " class=\"unv\""
                                                        : "");
                ctl_html_escape(f, p->key);
                fputs("</code></td><td><code>", f);
                ctl_html_escape(f, p->value);
                fputs("</code></td><td>", f);
                if (p->flag == CTL_PARAM_UNVERIFIED) {
                        flag_unverified(f);
                } else {
                        fputs(p->flag == CTL_PARAM_VERIFIED ? "verified"
                                                            : "setting",
                              f);
                }
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
}

/* ---- document ---- */

static void
print_year(FILE *f, const struct ctl_report_year *y)
{
        fputs("<section id=\"aco-", f);
        ctl_html_escape(f, y->aco);
        fprintf(f, "-%" PRId32 "\">\n<h2>ACO ", y->year);
        ctl_html_escape(f, y->aco);
        fprintf(f, ", performance year %" PRId32 "</h2>\n", y->year);
        fputs("<h3>Expenditure by service month against the benchmark</h3>\n",
              f);
        ctl_report_chart(f, y);
        print_months(f, y);
        print_projection(f, y);
        print_measures(f, y);
        print_payments(f, y);
        print_params(f, y);
        fputs("</section>\n", f);
}

static bool
has_year(const struct ctl_report *r, const char *aco)
{
        for (size_t i = 0; i < r->n_years; i++) {
                if (strcmp(r->years[i].aco, aco) == 0) {
                        return true;
                }
        }
        return false;
}

static void
print_contents(FILE *f, const struct ctl_report *r)
{
        fprintf(f, "<h2>ACOs (%zu)</h2>\n<ul>\n", r->n_acos);
        for (size_t a = 0; a < r->n_acos; a++) {
                fputs("<li>", f);
                ctl_html_escape(f, r->acos[a]);
                if (!has_year(r, r->acos[a])) {
                        fputs(": no data under this prefix", f);
                }
                for (size_t i = 0; i < r->n_years; i++) {
                        const struct ctl_report_year *y = &r->years[i];

                        if (strcmp(y->aco, r->acos[a]) != 0) {
                                continue;
                        }
                        fputs(" <a href=\"#aco-", f);
                        ctl_html_escape(f, y->aco);
                        fprintf(f, "-%" PRId32 "\">%" PRId32 "</a>", y->year,
                                y->year);
                        if (year_unverified(y) > 0) {
                                flag_unverified(f);
                        }
                }
                fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
}

int
ctl_report_html(FILE *f, const struct ctl_report *r)
{
        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
              "<meta charset=\"utf-8\">\n"
              "<meta http-equiv=\"Content-Security-Policy\" "
              "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
              "<title>claimsd audit report: ",
              f);
        ctl_html_escape(f, r->name);
        fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
        print_header(f, r);
        print_contents(f, r);
        for (size_t i = 0; i < r->n_years; i++) {
                print_year(f, &r->years[i]);
        }
        fputs("</body>\n</html>\n", f);
        return ferror(f) ? CLM_ERR_IO : CLM_OK;
}
