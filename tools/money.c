/*
 * Cents to dollars. INT64_MIN has no positive counterpart, so the digits
 * come from an unsigned magnitude rather than from -cents.
 */
#include "tools/money.h"

#include <inttypes.h>
#include <stdio.h>

const char *
ctl_money(int64_t cents, char buf[CTL_MONEY_MAX])
{
        uint64_t a =
                cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;

        (void)snprintf(buf, CTL_MONEY_MAX, "%s$%" PRIu64 ".%02" PRIu64,
                       cents < 0 ? "-" : "", a / 100, a % 100);
        return buf;
}
