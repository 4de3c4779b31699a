/*
 * Payment parameters: every shipped config/acos file loads and renders
 * back to the same set; verified flags and defaults; comments, CRLF and
 * several sections; every validation rule with its exact
 * "file:line: key: reason"; the key/value loader of the aco.registry
 * topic with the same rules; digest stability (pinned) and what does and
 * does not change it.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include "consumers/payparams.h"
#include "daemon/rc.h"

#ifndef TEST_SOURCE_DIR
#error "TEST_SOURCE_DIR must name the source tree"
#endif

#define ACOS_DIR TEST_SOURCE_DIR "/config/acos"

#define DIGEST_BASE                                                            \
        "5ec46f7721f3397e09d99e11bb318643fe4c209add0eb1baf8594d62845a7365"

#define ERR_IS(want) cr_assert(eq(str, err, (char *)(want)), "got: %s", err)

/* Lines 1-13 of a valid section; rules append from line 14. */
#define SEC(track, rates)                                                      \
        "[aco A0001 2025]\n"                  /* 1 */                          \
        "program = MSSP\n"                    /* 2 */                          \
        "ssp.track = " track "\n"             /* 3 */                          \
        "agreement.start = 2025-01-01\n"      /* 4 */                          \
        "agreement.end = 2029-12-31\n"        /* 5 */                          \
        "benchmark.E = 9500000 verified\n"    /* 6 */                          \
        "benchmark.D = 1100000 verified\n"    /* 7 */                          \
        "benchmark.A = 1200000 unverified\n"  /* 8 */                          \
        "benchmark.N = 1050000\n"             /* 9 */                          \
                rates                         /* 10-11 */                      \
        "quality.era = 2021\n"                /* 12 */                         \
        "quality.threshold = 7385 verified\n" /* 13 */

#define RATES                                                                  \
        "sharing.rate = 400000 verified\n"                                     \
        "savings.limit = 100000 verified\n"

#define BASE SEC("BASIC_A", RATES)

/* Complete two-sided sections. */
#define ENH_OK SEC("ENHANCED", RATES) "loss.cap_benchmark = 150000\n"
#define BASIC_E_OK                                                             \
        SEC("BASIC_E", RATES)                                                  \
        "loss.rate = 300000\n"                                                 \
        "loss.cap_benchmark = 40000\n"                                         \
        "loss.cap_revenue = 80000\n"                                           \
        "participant.revenue = 3000000000\n"

#define PIONEER(year)                                                          \
        "[aco P0001 " year "]\n"         /* 1 */                               \
        "program = PIONEER\n"            /* 2 */                               \
        "agreement.start = 2012-01-01\n" /* 3 */                               \
        "agreement.end = 2016-12-31\n"   /* 4 */

#define PIONEER_TERMS                                                          \
        "benchmark.E = 1100000\n"         /* 5 */                              \
        "benchmark.D = 1100000\n"         /* 6 */                              \
        "benchmark.A = 1100000\n"         /* 7 */                              \
        "benchmark.N = 1100000\n"         /* 8 */                              \
        "pioneer.sharing_rate = 600000\n" /* 9 */                              \
        "pioneer.loss_rate = 600000\n"    /* 10 */                             \
        "pioneer.savings_cap = 100000\n"  /* 11 */                             \
        "pioneer.loss_cap = 100000\n"     /* 12 */                             \
        "pioneer.msr = 20000\n"           /* 13 */                             \
        "quality.era = 2012\n"            /* 14 */

#define PBP                                                                    \
        "pioneer.pbp_pct = 500000\n"                                           \
        "pioneer.expected_ffs_pbpm = 80000\n"                                  \
        "pioneer.aligned_benes = 15000\n"

#define AP_TERMS                                                               \
        "advance.upfront_fixed = 25000000\n"                                   \
        "advance.upfront_per_bene = 3600\n"                                    \
        "advance.monthly_per_bene = 800\n"                                     \
        "advance.monthly_last = 2026-06\n"                                     \
        "advance.historical_benes = 8000\n"                                    \
        "advance.forgiven_at_end = true\n"

static char err[1024];
static struct clm_payparams *sets;
static size_t n_sets;

static int
load(const char *text)
{
        int rc;

        err[0] = '\0';
        clm_payparams_free(sets);
        sets = NULL;
        n_sets = 0;
        rc = clm_payparams_load_buffer("t.conf", text, strlen(text), &sets,
                                       &n_sets, err, sizeof(err));
        return rc;
}

static void
load_ok(const char *text)
{
        cr_assert(eq(int, load(text), CLM_OK), "%s", err);
}

static void
teardown(void)
{
        clm_payparams_free(sets);
        sets = NULL;
}

TestSuite(payparams, .fini = teardown);

/* ---- loading --------------------------------------------------------- */

