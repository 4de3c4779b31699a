#ifndef CLM_CONSUMERS_REPLAY_H
#define CLM_CONSUMERS_REPLAY_H

/*
 * The manifest of a replay namespace (docs/replay.md): the hash
 * "<namespace prefix>replay" that claimsctl replay writes before claimsd
 * replays into the namespace. It fixes the offset range of every partition
 * once, so an interrupted replay resumes towards the same end, and a
 * replay of a live topic terminates.
 *
 * Fields: name, live_prefix, state (running | complete), until, created,
 * finished, config_sha256, claimsd_version, topics, start:<topic>/<p>,
 * end:<topic>/<p> (the range [start, end) of each partition).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "daemon/config.h"

struct clm_replay;

/**
 * @brief Read the manifest of cfg's namespace (cfg->namespace_name set)
 * and check it names that namespace and cfg's live prefix.
 * @returns the manifest (free with clm_replay_free) or NULL with errstr
 */
struct clm_replay *clm_replay_load(redisContext *c,
                                   const struct clm_config *cfg,
                                   char *errstr,
                                   size_t errstr_size);

void clm_replay_free(struct clm_replay *r);

/** @brief Partitions the manifest fixes an end for. */
size_t clm_replay_count(const struct clm_replay *r);

/** @brief The i-th partition, "topic/partition", and its end offset. */
const char *clm_replay_tp(const struct clm_replay *r, size_t i, int64_t *end);

/**
 * @brief End offset (exclusive) of @p tp; 0 for a partition the manifest
 * does not list (it did not exist when the replay started).
 */
int64_t clm_replay_end(const struct clm_replay *r, const char *tp);

/** @brief The manifest says the replay already completed. */
bool clm_replay_complete(const struct clm_replay *r);

/** @brief Record completion (state complete, finished = @p now_ms). */
int clm_replay_mark_complete(redisContext *c,
                             const struct clm_config *cfg,
                             int64_t now_ms,
                             char *errstr,
                             size_t errstr_size);

/**
 * @brief Refuse live processing on a prefix that holds a manifest (a
 * namespace named as redis.prefix by mistake).
 * @returns CLM_OK, CLM_ERR_INVALID (errstr says why) or CLM_ERR_REDIS
 */
int clm_replay_check_live(redisContext *c,
                          const struct clm_config *cfg,
                          char *errstr,
                          size_t errstr_size);

#endif
