/*
 * Per-partition batching between the librdkafka consumer and the Redis
 * function (design.md §2.1). Owns the consumer handle, the dead-letter
 * producer, the decoders and the sink. Single-threaded: librdkafka's
 * callbacks (rebalance, error, log) are served from clm_pipeline_tick.
 *
 * Safety rests on one rule: a batch carries the position it starts at, and
 * Redis applies it only if that equals the stored next offset. Every local
 * position is therefore a hint; whenever it may be wrong (a fence rejection,
 * a Redis reconnect, an assignment) the partition is re-seeked to what Redis
 * holds. Kafka commits mirror Redis for lag tooling only.
 */
#include "consumers/pipeline.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clm_version.h"
#include "consumers/batch.h"
#include "consumers/deadletter.h"
#include "consumers/decode.h"
#include "consumers/keyhash.h"
#include "consumers/monitor.h"
#include "consumers/payengine.h"
#include "consumers/payparams.h"
#include "consumers/redis_sink.h"
#include "consumers/redisconn.h"
#include "consumers/replay.h"
#include "daemon/log.h"
#include "daemon/rc.h"
#include "schemas/registry.h"

#define MAX_PARTS      1024
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define HEARTBEAT_MS   CLM_MONITOR_INTERVAL_MS /* monitoring keys */
#define PAY_MS         1000                    /* payment engine passes */
#define PAY_META_MS    300000 /* claims partition count refresh */

struct part {
        char topic[128];
        int32_t partition;
        char tp[160];
        bool claims;   /* claim topic */
        bool registry; /* ACO parameter topic (neither: attribution) */
        int64_t pos;   /* expected start of the next batch; -1 unknown */
        int64_t end;   /* replay: the manifest's end offset; -1 live */
        bool at_end;   /* replay: consumed up to end (seen or EOF) */
        struct clm_batch *batch;
        int64_t batch_started_ms;
        struct clm_dead *dead; /* dead letters of the current batch */
        size_t n_dead;
        size_t cap_dead;
};

/* A batch sent to Redis whose reply has not been read yet. */
struct flight {
        struct part *pt;
        int64_t from;
        size_t count;
        int64_t started_ms; /* its first message was polled */
};

struct clm_pipeline {
        const struct clm_config *cfg;
        rd_kafka_t *rk;
        struct clm_deadletter *dlq;
        struct clm_decoder *dec_claims;
        struct clm_decoder *dec_attr;
        struct clm_decoder *dec_params;
        struct clm_payparams *pp; /* scratch for one parameter record */
        struct clm_sink *sink;
        struct clm_monitor *mon;
        struct clm_payengine *pay;
        int64_t pay_ms;            /* last payment engine pass */
        int64_t pay_meta_ms;       /* last partition count lookup */
        int32_t claims_partitions; /* of topics.claims; 0 = unknown */
        struct clm_keyhash kh;
        struct clm_record *rec;
        struct part *parts[MAX_PARTS];
        size_t n_parts;
        struct flight inflight[MAX_PARTS]; /* at most one round */
        size_t n_inflight;
        uint64_t rounds;      /* rounds sent */
        int64_t heartbeat_ms; /* last instance hash write */
        uint64_t stall_round; /* test hook, 0 = off */
        enum clm_pipeline_state state;
        int64_t now_ms;
        int64_t retry_at_ms;
        int backoff_ms;
        int batch_size;
        int linger_ms;
        bool fatal;
        char status[160];
        struct clm_pipeline_stats stats;
        uint64_t rng;
        struct clm_replay *replay; /* NULL: live */
};

static void set_status(struct clm_pipeline *p,
                       enum clm_pipeline_state st,
                       const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));

static void
set_status(struct clm_pipeline *p,
           enum clm_pipeline_state st,
           const char *fmt,
           ...)
{
        va_list ap;

        p->state = st;
        va_start(ap, fmt);
        (void)vsnprintf(p->status, sizeof(p->status), fmt, ap);
        va_end(ap);
}

static struct part *
find_part(struct clm_pipeline *p, const char *topic, int32_t partition)
{
        for (size_t i = 0; i < p->n_parts; i++) {
                struct part *pt = p->parts[i];

                if (pt->partition == partition &&
                    strcmp(pt->topic, topic) == 0) {
                        return pt;
                }
        }
        return NULL;
}

static void
part_free(struct part *pt)
{
        if (pt == NULL) {
                return;
        }
        clm_batch_free(pt->batch);
        free(pt->dead);
        free(pt);
}

static void
part_reset_batch(struct clm_pipeline *p, struct part *pt)
{
        clm_batch_reset(pt->batch, p->cfg->redis_prefix, pt->tp, pt->pos);
        pt->n_dead = 0;
        pt->batch_started_ms = 0;
}

static struct part *
part_new(struct clm_pipeline *p,
         const char *topic,
         int32_t partition,
         int64_t pos)
{
        struct part *pt = calloc(1, sizeof(*pt));

        if (pt == NULL) {
                return NULL;
        }
        pt->batch = clm_batch_new();
        if (pt->batch == NULL) {
                free(pt);
                return NULL;
        }
        clm_batch_set_measures(pt->batch, p->cfg->measures);
        (void)snprintf(pt->topic, sizeof(pt->topic), "%s", topic);
        pt->partition = partition;
        (void)snprintf(pt->tp, sizeof(pt->tp), "%s/%" PRId32, topic, partition);
        pt->claims = strcmp(topic, p->cfg->topic_claims) == 0;
        pt->registry =
                !pt->claims && strcmp(topic, p->cfg->topic_registry) == 0;
        pt->pos = pos;
        pt->end = p->replay != NULL ? clm_replay_end(p->replay, pt->tp) : -1;
        part_reset_batch(p, pt);
        return pt;
}

/* ---- Redis availability ------------------------------------------------ */

static int
next_backoff(struct clm_pipeline *p)
{
        /* Exponential with full jitter in [b/2, b], xorshift for the jitter
         * (not security sensitive; wall clock never feeds money). */
        int b = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
        int jitter;

        if (b > BACKOFF_MAX_MS) {
                b = BACKOFF_MAX_MS;
        }
        p->backoff_ms = b;
        p->rng ^= p->rng << 13;
        p->rng ^= p->rng >> 7;
        p->rng ^= p->rng << 17;
        jitter = (int)(p->rng % (uint64_t)(b / 2 + 1));
        return b / 2 + jitter;
}

static rd_kafka_topic_partition_list_t *
assigned_list(struct clm_pipeline *p)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new((int)p->n_parts);

        for (size_t i = 0; i < p->n_parts; i++) {
                rd_kafka_topic_partition_list_add(l, p->parts[i]->topic,
                                                  p->parts[i]->partition);
        }
        return l;
}

