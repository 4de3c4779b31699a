/*
 * Per-instance monitoring without a broker or a Redis server: rates from
 * the sample ring, histogram buckets and percentiles, error classes, the
 * heartbeat's commands (keys, fields, per-partition lag, TTL), the local
 * status file written and read back, and the health rule claimsctl uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/keyhash.h"
#include "consumers/monitor.h"
#include "consumers/monitor_internal.h"
#include "daemon/rc.h"

#define STR_EQ(a, b) cr_assert(eq(str, (char *)(a), (char *)(b)))

static char dir[64];

static void
setup(void)
{
        (void)snprintf(dir, sizeof(dir), "/tmp/clm-test-monitor-XXXXXX");
        cr_assert(not(eq(ptr, mkdtemp(dir), NULL)));
}

static void
teardown(void)
{
        char cmd[128];

        (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)system(cmd);
}

TestSuite(monitor, .init = setup, .fini = teardown, .timeout = 10);

/* ---- rates ----------------------------------------------------------- */

Test(monitor, rate_needs_two_samples)
{
        struct clm_mon__ring r = {0};

        cr_assert(eq(dbl, clm_mon__ring_rate(&r, 60000, 0), 0.0));
        clm_mon__ring_add(&r, 1000, 50, 5);
        cr_assert(eq(dbl, clm_mon__ring_rate(&r, 60000, 0), 0.0));
}

Test(monitor, rate_over_one_and_five_minutes)
{
        struct clm_mon__ring r = {0};

        /* 10 minutes of 5 s samples: 100 msg/s for the first 7 minutes,
         * then 400 msg/s; 2 round trips/s throughout. */
        uint64_t m = 0;

        for (int64_t t = 0; t <= 600000; t += 5000) {
                clm_mon__ring_add(&r, t, m, (uint64_t)t / 500);
                m += t < 420000 ? 500 : 2000;
        }
        cr_assert(eq(dbl, clm_mon__ring_rate(&r, 60000, 0), 400.0));
        /* 3 of the last 5 minutes at 400/s, 2 at 100/s. */
        cr_assert(eq(dbl, clm_mon__ring_rate(&r, 300000, 0), 280.0));
        cr_assert(eq(dbl, clm_mon__ring_rate(&r, 60000, 1), 2.0));
        cr_assert(eq(sz, r.n, (size_t)CLM_MON__SAMPLES));
}

Test(monitor, rate_early_uses_the_oldest_sample)
{
        struct clm_mon__ring r = {0};

        clm_mon__ring_add(&r, 10000, 0, 0);
        clm_mon__ring_add(&r, 15000, 500, 0);
        clm_mon__ring_add(&r, 20000, 1000, 0);
        cr_assert(eq(dbl, clm_mon__ring_rate(&r, 60000, 0), 100.0));
}

Test(monitor, rate_zero_when_counter_goes_back_or_time_stands)
{
        struct clm_mon__ring r = {0};

        struct clm_mon__ring same = {0};

        clm_mon__ring_add(&r, 1000, 500, 0);
        clm_mon__ring_add(&r, 6000, 100, 0);
        cr_assert(eq(dbl, clm_mon__ring_rate(&r, 60000, 0), 0.0));
        clm_mon__ring_add(&same, 6000, 100, 0);
        clm_mon__ring_add(&same, 6000, 900, 0);
        cr_assert(eq(dbl, clm_mon__ring_rate(&same, 60000, 0), 0.0));
}

/* ---- histogram ---------------------------------------------------------- */

