/*
 * ACO payment parameters. This module owns the parameter file format and
 * the flat key/value form of the aco.registry topic (docs/payments.md 2):
 * one table of keys drives parsing, range checks, rendering and the
 * digest, and one set of cross-key rules decides which keys a program,
 * track and advance model needs, may default, or must not be given. It
 * reads parameter files and nothing else: no logging, no Kafka, no Redis,
 * no payment arithmetic (consumers/payments.c does that).
 */
#include "consumers/payparams.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/keyhash.h"
#include "daemon/rc.h"

#define YEAR_MIN    1900
#define YEAR_MAX    9999
#define REASON_MAX  512
#define SHOW        40 /* characters of a bad value quoted in errors */
#define FLAG_NONE   (-1)
#define AIP_Q_MAX   40
#define DIGEST_HEAD "claimsd-payparams v1\n"
#define RENDER_MAX  16384

enum kind {
        /* settings: no verified flag */
        K_PROGRAM,
        K_TRACK,
        K_ADVANCE,
        K_DATE,
        K_ELECTION,
        K_ERA,
        /* figures */
        K_MONEY,
        K_PPM,
        K_BP,
        K_COUNT,
        K_MONTH,
        K_BOOL,
        K_MSR_FIXED,
        K_MSR_TABLE,
};

struct keydef {
        const char *name;
        enum kind kind;
        size_t off;
        int64_t min, max; /* numeric kinds */
};

#define KEY(n, k, field, lo, hi)                                               \
        {                                                                      \
                n, k, offsetof(struct clm_payparams, field), lo, hi            \
        }