/*
 * A dependency (@p what: Redis or the dead-letter topic) failed with an
 * unknown outcome: drop every batch in hand (they will be fetched again),
 * pause all partitions so memory stays bounded while we keep polling (no
 * max.poll.interval eviction), and schedule a reconnect and resync.
 */
static void
enter_paused(struct clm_pipeline *p, const char *what, const char *why)
{
        rd_kafka_topic_partition_list_t *l;
        int wait_ms = next_backoff(p);

        p->stats.pauses++;
        clm_monitor_error(p->mon, p->now_ms, what, why);
        if (p->state != CLM_PIPE_REDIS_DOWN) {
                clm_log(CLM_LOG_WARNING, "%s; pausing %zu partitions", why,
                        p->n_parts);
        }
        p->n_inflight = 0; /* their outcome is unknown: resync decides */
        for (size_t i = 0; i < p->n_parts; i++) {
                part_reset_batch(p, p->parts[i]);
        }
        l = assigned_list(p);
        if (l->cnt > 0) {
                (void)rd_kafka_pause_partitions(p->rk, l);
        }
        rd_kafka_topic_partition_list_destroy(l);
        p->retry_at_ms = p->now_ms + wait_ms;
        set_status(p, CLM_PIPE_REDIS_DOWN, "%s unavailable, retrying in %ds",
                   what, (wait_ms + 999) / 1000);
}

static void
enter_redis_down(struct clm_pipeline *p)
{
        char why[300];

        (void)snprintf(why, sizeof(why), "redis unavailable (%s)",
                       clm_sink_errstr(p->sink));
        enter_paused(p, "redis", why);
}

/*
 * Re-read the stored offsets of every assigned partition and seek there.
 * Mandatory after any reconnect: Redis may have come back behind (AOF
 * everysec) or ahead (another instance applied meanwhile).
 */
static int
resync(struct clm_pipeline *p)
{
        const char *fields[MAX_PARTS];
        int64_t offs[MAX_PARTS];
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_error_t *err;
        int rc;

        if (p->n_parts == 0) {
                return CLM_OK;
        }
        for (size_t i = 0; i < p->n_parts; i++) {
                fields[i] = p->parts[i]->tp;
        }
        rc = clm_sink_read_offsets(p->sink, p->cfg->redis_prefix, p->n_parts,
                                   fields, offs);
        if (rc != CLM_OK) {
                return rc;
        }
        l = rd_kafka_topic_partition_list_new((int)p->n_parts);
        for (size_t i = 0; i < p->n_parts; i++) {
                struct part *pt = p->parts[i];
                rd_kafka_topic_partition_t *e =
                        rd_kafka_topic_partition_list_add(l, pt->topic,
                                                          pt->partition);

                pt->pos = offs[i];
                pt->at_end = false; /* seeked back: consume up to end again */
                e->offset = offs[i] >= 0 ? offs[i] : RD_KAFKA_OFFSET_BEGINNING;
                part_reset_batch(p, pt);
        }
        err = rd_kafka_seek_partitions(p->rk, l, 10000);
        if (err != NULL) {
                clm_log(CLM_LOG_WARNING, "seek after resync failed: %s",
                        rd_kafka_error_string(err));
                rd_kafka_error_destroy(err);
        }
        (void)rd_kafka_resume_partitions(p->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        return CLM_OK;
}

static void
try_reconnect(struct clm_pipeline *p)
{
        if (p->now_ms < p->retry_at_ms) {
                return;
        }
        if (clm_sink_connect(p->sink) != CLM_OK || resync(p) != CLM_OK) {
                enter_redis_down(p);
                return;
        }
        clm_log(CLM_LOG_NOTICE, "resumed %zu partitions from redis offsets",
                p->n_parts);
        /* The back-off is reset by the first applied batch, not here: a
         * Redis that connects but refuses the calls (NOPERM, OOM) must not
         * be retried every 250 ms. */
        set_status(p, CLM_PIPE_RUNNING, "running");
}

/* ---- rebalance --------------------------------------------------------- */

static int flush_parts(struct clm_pipeline *p, struct part **parts, size_t n);
static int collect(struct clm_pipeline *p);

static void
on_assign(struct clm_pipeline *p,
          rd_kafka_t *rk,
          rd_kafka_topic_partition_list_t *l,
          bool incremental)
{
        const char *fields[MAX_PARTS];
        int64_t offs[MAX_PARTS];
        struct part *fresh[MAX_PARTS];
        int n = l->cnt < MAX_PARTS ? l->cnt : MAX_PARTS;
        bool known = false;
        rd_kafka_error_t *err = NULL;

        for (int i = 0; i < n; i++) {
                fresh[i] = part_new(p, l->elems[i].topic, l->elems[i].partition,
                                    -1);
                fields[i] = fresh[i] != NULL ? fresh[i]->tp : "";
                offs[i] = -1;
        }
        if (p->state != CLM_PIPE_REDIS_DOWN &&
            clm_sink_read_offsets(p->sink, p->cfg->redis_prefix, (size_t)n,
                                  fields, offs) == CLM_OK) {
                known = true;
        }
        for (int i = 0; i < n; i++) {
                /* Always an absolute offset or BEGINNING: never Kafka's
                 * committed offset, never auto.offset.reset (design §2.1).
                 * Unknown offsets are safe: the fence corrects them. */
                l->elems[i].offset =
                        offs[i] >= 0 ? offs[i] : RD_KAFKA_OFFSET_BEGINNING;
                if (fresh[i] != NULL && p->n_parts < MAX_PARTS) {
                        fresh[i]->pos = offs[i];
                        part_reset_batch(p, fresh[i]);
                        p->parts[p->n_parts++] = fresh[i];
                } else {
                        part_free(fresh[i]);
                }
        }
        if (incremental) {
                err = rd_kafka_incremental_assign(rk, l);
        } else {
                rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);

                if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        clm_log(CLM_LOG_ERR, "assign failed: %s",
                                rd_kafka_err2str(e));
                }
        }
        if (err != NULL) {
                clm_log(CLM_LOG_ERR, "incremental assign failed: %s",
                        rd_kafka_error_string(err));
                rd_kafka_error_destroy(err);
        }
        p->stats.assigned = p->n_parts;
        if (!known) {
                /* Redis is down: hold every partition until a reconnect
                 * re-reads the offsets (resync) and resumes them. */
                enter_redis_down(p);
        } else {
                /* librdkafka keeps a partition's pause across a revoke and
                 * a later assignment: one paused during an outage, handed
                 * to another member and given back, would never be fetched
                 * again (test_crash saw it stall). */
                (void)rd_kafka_resume_partitions(rk, l);
        }
        clm_log(CLM_LOG_NOTICE, "assigned %d partitions (%zu total)%s", n,
                p->n_parts, known ? "" : ", offsets pending redis");
}

