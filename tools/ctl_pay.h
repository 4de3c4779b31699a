#ifndef CLM_TOOLS_CTL_PAY_H
#define CLM_TOOLS_CTL_PAY_H

/*
 * claimsctl commands for the payment engine (docs/payments.md): loading
 * ACO parameter sets and the per-ACO view of expenditure, the savings
 * projection with each step, and the payments issued.
 */

#include <hiredis/hiredis.h>

#include "daemon/config.h"

/**
 * @brief `load-acos FILE`: validate every [aco ID YEAR] section and store
 * it (rendered canonically) for the engine.
 * @returns 0, or 1 with a file:line message on stderr
 */
int
ctl_load_acos(const struct clm_config *cfg, redisContext *c, const char *path);

/**
 * @brief `publish-acos FILE`: validate every section like load-acos and
 * produce one AcoParameters record per ACO-year to topics.registry (key
 * "ACO:YEAR", Confluent framing with the id of schema aco_parameters in
 * the config), built from the canonical rendering, so the daemon stores
 * exactly what load-acos would.
 * @returns 0, or 1 with a message on stderr
 */
int ctl_publish_acos(const struct clm_config *cfg, const char *path);

/**
 * @brief `aco ACO [--year Y] [--json]`.
 * @returns 0, 1 on a Redis error or unknown ACO, 2 on a usage error
 */
int
ctl_aco(const struct clm_config *cfg, redisContext *c, int argc, char **argv);

#endif