Test(payparams, flags_defaults_and_settings)
{
        const struct clm_payparams *pp;

        load_ok(BASE);
        cr_assert(eq(sz, n_sets, 1));
        pp = &sets[0];
        cr_assert(eq(str, (char *)pp->aco, (char *)"A0001"));
        cr_assert(eq(i32, pp->year, 2025));
        cr_assert(eq(i64, pp->program.v, CLM_PROGRAM_MSSP));
        cr_assert(pp->program.verified); /* settings: always */
        cr_assert(eq(i64, pp->track.v, CLM_TRACK_BASIC_A));
        cr_assert(eq(i64, pp->agreement_start.v, 20250101));
        cr_assert(eq(i64, pp->agreement_end.v, 20291231));
        cr_assert(eq(i64, pp->benchmark[CLM_ENR_ESRD].v, 9500000));
        cr_assert(pp->benchmark[CLM_ENR_ESRD].verified);
        cr_assert(not(pp->benchmark[CLM_ENR_AGED_DUAL].verified));
        cr_assert(not(pp->benchmark[CLM_ENR_AGED_NON_DUAL].verified));
        cr_assert(not(pp->benchmark[CLM_ENR_AGED_NON_DUAL].dflt));
        /* defaults: set, flagged, never verified */
        cr_assert(pp->msr_table.set);
        cr_assert(pp->msr_table.dflt);
        cr_assert(not(pp->msr_table.verified));
        cr_assert(eq(i64, pp->msr_table.v, 14));
        cr_assert(eq(i64, pp->msr_band[4].n_lo, 5000));
        cr_assert(eq(i64, pp->msr_band[4].r_lo, 39000));
        cr_assert(eq(i64, pp->min_benes.v, 5000));
        cr_assert(pp->min_benes.dflt);
        cr_assert(not(pp->min_benes.verified));
        cr_assert(eq(i64, pp->msr_election.v, CLM_MSR_VARIABLE));
        cr_assert(eq(i64, pp->advance_model.v, CLM_ADVANCE_NONE));
        cr_assert(eq(i64, pp->quality_alternative_met.v, 0));
        cr_assert(pp->quality_alternative_met.dflt);
        /* keys not used by this set stay unset */
        cr_assert(not(pp->loss_rate.set));
        cr_assert(not(pp->quality_score.set));
        cr_assert(not(pp->loss_rate_min.set));
}

Test(payparams, enhanced_loss_bounds_default_and_track_2_needs_them)
{
        load_ok(ENH_OK);
        cr_assert(eq(i64, sets[0].loss_rate_min.v, 400000));
        cr_assert(eq(i64, sets[0].loss_rate_max.v, 750000));
        cr_assert(eq(i64, sets[0].loss_rate_factor.v, 750000));
        cr_assert(sets[0].loss_rate_max.dflt);
        load_ok(SEC("TRACK_3", RATES) "loss.cap_benchmark = 150000\n");
        cr_assert(eq(i64, sets[0].loss_rate_max.v, 750000));
        cr_assert(eq(int,
                     load(SEC("TRACK_2", RATES) "loss.cap_benchmark = 1\n"),
                     CLM_ERR_CONFIG));
        ERR_IS("t.conf:1: loss.rate_min: missing (required by two-sided "
               "track TRACK_2)");
        load_ok(SEC("TRACK_2", RATES) "loss.cap_benchmark = 1\n"
                                      "loss.rate_min = 400000\n"
                                      "loss.rate_max = 600000\n"
                                      "loss.rate_factor = 600000\n");
        cr_assert(not(sets[0].loss_rate_max.dflt));
}

Test(payparams, comments_crlf_tabs_and_blank_lines)
{
        const char *text =
                "# leading comment\r\n"
                "\r\n"
                "  [aco A0001 2025]   # header comment\r\n"
                "program\t=\tMSSP\r\n"
                "ssp.track = BASIC_A # trailing\r\n"
                "agreement.start = 2025-01-01\r\n"
                "agreement.end = 2029-12-31\r\n"
                "benchmark.E = 9500000\tverified   # flag then comment\r\n"
                "benchmark.D = 1100000 verified\r\n"
                "benchmark.A = 1200000 unverified\r\n"
                "benchmark.N = 1050000\r\n" RATES "quality.era = 2021\r\n"
                "quality.threshold = 7385 verified";
        char d1[CLM_PP_DIGEST_HEX], d2[CLM_PP_DIGEST_HEX];

        load_ok(text);
        cr_assert(sets[0].benchmark[CLM_ENR_ESRD].verified);
        cr_assert(sets[0].quality_threshold.verified);
        clm_payparams_digest(&sets[0], d1);
        load_ok(BASE);
        clm_payparams_digest(&sets[0], d2);
        cr_assert(eq(str, d1, d2));
}

Test(payparams, several_sections_and_find)
{
        load_ok(BASE "[aco A0001 2026]\n"
                     "program = MSSP\n"
                     "ssp.track = BASIC_B\n"
                     "agreement.start = 2025-01-01\n"
                     "agreement.end = 2029-12-31\n"
                     "benchmark.E = 1\nbenchmark.D = 1\n"
                     "benchmark.A = 1\nbenchmark.N = 1\n" RATES
                     "quality.era = 2012\n"
                     "[aco A0002 2025]\n"
                     "program = MSSP\n"
                     "ssp.track = NONE\n"
                     "agreement.start = 2025-01-01\n"
                     "agreement.end = 2025-12-31\n");
        cr_assert(eq(sz, n_sets, 3));
        cr_assert(eq(i64,
                     clm_payparams_find(sets, n_sets, "A0001", 2026)->track.v,
                     CLM_TRACK_BASIC_B));
        cr_assert(eq(ptr,
                     (void *)clm_payparams_find(sets, n_sets, "A0002", 2025),
                     &sets[2]));
        cr_assert(eq(ptr,
                     (void *)clm_payparams_find(sets, n_sets, "A0003", 2025),
                     NULL));
        cr_assert(eq(ptr, (void *)clm_payparams_find(NULL, 0, "A0001", 2025),
                     NULL));
}

