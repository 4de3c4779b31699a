#ifndef CLM_CONSUMERS_MONITOR_H
#define CLM_CONSUMERS_MONITOR_H

/*
 * Per-instance monitoring (docs/redis-keys.md, "Monitoring keys"). Each
 * claimsd process publishes, from the pipeline's heartbeat every
 * CLM_MONITOR_INTERVAL_MS, in one MULTI/EXEC:
 *
 *   P instance:<name>              hash, TTL CLM_MONITOR_TTL_S: state,
 *                                  version, config digest, rates, batch
 *                                  latency percentiles, totals, last error
 *   P instance_partitions:<name>   hash, same TTL: per assigned partition
 *                                  "applied=N high=N lag=N"
 *
 * and, when $RUNTIME_DIRECTORY is set (systemd's RuntimeDirectory=), the
 * same instance fields in the local file <dir>/status, written even while
 * Redis is unreachable so that `claimsctl health` on the host can tell
 * "daemon alive and retrying" from "daemon gone".
 *
 * The totals of record (P stats, P dlq:count, P offset) are kept by the
 * Redis function and are not repeated here. Only counts, offsets, topic
 * and instance names, times and error classes are written: never PHI.
 * The second half of this header is the health rule claimsctl applies.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "consumers/pipeline.h"
#include "consumers/redis_sink.h"

#define CLM_MONITOR_INTERVAL_MS 5000 /* heartbeat period */
#define CLM_MONITOR_TTL_S       30   /* monitoring keys expire after */
#define CLM_MONITOR_STATUS_FILE "status"

struct clm_monitor;

/* One assigned partition as the pipeline sees it at a heartbeat. */
struct clm_monitor_part {
        const char *topic;
        int32_t partition;
        const char *tp;  /* "topic/partition" */
        int64_t applied; /* next offset Redis holds; -1 unknown */
};

/* What the pipeline hands over at each heartbeat (everything borrowed). */
struct clm_monitor_beat {
        enum clm_pipeline_state state;
        const char *status; /* the systemd STATUS text */
        const struct clm_pipeline_stats *stats;
        const struct clm_monitor_part *parts;
        size_t n_parts;
};

/**
 * @brief New monitor for instance @p instance under key prefix @p prefix.
 * Rates start at the first heartbeat (its sample is the baseline).
 * @param runtime_dir directory for the local status file (the first entry
 * of a ':'-separated list such as $RUNTIME_DIRECTORY), or NULL/"" for none
 * @returns new monitor (free with clm_monitor_free) or NULL (no memory)
 */
struct clm_monitor *clm_monitor_new(const char *prefix,
                                    const char *instance,
                                    const char *runtime_dir);

/** @brief NULL-safe. */
void clm_monitor_free(struct clm_monitor *mon);

/**
 * @brief Record the SHA-256 of the config file @p path as loaded now (at
 * start and after each successful reload).
 * @returns CLM_OK, or CLM_ERR_IO (the digest is then published empty)
 */
int clm_monitor_config(struct clm_monitor *mon, const char *path);

/**
 * @brief An applied batch: @p latency_ms from its first message being
 * polled to Redis's reply being read. Feeds the percentiles and the last
 * batch time.
 */
void
clm_monitor_batch(struct clm_monitor *mon, int64_t now_ms, int64_t latency_ms);

/**
 * @brief Remember the last error as a class "<what>:<CODE>", where CODE is
 * the upper-case code leading @p detail (or following its first ": "),
 * such as NOPERM or _TRANSPORT, and "unavailable" when there is none.
 * @param what the dependency: "redis", "dead-letter topic", "kafka"
 * @param detail error text; only its code is kept
 */
void clm_monitor_error(struct clm_monitor *mon,
                       int64_t now_ms,
                       const char *what,
                       const char *detail);

/**
 * @brief One heartbeat: take a rate sample, read each partition's cached
 * high watermark from @p rk (never blocks; -1 when not known yet), write
 * the local status file, and, if @p sink is connected, both Redis hashes
 * in one transaction.
 * @param rk the consumer, or NULL (watermarks unknown)
 * @returns CLM_OK (also when nothing was sent because the sink is down),
 * CLM_ERR_NOMEM, or the transaction's error (CLM_ERR_RETRY)
 */
int clm_monitor_beat(struct clm_monitor *mon,
                     struct clm_sink *sink,
                     rd_kafka_t *rk,
                     const struct clm_monitor_beat *b,
                     int64_t now_ms);

/**
 * @brief Clean shutdown: delete this instance's keys (best effort, when
 * the sink is connected) and the local status file, so a stopped process
 * is not shown as live.
 */
void clm_monitor_retire(struct clm_monitor *mon, struct clm_sink *sink);

/** @brief The wall clock in epoch milliseconds (heartbeat times use it). */
int64_t clm_monitor_wall_ms(void);

/* ---- health (claimsctl) ------------------------------------------------ */

enum clm_health {
        CLM_HEALTHY = 0,
        CLM_DEGRADED = 1, /* working, but needs a look */
        CLM_DOWN = 2,     /* nothing is being applied */
};

/* One instance as read back from Redis or from the local status file. */
struct clm_health_instance {
        const char *name;
        const char *state;  /* "running", "retrying", ... */
        const char *status; /* its STATUS text */
        int64_t age_ms;     /* since its last heartbeat */
        int64_t partitions;
        int64_t lag;         /* summed over its measured partitions */
        int64_t lag_unknown; /* partitions with no high watermark yet */
};

struct clm_health_limits {
        int64_t max_lag;  /* degraded above this total lag */
        int64_t stale_ms; /* degraded when a heartbeat is older */
};

/**
 * @brief The health rule:
 *  - down: Redis unreachable and no fresh @p local status; or Redis
 *    reachable and no instance at all;
 *  - degraded: Redis unreachable but the local daemon is alive (it
 *    retries); an instance not "running"; a heartbeat older than
 *    stale_ms; total lag above max_lag;
 *  - healthy otherwise ("healthy: N instances running, P partitions, lag
 *    L", plus how many partitions have no watermark yet, if any).
 * @p local (may be NULL) is the host's status file; it stands in for an
 * instance Redis does not show, or for a fresher view of one it does.
 * @param redis_err why Redis could not be read (when !redis_ok)
 * @param reason one line: "healthy: ...", "degraded: ...", "down: ..."
 * @returns enum clm_health
 */
int clm_health_eval(bool redis_ok,
                    const char *redis_err,
                    const struct clm_health_instance *inst,
                    size_t n,
                    const struct clm_health_instance *local,
                    const struct clm_health_limits *lim,
                    char *reason,
                    size_t reason_size);

/* The local status file as read back ("key=value" lines). */
struct clm_monitor_local {
        char instance[160];
        char state[24];
        char status[192];
        int64_t heartbeat_ms; /* wall clock, epoch ms */
        int64_t partitions;
        int64_t lag;
        int64_t lag_unknown;
        char last_error[64];
        int64_t last_error_at; /* wall clock, epoch ms; 0 none */
};

/**
 * @brief Read a status file written by clm_monitor_beat.
 * @returns CLM_OK, CLM_ERR_IO (cannot open) or CLM_ERR_INVALID (no
 * instance or heartbeat line); @p out is written only on CLM_OK
 */
int clm_monitor_read_local(const char *path, struct clm_monitor_local *out);

#endif
