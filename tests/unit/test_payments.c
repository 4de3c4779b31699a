/*
 * Payment formulas: the three worked examples of payments.md section 7 to
 * the cent (also from the shipped config/acos files), the MSR table at its
 * band boundaries, rounding half away from zero, the exact MSR/MLR gates,
 * both quality eras and the 2021 gate's three outcomes, loss rates and
 * caps, performance-payment limits, recoupment, AIP with the beneficiary
 * cap, Pioneer, eligibility flags, verified-flag propagation, and the
 * errors a formula returns instead of a wrong number.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include "consumers/payments.h"
#include "consumers/payparams.h"
#include "daemon/rc.h"

#ifndef TEST_SOURCE_DIR
#error "TEST_SOURCE_DIR must name the source tree"
#endif

#define ACOS_DIR TEST_SOURCE_DIR "/config/acos"

#define ERR_IS(want) cr_assert(eq(str, err, (char *)(want)), "got: %s", err)

/* $ -> cents */
#define USD(d) ((int64_t)(d)*100)

#define HDR(track)                                                             \
        "[aco A0001 2026]\n"                                                   \
        "program = MSSP\n"                                                     \
        "ssp.track = " track "\n"                                              \
        "agreement.start = 2026-01-01\n"                                       \
        "agreement.end = 2030-12-31\n"                                         \
        "assign.min_benes = 5000 verified\n"

#define BMK(v)                                                                 \
        "benchmark.E = " v " verified\n"                                       \
        "benchmark.D = " v " verified\n"                                       \
        "benchmark.A = " v " verified\n"                                       \
        "benchmark.N = " v " verified\n"

/* payments.md 1.5, marked verified so that verified paths can be seen. */
#define MSR_TABLE                                                              \
        "msr.table = 0:122000:122000 500:122000:87000 1000:87000:50000 "       \
        "3000:50000:39000 5000:39000:36000 6000:36000:34000 "                  \
        "7000:34000:32000 8000:32000:31000 9000:31000:30000 "                  \
        "10000:30000:27000 15000:27000:25000 20000:25000:22000 "               \
        "50000:22000:20000 60000:20000:20000 verified\n"

#define Q2021                                                                  \
        "quality.era = 2021\n"                                                 \
        "quality.threshold = 7385 verified\n"                                  \
        "quality.alternative_met = false verified\n"

/* Example 2: BASIC Level A, 40%, $11,000 benchmark, APP-era gate. */
#define EXAMPLE2                                                               \
        HDR("BASIC_A")                                                         \
        BMK("1100000")                                                         \
        MSR_TABLE                                                              \
        "sharing.rate = 400000 verified\n"                                     \
        "savings.limit = 100000 verified\n" Q2021

/* Example 3: ENHANCED, fixed 2% MSR/MLR, $12,000 benchmark. */
#define ENHANCED                                                               \
        HDR("ENHANCED")                                                        \
        BMK("1200000")                                                         \
        "msr.election = fixed\n"                                               \
        "msr.fixed = 20000 verified\n"                                         \
        "sharing.rate = 750000 verified\n"                                     \
        "savings.limit = 200000 verified\n"                                    \
        "loss.rate_min = 400000 verified\n"                                    \
        "loss.rate_max = 750000 verified\n"                                    \
        "loss.rate_factor = 750000 verified\n"                                 \
        "loss.cap_benchmark = 150000 verified\n" Q2021

/* Example 3, BASIC Level E row: 30%, min(8% revenue, 4% benchmark). */
#define BASIC_E                                                                \
        HDR("BASIC_E")                                                         \
        BMK("1200000")                                                         \
        "msr.election = fixed\n"                                               \
        "msr.fixed = 20000 verified\n"                                         \
        "sharing.rate = 500000 verified\n"                                     \
        "savings.limit = 100000 verified\n"                                    \
        "loss.rate = 300000 verified\n"                                        \
        "loss.cap_revenue = 80000 verified\n"                                  \
        "loss.cap_benchmark = 40000 verified\n"                                \
        "participant.revenue = 3000000000 verified\n" Q2021

/* Example 1: Advance Payment ACO on Track 1, starting April 2012. */
#define ADVANCE(h)                                                             \
        "[aco A0002 2012]\n"                                                   \
        "program = MSSP\n"                                                     \
        "ssp.track = TRACK_1\n"                                                \
        "advance.model = ADVANCE_PAYMENT\n"                                    \
        "agreement.start = 2012-04-01\n"                                       \
        "agreement.end = 2015-12-31\n"                                         \
        "assign.min_benes = 5000 verified\n" BMK("1100000") MSR_TABLE          \
                "sharing.rate = 500000 verified\n"                             \
                "savings.limit = 100000 verified\n"                            \
                "quality.era = 2012\n"                                         \
                "advance.upfront_fixed = 25000000 verified\n"                  \
                "advance.upfront_per_bene = 3600 verified\n"                   \
                "advance.monthly_per_bene = 800 verified\n"                    \
                "advance.monthly_last = 2014-06 verified\n"                    \
                "advance.historical_benes = " h " verified\n"                  \
                "advance.recoup_share = 1000000 verified\n"                    \
                "advance.forgiven_at_end = true verified\n"

#define AIP                                                                    \
        "[aco A0003 2028]\n"                                                   \
        "program = MSSP\n"                                                     \
        "ssp.track = BASIC_A\n"                                                \
        "advance.model = AIP\n"                                                \
        "agreement.start = 2028-01-01\n"                                       \
        "agreement.end = 2032-12-31\n" BMK(                                    \
                "1100000") "sharing.rate = 400000 verified\n"                  \
                           "savings.limit = 100000 verified\n" Q2021           \
                           "aip.one_time = 25000000 verified\n"                \
                           "aip.quarters = 8 verified\n"                       \
                           "aip.bene_cap = 10000 verified\n"                   \
                           "aip.band.1.rate = 2500 verified\n"                 \
                           "aip.band.2.rate = 4500 verified\n"                 \
                           "advance.forgiven_at_end = true verified\n"

#define PIONEER_Y1                                                             \
        "[aco P0001 2012]\n"                                                   \
        "program = PIONEER\n"                                                  \
        "agreement.start = 2012-01-01\n"                                       \
        "agreement.end = 2016-12-31\n" BMK(                                    \
                "1100000") "pioneer.sharing_rate = 600000 verified\n"          \
                           "pioneer.loss_rate = 600000 verified\n"             \
                           "pioneer.savings_cap = 100000 verified\n"           \
                           "pioneer.loss_cap = 50000 verified\n"               \
                           "pioneer.msr = 20000 verified\n"                    \
                           "quality.era = 2012\n"

#define PIONEER_Y3                                                             \
        "[aco P0001 2014]\n"                                                   \
        "program = PIONEER\n"                                                  \
        "agreement.start = 2012-01-01\n"                                       \
        "agreement.end = 2016-12-31\n"                                         \
        "pioneer.pbp_pct = 500000 verified\n"                                  \
        "pioneer.expected_ffs_pbpm = 80000 verified\n"                         \
        "pioneer.aligned_benes = 15000 verified\n"