Test(payparams, get_by_key_name)
{
        load_ok(BASE);
        cr_assert(eq(ptr, (void *)clm_payparams_get(&sets[0], "sharing.rate"),
                     &sets[0].sharing_rate));
        cr_assert(eq(ptr,
                     (void *)clm_payparams_get(&sets[0], "aip.band.2.rate"),
                     &sets[0].aip_band_rate[1]));
        cr_assert(eq(ptr, (void *)clm_payparams_get(&sets[0], "benchmark.A"),
                     &sets[0].benchmark[CLM_ENR_AGED_DUAL]));
        cr_assert(eq(ptr, (void *)clm_payparams_get(&sets[0], "nope"), NULL));
}

Test(payparams, dates_and_leap_years)
{
        load_ok(SEC("BASIC_A", RATES) "quality.score = 0\n");
        cr_assert(eq(int,
                     load("[aco A0001 2024]\n"
                          "program = MSSP\n"
                          "ssp.track = NONE\n"
                          "agreement.start = 2024-02-29\n"
                          "agreement.end = 2024-12-31\n"),
                     CLM_OK),
                  "%s", err);
        cr_assert(eq(int,
                     load("[aco A0001 2023]\n"
                          "program = MSSP\n"
                          "ssp.track = NONE\n"
                          "agreement.start = 2023-02-29\n"
                          "agreement.end = 2023-12-31\n"),
                     CLM_ERR_CONFIG));
        ERR_IS("t.conf:4: agreement.start: not a date (YYYY-MM-DD): "
               "\"2023-02-29\"");
}

Test(payparams, pioneer_years)
{
        load_ok(PIONEER("2012") PIONEER_TERMS);
        cr_assert(eq(int, clm_payparams_pioneer_year(&sets[0]), 1));
        load_ok(PIONEER("2014") PBP);
        cr_assert(eq(int, clm_payparams_pioneer_year(&sets[0]), 3));
        load_ok(PIONEER("2015") PIONEER_TERMS PBP);
        cr_assert(eq(int, clm_payparams_pioneer_year(&sets[0]), 4));
        load_ok(BASE);
        cr_assert(eq(int, clm_payparams_pioneer_year(&sets[0]), 0));
}

Test(payparams, advance_models)
{
        load_ok(SEC("BASIC_A",
                    RATES) "advance.model = ADVANCE_PAYMENT\n" AP_TERMS);
        cr_assert(eq(i64, sets[0].adv_recoup_share.v, 1000000));
        cr_assert(sets[0].adv_recoup_share.dflt);
        cr_assert(eq(i64, sets[0].adv_monthly_last.v, 202606));
        load_ok("[aco A0001 2025]\n"
                "program = MSSP\n"
                "ssp.track = NONE\n"
                "agreement.start = 2025-01-01\n"
                "agreement.end = 2029-12-31\n"
                "advance.model = AIM\n" AP_TERMS);
        cr_assert(eq(i64, sets[0].advance_model.v, CLM_ADVANCE_AIM));
        load_ok(SEC("BASIC_A", RATES) "advance.model = AIP\n"
                                      "aip.one_time = 25000000\n"
                                      "aip.band.3.rate = 4500\n"
                                      "aip.band.3.benes = 12\n"
                                      "advance.forgiven_at_end = false\n");
        cr_assert(eq(i64, sets[0].aip_quarters.v, 8));
        cr_assert(eq(i64, sets[0].aip_bene_cap.v, 10000));
        cr_assert(eq(i64, sets[0].aip_band_benes[2].v, 12));
}

/* ---- every rule, with its exact error --------------------------------- */

struct bad_case {
        const char *text;
        const char *err;
};