static void
remove_part(struct clm_pipeline *p, const char *topic, int32_t partition)
{
        for (size_t i = 0; i < p->n_parts; i++) {
                struct part *pt = p->parts[i];

                if (pt->partition == partition &&
                    strcmp(pt->topic, topic) == 0) {
                        part_free(pt);
                        p->parts[i] = p->parts[--p->n_parts];
                        return;
                }
        }
}

static void
on_revoke(struct clm_pipeline *p,
          rd_kafka_t *rk,
          rd_kafka_topic_partition_list_t *l,
          bool incremental)
{
        struct part *mine[MAX_PARTS];
        size_t n = 0;

        /* A lost assignment means another member may own these partitions
         * already: abandon the work in hand instead of flushing it (the
         * fence would reject it anyway). */
        if (!rd_kafka_assignment_lost(rk) && p->state == CLM_PIPE_RUNNING) {
                for (int i = 0; i < l->cnt && n < MAX_PARTS; i++) {
                        struct part *pt = find_part(p, l->elems[i].topic,
                                                    l->elems[i].partition);

                        if (pt != NULL && clm_batch_count(pt->batch) > 0) {
                                mine[n++] = pt;
                        }
                }
                (void)flush_parts(p, mine, n);
        }
        /* The round in flight points at these partitions: settle it. */
        (void)collect(p);
        for (int i = 0; i < l->cnt; i++) {
                remove_part(p, l->elems[i].topic, l->elems[i].partition);
        }
        if (incremental) {
                rd_kafka_error_t *err = rd_kafka_incremental_unassign(rk, l);

                if (err != NULL) {
                        rd_kafka_error_destroy(err);
                }
        } else {
                (void)rd_kafka_assign(rk, NULL);
        }
        p->stats.assigned = p->n_parts;
        clm_log(CLM_LOG_NOTICE, "revoked %d partitions (%zu remain)", l->cnt,
                p->n_parts);
}

static void
on_rebalance(rd_kafka_t *rk,
             rd_kafka_resp_err_t err,
             rd_kafka_topic_partition_list_t *l,
             void *opaque)
{
        struct clm_pipeline *p = opaque;
        bool incremental =
                strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                on_assign(p, rk, l, incremental);
        } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                on_revoke(p, rk, l, incremental);
        } else {
                clm_log(CLM_LOG_ERR, "rebalance error: %s",
                        rd_kafka_err2str(err));
                (void)rd_kafka_assign(rk, NULL);
        }
}

static void
on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        struct clm_pipeline *p = opaque;

        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char buf[256];

                (void)rd_kafka_fatal_error(rk, buf, sizeof(buf));
                clm_log(CLM_LOG_ERR, "kafka fatal error: %s", buf);
                p->fatal = true;
                return;
        }
        clm_monitor_error(p->mon, p->now_ms, "kafka",
                          rd_kafka_err2name((rd_kafka_resp_err_t)err));
        clm_log(CLM_LOG_WARNING, "kafka: %s: %s",
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void
on_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk;
        clm_log(level <= 3   ? CLM_LOG_ERR
                : level == 4 ? CLM_LOG_WARNING
                             : CLM_LOG_DEBUG,
                "librdkafka %s: %s", fac, buf);
}

/* ---- batches ----------------------------------------------------------- */

/*
 * Version conflicts are only known once the function has compared a version
 * with the stored one, so their dead-letter records follow the call. The
 * Redis stream has them exactly; a crash right here can drop the Kafka copy
 * (documented in docs/redis-keys.md).
 */
static void
produce_conflicts(struct clm_pipeline *p,
                  const struct part *pt,
                  const struct clm_apply_result *r)
{
        for (size_t k = 0; k < r->n_conflicts; k++) {
                struct clm_dead d = {.offset = r->conflicts[k],
                                     .reason = CLM_REASON_VERSION_CONFLICT,
                                     .schema_id = -1};

                (void)snprintf(d.detail, sizeof(d.detail),
                               "same claim version with different content");
                clm_log_limited(CLM_LOG_WARNING, "version_conflict", p->now_ms,
                                "%s: offset %" PRId64
                                " dead-lettered: version_conflict",
                                pt->tp, d.offset);
                if (clm_deadletter_produce(p->dlq, pt->topic, pt->partition,
                                           &d) != CLM_OK) {
                        clm_log(CLM_LOG_WARNING,
                                "%s: version_conflict at %" PRId64
                                " not sent to the dead-letter topic",
                                pt->tp, d.offset);
                }
        }
        if (r->n_conflicts > 0) {
                (void)clm_deadletter_flush(p->dlq, 10000);
        }
}

/*
 * Read the replies of the round in flight and act on them: an applied batch
 * mirrors its offset to Kafka, a fenced one seeks its partition to what
 * Redis holds and drops what was built on top of it.
 */
static int
collect(struct clm_pipeline *p)
{
        struct clm_apply_result res[MAX_PARTS];
        rd_kafka_topic_partition_list_t *store;
        size_t n = p->n_inflight;
        int rc;

        if (n == 0) {
                return CLM_OK;
        }
        p->n_inflight = 0;
        rc = clm_sink_receive(p->sink, n, res);
        if (rc != CLM_OK) {
                enter_redis_down(p);
                return rc;
        }
        store = rd_kafka_topic_partition_list_new((int)n);
        for (size_t i = 0; i < n; i++) {
                struct part *pt = p->inflight[i].pt;

                p->stats.batches++;
                if (res[i].applied) {
                        p->backoff_ms = 0;
                        p->stats.messages += p->inflight[i].count;
                        p->stats.claims += (uint64_t)res[i].claims;
                        p->stats.duplicate += (uint64_t)res[i].duplicate;
                        p->stats.stale += (uint64_t)res[i].stale;
                        p->stats.dead_letter += (uint64_t)res[i].dead_letter;
                        p->stats.unattributed += (uint64_t)res[i].unattributed;
                        clm_monitor_batch(p->mon, p->now_ms,
                                          p->now_ms -
                                                  p->inflight[i].started_ms);
                        rd_kafka_topic_partition_list_add(store, pt->topic,
                                                          pt->partition)
                                ->offset = res[i].offset;
                        produce_conflicts(p, pt, &res[i]);
                } else {
                        rd_kafka_topic_partition_list_t *seek =
                                rd_kafka_topic_partition_list_new(1);
                        rd_kafka_error_t *err;

                        p->stats.fenced++;
                        clm_log(CLM_LOG_NOTICE,
                                "%s: fence rejected batch at %" PRId64
                                ", redis holds %" PRId64 "; seeking",
                                pt->tp, p->inflight[i].from, res[i].offset);
                        pt->pos = res[i].offset;
                        pt->at_end = false;
                        rd_kafka_topic_partition_list_add(seek, pt->topic,
                                                          pt->partition)
                                ->offset = pt->pos;
                        err = rd_kafka_seek_partitions(p->rk, seek, 10000);
                        if (err != NULL) {
                                rd_kafka_error_destroy(err);
                        }
                        rd_kafka_topic_partition_list_destroy(seek);
                        part_reset_batch(p, pt);
                }
        }
        if (store->cnt > 0 && p->replay == NULL) {
                /* Mirror for lag tooling; Redis stays the offset of record.
                 * A replay commits nothing anywhere but its namespace. */
                (void)rd_kafka_offsets_store(p->rk, store);
        }
        rd_kafka_topic_partition_list_destroy(store);
        return CLM_OK;
}

