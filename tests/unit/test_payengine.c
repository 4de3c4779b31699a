/*
 * consumers/payengine.c, the pure part: which records a parameter set can
 * issue and at which event-time cutoff (docs/payments.md §5).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/payengine.h"
#include "daemon/rc.h"

static struct clm_payparams *sets;
static size_t n_sets;

static const struct clm_payparams *
load(const char *text)
{
        char err[256] = "";

        clm_payparams_free(sets);
        sets = NULL;
        cr_assert(eq(int,
                     clm_payparams_load_buffer("t", text, strlen(text), &sets,
                                               &n_sets, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
        return &sets[0];
}

static void
teardown(void)
{
        clm_payparams_free(sets);
        sets = NULL;
}

TestSuite(payengine, .fini = teardown);

#define COMMON                                                                 \
        "benchmark.E = 1100000\nbenchmark.D = 1100000\n"                       \
        "benchmark.A = 1100000\nbenchmark.N = 1100000\n"                       \
        "msr.election = variable\nsharing.rate = 400000\n"                     \
        "savings.limit = 100000\nquality.era = 2021\n"                         \
        "quality.threshold = 7385\nquality.alternative_met = false\n"

static const char advance[] =
        "[aco A0001 2025]\nprogram = MSSP\nssp.track = BASIC_A\n"
        "advance.model = ADVANCE_PAYMENT\nagreement.start = 2025-04-01\n"
        "agreement.end = 2029-12-31\n" COMMON
        "advance.upfront_fixed = 25000000\nadvance.upfront_per_bene = 3600\n"
        "advance.monthly_per_bene = 800\nadvance.monthly_last = 2025-09\n"
        "advance.historical_benes = 8000\nadvance.forgiven_at_end = true\n";

static int64_t
ms(int y, int m, int d)
{
        return (int64_t)clm_date_days(y, m, d) * 86400000;
}

Test(payengine, advance_payment_schedule)
{
        struct clm_due d[CLM_DUE_MAX];
        size_t n = clm_payengine_schedule(load(advance), d, CLM_DUE_MAX);

        /* 2 upfront at the agreement start, April-September monthly (6),
         * the settlement at run-out close. */
        cr_assert(eq(sz, n, 9));
        cr_assert(eq(str, (char *)d[0].kind, (char *)"upfront_fixed"));
        cr_assert(eq(str, (char *)d[1].kind, (char *)"upfront_variable"));
        cr_assert(eq(i64, d[0].cutoff_ms, ms(2025, 4, 1)));
        cr_assert(eq(str, d[0].period, (char *)"2025-04-01"));
        cr_assert(eq(str, (char *)d[2].kind, (char *)"monthly"));
        cr_assert(eq(str, d[2].period, (char *)"2025-04"));
        /* A month is paid when it has closed. */
        cr_assert(eq(i64, d[2].cutoff_ms, ms(2025, 5, 1)));
        cr_assert(eq(str, d[7].period, (char *)"2025-09"));
        cr_assert(eq(str, (char *)d[8].kind, (char *)"settlement"));
        cr_assert(eq(str, (char *)d[8].model, (char *)"MSSP"));
        cr_assert(eq(i64, d[8].cutoff_ms, ms(2026, 4, 1)));
        for (size_t i = 1; i < n; i++) {
                cr_assert(le(i64, d[i - 1].cutoff_ms, d[i].cutoff_ms));
        }
}

Test(payengine, upfront_paid_from_the_first_year_only)
{
        char text[4096];
        struct clm_due d[CLM_DUE_MAX];
        size_t n;

        strcpy(text, advance);
        memcpy(strstr(text, "2025]"), "2026]", 5);
        n = clm_payengine_schedule(load(text), d, CLM_DUE_MAX);
        /* monthly_last 2025-09 is past: only the 2026 settlement. */
        cr_assert(eq(sz, n, 1));
        cr_assert(eq(str, (char *)d[0].kind, (char *)"settlement"));
        cr_assert(eq(i64, d[0].cutoff_ms, ms(2027, 4, 1)));
}

Test(payengine, aip_quarters_close_at_quarter_end)
{
        static const char aip[] =
                "[aco A0002 2025]\nprogram = MSSP\nssp.track = BASIC_A\n"
                "advance.model = AIP\nagreement.start = 2025-01-01\n"
                "agreement.end = 2029-12-31\n" COMMON
                "aip.one_time = 25000000\naip.quarters = 8\n"
                "aip.bene_cap = 10000\naip.band.1.rate = 4500\n"
                "aip.band.1.benes = 100\nadvance.forgiven_at_end = true\n";
        struct clm_due d[CLM_DUE_MAX];
        size_t n = clm_payengine_schedule(load(aip), d, CLM_DUE_MAX);

        cr_assert(eq(sz, n, 6));
        cr_assert(eq(str, (char *)d[0].kind, (char *)"aip_one_time"));
        cr_assert(eq(str, d[1].period, (char *)"2025-Q1"));
        cr_assert(eq(i64, d[1].quarter, 1));
        cr_assert(eq(i64, d[1].cutoff_ms, ms(2025, 4, 1)));
        cr_assert(eq(str, d[4].period, (char *)"2025-Q4"));
        cr_assert(eq(i64, d[4].cutoff_ms, ms(2026, 1, 1)));
}

Test(payengine, month_start)
{
        cr_assert(eq(i64, clm_month_start_ms(202601), ms(2026, 1, 1)));
        cr_assert(eq(i64, clm_month_start_ms(202512), ms(2025, 12, 1)));
}

Test(payengine, pioneer_year_three_pays_monthly_and_settles_only_with_terms)
{
        static const char pioneer[] =
                "[aco P0001 2025]\nprogram = PIONEER\n"
                "agreement.start = 2023-01-01\nagreement.end = 2027-12-31\n"
                "assign.min_benes = 15000\npioneer.pbp_pct = 500000\n"
                "pioneer.expected_ffs_pbpm = 80000\n"
                "pioneer.aligned_benes = 15000\n";
        struct clm_due d[CLM_DUE_MAX];
        size_t n = clm_payengine_schedule(load(pioneer), d, CLM_DUE_MAX);

        cr_assert(eq(sz, n, 12));
        for (size_t i = 0; i < n; i++) {
                cr_assert(eq(str, (char *)d[i].kind, (char *)"pbp_monthly"));
                cr_assert(eq(str, (char *)d[i].model, (char *)"PIONEER"));
        }
        cr_assert(eq(i64, d[11].cutoff_ms, ms(2026, 1, 1)));
}
