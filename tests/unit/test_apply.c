/*
 * The claimsd_apply Redis function (consumers/apply.lua) against a real,
 * disposable redis-server on a unix socket: the offset fence, netting of
 * originals, adjustments, cancellations, duplicates, stale and conflicting
 * versions, attribution with the participant fallback, and received-month
 * bucketing (docs/netting.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <hiredis/hiredis.h>

#include "consumers/batch.h"
#include "consumers/keyhash.h"
#include "consumers/measures.h"
#include "consumers/payparams.h"
#include "consumers/redis_sink.h"
#include "daemon/rc.h"

static char dir[] = "/tmp/clm-apply-XXXXXX";
static char sock[256];
static pid_t redis_pid;
static struct clm_sink *sink;
static redisContext *rc_;
static struct clm_keyhash kh;
static struct clm_batch *b;

static void
start_redis(void)
{
        char port_arg[] = "0";

        cr_assert(not(eq(ptr, mkdtemp(dir), NULL)));
        (void)snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
        redis_pid = fork();
        if (redis_pid == 0) {
                /* Die with the test process even if its .fini never runs. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                execlp("redis-server", "redis-server", "--port", port_arg,
                       "--unixsocket", sock, "--save", "", "--appendonly", "no",
                       "--dir", dir, "--logfile", "redis.log", (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 100; i++) {
                rc_ = redisConnectUnix(sock);
                if (rc_ != NULL && !rc_->err) {
                        return;
                }
                if (rc_ != NULL) {
                        redisFree(rc_);
                        rc_ = NULL;
                }
                struct timespec ts = {0, 50000000};

                nanosleep(&ts, NULL);
        }
        cr_skip_test("redis-server did not start (is it installed?)");
}

static void
setup(void)
{
        struct clm_sink_conf sc = {.unix_socket = sock, .timeout_ms = 5000};

        start_redis();
        clm_keyhash_init(&kh, "test-secret-0123456789", 22);
        sink = clm_sink_new(&sc);
        b = clm_batch_new();
        cr_assert(eq(int, clm_sink_connect(sink), CLM_OK), "%s",
                  clm_sink_errstr(sink));
}

static struct clm_measures *ms;

static void
teardown(void)
{
        clm_batch_free(b);
        clm_measures_free(ms);
        ms = NULL;
        clm_sink_free(sink);
        if (rc_ != NULL) {
                redisFree(rc_);
        }
        if (redis_pid > 0) {
                kill(redis_pid, SIGKILL);
                waitpid(redis_pid, NULL, 0);
        }
        (void)unlink(sock);
        (void)rmdir(dir);
}

TestSuite(apply, .init = setup, .fini = teardown, .timeout = 30);

static struct clm_claim
make_claim(const char *version,
           enum clm_adjustment adj,
           int eff_day,
           int recv_month,
           int64_t paid)
{
        struct clm_claim c;

        memset(&c, 0, sizeof(c));
        c.form = CLM_FORM_INSTITUTIONAL;
        c.claim_type = 60;
        c.adjustment = adj;
        c.from_date = clm_date_days(2025, 3, 1);
        c.thru_date = clm_date_days(2025, 3, 5);
        c.effective_date = clm_date_days(2025, 3, 10) + eff_day;
        c.received_ms =
                (int64_t)clm_date_days(2025, recv_month, 15) * 86400000 +
                eff_day;
        c.paid_cents = paid;
        strcpy(c.claim_version_id, version);
        strcpy(c.billing_ccn, "123456");
        strcpy(c.mbi, "1EG4TE5MK72");
        return c;
}

static long long
hget(const char *key, const char *field)
{
        redisReply *r = redisCommand(rc_, "HGET %s %s", key, field);
        long long v = 0;

        cr_assert(not(eq(ptr, r, NULL)));
        if (r->type == REDIS_REPLY_STRING) {
                v = strtoll(r->str, NULL, 10);
        }
        freeReplyObject(r);
        return v;
}

static void
attribute(const char *aco, const char *value)
{
        char bh[CLM_KEYHASH_HEX];
        redisReply *r;

        (void)aco;
        clm_keyhash_hex(&kh, "bene", "1EG4TE5MK72", 11, bh);
        r = redisCommand(rc_, "HSET p:bene:2025 %s %s", bh, value);
        freeReplyObject(r);
}

static struct clm_apply_result
apply_batch(void)
{
        int argc;
        const char **argv;
        const size_t *lens;
        struct clm_apply_result res;

        clm_batch_argv(b, &argc, &argv, &lens);
        cr_assert(eq(int, clm_sink_apply(sink, 1, &argc, &argv, &lens, &res),
                     CLM_OK),
                  "%s", clm_sink_errstr(sink));
        return res;
}

static struct clm_apply_result
apply_one(int64_t from, const struct clm_claim *c)
{
        clm_batch_reset(b, "p:", "t/0", from);
        cr_assert(eq(int, clm_batch_add_claim(b, &kh, from, c), CLM_OK));
        return apply_batch();
}

Test(apply, original_counts_in_thru_and_received_month)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 150000);
        struct clm_apply_result r;

        attribute("A0001", "A0001:N:4095:0");
        r = apply_one(0, &c);
        cr_assert(r.applied);
        cr_assert(eq(i64, r.offset, 1));
        cr_assert(eq(i64, r.claims, 1));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:p"),
                     150000));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:n"), 1));
        cr_assert(eq(i64, hget("p:offset", "t/0"), 1));
}

Test(apply, adjustment_books_delta_in_its_received_month)
{
        struct clm_claim o = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 150000);
        struct clm_claim a = make_claim("v2", CLM_ADJ_ADJUSTMENT, 5, 6, 90000);

        attribute("A0001", "A0001:N:4095:0");
        (void)apply_one(0, &o);
        (void)apply_one(1, &a);
        /* as of April: 150,000; from June on: 90,000 (= 150,000 - 60,000) */
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:p"),
                     150000));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202506:p"),
                     -60000));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202506:n"), 0));
}

