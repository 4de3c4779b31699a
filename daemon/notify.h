#ifndef CLM_DAEMON_NOTIFY_H
#define CLM_DAEMON_NOTIFY_H

/*
 * The systemd notify protocol, in tree: one datagram to $NOTIFY_SOCKET
 * (a leading '@' means an abstract socket). A no-op when unset.
 */

#include <stdint.h>

/**
 * @brief Send a state string such as "READY=1\nSTATUS=running".
 * @returns CLM_OK, or CLM_ERR_IO (never fatal: callers ignore it)
 */
int clm_notify(const char *state);

/** @brief Send "STATUS=<formatted>". */
int clm_notify_status(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

/**
 * @brief Watchdog interval from $WATCHDOG_USEC (checking $WATCHDOG_PID),
 * in microseconds, or 0 when the watchdog is off.
 */
uint64_t clm_notify_watchdog_usec(void);

#endif