/*
 * Apply the batches of @p parts: first collect the round in flight, then
 * send these as the next round without waiting, so Redis executes them
 * while we decode the next messages. Each partition's next batch starts
 * where the sent one ends; if Redis rejects the sent one, collect() seeks
 * back and the fence rejects anything built on it. Dead letters go to the
 * dead-letter topic first (at least once, keyed for dedupe), so an offset
 * never advances past a bad message whose record is not out.
 */
static int
flush_parts(struct clm_pipeline *p, struct part **parts, size_t n)
{
        int argc[MAX_PARTS];
        const char **argv[MAX_PARTS];
        const size_t *argvlen[MAX_PARTS];
        struct part *send[MAX_PARTS];
        size_t ns = 0;
        bool any_dead = false;
        int rc = collect(p);

        if (rc != CLM_OK) {
                return rc;
        }
        for (size_t i = 0; i < n; i++) {
                /* collect() may have emptied a fenced partition's batch. */
                if (clm_batch_count(parts[i]->batch) > 0) {
                        send[ns++] = parts[i];
                }
        }
        if (ns == 0) {
                return CLM_OK;
        }
        for (size_t i = 0; i < ns; i++) {
                struct part *pt = send[i];

                for (size_t k = 0; k < pt->n_dead; k++) {
                        if (clm_deadletter_produce(p->dlq, pt->topic,
                                                   pt->partition,
                                                   &pt->dead[k]) != CLM_OK) {
                                enter_paused(p, "dead-letter topic",
                                             "dead-letter produce failed");
                                return CLM_ERR_RETRY;
                        }
                        any_dead = true;
                }
        }
        if (any_dead && clm_deadletter_flush(p->dlq, 10000) != CLM_OK) {
                enter_paused(p, "dead-letter topic",
                             "dead-letter topic not acknowledged");
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i < ns; i++) {
                clm_batch_argv(send[i]->batch, &argc[i], &argv[i], &argvlen[i]);
                if (argc[i] == 0) {
                        return CLM_ERR_NOMEM;
                }
        }
        p->rounds++;
        if (p->stall_round > 0 && p->rounds == p->stall_round) {
                /* Test hook (CLM_TEST_STOP_BEFORE_ROUND=N): freeze with
                 * round N built but not sent, so a test can make this
                 * process a zombie whose batch arrives after another
                 * member took over (tests/integration/test_zombie.sh). */
                (void)raise(SIGSTOP);
        }
        rc = clm_sink_send(p->sink, ns, argc, argv, argvlen);
        if (rc != CLM_OK) {
                enter_redis_down(p);
                return rc;
        }
        for (size_t i = 0; i < ns; i++) {
                struct part *pt = send[i];

                p->inflight[i].pt = pt;
                p->inflight[i].from = clm_batch_from(pt->batch);
                p->inflight[i].count = clm_batch_count(pt->batch);
                p->inflight[i].started_ms = pt->batch_started_ms;
                pt->pos = clm_batch_to(pt->batch);
                part_reset_batch(p, pt);
        }
        p->n_inflight = ns;
        return CLM_OK;
}

static int
add_dead(struct part *pt,
         int64_t offset,
         const struct clm_decode_error *e,
         size_t size)
{
        if (pt->n_dead == pt->cap_dead) {
                size_t cap = pt->cap_dead ? pt->cap_dead * 2 : 16;
                struct clm_dead *d = realloc(pt->dead, cap * sizeof(*d));

                if (d == NULL) {
                        return CLM_ERR_NOMEM;
                }
                pt->dead = d;
                pt->cap_dead = cap;
        }
        pt->dead[pt->n_dead].offset = offset;
        pt->dead[pt->n_dead].reason = e->reason;
        pt->dead[pt->n_dead].schema_id = e->schema_id;
        pt->dead[pt->n_dead].size = size;
        (void)snprintf(pt->dead[pt->n_dead].detail,
                       sizeof(pt->dead[pt->n_dead].detail), "%s", e->detail);
        pt->n_dead++;
        return CLM_OK;
}

/* Log (rate-limited) and dead-letter one message of the batch. */
static int
dead_letter(struct clm_pipeline *p,
            struct part *pt,
            const rd_kafka_message_t *m,
            const struct clm_decode_error *e)
{
        int rc;

        clm_log_limited(CLM_LOG_WARNING, clm_reason_str(e->reason), p->now_ms,
                        "%s: offset %" PRId64 " dead-lettered: %s (%s)", pt->tp,
                        m->offset, clm_reason_str(e->reason), e->detail);
        rc = add_dead(pt, m->offset, e, m->len);
        if (rc == CLM_OK) {
                rc = clm_batch_add_dead(pt->batch, m->offset, e->reason);
        }
        return rc;
}

/*
 * The detail of a bad_parameters dead letter from a clm_payparams_from_kv
 * error ("ACO/YEAR: key: reason"): the key name only when it is one of
 * ours, and a fixed word for the reason, so no value (nor anything else
 * from the record) reaches logs or the dead-letter topic.
 */