Test(monitor, buckets_are_exact_below_four_and_within_a_quarter_above)
{
        size_t prev = 0;

        for (int64_t v = 0; v < 4; v++) {
                cr_assert(eq(sz, clm_mon__bucket(v), (size_t)v));
                cr_assert(eq(i64, clm_mon__bucket_upper((size_t)v), v));
        }
        for (int64_t v = 1; v < 5000000; v += 1 + v / 7) {
                size_t b = clm_mon__bucket(v);
                int64_t up = clm_mon__bucket_upper(b);

                cr_assert(ge(sz, b, prev), "not monotone at %ld", (long)v);
                cr_assert(ge(i64, up, v));
                cr_assert(le(i64, up - v, v / 4 + 1), "v=%ld up=%ld", (long)v,
                          (long)up);
                if (b > 0) {
                        cr_assert(lt(i64, clm_mon__bucket_upper(b - 1), v));
                }
                prev = b;
        }
}

Test(monitor, bucket_clamps_negative_and_huge)
{
        cr_assert(eq(sz, clm_mon__bucket(-7), (size_t)0));
        cr_assert(lt(sz, clm_mon__bucket(INT64_MAX), (size_t)CLM_MON__BUCKETS));
        cr_assert(eq(sz, clm_mon__bucket(INT64_MAX),
                     clm_mon__bucket((int64_t)INT32_MAX)));
        cr_assert(eq(sz, clm_mon__bucket((int64_t)INT32_MAX),
                     (size_t)CLM_MON__BUCKETS - 1));
}

Test(monitor, percentiles_of_the_last_minute)
{
        static struct clm_mon__hist h;
        int64_t p50;
        int64_t p99;

        memset(&h, 0, sizeof(h));
        for (size_t i = 0; i < CLM_MON__SLOTS; i++) {
                h.epoch[i] = -1;
        }
        cr_assert(eq(i64, clm_mon__hist_quantile(&h, 100000, 0.5), -1));
        /* 1..100 ms spread over 50 s. */
        for (int64_t v = 1; v <= 100; v++) {
                clm_mon__hist_add(&h, 100000 + v * 500, v);
        }
        p50 = clm_mon__hist_quantile(&h, 150000, 0.50);
        p99 = clm_mon__hist_quantile(&h, 150000, 0.99);
        cr_assert(ge(i64, p50, 50));
        cr_assert(le(i64, p50, 63));
        cr_assert(ge(i64, p99, 99));
        cr_assert(le(i64, p99, 100)); /* capped by the maximum seen */
        cr_assert(eq(i64, clm_mon__hist_quantile(&h, 150000, 1.0), 100));
        /* A minute later only the last value remains, then none. */
        cr_assert(eq(i64, clm_mon__hist_quantile(&h, 209000, 1.0), 100));
        cr_assert(eq(i64, clm_mon__hist_quantile(&h, 209000, 0.01), 100));
        cr_assert(eq(i64, clm_mon__hist_quantile(&h, 300000, 0.5), -1));
}

Test(monitor, a_reused_slot_forgets_its_old_values)
{
        static struct clm_mon__hist h;

        memset(&h, 0, sizeof(h));
        clm_mon__hist_add(&h, 0, 5000);
        /* Same slot index 60 s later: the old value must not count. */
        clm_mon__hist_add(&h, 60000, 3);
        cr_assert(eq(i64, clm_mon__hist_quantile(&h, 60000, 1.0), 3));
        cr_assert(eq(i64, clm_mon__hist_quantile(&h, 60000, 0.5), 3));
}

/* ---- error classes ------------------------------------------------------- */

Test(monitor, error_class_keeps_only_the_code)
{
        static const struct {
                const char *what, *detail, *want;
        } cases[] = {
                {"redis", "redis unavailable (connect: Connection refused)",
                 "redis:unavailable"},
                {"redis",
                 "redis unavailable (FCALL: NOPERM this user has no "
                 "permissions to run the 'fcall' command)",
                 "redis:NOPERM"},
                {"redis", "HMGET offset: LOADING Redis is loading",
                 "redis:LOADING"},
                {"redis", "redis unavailable (FCALL: OOM)", "redis:OOM"},
                {"redis", "FCALL: unexpected reply type 4",
                 "redis:unavailable"},
                {"redis", "x: 123 digits are not a code", "redis:unavailable"},
                {"redis", "x: A single letter", "redis:unavailable"},
                {"dead-letter topic", "dead-letter produce failed",
                 "dead_letter_topic:unavailable"},
                {"kafka", "_TRANSPORT", "kafka:_TRANSPORT"},
                {"kafka", "_ALL_BROKERS_DOWN", "kafka:_ALL_BROKERS_DOWN"},
                {"kafka", "", "kafka:unavailable"},
        };

        char out[64];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                clm_mon__error_class(cases[i].what, cases[i].detail, out,
                                     sizeof(out));
                cr_assert(eq(str, out, (char *)cases[i].want), "case %zu", i);
        }
}