static struct clm_payparams P;
static char err[1024];

/* Load one section into P. */
static void
params(const char *text)
{
        struct clm_payparams *arr = NULL;
        size_t n = 0;

        err[0] = '\0';
        cr_assert(eq(int,
                     clm_payparams_load_buffer("t.conf", text, strlen(text),
                                               &arr, &n, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
        cr_assert(eq(sz, n, 1));
        P = arr[0];
        clm_payparams_free(arr);
}

/* Load a shipped file and keep the set of @p aco / @p year in P. */
static void
shipped(const char *file, const char *aco, int32_t year)
{
        struct clm_payparams *arr = NULL;
        const struct clm_payparams *pp;
        char path[512];
        size_t n = 0;

        (void)snprintf(path, sizeof(path), "%s/%s", ACOS_DIR, file);
        cr_assert(eq(int,
                     clm_payparams_load_file(path, &arr, &n, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
        pp = clm_payparams_find(arr, n, aco, year);
        cr_assert(not(eq(ptr, (void *)pp, NULL)));
        P = *pp;
        clm_payparams_free(arr);
}

/* Every person-year in one enrollment type (aged/non-dual). */
static struct clm_settle_in
one_type(int64_t persons, int64_t exp_pc_cents, int64_t quality_bp)
{
        struct clm_settle_in in;

        memset(&in, 0, sizeof(in));
        in.months[CLM_ENR_AGED_NON_DUAL] = persons * 12;
        in.exp_cents[CLM_ENR_AGED_NON_DUAL] = persons * exp_pc_cents;
        in.n_assigned = persons;
        in.quality_bp = quality_bp;
        in.quality_verified = true;
        return in;
}

static struct clm_settlement
settle_ok(const struct clm_settle_in *in)
{
        struct clm_settlement s;

        err[0] = '\0';
        cr_assert(eq(int, clm_pay_settle(&P, in, &s, err, sizeof(err)), CLM_OK),
                  "%s", err);
        return s;
}

/* ---- arithmetic ------------------------------------------------------ */

Test(payments, div_round_halves_away_from_zero)
{
        cr_assert(eq(i64, clm_pay_div_round(5, 2), 3));
        cr_assert(eq(i64, clm_pay_div_round(-5, 2), -3));
        cr_assert(eq(i64, clm_pay_div_round(1, 2), 1));
        cr_assert(eq(i64, clm_pay_div_round(-1, 2), -1));
        cr_assert(eq(i64, clm_pay_div_round(4, 3), 1));
        cr_assert(eq(i64, clm_pay_div_round(-4, 3), -1));
        cr_assert(eq(i64, clm_pay_div_round(5, 3), 2));
        cr_assert(eq(i64, clm_pay_div_round(-5, 3), -2));
        cr_assert(eq(i64, clm_pay_div_round(0, 7), 0));
        cr_assert(eq(i64, clm_pay_div_round(INT64_MAX, 1), INT64_MAX));
        cr_assert(eq(i64, clm_pay_div_round(INT64_MIN, 2), INT64_MIN / 2));
}

Test(payments, apply_ppm_rounds_to_the_unit_and_never_overflows)
{
        cr_assert(eq(i64, clm_pay_apply_ppm(100, 5000), 1));   /* 0.5 */
        cr_assert(eq(i64, clm_pay_apply_ppm(-100, 5000), -1)); /* -0.5 */
        cr_assert(eq(i64, clm_pay_apply_ppm(99, 5000), 0));    /* 0.495 */
        cr_assert(
                eq(i64, clm_pay_apply_ppm(USD(6600000), 400000), USD(2640000)));
        cr_assert(eq(i64, clm_pay_apply_ppm(INT64_MAX, 1000000), INT64_MAX));
        cr_assert(eq(i64, clm_pay_apply_ppm(INT64_MAX, 0), 0));
        cr_assert(eq(i64, clm_pay_bp_to_ppm(7385), 738500));
}

Test(payments, scaled_loss_rate_clamps)
{
        /* payments.md 7 Example 3: 1 - 0.75 x 0.80 = 0.40. */
        cr_assert(eq(i64,
                     clm_pay_scaled_loss_rate(400000, 750000, 750000, 800000),
                     400000));
        cr_assert(eq(i64,
                     clm_pay_scaled_loss_rate(400000, 750000, 750000, 500000),
                     625000));
        cr_assert(eq(i64,
                     clm_pay_scaled_loss_rate(400000, 750000, 750000, 1000000),
                     400000)); /* 0.25 -> floor 0.40 */
        cr_assert(eq(i64, clm_pay_scaled_loss_rate(400000, 750000, 750000, 0),
                     750000)); /* 1.00 -> ceiling 0.75 */
        /* 1 - 0.75 x 0.000001 = 0.99999925: product rounds to 1 ppm. */
        cr_assert(eq(i64, clm_pay_scaled_loss_rate(0, 1000000, 750000, 1),
                     999999));
}

/* ---- MSR -------------------------------------------------------------- */

struct msr_case {
        int64_t n;
        int64_t msr;
};

ParameterizedTestParameters(payments, msr_table_boundaries)
{
        /* Expected values worked with exact fractions (payments.md 1.5). */
        static struct msr_case cases[] = {
                {0, 122000},      {499, 122000},  {500, 122000},
                {750, 104465},    {999, 87000},   {1000, 87000},
                {2999, 50000},    {3000, 50000},  {4999, 39000},
                {5000, 39000},    {5500, 37498},  {5999, 36000},
                {6000, 36000},    {7777, 32444},  {10000, 30000},
                {10001, 29999},   {12000, 28800}, {14999, 27000},
                {15000, 27000},   {59999, 20000}, {60000, 20000},
                {1000000, 20000},
        };

        return cr_make_param_array(struct msr_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct msr_case *c, payments, msr_table_boundaries)
{
        struct clm_pay_msr m;

        params(EXAMPLE2);
        cr_assert(eq(int, clm_pay_msr(&P, c->n, &m, err, sizeof(err)), CLM_OK));
        cr_assert(eq(i64, m.msr_ppm, c->msr), "N = %lld", (long long)c->n);
        cr_assert(not(m.fixed));
        cr_assert(not(m.two_sided));
        cr_assert(eq(i64, m.mlr_ppm, 0));
        cr_assert(m.verified);
        cr_assert(eq(u32, m.elig, c->n < 5000 ? CLM_ELIG_BELOW_MIN : 0u),
                  "N = %lld", (long long)c->n);
}

Test(payments, example2_msr_is_2880_ppm)
{
        struct clm_pay_msr m;

        /* 0.030 + 2,000/4,999 x (0.027 - 0.030) = 2.880% */
        params(EXAMPLE2);
        cr_assert(
                eq(int, clm_pay_msr(&P, 12000, &m, err, sizeof(err)), CLM_OK));
        cr_assert(eq(i64, m.msr_ppm, 28800));
}

Test(payments, msr_rounds_the_value_not_the_step)
{
        static const struct clm_msr_band band[] = {
                {0, 11, 11},
                {10, 11, 10}, /* band 10..12: width 2 */
                {13, 10, 10},
        };

        /* 11 + 1/2 x (10 - 11) = 10.5 -> 11 (rounding the step gives 10) */
        cr_assert(eq(i64, clm_pay_msr_interpolate(band, 3, 11), 11));
        cr_assert(eq(i64, clm_pay_msr_interpolate(band, 3, 12), 10));
        cr_assert(eq(i64, clm_pay_msr_interpolate(band, 3, -5), 11));
}

Test(payments, default_msr_table_is_unverified)
{
        struct clm_pay_msr m;

        params(HDR("BASIC_A") BMK("1100000") "sharing.rate = 400000 verified\n"
                                             "savings.limit = 100000 "
                                             "verified\n" Q2021);
        cr_assert(P.msr_table.dflt);
        cr_assert(
                eq(int, clm_pay_msr(&P, 12000, &m, err, sizeof(err)), CLM_OK));
        cr_assert(eq(i64, m.msr_ppm, 28800));
        cr_assert(not(m.verified));
}

Test(payments, below_5000_flags_corrective_action_and_uses_the_table)
{
        struct clm_pay_msr m;

        params(EXAMPLE2);
        cr_assert(eq(int, clm_pay_msr(&P, 4000, &m, err, sizeof(err)), CLM_OK));
        /* 3,000-4,999 row: 0.050 + 1000/1999 x -0.011 = 4.4497% */
        cr_assert(eq(i64, m.msr_ppm, 44497));
        cr_assert(eq(u32, m.elig, CLM_ELIG_BELOW_MIN));
        cr_assert(eq(u32, clm_pay_eligibility(&P, 4999), CLM_ELIG_BELOW_MIN));
        cr_assert(eq(u32, clm_pay_eligibility(&P, 5000), 0u));
}

Test(payments, fixed_msr_stays_fixed_below_5000)
{
        struct clm_pay_msr m;

        /* 42 CFR 425.110(b)(1)(ii): chosen over payments.md 3.3. */
        params(ENHANCED);
        cr_assert(eq(int, clm_pay_msr(&P, 3000, &m, err, sizeof(err)), CLM_OK));
        cr_assert(m.fixed);
        cr_assert(m.two_sided);
        cr_assert(eq(i64, m.msr_ppm, 20000));
        cr_assert(eq(i64, m.mlr_ppm, 20000));
        cr_assert(eq(u32, m.elig, CLM_ELIG_BELOW_MIN | CLM_ELIG_FIXED_KEPT));
        cr_assert(
                eq(int, clm_pay_msr(&P, 20000, &m, err, sizeof(err)), CLM_OK));
        cr_assert(eq(u32, m.elig, 0u));
}

Test(payments, fixed_msr_zero_shares_any_loss)
{
        struct clm_settle_in in = one_type(20000, 1200001, 8000);
        struct clm_settlement s;

        params(HDR("ENHANCED") BMK("1200000") "msr.election = fixed\n"
                                              "msr.fixed = 0 verified\n"
                                              "sharing.rate = 750000 "
                                              "verified\n"
                                              "savings.limit = 200000 "
                                              "verified\n"
                                              "loss.cap_benchmark = 150000 "
                                              "verified\n" Q2021);
        s = settle_ok(&in);
        cr_assert(eq(int, s.outcome, CLM_SETTLE_LOSSES));
        cr_assert(eq(i64, s.percap.gross, -20000));
        cr_assert(eq(i64, s.losses.owed, 8000)); /* 40% */
        /* ENHANCED loss-rate bounds came from the defaults: unverified */
        cr_assert(not(s.verified));
}

/* ---- Example 1: Advance Payment ---------------------------------------- */

Test(payments, example1_advance_after_three_months_is_730000)
{
        struct clm_pay_amount a;
        int32_t month;

        params(ADVANCE("8000"));
        cr_assert(eq(int, clm_pay_adv_upfront_fixed(&P, &a, err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(250000)));
        cr_assert(a.verified);
        cr_assert(eq(int,
                     clm_pay_adv_upfront_variable(&P, &a, err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(288000))); /* 36 x 8,000 */
        for (month = 201204; month <= 201206; month++) {
                cr_assert(eq(int,
                             clm_pay_adv_monthly(&P, month, -1, &a, err,
                                                 sizeof(err)),
                             CLM_OK));
                cr_assert(eq(i64, a.cents, USD(64000))); /* 8 x 8,000 */
                cr_assert(a.verified);
        }
        cr_assert(eq(int, clm_pay_adv_total(&P, 3, &a, err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(730000)));
        cr_assert(a.verified);
}

Test(payments, example1_recoupment_of_500000_leaves_230000)
{
        struct clm_pay_recoup r;

        params(ADVANCE("8000"));
        cr_assert(eq(int,
                     clm_pay_recoup(&P, USD(730000), USD(500000), &r, err,
                                    sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, r.recoup, USD(500000)));
        cr_assert(eq(i64, r.net, 0));
        cr_assert(eq(i64, r.outstanding_after, USD(230000)));
        cr_assert(eq(i64, r.share_ppm, 1000000));
        cr_assert(r.verified);
}

Test(payments, example1_cross_check_10000_benes_27_months_is_2770000)
{
        struct clm_pay_amount a;

        params(ADVANCE("10000"));
        /* April 2012 .. June 2014 */
        cr_assert(eq(i64, clm_pay_adv_months_payable(&P), 27));
        cr_assert(eq(int, clm_pay_adv_total(&P, 27, &a, err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(2770000)));
        /* no monthly payment after the last month */
        cr_assert(eq(int, clm_pay_adv_total(&P, 40, &a, err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(2770000)));
        cr_assert(eq(int, clm_pay_adv_total(&P, 0, &a, err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(610000)));
}

Test(payments, monthly_advance_only_inside_its_window)
{
        struct clm_pay_amount a;

        params(ADVANCE("8000"));
        cr_assert(eq(int, clm_pay_adv_monthly(&P, 201203, -1, &a, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, 0)); /* before agreement.start */
        cr_assert(eq(int, clm_pay_adv_monthly(&P, 201406, -1, &a, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(64000)));
        cr_assert(eq(int, clm_pay_adv_monthly(&P, 201407, -1, &a, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, 0)); /* after advance.monthly_last */
        /* the count in force for the month, when the caller has it */
        cr_assert(eq(int, clm_pay_adv_monthly(&P, 201301, 9000, &a, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(72000)));
        cr_assert(eq(int, clm_pay_adv_monthly(&P, 201313, -1, &a, err, 64),
                     CLM_ERR_INVALID));
}

Test(payments, monthly_advance_stops_at_agreement_end)
{
        params("[aco A0002 2012]\n"
               "program = MSSP\n"
               "ssp.track = NONE\n"
               "advance.model = AIM\n"
               "agreement.start = 2012-07-01\n"
               "agreement.end = 2013-12-31\n"
               "advance.upfront_fixed = 0 verified\n" /* AIM test 2 */
               "advance.upfront_per_bene = 3600 verified\n"
               "advance.monthly_per_bene = 800 verified\n"
               "advance.monthly_last = 2014-06 verified\n"
               "advance.historical_benes = 1000 verified\n"
               "advance.forgiven_at_end = false verified\n");
        cr_assert(eq(i64, clm_pay_adv_months_payable(&P), 18));
}

Test(payments, advance_end_balance_forgiven_only_after_the_full_term)
{
        struct clm_pay_amount a;

        params(ADVANCE("8000"));
        cr_assert(eq(int,
                     clm_pay_adv_end_balance(&P, USD(230000), true, false, &a,
                                             err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, 0));
        cr_assert(eq(int,
                     clm_pay_adv_end_balance(&P, USD(230000), true, true, &a,
                                             err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(230000)));
        cr_assert(eq(int,
                     clm_pay_adv_end_balance(&P, USD(230000), false, false, &a,
                                             err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(230000)));
}

Test(payments, advance_formulas_refuse_other_models)
{
        struct clm_pay_amount a;

        params(EXAMPLE2);
        cr_assert(eq(int, clm_pay_adv_upfront_fixed(&P, &a, err, sizeof(err)),
                     CLM_ERR_INVALID));
        ERR_IS("A0001/2026: advance.model: not ADVANCE_PAYMENT or AIM");
        cr_assert(eq(int, clm_pay_aip_one_time(&P, &a, err, sizeof(err)),
                     CLM_ERR_INVALID));
        cr_assert(eq(i64, clm_pay_adv_months_payable(&P), 0));
}

/* ---- recoupment --------------------------------------------------------- */

Test(payments, recoupment_bounded_by_savings_and_by_balance)
{
        struct clm_pay_recoup r;

        params(ADVANCE("8000"));
        /* balance larger than the savings: all the savings, no more */
        cr_assert(eq(int, clm_pay_recoup(&P, USD(900000), USD(1), &r, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, r.recoup, USD(1)));
        cr_assert(eq(i64, r.net, 0));
        cr_assert(eq(i64, r.outstanding_after, USD(899999)));
        /* balance smaller than the savings */
        cr_assert(eq(int,
                     clm_pay_recoup(&P, USD(100000), USD(500000), &r, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, r.recoup, USD(100000)));
        cr_assert(eq(i64, r.net, USD(400000)));
        cr_assert(eq(i64, r.outstanding_after, 0));
        /* no savings: nothing recouped, r not read */
        cr_assert(eq(int, clm_pay_recoup(&P, USD(730000), 0, &r, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, r.recoup, 0));
        cr_assert(eq(i64, r.share_ppm, 0));
        cr_assert(eq(i64, r.outstanding_after, USD(730000)));
        cr_assert(eq(int, clm_pay_recoup(&P, -1, 0, &r, err, 64),
                     CLM_ERR_INVALID));
}

Test(payments, recoupment_share_below_one_rounds_to_the_cent)
{
        struct clm_pay_recoup r;

        params(ADVANCE("8000"));
        P.adv_recoup_share.v = 500000;
        /* 0.5 x 333 cents = 166.5 -> 167 */
        cr_assert(eq(int, clm_pay_recoup(&P, USD(730000), 333, &r, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, r.recoup, 167));
        cr_assert(eq(i64, r.net, 166));
}

/* ---- Example 2: one-sided --------------------------------------------- */

Test(payments, example2_case_a_below_msr_pays_nothing)
{
        struct clm_settle_in in = one_type(12000, 1075000, 9000);
        struct clm_settlement s;

        params(EXAMPLE2);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.percap.bmk_total, USD(132000000)));
        cr_assert(eq(i64, s.percap.exp_pc, 1075000));
        cr_assert(eq(i64, s.percap.bmk_pc, 1100000));
        cr_assert(eq(i64, s.percap.gross, USD(3000000)));
        cr_assert(eq(i64, s.percap.savings_rate_ppm, 22727)); /* 2.273% */
        cr_assert(eq(i64, s.msr.msr_ppm, 28800));
        cr_assert(not(s.savings.gate_met));
        cr_assert(eq(int, s.outcome, CLM_SETTLE_BELOW_MSR));
        cr_assert(eq(i64, s.savings.shared, 0));
        cr_assert(eq(i64, s.net_cents, 0));
        /* the gate failed before quality was read */
        cr_assert(eq(int, s.savings.quality.outcome, CLM_QUALITY_NOT_NEEDED));
        cr_assert(s.verified);
}

Test(payments, example2_case_b_shares_2640000)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(EXAMPLE2);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.percap.gross, USD(6600000)));
        cr_assert(eq(i64, s.percap.savings_rate_ppm, 50000));
        cr_assert(s.savings.gate_met);
        cr_assert(eq(int, s.savings.quality.outcome, CLM_QUALITY_MET));
        cr_assert(eq(i64, s.savings.final_rate_ppm, 400000));
        cr_assert(eq(i64, s.savings.before_limit, USD(2640000)));
        cr_assert(eq(i64, s.savings.limit, USD(13200000)));
        cr_assert(not(s.savings.limited));
        cr_assert(eq(i64, s.savings.shared, USD(2640000)));
        cr_assert(eq(int, s.outcome, CLM_SETTLE_SAVINGS));
        cr_assert(eq(i64, s.net_cents, USD(2640000)));
        cr_assert(s.verified);
        /* one-sided: the loss step read nothing */
        cr_assert(not(s.losses.two_sided));
}

Test(payments, example2_2012_variant_track1_quality_090_shares_2970000)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(ADVANCE("8000"));
        s = settle_ok(&in);
        cr_assert(eq(int, s.savings.quality.outcome, CLM_QUALITY_SCALED));
        cr_assert(eq(i64, s.savings.final_rate_ppm, 450000)); /* 50% x 0.90 */
        cr_assert(eq(i64, s.savings.shared, USD(2970000)));
}

Test(payments, settlement_recoups_advances_from_the_savings)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(ADVANCE("8000"));
        in.outstanding_cents = USD(730000);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.recoup.recoup, USD(730000)));
        cr_assert(eq(i64, s.recoup.net, USD(2240000)));
        cr_assert(eq(i64, s.recoup.outstanding_after, 0));
        cr_assert(eq(i64, s.net_cents, USD(2240000)));
        cr_assert(s.verified);
}

Test(payments, example2_from_the_shipped_file)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        shipped("example-mssp-basic.conf", "A9002", 2026);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.msr.msr_ppm, 28800));
        cr_assert(eq(i64, s.savings.shared, USD(2640000)));
        cr_assert(not(s.verified)); /* every shipped figure is unverified */
        in = one_type(12000, 1075000, 9000);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.savings.shared, 0));
}

Test(payments, performance_payment_limit_caps_savings)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(EXAMPLE2);
        P.savings_limit.v = 10000; /* 1% of $132M */
        s = settle_ok(&in);
        cr_assert(eq(i64, s.savings.before_limit, USD(2640000)));
        cr_assert(eq(i64, s.savings.limit, USD(1320000)));
        cr_assert(s.savings.limited);
        cr_assert(eq(i64, s.savings.shared, USD(1320000)));
}

/* ---- quality --------------------------------------------------------------
 */

Test(payments, quality_gate_failure_shares_no_savings)
{
        struct clm_settle_in in = one_type(12000, 1045000, 7384);
        struct clm_settlement s;

        params(EXAMPLE2);
        s = settle_ok(&in);
        cr_assert(s.savings.gate_met);
        cr_assert(eq(int, s.savings.quality.outcome, CLM_QUALITY_FAILED));
        cr_assert(eq(i64, s.savings.final_rate_ppm, 0));
        cr_assert(eq(i64, s.savings.shared, 0));
        cr_assert(eq(int, s.outcome, CLM_SETTLE_SAVINGS));
        /* at the threshold exactly: met */
        in.quality_bp = 7385;
        s = settle_ok(&in);
        cr_assert(eq(int, s.savings.quality.outcome, CLM_QUALITY_MET));
}

Test(payments, alternative_quality_standard_scales_sharing)
{
        struct clm_settle_in in = one_type(12000, 1045000, 6000);
        struct clm_settlement s;

        params(EXAMPLE2);
        P.quality_alternative_met.v = 1;
        s = settle_ok(&in);
        cr_assert(eq(int, s.savings.quality.outcome, CLM_QUALITY_ALTERNATIVE));
        cr_assert(eq(i64, s.savings.final_rate_ppm, 240000)); /* 40% x .60 */
        cr_assert(eq(i64, s.savings.shared, USD(1584000)));
}

Test(payments, quality_parameter_wins_over_the_measured_score)
{
        struct clm_pay_quality q;

        params(EXAMPLE2 "quality.score = 8000 unverified\n");
        cr_assert(
                eq(int, clm_pay_quality(&P, 1000, true, &q, err, 64), CLM_OK));
        cr_assert(eq(int, q.source, CLM_QSRC_PARAMETER));
        cr_assert(eq(i64, q.score_bp, 8000));
        cr_assert(eq(int, q.outcome, CLM_QUALITY_MET));
        cr_assert(not(q.verified));
}

Test(payments, missing_quality_score_is_an_error_only_when_read)
{
        struct clm_settle_in in = one_type(12000, 1045000, -1);
        struct clm_settlement s;

        params(EXAMPLE2);
        cr_assert(eq(int, clm_pay_settle(&P, &in, &s, err, sizeof(err)),
                     CLM_ERR_INVALID));
        ERR_IS("A0001/2026: quality.score: not set and no measured "
               "score (-1)");
        in = one_type(12000, 1075000, -1); /* below the MSR */
        s = settle_ok(&in);
        cr_assert(eq(i64, s.savings.shared, 0));
}

/* ---- Example 3: two-sided -------------------------------------------------
 */

Test(payments, example3_within_corridor_owes_nothing)
{
        struct clm_settle_in in = one_type(20000, 1218000, 8000);
        struct clm_settlement s;

        params(ENHANCED);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.percap.bmk_total, USD(240000000)));
        cr_assert(eq(i64, s.percap.gross, -USD(3600000)));
        cr_assert(eq(i64, s.percap.savings_rate_ppm, -15000));
        cr_assert(not(s.losses.gate_met));
        cr_assert(eq(int, s.outcome, CLM_SETTLE_WITHIN_MLR));
        cr_assert(eq(i64, s.losses.owed, 0));
        cr_assert(eq(i64, s.net_cents, 0));
        cr_assert(s.verified);
}

Test(payments, example3_enhanced_quality_080_owes_4800000)
{
        struct clm_settle_in in = one_type(20000, 1260000, 8000);
        struct clm_settlement s;

        params(ENHANCED);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.percap.gross, -USD(12000000)));
        cr_assert(s.losses.gate_met);
        cr_assert(eq(int, s.outcome, CLM_SETTLE_LOSSES));
        cr_assert(eq(i64, s.losses.loss_rate_ppm, 400000));
        cr_assert(eq(i64, s.losses.before_cap, USD(4800000)));
        cr_assert(eq(i64, s.losses.cap_benchmark, USD(36000000)));
        cr_assert(eq(i64, s.losses.cap_revenue, -1));
        cr_assert(not(s.losses.capped));
        cr_assert(eq(i64, s.losses.owed, USD(4800000)));
        cr_assert(eq(i64, s.net_cents, -USD(4800000)));
        cr_assert(s.verified);
}

Test(payments, example3_enhanced_quality_050_owes_7500000)
{
        struct clm_settle_in in = one_type(20000, 1260000, 5000);
        struct clm_settlement s;

        params(ENHANCED);
        P.quality_alternative_met.v = 1; /* 0.50 < threshold: alternative */
        s = settle_ok(&in);
        cr_assert(eq(i64, s.losses.loss_rate_ppm, 625000));
        cr_assert(eq(i64, s.losses.owed, USD(7500000)));
}

Test(payments, example3_basic_e_capped_at_2400000)
{
        struct clm_settle_in in = one_type(20000, 1260000, 8000);
        struct clm_settlement s;

        params(BASIC_E);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.losses.loss_rate_ppm, 300000));
        cr_assert(eq(i64, s.losses.before_cap, USD(3600000)));
        cr_assert(eq(i64, s.losses.cap_revenue, USD(2400000)));
        cr_assert(eq(i64, s.losses.cap_benchmark, USD(9600000)));
        cr_assert(eq(i64, s.losses.cap, USD(2400000)));
        cr_assert(s.losses.capped);
        cr_assert(eq(i64, s.losses.owed, USD(2400000)));
        /* BASIC loss rate is fixed: quality was not read */
        cr_assert(eq(int, s.losses.quality.outcome, CLM_QUALITY_NOT_NEEDED));
}

Test(payments, example3_from_the_shipped_files)
{
        struct clm_settle_in in = one_type(20000, 1260000, 8000);
        struct clm_settlement s;

        shipped("example-enhanced.conf", "A9004", 2026);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.losses.owed, USD(4800000)));
        cr_assert(not(s.verified));
        shipped("example-mssp-basic.conf", "A9003", 2026);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.losses.owed, USD(2400000)));
        in = one_type(20000, 1218000, 8000);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.losses.owed, 0));
}

