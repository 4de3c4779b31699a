/*
 * tools/audit_diff.c: the figures of two prefixes compare equal when they
 * are, and a difference is reported once, under the right ACO, month and
 * figure, with the received-month and payment as_of cutoffs applied.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/payrec.h"
#include "daemon/rc.h"
#include "tools/audit_diff.h"

#define MARCH_CLOSE_MS INT64_C(1743465600000) /* 2025-04-01T00:00:00Z */

static struct clm_audit_set *live;
static struct clm_audit_set *replay;
static struct clm_audit_result *res;

static void
add(struct clm_audit_set *set,
    const char *key,
    const char *field,
    const char *value)
{
        cr_assert(eq(int, clm_audit_set_add(set, key, field, value), CLM_OK));
}

/* The canonical text of a monthly advance for March 2025. */
static void
payment_text(const char *version, int64_t amount, int64_t as_of, char *buf)
{
        struct clm_payment p;

        clm_payment_init(&p, "A0001", "AP", "monthly", "2025-03", 2025);
        p.amount_cents = amount;
        p.as_of_ms = as_of;
        (void)snprintf(p.parameter_version, sizeof(p.parameter_version), "%s",
                       version);
        cr_assert(clm_payment_input(&p, "assigned", 8000));
        cr_assert(gt(sz, clm_payment_text(&p, buf, CLM_PAY_TEXT_MAX), 0));
}

/* The same business figures, and some operational keys, on a side; the
 * March payment record with @p version and @p amount. */
static void
fill_side(struct clm_audit_set *set, const char *version, int64_t amount)
{
        char text[CLM_PAY_TEXT_MAX];

        add(set, "aco:A0001:exp:2025", "N:03:71:202503:p", "10000");
        add(set, "aco:A0001:exp:2025", "N:03:71:202504:p", "-2500");
        add(set, "aco:A0001:exp:2025", "N:03:71:202503:a", "12000");
        add(set, "aco:A0001:exp:2025", "N:03:71:202503:n", "1");
        add(set, "aco:A0002:exp:2025", "E:02:60:202502:p", "500000");
        add(set, "unattributed:2025", "U:03:40:202503:no_attribution:n", "2");
        add(set, "aco:A0001:pop:2025", "N:b", "120");
        add(set, "aco:A0001:quality:2025", "236:num", "40");
        add(set, "aco:A0001:quality:2025", "236:den", "55");
        add(set, "q:2025", "ab12:236", "1,1,0");
        add(set, "bene:2025", "ab12", "A0001:N:4095:0:1950:F");
        add(set, "dlq:count", "bad_magic", "3");
        payment_text(version, amount, MARCH_CLOSE_MS, text);
        add(set, "aco:A0001:payments", "A0001:AP:2025-03:monthly", text);
        /* Operational state: never compared. */
        add(set, "offset", "claims/0", set == live ? "100" : "90");
        add(set, "stats", "claims", set == live ? "7" : "6");
        add(set, "aco:A0001:params", "2025", set == live ? "x" : "y");
        add(set, "aco:A0001:projection:2025", "net_cents",
            set == live ? "1" : "2");
        add(set, "claim:ffee", "v", set == live ? "a" : "b");
}

static void
fill(struct clm_audit_set *set)
{
        fill_side(set, "v1", 6400000);
}

/* A string assertion that prints both sides and takes const strings. */
static void
str_is(const char *got, const char *want)
{
        cr_assert(got != NULL, "want \"%s\"", want);
        cr_assert(eq(int, strcmp(got, want), 0), "got \"%s\", want \"%s\"", got,
                  want);
}

/* Row @p i is the figure (aco, month, figure). */
static void
row_is(size_t i, const char *aco, const char *month, const char *figure)
{
        cr_assert(lt(sz, i, res->n));
        str_is(res->rows[i].aco, aco);
        str_is(res->rows[i].month, month);
        str_is(res->rows[i].figure, figure);
}

static void
values_are(size_t i, int64_t live_v, int64_t replay_v, int64_t diff)
{
        cr_assert(lt(sz, i, res->n));
        cr_assert(eq(i64, res->rows[i].live, live_v));
        cr_assert(eq(i64, res->rows[i].replay, replay_v));
        cr_assert(eq(i64, res->rows[i].diff, diff));
}

static void
setup(void)
{
        live = clm_audit_set_new();
        replay = clm_audit_set_new();
        cr_assert(not(eq(ptr, live, NULL)));
        cr_assert(not(eq(ptr, replay, NULL)));
        fill(live);
        fill(replay);
        res = NULL;
}

static void
teardown(void)
{
        clm_audit_result_free(res);
        clm_audit_set_free(live);
        clm_audit_set_free(replay);
}