static const struct bad_case bad_cases[] = {
        {BASE "foo.bar = 1\n", "t.conf:14: foo.bar: unknown key"},
        {BASE "quality.score = 95.5\n",
         "t.conf:14: quality.score: not a whole number: \"95.5\""},
        {BASE "quality.score = -5\n",
         "t.conf:14: quality.score: not a whole number: \"-5\""},
        {BASE "quality.score = 99999999999999999999\n",
         "t.conf:14: quality.score: not a whole number: "
         "\"99999999999999999999\""},
        {BASE "quality.score = 10001\n",
         "t.conf:14: quality.score: 10001 out of range 0..10000 basis "
         "points"},
        {BASE "quality.score = 1 2\n",
         "t.conf:14: quality.score: not a whole number: \"1 2\""},
        {SEC("BASIC_A",
             "sharing.rate = 1500000 verified\n"
             "savings.limit = 100000\n"),
         "t.conf:10: sharing.rate: 1500000 out of range 0..1000000 ppm"},
        {BASE "truncation.E = 0\n",
         "t.conf:14: truncation.E: 0 out of range 1..1000000000000 cents"},
        {ENH_OK "msr.election = fixed\nmsr.fixed = 25000\n",
         "t.conf:16: msr.fixed: 25000 not one of 0, 5000, 10000, 15000, "
         "20000 ppm"},
        {BASE "loss.rate = 300000\n",
         "t.conf:14: loss.rate: not used by one-sided track BASIC_A"},
        {BASE "participant.revenue = 1\n",
         "t.conf:14: participant.revenue: not used by one-sided track "
         "BASIC_A"},
        {BASE "msr.election = fixed\nmsr.fixed = 20000\n",
         "t.conf:14: msr.election: one-sided track BASIC_A uses the variable "
         "MSR"},
        {ENH_OK "loss.rate = 300000\n",
         "t.conf:15: loss.rate: not used by a quality-scaled loss rate "
         "(loss.rate_min, loss.rate_max, loss.rate_factor)"},
        {BASIC_E_OK "loss.rate_min = 400000\n",
         "t.conf:18: loss.rate_min: not used by BASIC (it uses loss.rate)"},
        {BASE "sharing.rate = 500000\n",
         "t.conf:14: sharing.rate: duplicate key (first at line 10)"},
        {SEC("ENHANCED", RATES),
         "t.conf:1: loss.cap_benchmark: missing (required by two-sided "
         "track ENHANCED)"},
        {SEC("BASIC_E", RATES),
         "t.conf:1: loss.rate: missing (required by two-sided track "
         "BASIC_E)"},
        {SEC("BASIC_E", RATES) "loss.rate = 1\nloss.cap_benchmark = 1\n"
                               "loss.cap_revenue = 1\n",
         "t.conf:1: participant.revenue: missing (required by two-sided "
         "track BASIC_E)"},
        {SEC("BASIC_A", ""),
         "t.conf:1: sharing.rate: missing (required by one-sided track "
         "BASIC_A)"},
        {"[aco A0001 2025]\nprogram = MSSP verified\n",
         "t.conf:2: program: a setting takes no verified/unverified flag"},
        {"[aco A0001 2025]\nprogram = MSSP\n",
         "t.conf:1: agreement.start: missing (required for every ACO-year)"},
        {"[aco A0001 2025]\nagreement.start = 2025-01-01\n",
         "t.conf:1: program: missing (required for every ACO-year)"},
        {"[aco A0001 2025]\nprogram = MEDICAID\n",
         "t.conf:2: program: not MSSP or PIONEER: \"MEDICAID\""},
        {SEC("BASIC_F", RATES),
         "t.conf:3: ssp.track: not NONE, BASIC_A, BASIC_B, BASIC_C, BASIC_D, "
         "BASIC_E, ENHANCED, TRACK_1, TRACK_2 or TRACK_3: \"BASIC_F\""},
        {BASE "quality.alternative_met = yes\n",
         "t.conf:14: quality.alternative_met: not false or true: \"yes\""},
        {"program = MSSP\n",
         "t.conf:1: program: outside an [aco ID YEAR] section"},
        {"[aco A0001]\n",
         "t.conf:1: bad section header (expected [aco ID YEAR])"},
        {"[aco A0001 2025] x\n",
         "t.conf:1: bad section header (expected [aco ID YEAR])"},
        {"[ACO A0001 2025]\n",
         "t.conf:1: bad section header (expected [aco ID YEAR])"},
        {"[aco A:1 2025]\n",
         "t.conf:1: bad ACO id \"A:1\" (1-15 of A-Z a-z 0-9 _ -)"},
        {"[aco A0001 20x5]\n", "t.conf:1: bad year \"20x5\""},
        {BASE BASE,
         "t.conf:14: duplicate section [aco A0001 2025] (first at line 1)"},
        {BASE "garbage\n", "t.conf:14: expected key = value"},
        {BASE " = 5\n", "t.conf:14: expected key = value"},
        {BASE "quality.score =\n", "t.conf:14: quality.score: missing value"},
        {BASE "quality.score = verified\n",
         "t.conf:14: quality.score: missing value"},
        {"", "t.conf: no [aco ID YEAR] section"},
        {"# only a comment\n\n", "t.conf: no [aco ID YEAR] section"},
        {"[aco A0001 2025]\nprogram = MSSP\nssp.track = NONE\n"
         "agreement.start = 2025-01-01\nagreement.end = 2024-12-31\n",
         "t.conf:5: agreement.end: before agreement.start"},
        {"[aco A0001 2031]\nprogram = MSSP\nssp.track = NONE\n"
         "agreement.start = 2025-01-01\nagreement.end = 2029-12-31\n",
         "t.conf:1: performance year 2031 outside the agreement (2025-01-01 "
         "to 2029-12-31)"},
        {"[aco A0001 2025]\nprogram = MSSP\nssp.track = NONE\n"
         "agreement.start = 2025-01-01\nagreement.end = 2029-13-31\n",
         "t.conf:5: agreement.end: not a date (YYYY-MM-DD): \"2029-13-31\""},
        {BASE "msr.table = 100:1:1 200:2:2\n",
         "t.conf:14: msr.table: row 1: rows must start at 0 and increase"},
        {BASE "msr.table = 0:10:10 0:5:5\n",
         "t.conf:14: msr.table: row 2: rows must start at 0 and increase"},
        {BASE "msr.table = 0:10:5\n",
         "t.conf:14: msr.table: the last row is open-ended: its two rates "
         "must be equal"},
        {BASE "msr.table = 0:10\n",
         "t.conf:14: msr.table: row 1: expected N:PPM:PPM, got \"0:10\""},
        {BASE "msr.table = 0:2000000:2000000\n",
         "t.conf:14: msr.table: row 1: rate out of range 0..1000000 ppm"},
        {ENH_OK "msr.election = fixed\nmsr.fixed = 0\nmsr.table = 0:1:1\n",
         "t.conf:17: msr.table: not used with msr.election = fixed"},
        {ENH_OK "msr.election = fixed\n",
         "t.conf:1: msr.fixed: missing (required by msr.election = fixed)"},
        {ENH_OK "msr.fixed = 0\n",
         "t.conf:15: msr.fixed: not used with msr.election = variable"},
        {BASE "pioneer.msr = 20000\n",
         "t.conf:14: pioneer.msr: not used by program MSSP"},
        {PIONEER("2012") PIONEER_TERMS "sharing.rate = 1\n",
         "t.conf:15: sharing.rate: not used by program PIONEER (pioneer.*)"},
        {PIONEER("2012") PIONEER_TERMS "ssp.track = BASIC_A\n",
         "t.conf:15: ssp.track: program PIONEER has no MSSP track"},
        {PIONEER("2012") PIONEER_TERMS "advance.model = AIM\n",
         "t.conf:15: advance.model: program PIONEER takes no advance "
         "payments"},
        {PIONEER("2012") PIONEER_TERMS PBP,
         "t.conf:15: pioneer.pbp_pct: not used before Pioneer model year 3"},
        {PIONEER("2013"),
         "t.conf:1: pioneer.sharing_rate: missing (required in Pioneer model "
         "years 1-2)"},
        {PIONEER("2014"),
         "t.conf:1: pioneer.pbp_pct: missing (required from Pioneer model "
         "year 3)"},
        {PIONEER("2014") PBP "pioneer.sharing_rate = 1\n",
         "t.conf:1: pioneer.loss_rate: missing (required with the other "
         "Pioneer sharing terms)"},
        {PIONEER("2014") PBP "quality.era = 2012\n",
         "t.conf:8: quality.era: not used without sharing terms"},
        {SEC("BASIC_A", RATES) "advance.model = ADVANCE_PAYMENT\n"
                               "advance.forgiven_at_end = true\n",
         "t.conf:1: advance.upfront_fixed: missing (required by "
         "advance.model ADVANCE_PAYMENT/AIM)"},
        {SEC("BASIC_A", RATES) "advance.model = ADVANCE_PAYMENT\n" AP_TERMS
                               "aip.one_time = 1\n",
         "t.conf:21: aip.one_time: not used by advance.model "
         "ADVANCE_PAYMENT/AIM"},
        {SEC("BASIC_A", RATES) "advance.model = ADVANCE_PAYMENT\n"
                               "advance.upfront_fixed = 1\n",
         "t.conf:1: advance.forgiven_at_end: missing (required by advance "
         "payments)"},
        {SEC("BASIC_A", RATES) "advance.model = AIP\n"
                               "advance.forgiven_at_end = true\n"
                               "aip.one_time = 1\n"
                               "aip.band.3.benes = 5\n",
         "t.conf:1: aip.band.3.rate: missing (required by its .benes)"},
        {SEC("BASIC_A", RATES) "advance.model = AIP\n"
                               "advance.forgiven_at_end = true\n"
                               "aip.one_time = 1\n",
         "t.conf:1: aip.band.1.rate: missing (required by advance.model AIP: "
         "at least one band)"},
        {SEC("BASIC_A", RATES) "advance.model = AIP\n"
                               "advance.forgiven_at_end = true\n"
                               "aip.one_time = 1\n"
                               "aip.band.1.rate = 1\n"
                               "advance.upfront_per_bene = 1\n",
         "t.conf:18: advance.upfront_per_bene: not used by advance.model "
         "AIP"},
        {SEC("BASIC_A", RATES) "aip.quarters = 0\n",
         "t.conf:14: aip.quarters: 0 out of range 1..40"},
        {BASE "advance.upfront_fixed = 1\n",
         "t.conf:14: advance.upfront_fixed: not used with advance.model = "
         "NONE"},
        {BASE "aip.band.8.rate = 1\n",
         "t.conf:14: aip.band.8.rate: not used with advance.model = NONE"},
        {SEC("BASIC_A", RATES) "advance.model = ADVANCE_PAYMENT\n"
                               "advance.upfront_fixed = 25000000\n"
                               "advance.upfront_per_bene = 3600\n"
                               "advance.monthly_per_bene = 800\n"
                               "advance.monthly_last = 2024-12\n"
                               "advance.historical_benes = 8000\n"
                               "advance.forgiven_at_end = true\n",
         "t.conf:18: advance.monthly_last: before agreement.start"},
        {SEC("BASIC_A", RATES) "advance.model = ADVANCE_PAYMENT\n"
                               "advance.monthly_last = 2025-13\n",
         "t.conf:15: advance.monthly_last: not a month (YYYY-MM): "
         "\"2025-13\""},
        {"[aco A0001 2025]\nprogram = MSSP\nssp.track = BASIC_A\n"
         "agreement.start = 2025-01-01\nagreement.end = 2029-12-31\n"
         "benchmark.E = 1\nbenchmark.D = 1\nbenchmark.A = 1\n"
         "benchmark.N = 1\n" RATES "quality.era = 2012\n"
         "quality.threshold = 7385\n",
         "t.conf:13: quality.threshold: not used with quality.era = 2012"},
        {SEC("BASIC_A", RATES) "quality.threshold = 1\n",
         "t.conf:14: quality.threshold: duplicate key (first at line 13)"},
        {"[aco A0001 2025]\nprogram = MSSP\nssp.track = BASIC_A\n"
         "agreement.start = 2025-01-01\nagreement.end = 2029-12-31\n"
         "benchmark.E = 1\nbenchmark.D = 1\nbenchmark.A = 1\n"
         "benchmark.N = 1\n" RATES "quality.era = 2021\n",
         "t.conf:1: quality.threshold: missing (required by quality.era = "
         "2021)"},
        {"[aco A0001 2025]\nprogram = MSSP\nssp.track = BASIC_A\n"
         "agreement.start = 2025-01-01\nagreement.end = 2029-12-31\n"
         "benchmark.E = 1\nbenchmark.D = 1\nbenchmark.A = 1\n" RATES
         "quality.era = 2012\n",
         "t.conf:1: benchmark.N: missing (required by one-sided track "
         "BASIC_A)"},
        {ENH_OK "loss.cap_revenue = 80000\n",
         "t.conf:1: participant.revenue: missing (required by "
         "loss.cap_revenue)"},
        {ENH_OK "participant.revenue = 1\n",
         "t.conf:15: participant.revenue: not used without "
         "loss.cap_revenue"},
        {ENH_OK "loss.rate_min = 800000\n",
         "t.conf:15: loss.rate_min: above loss.rate_max"},
        {"[aco A0001 2025]\nprogram = MSSP\nssp.track = NONE\n"
         "agreement.start = 2025-01-01\nagreement.end = 2029-12-31\n"
         "sharing.rate = 1\n",
         "t.conf:6: sharing.rate: not used with ssp.track = NONE"},
        {"[aco A0001 2025]\nprogram = MSSP\nssp.track = NONE\n"
         "agreement.start = 2025-01-01\nagreement.end = 2029-12-31\n"
         "quality.score = 1\n",
         "t.conf:6: quality.score: not used with ssp.track = NONE"},
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

ParameterizedTestParameters(payparams, every_rule_names_file_line_and_key)
{
        static int idx[N_BAD];
        size_t i;

        for (i = 0; i < N_BAD; i++) {
                idx[i] = (int)i;
        }
        return cr_make_param_array(int, idx, N_BAD);
}

/* The case is found by index: pointers do not survive into the worker. */
ParameterizedTest(int *i, payparams, every_rule_names_file_line_and_key)
{
        const struct bad_case *c = &bad_cases[*i];

        cr_assert(eq(int, load(c->text), CLM_ERR_CONFIG), "case %d loaded", *i);
        cr_assert(eq(ptr, sets, NULL));
        ERR_IS(c->err);
}

Test(payparams, nul_byte_in_a_line)
{
        static const char text[] = "[aco A0001 2025]\nprog\0ram = MSSP\n";

        cr_assert(
                eq(int,
                   clm_payparams_load_buffer("t.conf", text, sizeof(text) - 1,
                                             &sets, &n_sets, err, sizeof(err)),
                   CLM_ERR_CONFIG));
        ERR_IS("t.conf:2: NUL byte in line");
}

Test(payparams, load_file_names_the_path)
{
        char path[] = "/tmp/clm-test-payparams-XXXXXX";
        char want[256];
        int fd = mkstemp(path);
        FILE *fp;

        cr_assert(fd >= 0);
        fp = fdopen(fd, "w");
        cr_assert(not(eq(ptr, fp, NULL)));
        (void)fputs(BASE "foo = 1\n", fp);
        (void)fclose(fp);
        cr_assert(eq(
                int,
                clm_payparams_load_file(path, &sets, &n_sets, err, sizeof(err)),
                CLM_ERR_CONFIG));
        (void)snprintf(want, sizeof(want), "%s:14: foo: unknown key", path);
        ERR_IS(want);
        (void)unlink(path);
        cr_assert(eq(
                int,
                clm_payparams_load_file(path, &sets, &n_sets, err, sizeof(err)),
                CLM_ERR_CONFIG));
        (void)snprintf(want, sizeof(want), "%s: No such file or directory",
                       path);
        ERR_IS(want);
}

/* ---- shipped files and rendering -------------------------------------- */

/* Render @p pp and load it back: the same digest and the same text. */
static void
round_trip(const struct clm_payparams *pp)
{
        char text[16384], again[16384];
        char d1[CLM_PP_DIGEST_HEX], d2[CLM_PP_DIGEST_HEX];
        struct clm_payparams *back = NULL;
        size_t n = 0;
        size_t len = clm_payparams_render(pp, text, sizeof(text));

        cr_assert(lt(sz, len, sizeof(text)));
        cr_assert(eq(int,
                     clm_payparams_load_buffer("render", text, len, &back, &n,
                                               err, sizeof(err)),
                     CLM_OK),
                  "%s\n%s", err, text);
        cr_assert(eq(sz, n, 1));
        (void)clm_payparams_render(&back[0], again, sizeof(again));
        cr_assert(eq(str, text, again));
        clm_payparams_digest(pp, d1);
        clm_payparams_digest(&back[0], d2);
        cr_assert(eq(str, d1, d2));
        clm_payparams_free(back);
}

Test(payparams, every_shipped_file_loads_and_round_trips)
{
        DIR *d = opendir(ACOS_DIR);
        struct dirent *de;
        size_t files = 0, total = 0;

        cr_assert(not(eq(ptr, d, NULL)));
        while ((de = readdir(d)) != NULL) {
                char path[512];
                size_t len = strlen(de->d_name);
                size_t i;

                if (len < 5 || strcmp(de->d_name + len - 5, ".conf") != 0) {
                        continue;
                }
                (void)snprintf(path, sizeof(path), "%s/%s", ACOS_DIR,
                               de->d_name);
                clm_payparams_free(sets);
                sets = NULL;
                cr_assert(eq(int,
                             clm_payparams_load_file(path, &sets, &n_sets, err,
                                                     sizeof(err)),
                             CLM_OK),
                          "%s", err);
                for (i = 0; i < n_sets; i++) {
                        round_trip(&sets[i]);
                }
                files++;
                total += n_sets;
        }
        closedir(d);
        cr_assert(eq(sz, files, 5));
        cr_assert(eq(sz, total, 8));
}

Test(payparams, shipped_confirmed_figures_are_verified)
{
        char path[512];
        size_t i;

        (void)snprintf(path, sizeof(path), "%s/example-mssp-basic.conf",
                       ACOS_DIR);
        cr_assert(eq(
                int,
                clm_payparams_load_file(path, &sets, &n_sets, err, sizeof(err)),
                CLM_OK));
        for (i = 0; i < n_sets; i++) {
                /* 425.110(a) is confirmed; the rest is secondary */
                cr_assert(sets[i].min_benes.verified);
                cr_assert(not(sets[i].sharing_rate.verified));
                cr_assert(not(sets[i].benchmark[0].verified));
        }
        cr_assert(not(sets[0].msr_table.dflt)); /* written out in the file */
        cr_assert(not(sets[0].msr_table.verified));
}

static const char canonical[] =
        "[aco A0001 2025]\n"
        "program = MSSP\n"
        "ssp.track = BASIC_A\n"
        "advance.model = ADVANCE_PAYMENT\n"
        "agreement.start = 2025-01-01\n"
        "agreement.end = 2029-12-31\n"
        "benchmark.E = 9500000 verified\n"
        "benchmark.D = 1100000 verified\n"
        "benchmark.A = 1200000 unverified\n"
        "benchmark.N = 1050000 unverified\n"
        "assign.min_benes = 5000 unverified\n"
        "msr.election = variable\n"
        "msr.table = 0:122000:122000 500:122000:87000 1000:87000:50000 "
        "3000:50000:39000 5000:39000:36000 6000:36000:34000 "
        "7000:34000:32000 8000:32000:31000 9000:31000:30000 "
        "10000:30000:27000 15000:27000:25000 20000:25000:22000 "
        "50000:22000:20000 60000:20000:20000 unverified\n"
        "sharing.rate = 400000 verified\n"
        "savings.limit = 100000 verified\n"
        "quality.era = 2021\n"
        "quality.threshold = 7385 verified\n"
        "quality.alternative_met = false unverified\n"
        "advance.upfront_fixed = 25000000 unverified\n"
        "advance.upfront_per_bene = 3600 unverified\n"
        "advance.monthly_per_bene = 800 unverified\n"
        "advance.monthly_last = 2026-06 unverified\n"
        "advance.historical_benes = 8000 unverified\n"
        "advance.recoup_share = 1000000 unverified\n"
        "advance.forgiven_at_end = true unverified\n";

Test(payparams, render_is_canonical)
{
        char text[16384];

        load_ok(SEC("BASIC_A",
                    RATES) "advance.model = ADVANCE_PAYMENT\n" AP_TERMS);
        cr_assert(eq(sz, clm_payparams_render(&sets[0], text, sizeof(text)),
                     sizeof(canonical) - 1));
        cr_assert(eq(str, text, (char *)canonical));
        /* a short buffer: the full length, and a terminated prefix */
        cr_assert(eq(sz, clm_payparams_render(&sets[0], text, 10),
                     sizeof(canonical) - 1));
        cr_assert(eq(str, text, (char *)"[aco A000"));
        cr_assert(eq(sz, clm_payparams_render(&sets[0], NULL, 0),
                     sizeof(canonical) - 1));
}

/* ---- digest ------------------------------------------------------------ */

static void
digest_of(const char *text, char out[CLM_PP_DIGEST_HEX])
{
        load_ok(text);
        clm_payparams_digest(&sets[0], out);
}

Test(payparams, digest_is_pinned)
{
        char d[CLM_PP_DIGEST_HEX];

        /* A change here changes every payment record's parameter version:
         * only on purpose, with the rendering's version line bumped. */
        digest_of(BASE, d);
        cr_assert(eq(str, d, (char *)DIGEST_BASE), "got %s", d);
}

Test(payparams, digest_ignores_spelling_and_follows_values_and_flags)
{
        char base[CLM_PP_DIGEST_HEX], d[CLM_PP_DIGEST_HEX];

        digest_of(BASE, base);
        /* other key order, comments, spacing, explicit defaults */
        digest_of("[aco A0001 2025]\n"
                  "quality.threshold=7385 verified\n"
                  "# a comment\n"
                  "quality.era = 2021\n"
                  "savings.limit   =   100000   verified\n"
                  "sharing.rate = 400000 verified\n"
                  "benchmark.N = 1050000 unverified\n"
                  "benchmark.A = 1200000\n"
                  "benchmark.D = 1100000 verified\n"
                  "benchmark.E = 9500000 verified\n"
                  "agreement.end = 2029-12-31\n"
                  "agreement.start = 2025-01-01\n"
                  "ssp.track = BASIC_A\n"
                  "program = MSSP\n"
                  "advance.model = NONE\n"
                  "msr.election = variable\n"
                  "assign.min_benes = 5000 unverified\n"
                  "quality.alternative_met = false\n",
                  d);
        cr_assert(eq(str, d, base));
        /* a value */
        digest_of(SEC("BASIC_A", "sharing.rate = 400001 verified\n"
                                 "savings.limit = 100000 verified\n"),
                  d);
        cr_assert(not(eq(str, d, base)));
        /* a flag */
        digest_of(SEC("BASIC_A", "sharing.rate = 400000 unverified\n"
                                 "savings.limit = 100000 verified\n"),
                  d);
        cr_assert(not(eq(str, d, base)));
        /* the ACO-year */
        load_ok(BASE);
        sets[0].year = 2026;
        clm_payparams_digest(&sets[0], d);
        cr_assert(not(eq(str, d, base)));
}

/* ---- key/value pairs (aco.registry) ---------------------------------------
 */

static const char *const kv_keys[] = {
        "program",      "ssp.track",     "agreement.start", "agreement.end",
        "benchmark.E",  "benchmark.D",   "benchmark.A",     "benchmark.N",
        "sharing.rate", "savings.limit", "quality.era",     "quality.threshold",
};

static const char *const kv_values[] = {
        "MSSP",    "BASIC_A", "2025-01-01", "2029-12-31", "9500000", "1100000",
        "1200000", "1050000", "400000",     "100000",     "2021",    "7385",
};

static const bool kv_verified[] = {
        false, true,  false, false, true,  true,
        false, false, true,  true,  false, true,
};

#define N_KV (sizeof(kv_keys) / sizeof(kv_keys[0]))

Test(payparams, key_value_pairs_equal_the_file)
{
        struct clm_payparams pp;
        char d1[CLM_PP_DIGEST_HEX], d2[CLM_PP_DIGEST_HEX];

        cr_assert(eq(int,
                     clm_payparams_from_kv("A0001", 2025, kv_keys, kv_values,
                                           kv_verified, N_KV, &pp, err,
                                           sizeof(err)),
                     CLM_OK),
                  "%s", err);
        clm_payparams_digest(&pp, d1);
        digest_of(BASE, d2);
        cr_assert(eq(str, d1, d2));
        /* settings ignore the flag; NULL flags: every figure unverified */
        cr_assert(pp.program.verified);
        cr_assert(eq(int,
                     clm_payparams_from_kv("A0001", 2025, kv_keys, kv_values,
                                           NULL, N_KV, &pp, err, sizeof(err)),
                     CLM_OK));
        cr_assert(not(pp.benchmark[CLM_ENR_ESRD].verified));
        cr_assert(pp.program.verified);
}

Test(payparams, key_value_errors_name_the_aco_year)
{
        const char *keys[N_KV + 1];
        const char *values[N_KV + 1];
        struct clm_payparams pp;

        memcpy(keys, kv_keys, sizeof(kv_keys));
        memcpy(values, kv_values, sizeof(kv_values));
        memset(&pp, 0x5a, sizeof(pp));
        keys[N_KV] = "sharing.rate";
        values[N_KV] = "1";
        cr_assert(eq(int,
                     clm_payparams_from_kv("A0001", 2025, keys, values, NULL,
                                           N_KV + 1, &pp, err, sizeof(err)),
                     CLM_ERR_CONFIG));
        ERR_IS("A0001/2025: sharing.rate: duplicate key");
        cr_assert(eq(u8, ((unsigned char *)&pp)[0], 0x5a)); /* untouched */
        keys[N_KV] = "loss.rate";
        cr_assert(eq(int,
                     clm_payparams_from_kv("A0001", 2025, keys, values, NULL,
                                           N_KV + 1, &pp, err, sizeof(err)),
                     CLM_ERR_CONFIG));
        ERR_IS("A0001/2025: loss.rate: not used by one-sided track BASIC_A");
        keys[N_KV] = "nope";
        cr_assert(eq(int,
                     clm_payparams_from_kv("A0001", 2025, keys, values, NULL,
                                           N_KV + 1, &pp, err, sizeof(err)),
                     CLM_ERR_CONFIG));
        ERR_IS("A0001/2025: nope: unknown key");
        cr_assert(eq(int,
                     clm_payparams_from_kv("A0001", 2025, keys, values, NULL,
                                           N_KV - 1, &pp, err, sizeof(err)),
                     CLM_ERR_CONFIG));
        ERR_IS("A0001/2025: quality.threshold: missing (required by "
               "quality.era = 2021)");
        values[8] = "40%";
        cr_assert(eq(int,
                     clm_payparams_from_kv("A0001", 2025, keys, values, NULL,
                                           N_KV, &pp, err, sizeof(err)),
                     CLM_ERR_CONFIG));
        ERR_IS("A0001/2025: sharing.rate: not a whole number: \"40%\"");
        cr_assert(eq(int,
                     clm_payparams_from_kv("A:1", 2025, kv_keys, kv_values,
                                           NULL, N_KV, &pp, err, sizeof(err)),
                     CLM_ERR_CONFIG));
        ERR_IS("A:1/2025: bad ACO id or year");
}

Test(payparams, track_names)
{
        cr_assert(eq(str, (char *)clm_track_str(CLM_TRACK_ENHANCED),
                     (char *)"ENHANCED"));
        cr_assert(clm_track_two_sided(CLM_TRACK_BASIC_C));
        cr_assert(clm_track_two_sided(CLM_TRACK_2));
        cr_assert(not(clm_track_two_sided(CLM_TRACK_BASIC_B)));
        cr_assert(not(clm_track_two_sided(CLM_TRACK_1)));
        cr_assert(not(clm_track_two_sided(CLM_TRACK_NONE)));
}