Test(payments, enhanced_loss_capped_by_benchmark_cap)
{
        struct clm_settle_in in = one_type(20000, 1260000, 8000);
        struct clm_settlement s;

        params(ENHANCED);
        P.loss_cap_benchmark.v = 10000; /* 1% of $240M = $2.4M */
        s = settle_ok(&in);
        cr_assert(eq(i64, s.losses.before_cap, USD(4800000)));
        cr_assert(eq(i64, s.losses.cap, USD(2400000)));
        cr_assert(s.losses.capped);
        cr_assert(eq(i64, s.losses.owed, USD(2400000)));
}

Test(payments, enhanced_quality_failure_owes_the_maximum_loss_rate)
{
        struct clm_settle_in in = one_type(20000, 1260000, 5000);
        struct clm_settlement s;

        params(ENHANCED);
        s = settle_ok(&in);
        cr_assert(eq(int, s.losses.quality.outcome, CLM_QUALITY_FAILED));
        cr_assert(eq(i64, s.losses.loss_rate_ppm, 750000));
        cr_assert(eq(i64, s.losses.owed, USD(9000000)));
}

Test(payments, one_sided_loss_owes_nothing)
{
        struct clm_settle_in in = one_type(12000, 1200000, 9000);
        struct clm_settlement s;

        params(EXAMPLE2);
        s = settle_ok(&in);
        cr_assert(lt(i64, s.percap.gross, 0));
        cr_assert(eq(int, s.outcome, CLM_SETTLE_LOSS_ONE_SIDED));
        cr_assert(eq(i64, s.losses.owed, 0));
        cr_assert(eq(i64, s.net_cents, 0));
}

