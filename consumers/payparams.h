#ifndef CLM_CONSUMERS_PAYPARAMS_H
#define CLM_CONSUMERS_PAYPARAMS_H

/*
 * ACO payment parameters (docs/payments.md 2): one set per ACO and
 * performance year, read from `[aco ID YEAR]` sections of a parameter file
 * (the files of config/acos/) or from the flat key/value pairs of the
 * aco.registry topic. Every figure carries a verified flag, so every payment
 * computed from it can say whether all it read was checked. Pure: no I/O except
 * reading the parameter file, no logging, no globals.
 *
 * Units: money in int64 cents, rates in parts per million (ppm), quality
 * in basis points (0..10000), counts as int64, months as YYYYMM and dates
 * as YYYYMMDD integers.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/event.h"

#define CLM_PP_ENR        4  /* benchmark enrollment types E, D, A, N */
#define CLM_MSR_BANDS_MAX 32 /* rows of a variable MSR table */
#define CLM_AIP_BANDS_MAX 8  /* AIP risk-factor score bands */
#define CLM_PP_DIGEST_HEX 65 /* 64 hex digits + NUL */
#define CLM_PPM           1000000
#define CLM_PP_MONEY_MAX  1000000000000 /* $10 billion, in cents */
#define CLM_PP_COUNT_MAX  1000000000

/*
 * One parameter. For figures (amounts, rates, counts, months, flags that
 * come from a methodology or a CMS report), `verified` says someone checked
 * the figure for this ACO-year; a built-in default is never verified. For
 * settings (program, track, model, agreement dates, MSR election, quality
 * era: the ACO's agreement and elections, not published figures) there is
 * no flag to give and `verified` is always true.
 */
struct clm_fig {
        int64_t v;
        bool set;      /* given, or filled by a default */
        bool verified; /* see above */
        bool dflt;     /* filled by a built-in default */
};

enum clm_program {
        CLM_PROGRAM_MSSP = 1,
        CLM_PROGRAM_PIONEER = 2,
};

enum clm_track {
        CLM_TRACK_NONE = 0,
        CLM_TRACK_BASIC_A,
        CLM_TRACK_BASIC_B,
        CLM_TRACK_BASIC_C,
        CLM_TRACK_BASIC_D,
        CLM_TRACK_BASIC_E,
        CLM_TRACK_ENHANCED,
        CLM_TRACK_1,
        CLM_TRACK_2,
        CLM_TRACK_3,
};

enum clm_advance_model {
        CLM_ADVANCE_NONE = 0,
        CLM_ADVANCE_PAYMENT, /* Advance Payment ACO Model, 2012-2015 */
        CLM_ADVANCE_AIM,     /* ACO Investment Model, 2015-2016 */
        CLM_ADVANCE_AIP,     /* Advance Investment Payments, 2024+ */
};

enum clm_msr_election {
        CLM_MSR_VARIABLE = 0,
        CLM_MSR_FIXED = 1,
};

enum clm_quality_era {
        CLM_QUALITY_2012 = 2012, /* sharing = max rate x quality score */
        CLM_QUALITY_2021 = 2021, /* gate: met, alternative, or nothing */
};

/* One row of the variable MSR table: from n_lo beneficiaries up to the
 * next row's n_lo - 1, the MSR runs from r_lo to r_hi (ppm). */
struct clm_msr_band {
        int64_t n_lo;
        int64_t r_lo;
        int64_t r_hi;
};

/*
 * The parameter set of one ACO-year. A plain value type: callers read the
 * fields directly. Key names (docs/payments.md 2) are given beside each
 * field; `X` in benchmark.X is E, D, A or N, indexed by enum clm_enrollment
 * (CLM_ENR_ESRD .. CLM_ENR_AGED_NON_DUAL).
 */
struct clm_payparams {
        char aco[CLM_ACO_MAX];
        int32_t year;

