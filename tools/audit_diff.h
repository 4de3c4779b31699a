#ifndef CLM_TOOLS_AUDIT_DIFF_H
#define CLM_TOOLS_AUDIT_DIFF_H

/*
 * The comparison behind `claimsctl audit diff` (docs/replay.md): two sets
 * of business figures, live and replayed, each filled from the Redis hashes
 * of one prefix (key without the prefix, field, value), compared as of a
 * cutoff. Pure: no I/O, no clock.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What "as of TIME" means (clm_audit_parse_time). */
struct clm_audit_cutoff {
        int32_t month; /* YYYYMM: expenditure received up to this month */
        int64_t ms;    /* payment records with as_of <= ms (epoch ms) */
};

enum clm_audit_kind {
        CLM_AUDIT_COUNTER, /* live, replay, diff; an absent side counts 0 */
        CLM_AUDIT_TEXT,    /* live_text, replay_text (attribution, raw) */
        CLM_AUDIT_PAYMENT, /* amounts in live, replay, diff and the
                            * canonical texts in live_text, replay_text */
};

/* One figure that differs. Strings are owned by the result. */
struct clm_audit_row {
        const char *aco;    /* ACO id, or "-" (unattributed, beneficiary) */
        const char *month;  /* "YYYY-MM", "YYYY" (yearly), a payment
                             * period, or "-" (dead letters) */
        const char *figure; /* readable name: "exp paid N/71",
                             * "quality 236:num", "payment <id>" */
        enum clm_audit_kind kind;
        bool live_present;
        bool replay_present;
        int64_t live;   /* counter or payment amount (cents); 0 for text */
        int64_t replay; /* and for an absent side */
        int64_t diff;   /* live - replay */
        const char *live_text;   /* NULL when absent or numeric */
        const char *replay_text; /* (payments: the canonical texts) */
        const char *note; /* "" or why: "missing in replay", "texts differ
                           * at parameter_version", ... */
};

struct clm_audit_result {
        size_t compared; /* figures compared (the union of both sides) */
        size_t n;
        struct clm_audit_row *rows; /* sorted by ACO, month, figure */
};

struct clm_audit_set;

/** @brief An empty figure set. @returns new set (free with
 * clm_audit_set_free) or NULL when out of memory. */
struct clm_audit_set *clm_audit_set_new(void);

/** @brief NULL-safe. */
void clm_audit_set_free(struct clm_audit_set *set);

/**
 * @brief Add one hash field of the prefix.
 *
 * Families (docs/redis-keys.md): "aco:<id>:exp:<year>",
 * "unattributed:<year>", "aco:<id>:pop:<year>", "aco:<id>:quality:<year>",
 * "q:<year>", "qb:<year>", "bene:<year>", "aco:<id>:payments" and "dlq:count".
 * Any other key is ignored (operational state such as offsets, claims, ledgers,
 * parameters and projections is not a figure). A field or value that does
 * not have its family's documented shape is kept verbatim as a "raw"
 * figure and compared as text, so nothing is silently left out.
 * @param key the key without the prefix (borrowed)
 * @param field, value borrowed
 * @returns CLM_OK, or CLM_ERR_NOMEM (the set keeps what it had)
 */
int clm_audit_set_add(struct clm_audit_set *set,
                      const char *key,
                      const char *field,
                      const char *value);

/**
 * @brief clm_audit_set_add for a value of @p len bytes that may hold NULs:
 * "qb:<year>" fields (a msgpack array of definition index, d, n, x per
 * measure definition) become three counters per definition,
 * "qb <bene hash> #<index> d|n|x"; any other family's value must be text.
 */
int clm_audit_set_add_bytes(struct clm_audit_set *set,
                            const char *key,
                            const char *field,
                            const void *value,
                            size_t len);

/**
 * @brief Whether clm_audit_set_add takes fields of @p key (without the
 * prefix): lets a reader skip the hashes that hold no figures.
 */
bool clm_audit_key_wanted(const char *key);

/**
 * @brief Parse --as-of TIME: "YYYY-MM", "YYYY-MM-DD" or
 * "YYYY-MM-DDTHH:MM:SSZ" (UTC). A month or a day means its close: counters
 * received in that month, and payment records whose as_of is at or before
 * the first instant after it ("2025-03" takes March's monthly record, cut
 * at 2025-04-01T00:00:00Z). A full time is that instant.
 * @returns CLM_OK (writes @p out), or CLM_ERR_INVALID
 */
int clm_audit_parse_time(const char *text, struct clm_audit_cutoff *out);

/**
 * @brief Compare @p live with @p replay as of @p cut.
 *
 * Expenditure (exp, unattributed) is summed over received months up to
 * cut->month; population, quality, measure counts (q, split into d, n and
 * x), attribution (bene) and dead letters are compared as they stand, since
 * they are not bucketed by received month. Counters absent on a side count
 * 0. A payment record is compared when its as_of is at or before cut->ms on
 * either side (a text that does not parse always is); it differs when it
 * is missing on one side or its texts differ.
 * @param live, replay borrowed
 * @param out on CLM_OK a new result (free with clm_audit_result_free)
 * @returns CLM_OK, CLM_ERR_NOMEM, or CLM_ERR_INVALID when a sum or a
 * difference does not fit in int64 (errstr names the figure)
 */
int clm_audit_diff(const struct clm_audit_set *live,
                   const struct clm_audit_set *replay,
                   const struct clm_audit_cutoff *cut,
                   struct clm_audit_result **out,
                   char *errstr,
                   size_t errstr_size);

/** @brief NULL-safe. */
void clm_audit_result_free(struct clm_audit_result *res);

#endif
