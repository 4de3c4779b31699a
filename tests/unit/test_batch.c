/*
 * consumers/batch.c: buckets per docs/netting.md section 3, the argument
 * layout apply.lua expects, and that no identifier leaves in clear.
 */
#define _GNU_SOURCE /* memmem */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/batch.h"
#include "consumers/batch_internal.h"
#include "consumers/keyhash.h"
#include "consumers/payparams.h"
#include "daemon/rc.h"

/* -Wwrite-strings makes literals const; Criterion wants char *. */
#define STR_EQ(a, b) cr_assert(eq(str, (char *)(a), (char *)(b)))

static struct clm_claim claim;
static struct clm_keyhash kh;

static void
setup(void)
{
        memset(&claim, 0, sizeof(claim));
        clm_keyhash_init(&kh, "0123456789abcdef0123", 20);
        claim.form = CLM_FORM_PROFESSIONAL;
        claim.claim_type = 71;
        claim.adjustment = CLM_ADJ_ORIGINAL;
        claim.from_date = clm_date_days(2025, 3, 28);
        claim.thru_date = clm_date_days(2025, 4, 2);
        claim.effective_date = clm_date_days(2025, 4, 20);
        claim.received_ms = (int64_t)clm_date_days(2025, 5, 1) * 86400000;
        strcpy(claim.claim_version_id, "1234567890123");
        strcpy(claim.control_number, "CTL0000042");
        strcpy(claim.mbi, "1EG4TE5MK72");
        claim.n_lines = 3;
        claim.lines[0].thru_date = clm_date_days(2025, 3, 30);
        claim.lines[0].paid_cents = 1000;
        claim.lines[0].allowed_cents = 1200;
        claim.lines[0].allowed_present = true;
        claim.lines[1].thru_date = clm_date_days(2025, 4, 2);
        claim.lines[1].paid_cents = 2000;
        claim.lines[1].allowed_cents = 2500;
        claim.lines[1].allowed_present = true;
        claim.lines[2].thru_date = CLM_DATE_NULL; /* uses claim thru: April */
        claim.lines[2].paid_cents = 5;
        claim.lines[2].allowed_present = false;
        claim.paid_cents = 999999; /* header ignored when lines exist */
}

TestSuite(batch, .init = setup);

Test(batch, part_b_buckets_by_line_thru_month)
{
        int months[CLM_MAX_LINES + 1];
        int64_t paid[CLM_MAX_LINES + 1];
        int64_t allowed[CLM_MAX_LINES + 1];
        int count_month = 0;
        size_t nb =
                clm_claim_buckets(&claim, months, paid, allowed, &count_month);

        cr_assert(eq(sz, nb, 2));
        cr_assert(eq(int, months[0], 202503));
        cr_assert(eq(i64, paid[0], 1000));
        cr_assert(eq(i64, allowed[0], 1200));
        cr_assert(eq(int, months[1], 202504));
        cr_assert(eq(i64, paid[1], 2005));
        cr_assert(eq(i64, allowed[1], 2500));
        cr_assert(eq(int, count_month, 202504));
}

Test(batch, institutional_uses_header_in_thru_month)
{
        int months[CLM_MAX_LINES + 1];
        int64_t paid[CLM_MAX_LINES + 1];
        int64_t allowed[CLM_MAX_LINES + 1];
        int count_month = 0;
        size_t nb;

        claim.form = CLM_FORM_INSTITUTIONAL;
        claim.claim_type = 60;
        claim.paid_cents = 1234567;
        claim.allowed_present = false;
        nb = clm_claim_buckets(&claim, months, paid, allowed, &count_month);
        cr_assert(eq(sz, nb, 1));
        cr_assert(eq(int, months[0], 202504));
        cr_assert(eq(i64, paid[0], 1234567));
        cr_assert(eq(i64, allowed[0], 0));
        cr_assert(eq(int, count_month, 202504));
}

Test(batch, claim_without_lines_uses_header)
{
        int months[CLM_MAX_LINES + 1];
        int64_t paid[CLM_MAX_LINES + 1];
        int64_t allowed[CLM_MAX_LINES + 1];
        int count_month = 0;

        claim.n_lines = 0;
        claim.paid_cents = 777;
        claim.allowed_cents = 800;
        claim.allowed_present = true;
        cr_assert(eq(
                sz,
                clm_claim_buckets(&claim, months, paid, allowed, &count_month),
                1));
        cr_assert(eq(i64, paid[0], 777));
        cr_assert(eq(i64, allowed[0], 800));
}

static void
argv_of(struct clm_batch *b, int *argc, const char ***argv, const size_t **lens)
{
        clm_batch_argv(b, argc, argv, lens);
        cr_assert(gt(int, *argc, 0));
}

