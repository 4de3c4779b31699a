#ifndef CLM_TOOLS_MONEY_H
#define CLM_TOOLS_MONEY_H

/*
 * Money as text for the claimsctl views and the HTML report. Amounts are
 * integer cents everywhere (docs/payments.md §1.1); this is the one place
 * that turns them into dollars, with integer arithmetic only.
 */

#include <stdint.h>

/* Room for "-$92233720368547758.08" and the NUL. */
#define CTL_MONEY_MAX 32

/**
 * @brief "$1234.05", "-$0.07": dollars with cents, no separators.
 * @param buf borrowed; written always
 * @returns @p buf
 */
const char *ctl_money(int64_t cents, char buf[CTL_MONEY_MAX]);

#endif
