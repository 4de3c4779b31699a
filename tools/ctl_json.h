#ifndef CLM_TOOLS_CTL_JSON_H
#define CLM_TOOLS_CTL_JSON_H

/*
 * JSON output helpers for claimsctl commands. (tools/claimsctl.c and
 * tools/ctl_quality.c still hold older private copies of ctl_json_str.)
 */

#include <stdio.h>

/**
 * @brief Write @p s as a JSON string, quotes included: '"' and '\' escaped,
 * control bytes and bytes >= 0x7f as \u00XX (Redis values are bytes, not
 * necessarily UTF-8).
 * @param s borrowed; NULL writes null
 */
void ctl_json_str(FILE *f, const char *s);

#endif
