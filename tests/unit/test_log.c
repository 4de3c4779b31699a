/*
 * Logger: level names, the "<N>" journal prefix versus the TTY timestamp
 * (a pseudo-terminal stands in for the TTY), and the rate limiter with an
 * injected clock. stderr is captured by pointing fd 2 at a temporary file.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "daemon/log.h"

static int saved_stderr = -1;
static int capture_fd = -1;
static char captured[8192];

static void
capture_begin(void)
{
        char path[] = "/tmp/clm-test-log-XXXXXX";

        capture_fd = mkstemp(path);
        cr_assert(ge(int, capture_fd, 0));
        (void)unlink(path);
        saved_stderr = dup(STDERR_FILENO);
        cr_assert(ge(int, saved_stderr, 0));
        cr_assert(eq(int, dup2(capture_fd, STDERR_FILENO), STDERR_FILENO));
}

/* Restores stderr and returns what was written, NUL-terminated. */
static char *
capture_end(void)
{
        ssize_t n;

        cr_assert(eq(int, dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO));
        close(saved_stderr);
        n = pread(capture_fd, captured, sizeof(captured) - 1, 0);
        cr_assert(ge(long, (long)n, 0L));
        captured[n] = '\0';
        close(capture_fd);
        return captured;
}

static int
count_lines(const char *s)
{
        int n = 0;

        for (; *s != '\0'; s++) {
                n += *s == '\n';
        }
        return n;
}

static void
setup(void)
{
        clm_log_level = CLM_LOG_INFO;
        (void)unsetenv("JOURNAL_STREAM");
}

TestSuite(log, .init = setup, .timeout = 10);

Test(log, level_names_parse)
{
        cr_assert(eq(int, clm_log_level_parse("err"), CLM_LOG_ERR));
        cr_assert(eq(int, clm_log_level_parse("warning"), CLM_LOG_WARNING));
        cr_assert(eq(int, clm_log_level_parse("notice"), CLM_LOG_NOTICE));
        cr_assert(eq(int, clm_log_level_parse("info"), CLM_LOG_INFO));
        cr_assert(eq(int, clm_log_level_parse("debug"), CLM_LOG_DEBUG));
}

Test(log, unknown_level_names_rejected)
{
        cr_assert(eq(int, clm_log_level_parse(""), -1));
        cr_assert(eq(int, clm_log_level_parse("error"), -1));
        cr_assert(eq(int, clm_log_level_parse("INFO"), -1));
        cr_assert(eq(int, clm_log_level_parse("warn"), -1));
        cr_assert(eq(int, clm_log_level_parse("info "), -1));
}

Test(log, priority_prefix_when_not_a_tty)
{
        char *out;

        capture_begin();
        clm_log(CLM_LOG_WARNING, "disk %d%% full", 95);
        clm_log(CLM_LOG_ERR, "gone");
        out = capture_end();
        cr_assert(eq(str, out, (char *)"<4>disk 95% full\n<3>gone\n"));
}

static int evaluated;

static int
side_effect(void)
{
        evaluated++;
        return 1;
}

Test(log, filtered_level_skips_arguments)
{
        char *out;

        clm_log_level = CLM_LOG_NOTICE;
        capture_begin();
        clm_log(CLM_LOG_INFO, "x %d", side_effect());
        clm_log(CLM_LOG_NOTICE, "y %d", side_effect());
        out = capture_end();
        cr_assert(eq(int, evaluated, 1));
        cr_assert(eq(str, out, (char *)"<5>y 1\n"));
}

Test(log, embedded_newlines_stay_on_one_line)
{
        char *out;

        capture_begin();
        clm_log(CLM_LOG_INFO, "a\nb\r\nc");
        out = capture_end();
        cr_assert(eq(str, out, (char *)"<6>a b  c\n"));
}

Test(log, long_message_truncated_with_ellipsis)
{
        static char big[5000];
        char *out;
        size_t len;

        memset(big, 'x', sizeof(big) - 1);
        capture_begin();
        clm_log(CLM_LOG_INFO, "%s", big);
        out = capture_end();
        len = strlen(out);
        cr_assert(le(sz, len, (size_t)1024));
        cr_assert(eq(int, count_lines(out), 1));
        cr_assert(eq(int, strncmp(out, "<6>xxx", 6), 0));
        cr_assert(eq(str, out + len - 4, (char *)"...\n"));
}