Test(batch, argv_layout_and_no_clear_identifiers)
{
        struct clm_batch *b = clm_batch_new();
        int argc;
        const char **argv;
        const size_t *lens;

        clm_batch_reset(b, "claimsd:", "ffs.claims/3", 100);
        cr_assert(eq(int, clm_batch_add_claim(b, &kh, 100, &claim), CLM_OK));
        cr_assert(eq(int, clm_batch_add_dead(b, 101, CLM_REASON_BAD_MAGIC),
                     CLM_OK));
        cr_assert(eq(sz, clm_batch_count(b), 2));
        cr_assert(eq(i64, clm_batch_to(b), 102));
        argv_of(b, &argc, &argv, &lens);
        STR_EQ(argv[0], "FCALL");
        STR_EQ(argv[1], "claimsd_apply");
        STR_EQ(argv[3], "claimsd:offset");
        STR_EQ(argv[5], "ffs.claims/3");
        STR_EQ(argv[6], "100");
        STR_EQ(argv[7], "102");
        STR_EQ(argv[9], "2");
        STR_EQ(clm_batch__arg(b, 0), "C");
        cr_assert(eq(int, argc, 12));
        cr_assert(eq(u8, (unsigned char)argv[10][0], 0xdd)); /* msgpack array */
        STR_EQ(argv[11], ""); /* no measure table: quality off */
        /* 16 fixed claim args + 2 buckets * 3, then D off reason */
        cr_assert(eq(sz, strlen(clm_batch__arg(b, 7)), 32)); /* bene hash */
        STR_EQ(clm_batch__arg(b, 8), "202505");
        STR_EQ(clm_batch__arg(b, 13),
               "2025,03,71,1000,1200,0;2025,04,71,2005,2500,1");
        STR_EQ(clm_batch__arg(b, 14), "2");
        STR_EQ(clm_batch__arg(b, 15 + 2), ":03:71:202505:");
        STR_EQ(clm_batch__arg(b, 15 + 6 + 2), ":04:71:202505:");
        STR_EQ(clm_batch__arg(b, 15 + 6 + 5), "1");
        /* quality off: qyear 0, no roles, no stay */
        STR_EQ(clm_batch__arg(b, 27), "0");
        STR_EQ(clm_batch__arg(b, 28), "");
        STR_EQ(clm_batch__arg(b, 29), "");
        /* 15 fixed claim args + 2 buckets * 6 + 3 quality, then D off
         * reason */
        STR_EQ(clm_batch__arg(b, 30), "D");
        STR_EQ(clm_batch__arg(b, 32), "bad_magic");
        for (int i = 0; i < argc; i++) {
                cr_assert(eq(ptr, memmem(argv[i], lens[i], "1EG4TE5MK72", 11),
                             NULL));
                cr_assert(eq(ptr, memmem(argv[i], lens[i], "1234567890123", 13),
                             NULL));
                cr_assert(eq(ptr, memmem(argv[i], lens[i], "CTL0000042", 10),
                             NULL));
        }
        clm_batch_free(b);
}

/* The digest must change with content but not with where it was seen. */
Test(batch, digest_tracks_content_only)
{
        struct clm_batch *b = clm_batch_new();
        int argc;
        const char **argv;
        const size_t *lens;
        char d1[64];
        char d2[64];
        char d3[64];

        clm_batch_reset(b, "p:", "t/0", 0);
        (void)clm_batch_add_claim(b, &kh, 0, &claim);
        argv_of(b, &argc, &argv, &lens);
        strcpy(d1, clm_batch__arg(b, 4));
        clm_batch_reset(b, "p:", "t/0", 50);
        (void)clm_batch_add_claim(b, &kh, 50, &claim);
        argv_of(b, &argc, &argv, &lens);
        strcpy(d2, clm_batch__arg(b, 4));
        claim.lines[0].paid_cents += 1;
        clm_batch_reset(b, "p:", "t/0", 0);
        (void)clm_batch_add_claim(b, &kh, 0, &claim);
        argv_of(b, &argc, &argv, &lens);
        strcpy(d3, clm_batch__arg(b, 4));
        cr_assert(eq(str, d1, d2));
        cr_assert(ne(str, d1, d3));
        cr_assert(eq(sz, strlen(d1), 32));
        clm_batch_free(b);
}

Test(batch, unknown_start_takes_first_offset)
{
        struct clm_batch *b = clm_batch_new();
        struct clm_marker m = {.complete_through_ms = 1700000000000};
        int argc;
        const char **argv;
        const size_t *lens;

        clm_batch_reset(b, "p:", "t/1", -1);
        (void)clm_batch_add_marker(b, 40, &m);
        cr_assert(eq(i64, clm_batch_from(b), 40));
        cr_assert(eq(i64, clm_batch_to(b), 41));
        argv_of(b, &argc, &argv, &lens);
        STR_EQ(argv[8], "1700000000000");
        clm_batch_free(b);
}

