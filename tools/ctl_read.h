#ifndef CLM_TOOLS_CTL_READ_H
#define CLM_TOOLS_CTL_READ_H

/*
 * Readers of one ACO's payment view, shared by `claimsctl aco` and
 * `claimsctl audit report`: expenditure by service month, the payment
 * records issued, the stored projection and the parameter set, each under
 * cfg->redis_prefix (live or a replay namespace). They read only the
 * aco:<id>:* keys of docs/redis-keys.md, never claim:* or bene:*.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "consumers/payrec.h"
#include "daemon/config.h"

/**
 * @brief Paid cents by service month (index 1-12; 0 unused) of an
 * ACO-year: the `p` fields of aco:<id>:exp:<year>, summed over enrollment
 * types, claim types and received months.
 * @param paid written always (zeros when the hash is missing)
 * @returns CLM_OK, or CLM_ERR_REDIS (message on stderr)
 */
int ctl_read_months(const struct clm_config *cfg,
                    redisContext *c,
                    const char *aco,
                    int year,
                    int64_t paid[13]);

/**
 * @brief The payment records of an ACO (aco:<id>:payments), parsed and
 * sorted by as-of time then id; texts that do not parse are left out.
 * @param out on success a new array of *n records (free()); NULL when
 * there are none
 * @returns CLM_OK, CLM_ERR_NOMEM or CLM_ERR_REDIS (message on stderr)
 */
int ctl_read_payments(const struct clm_config *cfg,
                      redisContext *c,
                      const char *aco,
                      struct clm_payment **out,
                      size_t *n);

/**
 * @brief Check a reply's type.
 * @param r taken: returned as is when it is of @p type, else freed
 * @returns @p r, or NULL with the error reply's text (or the context's
 * error) on stderr
 */
redisReply *ctl_read_expect(redisContext *c, redisReply *r, int type);

/**
 * @brief Call @p fn for every key matching @p pattern, by SCAN (never
 * KEYS). @p fn may send commands; a non-zero return stops the scan.
 * @returns CLM_OK, CLM_ERR_REDIS (message on stderr) or @p fn's return
 */
int ctl_read_scan(redisContext *c,
                  const char *pattern,
                  int (*fn)(const char *key, void *arg),
                  void *arg);

/**
 * @brief HGETALL of @p key as an array reply.
 * @returns new reply (free with freeReplyObject; an empty array when the
 * key is missing), or NULL on a Redis error (message on stderr)
 */
redisReply *ctl_read_hash(redisContext *c, const char *key);

enum ctl_param_flag {
        CTL_PARAM_SETTING = 0, /* no flag: program, ssp.track, ... */
        CTL_PARAM_VERIFIED,
        CTL_PARAM_UNVERIFIED,
};

/**
 * @brief Split one line of a canonical parameter text (docs/payments.md
 * §2.5), "key = value [verified|unverified]", in place. A value may hold
 * spaces (msr.table); the flag is its last word, settings have none.
 * @param key, value set into @p line on success
 * @returns false for a line that is not "key = value" (the section header)
 */
bool ctl_param_split(char *line,
                     const char **key,
                     const char **value,
                     enum ctl_param_flag *flag);

#endif