Test(payments, two_sided_savings_share_like_one_sided)
{
        struct clm_settle_in in = one_type(20000, 1140000, 8000);
        struct clm_settlement s;

        params(ENHANCED);
        s = settle_ok(&in); /* 5% savings: $12M gross */
        cr_assert(eq(int, s.outcome, CLM_SETTLE_SAVINGS));
        cr_assert(eq(i64, s.savings.shared, USD(9000000))); /* 75% */
        cr_assert(eq(i64, s.losses.owed, 0));
        cr_assert(not(s.losses.gate_met));
}

/* ---- per capita and the exact gate ------------------------------------- */

Test(payments, per_capita_by_enrollment_type)
{
        int64_t exp[CLM_PP_ENR] = {USD(90000), USD(300000), 0, USD(1950000)};
        int64_t months[CLM_PP_ENR] = {12, 300, 0, 2400};
        struct clm_pay_percap pc;

        params(HDR("BASIC_A") "benchmark.E = 9500000 verified\n"
                              "benchmark.D = 1300000 verified\n"
                              "benchmark.A = 1500000 verified\n"
                              "benchmark.N = 1000000 verified\n" MSR_TABLE
                              "sharing.rate = 400000 verified\n"
                              "savings.limit = 100000 verified\n" Q2021);
        P.benchmark[CLM_ENR_AGED_DUAL].verified = false; /* not read */
        cr_assert(eq(int,
                     clm_pay_percap(&P, exp, months, false, &pc, err,
                                    sizeof(err)),
                     CLM_OK),
                  "%s", err);
        cr_assert(eq(i64, pc.months_total, 2712));
        cr_assert(eq(i64, pc.weight_ppm[CLM_ENR_ESRD], 4425)); /* 12/2712 */
        cr_assert(eq(i64, pc.weight_ppm[CLM_ENR_DISABLED], 110619));
        cr_assert(eq(i64, pc.weight_ppm[CLM_ENR_AGED_DUAL], 0));
        cr_assert(eq(i64, pc.exp_pc_k[CLM_ENR_ESRD], USD(90000)));
        cr_assert(eq(i64, pc.exp_pc_k[CLM_ENR_DISABLED], USD(12000)));
        cr_assert(eq(i64, pc.exp_pc_k[CLM_ENR_AGED_DUAL], -1));
        cr_assert(eq(i64, pc.exp_pc_k[CLM_ENR_AGED_NON_DUAL], USD(9750)));
        cr_assert(eq(i64, pc.bmk_pc_k[CLM_ENR_AGED_DUAL], -1));
        /* totals: 1 x 95,000 + 25 x 13,000 + 200 x 10,000 = $2,420,000 */
        cr_assert(eq(i64, pc.bmk_total, USD(2420000)));
        cr_assert(eq(i64, pc.exp_total, USD(2340000)));
        cr_assert(eq(i64, pc.gross, USD(80000)));
        /* Exp_pc = 2,340,000 / 226 PY = $10,353.982... */
        cr_assert(eq(i64, pc.exp_pc, 1035398));
        cr_assert(eq(i64, pc.bmk_pc, 1070796));         /* $10,707.964... */
        cr_assert(eq(i64, pc.savings_rate_ppm, 33058)); /* 80/2420 */
        cr_assert(pc.verified);
}