static void
params_detail(const char *why, char *out, size_t size)
{
        static const struct clm_payparams none;
        const char *k = strstr(why, ": ");
        const char *what = "invalid value";
        char key[CLM_PARAM_KEY_MAX] = "";

        if (k != NULL) {
                const char *e = strstr(k + 2, ": ");
                size_t n = e != NULL ? (size_t)(e - (k + 2)) : 0;

                if (n > 0 && n < sizeof(key)) {
                        memcpy(key, k + 2, n);
                        key[n] = '\0';
                }
                if (e != NULL && strncmp(e + 2, "missing", 7) == 0) {
                        what = "missing";
                } else if (e != NULL && strncmp(e + 2, "duplicate", 9) == 0) {
                        what = "duplicate key";
                } else if (e != NULL && strncmp(e + 2, "not used", 8) == 0) {
                        what = "not used by this program, track or model";
                }
        }
        if (key[0] != '\0' && clm_payparams_get(&none, key) != NULL) {
                (void)snprintf(out, size, "parameter set rejected: %s: %s", key,
                               what);
        } else if (strstr(why, "unknown key") != NULL) {
                (void)snprintf(out, size,
                               "parameter set rejected: an unknown key");
        } else {
                (void)snprintf(out, size, "parameter set rejected");
        }
}

/*
 * A decoded AcoParameters record: the same checks as a claimsctl load-acos
 * file section (clm_payparams_from_kv), and a Kafka key, when there is
 * one, equal to "ACO:YEAR" (the compaction key must name the set it
 * carries). A set that fails is dead-lettered as bad_parameters.
 */
static int
handle_params(struct clm_pipeline *p,
              struct part *pt,
              const rd_kafka_message_t *m)
{
        const struct clm_aco_params *pa = &p->rec->u.params;
        const char *keys[CLM_PARAM_MAX_FIGURES];
        const char *values[CLM_PARAM_MAX_FIGURES];
        bool verified[CLM_PARAM_MAX_FIGURES];
        struct clm_decode_error e = {.reason = CLM_REASON_BAD_PARAMETERS,
                                     .schema_id = -1};
        char why[512];
        char want[CLM_ACO_MAX + 16];

        for (size_t i = 0; i < pa->n_figures; i++) {
                keys[i] = pa->figures[i].key;
                values[i] = pa->figures[i].value;
                verified[i] = pa->figures[i].verified;
        }
        (void)snprintf(want, sizeof(want), "%s:%" PRId32, pa->aco_id,
                       pa->performance_year);
        if (m->key != NULL && (m->key_len != strlen(want) ||
                               memcmp(m->key, want, m->key_len) != 0)) {
                (void)snprintf(e.detail, sizeof(e.detail),
                               "Kafka key is not aco_id:performance_year");
        } else if (clm_payparams_from_kv(pa->aco_id, pa->performance_year, keys,
                                         values, verified, pa->n_figures, p->pp,
                                         why, sizeof(why)) == CLM_OK) {
                return clm_batch_add_params(pt->batch, m->offset, p->pp);
        } else {
                params_detail(why, e.detail, sizeof(e.detail));
        }
        return dead_letter(p, pt, m, &e);
}

/* Stop fetching a partition whose replay range is consumed. */
static void
replay_reached_end(struct clm_pipeline *p, struct part *pt)
{
        rd_kafka_topic_partition_list_t *l;

        if (pt->at_end) {
                return;
        }
        pt->at_end = true;
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition);
        (void)rd_kafka_pause_partitions(p->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        clm_log(CLM_LOG_INFO, "%s: replay range consumed (end %" PRId64 ")",
                pt->tp, pt->end);
}

/* Decode one message into its partition's batch. */
static int
handle_message(struct clm_pipeline *p,
               struct part *pt,
               const rd_kafka_message_t *m)
{
        struct clm_decode_error e;
        struct clm_decoder *dec = pt->claims     ? p->dec_claims
                                  : pt->registry ? p->dec_params
                                                 : p->dec_attr;

        if (pt->pos >= 0 && m->offset < pt->pos) {
                return CLM_OK; /* fetched before a seek; already applied */
        }
        if (pt->end >= 0 && m->offset >= pt->end) {
                replay_reached_end(p, pt);
                return CLM_OK; /* after the replay's range */
        }
        if (clm_batch_count(pt->batch) == 0) {
                pt->batch_started_ms = p->now_ms;
        }
        if (clm_decode(dec, m->payload, m->len, p->rec, &e) != CLM_OK) {
                return dead_letter(p, pt, m, &e);
        }
        switch (p->rec->kind) {
        case CLM_REC_CLAIM:
                return clm_batch_add_claim(pt->batch, &p->kh, m->offset,
                                           &p->rec->u.claim);
        case CLM_REC_MARKER:
                return clm_batch_add_marker(pt->batch, m->offset,
                                            &p->rec->u.marker);
        case CLM_REC_ATTRIBUTION:
                return clm_batch_add_attribution(pt->batch, &p->kh, m->offset,
                                                 &p->rec->u.attribution);
        case CLM_REC_PARAMETERS:
                return handle_params(p, pt, m);
        default:
                return clm_batch_add_skip(pt->batch, m->offset);
        }
}

static void
handle_consumer_error(struct clm_pipeline *p, const rd_kafka_message_t *m)
{
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* Only a replay asks for EOF events: the end of a range
                 * that ends in a compaction gap or on a transaction
                 * marker is never delivered as a message. */
                struct part *pt =
                        m->rkt != NULL
                                ? find_part(p, rd_kafka_topic_name(m->rkt),
                                            m->partition)
                                : NULL;

                if (pt != NULL && pt->end >= 0 && m->offset >= pt->end) {
                        replay_reached_end(p, pt);
                }
                return;
        }
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
            m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
                /* Retention passed our stored offset: claims would be lost
                 * silently if we jumped. A human decides. */
                clm_log(CLM_LOG_ERR,
                        "%s [%" PRId32 "]: stored offset out of range (%s); "
                        "halting",
                        m->rkt ? rd_kafka_topic_name(m->rkt) : "?",
                        m->partition, rd_kafka_message_errstr(m));
                p->fatal = true;
                return;
        }
        clm_log_limited(CLM_LOG_WARNING, "consumer", p->now_ms, "consumer: %s",
                        rd_kafka_message_errstr(m));
}

/* Flush batches that are full, or older than the linger (or all, if idle). */
static int
flush_due(struct clm_pipeline *p, bool idle)
{
        struct part *due[MAX_PARTS];
        size_t n = 0;

        for (size_t i = 0; i < p->n_parts; i++) {
                struct part *pt = p->parts[i];
                size_t c = clm_batch_count(pt->batch);

                if (c == 0) {
                        continue;
                }
                if (idle || c >= (size_t)p->batch_size ||
                    p->now_ms - pt->batch_started_ms >= p->linger_ms) {
                        due[n++] = pt;
                }
        }
        return flush_parts(p, due, n);
}

/*
 * The monitoring keys and the local status file (consumers/monitor.h,
 * docs/redis-keys.md). Written in every state, so a paused daemon still
 * reports "retrying" wherever it can. Settles the round in flight first,
 * since the heartbeat shares the connection.
 */
