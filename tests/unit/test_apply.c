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

static void
teardown(void)
{
        clm_batch_free(b);
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