/* ---- the heartbeat's commands -------------------------------------------- */

static struct clm_pipeline_stats stats = {.messages = 1200,
                                          .claims = 1000,
                                          .duplicate = 7,
                                          .dead_letter = 3,
                                          .unattributed = 11,
                                          .batches = 12,
                                          .fenced = 1,
                                          .pauses = 2};

static const struct clm_monitor_part two_parts[] = {
        {"claims", 0, "claims/0", 10},
        {"claims", 1, "claims/1", -1},
};

/* Value of instance field @p name in the built commands, or NULL. */
static const char *
field_of(const struct clm_mon__cmds *c, const char *name)
{
        for (size_t i = 0; i < c->n_fields; i++) {
                size_t k = c->first_field + 2 * i;

                if (strcmp(c->args[k], name) == 0) {
                        return c->args[k + 1];
                }
        }
        return NULL;
}

static void
assert_cmd(const struct clm_mon__cmds *c,
           size_t i,
           int argc,
           const char *v0,
           const char *v1)
{
        cr_assert(eq(int, c->argc[i], argc), "command %zu", i);
        STR_EQ(c->argv[i][0], v0);
        STR_EQ(c->argv[i][1], v1);
        cr_assert(eq(sz, c->argvlen[i][1], strlen(v1)));
}

Test(monitor, heartbeat_writes_both_hashes_with_a_ttl)
{
        struct clm_monitor *mon = clm_monitor_new("P:", "host:42", NULL);
        struct clm_monitor_beat b = {.state = CLM_PIPE_RUNNING,
                                     .status = "running",
                                     .stats = &stats,
                                     .parts = two_parts,
                                     .n_parts = 2};
        const int64_t high[] = {15, 7};
        struct clm_mon__cmds c;

        cr_assert(not(eq(ptr, mon, NULL)));
        clm_monitor_batch(mon, 100000, 40);
        cr_assert(
                eq(int,
                   clm_mon__build(mon, &b, high, 99, 103000, 1700000000000, &c),
                   CLM_OK));
        cr_assert(eq(sz, c.n, (size_t)5));
        assert_cmd(&c, 0, 3, "EXPIRE", "P:instance_partitions:host:42");
        STR_EQ(c.argv[0][2], "0"); /* deletes: revoked partitions go */
        assert_cmd(&c, 1, 6, "HSET", "P:instance_partitions:host:42");
        STR_EQ(c.argv[1][2], "claims/0");
        STR_EQ(c.argv[1][3], "applied=10 high=15 lag=5");
        STR_EQ(c.argv[1][4], "claims/1");
        STR_EQ(c.argv[1][5], "applied=-1 high=7 lag=7");
        assert_cmd(&c, 2, 3, "EXPIRE", "P:instance_partitions:host:42");
        STR_EQ(c.argv[2][2], "30");
        assert_cmd(&c, 3, 2 + 2 * (int)c.n_fields, "HSET",
                   "P:instance:host:42");
        assert_cmd(&c, 4, 3, "EXPIRE", "P:instance:host:42");
        STR_EQ(field_of(&c, "state"), "running");
        STR_EQ(field_of(&c, "partitions"), "2");
        STR_EQ(field_of(&c, "assigned"), "claims/0,claims/1");
        STR_EQ(field_of(&c, "lag"), "12");
        STR_EQ(field_of(&c, "lag_max"), "7");
        STR_EQ(field_of(&c, "lag_unknown"), "0");
        STR_EQ(field_of(&c, "messages"), "1200");
        STR_EQ(field_of(&c, "claims"), "1000");
        STR_EQ(field_of(&c, "duplicate"), "7");
        STR_EQ(field_of(&c, "dead_letter"), "3");
        STR_EQ(field_of(&c, "unattributed"), "11");
        STR_EQ(field_of(&c, "fenced"), "1");
        STR_EQ(field_of(&c, "pauses"), "2");
        STR_EQ(field_of(&c, "round_trips"), "99");
        STR_EQ(field_of(&c, "heartbeat"), "1700000000000");
        STR_EQ(field_of(&c, "batch_ms_p50"), "40");
        STR_EQ(field_of(&c, "batch_ms_max"), "40");
        /* The batch was 3 s before the heartbeat. */
        STR_EQ(field_of(&c, "last_batch"), "1699999997000");
        STR_EQ(field_of(&c, "last_error"), "");
        STR_EQ(field_of(&c, "last_error_at"), "0");
        STR_EQ(field_of(&c, "config_sha256"), "");
        cr_assert(not(eq(ptr, (void *)field_of(&c, "version"), NULL)));
        cr_assert(not(eq(ptr, (void *)field_of(&c, "rate_1m"), NULL)));
        cr_assert(not(eq(ptr, (void *)field_of(&c, "rate_5m"), NULL)));
        cr_assert(not(eq(ptr, (void *)field_of(&c, "batch_ms_p99"), NULL)));
        clm_mon__cmds_free(&c);
        clm_monitor_free(mon);
}