Test(payments, benchmark_total_rounds_once)
{
        int64_t exp[CLM_PP_ENR] = {0, 0, 0, 1000};
        int64_t months[CLM_PP_ENR] = {0, 0, 0, 7};
        struct clm_pay_percap pc;

        params(EXAMPLE2);
        P.benchmark[CLM_ENR_AGED_NON_DUAL].v = 1000001;
        cr_assert(eq(int, clm_pay_percap(&P, exp, months, false, &pc, err, 64),
                     CLM_OK));
        /* 7 x 1,000,001 / 12 = 583,333.92 -> 583,334 */
        cr_assert(eq(i64, pc.bmk_x12, 7000007));
        cr_assert(eq(i64, pc.bmk_total, 583334));
        cr_assert(eq(i64, pc.gross, 582334));
        cr_assert(eq(i64, pc.exp_pc, 1714)); /* 12,000 / 7 */
}

Test(payments, msr_gate_is_exact_not_on_the_rounded_rate)
{
        struct clm_settle_in in;
        struct clm_settlement s;

        params(ENHANCED);
        /* 100 PY at $12,000: 2% savings exactly is $117,600,000... cents */
        in = one_type(100, 1176000, 8000);
        s = settle_ok(&in);
        cr_assert(eq(i64, s.percap.savings_rate_ppm, 20000));
        cr_assert(s.savings.gate_met);
        /* one cent more: 1.99999991% shows as 20000 ppm but fails */
        in.exp_cents[CLM_ENR_AGED_NON_DUAL] += 1;
        s = settle_ok(&in);
        cr_assert(eq(i64, s.percap.savings_rate_ppm, 20000));
        cr_assert(not(s.savings.gate_met));
        cr_assert(eq(int, s.outcome, CLM_SETTLE_BELOW_MSR));
        /* the same on the loss side */
        in = one_type(100, 1224000, 8000);
        s = settle_ok(&in);
        cr_assert(s.losses.gate_met);
        in.exp_cents[CLM_ENR_AGED_NON_DUAL] -= 1;
        s = settle_ok(&in);
        cr_assert(not(s.losses.gate_met));
}