static void
heartbeat(struct clm_pipeline *p)
{
        struct clm_monitor_part mp[MAX_PARTS];
        struct clm_monitor_beat b = {.status = p->status,
                                     .stats = &p->stats,
                                     .parts = mp,
                                     .n_parts = p->n_parts};

        p->heartbeat_ms = p->now_ms;
        if (p->state != CLM_PIPE_REDIS_DOWN) {
                (void)collect(p); /* a failure pauses: published below */
        }
        for (size_t i = 0; i < p->n_parts; i++) {
                mp[i].topic = p->parts[i]->topic;
                mp[i].partition = p->parts[i]->partition;
                mp[i].tp = p->parts[i]->tp;
                mp[i].applied = p->parts[i]->pos;
        }
        b.state = p->state;
        if (clm_monitor_beat(p->mon, p->sink, p->rk, &b, p->now_ms) ==
                    CLM_ERR_RETRY &&
            p->state != CLM_PIPE_REDIS_DOWN) {
                enter_redis_down(p);
        }
}

/*
 * The partition count of topics.claims, from the broker's metadata: the
 * payment engine's watermark is the minimum over every partition, so a
 * partition never assigned here still holds it back.
 */
static void
claims_partitions(struct clm_pipeline *p)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt;

        p->pay_meta_ms = p->now_ms;
        if (p->replay != NULL) {
                /* A replay's watermark spans the partitions its manifest
                 * fixed, even if the topic has grown since. */
                size_t n = strlen(p->cfg->topic_claims);

                p->claims_partitions = 0;
                for (size_t i = 0; i < clm_replay_count(p->replay); i++) {
                        int64_t end;
                        const char *tp = clm_replay_tp(p->replay, i, &end);

                        if (strncmp(tp, p->cfg->topic_claims, n) == 0 &&
                            tp[n] == '/') {
                                p->claims_partitions++;
                        }
                }
                return;
        }
        rkt = rd_kafka_topic_new(p->rk, p->cfg->topic_claims, NULL);
        if (rkt == NULL) {
                return;
        }
        if (rd_kafka_metadata(p->rk, 0, rkt, &md, 2000) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topic_cnt == 1 && md->topics[0].err == 0) {
                p->claims_partitions = md->topics[0].partition_cnt;
        }
        if (md != NULL) {
                rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
}

/*
 * A payment engine pass (docs/payments.md): at most every PAY_MS of
 * monotonic time. What it issues depends on the event-time watermark
 * only; the clock just paces the passes.
 */
static void
payments(struct clm_pipeline *p)
{
        size_t issued = 0;

        p->pay_ms = p->now_ms;
        if (p->claims_partitions <= 0 ||
            p->now_ms - p->pay_meta_ms >= PAY_META_MS) {
                claims_partitions(p);
        }
        if (clm_payengine_run(p->pay, p->claims_partitions, &issued) !=
            CLM_OK) {
                clm_log_limited(CLM_LOG_WARNING, "payments", p->now_ms,
                                "payments: engine pass failed; retrying");
        }
        p->stats.payments += issued;
}

int
clm_pipeline_tick(struct clm_pipeline *p, int64_t now_ms, int poll_ms)
{
        int polled = 0;

        p->now_ms = now_ms;
        if (p->state == CLM_PIPE_REDIS_DOWN) {
                try_reconnect(p);
        }
        /* Drain what is ready, up to a batch's worth, before flushing. */
        while (polled < p->batch_size) {
                rd_kafka_message_t *m =
                        rd_kafka_consumer_poll(p->rk, polled ? 0 : poll_ms);
                struct part *pt;

                if (m == NULL) {
                        break;
                }
                polled++;
                if (m->err) {
                        handle_consumer_error(p, m);
                        rd_kafka_message_destroy(m);
                        continue;
                }
                pt = find_part(p, rd_kafka_topic_name(m->rkt), m->partition);
                if (pt != NULL && p->state != CLM_PIPE_REDIS_DOWN) {
                        int rc = handle_message(p, pt, m);

                        if (rc != CLM_OK) {
                                clm_log(CLM_LOG_ERR, "%s: out of memory",
                                        pt->tp);
                                p->fatal = true;
                        } else if (clm_batch_count(pt->batch) >=
                                   (size_t)p->batch_size) {
                                struct part *one[1] = {pt};

                                (void)flush_parts(p, one, 1);
                        }
                }
                rd_kafka_message_destroy(m);
                if (p->fatal) {
                        break;
                }
        }
        if (p->state != CLM_PIPE_REDIS_DOWN) {
                (void)flush_due(p, polled == 0);
                if (polled == 0) {
                        /* Idle: settle the round now rather than with the
                         * next batch, so offsets advance promptly. */
                        (void)collect(p);
                }
        }
        if (now_ms - p->heartbeat_ms >= HEARTBEAT_MS) {
                heartbeat(p);
        }
        if (p->state == CLM_PIPE_RUNNING && now_ms - p->pay_ms >= PAY_MS) {
                payments(p);
        }
        if (p->fatal) {
                set_status(p, CLM_PIPE_FAILED, "failed");
                return CLM_ERR_FATAL;
        }
        return CLM_OK;
}

bool
clm_pipeline_replay_done(const struct clm_pipeline *p)
{
        if (p->replay == NULL || p->state != CLM_PIPE_RUNNING ||
            p->n_inflight > 0) {
                return false;
        }
        for (size_t i = 0; i < clm_replay_count(p->replay); i++) {
                int64_t end;
                const char *tp = clm_replay_tp(p->replay, i, &end);
                const struct part *pt = NULL;

                for (size_t k = 0; k < p->n_parts && pt == NULL; k++) {
                        if (strcmp(p->parts[k]->tp, tp) == 0) {
                                pt = p->parts[k];
                        }
                }
                /* pos is confirmed: nothing is in flight. */
                if (pt == NULL || clm_batch_count(pt->batch) > 0 ||
                    !(end == 0 || pt->at_end || pt->pos >= end)) {
                        return false;
                }
        }
        return true;
}