Test(monitor, no_partitions_only_deletes_the_partitions_hash)
{
        struct clm_monitor *mon = clm_monitor_new("P:", "a", NULL);
        struct clm_monitor_beat b = {.state = CLM_PIPE_REDIS_DOWN,
                                     .status = "redis unavailable, retrying "
                                               "in 2s",
                                     .stats = &stats};
        struct clm_mon__cmds c;

        clm_monitor_error(mon, 5000, "redis",
                          "redis unavailable (FCALL: NOPERM no)");
        cr_assert(eq(int, clm_mon__build(mon, &b, NULL, 0, 8000, 1000000, &c),
                     CLM_OK));
        cr_assert(eq(sz, c.n, (size_t)3));
        assert_cmd(&c, 0, 3, "EXPIRE", "P:instance_partitions:a");
        assert_cmd(&c, 1, 2 + 2 * (int)c.n_fields, "HSET", "P:instance:a");
        STR_EQ(field_of(&c, "state"), "retrying");
        STR_EQ(field_of(&c, "status"), "redis unavailable, retrying in 2s");
        STR_EQ(field_of(&c, "assigned"), "");
        STR_EQ(field_of(&c, "lag"), "0");
        STR_EQ(field_of(&c, "batch_ms_p50"), "-1");
        STR_EQ(field_of(&c, "last_batch"), "0");
        STR_EQ(field_of(&c, "last_error"), "redis:NOPERM");
        STR_EQ(field_of(&c, "last_error_at"), "997000");
        clm_mon__cmds_free(&c);
        clm_monitor_free(mon);
}

Test(monitor, unknown_watermark_gives_unknown_lag)
{
        struct clm_monitor *mon = clm_monitor_new("P:", "a", NULL);
        struct clm_monitor_beat b = {.state = CLM_PIPE_STARTING,
                                     .status = "starting",
                                     .stats = &stats,
                                     .parts = two_parts,
                                     .n_parts = 2};
        const int64_t high[] = {-1, 5};
        struct clm_mon__cmds c;

        cr_assert(eq(int, clm_mon__build(mon, &b, high, 0, 1, 1, &c), CLM_OK));
        STR_EQ(c.argv[1][3], "applied=10 high=-1 lag=-1");
        STR_EQ(field_of(&c, "lag"), "5");
        STR_EQ(field_of(&c, "lag_max"), "5");
        STR_EQ(field_of(&c, "lag_unknown"), "1");
        STR_EQ(field_of(&c, "state"), "starting");
        clm_mon__cmds_free(&c);
        clm_monitor_free(mon);
}