Test(payments, zero_gross_is_no_outcome)
{
        struct clm_settle_in in = one_type(12000, 1100000, 9000);
        struct clm_settlement s;

        params(EXAMPLE2);
        s = settle_ok(&in);
        cr_assert(eq(int, s.outcome, CLM_SETTLE_NONE));
        cr_assert(eq(i64, s.net_cents, 0));
}

Test(payments, truncation)
{
        struct clm_pay_amount a;
        int64_t exp[CLM_PP_ENR] = {0, 0, 0, 1000};
        int64_t months[CLM_PP_ENR] = {0, 0, 0, 12};
        struct clm_pay_percap pc;

        params(EXAMPLE2 "truncation.N = 50000000 verified\n");
        a = clm_pay_truncate(&P, CLM_ENR_AGED_NON_DUAL, 70000000);
        cr_assert(eq(i64, a.cents, 50000000));
        cr_assert(a.verified);
        a = clm_pay_truncate(&P, CLM_ENR_AGED_NON_DUAL, 100);
        cr_assert(eq(i64, a.cents, 100));
        a = clm_pay_truncate(&P, CLM_ENR_ESRD, 70000000); /* none set */
        cr_assert(eq(i64, a.cents, 70000000));
        cr_assert(a.verified);
        cr_assert(eq(int, clm_pay_percap(&P, exp, months, true, &pc, err, 64),
                     CLM_OK));
        cr_assert(pc.verified);
        P.truncation[CLM_ENR_AGED_NON_DUAL].verified = false;
        cr_assert(eq(int, clm_pay_percap(&P, exp, months, true, &pc, err, 64),
                     CLM_OK));
        cr_assert(not(pc.verified));
        cr_assert(eq(int, clm_pay_percap(&P, exp, months, false, &pc, err, 64),
                     CLM_OK));
        cr_assert(pc.verified);
        months[CLM_ENR_ESRD] = 12;
        cr_assert(
                eq(int,
                   clm_pay_percap(&P, exp, months, true, &pc, err, sizeof(err)),
                   CLM_ERR_INVALID));
        ERR_IS("A0001/2026: truncation.E: not set");
}