Test(apply, cancellation_removes_previous_amounts)
{
        struct clm_claim o = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 150000);
        struct clm_claim x = make_claim("v2", CLM_ADJ_CANCEL, 5, 5, 150000);

        attribute("A0001", "A0001:N:4095:0");
        (void)apply_one(0, &o);
        (void)apply_one(1, &x);
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202505:p"),
                     -150000));
        cr_assert(
                eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202505:n"), -1));
        cr_assert(eq(i64, hget("p:stats", "cancel"), 1));
}

Test(apply, duplicate_and_stale_are_no_ops)
{
        struct clm_claim o = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 150000);
        struct clm_claim a = make_claim("v2", CLM_ADJ_ADJUSTMENT, 5, 5, 90000);
        struct clm_apply_result r;

        attribute("A0001", "A0001:N:4095:0");
        (void)apply_one(0, &a); /* the later version arrives first */
        r = apply_one(1, &o);   /* stale */
        cr_assert(eq(i64, r.stale, 1));
        r = apply_one(2, &a); /* duplicate delivery */
        cr_assert(eq(i64, r.duplicate, 1));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202505:p"),
                     90000));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:p"), 0));
        cr_assert(eq(i64, hget("p:offset", "t/0"), 3));
}

Test(apply, same_version_other_content_is_dead_lettered)
{
        struct clm_claim o = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 150000);
        struct clm_claim bad = o;
        struct clm_apply_result r;

        bad.paid_cents = 1;
        attribute("A0001", "A0001:N:4095:0");
        (void)apply_one(0, &o);
        r = apply_one(1, &bad);
        cr_assert(eq(i64, r.dead_letter, 1));
        cr_assert(eq(i64, hget("p:dlq:count", "version_conflict"), 1));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:p"),
                     150000));
}

Test(apply, fence_rejects_wrong_start_and_writes_nothing)
{
        struct clm_claim o = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 150000);
        struct clm_apply_result r;

        attribute("A0001", "A0001:N:4095:0");
        (void)apply_one(0, &o);
        r = apply_one(0, &o); /* replay of an applied batch */
        cr_assert(not(r.applied));
        cr_assert(eq(i64, r.offset, 1));
        r = apply_one(7, &o); /* a batch from the future */
        cr_assert(not(r.applied));
        cr_assert(eq(i64, hget("p:stats", "duplicate"), 0));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:n"), 1));
}

Test(apply, unattributed_and_participant_fallback)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 500);
        struct clm_claim d = c;
        redisReply *r;

        /* Assigned January-February only: March is not an assigned month. */
        attribute("A0001", "A0001:D:3:0");
        (void)apply_one(0, &c);
        cr_assert(eq(i64,
                     hget("p:unattributed:2025",
                          "D:03:60:202504:not_assigned_month:p"),
                     500));
        cr_assert(
                eq(i64, hget("p:stats", "unattributed:not_assigned_month"), 1));
        r = redisCommand(rc_, "HSET p:participant:2025 tin:987654321 A0002");
        freeReplyObject(r);
        strcpy(d.claim_version_id, "w1");
        strcpy(d.billing_ccn, "654321");
        strcpy(d.billing_tin, "987654321");
        (void)apply_one(1, &d);
        cr_assert(
                eq(i64, hget("p:aco:A0002:exp:2025", "D:03:60:202504:p"), 500));
}

Test(apply, watermark_and_dead_letters_advance_with_offset)
{
        struct clm_marker m = {.complete_through_ms = 1760000000000};
        struct clm_apply_result r;

        clm_batch_reset(b, "p:", "t/0", -1);
        (void)clm_batch_add_dead(b, 10, CLM_REASON_TRUNCATED);
        (void)clm_batch_add_marker(b, 11, &m);
        r = apply_batch();
        cr_assert(r.applied);
        cr_assert(eq(i64, r.offset, 12));
        cr_assert(eq(i64, hget("p:watermark", "t/0"), 1760000000000));
        cr_assert(eq(i64, hget("p:dlq:count", "truncated"), 1));
        cr_assert(eq(i64, hget("p:stats", "markers"), 1));
}

Test(apply, offsets_read_back)
{
        const char *fields[2] = {"t/0", "t/9"};
        int64_t out[2];
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 1);

        (void)apply_one(0, &c);
        cr_assert(eq(int, clm_sink_read_offsets(sink, "p:", 2, fields, out),
                     CLM_OK));
        cr_assert(eq(i64, out[0], 1));
        cr_assert(eq(i64, out[1], -1));
}

Test(apply, redis_gone_reports_retry)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 1);
        int argc;
        const char **argv;
        const size_t *lens;
        struct clm_apply_result res;

        /* The daemon ignores SIGPIPE (daemon/signals.c); so must we. */
        (void)signal(SIGPIPE, SIG_IGN);
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        redis_pid = 0;
        clm_batch_reset(b, "p:", "t/0", 0);
        (void)clm_batch_add_claim(b, &kh, 0, &c);
        clm_batch_argv(b, &argc, &argv, &lens);
        cr_assert(eq(int, clm_sink_apply(sink, 1, &argc, &argv, &lens, &res),
                     CLM_ERR_RETRY));
        cr_assert(not(clm_sink_connected(sink)));
}