Test(monitor, states_are_named)
{
        static const struct {
                enum clm_pipeline_state st;
                const char *name;
        } cases[] = {{CLM_PIPE_DRAINING, "draining"},
                     {CLM_PIPE_FAILED, "failed"}};
        struct clm_monitor *mon = clm_monitor_new("P:", "a", NULL);

        for (size_t i = 0; i < 2; i++) {
                struct clm_monitor_beat b = {
                        .state = cases[i].st, .status = "x", .stats = &stats};
                struct clm_mon__cmds c;

                cr_assert(eq(int, clm_mon__build(mon, &b, NULL, 0, 1, 1, &c),
                             CLM_OK));
                STR_EQ(field_of(&c, "state"), cases[i].name);
                clm_mon__cmds_free(&c);
        }
        clm_monitor_free(mon);
}

Test(monitor, config_digest_is_the_sha256_of_the_file)
{
        struct clm_monitor *mon = clm_monitor_new("P:", "a", NULL);
        struct clm_monitor_beat b = {.state = CLM_PIPE_RUNNING,
                                     .status = "running",
                                     .stats = &stats};
        struct clm_mon__cmds c;
        char path[128];
        FILE *f;

        (void)snprintf(path, sizeof(path), "%s/claimsd.conf", dir);
        f = fopen(path, "w");
        cr_assert(not(eq(ptr, f, NULL)));
        fputs("abc", f);
        fclose(f);
        cr_assert(eq(int, clm_monitor_config(mon, path), CLM_OK));
        cr_assert(eq(int, clm_mon__build(mon, &b, NULL, 0, 1, 1, &c), CLM_OK));
        /* FIPS 180-4 example: SHA-256("abc"). */
        STR_EQ(field_of(&c, "config_sha256"),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
               "ad");
        clm_mon__cmds_free(&c);
        /* A file that cannot be read leaves the digest empty. */
        cr_assert(eq(int, clm_monitor_config(mon, "/nonexistent/x.conf"),
                     CLM_ERR_IO));
        cr_assert(eq(int, clm_mon__build(mon, &b, NULL, 0, 1, 1, &c), CLM_OK));
        STR_EQ(field_of(&c, "config_sha256"), "");
        clm_mon__cmds_free(&c);
        cr_assert(eq(int, clm_monitor_config(mon, dir), CLM_ERR_IO));
        clm_monitor_free(mon);
}

/* ---- the local status file ----------------------------------------------- */

Test(monitor, status_file_round_trip)
{
        struct clm_monitor *mon = clm_monitor_new("P:", "host:7", dir);
        struct clm_monitor_beat b = {.state = CLM_PIPE_REDIS_DOWN,
                                     .status = "redis unavailable,\nretrying",
                                     .stats = &stats,
                                     .parts = two_parts,
                                     .n_parts = 2};
        const int64_t high[] = {15, 7};
        struct clm_monitor_local l;
        struct clm_mon__cmds c;
        char path[128];

        clm_monitor_error(mon, 10, "dead-letter topic", "not acknowledged");
        cr_assert(eq(int, clm_mon__build(mon, &b, high, 0, 20, 5000, &c),
                     CLM_OK));
        cr_assert(eq(int, clm_mon__write_local(dir, "host:7", &c), CLM_OK));
        clm_mon__cmds_free(&c);
        (void)snprintf(path, sizeof(path), "%s/status", dir);
        cr_assert(eq(int, clm_monitor_read_local(path, &l), CLM_OK));
        STR_EQ(l.instance, "host:7");
        STR_EQ(l.state, "retrying");
        STR_EQ(l.status, "redis unavailable, retrying");
        STR_EQ(l.last_error, "dead_letter_topic:unavailable");
        cr_assert(eq(i64, l.last_error_at, 4990));
        cr_assert(eq(i64, l.heartbeat_ms, 5000));
        cr_assert(eq(i64, l.partitions, 2));
        cr_assert(eq(i64, l.lag, 12));
        clm_monitor_free(mon);
}