Test(payments, per_capita_refuses_bad_inputs)
{
        int64_t exp[CLM_PP_ENR] = {0, 0, 0, 0};
        int64_t months[CLM_PP_ENR] = {0, 0, 0, 0};
        struct clm_pay_percap pc;

        params(EXAMPLE2);
        cr_assert(eq(
                int,
                clm_pay_percap(&P, exp, months, false, &pc, err, sizeof(err)),
                CLM_ERR_INVALID));
        ERR_IS("A0001/2026: no beneficiary-months");
        exp[CLM_ENR_DISABLED] = 5;
        cr_assert(eq(
                int,
                clm_pay_percap(&P, exp, months, false, &pc, err, sizeof(err)),
                CLM_ERR_INVALID));
        ERR_IS("A0001/2026: type D: expenditure without "
               "beneficiary-months");
        exp[CLM_ENR_DISABLED] = -5;
        months[CLM_ENR_DISABLED] = 12;
        cr_assert(eq(int, clm_pay_percap(&P, exp, months, false, &pc, err, 64),
                     CLM_ERR_INVALID));
}

Test(payments, overflow_is_an_error_not_a_wrong_number)
{
        int64_t exp[CLM_PP_ENR] = {0, 0, 0, 0};
        int64_t months[CLM_PP_ENR] = {12000000000, 12000000000, 12000000000,
                                      12000000000};
        struct clm_pay_percap pc;

        params(EXAMPLE2);
        P.benchmark[0].v = CLM_PP_MONEY_MAX;
        cr_assert(eq(
                int,
                clm_pay_percap(&P, exp, months, false, &pc, err, sizeof(err)),
                CLM_ERR_INVALID));
        ERR_IS("A0001/2026: expenditure or benchmark: result does not "
               "fit in 64 bits");
}

/* ---- verified flags -------------------------------------------------------
 */

Test(payments, one_unverified_figure_makes_the_result_unverified)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(EXAMPLE2);
        P.sharing_rate.verified = false;
        s = settle_ok(&in);
        cr_assert(eq(i64, s.savings.shared, USD(2640000)));
        cr_assert(not(s.savings.verified));
        cr_assert(not(s.verified));
        cr_assert(s.percap.verified);
        cr_assert(s.msr.verified);
        /* below the MSR the sharing rate is not read: verified again */
        in = one_type(12000, 1075000, 9000);
        s = settle_ok(&in);
        cr_assert(s.verified);
}

Test(payments, each_figure_on_the_path_counts)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_fig *figs[] = {
                &P.benchmark[CLM_ENR_AGED_NON_DUAL],
                &P.msr_table,
                &P.savings_limit,
                &P.quality_threshold,
        };
        struct clm_settlement s;
        size_t i;

        for (i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
                params(EXAMPLE2);
                figs[i]->verified = false;
                s = settle_ok(&in);
                cr_assert(not(s.verified), "figure %zu", i);
        }
        /* a benchmark of a type with no months is not read */
        params(EXAMPLE2);
        P.benchmark[CLM_ENR_ESRD].verified = false;
        s = settle_ok(&in);
        cr_assert(s.verified);
        /* an unverified measured score counts once quality is read */
        in.quality_verified = false;
        s = settle_ok(&in);
        cr_assert(not(s.verified));
}

Test(payments, loss_path_flags)
{
        struct clm_settle_in in = one_type(20000, 1260000, 8000);
        struct clm_settlement s;

        params(BASIC_E);
        P.sharing_rate.verified = false; /* savings figure, loss path */
        s = settle_ok(&in);
        cr_assert(s.verified);
        P.participant_revenue.verified = false;
        s = settle_ok(&in);
        cr_assert(not(s.verified));
        params(ENHANCED);
        P.loss_rate_min.verified = false;
        in.quality_bp = 5000; /* quality failure: only the maximum is read */
        s = settle_ok(&in);
        cr_assert(s.verified);
        in.quality_bp = 8000;
        s = settle_ok(&in);
        cr_assert(not(s.verified));
}

Test(payments, recoupment_share_flag_counts_only_when_read)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(ADVANCE("8000"));
        P.adv_recoup_share.verified = false;
        s = settle_ok(&in);
        cr_assert(s.verified); /* nothing outstanding */
        in.outstanding_cents = 1;
        s = settle_ok(&in);
        cr_assert(not(s.verified));
}

/* ---- AIP ------------------------------------------------------------------
 */

Test(payments, aip_one_time_and_quarter_numbers)
{
        struct clm_pay_amount a;

        params(AIP);
        cr_assert(eq(int, clm_pay_aip_one_time(&P, &a, err, sizeof(err)),
                     CLM_OK));
        cr_assert(eq(i64, a.cents, USD(250000)));
        cr_assert(eq(i64, clm_pay_aip_quarter_number(&P, 2028, 1), 1));
        cr_assert(eq(i64, clm_pay_aip_quarter_number(&P, 2029, 4), 8));
        cr_assert(eq(i64, clm_pay_aip_quarter_number(&P, 2030, 1), 9));
        cr_assert(eq(i64, clm_pay_aip_quarter_number(&P, 2027, 4), 0));
}

Test(payments, aip_quarter_sums_bands)
{
        int64_t benes[CLM_AIP_BANDS_MAX] = {2000, 1000};
        struct clm_pay_aip_quarter q;

        params(AIP);
        cr_assert(eq(int, clm_pay_aip_quarter(&P, 1, benes, &q, err, 64),
                     CLM_OK));
        /* 2,000 x $25 + 1,000 x $45 */
        cr_assert(eq(i64, q.cents, USD(95000)));
        cr_assert(not(q.capped));
        cr_assert(eq(i64, q.counted_total, 3000));
        cr_assert(q.verified);
}

Test(payments, aip_cap_counts_highest_rate_bands_first)
{
        int64_t benes[CLM_AIP_BANDS_MAX] = {8000, 3000};
        struct clm_pay_aip_quarter q;

        params(AIP);
        cr_assert(eq(int, clm_pay_aip_quarter(&P, 8, benes, &q, err, 64),
                     CLM_OK));
        cr_assert(q.capped);
        cr_assert(eq(i64, q.benes_total, 11000));
        cr_assert(eq(i64, q.counted_total, 10000));
        cr_assert(eq(i64, q.counted[1], 3000)); /* $45 band first */
        cr_assert(eq(i64, q.counted[0], 7000));
        /* 3,000 x $45 + 7,000 x $25 = $310,000 */
        cr_assert(eq(i64, q.cents, USD(310000)));
}

