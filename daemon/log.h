#ifndef CLM_DAEMON_LOG_H
#define CLM_DAEMON_LOG_H

/*
 * Leveled logging to stderr with syslog "<N>" priority prefixes (journald
 * reads them). Never log PHI: no beneficiary ids, claim ids, diagnoses or
 * amounts; log topic/partition/offset, reason codes, ACO ids and counts.
 */

#include <stdint.h>

#define CLM_LOG_ERR     3
#define CLM_LOG_WARNING 4
#define CLM_LOG_NOTICE  5
#define CLM_LOG_INFO    6
#define CLM_LOG_DEBUG   7

extern int clm_log_level;

/* Checks the level before evaluating the arguments. */
#define clm_log(level, ...)                                                    \
        do {                                                                   \
                if ((level) <= clm_log_level) {                                \
                        clm_log_impl((level), __VA_ARGS__);                    \
                }                                                              \
        } while (0)

void clm_log_impl(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/** @brief Parse "err|warning|notice|info|debug"; -1 if unknown. */
int clm_log_level_parse(const char *name);

/**
 * @brief Rate-limited log for per-message events: at most one line per
 * @p key every 10 s, then a "suppressed N similar" summary.
 * @param key short constant such as "decode.bad_magic" (borrowed; the first
 * 31 bytes are significant; it is printed in summaries, so never PHI).
 * At most 32 keys are tracked; the one idle longest is recycled (after
 * printing its pending summary).
 * @param now_ms monotonic milliseconds (injected for tests)
 * @locality main thread
 */
void clm_log_limited(int level,
                     const char *key,
                     int64_t now_ms,
                     const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/**
 * @brief Print "KEY: suppressed N similar" for every key whose window has
 * ended with lines held back, so a burst that stops is still reported.
 * Call from the main loop's periodic work.
 * @param now_ms the same clock as clm_log_limited
 */
void clm_log_limited_flush(int64_t now_ms);

#endif
