/*
 * Leveled logging to stderr. Under systemd (stderr not a TTY, or
 * $JOURNAL_STREAM set) each line starts with a syslog "<N>" priority that
 * journald turns into the entry's priority; on a terminal the line starts
 * with an ISO 8601 timestamp and the level name instead. Each line is
 * formatted into a fixed buffer and written with one write(2), so lines
 * are never interleaved and logging never allocates. The logger is used
 * from the main thread only (style B8) and is not async-signal-safe: never
 * call it from a signal handler.
 */
#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX    1024
#define LIMIT_WINDOW_MS 10000
#define LIMIT_SLOTS     32
#define LIMIT_KEY_MAX   32 /* keys are compared on this many bytes */

int clm_log_level = CLM_LOG_INFO;

static const char *const level_names[] = {
        [CLM_LOG_ERR] = "err",       [CLM_LOG_WARNING] = "warning",
        [CLM_LOG_NOTICE] = "notice", [CLM_LOG_INFO] = "info",
        [CLM_LOG_DEBUG] = "debug",
};

/* One rate-limited key: when it last printed and what it has held back. */
struct limit_slot {
        char key[LIMIT_KEY_MAX];
        int64_t last_ms;
        uint64_t suppressed;
        int level;
        bool used;
};

static struct limit_slot limit_slots[LIMIT_SLOTS];

int
clm_log_level_parse(const char *name)
{
        int level;

        for (level = CLM_LOG_ERR; level <= CLM_LOG_DEBUG; level++) {
                if (strcmp(name, level_names[level]) == 0) {
                        return level;
                }
        }
        return -1;
}

static const char *
level_name(int level)
{
        if (level < CLM_LOG_ERR) {
                return level_names[CLM_LOG_ERR];
        }
        if (level > CLM_LOG_DEBUG) {
                return level_names[CLM_LOG_DEBUG];
        }
        return level_names[level];
}

/* Decided per line: stderr may be redirected at any time (tests do). */
static bool
journal_mode(void)
{
        const char *js = getenv("JOURNAL_STREAM");

        return (js != NULL && js[0] != '\0') || !isatty(STDERR_FILENO);
}

static size_t
format_prefix(char *buf, size_t size, int level)
{
        struct timespec ts;
        struct tm tm;
        char date[32];
        char zone[8];
        int n;

        if (journal_mode()) {
                n = snprintf(buf, size, "<%d>", level);
        } else {
                (void)clock_gettime(CLOCK_REALTIME, &ts);
                (void)localtime_r(&ts.tv_sec, &tm);
                (void)strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
                (void)strftime(zone, sizeof(zone), "%z", &tm);
                n = snprintf(buf, size, "%s.%03ld%s %s: ", date,
                             ts.tv_nsec / 1000000L, zone, level_name(level));
        }
        return n < 0 ? 0 : (size_t)n;
}

static void
write_all(const char *p, size_t len)
{
        while (len > 0) {
                ssize_t n = write(STDERR_FILENO, p, len);

                if (n < 0 && errno == EINTR) {
                        continue;
                }
                if (n <= 0) {
                        return; /* nowhere left to report it */
                }
                p += n;
                len -= (size_t)n;
        }
}

/* Advances @p len by what snprintf reported, clamped to the buffer. */
static size_t
advance(size_t len, int n, size_t cap, bool *truncated)
{
        if (n < 0) {
                return len;
        }
        if ((size_t)n >= cap - len) {
                *truncated = true;
                return cap - 1;
        }
        return len + (size_t)n;
}

/*
 * Format one line: prefix, message, optional suffix. Embedded newlines
 * become spaces so one call is one journal entry with one priority.
 */
static void
emit(int level, const char *suffix, const char *fmt, va_list ap)
{
        char line[LOG_LINE_MAX];
        const size_t cap = sizeof(line) - 1; /* keeps a byte for '\n' */
        bool truncated = false;
        size_t len = format_prefix(line, cap, level);
        size_t i;

        if (len >= cap) {
                len = 0;
        }
        i = len;
        len = advance(len, vsnprintf(line + len, cap - len, fmt, ap), cap,
                      &truncated);
        if (suffix != NULL && !truncated) {
                len = advance(len,
                              snprintf(line + len, cap - len, "%s", suffix),
                              cap, &truncated);
        }
        if (truncated) {
                memcpy(line + len - 3, "...", 3);
        }
        for (; i < len; i++) {
                if (line[i] == '\n' || line[i] == '\r') {
                        line[i] = ' ';
                }
        }
        line[len++] = '\n';
        write_all(line, len);
}

void
clm_log_impl(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        emit(level, NULL, fmt, ap);
        va_end(ap);
}

/* Prints a summary without a format argument list. */
static void emit_plain(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
emit_plain(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        emit(level, NULL, fmt, ap);
        va_end(ap);
}

/*
 * The slot for @p key, or a fresh one: a free slot if any, else the one
 * idle longest, whose pending count is reported before it is reused.
 */
static struct limit_slot *
limit_slot_for(const char *key)
{
        struct limit_slot *victim = &limit_slots[0];
        size_t i;

        for (i = 0; i < LIMIT_SLOTS; i++) {
                struct limit_slot *s = &limit_slots[i];

                if (s->used && strncmp(s->key, key, sizeof(s->key) - 1) == 0) {
                        return s;
                }
        }
        for (i = 0; i < LIMIT_SLOTS; i++) {
                struct limit_slot *s = &limit_slots[i];

                if (!s->used) {
                        victim = s;
                        break;
                }
                if (s->last_ms < victim->last_ms) {
                        victim = s;
                }
        }
        if (victim->used && victim->suppressed > 0) {
                emit_plain(victim->level, "%s: suppressed %llu similar",
                           victim->key, (unsigned long long)victim->suppressed);
        }
        memset(victim, 0, sizeof(*victim));
        (void)snprintf(victim->key, sizeof(victim->key), "%s", key);
        return victim;
}

void
clm_log_limited(
        int level, const char *key, int64_t now_ms, const char *fmt, ...)
{
        struct limit_slot *s;
        char suffix[48];
        va_list ap;

        if (level > clm_log_level) {
                return;
        }
        s = limit_slot_for(key);
        if (s->used && now_ms - s->last_ms < LIMIT_WINDOW_MS) {
                s->suppressed++;
                return;
        }
        suffix[0] = '\0';
        if (s->suppressed > 0) {
                (void)snprintf(suffix, sizeof(suffix),
                               " (suppressed %llu similar)",
                               (unsigned long long)s->suppressed);
        }
        va_start(ap, fmt);
        emit(level, suffix, fmt, ap);
        va_end(ap);
        s->used = true;
        s->last_ms = now_ms;
        s->suppressed = 0;
        s->level = level;
}

void
clm_log_limited_flush(int64_t now_ms)
{
        size_t i;

        for (i = 0; i < LIMIT_SLOTS; i++) {
                struct limit_slot *s = &limit_slots[i];

                if (!s->used || s->suppressed == 0 ||
                    now_ms - s->last_ms < LIMIT_WINDOW_MS) {
                        continue;
                }
                emit_plain(s->level, "%s: suppressed %llu similar", s->key,
                           (unsigned long long)s->suppressed);
                s->suppressed = 0;
                s->last_ms = now_ms;
        }
}