Test(batch, attribution_value_format)
{
        struct clm_batch *b = clm_batch_new();
        struct clm_attribution a = {0};
        int argc;
        const char **argv;
        const size_t *lens;

        strcpy(a.mbi, "1EG4TE5MK72");
        strcpy(a.aco_id, "A0001");
        a.performance_year = 2025;
        a.enrollment = CLM_ENR_AGED_DUAL;
        a.month_flags = 4095;
        a.data_sharing_excluded = true;
        a.birth_date = CLM_DATE_NULL;
        a.as_of = clm_date_days(2025, 2, 3);
        clm_batch_reset(b, "p:", "aco.attribution/0", 0);
        (void)clm_batch_add_attribution(b, &kh, 0, &a);
        a.birth_date = clm_date_days(1950, 12, 31);
        a.sex = 'F';
        (void)clm_batch_add_attribution(b, &kh, 1, &a);
        a.change = CLM_ATTR_TERMINATE;
        (void)clm_batch_add_attribution(b, &kh, 2, &a);
        argv_of(b, &argc, &argv, &lens);
        /* A bene_h year value offset as_of */
        STR_EQ(clm_batch__arg(b, 0), "A");
        STR_EQ(clm_batch__arg(b, 2), "2025");
        STR_EQ(clm_batch__arg(b, 3), "A0001:A:4095:1::");
        STR_EQ(clm_batch__arg(b, 4), "0");
        STR_EQ(clm_batch__arg(b, 5), "20250203");
        /* Only the birth year leaves the process. */
        STR_EQ(clm_batch__arg(b, 9), "A0001:A:4095:1:1950:F");
        STR_EQ(clm_batch__arg(b, 15), "");
        STR_EQ(clm_batch__arg(b, 16), "2");
        cr_assert(eq(ptr, strstr(clm_batch__arg(b, 1), "1EG4"), NULL));
        clm_batch_free(b);
}

/* P aco year text: the text is clm_payparams_render of the set, exactly
 * what claimsctl load-acos stores. */
