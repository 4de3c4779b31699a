#ifndef CLM_CONSUMERS_REDISCONN_H
#define CLM_CONSUMERS_REDISCONN_H

/*
 * A plain synchronous Redis connection from the redis.* settings (unix
 * socket or TCP, AUTH with the ACL user and password file), for the tools
 * and the payment engine; the apply path has its own pipelined sink
 * (consumers/redis_sink.c).
 */

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "daemon/config.h"

/**
 * @brief Connect and authenticate.
 * @param timeout_ms connect and command timeout
 * @returns a context the caller frees with redisFree, or NULL with errstr
 * (never the password)
 */
redisContext *clm_redis_connect(const struct clm_config *cfg,
                                int timeout_ms,
                                char *errstr,
                                size_t errstr_size);

/**
 * @brief Value of @p name in an HGETALL reply (borrowed from @p h), or
 * NULL when absent or @p h is not an array.
 */
const char *clm_redis_hash_field(const redisReply *h, const char *name);

#endif