int
clm_pipeline_replay_finish(struct clm_pipeline *p,
                           char *errstr,
                           size_t errstr_size)
{
        redisContext *c;
        size_t issued = 0;
        int rc;

        /* Everything in range is applied, so the watermark is final: one
         * more engine pass issues whatever it makes due. */
        claims_partitions(p);
        if (clm_payengine_run(p->pay, p->claims_partitions, &issued) !=
            CLM_OK) {
                clm_errf(errstr, errstr_size,
                         "final payment engine pass "
                         "failed");
                return CLM_ERR_RETRY;
        }
        p->stats.payments += issued;
        c = clm_redis_connect(p->cfg, p->cfg->redis_timeout_ms, errstr,
                              errstr_size);
        if (c == NULL) {
                return CLM_ERR_RETRY;
        }
        rc = clm_replay_mark_complete(c, p->cfg, clm_monitor_wall_ms(), errstr,
                                      errstr_size);
        redisFree(c);
        return rc == CLM_OK ? CLM_OK : CLM_ERR_RETRY;
}

void
clm_pipeline_drain(struct clm_pipeline *p)
{
        rd_kafka_resp_err_t err;

        set_status(p, CLM_PIPE_DRAINING, "draining");
        if (clm_sink_connected(p->sink)) {
                (void)flush_due(p, true);
                (void)collect(p);
        }
        err = rd_kafka_consumer_close(p->rk);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                clm_log(CLM_LOG_WARNING, "consumer close: %s",
                        rd_kafka_err2str(err));
        }
        clm_monitor_retire(p->mon, p->sink);
}

enum clm_pipeline_state
clm_pipeline_state(const struct clm_pipeline *p,
                   char *status,
                   size_t status_size)
{
        if (status != NULL && status_size > 0) {
                (void)snprintf(status, status_size, "%s", p->status);
        }
        return p->state;
}

void
clm_pipeline_stats(const struct clm_pipeline *p, struct clm_pipeline_stats *out)
{
        *out = p->stats;
}

void
clm_pipeline_reload(struct clm_pipeline *p, const struct clm_config *cfg)
{
        p->batch_size = cfg->batch_size;
        p->linger_ms = cfg->batch_linger_ms;
        (void)clm_monitor_config(p->mon, cfg->path);
}

/* ---- construction ------------------------------------------------------ */

static int
conf_set(rd_kafka_conf_t *conf,
         const char *k,
         const char *v,
         char *errstr,
         size_t errstr_size)
{
        char buf[256];

        if (rd_kafka_conf_set(conf, k, v, buf, sizeof(buf)) !=
            RD_KAFKA_CONF_OK) {
                clm_errf(errstr, errstr_size, "kafka.%s: %s", k, buf);
                return CLM_ERR_CONFIG;
        }
        return CLM_OK;
}

static rd_kafka_t *
make_consumer(struct clm_pipeline *p, char *errstr, size_t errstr_size)
{
        const struct clm_config *cfg = p->cfg;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        char buf[512];
        int rc = CLM_OK;

        /* Defaults first, so the operator's kafka.* lines override them. */
        rc |= conf_set(conf, "group.id", "claimsd", errstr, errstr_size);
        rc |= conf_set(conf, "partition.assignment.strategy", "range", errstr,
                       errstr_size);
        rc |= conf_set(conf, "check.crcs", "true", errstr, errstr_size);
        /* Prefetch is the one queue that grows while Redis is down; 16 MiB
         * per partition keeps memory bounded yet fetches in large chunks. */
        rc |= conf_set(conf, "queued.max.messages.kbytes", "16384", errstr,
                       errstr_size);
        for (size_t i = 0; i < cfg->n_kafka && rc == CLM_OK; i++) {
                if (p->replay != NULL &&
                    strcmp(cfg->kafka[i].key, "group.instance.id") == 0) {
                        continue; /* the live process's static identity */
                }
                rc |= conf_set(conf, cfg->kafka[i].key, cfg->kafka[i].value,
                               errstr, errstr_size);
        }
        if (p->replay != NULL) {
                /* Its own group, so the live group never sees it. */
                char group[sizeof(buf) + CLM_NAMESPACE_MAX + 16];
                size_t len = sizeof(buf);

                rc |= rd_kafka_conf_get(conf, "group.id", buf, &len) ==
                                      RD_KAFKA_CONF_OK
                              ? CLM_OK
                              : CLM_ERR_CONFIG;
                (void)snprintf(group, sizeof(group), "%s.replay.%s", buf,
                               cfg->namespace_name);
                rc |= conf_set(conf, "group.id", group, errstr, errstr_size);
        }
        /* Offset safety is not negotiable (config.c refuses overrides). */
        rc |= conf_set(conf, "enable.auto.offset.store", "false", errstr,
                       errstr_size);
        rc |= conf_set(conf, "enable.auto.commit",
                       p->replay != NULL ? "false" : "true", errstr,
                       errstr_size);
        rc |= conf_set(conf, "auto.offset.reset", "error", errstr, errstr_size);
        rc |= conf_set(conf, "enable.partition.eof",
                       p->replay != NULL ? "true" : "false", errstr,
                       errstr_size);
        rc |= conf_set(conf, "log.queue", "true", errstr, errstr_size);
        if (rc != CLM_OK) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_opaque(conf, p);
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_error_cb(conf, on_kafka_error);
        rd_kafka_conf_set_log_cb(conf, on_kafka_log);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, buf, sizeof(buf));
        if (rk == NULL) {
                clm_errf(errstr, errstr_size, "kafka consumer: %s", buf);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        conf = NULL; /* owned by rk */
        (void)rd_kafka_set_log_queue(rk, NULL);
        (void)rd_kafka_poll_set_consumer(rk);
        return rk;
}

static struct clm_decoder *
make_decoder(const struct clm_config *cfg,
             unsigned kinds,
             char *errstr,
             size_t errstr_size)
{
        struct clm_decoder_limits lim = {
                .max_message_bytes = (size_t)cfg->max_message_bytes,
                .max_items = (size_t)cfg->max_items,
                .max_claim_cents = cfg->max_claim_cents,
                .min_service_year = cfg->min_service_year,
                .max_service_year = cfg->max_service_year,
        };
        struct clm_decoder *dec =
                clm_decoder_new(cfg->framing, kinds, &lim, errstr, errstr_size);

        if (dec == NULL) {
                return NULL;
        }
        for (size_t i = 0; i < cfg->n_schemas; i++) {
                const struct clm_schema_ref *s = &cfg->schemas[i];
                size_t len = 0;
                char *text;
                int rc;

                if (cfg->framing == CLM_FRAMING_RAW) {
                        break;
                }
                text = clm_schema_load_ref(s->ref, cfg->schemas_dir, &len,
                                           errstr, errstr_size);
                if (text == NULL) {
                        clm_decoder_free(dec);
                        return NULL;
                }
                rc = clm_decoder_add_schema(dec, s->id, text, len, errstr,
                                            errstr_size);
                free(text);
                if (rc != CLM_OK) {
                        clm_decoder_free(dec);
                        return NULL;
                }
        }
        if (cfg->framing == CLM_FRAMING_RAW) {
                const char *name = (kinds & (1u << CLM_REC_ATTRIBUTION))
                                           ? "beneficiary_attribution"
                                   : (kinds & (1u << CLM_REC_PARAMETERS))
                                           ? "aco_parameters"
                                           : "claim_event";
                const char *text = clm_schema_text(name);

                if (clm_decoder_add_schema(dec, -1, text, strlen(text), errstr,
                                           errstr_size) != CLM_OK) {
                        clm_decoder_free(dec);
                        return NULL;
                }
        }
        return dec;
}