Test(payments, aip_pays_only_the_first_quarters)
{
        int64_t benes[CLM_AIP_BANDS_MAX] = {100, 100};
        struct clm_pay_aip_quarter q;

        params(AIP);
        cr_assert(eq(int, clm_pay_aip_quarter(&P, 9, benes, &q, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, q.cents, 0));
        cr_assert(eq(int, clm_pay_aip_quarter(&P, 0, benes, &q, err, 64),
                     CLM_OK));
        cr_assert(eq(i64, q.cents, 0));
}

Test(payments, aip_counts_from_parameters)
{
        struct clm_pay_aip_quarter q;

        params(AIP);
        cr_assert(eq(int,
                     clm_pay_aip_quarter(&P, 1, NULL, &q, err, sizeof(err)),
                     CLM_ERR_INVALID));
        ERR_IS("A0003/2028: aip.band.2.benes: not set");
        params(AIP "aip.band.1.benes = 400 verified\n"
                   "aip.band.2.benes = 100 unverified\n");
        cr_assert(
                eq(int, clm_pay_aip_quarter(&P, 1, NULL, &q, err, 64), CLM_OK));
        cr_assert(eq(i64, q.cents, USD(14500)));
        cr_assert(not(q.verified));
}

Test(payments, aip_shipped_example)
{
        struct clm_pay_aip_quarter q;

        shipped("example-aip.conf", "A9005", 2028);
        cr_assert(
                eq(int, clm_pay_aip_quarter(&P, 1, NULL, &q, err, 64), CLM_OK),
                "%s", err);
        /* 3,000 x $45 + 7,000 of 8,000 x $25 */
        cr_assert(eq(i64, q.cents, USD(310000)));
        cr_assert(q.capped);
        cr_assert(not(q.verified));
}

/* ---- Pioneer --------------------------------------------------------------
 */

Test(payments, pioneer_years_1_2_share_savings_and_losses)
{
        struct clm_settle_in in = one_type(15000, 1045000, 9000);
        struct clm_settlement s;

        params(PIONEER_Y1);
        s = settle_ok(&in);
        cr_assert(s.msr.fixed);
        cr_assert(eq(i64, s.msr.msr_ppm, 20000));
        /* 15,000 x $550 = $8,250,000 x 60% x 0.90 */
        cr_assert(eq(i64, s.savings.final_rate_ppm, 540000));
        cr_assert(eq(i64, s.savings.shared, USD(4455000)));
        cr_assert(s.verified);
        in = one_type(15000, 1160000, 9000); /* $9,000,000 loss, 5.45% */
        s = settle_ok(&in);
        cr_assert(eq(int, s.outcome, CLM_SETTLE_LOSSES));
        cr_assert(eq(i64, s.losses.before_cap, USD(5400000)));
        cr_assert(eq(i64, s.losses.cap, USD(8250000))); /* 5% of $165M */
        cr_assert(eq(i64, s.losses.owed, USD(5400000)));
        P.pioneer_loss_cap.v = 10000;
        s = settle_ok(&in);
        cr_assert(eq(i64, s.losses.owed, USD(1650000)));
}

Test(payments, pioneer_year_3_population_based_payment)
{
        struct clm_pay_amount a;
        struct clm_settle_in in = one_type(15000, 1045000, 9000);
        struct clm_settlement s;

        params(PIONEER_Y3);
        cr_assert(eq(i64, clm_payparams_pioneer_year(&P), 3));
        cr_assert(eq(int, clm_pay_pioneer_pbp_month(&P, -1, &a, err, 64),
                     CLM_OK));
        /* 50% x $800 x 15,000 */
        cr_assert(eq(i64, a.cents, USD(6000000)));
        cr_assert(a.verified);
        cr_assert(
                eq(int, clm_pay_pioneer_pbp_month(&P, 3, &a, err, 64), CLM_OK));
        cr_assert(eq(i64, a.cents, USD(1200)));
        cr_assert(eq(int, clm_pay_settle(&P, &in, &s, err, sizeof(err)),
                     CLM_ERR_INVALID));
        ERR_IS("P0001/2014: pioneer.sharing_rate: no Pioneer sharing "
               "terms this year");
        params(PIONEER_Y1);
        cr_assert(eq(int,
                     clm_pay_pioneer_pbp_month(&P, -1, &a, err, sizeof(err)),
                     CLM_ERR_INVALID));
}

Test(payments, pioneer_pbp_rounds_to_the_cent)
{
        struct clm_pay_amount a;

        params(PIONEER_Y3);
        P.pioneer_pbp_pct.v = 333333;
        /* 0.333333 x 80,000 x 1 = 26,666.64 */
        cr_assert(
                eq(int, clm_pay_pioneer_pbp_month(&P, 1, &a, err, 64), CLM_OK));
        cr_assert(eq(i64, a.cents, 26667));
}

/* ---- errors
 * ------------------------------------------------------------------ */

Test(payments, settlement_needs_a_track)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(ADVANCE("8000"));
        P.track.v = CLM_TRACK_NONE;
        cr_assert(eq(int, clm_pay_settle(&P, &in, &s, err, sizeof(err)),
                     CLM_ERR_INVALID));
        ERR_IS("A0002/2012: ssp.track: NONE shares no savings");
}

Test(payments, recoupment_without_an_advance_model_is_refused)
{
        struct clm_settle_in in = one_type(12000, 1045000, 9000);
        struct clm_settlement s;

        params(EXAMPLE2);
        in.outstanding_cents = USD(1000);
        cr_assert(eq(int, clm_pay_settle(&P, &in, &s, err, sizeof(err)),
                     CLM_ERR_INVALID));
        ERR_IS("A0001/2026: advance.model: NONE, but 100000 cents of "
               "advances outstanding");
}

Test(payments, settlement_refuses_bad_quality_input)
{
        struct clm_settle_in in = one_type(12000, 1045000, 10001);
        struct clm_settlement s;

        params(EXAMPLE2);
        cr_assert(eq(int, clm_pay_settle(&P, &in, &s, err, sizeof(err)),
                     CLM_ERR_INVALID));
        in.quality_bp = 9000;
        in.n_assigned = -1;
        cr_assert(eq(int, clm_pay_settle(&P, &in, &s, err, sizeof(err)),
                     CLM_ERR_INVALID));
}

Test(payments, outcome_and_quality_names)
{
        cr_assert(eq(str, (char *)clm_settle_outcome_str(CLM_SETTLE_SAVINGS),
                     (char *)"savings"));
        cr_assert(eq(str,
                     (char *)clm_settle_outcome_str(CLM_SETTLE_LOSS_ONE_SIDED),
                     (char *)"loss_one_sided"));
        cr_assert(eq(str, (char *)clm_pay_quality_str(CLM_QUALITY_FAILED),
                     (char *)"failed"));
}