Test(monitor, beat_without_redis_writes_the_status_file_and_retire_removes_it)
{
        struct clm_sink_conf sc = {.host = "127.0.0.1", .port = 1};
        struct clm_sink *sink = clm_sink_new(&sc);
        char rtdir[160];
        struct clm_monitor *mon;
        struct clm_monitor_beat b = {.state = CLM_PIPE_REDIS_DOWN,
                                     .status = "retrying",
                                     .stats = &stats,
                                     .parts = two_parts,
                                     .n_parts = 2};
        struct clm_monitor_local l;
        char path[128];

        /* systemd passes several RuntimeDirectory= entries ':'-separated. */
        (void)snprintf(rtdir, sizeof(rtdir), "%s:/elsewhere", dir);
        mon = clm_monitor_new("P:", "n", rtdir);
        cr_assert(not(eq(ptr, sink, NULL)));
        cr_assert(eq(int, clm_monitor_beat(mon, sink, NULL, &b, 1000), CLM_OK));
        (void)snprintf(path, sizeof(path), "%s/status", dir);
        cr_assert(eq(int, clm_monitor_read_local(path, &l), CLM_OK));
        STR_EQ(l.state, "retrying");
        cr_assert(eq(i64, l.lag, 0)); /* no consumer: watermarks unknown */
        clm_monitor_retire(mon, sink);
        cr_assert(eq(int, access(path, F_OK), -1));
        clm_monitor_free(mon);
        clm_sink_free(sink);
}

Test(monitor, status_file_errors)
{
        struct clm_monitor_local l;
        struct clm_mon__cmds c = {0};
        char path[128];
        FILE *f;

        cr_assert(eq(int, clm_monitor_read_local("/nonexistent/status", &l),
                     CLM_ERR_IO));
        (void)snprintf(path, sizeof(path), "%s/status", dir);
        f = fopen(path, "w");
        cr_assert(not(eq(ptr, f, NULL)));
        fputs("state=running\nno equals sign\nheartbeat=5\n", f);
        fclose(f);
        cr_assert(eq(int, clm_monitor_read_local(path, &l), CLM_ERR_INVALID));
        f = fopen(path, "w");
        fputs("instance=x\n", f);
        fclose(f);
        cr_assert(eq(int, clm_monitor_read_local(path, &l), CLM_ERR_INVALID));
        cr_assert(eq(int, clm_mon__write_local("/nonexistent", "x", &c),
                     CLM_ERR_IO));
}

Test(monitor, unwritable_runtime_dir_does_not_fail_the_beat)
{
        struct clm_sink_conf sc = {.host = "127.0.0.1", .port = 1};
        struct clm_sink *sink = clm_sink_new(&sc);
        struct clm_monitor *mon = clm_monitor_new("P:", "n", "/nonexistent");
        struct clm_monitor_beat b = {.state = CLM_PIPE_RUNNING,
                                     .status = "running",
                                     .stats = &stats};

        cr_assert(eq(int, clm_monitor_beat(mon, sink, NULL, &b, 1000), CLM_OK));
        clm_monitor_retire(mon, sink);
        clm_monitor_free(mon);
        clm_sink_free(sink);
}

/* ---- health ---------------------------------------------------------- */

static const struct clm_health_limits lim = {.max_lag = 10000,
                                             .stale_ms = 15000};

static int
health(bool redis_ok,
       const struct clm_health_instance *inst,
       size_t n,
       const struct clm_health_instance *local,
       char *reason)
{
        return clm_health_eval(redis_ok, "Connection refused", inst, n, local,
                               &lim, reason, 512);
}