        /* settings */
        struct clm_fig program;         /* program: enum clm_program */
        struct clm_fig track;           /* ssp.track: enum clm_track */
        struct clm_fig advance_model;   /* advance.model */
        struct clm_fig agreement_start; /* agreement.start, YYYYMMDD */
        struct clm_fig agreement_end;   /* agreement.end, YYYYMMDD */
        struct clm_fig msr_election;    /* msr.election */
        struct clm_fig quality_era;     /* quality.era */

        /* benchmark and population */
        struct clm_fig benchmark[CLM_PP_ENR];  /* cents per capita per year */
        struct clm_fig truncation[CLM_PP_ENR]; /* cents per beneficiary */
        struct clm_fig min_benes;              /* assign.min_benes */

        /* MSR/MLR */
        struct clm_fig msr_fixed; /* msr.fixed, ppm */
        struct clm_fig msr_table; /* msr.table: v = rows in msr_band */
        struct clm_msr_band msr_band[CLM_MSR_BANDS_MAX];

        /* sharing and losses (MSSP) */
        struct clm_fig sharing_rate;        /* sharing.rate, ppm */
        struct clm_fig savings_limit;       /* savings.limit, ppm of bmk */
        struct clm_fig loss_rate;           /* loss.rate, ppm */
        struct clm_fig loss_rate_min;       /* loss.rate_min, ppm */
        struct clm_fig loss_rate_max;       /* loss.rate_max, ppm */
        struct clm_fig loss_rate_factor;    /* loss.rate_factor, ppm */
        struct clm_fig loss_cap_benchmark;  /* loss.cap_benchmark, ppm */
        struct clm_fig loss_cap_revenue;    /* loss.cap_revenue, ppm */
        struct clm_fig participant_revenue; /* participant.revenue, cents */

        /* quality */
        struct clm_fig quality_threshold;       /* quality.threshold, bp */
        struct clm_fig quality_alternative_met; /* 0 or 1 */
        struct clm_fig quality_score;           /* quality.score, bp */

        /* Advance Payment / AIM */
        struct clm_fig adv_upfront_fixed;    /* cents */
        struct clm_fig adv_upfront_per_bene; /* cents per H */
        struct clm_fig adv_monthly_per_bene; /* cents per H per month */
        struct clm_fig adv_monthly_last;     /* YYYYMM */
        struct clm_fig adv_historical_benes; /* H */
        struct clm_fig adv_recoup_share;     /* r, ppm */
        struct clm_fig adv_forgiven_at_end;  /* 0 or 1 */

        /* AIP */
        struct clm_fig aip_one_time;                      /* cents */
        struct clm_fig aip_quarters;                      /* count */
        struct clm_fig aip_bene_cap;                      /* count */
        struct clm_fig aip_band_rate[CLM_AIP_BANDS_MAX];  /* cents/bene/qtr */
        struct clm_fig aip_band_benes[CLM_AIP_BANDS_MAX]; /* count */

        /* Pioneer */
        struct clm_fig pioneer_sharing_rate;      /* ppm */
        struct clm_fig pioneer_loss_rate;         /* ppm */
        struct clm_fig pioneer_savings_cap;       /* ppm of benchmark */
        struct clm_fig pioneer_loss_cap;          /* ppm of benchmark */
        struct clm_fig pioneer_msr;               /* ppm, symmetric */
        struct clm_fig pioneer_pbp_pct;           /* ppm of expected FFS */
        struct clm_fig pioneer_expected_ffs_pbpm; /* cents */
        struct clm_fig pioneer_aligned_benes;     /* count */
};

/**
 * @brief Load every `[aco ID YEAR]` section of a parameter file.
 *
 * Lines are `key = value [verified|unverified]` (figures; default
 * unverified) or `key = value` (settings), `#` starts a comment. Each
 * section is checked as a whole when it ends: unknown or duplicate keys,
 * bad numbers, out-of-range values, keys the program, track or model does
 * not use, and missing required keys are errors. Built-in defaults
 * (unverified) fill the few keys docs/payments.md 2 lists.
 * @param path borrowed
 * @param out on success a new array of @p n sets in file order (free with
 * clm_payparams_free); untouched on error
 * @param n on success the number of sets (>= 1)
 * @param err on error "path:line: key: reason" (or "path:line: reason"
 * for a line with no key, "path: reason" for an unreadable file)
 * @returns CLM_OK, CLM_ERR_CONFIG or CLM_ERR_NOMEM
 * @sa clm_payparams_free
 */