/* ---- Re-attribution, population, quality and outcomes (docs/quality.md) */

#define BENE "1EG4TE5MK72"

static const char test_measures[] = "[measure 001]\n"
                                    "name = HbA1c poor control\n"
                                    "years = 2025-2025\n"
                                    "direction = lower\n"
                                    "age = 18-75\n"
                                    "denominator.dx = E11*\n"
                                    "denominator.codes = 99202-99215\n"
                                    "numerator.codes = 3046F\n"
                                    "exclusion.codes = G9687\n"
                                    "[measure 112]\n"
                                    "name = Breast cancer screening\n"
                                    "years = 2025-2025\n"
                                    "direction = higher\n"
                                    "sex = F\n"
                                    "denominator.codes = 99202-99215\n"
                                    "numerator.codes = G9899\n"
                                    "[outcomes]\n"
                                    "planned.dx = Z511*\n";

/* Quality on: the batch evaluates the measures above from now on. */
static void
quality_on(void)
{
        char path[300];
        char err[256] = "";
        FILE *f;

        (void)snprintf(path, sizeof(path), "%s/test.conf", dir);
        f = fopen(path, "w");
        cr_assert(not(eq(ptr, f, NULL)));
        fputs(test_measures, f);
        fclose(f);
        cr_assert(eq(int, clm_measures_load_file(path, &ms, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
        clm_batch_set_measures(b, ms);
        (void)unlink(path);
}

/* An attribution record through the function, as the attribution topic
 * delivers it. */
static void
assign(int64_t off,
       const char *aco,
       enum clm_enrollment e,
       uint32_t mask,
       int birth_year,
       char sex)
{
        struct clm_attribution a;

        memset(&a, 0, sizeof(a));
        strcpy(a.mbi, BENE);
        strcpy(a.aco_id, aco == NULL ? "A0000" : aco);
        a.performance_year = 2025;
        a.enrollment = e;
        a.month_flags = mask;
        a.change = aco == NULL ? CLM_ATTR_TERMINATE : CLM_ATTR_UPDATE;
        a.as_of = clm_date_days(2025, 6, 1);
        a.birth_date = birth_year > 0 ? clm_date_days(birth_year, 5, 5)
                                      : CLM_DATE_NULL;
        a.sex = sex;
        clm_batch_reset(b, "p:", "attr/0", off);
        cr_assert(eq(int, clm_batch_add_attribution(b, &kh, off, &a), CLM_OK));
        cr_assert(apply_batch().applied);
}

static long long
xlen(const char *key)
{
        redisReply *r = redisCommand(rc_, "XLEN %s", key);
        long long v = r->integer;

        freeReplyObject(r);
        return v;
}

/* The last entry of a stream as "field=value ..." */
static void
last_entry(const char *key, char *out, size_t cap)
{
        redisReply *r = redisCommand(rc_, "XREVRANGE %s + - COUNT 1", key);
        size_t n = 0;

        cr_assert(eq(int, r->type, REDIS_REPLY_ARRAY));
        cr_assert(eq(sz, r->elements, 1));
        out[0] = '\0';
        for (size_t i = 0; i < r->element[0]->element[1]->elements; i += 2) {
                redisReply **kv = r->element[0]->element[1]->element;

                n += (size_t)snprintf(out + n, cap - n, "%s%s=%s",
                                      i > 0 ? " " : "", kv[i]->str,
                                      kv[i + 1]->str);
        }
        freeReplyObject(r);
}

Test(apply, reattribution_moves_expenditure_and_records_it)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 150000);
        char entry[512];

        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1950, 'F');
        (void)apply_one(0, &c);
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:p"),
                     150000));
        /* From March on the beneficiary belongs to A0002 as dual. */
        assign(1, "A0002", CLM_ENR_AGED_DUAL, 0xffc, 1950, 'F');
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:p"), 0));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202504:n"), 0));
        cr_assert(eq(i64, hget("p:aco:A0002:exp:2025", "A:03:60:202504:p"),
                     150000));
        cr_assert(eq(i64, hget("p:aco:A0002:exp:2025", "A:03:60:202504:n"), 1));
        cr_assert(eq(i64, hget("p:stats", "reattributed"), 1));
        last_entry("p:reattribution", entry, sizeof(entry));
        cr_assert(not(eq(ptr,
                         strstr(entry, "from=A0001 to=A0002 "
                                       "from_enrollment=N "
                                       "to_enrollment=A months=4 "
                                       "effective_month=3 "
                                       "source=attr/0/1 as_of=20250601"),
                         NULL)),
                  "%s", entry);
        cr_assert(eq(ptr, strstr(entry, BENE), NULL));
        /* An adjustment after the move nets against A0002, where the
         * original now counts. */
        c = make_claim("v2", CLM_ADJ_ADJUSTMENT, 5, 5, 100000);
        (void)apply_one(1, &c);
        cr_assert(eq(i64, hget("p:aco:A0002:exp:2025", "A:03:60:202505:p"),
                     -50000));
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "N:03:60:202505:p"), 0));
}

