#ifndef CLM_CONSUMERS_DEADLETTER_H
#define CLM_CONSUMERS_DEADLETTER_H

/*
 * Dead-letter records to Kafka (topics.dlq): Avro DeadLetter
 * (schemas/dead_letter.avsc, Confluent framing, schema id 30), key
 * "topic/partition/offset", produced by an idempotent producer. The record
 * says where a message was and why it was refused; never its content.
 */

#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "schemas/event.h"

#define CLM_DEADLETTER_SCHEMA_ID 30

struct clm_dead {
        int64_t offset;
        enum clm_reason reason;
        int32_t schema_id; /* -1 when unknown */
        size_t size;
        char detail[160];
};

struct clm_deadletter;

/** @brief New producer from the kafka.* settings, or NULL with errstr. */
struct clm_deadletter *clm_deadletter_new(const struct clm_config *cfg,
                                          char *errstr,
                                          size_t errstr_size);

/**
 * @brief Encode and enqueue one record (asynchronous).
 * @returns CLM_OK or CLM_ERR_KAFKA / CLM_ERR_NOMEM
 */
int clm_deadletter_produce(struct clm_deadletter *dl,
                           const char *topic,
                           int32_t partition,
                           const struct clm_dead *d);

/**
 * @brief Wait until every enqueued record is acknowledged.
 * @returns CLM_OK, or CLM_ERR_RETRY if any failed or time ran out
 */
int clm_deadletter_flush(struct clm_deadletter *dl, int timeout_ms);

/**
 * @brief Encode a DeadLetter value (Confluent framing) into @p buf.
 * @returns bytes written, or 0 if @p size is too small
 */
size_t clm_deadletter_encode(const char *topic,
                             int32_t partition,
                             const struct clm_dead *d,
                             const char *instance,
                             unsigned char *buf,
                             size_t size);

/** @brief NULL-safe; flushes for up to 5 s first. */
void clm_deadletter_free(struct clm_deadletter *dl);

#endif
