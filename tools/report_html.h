#ifndef CLM_TOOLS_REPORT_HTML_H
#define CLM_TOOLS_REPORT_HTML_H

/*
 * The audit report of `claimsctl audit report` (docs/replay.md): a plain
 * in-memory description of a replay namespace (or of live data) rendered to
 * one self-contained HTML file: inline CSS and SVG, no script, no external
 * resource (a Content-Security-Policy of default-src 'none' says so to the
 * browser too). Pure: no Redis, no clock, no environment; every text is
 * HTML-escaped, money is integer cents printed as dollars.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "consumers/payrec.h"
#include "schemas/event.h"
#include "tools/ctl_read.h"

#define CTL_REPORT_TEXT 256

/* One partition of a replayed topic: offsets [start, end). */
struct ctl_report_range {
        char topic[CTL_REPORT_TEXT];
        int32_t partition;
        int64_t start; /* -1: not recorded */
        int64_t end;   /* -1: not recorded */
};

/* A name/value pair as stored (the projection hash). */
struct ctl_report_field {
        char name[64];
        char value[64];
};

/* One line of the ACO-year's canonical parameter text. */
struct ctl_report_param {
        char key[CLM_PARAM_KEY_MAX];
        char value[CLM_PARAM_VALUE_MAX];
        enum ctl_param_flag flag;
};

/* One quality measure as `claimsctl quality` shows it. */
struct ctl_report_measure {
        char id[16];
        char name[CTL_REPORT_TEXT];
        bool lower_is_better;
        bool verified; /* the measure definition's own flag */
        int64_t den, num, excl;
        int64_t rate_bp; /* -1 when den is 0 */
        bool scored;
        int points_x100;
};

/* Everything shown for one ACO and performance year. */
struct ctl_report_year {
        char aco[CLM_ACO_MAX];
        int32_t year;
        int64_t paid[13];      /* paid cents by service month 1-12 */
        int64_t person_months; /* assigned beneficiary-months; 0 = none */
        struct ctl_report_field *projection; /* as stored; may be NULL */
        size_t n_projection;
        struct ctl_report_param *params; /* may be NULL: no parameter set */
        size_t n_params;
        struct ctl_report_measure *measures; /* may be NULL */
        size_t n_measures;
        int64_t quality_score_bp;     /* -1: no measure scored */
        struct clm_payment *payments; /* of this year; may be NULL */
        size_t n_payments;
};

/* The whole report. Every pointer is borrowed by the renderer. */
struct ctl_report {
        bool live;                    /* live data, no manifest */
        char name[CTL_REPORT_TEXT];   /* namespace name, or "live" */
        char prefix[CTL_REPORT_TEXT]; /* the Redis prefix read */
        char live_prefix[CTL_REPORT_TEXT];
        char state[32];              /* running | complete | "" */
        char until[CTL_REPORT_TEXT]; /* as written by the replay */
        int64_t created_ms;          /* 0: not recorded */
        int64_t finished_ms;         /* 0: not recorded */
        char version[64];            /* claimsd version of the replay */
        char config_sha256[80];
        char topics[CTL_REPORT_TEXT];
        int64_t generated_ms; /* when claimsctl wrote the file */
        const struct ctl_report_range *ranges;
        size_t n_ranges;
        const char (*acos)[CLM_ACO_MAX]; /* every ACO, with data or not */
        size_t n_acos;
        const struct ctl_report_year *years; /* sorted by ACO, then year */
        size_t n_years;
};

/**
 * @brief Write @p s with & < > " ' as character references (text and
 * attribute values alike) and control characters other than tab and
 * newline dropped.
 */
void ctl_html_escape(FILE *f, const char *s);

/**
 * @brief Pixels for @p value on an axis whose top, @p axis_max (> 0), is
 * @p px pixels: value * px / axis_max rounded half up, clamped to
 * [0, px]. Integer arithmetic, exact for any cents up to 2^63 / px.
 */
int64_t ctl_report_scale(int64_t value, int64_t axis_max, int64_t px);

/**
 * @brief The top of a money axis: the smallest 1, 2 or 5 x 10^k cents that
 * is >= @p max (and >= 100 cents, so an empty chart still reads in
 * dollars).
 */
int64_t ctl_report_axis_max(int64_t max);

/**
 * @brief Monthly expenditure per capita: paid * 12 / person_months,
 * rounded half away from zero (the average assigned count of a month is
 * person_months / 12); 0 when person_months is 0.
 */
int64_t ctl_report_per_capita_month(int64_t paid, int64_t person_months);

/**
 * @brief The SVG chart of one ACO-year: bars of monthly expenditure per
 * capita against the monthly benchmark per capita (the projection's
 * benchmark_per_capita_cents / 12) as a line, y axis in dollars. Without
 * an assigned population the bars are monthly totals and there is no
 * benchmark line (said in the chart's title).
 */
void ctl_report_chart(FILE *f, const struct ctl_report_year *y);

/**
 * @brief The whole document.
 * @returns CLM_OK, or CLM_ERR_IO when @p f reports a write error
 */
int ctl_report_html(FILE *f, const struct ctl_report *r);

#endif