Test(apply, claims_before_their_attribution_move_in_when_it_arrives)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 700);

        (void)apply_one(0, &c);
        cr_assert(eq(
                i64,
                hget("p:unattributed:2025", "U:03:60:202504:no_attribution:p"),
                700));
        assign(0, "A0003", CLM_ENR_ESRD, 4095, 1960, 'M');
        cr_assert(eq(
                i64,
                hget("p:unattributed:2025", "U:03:60:202504:no_attribution:p"),
                0));
        cr_assert(
                eq(i64, hget("p:aco:A0003:exp:2025", "E:03:60:202504:p"), 700));
        /* A first assignment with history is recorded too. */
        cr_assert(eq(i64, xlen("p:reattribution"), 1));
}

Test(apply, termination_falls_back_to_the_participant_tin)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 900);
        redisReply *r;

        r = redisCommand(rc_, "HSET p:participant:2025 tin:987654321 A0009");
        freeReplyObject(r);
        strcpy(c.billing_tin, "987654321");
        assign(0, "A0001", CLM_ENR_DISABLED, 4095, 1970, 'F');
        (void)apply_one(0, &c);
        cr_assert(
                eq(i64, hget("p:aco:A0001:exp:2025", "D:03:60:202504:p"), 900));
        assign(1, NULL, CLM_ENR_DISABLED, 0, 0, 0);
        cr_assert(eq(i64, hget("p:aco:A0001:exp:2025", "D:03:60:202504:p"), 0));
        cr_assert(
                eq(i64, hget("p:aco:A0009:exp:2025", "U:03:60:202504:p"), 900));
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "D:b"), 0));
}

Test(apply, population_follows_the_roster)
{
        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 0x7, 1950, 'F');
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "N:b"), 1));
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "N:m"), 3));
        assign(1, "A0001", CLM_ENR_AGED_NON_DUAL, 0xfff, 1950, 'F');
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "N:b"), 1));
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "N:m"), 12));
        /* Same record again: nothing changes, nothing recorded. */
        assign(2, "A0001", CLM_ENR_AGED_NON_DUAL, 0xfff, 1950, 'F');
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "N:m"), 12));
        cr_assert(eq(i64, hget("p:stats", "attribution"), 3));
        assign(3, "A0002", CLM_ENR_ESRD, 0x30, 1950, 'F');
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "N:b"), 0));
        cr_assert(eq(i64, hget("p:aco:A0001:pop:2025", "N:m"), 0));
        cr_assert(eq(i64, hget("p:aco:A0002:pop:2025", "E:b"), 1));
        cr_assert(eq(i64, hget("p:aco:A0002:pop:2025", "E:m"), 2));
        assign(4, NULL, CLM_ENR_ESRD, 0, 0, 0);
        cr_assert(eq(i64, hget("p:aco:A0002:pop:2025", "E:b"), 0));
        cr_assert(eq(i64, hget("p:aco:A0002:pop:2025", "E:m"), 0));
}

/* A professional claim for the quality tests: one line per code. */
static struct clm_claim
coded_claim(const char *control, const char *dx, const char *const *codes)
{
        struct clm_claim c = make_claim("q", CLM_ADJ_ORIGINAL, 0, 4, 100);

        c.form = CLM_FORM_PROFESSIONAL;
        c.claim_type = 71;
        strcpy(c.control_number, control);
        (void)snprintf(c.claim_version_id, sizeof(c.claim_version_id), "%s-1",
                       control);
        if (dx != NULL) {
                strcpy(c.principal_dx, dx);
                strcpy(c.dx[0], dx);
                c.n_dx = 1;
        }
        for (size_t i = 0; codes[i] != NULL; i++) {
                struct clm_line *l = &c.lines[c.n_lines++];

                l->line_number = (int32_t)c.n_lines;
                l->thru_date = c.thru_date;
                l->paid_cents = 10;
                strcpy(l->hcpcs, codes[i]);
        }
        return c;
}

static long long
q(const char *aco, const char *field)
{
        char key[64];

        (void)snprintf(key, sizeof(key), "p:aco:%s:quality:2025", aco);
        return hget(key, field);
}

Test(apply, measure_counts_are_distinct_and_follow_versions)
{
        static const char *const met[] = {"99213", "3046F", NULL};
        static const char *const visit[] = {"99214", NULL};
        static const char *const excl[] = {"99214", "G9687", NULL};
        struct clm_claim c1 = coded_claim("C1", "E11.9", met);
        struct clm_claim c2 = coded_claim("C2", "E119", visit);
        struct clm_claim x1;
        struct clm_claim a2;

        quality_on();
        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1955, 'F');
        (void)apply_one(0, &c1);
        cr_assert(eq(i64, q("A0001", "001:den"), 1));
        cr_assert(eq(i64, q("A0001", "001:num"), 1));
        /* Breast screening: a visit, no numerator code. */
        cr_assert(eq(i64, q("A0001", "112:den"), 1));
        cr_assert(eq(i64, q("A0001", "112:num"), 0));
        (void)apply_one(1, &c2);
        cr_assert(eq(i64, q("A0001", "001:den"), 1)); /* once per bene */
        /* Cancelling the only numerator claim removes the numerator, not
         * the denominator that c2 still carries. */
        x1 = c1;
        x1.adjustment = CLM_ADJ_CANCEL;
        strcpy(x1.claim_version_id, "C1-2");
        x1.effective_date += 3;
        (void)apply_one(2, &x1);
        cr_assert(eq(i64, q("A0001", "001:den"), 1));
        cr_assert(eq(i64, q("A0001", "001:num"), 0));
        /* An adjustment that adds an exclusion code excludes the bene. */
        a2 = coded_claim("C2", "E119", excl);
        a2.adjustment = CLM_ADJ_ADJUSTMENT;
        strcpy(a2.claim_version_id, "C2-2");
        a2.effective_date += 3;
        (void)apply_one(3, &a2);
        cr_assert(eq(i64, q("A0001", "001:den"), 0));
        cr_assert(eq(i64, q("A0001", "001:excl"), 1));
}

