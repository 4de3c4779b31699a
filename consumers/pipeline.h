#ifndef CLM_CONSUMERS_PIPELINE_H
#define CLM_CONSUMERS_PIPELINE_H

/*
 * The consuming side of claimsd: the librdkafka consumer in its group, the
 * per-partition batches, the dead-letter producer and the Redis sink, driven
 * one tick at a time by the daemon's main loop. daemon/ sees only this
 * opaque interface, never librdkafka, Avro-C or hiredis.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"

struct clm_pipeline;

enum clm_pipeline_state {
        CLM_PIPE_STARTING = 0,
        CLM_PIPE_RUNNING,
        CLM_PIPE_REDIS_DOWN, /* partitions paused, reconnecting */
        CLM_PIPE_DRAINING,
        CLM_PIPE_FAILED, /* fatal: the daemon must exit non-zero */
};

struct clm_pipeline_stats {
        uint64_t messages; /* consumed and applied (all outcomes) */
        uint64_t claims;   /* claim versions applied */
        uint64_t duplicate;
        uint64_t stale;
        uint64_t dead_letter;
        uint64_t unattributed; /* applied versions no ACO could be found for */
        uint64_t batches;
        uint64_t fenced;   /* batches the offset fence rejected */
        uint64_t pauses;   /* Redis or dead-letter topic outages */
        uint64_t payments; /* payment records issued by this process */
        size_t assigned;   /* partitions currently assigned */
};

/**
 * @brief Build the consumer, the dead-letter producer, the decoders and the
 * sink from @p cfg (borrowed; must outlive the pipeline). Connects to Redis
 * once (a failure is not fatal: the pipeline starts in REDIS_DOWN) and
 * subscribes to the claim and attribution topics.
 * @returns new pipeline (free with clm_pipeline_free) or NULL with errstr
 */
struct clm_pipeline *clm_pipeline_new(const struct clm_config *cfg,
                                      char *errstr,
                                      size_t errstr_size);

/**
 * @brief One iteration: reconnect if due, poll up to @p poll_ms, decode,
 * batch, and flush batches that are full or older than batch.linger.
 * @param now_ms monotonic milliseconds
 * @returns CLM_OK, or CLM_ERR_FATAL (state FAILED; reason logged)
 */
int clm_pipeline_tick(struct clm_pipeline *p, int64_t now_ms, int poll_ms);

/**
 * @brief Flush every batch in hand and settle the round in flight (best
 * effort, each step bounded by redis.timeout and the dead-letter flush),
 * then close the consumer (leaves the group). Call once at shutdown.
 */
void clm_pipeline_drain(struct clm_pipeline *p);

/** @brief Current state and a short human status line (no PHI). */
enum clm_pipeline_state clm_pipeline_state(const struct clm_pipeline *p,
                                           char *status,
                                           size_t status_size);

/** @brief Running totals since start. */
void clm_pipeline_stats(const struct clm_pipeline *p,
                        struct clm_pipeline_stats *out);

/** @brief Apply reloadable settings (batch size, linger) from @p cfg. */
void clm_pipeline_reload(struct clm_pipeline *p, const struct clm_config *cfg);

/**
 * @brief Replay mode (cfg->namespace_name set): every partition of the
 * manifest is consumed up to its end offset and applied, nothing in
 * flight. Always false for live processing.
 */
bool clm_pipeline_replay_done(const struct clm_pipeline *p);

/**
 * @brief After clm_pipeline_replay_done: the final payment engine pass
 * over the final watermark, then the manifest's state = complete.
 * @returns CLM_OK, or CLM_ERR_RETRY (errstr says why; call again later)
 */
int clm_pipeline_replay_finish(struct clm_pipeline *p,
                               char *errstr,
                               size_t errstr_size);

/** @brief NULL-safe; destroys librdkafka handles and the sink. */
void clm_pipeline_free(struct clm_pipeline *p);

#endif