Test(batch, parameter_message_carries_the_canonical_text)
{
        static const char text[] = "[aco A0001 2025]\n"
                                   "program = MSSP\n"
                                   "ssp.track = BASIC_A\n"
                                   "agreement.start = 2025-01-01\n"
                                   "agreement.end = 2029-12-31\n"
                                   "benchmark.E = 9500000 verified\n"
                                   "benchmark.D = 1100000\n"
                                   "benchmark.A = 1200000\n"
                                   "benchmark.N = 1050000\n"
                                   "sharing.rate = 400000\n"
                                   "savings.limit = 100000\n"
                                   "quality.era = 2021\n"
                                   "quality.threshold = 7385\n";
        struct clm_batch *b = clm_batch_new();
        struct clm_payparams *sets = NULL;
        size_t n = 0;
        char err[256];
        char want[4096];
        int argc;
        const char **argv;
        const size_t *lens;

        cr_assert(eq(int,
                     clm_payparams_load_buffer("t", text, sizeof(text) - 1,
                                               &sets, &n, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
        cr_assert(lt(sz, clm_payparams_render(&sets[0], want, sizeof(want)),
                     sizeof(want)));
        clm_batch_reset(b, "p:", "aco.registry/0", 7);
        cr_assert(eq(int, clm_batch_add_params(b, 7, &sets[0]), CLM_OK));
        cr_assert(eq(int, clm_batch_add_params(b, 8, &sets[0]), CLM_OK));
        argv_of(b, &argc, &argv, &lens);
        cr_assert(eq(sz, clm_batch_count(b), (size_t)2));
        cr_assert(eq(i64, clm_batch_to(b), 9));
        cr_assert(eq(sz, clm_batch__nargs(b), (size_t)8));
        STR_EQ(clm_batch__arg(b, 0), "P");
        STR_EQ(clm_batch__arg(b, 1), "A0001");
        STR_EQ(clm_batch__arg(b, 2), "2025");
        STR_EQ(clm_batch__arg(b, 3), want);
        cr_assert(not(
                eq(ptr, strstr(want, "benchmark.E = 9500000 verified"), NULL)));
        STR_EQ(clm_batch__arg(b, 7), want);
        clm_payparams_free(sets);
        clm_batch_free(b);
}

/*
 * batch.c formats integers by hand; the text must stay exactly what the
 * printf conversions in the comments produce, signs and padding included.
 */
Test(batch, numbers_are_formatted_like_printf)
{
        struct clm_batch *b = clm_batch_new();
        int argc;
        const char **argv;
        const size_t *lens;
        char want[512];
        char nk[256];
        char hex[CLM_KEYHASH_HEX];

        claim.n_lines = 2;
        claim.lines[0].paid_cents = -1234;
        claim.lines[0].allowed_cents = INT64_MIN;
        claim.lines[1].paid_cents = INT64_MAX;
        claim.lines[1].allowed_cents = -7;
        claim.effective_date = -42; /* "%08d" pads after the sign */
        claim.received_ms = 86400000;
        clm_batch_reset(b, "p:", "t/0", 0);
        cr_assert(eq(
                int,
                clm_batch_add_claim(b, &kh, INT64_C(9007199254740993), &claim),
                CLM_OK));
        argv_of(b, &argc, &argv, &lens);
        STR_EQ(clm_batch__arg(b, 1), "9007199254740993");
        (void)snprintf(nk, sizeof(nk), "B|%s|%s", claim.control_number,
                       claim.mbi);
        clm_keyhash_hex(&kh, "claim", nk, strlen(nk), hex);
        (void)snprintf(want, sizeof(want), "p:claim:%s", hex);
        STR_EQ(clm_batch__arg(b, 2), want);
        (void)snprintf(want, sizeof(want), "%08" PRId32 "%015" PRId64 "%s",
                       claim.effective_date, claim.received_ms,
                       clm_batch__arg(b, 3));
        STR_EQ(clm_batch__arg(b, 5), want);
        STR_EQ(clm_batch__arg(b, 8), "197001");
        (void)snprintf(want, sizeof(want),
                       "2025,03,71,%" PRId64 ",%" PRId64 ",0;"
                       "2025,04,71,%" PRId64 ",%" PRId64 ",1",
                       (int64_t)-1234, INT64_MIN, INT64_MAX, (int64_t)-7);
        STR_EQ(clm_batch__arg(b, 13), want);
        STR_EQ(clm_batch__arg(b, 15 + 3), "-1234");
        (void)snprintf(want, sizeof(want), "%" PRId64, INT64_MIN);
        STR_EQ(clm_batch__arg(b, 15 + 4), want);
        STR_EQ(clm_batch__arg(b, 15 + 2), ":03:71:197001:");

        /* Institutional natural key, with a date before 1970. */
        claim.form = CLM_FORM_INSTITUTIONAL;
        claim.claim_type = 60;
        claim.from_date = -5;
        strcpy(claim.billing_ccn, "123456");
        clm_batch_reset(b, "p:", "t/0", 0);
        (void)clm_batch_add_claim(b, &kh, 0, &claim);
        argv_of(b, &argc, &argv, &lens);
        (void)snprintf(nk, sizeof(nk), "A|%s|%" PRId32 "|%" PRId32 "|%s",
                       claim.billing_ccn, claim.from_date, claim.thru_date,
                       claim.mbi);
        clm_keyhash_hex(&kh, "claim", nk, strlen(nk), hex);
        (void)snprintf(want, sizeof(want), "p:claim:%s", hex);
        STR_EQ(clm_batch__arg(b, 2), want);
        clm_batch_free(b);
}

/* The one-letter enrollment codes in Redis fields map back to the enum. */
Test(batch, enrollment_codes_round_trip)
{
        for (int e = CLM_ENR_ESRD; e <= CLM_ENR_UNKNOWN; e++) {
                char c = clm_enrollment_code((enum clm_enrollment)e);

                cr_assert(eq(int, clm_enrollment_from_code(c), e), "%c", c);
        }
        cr_assert(eq(int, clm_enrollment_from_code('X'), -1));
        cr_assert(eq(int, clm_enrollment_from_code('\0'), -1));
}

/*
 * Every argument is stored with a NUL after it, so growing the arena must
 * count that byte too. One-character arguments walk the arena in steps of
 * two from where a first claim leaves it; control numbers of one and two
 * characters give both parities, so one of the runs lands an argument
 * exactly on the 64 KiB boundary: the ASan build (.ci/run) fails here on a
 * one-byte overflow.
 */
Test(batch, arguments_that_end_exactly_at_the_arena_boundary)
{
        static const char *const controls[] = {"C", "CC"};

        for (size_t k = 0; k < 2; k++) {
                struct clm_batch *b = clm_batch_new();
                int argc;
                const char **argv;
                const size_t *lens;

                strcpy(claim.control_number, controls[k]);
                clm_batch_reset(b, "p:", "t/1", 0);
                cr_assert(eq(int, clm_batch_add_claim(b, &kh, 0, &claim),
                             CLM_OK));
                for (int64_t off = 1; off < 40000; off++) {
                        cr_assert(eq(int, clm_batch_add_skip(b, off), CLM_OK));
                }
                argv_of(b, &argc, &argv, &lens);
                cr_assert(eq(sz, clm_batch_count(b), 40000));
                cr_assert(eq(i64, clm_batch_to(b), 40000));
                clm_batch_free(b);
        }
}