/* The cancellation of @p c as version @p vid, effective three days later. */
static struct clm_claim
cancellation_of(const struct clm_claim *c, const char *vid)
{
        struct clm_claim x = *c;

        x.adjustment = CLM_ADJ_CANCEL;
        (void)snprintf(x.claim_version_id, sizeof(x.claim_version_id), "%s",
                       vid);
        x.effective_date += 3;
        return x;
}

/* Run a command and check it did not fail; returns the reply to free. */
static redisReply *
must(redisReply *r)
{
        cr_assert(not(eq(ptr, r, NULL)));
        cr_assert(not(eq(int, r->type, REDIS_REPLY_ERROR)), "%s", r->str);
        return r;
}

/*
 * A prefix written before the index encoding: claim-state roles
 * 'id:dnx;...' and counts in q:<year> fields 'bene:id'. Rewrite the state
 * and counts the function just wrote into that form.
 */
static void
make_legacy(const char *roles_now, const char *roles_then)
{
        redisReply *keys = must(redisCommand(rc_, "KEYS p:claim:*"));
        redisReply *st;
        redisReply *f;
        char *at;
        char state[1024];
        char then[1024];
        int n;

        cr_assert(eq(sz, keys->elements, 1));
        st = must(redisCommand(rc_, "GET %s", keys->element[0]->str));
        (void)snprintf(state, sizeof(state), "%s", st->str);
        at = strstr(state, roles_now);
        cr_assert(not(eq(ptr, at, NULL)), "%s", state);
        *at = '\0';
        n = snprintf(then, sizeof(then), "%s%s%s", state, roles_then,
                     at + strlen(roles_now));
        cr_assert(lt(int, n, (int)sizeof(then)));
        freeReplyObject(must(
                redisCommand(rc_, "SET %s %s", keys->element[0]->str, then)));
        f = must(redisCommand(rc_, "HKEYS p:qb:2025"));
        cr_assert(eq(sz, f->elements, 1));
        freeReplyObject(must(redisCommand(rc_, "HSET p:q:2025 %s:001 1,1,0",
                                          f->element[0]->str)));
        freeReplyObject(must(redisCommand(rc_, "HSET p:q:2025 %s:112 1,0,0",
                                          f->element[0]->str)));
        freeReplyObject(must(redisCommand(rc_, "DEL p:qb:2025")));
        freeReplyObject(f);
        freeReplyObject(st);
        freeReplyObject(keys);
}

Test(apply, roles_and_counts_written_before_the_index_encoding_still_count)
{
        static const char *const met[] = {"99213", "3046F", NULL};
        static const char *const visit[] = {"99214", NULL};
        struct clm_claim c1 = coded_claim("C1", "E11.9", met);
        struct clm_claim c2 = coded_claim("C2", "E119", visit);
        struct clm_claim x1;

        quality_on();
        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1955, 'F');
        (void)apply_one(0, &c1);
        /* 001 (index 0) den+num, 112 (index 1) den */
        make_legacy("|00030011|", "|001:dn;112:d|");
        /* c2's counts add to the legacy ones: 001 is (2, 1, 0) */
        (void)apply_one(1, &c2);
        cr_assert(eq(i64, q("A0001", "001:den"), 1));
        cr_assert(eq(i64, q("A0001", "001:num"), 1));
        /* Cancelling c1 removes its legacy roles: the numerator goes, the
         * denominators c2 carries stay. */
        x1 = cancellation_of(&c1, "C1-2");
        (void)apply_one(2, &x1);
        cr_assert(eq(i64, q("A0001", "001:den"), 1));
        cr_assert(eq(i64, q("A0001", "001:num"), 0));
        cr_assert(eq(i64, q("A0001", "112:den"), 1));
}

Test(apply, age_and_sex_conditions_and_unknown_demographics)
{
        static const char *const met[] = {"99213", "3046F", "G9899", NULL};
        struct clm_claim c = coded_claim("C1", "E119", met);

        quality_on();
        /* 85 on 31 December 2025: outside 18-75. Male: not in 112. */
        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1940, 'M');
        (void)apply_one(0, &c);
        cr_assert(eq(i64, q("A0001", "001:den"), 0));
        cr_assert(eq(i64, q("A0001", "112:den"), 0));
        /* A corrected roster record (born 1960, female) re-evaluates. */
        assign(1, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1960, 'F');
        cr_assert(eq(i64, q("A0001", "001:den"), 1));
        cr_assert(eq(i64, q("A0001", "001:num"), 1));
        cr_assert(eq(i64, q("A0001", "112:num"), 1));
        /* Unknown birth date and sex fail any condition that needs them. */
        assign(2, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 0, 0);
        cr_assert(eq(i64, q("A0001", "001:den"), 0));
        cr_assert(eq(i64, q("A0001", "112:den"), 0));
}

