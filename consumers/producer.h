#ifndef CLM_CONSUMERS_PRODUCER_H
#define CLM_CONSUMERS_PRODUCER_H

/*
 * An idempotent Kafka producer for one topic, configured from the kafka.*
 * settings (consumer-only properties skipped). Used for the dead-letter
 * topic and the payments topic. Delivery failures are counted by the
 * delivery-report callback and reported by clm_producer_flush.
 */

#include <stddef.h>

#include "daemon/config.h"

struct clm_producer;

/**
 * @brief New producer for @p topic (copied), or NULL with errstr.
 * @param what names the producer in messages ("dead-letter", "payments")
 */
struct clm_producer *clm_producer_new(const struct clm_config *cfg,
                                      const char *topic,
                                      const char *what,
                                      char *errstr,
                                      size_t errstr_size);

/**
 * @brief Enqueue one message (copied; asynchronous).
 * @returns CLM_OK or CLM_ERR_KAFKA
 */
int clm_producer_send(struct clm_producer *p,
                      const void *key,
                      size_t key_len,
                      const void *value,
                      size_t value_len);

/**
 * @brief Wait until every enqueued message is acknowledged.
 * @returns CLM_OK, or CLM_ERR_RETRY if any failed or time ran out
 */
int clm_producer_flush(struct clm_producer *p, int timeout_ms);

/* One partition of a topic as the broker holds it now. */
struct clm_range {
        int32_t partition;
        int64_t low;   /* first offset still held */
        int64_t high;  /* next offset to be written */
        int64_t until; /* first offset with timestamp >= until_ms, or high */
};

/**
 * @brief Fill @p out with @p topic's partitions (sorted by partition),
 * through this producer's connection; with @p until_ms < 0, until = high.
 * Reads the cluster's full metadata, so it never auto-creates the topic.
 * @returns partitions filled (0: no such topic), or -1 with errstr
 */
int clm_producer_ranges(struct clm_producer *p,
                        const char *topic,
                        int64_t until_ms,
                        struct clm_range *out,
                        int max,
                        char *errstr,
                        size_t errstr_size);

/** @brief NULL-safe; flushes for up to 5 s first. */
void clm_producer_free(struct clm_producer *p);

#endif
