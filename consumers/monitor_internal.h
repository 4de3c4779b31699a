#ifndef CLM_CONSUMERS_MONITOR_INTERNAL_H
#define CLM_CONSUMERS_MONITOR_INTERNAL_H

/* Test-only: the pure parts of the monitor (rates, histogram, error class,
 * and the heartbeat's commands built without any I/O). */

#include <stddef.h>
#include <stdint.h>

#include "consumers/monitor.h"

#define CLM_MON__SAMPLES 64  /* > 5 min of 5 s heartbeats */
#define CLM_MON__BUCKETS 120 /* log buckets up to 2^31 ms */
#define CLM_MON__SLOTS   12  /* 12 x 5 s = the last minute */
#define CLM_MON__SLOT_MS 5000

struct clm_mon__sample {
        int64_t t_ms;
        uint64_t v[2]; /* [0] messages applied, [1] Redis round trips */
};

struct clm_mon__ring {
        struct clm_mon__sample s[CLM_MON__SAMPLES];
        size_t n;    /* samples held */
        size_t next; /* where the next one goes */
};

struct clm_mon__hist {
        uint32_t count[CLM_MON__SLOTS][CLM_MON__BUCKETS];
        int64_t max[CLM_MON__SLOTS];
        int64_t epoch[CLM_MON__SLOTS]; /* t / SLOT_MS of the slot's data */
};

/** @brief Add a sample of the cumulative counters at @p t_ms. */
void clm_mon__ring_add(struct clm_mon__ring *r,
                       int64_t t_ms,
                       uint64_t messages,
                       uint64_t round_trips);

/**
 * @brief Per-second rate of counter @p which (0 messages, 1 round trips)
 * between the newest sample and the newest one at least @p window_ms
 * older (or the oldest held, early on); 0 with fewer than two samples.
 */
double
clm_mon__ring_rate(const struct clm_mon__ring *r, int64_t window_ms, int which);

/** @brief Bucket of a value in ms (negative counts as 0, huge clamps). */
size_t clm_mon__bucket(int64_t v);

/** @brief Largest value that falls in bucket @p idx. */
int64_t clm_mon__bucket_upper(size_t idx);

/** @brief Count @p v (ms) in the 5 s slot of @p now_ms. */
void clm_mon__hist_add(struct clm_mon__hist *h, int64_t now_ms, int64_t v);

/**
 * @brief The @p q quantile (0 < q <= 1) of the values added in the last
 * minute before @p now_ms: the upper edge of its bucket, at most the
 * largest value seen (so within 25%); -1 when the minute is empty.
 * q = 1 gives the exact maximum.
 */
int64_t
clm_mon__hist_quantile(const struct clm_mon__hist *h, int64_t now_ms, double q);

/** @brief See clm_monitor_error: "<what>:<CODE>" or "<what>:unavailable". */
void clm_mon__error_class(const char *what,
                          const char *detail,
                          char *out,
                          size_t out_size);

/* The heartbeat transaction, owned strings. */
struct clm_mon__cmds {
        size_t n;                 /* commands */
        int argc[5];              /* EXPIRE 0, HSET, EXPIRE, HSET, EXPIRE */
        const char **argv[5];     /* point into args */
        const size_t *argvlen[5]; /* point into lens */
        size_t first[5];          /* index of each command's verb */
        char **args;              /* every argument, in order */
        size_t *lens;             /* their lengths */
        size_t n_args;
        size_t cap_args;
        size_t n_fields;    /* instance fields ... */
        size_t first_field; /* ... starting at args[first_field] */
};

/**
 * @brief Build the heartbeat's commands for @p b with the partitions' high
 * watermarks @p high (-1 unknown) and round-trip count @p round_trips, at
 * monotonic @p now_ms and wall-clock @p wall (epoch ms).
 * @returns CLM_OK or CLM_ERR_NOMEM (@p out freed either way on error)
 */
int clm_mon__build(struct clm_monitor *mon,
                   const struct clm_monitor_beat *b,
                   const int64_t *high,
                   uint64_t round_trips,
                   int64_t now_ms,
                   int64_t wall,
                   struct clm_mon__cmds *out);

/** @brief Free what clm_mon__build made. NULL-safe contents. */
void clm_mon__cmds_free(struct clm_mon__cmds *c);

/**
 * @brief Write the instance fields of @p c as "key=value" lines to
 * <dir>/status (through a temporary file and rename).
 * @returns CLM_OK or CLM_ERR_IO
 */
int clm_mon__write_local(const char *dir,
                         const char *instance,
                         const struct clm_mon__cmds *c);

#endif
