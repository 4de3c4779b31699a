#ifndef CLM_TOOLS_CTL_REPORT_H
#define CLM_TOOLS_CTL_REPORT_H

/*
 * `claimsctl audit report`: reads a replay namespace's manifest and every
 * ACO-year's payment view from Redis into a struct ctl_report and hands it
 * to tools/report_html.c (docs/replay.md).
 */

#include <hiredis/hiredis.h>

#include "daemon/config.h"

/**
 * @brief `audit report NAME|--live [-o FILE]`: write the HTML report of
 * the replay namespace NAME (or of the live data) to FILE (default
 * claimsd-audit-NAME.html, claimsd-audit-live.html) and print its path.
 * @param cfg switched to the namespace (clm_config_use_namespace) unless
 * claimsctl -n already chose it, in which case NAME must be the same
 * @param argc, argv the words after "report"
 * @returns 0; 1 on a Redis or file error; 2 on a usage error, a bad
 * namespace name or a namespace without a manifest (messages on stderr)
 */
int ctl_audit_report(struct clm_config *cfg,
                     redisContext *c,
                     int argc,
                     char **argv);

#endif