static int
subscribe(struct clm_pipeline *p, char *errstr, size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *topics =
                rd_kafka_topic_partition_list_new(3);
        rd_kafka_resp_err_t err;

        rd_kafka_topic_partition_list_add(topics, p->cfg->topic_claims,
                                          RD_KAFKA_PARTITION_UA);
        if (p->cfg->topic_attribution[0] != '\0') {
                rd_kafka_topic_partition_list_add(topics,
                                                  p->cfg->topic_attribution,
                                                  RD_KAFKA_PARTITION_UA);
        }
        /* Like the attribution topic, a registry topic that does not exist
         * yet only draws librdkafka's "unknown topic" consumer error. */
        rd_kafka_topic_partition_list_add(topics, p->cfg->topic_registry,
                                          RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(p->rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                clm_errf(errstr, errstr_size, "subscribe: %s",
                         rd_kafka_err2str(err));
                return CLM_ERR_KAFKA;
        }
        return CLM_OK;
}

/*
 * A replay reads its manifest (and needs Redis for that); live processing
 * refuses a prefix that holds one. A live start with Redis down skips the
 * check rather than fail: Redis outages are not fatal.
 */
static int
check_namespace(struct clm_pipeline *p, char *errstr, size_t errstr_size)
{
        char err[256];
        redisContext *c = clm_redis_connect(p->cfg, p->cfg->redis_timeout_ms,
                                            err, sizeof(err));
        int rc = CLM_OK;

        if (c == NULL) {
                if (p->cfg->namespace_name == NULL) {
                        return CLM_OK;
                }
                clm_errf(errstr, errstr_size, "replay needs redis: %s", err);
                return CLM_ERR_REDIS;
        }
        if (p->cfg->namespace_name == NULL) {
                rc = clm_replay_check_live(c, p->cfg, errstr, errstr_size);
                if (rc == CLM_ERR_REDIS) {
                        rc = CLM_OK; /* e.g. an ACL without HGET: the apply
                                      * path reports it */
                }
        } else {
                p->replay = clm_replay_load(c, p->cfg, errstr, errstr_size);
                rc = p->replay != NULL ? CLM_OK : CLM_ERR_INVALID;
        }
        redisFree(c);
        return rc;
}

struct clm_pipeline *
clm_pipeline_new(const struct clm_config *cfg, char *errstr, size_t errstr_size)
{
        struct clm_pipeline *p = calloc(1, sizeof(*p));
        struct clm_sink_conf sc = {
                .host = cfg->redis_host,
                .port = cfg->redis_port,
                .unix_socket = cfg->redis_unix_socket,
                .user = cfg->redis_user,
                .password = cfg->redis_password,
                .timeout_ms = cfg->redis_timeout_ms,
        };

        if (p == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p->cfg = cfg;
        p->batch_size = cfg->batch_size;
        p->linger_ms = cfg->batch_linger_ms;
        p->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        if (getenv("CLM_TEST_STOP_BEFORE_ROUND") != NULL) {
                p->stall_round = strtoull(getenv("CLM_TEST_STOP_BEFORE_ROUND"),
                                          NULL, 10);
        }
        clm_keyhash_init(&p->kh, cfg->hash_secret, cfg->hash_secret_len);
        p->mon = clm_monitor_new(cfg->redis_prefix,
                                 cfg->instance ? cfg->instance : "claimsd",
                                 getenv("RUNTIME_DIRECTORY"));
        if (p->mon == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        (void)clm_monitor_config(p->mon, cfg->path);
        p->rec = malloc(sizeof(*p->rec));
        p->dec_claims = make_decoder(
                cfg, (1u << CLM_REC_CLAIM) | (1u << CLM_REC_MARKER), errstr,
                errstr_size);
        if (p->rec == NULL || p->dec_claims == NULL) {
                goto fail;
        }
        p->dec_attr = make_decoder(cfg, 1u << CLM_REC_ATTRIBUTION, errstr,
                                   errstr_size);
        if (p->dec_attr == NULL) {
                goto fail;
        }
        p->dec_params = make_decoder(cfg, 1u << CLM_REC_PARAMETERS, errstr,
                                     errstr_size);
        p->pp = malloc(sizeof(*p->pp));
        p->sink = clm_sink_new(&sc);
        if (p->dec_params == NULL || p->pp == NULL || p->sink == NULL) {
                if (p->dec_params != NULL) {
                        clm_errf(errstr, errstr_size, "out of memory");
                }
                goto fail;
        }
        p->dlq = clm_deadletter_new(cfg, errstr, errstr_size);
        if (p->dlq == NULL) {
                goto fail;
        }
        p->pay = clm_payengine_new(cfg, errstr, errstr_size);
        if (p->pay == NULL) {
                goto fail;
        }
        if (check_namespace(p, errstr, errstr_size) != CLM_OK) {
                goto fail;
        }
        p->rk = make_consumer(p, errstr, errstr_size);
        if (p->rk == NULL) {
                goto fail;
        }
        if (clm_sink_connect(p->sink) != CLM_OK) {
                p->now_ms = 0;
                enter_redis_down(p);
        } else {
                set_status(p, CLM_PIPE_RUNNING, "running");
        }
        if (subscribe(p, errstr, errstr_size) != CLM_OK) {
                goto fail;
        }
        return p;
fail:
        clm_pipeline_free(p);
        return NULL;
}

void
clm_pipeline_free(struct clm_pipeline *p)
{
        if (p == NULL) {
                return;
        }
        if (p->rk != NULL) {
                rd_kafka_destroy(p->rk);
        }
        clm_deadletter_free(p->dlq);
        clm_payengine_free(p->pay);
        clm_replay_free(p->replay);
        for (size_t i = 0; i < p->n_parts; i++) {
                part_free(p->parts[i]);
        }
        clm_sink_free(p->sink);
        clm_monitor_free(p->mon);
        clm_decoder_free(p->dec_claims);
        clm_decoder_free(p->dec_attr);
        clm_decoder_free(p->dec_params);
        free(p->pp);
        free(p->rec);
        free(p);
}
