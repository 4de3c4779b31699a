#ifndef CLM_DAEMON_SIGNALS_H
#define CLM_DAEMON_SIGNALS_H

#include <stdbool.h>

/**
 * @brief Install TERM/INT (shutdown), HUP (reload), USR1 (stats) handlers
 * with sigaction and ignore SIGPIPE. A second TERM/INT during shutdown
 * calls _exit(1).
 * @returns CLM_OK or CLM_ERR_FATAL
 */
int clm_signals_install(void);

/** @brief True once shutdown was requested (not cleared). */
bool clm_signals_shutdown_requested(void);

/** @brief Reads and clears the reload flag. */
bool clm_signals_take_reload(void);

/** @brief Reads and clears the stats-dump flag. */
bool clm_signals_take_stats(void);

/** @brief Requests shutdown from code (tests, fatal errors). */
void clm_signals_request_shutdown(void);

#endif
