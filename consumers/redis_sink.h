#ifndef CLM_CONSUMERS_REDIS_SINK_H
#define CLM_CONSUMERS_REDIS_SINK_H

/*
 * The Redis side of claimsd: one synchronous hiredis connection, the
 * claimsd Redis function library (consumers/apply.lua, loaded with
 * FUNCTION LOAD REPLACE on every connect, so a restarted or flushed Redis
 * always has it), offset reads, and pipelined batch calls. Transport errors
 * drop the connection (hiredis contexts are dead after one) and report
 * CLM_ERR_RETRY: the caller must then treat every in-flight batch as
 * unknown and re-read offsets after reconnecting.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clm_sink;

struct clm_sink_conf {
        const char *host;
        int port;
        const char *unix_socket; /* NULL or "" for TCP */
        const char *user;        /* NULL or "" for the default user */
        const char *password;    /* NULL or "" for none */
        int timeout_ms;
};

struct clm_apply_result {
        bool applied;   /* false: the fence rejected the batch */
        int64_t offset; /* next offset stored in Redis after the call */
        int64_t claims, duplicate, stale, dead_letter;
        int64_t unattributed;  /* claim versions counted unattributed */
        size_t n_conflicts;    /* version conflicts found by the function */
        int64_t conflicts[16]; /* their offsets (the first 16) */
};

/** @brief New, unconnected sink; strings in @p conf are copied. */
struct clm_sink *clm_sink_new(const struct clm_sink_conf *conf);

/** @brief NULL-safe. */
void clm_sink_free(struct clm_sink *sink);

/**
 * @brief Connect, authenticate and load the function library.
 * @returns CLM_OK, or CLM_ERR_RETRY (transient) / CLM_ERR_REDIS with
 * clm_sink_errstr set
 */
int clm_sink_connect(struct clm_sink *sink);

/** @brief Drop the connection (next call must reconnect). */
void clm_sink_disconnect(struct clm_sink *sink);

/** @brief True while a connection is up. */
bool clm_sink_connected(const struct clm_sink *sink);

/** @brief Last error text (never PHI: Redis replies and transport). */
const char *clm_sink_errstr(const struct clm_sink *sink);

/**
 * @brief Read the stored next offsets of @p n "topic/partition" fields.
 * @param out -1 where Redis has none
 */
int clm_sink_read_offsets(struct clm_sink *sink,
                          const char *prefix,
                          size_t n,
                          const char *const *fields,
                          int64_t *out);

/**
 * @brief Pipeline @p n prepared FCALL argument vectors and read the replies.
 * @returns CLM_OK with every result written, or CLM_ERR_RETRY: outcome
 * unknown for all (connection dropped, or a transient error reply such as
 * LOADING, BUSY, OOM, READONLY, MISCONF, NOPERM).
 */
int clm_sink_apply(struct clm_sink *sink,
                   size_t n,
                   const int *argc,
                   const char **const *argv,
                   const size_t *const *argvlen,
                   struct clm_apply_result *results);

/**
 * @brief Send @p n prepared FCALL argument vectors without waiting for the
 * replies (the argument memory may be reused on return). Read them later
 * with clm_sink_receive, in order.
 * @returns CLM_OK or CLM_ERR_RETRY (connection dropped)
 */
int clm_sink_send(struct clm_sink *sink,
                  size_t n,
                  const int *argc,
                  const char **const *argv,
                  const size_t *const *argvlen);

/**
 * @brief Read the replies of the last clm_sink_send (see clm_sink_apply for
 * the outcome rules).
 */
int clm_sink_receive(struct clm_sink *sink,
                     size_t n,
                     struct clm_apply_result *results);

/**
 * @brief Run @p n prepared commands as one MULTI/EXEC transaction, in one
 * round trip, and check every reply. Only call with no round in flight
 * (replies would interleave). The argument memory is borrowed.
 * @returns CLM_OK, or CLM_ERR_RETRY (connection dropped, or an error reply
 * for MULTI, a queued command or EXEC; the reason is in clm_sink_errstr)
 */
int clm_sink_transaction(struct clm_sink *sink,
                         size_t n,
                         const int *argc,
                         const char **const *argv,
                         const size_t *const *argvlen);

/**
 * @brief Redis round trips since the sink was made: requests whose reply
 * was waited for (a pipelined round or a transaction counts once; AUTH and
 * FUNCTION LOAD on connect count one each).
 */
uint64_t clm_sink_round_trips(const struct clm_sink *sink);

#endif