/* Opens a pseudo-terminal and makes its slave side fd 2; returns master. */
static int
stderr_to_pty(void)
{
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        int slave;

        if (master < 0) {
                cr_skip_test("no pseudo-terminals here");
        }
        cr_assert(eq(int, grantpt(master), 0));
        cr_assert(eq(int, unlockpt(master), 0));
        slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        cr_assert(ge(int, slave, 0));
        saved_stderr = dup(STDERR_FILENO);
        cr_assert(eq(int, dup2(slave, STDERR_FILENO), STDERR_FILENO));
        close(slave);
        return master;
}

static char *
read_pty(int master)
{
        struct pollfd pfd = {.fd = master, .events = POLLIN};
        ssize_t n;

        cr_assert(eq(int, dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO));
        close(saved_stderr);
        cr_assert(eq(int, poll(&pfd, 1, 2000), 1));
        n = read(master, captured, sizeof(captured) - 1);
        cr_assert(gt(long, (long)n, 0L));
        captured[n] = '\0';
        close(master);
        return captured;
}

Test(log, tty_gets_timestamp_and_level_name)
{
        int master = stderr_to_pty();
        char *out;
        int y, mo, d, h, mi, s, ms;

        clm_log(CLM_LOG_INFO, "hello");
        out = read_pty(master);
        cr_assert(eq(int,
                     sscanf(out, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &y, &mo, &d, &h,
                            &mi, &s, &ms),
                     7),
                  "got: %s", out);
        cr_assert(not(eq(ptr, strstr(out, " info: hello\r\n"), NULL)),
                  "got: %s", out);
}

Test(log, journal_stream_forces_prefix_on_tty)
{
        int master;
        char *out;

        cr_assert(eq(int, setenv("JOURNAL_STREAM", "8:12345", 1), 0));
        master = stderr_to_pty();
        clm_log(CLM_LOG_NOTICE, "hello");
        out = read_pty(master);
        cr_assert(eq(str, out, (char *)"<5>hello\r\n"));
}

Test(log, limited_suppresses_then_summarises)
{
        char *out;
        int64_t t;

        capture_begin();
        for (t = 0; t < 10000; t += 1000) {
                clm_log_limited(CLM_LOG_WARNING, "decode.bad_magic", t,
                                "p%d bad magic", 3);
        }
        clm_log_limited(CLM_LOG_WARNING, "decode.bad_magic", 10000,
                        "p%d bad magic", 4);
        out = capture_end();
        cr_assert(eq(str, out,
                     (char *)"<4>p3 bad magic\n"
                             "<4>p4 bad magic (suppressed 9 similar)\n"));
}

Test(log, limited_keys_are_independent)
{
        char *out;

        capture_begin();
        clm_log_limited(CLM_LOG_WARNING, "a", 0, "first a");
        clm_log_limited(CLM_LOG_WARNING, "b", 1, "first b");
        clm_log_limited(CLM_LOG_WARNING, "a", 2, "second a");
        clm_log_limited(CLM_LOG_WARNING, "b", 3, "second b");
        out = capture_end();
        cr_assert(eq(str, out, (char *)"<4>first a\n<4>first b\n"));
}

Test(log, flush_reports_a_burst_that_stopped)
{
        char *out;

        capture_begin();
        clm_log_limited(CLM_LOG_ERR, "redis.reply", 0, "reply error");
        clm_log_limited(CLM_LOG_ERR, "redis.reply", 5, "reply error");
        clm_log_limited(CLM_LOG_ERR, "redis.reply", 6, "reply error");
        clm_log_limited_flush(9999); /* window still open */
        clm_log_limited_flush(10000);
        clm_log_limited_flush(30000); /* nothing pending any more */
        out = capture_end();
        cr_assert(eq(str, out,
                     (char *)"<3>reply error\n"
                             "<3>redis.reply: suppressed 2 similar\n"));
}

Test(log, limited_respects_level)
{
        char *out;

        clm_log_level = CLM_LOG_WARNING;
        capture_begin();
        clm_log_limited(CLM_LOG_INFO, "k", 0, "quiet");
        out = capture_end();
        cr_assert(eq(str, out, (char *)""));
}

Test(log, full_table_recycles_oldest_key_with_summary)
{
        char key[16];
        char *out;
        int i;

        capture_begin();
        clm_log_limited(CLM_LOG_WARNING, "old", 0, "old line");
        clm_log_limited(CLM_LOG_WARNING, "old", 1, "old line");
        for (i = 0; i < 40; i++) {
                (void)snprintf(key, sizeof(key), "k%d", i);
                clm_log_limited(CLM_LOG_WARNING, key, 100 + i, "line %d", i);
        }
        out = capture_end();
        /* 1 + 40 lines, plus the summary printed when "old" is recycled. */
        cr_assert(eq(int, count_lines(out), 42));
        cr_assert(not(
                eq(ptr, strstr(out, "<4>old: suppressed 1 similar\n"), NULL)));
}
