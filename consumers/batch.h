#ifndef CLM_CONSUMERS_BATCH_H
#define CLM_CONSUMERS_BATCH_H

/*
 * One partition batch, as the argument vector of the claimsd_apply Redis
 * function (consumers/apply.lua). Pure: turns decoded records into
 * arguments, hashing every identifier with the keyed hash so no PHI leaves
 * the process. No I/O. Memory is reused across batches: after warm-up, a
 * batch allocates nothing.
 */

#include <stddef.h>
#include <stdint.h>

#include "consumers/keyhash.h"
#include "schemas/event.h"

struct clm_batch;

/** @brief New empty batch (free with clm_batch_free) or NULL. */
struct clm_batch *clm_batch_new(void);

/** @brief NULL-safe. */
void clm_batch_free(struct clm_batch *b);

struct clm_measures;

/**
 * @brief Evaluate quality measures and inpatient stays (docs/quality.md)
 * for the claims added from now on.
 * @param ms borrowed, must outlive the batch's use; NULL turns it off
 */
void clm_batch_set_measures(struct clm_batch *b, const struct clm_measures *ms);

/**
 * @brief Start a batch for one partition.
 * @param prefix Redis key prefix (borrowed, copied)
 * @param topic_partition "topic/partition" (copied)
 * @param from the position the batch starts at: the offset the fence
 * expects to find stored in Redis
 */
void clm_batch_reset(struct clm_batch *b,
                     const char *prefix,
                     const char *topic_partition,
                     int64_t from);

/** @brief Messages in the batch. */
size_t clm_batch_count(const struct clm_batch *b);

/** @brief Position the batch starts at (see clm_batch_reset). */
int64_t clm_batch_from(const struct clm_batch *b);

/** @brief Offset after the last message added (from, if empty). */
int64_t clm_batch_to(const struct clm_batch *b);

/**
 * @brief Add a claim version at @p offset.
 * @returns CLM_OK or CLM_ERR_NOMEM
 */
int clm_batch_add_claim(struct clm_batch *b,
                        const struct clm_keyhash *kh,
                        int64_t offset,
                        const struct clm_claim *claim);

/** @brief Add a dead-lettered message. */
int
clm_batch_add_dead(struct clm_batch *b, int64_t offset, enum clm_reason reason);

/** @brief Add a delivery marker (advances the watermark). */
int clm_batch_add_marker(struct clm_batch *b,
                         int64_t offset,
                         const struct clm_marker *marker);

/** @brief Add an attribution record for a beneficiary and year. */
int clm_batch_add_attribution(struct clm_batch *b,
                              const struct clm_keyhash *kh,
                              int64_t offset,
                              const struct clm_attribution *attr);

struct clm_payparams;

/**
 * @brief Add a validated ACO parameter set (the aco.registry topic): the
 * function stores clm_payparams_render of it exactly as claimsctl load-acos
 * does (aco:<id>:params, payparams, acos).
 * @param pp borrowed; a set from clm_payparams_from_kv or a loader
 * @returns CLM_OK or CLM_ERR_NOMEM
 */
int clm_batch_add_params(struct clm_batch *b,
                         int64_t offset,
                         const struct clm_payparams *pp);

/** @brief Add a message that changes nothing but must advance the offset. */
int clm_batch_add_skip(struct clm_batch *b, int64_t offset);

/**
 * @brief The argument vector for FCALL claimsd_apply 1 <offset key> ...
 * (including "FCALL", the function name, numkeys and the key). Valid until
 * the next call on @p b.
 */
void clm_batch_argv(struct clm_batch *b,
                    int *argc,
                    const char ***argv,
                    const size_t **argvlen);

/**
 * @brief The expenditure buckets of a claim per docs/netting.md §3.
 * @param months, paid, allowed arrays of at least CLM_MAX_LINES + 1
 * @param count_month the YYYYMM that carries the claim count
 * @returns number of buckets
 */
size_t clm_claim_buckets(const struct clm_claim *claim,
                         int *months,
                         int64_t *paid,
                         int64_t *allowed,
                         int *count_month);

#endif