Test(apply, reattribution_moves_measure_counts)
{
        static const char *const met[] = {"99213", "3046F", NULL};
        struct clm_claim c = coded_claim("C1", "E119", met);

        quality_on();
        (void)apply_one(0, &c); /* before any attribution: counts nowhere */
        cr_assert(eq(i64, q("A0001", "001:den"), 0));
        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1955, 'F');
        cr_assert(eq(i64, q("A0001", "001:den"), 1));
        cr_assert(eq(i64, q("A0001", "001:num"), 1));
        assign(1, "A0002", CLM_ENR_AGED_NON_DUAL, 0x800, 1955, 'F');
        cr_assert(eq(i64, q("A0001", "001:den"), 0));
        cr_assert(eq(i64, q("A0001", "001:num"), 0));
        cr_assert(eq(i64, q("A0002", "001:den"), 1));
        cr_assert(eq(i64, q("A0002", "001:num"), 1));
}

/* An inpatient stay from (month, day) to (month, day) of 2025. */
static struct clm_claim
stay(const char *ccn, int m0, int d0, int m1, int d1, const char *status)
{
        struct clm_claim c = make_claim("s", CLM_ADJ_ORIGINAL, 0, 12, 1000);

        strcpy(c.billing_ccn, ccn);
        (void)snprintf(c.claim_version_id, sizeof(c.claim_version_id), "%s-1",
                       ccn);
        c.from_date = clm_date_days(2025, m0, d0);
        c.thru_date = clm_date_days(2025, m1, d1);
        strcpy(c.discharge_status, status);
        return c;
}

Test(apply, readmissions_transfers_and_planned_admissions)
{
        struct clm_claim s1 = stay("H1", 3, 1, 3, 5, "01");
        struct clm_claim s2 = stay("H2", 4, 4, 4, 8, "01");   /* day 30 */
        struct clm_claim s3 = stay("H3", 6, 1, 6, 3, "02");   /* transfer */
        struct clm_claim s4 = stay("H4", 6, 4, 6, 9, "01");   /* its end */
        struct clm_claim s5 = stay("H5", 6, 20, 6, 25, "20"); /* died */
        struct clm_claim x2;

        quality_on();
        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1950, 'F');
        (void)apply_one(0, &s1);
        (void)apply_one(1, &s2);
        cr_assert(eq(i64, q("A0001", "readm:index"), 2));
        cr_assert(eq(i64, q("A0001", "readm:readmit"), 1));
        cr_assert(eq(i64, q("A0001", "admits"), 2));
        /* s3 + s4 are one episode (index, discharged 9 June); s5 is
         * admitted 11 days later: a readmission, but not an index (died). */
        (void)apply_one(2, &s3);
        (void)apply_one(3, &s4);
        (void)apply_one(4, &s5);
        cr_assert(eq(i64, q("A0001", "readm:index"), 3));
        cr_assert(eq(i64, q("A0001", "readm:readmit"), 2));
        cr_assert(eq(i64, q("A0001", "admits"), 4));
        /* s2 becomes a planned admission (chemotherapy): it is neither a
         * readmission nor an acute admission, but still an index stay. */
        x2 = s2;
        x2.adjustment = CLM_ADJ_ADJUSTMENT;
        strcpy(x2.claim_version_id, "H2-2");
        x2.effective_date += 2;
        strcpy(x2.principal_dx, "Z51.11");
        (void)apply_one(5, &x2);
        cr_assert(eq(i64, q("A0001", "readm:index"), 3));
        cr_assert(eq(i64, q("A0001", "readm:readmit"), 1));
        cr_assert(eq(i64, q("A0001", "admits"), 3));
        /* Cancelling s5 removes the second readmission. */
        s5.adjustment = CLM_ADJ_CANCEL;
        strcpy(s5.claim_version_id, "H5-2");
        s5.effective_date += 2;
        (void)apply_one(6, &s5);
        cr_assert(eq(i64, q("A0001", "readm:readmit"), 0));
        cr_assert(eq(i64, q("A0001", "admits"), 2));
        /* The outcome figures move with the beneficiary. */
        assign(1, "A0002", CLM_ENR_AGED_NON_DUAL, 4095, 1950, 'F');
        cr_assert(eq(i64, q("A0001", "readm:index"), 0));
        cr_assert(eq(i64, q("A0002", "readm:index"), 3));
        cr_assert(eq(i64, q("A0002", "admits"), 2));
}

Test(apply, refuses_a_prefix_written_by_an_older_layout)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 1);
        int argc;
        const char **argv;
        const size_t *lens;
        struct clm_apply_result res;
        redisReply *r;

        (void)apply_one(0, &c);
        r = redisCommand(rc_, "GET p:layout");
        cr_assert(eq(str, r->str, (char *)"2"));
        freeReplyObject(r);
        /* Layout 1 had offsets and no mark. */
        r = redisCommand(rc_, "DEL p:layout");
        freeReplyObject(r);
        clm_batch_reset(b, "p:", "t/0", 1);
        (void)clm_batch_add_claim(b, &kh, 1, &c);
        clm_batch_argv(b, &argc, &argv, &lens);
        cr_assert(
                not(eq(int, clm_sink_apply(sink, 1, &argc, &argv, &lens, &res),
                       CLM_OK)));
        cr_assert(not(eq(ptr, strstr(clm_sink_errstr(sink), "older layout"),
                         NULL)),
                  "%s", clm_sink_errstr(sink));
        cr_assert(eq(i64, hget("p:offset", "t/0"), 1));
}