int clm_payparams_load_file(const char *path,
                            struct clm_payparams **out,
                            size_t *n,
                            char *err,
                            size_t errlen);

/**
 * @brief Same as clm_payparams_load_file on text in memory; @p name stands
 * for the path in errors.
 * @sa clm_payparams_free
 */
int clm_payparams_load_buffer(const char *name,
                              const char *text,
                              size_t len,
                              struct clm_payparams **out,
                              size_t *n,
                              char *err,
                              size_t errlen);

/**
 * @brief Build one set from flat key/value pairs (the aco.registry topic):
 * the same keys, value spellings and checks as a file section.
 * @param keys, values borrowed; values carry no verified/unverified word
 * @param verified the flag of each pair; may be NULL (all unverified).
 * Ignored for settings.
 * @param out written only on success
 * @param err on error "ACO/YEAR: key: reason"
 * @returns CLM_OK or CLM_ERR_CONFIG
 */
int clm_payparams_from_kv(const char *aco,
                          int32_t year,
                          const char *const *keys,
                          const char *const *values,
                          const bool *verified,
                          size_t n,
                          struct clm_payparams *out,
                          char *err,
                          size_t errlen);

/** @brief Free an array from clm_payparams_load_*; NULL-safe. */
void clm_payparams_free(struct clm_payparams *pp);

/**
 * @brief The set for an ACO and year in an array, or NULL.
 * @param pp may be NULL when @p n is 0
 */
const struct clm_payparams *clm_payparams_find(const struct clm_payparams *pp,
                                               size_t n,
                                               const char *aco,
                                               int32_t year);

/**
 * @brief The parameter of a key name ("sharing.rate", "aip.band.2.rate"),
 * or NULL for an unknown name. For reports that list inputs by key.
 */
const struct clm_fig *clm_payparams_get(const struct clm_payparams *pp,
                                        const char *key);

/**
 * @brief Canonical rendering: the section header, then one line per set
 * key in the fixed key order, values in canonical spelling, each figure
 * followed by `verified` or `unverified`. The text is itself a valid
 * parameter file that loads back to an equal set (defaults then count as
 * given). Whether a value came from a default is not rendered.
 * @returns the length (without NUL) the full text needs; the buffer holds
 * a NUL-terminated prefix when @p size is smaller
 */
size_t
clm_payparams_render(const struct clm_payparams *pp, char *buf, size_t size);

/**
 * @brief The parameter version: SHA-256 (64 lower-case hex digits) of
 * "claimsd-payparams v1\n" followed by clm_payparams_render. Changes with
 * any value or verified flag; key order, spelling, comments and whether a
 * value was defaulted or written out do not change it.
 */
void clm_payparams_digest(const struct clm_payparams *pp,
                          char out[CLM_PP_DIGEST_HEX]);

/** @brief Key spelling of a track ("BASIC_A", "ENHANCED", "NONE"). */
const char *clm_track_str(enum clm_track track);

/** @brief Whether a track shares losses (BASIC C-E, ENHANCED, Track 2-3). */
bool clm_track_two_sided(enum clm_track track);

/**
 * @brief Pioneer model year of the set (performance year - agreement start
 * year + 1), or 0 when the program is not Pioneer.
 */
int clm_payparams_pioneer_year(const struct clm_payparams *pp);

/**
 * @brief Whether @p id is a valid ACO id (1-15 of A-Z a-z 0-9 _ -), the
 * rule of parameter files, so it can be part of a key name.
 */
bool clm_payparams_aco_id_ok(const char *id);

#endif