static const struct clm_health_instance running = {.name = "a",
                                                   .state = "running",
                                                   .status = "running",
                                                   .age_ms = 2000,
                                                   .partitions = 2,
                                                   .lag = 5};

Test(monitor, health_down_when_redis_unreachable_and_no_local_daemon)
{
        struct clm_health_instance stale = running;
        char reason[512];

        cr_assert(eq(int, health(false, NULL, 0, NULL, reason), CLM_DOWN));
        STR_EQ(reason, "down: redis unreachable (Connection refused)");
        stale.age_ms = 16000;
        cr_assert(eq(int, health(false, NULL, 0, &stale, reason), CLM_DOWN));
}

Test(monitor, health_degraded_when_redis_unreachable_but_daemon_retries)
{
        struct clm_health_instance local = {
                .name = "a",
                .state = "retrying",
                .status = "redis unavailable, retrying in 4s",
                .age_ms = 1000,
                .partitions = 2};
        char reason[512];

        cr_assert(
                eq(int, health(false, NULL, 0, &local, reason), CLM_DEGRADED));
        STR_EQ(reason, "degraded: redis unreachable (Connection refused); a "
                       "retrying: redis unavailable, retrying in 4s");
}

Test(monitor, health_down_without_any_instance)
{
        char reason[512];

        cr_assert(eq(int, health(true, NULL, 0, NULL, reason), CLM_DOWN));
        STR_EQ(reason, "down: no live claimsd instance");
}

Test(monitor, health_healthy)
{
        struct clm_health_instance two[2] = {running, running};
        char reason[512];

        cr_assert(
                eq(int, health(true, &running, 1, NULL, reason), CLM_HEALTHY));
        STR_EQ(reason, "healthy: 1 instance running, 2 partitions, lag 5");
        two[1].name = "b";
        two[1].lag = 0;
        two[1].lag_unknown = 2; /* just started: no watermark yet */
        cr_assert(eq(int, health(true, two, 2, NULL, reason), CLM_HEALTHY));
        STR_EQ(reason, "healthy: 2 instances running, 4 partitions, lag 5 (2 "
                       "partitions not measured yet)");
}

Test(monitor, health_degraded_reasons)
{
        struct clm_health_instance v[3] = {running, running, running};
        char reason[512];

        v[0].lag = 9000;
        v[1].name = "b";
        v[1].lag = 1001;
        v[1].age_ms = 20500;
        v[2].name = "c";
        v[2].state = "retrying";
        v[2].status = "dead-letter topic unavailable, retrying in 1s";
        cr_assert(eq(int, health(true, v, 3, NULL, reason), CLM_DEGRADED));
        STR_EQ(reason, "degraded: b heartbeat 20s old; c retrying: dead-letter "
                       "topic unavailable, retrying in 1s; lag 10006 > 10000");
}

Test(monitor, health_prefers_the_fresher_local_view)
{
        struct clm_health_instance old = running;
        struct clm_health_instance local = {.name = "a",
                                            .state = "retrying",
                                            .status = "redis busy",
                                            .age_ms = 1000,
                                            .partitions = 2};
        struct clm_health_instance other = local;
        char reason[512];

        old.age_ms = 14000;
        cr_assert(eq(int, health(true, &old, 1, &local, reason), CLM_DEGRADED));
        STR_EQ(reason, "degraded: a retrying: redis busy");
        /* An older local view does not override Redis's. */
        local.age_ms = 15000;
        old.age_ms = 1000;
        cr_assert(eq(int, health(true, &old, 1, &local, reason), CLM_HEALTHY));
        /* A local daemon Redis does not show is judged too. */
        other.name = "z";
        cr_assert(eq(int, health(true, &running, 1, &other, reason),
                     CLM_DEGRADED));
        STR_EQ(reason, "degraded: z retrying: redis busy");
        cr_assert(eq(int, health(true, NULL, 0, &other, reason), CLM_DEGRADED));
}