Test(apply, measure_definitions_are_fixed_per_prefix)
{
        static const char *const met[] = {"99213", "3046F", NULL};
        struct clm_claim c = coded_claim("C1", "E119", met);
        struct clm_claim plain = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 1);
        struct clm_measures *other = NULL;
        char path[300];
        char err[256] = "";
        FILE *f;
        int argc;
        const char **argv;
        const size_t *lens;
        struct clm_apply_result res;
        redisReply *r;

        quality_on();
        (void)apply_one(0, &c);
        r = redisCommand(rc_, "GET p:measures");
        cr_assert(eq(str, r->str, (char *)clm_measures_lua_table(ms)));
        freeReplyObject(r);

        /* A caller without definitions may still change attribution: the
         * stored ones re-evaluate the beneficiary. */
        clm_batch_set_measures(b, NULL);
        assign(0, "A0001", CLM_ENR_AGED_NON_DUAL, 4095, 1955, 'F');
        cr_assert(eq(i64, q("A0001", "001:num"), 1));

        /* ... but not count claims, nor bring other definitions. */
        clm_batch_reset(b, "p:", "t/0", 1);
        (void)clm_batch_add_claim(b, &kh, 1, &plain);
        clm_batch_argv(b, &argc, &argv, &lens);
        cr_assert(
                not(eq(int, clm_sink_apply(sink, 1, &argc, &argv, &lens, &res),
                       CLM_OK)));
        cr_assert(not(eq(ptr,
                         strstr(clm_sink_errstr(sink), "quality.measures_dir"),
                         NULL)),
                  "%s", clm_sink_errstr(sink));
        (void)snprintf(path, sizeof(path), "%s/other.conf", dir);
        f = fopen(path, "w");
        fputs("[measure 001]\nname = x\nyears = 2025-2025\ndirection = lower\n"
              "denominator.dx = E11*\n",
              f);
        fclose(f);
        cr_assert(eq(int,
                     clm_measures_load_file(path, &other, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
        clm_batch_set_measures(b, other);
        clm_batch_reset(b, "p:", "t/0", 1);
        (void)clm_batch_add_claim(b, &kh, 1, &plain);
        clm_batch_argv(b, &argc, &argv, &lens);
        cr_assert(
                not(eq(int, clm_sink_apply(sink, 1, &argc, &argv, &lens, &res),
                       CLM_OK)));
        cr_assert(not(eq(ptr, strstr(clm_sink_errstr(sink), "differ"), NULL)),
                  "%s", clm_sink_errstr(sink));
        clm_batch_set_measures(b, NULL);
        clm_measures_free(other);
        cr_assert(eq(i64, hget("p:offset", "t/0"), 1));
}

Test(apply, quality_cannot_be_turned_on_after_claims_were_counted)
{
        struct clm_claim c = make_claim("v1", CLM_ADJ_ORIGINAL, 0, 4, 1);
        int argc;
        const char **argv;
        const size_t *lens;
        struct clm_apply_result res;

        (void)apply_one(0, &c);
        quality_on();
        c = make_claim("w1", CLM_ADJ_ORIGINAL, 0, 4, 1);
        strcpy(c.billing_ccn, "999999");
        clm_batch_reset(b, "p:", "t/0", 1);
        (void)clm_batch_add_claim(b, &kh, 1, &c);
        clm_batch_argv(b, &argc, &argv, &lens);
        cr_assert(
                not(eq(int, clm_sink_apply(sink, 1, &argc, &argv, &lens, &res),
                       CLM_OK)));
        cr_assert(
                not(eq(ptr, strstr(clm_sink_errstr(sink), "turned on"), NULL)),
                "%s", clm_sink_errstr(sink));
}

/* ---- claimsd_pay ---- */

static redisReply *
pay(const char *aco, const char *id, const char *text, const char *amount)
{
        const char *argv[] = {"FCALL", "claimsd_pay", "0",       "p:",  aco, id,
                              text,    "monthly",     "2025-03", amount};
        redisReply *r = redisCommandArgv(rc_, 10, argv, NULL);

        cr_assert(not(eq(ptr, r, NULL)));
        cr_assert(eq(int, r->type, REDIS_REPLY_ARRAY), "%s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "");
        return r;
}

Test(apply, payment_records_are_written_once_and_never_rewritten)
{
        redisReply *r =
                pay("A0001", "A0001:AP:2025-03:monthly", "v1|x|1", "6400000");

        cr_assert(eq(i64, r->element[0]->integer, 1));
        freeReplyObject(r);
        r = pay("A0001", "A0001:AP:2025-03:monthly", "v1|x|1", "6400000");
        cr_assert(eq(i64, r->element[0]->integer, 0)); /* same record again */
        freeReplyObject(r);
        r = pay("A0001", "A0001:AP:2025-03:monthly", "v1|x|2", "1");
        cr_assert(eq(i64, r->element[0]->integer, -1)); /* refused */
        freeReplyObject(r);
        r = redisCommand(rc_, "HGET p:aco:A0001:payments "
                              "A0001:AP:2025-03:monthly");
        cr_assert(eq(str, r->str, (char *)"v1|x|1"));
        freeReplyObject(r);
        cr_assert(eq(i64, xlen("p:payments"), 1));
}

static char *
hget_str(const char *key, const char *field)
{
        redisReply *r = redisCommand(rc_, "HGET %s %s", key, field);
        char *s = NULL;

        cr_assert(not(eq(ptr, r, NULL)));
        if (r->type == REDIS_REPLY_STRING) {
                s = strdup(r->str);
        }
        freeReplyObject(r);
        return s;
}

static long long
sismember(const char *key, const char *member)
{
        redisReply *r = redisCommand(rc_, "SISMEMBER %s %s", key, member);
        long long v;

        cr_assert(not(eq(ptr, r, NULL)));
        v = r->integer;
        freeReplyObject(r);
        return v;
}

/*
 * A parameter set from the registry topic lands exactly where claimsctl
 * load-acos puts it (aco:<id>:params field year = canonical text, member
 * ACO:YEAR of payparams, member of acos), so the payment engine cannot
 * tell the sources apart; a later set for the same ACO-year wins.
 */
Test(apply, parameter_sets_are_stored_like_load_acos)
{
        static const char text[] = "[aco A0007 2025]\n"
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
        struct clm_payparams *sets = NULL;
        struct clm_payparams later;
        size_t n = 0;
        char err[256];
        char want[4096];
        char *got;
        struct clm_apply_result r;

        cr_assert(eq(int,
                     clm_payparams_load_buffer("t", text, sizeof(text) - 1,
                                               &sets, &n, err, sizeof(err)),
                     CLM_OK),
                  "%s", err);
        later = sets[0];
        later.benchmark[CLM_ENR_ESRD].v = 9600000;

        /* The first batch starts the chain; a fenced one writes nothing. */
        clm_batch_reset(b, "p:", "aco.registry/0", 0);
        cr_assert(eq(int, clm_batch_add_params(b, 0, &sets[0]), CLM_OK));
        r = apply_batch();
        cr_assert(r.applied);
        clm_batch_reset(b, "p:", "aco.registry/0", 5);
        cr_assert(eq(int, clm_batch_add_params(b, 5, &later), CLM_OK));
        r = apply_batch();
        cr_assert(not(r.applied));

        (void)clm_payparams_render(&sets[0], want, sizeof(want));
        got = hget_str("p:aco:A0007:params", "2025");
        cr_assert(not(eq(ptr, got, NULL)));
        cr_assert(eq(str, got, want));
        free(got);
        cr_assert(eq(i64, sismember("p:payparams", "A0007:2025"), 1));
        cr_assert(eq(i64, sismember("p:acos", "A0007"), 1));
        cr_assert(eq(i64, hget("p:stats", "parameters"), 1));
        cr_assert(eq(i64, hget("p:offset", "aco.registry/0"), 1));

        /* The latest record per ACO-year wins, within a batch too. */
        clm_batch_reset(b, "p:", "aco.registry/0", 1);
        cr_assert(eq(int, clm_batch_add_params(b, 1, &sets[0]), CLM_OK));
        cr_assert(eq(int, clm_batch_add_dead(b, 2, CLM_REASON_BAD_PARAMETERS),
                     CLM_OK));
        cr_assert(eq(int, clm_batch_add_params(b, 3, &later), CLM_OK));
        r = apply_batch();
        cr_assert(r.applied);
        cr_assert(eq(i64, r.dead_letter, 1));
        (void)clm_payparams_render(&later, want, sizeof(want));
        got = hget_str("p:aco:A0007:params", "2025");
        cr_assert(eq(str, got, want));
        free(got);
        cr_assert(eq(i64, hget("p:stats", "parameters"), 3));
        cr_assert(eq(i64, hget("p:dlq:count", "bad_parameters"), 1));
        clm_payparams_free(sets);
}

/* The one claim state of these tests, as stored. */
static char *
claim_state(void)
{
        redisReply *k = redisCommand(rc_, "KEYS p:claim:*");
        redisReply *v;
        char *out;

        cr_assert(eq(int, k->type, REDIS_REPLY_ARRAY));
        cr_assert(eq(sz, k->elements, 1));
        v = redisCommand(rc_, "GET %s", k->element[0]->str);
        cr_assert(eq(int, v->type, REDIS_REPLY_STRING));
        out = strdup(v->str);
        freeReplyObject(v);
        freeReplyObject(k);
        return out;
}

Test(apply, claim_state_keeps_the_last_applied_versions_and_offsets)
{
        struct clm_claim o = make_claim("v0", CLM_ADJ_ORIGINAL, 0, 4, 1000);
        char vh[CLM_KEYHASH_HEX];
        char want[64];
        char *st;
        const char *h;

        attribute("A0001", "A0001:N:4095:0");
        (void)apply_one(0, &o);
        st = claim_state();
        h = strrchr(st, '|') + 1;
        clm_keyhash_hex(&kh, "version", "v0", 2, vh);
        (void)snprintf(want, sizeof(want), "t/0/0,%.8s,O", vh);
        cr_assert(eq(str, (char *)h, want));
        free(st);
        /* A duplicate delivery is not applied, so it is not in the history. */
        (void)apply_one(1, &o);
        for (int i = 1; i <= 9; i++) {
                char id[8];
                struct clm_claim a;

                (void)snprintf(id, sizeof(id), "v%d", i);
                a = make_claim(id, CLM_ADJ_ADJUSTMENT, i, 5, 1000 + i);
                (void)apply_one(1 + i, &a);
        }
        st = claim_state();
        h = strrchr(st, '|') + 1;
        /* Ten versions applied: the last eight, oldest first. */
        clm_keyhash_hex(&kh, "version", "v2", 2, vh);
        (void)snprintf(want, sizeof(want), "t/0/3,%.8s,A;", vh);
        cr_assert(eq(int, strncmp(h, want, strlen(want)), 0), "%s", h);
        clm_keyhash_hex(&kh, "version", "v9", 2, vh);
        (void)snprintf(want, sizeof(want), ";t/0/10,%.8s,A", vh);
        cr_assert(eq(str, (char *)h + strlen(h) - strlen(want), want), "%s", h);
        {
                int n = 1;

                for (const char *p = h; *p; p++) {
                        n += *p == ';';
                }
                cr_assert(eq(int, n, 8));
        }
        free(st);
}
