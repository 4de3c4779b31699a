#ifndef CLM_TOOLS_CTL_EXPLAIN_H
#define CLM_TOOLS_CTL_EXPLAIN_H

/*
 * claimsctl explain CLAIM-KEY: which versions of one claim were applied,
 * from which offsets, and where the current one counts (docs/replay.md).
 */

#include "consumers/keyhash.h"
#include "daemon/config.h"

/**
 * @brief @p argv[0] is "explain". Works on cfg->redis_prefix, so
 * claimsctl -n NAME explain reads a replay namespace.
 * @returns exit code: 0 found, 1 no applied version, 2 usage or Redis error
 */
int ctl_explain(const struct clm_config *cfg,
                const struct clm_keyhash *kh,
                int argc,
                char **argv);

#endif