#define MONEY(n, field)  KEY(n, K_MONEY, field, 0, CLM_PP_MONEY_MAX)
#define PPM(n, field)    KEY(n, K_PPM, field, 0, CLM_PPM)
#define COUNT(n, field)  KEY(n, K_COUNT, field, 0, CLM_PP_COUNT_MAX)
#define SETTING(n, k, f) KEY(n, k, f, 0, 0)
#define AIP_BAND(i)                                                            \
        MONEY("aip.band." #i ".rate", aip_band_rate[(i)-1]),                   \
                COUNT("aip.band." #i ".benes", aip_band_benes[(i)-1])

/* Every key, in the canonical (rendering) order. */
static const struct keydef keys[] = {
        SETTING("program", K_PROGRAM, program),
        SETTING("ssp.track", K_TRACK, track),
        SETTING("advance.model", K_ADVANCE, advance_model),
        SETTING("agreement.start", K_DATE, agreement_start),
        SETTING("agreement.end", K_DATE, agreement_end),
        KEY("benchmark.E",
            K_MONEY,
            benchmark[CLM_ENR_ESRD],
            1,
            CLM_PP_MONEY_MAX),
        KEY("benchmark.D",
            K_MONEY,
            benchmark[CLM_ENR_DISABLED],
            1,
            CLM_PP_MONEY_MAX),
        KEY("benchmark.A",
            K_MONEY,
            benchmark[CLM_ENR_AGED_DUAL],
            1,
            CLM_PP_MONEY_MAX),
        KEY("benchmark.N",
            K_MONEY,
            benchmark[CLM_ENR_AGED_NON_DUAL],
            1,
            CLM_PP_MONEY_MAX),
        KEY("truncation.E",
            K_MONEY,
            truncation[CLM_ENR_ESRD],
            1,
            CLM_PP_MONEY_MAX),
        KEY("truncation.D",
            K_MONEY,
            truncation[CLM_ENR_DISABLED],
            1,
            CLM_PP_MONEY_MAX),
        KEY("truncation.A",
            K_MONEY,
            truncation[CLM_ENR_AGED_DUAL],
            1,
            CLM_PP_MONEY_MAX),
        KEY("truncation.N",
            K_MONEY,
            truncation[CLM_ENR_AGED_NON_DUAL],
            1,
            CLM_PP_MONEY_MAX),
        COUNT("assign.min_benes", min_benes),
        SETTING("msr.election", K_ELECTION, msr_election),
        KEY("msr.fixed", K_MSR_FIXED, msr_fixed, 0, CLM_PPM),
        KEY("msr.table", K_MSR_TABLE, msr_table, 0, CLM_PPM),
        PPM("sharing.rate", sharing_rate),
        PPM("savings.limit", savings_limit),
        PPM("loss.rate", loss_rate),
        PPM("loss.rate_min", loss_rate_min),
        PPM("loss.rate_max", loss_rate_max),
        PPM("loss.rate_factor", loss_rate_factor),
        PPM("loss.cap_benchmark", loss_cap_benchmark),
        PPM("loss.cap_revenue", loss_cap_revenue),
        MONEY("participant.revenue", participant_revenue),
        SETTING("quality.era", K_ERA, quality_era),
        KEY("quality.threshold", K_BP, quality_threshold, 0, 10000),
        KEY("quality.alternative_met", K_BOOL, quality_alternative_met, 0, 1),
        KEY("quality.score", K_BP, quality_score, 0, 10000),
        MONEY("advance.upfront_fixed", adv_upfront_fixed),
        MONEY("advance.upfront_per_bene", adv_upfront_per_bene),
        MONEY("advance.monthly_per_bene", adv_monthly_per_bene),
        KEY("advance.monthly_last", K_MONTH, adv_monthly_last, 0, 0),
        COUNT("advance.historical_benes", adv_historical_benes),
        PPM("advance.recoup_share", adv_recoup_share),
        KEY("advance.forgiven_at_end", K_BOOL, adv_forgiven_at_end, 0, 1),
        MONEY("aip.one_time", aip_one_time),
        KEY("aip.quarters", K_COUNT, aip_quarters, 1, AIP_Q_MAX),
        KEY("aip.bene_cap", K_COUNT, aip_bene_cap, 1, CLM_PP_COUNT_MAX),
        AIP_BAND(1),
        AIP_BAND(2),
        AIP_BAND(3),
        AIP_BAND(4),
        AIP_BAND(5),
        AIP_BAND(6),
        AIP_BAND(7),
        AIP_BAND(8),
        PPM("pioneer.sharing_rate", pioneer_sharing_rate),
        PPM("pioneer.loss_rate", pioneer_loss_rate),
        PPM("pioneer.savings_cap", pioneer_savings_cap),
        PPM("pioneer.loss_cap", pioneer_loss_cap),
        PPM("pioneer.msr", pioneer_msr),
        PPM("pioneer.pbp_pct", pioneer_pbp_pct),
        MONEY("pioneer.expected_ffs_pbpm", pioneer_expected_ffs_pbpm),
        COUNT("pioneer.aligned_benes", pioneer_aligned_benes),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

struct name_val {
        const char *name;
        int64_t v;
};

static const struct name_val programs[] = {
        {"MSSP", CLM_PROGRAM_MSSP},
        {"PIONEER", CLM_PROGRAM_PIONEER},
        {NULL, 0},
};

static const struct name_val tracks[] = {
        {"NONE", CLM_TRACK_NONE},
        {"BASIC_A", CLM_TRACK_BASIC_A},
        {"BASIC_B", CLM_TRACK_BASIC_B},
        {"BASIC_C", CLM_TRACK_BASIC_C},
        {"BASIC_D", CLM_TRACK_BASIC_D},
        {"BASIC_E", CLM_TRACK_BASIC_E},
        {"ENHANCED", CLM_TRACK_ENHANCED},
        {"TRACK_1", CLM_TRACK_1},
        {"TRACK_2", CLM_TRACK_2},
        {"TRACK_3", CLM_TRACK_3},
        {NULL, 0},
};

static const struct name_val advances[] = {
        {"NONE", CLM_ADVANCE_NONE},
        {"ADVANCE_PAYMENT", CLM_ADVANCE_PAYMENT},
        {"AIM", CLM_ADVANCE_AIM},
        {"AIP", CLM_ADVANCE_AIP},
        {NULL, 0},
};

static const struct name_val elections[] = {
        {"variable", CLM_MSR_VARIABLE},
        {"fixed", CLM_MSR_FIXED},
        {NULL, 0},
};

static const struct name_val eras[] = {
        {"2012", CLM_QUALITY_2012},
        {"2021", CLM_QUALITY_2021},
        {NULL, 0},
};

static const struct name_val bools[] = {
        {"false", 0},
        {"true", 1},
        {NULL, 0},
};

/* The symmetric fixed MSR/MLR an ACO may elect (payments.md 1.4). */
static const int64_t fixed_msrs[] = {0, 5000, 10000, 15000, 20000};

/* payments.md 1.5 (secondary: tuva-health mssp_msr_lookup.csv). */
static const struct clm_msr_band default_msr[] = {
        {0, 122000, 122000},   {500, 122000, 87000},  {1000, 87000, 50000},
        {3000, 50000, 39000},  {5000, 39000, 36000},  {6000, 36000, 34000},
        {7000, 34000, 32000},  {8000, 32000, 31000},  {9000, 31000, 30000},
        {10000, 30000, 27000}, {15000, 27000, 25000}, {20000, 25000, 22000},
        {50000, 22000, 20000}, {60000, 20000, 20000},
};

/* Where errors point: a file section, or an ACO-year from the registry. */
struct ctx {
        const char *file; /* NULL: key/value pairs */
        const char *aco;
        int32_t year;
        int section_line;
        int line[N_KEYS]; /* where each key was given; 0: not given */
        char *err;
        size_t errlen;
};

static int failf(const struct ctx *c, int k, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/*
 * "file:line: key: reason" (or "ACO/YEAR: key: reason" for pairs); @p k
 * may be -1 for a line that names no key, @p line 0 for the section.
 */
static int
failf(const struct ctx *c, int k, int line, const char *fmt, ...)
{
        char reason[REASON_MAX];
        char where[REASON_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (c->file != NULL) {
                (void)snprintf(where, sizeof(where), "%s:%d", c->file,
                               line > 0 ? line : c->section_line);
        } else {
                (void)snprintf(where, sizeof(where), "%s/%d", c->aco,
                               (int)c->year);
        }
        if (k >= 0) {
                clm_errf(c->err, c->errlen, "%s: %s: %s", where, keys[k].name,
                         reason);
        } else {
                clm_errf(c->err, c->errlen, "%s: %s", where, reason);
        }
        return CLM_ERR_CONFIG;
}

static int
key_index(const char *name)
{
        size_t i;

        for (i = 0; i < N_KEYS; i++) {
                if (strcmp(keys[i].name, name) == 0) {
                        return (int)i;
                }
        }
        return -1;
}

static struct clm_fig *
fig_at(struct clm_payparams *pp, size_t k)
{
        return (struct clm_fig *)(void *)((char *)pp + keys[k].off);
}

static const struct clm_fig *
cfig_at(const struct clm_payparams *pp, size_t k)
{
        return (const struct clm_fig *)(const void *)((const char *)pp +
                                                      keys[k].off);
}

static bool
is_setting(enum kind kind)
{
        return kind <= K_ERA;
}

/* ---- values ------------------------------------------------------- */

/* Unsigned decimal, digits only, into @p v; false on anything else. */
static bool
parse_uint(const char *s, size_t len, int64_t *v)
{
        int64_t x = 0;
        size_t i;

        if (len == 0) {
                return false;
        }
        for (i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9') {
                        return false;
                }
                if (x > (INT64_MAX - (s[i] - '0')) / 10) {
                        return false;
                }
                x = x * 10 + (s[i] - '0');
        }
        *v = x;
        return true;
}

static bool
leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t
month_days(int64_t y, int64_t m)
{
        static const int64_t days[12] = {31, 28, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};

        return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* "YYYY-MM" (@p with_day false) or "YYYY-MM-DD" into YYYYMM / YYYYMMDD. */
static bool
parse_ymd(const char *s, bool with_day, int64_t *v)
{
        size_t len = strlen(s);
        int64_t y, m, d = 0;

        if (len != (with_day ? 10u : 7u) || s[4] != '-' ||
            (with_day && s[7] != '-') || !parse_uint(s, 4, &y) ||
            !parse_uint(s + 5, 2, &m) ||
            (with_day && !parse_uint(s + 8, 2, &d))) {
                return false;
        }
        if (y < YEAR_MIN || m < 1 || m > 12 ||
            (with_day && (d < 1 || d > month_days(y, m)))) {
                return false;
        }
        *v = with_day ? y * 10000 + m * 100 + d : y * 100 + m;
        return true;
}

static bool
parse_name(const struct name_val *names, const char *s, int64_t *v)
{
        size_t i;

        for (i = 0; names[i].name != NULL; i++) {
                if (strcmp(names[i].name, s) == 0) {
                        *v = names[i].v;
                        return true;
                }
        }
        return false;
}

static const char *
name_of(const struct name_val *names, int64_t v)
{
        size_t i;

        for (i = 0; names[i].name != NULL; i++) {
                if (names[i].v == v) {
                        return names[i].name;
                }
        }
        return "?";
}

static const struct name_val *
names_of(enum kind kind)
{
        switch (kind) {
        case K_PROGRAM:
                return programs;
        case K_TRACK:
                return tracks;
        case K_ADVANCE:
                return advances;
        case K_ELECTION:
                return elections;
        case K_ERA:
                return eras;
        case K_BOOL:
                return bools;
        default:
                return NULL;
        }
}

/* "A, B or C" of a name list, for errors. */
static void
names_list(const struct name_val *names, char *buf, size_t size)
{
        size_t used = 0;
        size_t i;

        buf[0] = '\0';
        for (i = 0; names[i].name != NULL && used < size; i++) {
                const char *sep = i == 0                      ? ""
                                  : names[i + 1].name == NULL ? " or "
                                                              : ", ";
                int w = snprintf(buf + used, size - used, "%s%s", sep,
                                 names[i].name);

                used += w > 0 ? (size_t)w : 0;
        }
}

static const char *
unit_of(enum kind kind)
{
        switch (kind) {
        case K_MONEY:
                return " cents";
        case K_PPM:
                return " ppm";
        case K_BP:
                return " basis points";
        default:
                return "";
        }
}

/* msr.table: whitespace-separated "n_lo:r_lo:r_hi" rows. */
static int
parse_msr_table(const struct ctx *c,
                int k,
                int line,
                const char *s,
                struct clm_msr_band *band,
                int64_t *nband)
{
        size_t n = 0;

        while (*s != '\0') {
                size_t len = strcspn(s, " \t");
                const char *c1 = memchr(s, ':', len);
                const char *c2 = c1 != NULL ? memchr(c1 + 1, ':',
                                                     len - (size_t)(c1 + 1 - s))
                                            : NULL;
                struct clm_msr_band b;

                if (n == CLM_MSR_BANDS_MAX) {
                        return failf(c, k, line, "more than %d rows",
                                     CLM_MSR_BANDS_MAX);
                }
                if (c2 == NULL || !parse_uint(s, (size_t)(c1 - s), &b.n_lo) ||
                    !parse_uint(c1 + 1, (size_t)(c2 - c1 - 1), &b.r_lo) ||
                    !parse_uint(c2 + 1, len - (size_t)(c2 + 1 - s), &b.r_hi)) {
                        return failf(c, k, line,
                                     "row %zu: expected N:PPM:PPM, got "
                                     "\"%.*s\"",
                                     n + 1, (int)(len < SHOW ? len : SHOW), s);
                }
                if (b.r_lo > CLM_PPM || b.r_hi > CLM_PPM) {
                        return failf(c, k, line,
                                     "row %zu: rate out of range 0..%d ppm",
                                     n + 1, CLM_PPM);
                }
                if (b.n_lo > CLM_PP_COUNT_MAX || (n == 0 && b.n_lo != 0) ||
                    (n > 0 && b.n_lo <= band[n - 1].n_lo)) {
                        return failf(c, k, line,
                                     "row %zu: rows must start at 0 and "
                                     "increase",
                                     n + 1);
                }
                band[n++] = b;
                s += len;
                s += strspn(s, " \t");
        }
        if (n == 0 || band[n - 1].r_lo != band[n - 1].r_hi) {
                return failf(c, k, line,
                             "the last row is open-ended: its two rates "
                             "must be equal");
        }
        *nband = (int64_t)n;
        return CLM_OK;
}

/* Parse @p value for key @p k into @p f (and the MSR rows). */
static int
parse_value(const struct ctx *c,
            struct clm_payparams *pp,
            int k,
            int line,
            const char *value,
            struct clm_fig *f)
{
        const struct keydef *kd = &keys[k];
        const struct name_val *names = names_of(kd->kind);
        char list[128];
        size_t i;

        switch (kd->kind) {
        case K_MSR_TABLE:
                return parse_msr_table(c, k, line, value, pp->msr_band, &f->v);
        case K_DATE:
        case K_MONTH:
                if (!parse_ymd(value, kd->kind == K_DATE, &f->v)) {
                        return failf(c, k, line, "not a %s: \"%.*s\"",
                                     kd->kind == K_DATE ? "date (YYYY-MM-DD)"
                                                        : "month (YYYY-MM)",
                                     SHOW, value);
                }
                return CLM_OK;
        default:
                break;
        }
        if (names != NULL) {
                if (!parse_name(names, value, &f->v)) {
                        names_list(names, list, sizeof(list));
                        return failf(c, k, line, "not %s: \"%.*s\"", list, SHOW,
                                     value);
                }
                return CLM_OK;
        }
        if (!parse_uint(value, strlen(value), &f->v)) {
                return failf(c, k, line, "not a whole number: \"%.*s\"", SHOW,
                             value);
        }
        if (kd->kind == K_MSR_FIXED) {
                for (i = 0; i < sizeof(fixed_msrs) / sizeof(fixed_msrs[0]);
                     i++) {
                        if (f->v == fixed_msrs[i]) {
                                return CLM_OK;
                        }
                }
                return failf(c, k, line,
                             "%lld not one of 0, 5000, 10000, 15000, 20000 "
                             "ppm",
                             (long long)f->v);
        }
        if (f->v < kd->min || f->v > kd->max) {
                return failf(c, k, line, "%lld out of range %lld..%lld%s",
                             (long long)f->v, (long long)kd->min,
                             (long long)kd->max, unit_of(kd->kind));
        }
        return CLM_OK;
}

/*
 * Set one key. @p flag is 1 verified, 0 unverified, FLAG_NONE when none
 * was written (a figure is then unverified).
 */
static int
set_key(struct ctx *c,
        struct clm_payparams *pp,
        const char *key,
        const char *value,
        int flag,
        int line)
{
        int k = key_index(key);
        struct clm_fig f = {0, true, false, false};
        int rc;

        if (k < 0) {
                return failf(c, -1, line, "%.*s: unknown key", SHOW, key);
        }
        if (c->line[k] != 0) {
                if (c->file != NULL) {
                        return failf(c, k, line,
                                     "duplicate key (first at line %d)",
                                     c->line[k]);
                }
                return failf(c, k, line, "duplicate key");
        }
        if (value[0] == '\0') {
                return failf(c, k, line, "missing value");
        }
        if (is_setting(keys[k].kind)) {
                if (flag != FLAG_NONE && c->file != NULL) {
                        return failf(c, k, line,
                                     "a setting takes no verified/unverified "
                                     "flag");
                }
                f.verified = true;
        } else {
                f.verified = flag == 1;
        }
        rc = parse_value(c, pp, k, line, value, &f);
        if (rc != CLM_OK) {
                return rc;
        }
        *fig_at(pp, (size_t)k) = f;
        c->line[k] = line;
        return CLM_OK;
}

/* ---- cross-key rules ---------------------------------------------- */

static int
ki(const char *name)
{
        int k = key_index(name);

        /* Every name below is a literal from the table. */
        if (k < 0) {
                abort();
        }
        return k;
}

static int
require(const struct ctx *c,
        const struct clm_payparams *pp,
        const char *name,
        const char *why)
{
        int k = ki(name);

        if (!cfig_at(pp, (size_t)k)->set) {
                return failf(c, k, 0, "missing (required %s)", why);
        }
        return CLM_OK;
}

/*
 * Refuse the keys named exactly @p name, or starting with it when it ends
 * in '.', that were given; the first in the file is named.
 */
static int
forbid(const struct ctx *c, const char *name, const char *why)
{
        size_t len = strlen(name);
        bool prefix = len > 0 && name[len - 1] == '.';
        int first = -1;
        size_t i;

        for (i = 0; i < N_KEYS; i++) {
                bool match = prefix ? strncmp(keys[i].name, name, len) == 0
                                    : strcmp(keys[i].name, name) == 0;

                if (match && c->line[i] != 0 &&
                    (first < 0 || c->line[i] < c->line[first])) {
                        first = (int)i;
                }
        }
        if (first >= 0) {
                return failf(c, first, c->line[first], "not used %s", why);
        }
        return CLM_OK;
}

static int
forbid_all(const struct ctx *c, const char *const *names, const char *why)
{
        int rc = CLM_OK;
        size_t i;

        for (i = 0; names[i] != NULL && rc == CLM_OK; i++) {
                rc = forbid(c, names[i], why);
        }
        return rc;
}

static int
require_all(const struct ctx *c,
            const struct clm_payparams *pp,
            const char *const *names,
            const char *why)
{
        int rc = CLM_OK;
        size_t i;

        for (i = 0; names[i] != NULL && rc == CLM_OK; i++) {
                rc = require(c, pp, names[i], why);
        }
        return rc;
}

/* Fill an unset key with a built-in default (never verified). */
static void
dflt(struct clm_payparams *pp, const char *name, int64_t v)
{
        size_t k = (size_t)ki(name);
        struct clm_fig *f = fig_at(pp, k);

        if (!f->set) {
                f->v = v;
                f->set = true;
                f->dflt = true;
                f->verified = is_setting(keys[k].kind);
        }
}

/* The MSSP sharing terms: not for Pioneer, nor for ssp.track = NONE. */
static const char *const mssp_terms[] = {
        "msr.",  "sharing.rate",        "savings.limit",
        "loss.", "participant.revenue", NULL,
};

static const char *const quality_keys[] = {"quality.", NULL};

static const char *const benchmarks[] = {
        "benchmark.E", "benchmark.D", "benchmark.A", "benchmark.N", NULL,
};

static const char *const ap_keys[] = {
        "advance.upfront_fixed",    "advance.upfront_per_bene",
        "advance.monthly_per_bene", "advance.monthly_last",
        "advance.historical_benes", NULL,
};

static const char *const pioneer_sharing[] = {
        "pioneer.sharing_rate", "pioneer.loss_rate", "pioneer.savings_cap",
        "pioneer.loss_cap",     "pioneer.msr",       NULL,
};

static const char *const pioneer_pbp[] = {
        "pioneer.pbp_pct",
        "pioneer.expected_ffs_pbpm",
        "pioneer.aligned_benes",
        NULL,
};

static const char *const aip_rates[] = {
        "aip.band.1.rate", "aip.band.2.rate", "aip.band.3.rate",
        "aip.band.4.rate", "aip.band.5.rate", "aip.band.6.rate",
        "aip.band.7.rate", "aip.band.8.rate", NULL,
};

static int
check_agreement(const struct ctx *c, const struct clm_payparams *pp)
{
        static const char *const needed[] = {
                "program",
                "agreement.start",
                "agreement.end",
                NULL,
        };
        int rc = require_all(c, pp, needed, "for every ACO-year");

        if (rc != CLM_OK) {
                return rc;
        }
        if (pp->agreement_end.v < pp->agreement_start.v) {
                return failf(c, ki("agreement.end"),
                             c->line[ki("agreement.end")],
                             "before agreement.start");
        }
        if (pp->year < pp->agreement_start.v / 10000 ||
            pp->year > pp->agreement_end.v / 10000) {
                int64_t a = pp->agreement_start.v;
                int64_t b = pp->agreement_end.v;

                return failf(c, -1, 0,
                             "performance year %d outside the agreement "
                             "(%04lld-%02lld-%02lld to %04lld-%02lld-%02lld)",
                             (int)pp->year, (long long)(a / 10000),
                             (long long)(a / 100 % 100), (long long)(a % 100),
                             (long long)(b / 10000), (long long)(b / 100 % 100),
                             (long long)(b % 100));
        }
        return CLM_OK;
}

/* quality.* for a year with sharing terms. */
static int
check_quality(const struct ctx *c, struct clm_payparams *pp, const char *why)
{
        int rc = require(c, pp, "quality.era", why);

        if (rc != CLM_OK) {
                return rc;
        }
        if (pp->quality_era.v == CLM_QUALITY_2012) {
                rc = forbid(c, "quality.threshold", "with quality.era = 2012");
                if (rc == CLM_OK) {
                        rc = forbid(c, "quality.alternative_met",
                                    "with quality.era = 2012");
                }
                return rc;
        }
        dflt(pp, "quality.alternative_met", 0);
        return require(c, pp, "quality.threshold", "by quality.era = 2021");
}

static int
check_msr(const struct ctx *c, struct clm_payparams *pp)
{
        enum clm_track t = (enum clm_track)pp->track.v;
        int k = ki("msr.election");

        dflt(pp, "msr.election", CLM_MSR_VARIABLE);
        if (pp->msr_election.v == CLM_MSR_FIXED) {
                if (!clm_track_two_sided(t)) {
                        return failf(c, k, c->line[k],
                                     "one-sided track %s uses the variable "
                                     "MSR",
                                     clm_track_str(t));
                }
                int rc = forbid(c, "msr.table", "with msr.election = fixed");

                return rc != CLM_OK ? rc
                                    : require(c, pp, "msr.fixed",
                                              "by msr.election = fixed");
        }
        if (!pp->msr_table.set) {
                memcpy(pp->msr_band, default_msr, sizeof(default_msr));
                dflt(pp, "msr.table",
                     (int64_t)(sizeof(default_msr) / sizeof(default_msr[0])));
        }
        return forbid(c, "msr.fixed", "with msr.election = variable");
}

/* loss.* and participant.revenue by track. */
static int
check_losses(const struct ctx *c, struct clm_payparams *pp, const char *why)
{
        static const char *const basic_needs[] = {
                "loss.rate",
                "loss.cap_benchmark",
                "loss.cap_revenue",
                "participant.revenue",
                NULL,
        };
        static const char *const scaled[] = {
                "loss.rate_min",
                "loss.rate_max",
                "loss.rate_factor",
                NULL,
        };
        enum clm_track t = (enum clm_track)pp->track.v;
        int rc;

        if (!clm_track_two_sided(t)) {
                rc = forbid(c, "loss.", why);
                return rc != CLM_OK ? rc
                                    : forbid(c, "participant.revenue", why);
        }
        if (t == CLM_TRACK_BASIC_C || t == CLM_TRACK_BASIC_D ||
            t == CLM_TRACK_BASIC_E) {
                rc = forbid_all(c, scaled, "by BASIC (it uses loss.rate)");
                return rc != CLM_OK ? rc : require_all(c, pp, basic_needs, why);
        }
        rc = forbid(c, "loss.rate",
                    "by a quality-scaled loss rate (loss.rate_min, "
                    "loss.rate_max, loss.rate_factor)");
        if (rc != CLM_OK) {
                return rc;
        }
        if (t != CLM_TRACK_2) {
                /* payments.md 3.5: ENHANCED (and Track 3, its forerunner)
                 * clamp(1 - 0.75 q, 0.40, 0.75), secondary. */
                dflt(pp, "loss.rate_min", 400000);
                dflt(pp, "loss.rate_max", 750000);
                dflt(pp, "loss.rate_factor", 750000);
        }
        rc = require_all(c, pp, scaled, why);
        if (rc == CLM_OK) {
                rc = require(c, pp, "loss.cap_benchmark", why);
        }
        if (rc == CLM_OK &&
            pp->loss_cap_revenue.set != pp->participant_revenue.set) {
                rc = pp->loss_cap_revenue.set
                             ? require(c, pp, "participant.revenue",
                                       "by loss.cap_revenue")
                             : forbid(c, "participant.revenue",
                                      "without loss.cap_revenue");
        }
        if (rc == CLM_OK && pp->loss_rate_min.v > pp->loss_rate_max.v) {
                int k = ki("loss.rate_min");

                rc = failf(c, k, c->line[k], "above loss.rate_max");
        }
        return rc;
}

static int
check_mssp(const struct ctx *c, struct clm_payparams *pp)
{
        static const char *const terms[] = {"sharing.rate", "savings.limit",
                                            NULL};
        char why[96];
        int rc;

        rc = forbid(c, "pioneer.", "by program MSSP");
        if (rc == CLM_OK) {
                rc = require(c, pp, "ssp.track", "by program MSSP");
        }
        if (rc != CLM_OK) {
                return rc;
        }
        if (pp->track.v == CLM_TRACK_NONE) {
                rc = forbid_all(c, mssp_terms, "with ssp.track = NONE");
                return rc != CLM_OK ? rc
                                    : forbid_all(c, quality_keys,
                                                 "with ssp.track = NONE");
        }
        (void)snprintf(why, sizeof(why), "%s track %s",
                       clm_track_two_sided((enum clm_track)pp->track.v)
                               ? "by two-sided"
                               : "by one-sided",
                       clm_track_str((enum clm_track)pp->track.v));
        rc = require_all(c, pp, terms, why);
        if (rc == CLM_OK) {
                rc = require_all(c, pp, benchmarks, why);
        }
        if (rc == CLM_OK) {
                rc = check_msr(c, pp);
        }
        if (rc == CLM_OK) {
                rc = check_losses(c, pp, why);
        }
        return rc != CLM_OK ? rc : check_quality(c, pp, why);
}

/* Whether any of @p names was given. */
static bool
any_given(const struct ctx *c, const char *const *names)
{
        size_t i;

        for (i = 0; names[i] != NULL; i++) {
                if (c->line[ki(names[i])] != 0) {
                        return true;
                }
        }
        return false;
}

static int
check_pioneer(const struct ctx *c, struct clm_payparams *pp)
{
        int year = clm_payparams_pioneer_year(pp);
        int rc;

        if (pp->track.set && pp->track.v != CLM_TRACK_NONE) {
                return failf(c, ki("ssp.track"), c->line[ki("ssp.track")],
                             "program PIONEER has no MSSP track");
        }
        if (pp->advance_model.set && pp->advance_model.v != CLM_ADVANCE_NONE) {
                return failf(c, ki("advance.model"),
                             c->line[ki("advance.model")],
                             "program PIONEER takes no advance payments");
        }
        rc = forbid_all(c, mssp_terms, "by program PIONEER (pioneer.*)");
        if (rc != CLM_OK) {
                return rc;
        }
        if (year <= 2) {
                rc = require_all(c, pp, pioneer_sharing,
                                 "in Pioneer model years 1-2");
                if (rc == CLM_OK) {
                        rc = forbid_all(c, pioneer_pbp,
                                        "before Pioneer model year 3");
                }
        } else {
                rc = require_all(c, pp, pioneer_pbp,
                                 "from Pioneer model year 3");
                if (rc == CLM_OK && any_given(c, pioneer_sharing)) {
                        rc = require_all(c, pp, pioneer_sharing,
                                         "with the other Pioneer sharing "
                                         "terms");
                }
        }
        if (rc != CLM_OK) {
                return rc;
        }
        if (!pp->pioneer_sharing_rate.set) {
                return forbid_all(c, quality_keys, "without sharing terms");
        }
        rc = require_all(c, pp, benchmarks, "by Pioneer sharing terms");
        return rc != CLM_OK ? rc
                            : check_quality(c, pp, "by Pioneer sharing terms");
}

static int
check_advance(const struct ctx *c, struct clm_payparams *pp)
{
        int64_t model;
        int rc;
        int i;

        dflt(pp, "advance.model", CLM_ADVANCE_NONE);
        model = pp->advance_model.v;
        if (model == CLM_ADVANCE_NONE) {
                rc = forbid_all(c, ap_keys, "with advance.model = NONE");
                if (rc == CLM_OK) {
                        rc = forbid(c, "advance.recoup_share",
                                    "with advance.model = NONE");
                }
                if (rc == CLM_OK) {
                        rc = forbid(c, "advance.forgiven_at_end",
                                    "with advance.model = NONE");
                }
                return rc != CLM_OK
                               ? rc
                               : forbid(c, "aip.", "with advance.model = NONE");
        }
        dflt(pp, "advance.recoup_share",
             CLM_PPM); /* r = 1.0, payments.md 2.1 */
        rc = require(c, pp, "advance.forgiven_at_end", "by advance payments");
        if (rc != CLM_OK) {
                return rc;
        }
        if (model != CLM_ADVANCE_AIP) {
                rc = forbid(c, "aip.", "by advance.model ADVANCE_PAYMENT/AIM");
                if (rc == CLM_OK) {
                        rc = require_all(
                                c, pp, ap_keys,
                                "by advance.model ADVANCE_PAYMENT/AIM");
                }
                if (rc == CLM_OK &&
                    pp->adv_monthly_last.v < pp->agreement_start.v / 100) {
                        int k = ki("advance.monthly_last");

                        rc = failf(c, k, c->line[k], "before agreement.start");
                }
                return rc;
        }
        rc = forbid_all(c, ap_keys, "by advance.model AIP");
        if (rc == CLM_OK) {
                rc = require(c, pp, "aip.one_time", "by advance.model AIP");
        }
        for (i = 0; i < CLM_AIP_BANDS_MAX && rc == CLM_OK; i++) {
                if (pp->aip_band_benes[i].set && !pp->aip_band_rate[i].set) {
                        char name[32];

                        (void)snprintf(name, sizeof(name), "aip.band.%d.rate",
                                       i + 1);
                        rc = require(c, pp, name, "by its .benes");
                }
        }
        if (rc == CLM_OK && !any_given(c, aip_rates)) {
                rc = require(c, pp, "aip.band.1.rate",
                             "by advance.model AIP: at least one band");
        }
        dflt(pp, "aip.quarters", 8);
        dflt(pp, "aip.bene_cap", 10000);
        return rc;
}

/* Every cross-key rule of a complete section; fills the defaults. */
static int
check_section(const struct ctx *c, struct clm_payparams *pp)
{
        int rc = check_agreement(c, pp);

        if (rc != CLM_OK) {
                return rc;
        }
        rc = pp->program.v == CLM_PROGRAM_MSSP ? check_mssp(c, pp)
                                               : check_pioneer(c, pp);
        if (rc == CLM_OK) {
                rc = check_advance(c, pp);
        }
        /* 42 CFR 425.110(a): confirmed, but a default is never verified. */
        dflt(pp, "assign.min_benes", 5000);
        return rc;
}

/* ---- files -------------------------------------------------------- */

bool
clm_payparams_aco_id_ok(const char *id)
{
        size_t n = strlen(id);

        return n > 0 && n < CLM_ACO_MAX &&
               strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789_-") == n;
}

static void
pp_init(struct clm_payparams *pp, const char *aco, int32_t year)
{
        memset(pp, 0, sizeof(*pp));
        (void)snprintf(pp->aco, sizeof(pp->aco), "%s", aco);
        pp->year = year;
}

struct loader {
        struct ctx c;
        struct clm_payparams *sets;
        int *set_lines; /* header line of each set */
        size_t n, cap;
        bool open;
};

static char *
trim(char *s)
{
        char *end;

        s += strspn(s, " \t");
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
                *--end = '\0';
        }
        return s;
}

/* Check the open section and keep it. */
static int
close_section(struct loader *ld)
{
        int rc;

        if (!ld->open) {
                return CLM_OK;
        }
        ld->open = false;
        rc = check_section(&ld->c, &ld->sets[ld->n]);
        if (rc == CLM_OK) {
                ld->set_lines[ld->n] = ld->c.section_line;
                ld->n++;
        }
        return rc;
}

static int
open_section(struct loader *ld, char *line, int lineno)
{
        char *body = line + 1;
        char *close = strchr(body, ']');
        char *tok[4];
        int64_t year = 0;
        size_t nt = 0;
        size_t i;

        if (close == NULL || *trim(close + 1) != '\0') {
                return failf(&ld->c, -1, lineno,
                             "bad section header (expected [aco ID YEAR])");
        }
        *close = '\0';
        for (char *s = strtok(body, " \t"); s != NULL && nt < 4;
             s = strtok(NULL, " \t")) {
                tok[nt++] = s;
        }
        if (nt != 3 || strcmp(tok[0], "aco") != 0) {
                return failf(&ld->c, -1, lineno,
                             "bad section header (expected [aco ID YEAR])");
        }
        if (!clm_payparams_aco_id_ok(tok[1])) {
                return failf(&ld->c, -1, lineno,
                             "bad ACO id \"%.*s\" (1-%d of A-Z a-z 0-9 _ -)",
                             SHOW, tok[1], CLM_ACO_MAX - 1);
        }
        if (!parse_uint(tok[2], strlen(tok[2]), &year) || year < YEAR_MIN ||
            year > YEAR_MAX) {
                return failf(&ld->c, -1, lineno, "bad year \"%.*s\"", SHOW,
                             tok[2]);
        }
        for (i = 0; i < ld->n; i++) {
                if (ld->sets[i].year == year &&
                    strcmp(ld->sets[i].aco, tok[1]) == 0) {
                        return failf(&ld->c, -1, lineno,
                                     "duplicate section [aco %s %d] (first "
                                     "at line %d)",
                                     tok[1], (int)year, ld->set_lines[i]);
                }
        }
        if (ld->n == ld->cap) {
                size_t cap = ld->cap == 0 ? 4 : ld->cap * 2;
                struct clm_payparams *s =
                        realloc(ld->sets, cap * sizeof(*ld->sets));
                int *l;

                if (s == NULL) {
                        return CLM_ERR_NOMEM;
                }
                ld->sets = s;
                l = realloc(ld->set_lines, cap * sizeof(*ld->set_lines));
                if (l == NULL) {
                        return CLM_ERR_NOMEM;
                }
                ld->set_lines = l;
                ld->cap = cap;
        }
        pp_init(&ld->sets[ld->n], tok[1], (int32_t)year);
        memset(ld->c.line, 0, sizeof(ld->c.line));
        ld->c.section_line = lineno;
        ld->open = true;
        return CLM_OK;
}

/* "key = value [verified|unverified]" inside a section. */
static int
key_line(struct loader *ld, char *line, int lineno)
{
        char *eq = strchr(line, '=');
        char *key;
        char *value;
        char *last;
        int flag = FLAG_NONE;

        if (eq == NULL) {
                return failf(&ld->c, -1, lineno, "expected key = value");
        }
        *eq = '\0';
        key = trim(line);
        value = trim(eq + 1);
        if (!ld->open) {
                return failf(&ld->c, -1, lineno,
                             "%.*s: outside an [aco ID YEAR] section", SHOW,
                             key);
        }
        if (key[0] == '\0') {
                return failf(&ld->c, -1, lineno, "expected key = value");
        }
        last = value + strlen(value);
        while (last > value && last[-1] != ' ' && last[-1] != '\t') {
                last--;
        }
        if (strcmp(last, "verified") == 0 || strcmp(last, "unverified") == 0) {
                flag = last[0] == 'v';
                *last = '\0';
                value = trim(value);
        }
        return set_key(&ld->c, &ld->sets[ld->n], key, value, flag, lineno);
}

static int
parse_line(struct loader *ld, char *line, int lineno)
{
        char *hash = strchr(line, '#');

        if (hash != NULL) {
                *hash = '\0';
        }
        line = trim(line);
        if (line[0] == '\0') {
                return CLM_OK;
        }
        if (line[0] == '[') {
                int rc = close_section(ld);

                return rc != CLM_OK ? rc : open_section(ld, line, lineno);
        }
        return key_line(ld, line, lineno);
}

int
clm_payparams_load_buffer(const char *name,
                          const char *text,
                          size_t len,
                          struct clm_payparams **out,
                          size_t *n,
                          char *err,
                          size_t errlen)
{
        struct loader ld;
        char *line = NULL;
        size_t pos = 0;
        int lineno = 0;
        int rc = CLM_OK;

        memset(&ld, 0, sizeof(ld));
        ld.c.file = name;
        ld.c.err = err;
        ld.c.errlen = errlen;
        line = malloc(len + 1);
        if (line == NULL) {
                rc = CLM_ERR_NOMEM;
                goto out;
        }
        while (pos < len && rc == CLM_OK) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t end = nl != NULL ? (size_t)(nl - text) : len;
                size_t ll = end - pos;

                lineno++;
                if (memchr(text + pos, '\0', ll) != NULL) {
                        rc = failf(&ld.c, -1, lineno, "NUL byte in line");
                        break;
                }
                memcpy(line, text + pos, ll);
                line[ll] = '\0';
                if (ll > 0 && line[ll - 1] == '\r') {
                        line[ll - 1] = '\0';
                }
                rc = parse_line(&ld, line, lineno);
                pos = end + 1;
        }
        if (rc == CLM_OK) {
                rc = close_section(&ld);
        }
        if (rc == CLM_OK && ld.n == 0) {
                clm_errf(err, errlen, "%s: no [aco ID YEAR] section", name);
                rc = CLM_ERR_CONFIG;
        }
        if (rc == CLM_OK) {
                *out = ld.sets;
                *n = ld.n;
                ld.sets = NULL;
        }
out:
        if (rc == CLM_ERR_NOMEM) {
                clm_errf(err, errlen, "%s: out of memory", name);
        }
        free(line);
        free(ld.set_lines);
        free(ld.sets);
        return rc;
}

int
clm_payparams_load_file(const char *path,
                        struct clm_payparams **out,
                        size_t *n,
                        char *err,
                        size_t errlen)
{
        FILE *fp = fopen(path, "rb");
        char *text = NULL;
        size_t len = 0;
        size_t cap = 0;
        int rc = CLM_ERR_CONFIG;

        if (fp == NULL) {
                char msg[128] = "";

                (void)strerror_r(errno, msg, sizeof(msg));
                clm_errf(err, errlen, "%s: %s", path, msg);
                return CLM_ERR_CONFIG;
        }
        for (;;) {
                size_t got;

                if (len == cap) {
                        size_t ncap = cap == 0 ? 4096 : cap * 2;
                        char *t = realloc(text, ncap);

                        if (t == NULL) {
                                clm_errf(err, errlen, "%s: out of memory",
                                         path);
                                rc = CLM_ERR_NOMEM;
                                goto out;
                        }
                        text = t;
                        cap = ncap;
                }
                got = fread(text + len, 1, cap - len, fp);
                len += got;
                if (got == 0) {
                        break;
                }
        }
        if (ferror(fp)) {
                clm_errf(err, errlen, "%s: read error", path);
                goto out;
        }
        rc = clm_payparams_load_buffer(path, text, len, out, n, err, errlen);
out:
        free(text);
        (void)fclose(fp);
        return rc;
}

int
clm_payparams_from_kv(const char *aco,
                      int32_t year,
                      const char *const *keys_in,
                      const char *const *values,
                      const bool *verified,
                      size_t n,
                      struct clm_payparams *out,
                      char *err,
                      size_t errlen)
{
        struct clm_payparams pp;
        struct ctx c;
        size_t i;
        int rc = CLM_OK;

        memset(&c, 0, sizeof(c));
        c.aco = aco;
        c.year = year;
        c.err = err;
        c.errlen = errlen;
        if (!clm_payparams_aco_id_ok(aco) || year < YEAR_MIN ||
            year > YEAR_MAX) {
                clm_errf(err, errlen, "%.*s/%d: bad ACO id or year", SHOW, aco,
                         (int)year);
                return CLM_ERR_CONFIG;
        }
        pp_init(&pp, aco, year);
        for (i = 0; i < n && rc == CLM_OK; i++) {
                rc = set_key(&c, &pp, keys_in[i], values[i],
                             verified != NULL && verified[i] ? 1 : 0,
                             (int)i + 1);
        }
        if (rc == CLM_OK) {
                rc = check_section(&c, &pp);
        }
        if (rc == CLM_OK) {
                *out = pp;
        }
        return rc;
}

void
clm_payparams_free(struct clm_payparams *pp)
{
        free(pp);
}

const struct clm_payparams *
clm_payparams_find(const struct clm_payparams *pp,
                   size_t n,
                   const char *aco,
                   int32_t year)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (pp[i].year == year && strcmp(pp[i].aco, aco) == 0) {
                        return &pp[i];
                }
        }
        return NULL;
}

const struct clm_fig *
clm_payparams_get(const struct clm_payparams *pp, const char *key)
{
        int k = key_index(key);

        return k < 0 ? NULL : cfig_at(pp, (size_t)k);
}

/* ---- rendering and digest ----------------------------------------- */

struct out {
        char *buf;
        size_t size, len;
};

static void outf(struct out *o, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
outf(struct out *o, const char *fmt, ...)
{
        va_list ap;
        int w;

        va_start(ap, fmt);
        w = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
                      o->len < o->size ? o->size - o->len : 0, fmt, ap);
        va_end(ap);
        o->len += w > 0 ? (size_t)w : 0;
}

static void
render_value(struct out *o, const struct clm_payparams *pp, size_t k)
{
        const struct clm_fig *f = cfig_at(pp, k);
        const struct name_val *names = names_of(keys[k].kind);
        int64_t i;

        switch (keys[k].kind) {
        case K_DATE:
                outf(o, "%04lld-%02lld-%02lld", (long long)(f->v / 10000),
                     (long long)(f->v / 100 % 100), (long long)(f->v % 100));
                return;
        case K_MONTH:
                outf(o, "%04lld-%02lld", (long long)(f->v / 100),
                     (long long)(f->v % 100));
                return;
        case K_MSR_TABLE:
                for (i = 0; i < f->v; i++) {
                        outf(o, "%s%lld:%lld:%lld", i == 0 ? "" : " ",
                             (long long)pp->msr_band[i].n_lo,
                             (long long)pp->msr_band[i].r_lo,
                             (long long)pp->msr_band[i].r_hi);
                }
                return;
        default:
                break;
        }
        if (names != NULL) {
                outf(o, "%s", name_of(names, f->v));
        } else {
                outf(o, "%lld", (long long)f->v);
        }
}

size_t
clm_payparams_render(const struct clm_payparams *pp, char *buf, size_t size)
{
        struct out o = {buf, size, 0};
        size_t k;

        if (size > 0) {
                buf[0] = '\0';
        }
        outf(&o, "[aco %s %d]\n", pp->aco, (int)pp->year);
        for (k = 0; k < N_KEYS; k++) {
                const struct clm_fig *f = cfig_at(pp, k);

                if (!f->set) {
                        continue;
                }
                outf(&o, "%s = ", keys[k].name);
                render_value(&o, pp, k);
                if (!is_setting(keys[k].kind)) {
                        outf(&o, " %s",
                             f->verified ? "verified" : "unverified");
                }
                outf(&o, "\n");
        }
        return o.len;
}

void
clm_payparams_digest(const struct clm_payparams *pp,
                     char out[CLM_PP_DIGEST_HEX])
{
        static const char hex[] = "0123456789abcdef";
        /* The longest rendering (every key, 32 MSR rows) is under 8 KiB. */
        char text[RENDER_MAX];
        size_t head = sizeof(DIGEST_HEAD) - 1;
        size_t len;
        uint8_t md[32];
        size_t i;

        memcpy(text, DIGEST_HEAD, head);
        len = clm_payparams_render(pp, text + head, sizeof(text) - head);
        assert(head + len < sizeof(text));
        clm_sha256(text, head + len, md);
        for (i = 0; i < 32; i++) {
                out[2 * i] = hex[md[i] >> 4];
                out[2 * i + 1] = hex[md[i] & 15];
        }
        out[64] = '\0';
}

const char *
clm_track_str(enum clm_track track)
{
        return name_of(tracks, track);
}

bool
clm_track_two_sided(enum clm_track track)
{
        switch (track) {
        case CLM_TRACK_BASIC_C:
        case CLM_TRACK_BASIC_D:
        case CLM_TRACK_BASIC_E:
        case CLM_TRACK_ENHANCED:
        case CLM_TRACK_2:
        case CLM_TRACK_3:
                return true;
        default:
                return false;
        }
}

int
clm_payparams_pioneer_year(const struct clm_payparams *pp)
{
        if (pp->program.v != CLM_PROGRAM_PIONEER) {
                return 0;
        }
        return (int)(pp->year - pp->agreement_start.v / 10000 + 1);
}