static void
diff_as_of(const char *time)
{
        struct clm_audit_cutoff cut;
        char err[128] = "";

        cr_assert(eq(int, clm_audit_parse_time(time, &cut), CLM_OK));
        clm_audit_result_free(res);
        res = NULL;
        cr_assert(eq(int,
                     clm_audit_diff(live, replay, &cut, &res, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
}

/* Compare as of @p time and expect @p n differences. */
static void
expect_differences(const char *time, size_t n)
{
        diff_as_of(time);
        cr_assert(eq(sz, res->n, n), "as of %s", time);
}

TestSuite(audit_diff, .init = setup, .fini = teardown);

Test(audit_diff, equal_sets_have_no_difference)
{
        expect_differences("2025-12", 0);
        /* exp: paid, allowed, claims of A0001 N/71 and paid of A0002;
         * unattributed; pop; 2 quality; q d,n,x; bene; dlq; payment. */
        cr_assert(eq(sz, res->compared, 14));
}

Test(audit_diff, altered_bucket_is_reported_once)
{
        /* As if HINCRBY had added 1234 to one live bucket. */
        add(live, "aco:A0001:exp:2025", "N:03:71:202504:p", "1234");
        expect_differences("2025-12", 1);
        row_is(0, "A0001", "2025-03", "exp paid N/71");
        values_are(0, 8734, 7500, 1234);
        cr_assert(eq(int, res->rows[0].kind, CLM_AUDIT_COUNTER));
}

Test(audit_diff, received_month_cutoff_excludes_later_buckets)
{
        add(live, "aco:A0001:exp:2025", "N:03:71:202505:p", "999");
        expect_differences("2025-04", 0);
        expect_differences("2025-04-30T23:59:59Z", 0);
        expect_differences("2025-05-01", 1);
        cr_assert(eq(i64, res->rows[0].diff, 999));
}

Test(audit_diff, cutoff_applies_to_the_sum_of_received_months)
{
        /* As of March the -2500 received in April is not in either side;
         * a difference in April's bucket is therefore not seen. */
        add(replay, "aco:A0001:exp:2025", "N:03:71:202504:p", "-1");
        expect_differences("2025-03", 0);
        expect_differences("2025-04", 1);
        values_are(0, 7500, 7499, 1);
}

Test(audit_diff, payment_text_difference_names_the_field)
{
        clm_audit_set_free(replay);
        replay = clm_audit_set_new();
        fill_side(replay, "v2", 6400000);
        expect_differences("2025-03", 1);
        row_is(0, "A0001", "2025-03", "payment A0001:AP:2025-03:monthly");
        values_are(0, 6400000, 6400000, 0);
        str_is(res->rows[0].note, "texts differ at parameter_version");
        cr_assert(not(eq(ptr, strstr(res->rows[0].replay_text, "|v2|"), NULL)));
}

Test(audit_diff, payment_amount_difference_is_shown)
{
        clm_audit_set_free(replay);
        replay = clm_audit_set_new();
        fill_side(replay, "v1", 6300000);
        expect_differences("2025-03", 1);
        values_are(0, 6400000, 6300000, 100000);
        str_is(res->rows[0].note, "texts differ at amount");
}

Test(audit_diff, payment_missing_on_one_side)
{
        char text[CLM_PAY_TEXT_MAX];

        payment_text("v1", 6400000, MARCH_CLOSE_MS, text);
        add(live, "aco:A0001:payments", "A0001:AP:2025-02:monthly", text);
        expect_differences("2025-03", 1);
        row_is(0, "A0001", "2025-02", "payment A0001:AP:2025-02:monthly");
        cr_assert(res->rows[0].live_present);
        cr_assert(not(res->rows[0].replay_present));
        cr_assert(eq(i64, res->rows[0].live, 6400000));
        cr_assert(eq(i64, res->rows[0].diff, 6400000));
        str_is(res->rows[0].note, "missing in replay");
        cr_assert(res->rows[0].replay_text == NULL);
}

Test(audit_diff, payment_after_the_cutoff_is_ignored)
{
        char text[CLM_PAY_TEXT_MAX];

        /* April's record is cut at 2025-05-01: not due as of March. */
        payment_text("v1", 6400000, MARCH_CLOSE_MS + INT64_C(30) * 86400000,
                     text);
        add(replay, "aco:A0001:payments", "A0001:AP:2025-04:monthly", text);
        expect_differences("2025-03", 0);
        cr_assert(eq(sz, res->compared, 14));
        expect_differences("2025-04-30T23:59:59Z", 0);
        expect_differences("2025-04", 1);
        str_is(res->rows[0].note, "missing in live");
        cr_assert(eq(i64, res->rows[0].diff, -6400000));
}

Test(audit_diff, payment_cut_at_march_close_is_due_as_of_march)
{
        /* Both sides hold the March record: not compared before its
         * cutoff, compared (and equal) from "2025-03" on. */
        diff_as_of("2025-03-31T23:59:59Z");
        cr_assert(eq(sz, res->compared, 13));
        diff_as_of("2025-03");
        cr_assert(eq(sz, res->compared, 14));
        diff_as_of("2025-03-31");
        cr_assert(eq(sz, res->compared, 14));
}

Test(audit_diff, unattributed_figure_has_no_aco)
{
        add(replay, "unattributed:2025", "U:03:40:202503:no_attribution:n",
            "1");
        expect_differences("2025-03", 1);
        row_is(0, "-", "2025-03", "unattributed no_attribution claims U/40");
        values_are(0, 2, 3, -1);
}

Test(audit_diff, quality_figures_are_yearly_and_not_cut)
{
        add(live, "aco:A0001:quality:2025", "236:num", "1");
        add(replay, "aco:A0001:pop:2025", "N:m", "12");
        expect_differences("2025-01", 2);
        row_is(0, "A0001", "2025", "pop N:m");
        values_are(0, 0, 12, -12);
        row_is(1, "A0001", "2025", "quality 236:num");
        values_are(1, 41, 40, 1);
}

Test(audit_diff, measure_roles_and_attribution)
{
        clm_audit_set_free(live);
        live = clm_audit_set_new();
        add(live, "q:2025", "ab12:236", "1,2,0");
        add(live, "bene:2025", "ab12", "A0002:N:4095:0:1950:F");
        add(replay, "q:2025", "cd34:236", "1,0,0");
        diff_as_of("2025-12");
        /* Sorted by ACO ("-" first), month, figure. */
        row_is(0, "-", "-", "dead letters bad_magic");
        values_are(0, 0, 3, -3);
        row_is(1, "-", "2025", "bene ab12");
        cr_assert(eq(int, res->rows[1].kind, CLM_AUDIT_TEXT));
        str_is(res->rows[1].live_text, "A0002:N:4095:0:1950:F");
        str_is(res->rows[1].replay_text, "A0001:N:4095:0:1950:F");
        row_is(2, "-", "2025", "q ab12:236 n");
        values_are(2, 2, 1, 1);
        row_is(3, "-", "2025", "q cd34:236 d");
        values_are(3, 0, 1, -1);
        row_is(4, "-", "2025-03", "unattributed no_attribution claims U/40");
        str_is(res->rows[5].aco, "A0001");
}

Test(audit_diff, malformed_field_is_compared_verbatim)
{
        add(live, "aco:A0001:exp:2025", "N:13:71:202503:p", "5");
        expect_differences("2025-12", 1);
        row_is(0, "A0001", "2025", "raw exp N:13:71:202503:p");
        str_is(res->rows[0].live_text, "5");
        str_is(res->rows[0].note, "missing in replay");
}

Test(audit_diff, sum_overflow_is_an_error)
{
        struct clm_audit_cutoff cut = {.month = 202512, .ms = 0};
        char err[128] = "";

        add(live, "aco:A0001:exp:2025", "N:03:71:202505:p",
            "9223372036854775807");
        cr_assert(eq(int,
                     clm_audit_diff(live, replay, &cut, &res, err, sizeof(err)),
                     CLM_ERR_INVALID));
        cr_assert(eq(ptr, res, NULL));
        cr_assert(not(eq(ptr, strstr(err, "out of range"), NULL)));
}

Test(audit_diff, difference_overflow_is_an_error)
{
        struct clm_audit_cutoff cut = {.month = 202512, .ms = 0};
        char err[128] = "";

        add(live, "aco:A0009:pop:2025", "N:b", "9223372036854775807");
        add(replay, "aco:A0009:pop:2025", "N:b", "-1");
        cr_assert(eq(int,
                     clm_audit_diff(live, replay, &cut, &res, err, sizeof(err)),
                     CLM_ERR_INVALID));
        cr_assert(eq(ptr, res, NULL));
        cr_assert(not(eq(ptr, strstr(err, "difference out of range"), NULL)));
}

Test(audit_diff, only_figure_families_are_wanted)
{
        static const char *const wanted[] = {"aco:A0001:exp:2025",
                                             "aco:A0001:pop:2025",
                                             "aco:A0001:quality:2025",
                                             "aco:A0001:payments",
                                             "unattributed:2025",
                                             "q:2025",
                                             "bene:2025",
                                             "dlq:count"};
        static const char *const not_wanted[] = {"aco:A0001:params",
                                                 "aco:A0001:projection:2025",
                                                 "aco:A0001:exp:25",
                                                 "acos",
                                                 "offset",
                                                 "watermark",
                                                 "stats",
                                                 "instance:h:1",
                                                 "claim:ab",
                                                 "led:2025:ab",
                                                 "stays:ab",
                                                 "payments",
                                                 "dlq",
                                                 "replay",
                                                 "replay:r1:aco:A0001:exp:2025",
                                                 "participant:2025",
                                                 "bene:2025:x"};

        for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
                cr_assert(clm_audit_key_wanted(wanted[i]), "%s", wanted[i]);
        }
        for (size_t i = 0; i < sizeof(not_wanted) / sizeof(not_wanted[0]);
             i++) {
                cr_assert(not(clm_audit_key_wanted(not_wanted[i])), "%s",
                          not_wanted[i]);
        }
}

Test(audit_time, month_day_and_instant)
{
        struct clm_audit_cutoff c;

        cr_assert(eq(int, clm_audit_parse_time("2025-03", &c), CLM_OK));
        cr_assert(eq(i32, c.month, 202503));
        cr_assert(eq(i64, c.ms, MARCH_CLOSE_MS));
        cr_assert(eq(int, clm_audit_parse_time("2025-12", &c), CLM_OK));
        cr_assert(eq(i32, c.month, 202512));
        cr_assert(eq(i64, c.ms, INT64_C(1767225600000))); /* 2026-01-01 */
        cr_assert(eq(int, clm_audit_parse_time("2025-03-31", &c), CLM_OK));
        cr_assert(eq(i32, c.month, 202503));
        cr_assert(eq(i64, c.ms, MARCH_CLOSE_MS));
        cr_assert(eq(int, clm_audit_parse_time("2025-04-01T00:00:00Z", &c),
                     CLM_OK));
        cr_assert(eq(i32, c.month, 202504));
        cr_assert(eq(i64, c.ms, MARCH_CLOSE_MS));
        cr_assert(eq(int, clm_audit_parse_time("2024-02-29T12:34:56Z", &c),
                     CLM_OK));
        cr_assert(eq(i64, c.ms, INT64_C(1709210096000)));
}

Test(audit_time, rejects_malformed_times)
{
        static const char *const bad[] = {
                "",
                "2025",
                "2025-3",
                "2025-13",
                "2025-00",
                "2025-02-30",
                "2025-03-1",
                "2025-03-01 ",
                "2025-03-01T24:00:00Z",
                "2025-03-01T10:00:00",
                "2025-03-01T10:00:60Z",
                "2025/03",
                "1899-12",
                "2025-03-01T10:00:00+01",
        };
        struct clm_audit_cutoff c;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                cr_assert(eq(int, clm_audit_parse_time(bad[i], &c),
                             CLM_ERR_INVALID),
                          "accepted \"%s\"", bad[i]);
        }
}

/* qb:<year> values are msgpack: (definition index, d, n, x) per entry. */
static void
add_qb(struct clm_audit_set *set,
       const char *bene,
       const unsigned char *v,
       size_t len)
{
        cr_assert(eq(int, clm_audit_set_add_bytes(set, "qb:2025", bene, v, len),
                     CLM_OK));
}

Test(audit_diff, measure_counts_in_msgpack_are_compared_per_role)
{
        /* [0, 1, 1, 0, 3, 2, 0, 1] and the same with definition 3's d = 3;
         * c is b with an array16 header and 3 as a uint8 (0xcc 0x03), as
         * cmsgpack may write them: not a difference. */
        static const unsigned char a[] = {0x98, 0, 1, 1, 0, 3, 2, 0, 1};
        static const unsigned char b[] = {0x98, 0, 1, 1, 0, 3, 3, 0, 1};
        static const unsigned char c[] = {0xdc, 0, 8,    0, 1, 1,
                                          0,    3, 0xcc, 3, 0, 1};
        fill(live);
        fill(replay);
        add_qb(live, "ab12", a, sizeof(a));
        add_qb(replay, "ab12", b, sizeof(b));
        add_qb(live, "cd34", b, sizeof(b));
        add_qb(replay, "cd34", c, sizeof(c));
        expect_differences("2025-12", 1);
        row_is(0, "-", "2025", "qb ab12 #3 d");
        values_are(0, 2, 3, -1);
}

Test(audit_diff, malformed_msgpack_is_compared_as_hex)
{
        static const unsigned char bad[] = {0x94, 0, 1, 0xca, 0};

        fill(live);
        fill(replay);
        add_qb(live, "ab12", bad, sizeof(bad));
        expect_differences("2025-12", 1);
        row_is(0, "-", "2025", "raw qb ab12");
        str_is(res->rows[0].live_text, "940001ca00");
}
