/*
 * The notify protocol against a real AF_UNIX datagram socket bound in a
 * temporary directory (and an abstract one), read back after each send.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "daemon/notify.h"
#include "daemon/rc.h"

static char dir[64];
static char sock_path[96];
static int sock = -1;

static void
setup(void)
{
        struct sockaddr_un sun;

        (void)snprintf(dir, sizeof(dir), "/tmp/clm-test-notify-XXXXXX");
        cr_assert(not(eq(ptr, mkdtemp(dir), NULL)));
        (void)snprintf(sock_path, sizeof(sock_path), "%s/notify", dir);
        sock = socket(AF_UNIX, SOCK_DGRAM, 0);
        cr_assert(ge(int, sock, 0));
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        (void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
        cr_assert(eq(int, bind(sock, (struct sockaddr *)&sun, sizeof(sun)), 0));
        cr_assert(eq(int, setenv("NOTIFY_SOCKET", sock_path, 1), 0));
}

static void
teardown(void)
{
        if (sock >= 0) {
                close(sock);
        }
        (void)unlink(sock_path);
        (void)rmdir(dir);
}

/* The next datagram, NUL-terminated; fails the test if none is queued. */
static char *
receive(void)
{
        static char buf[1024];
        ssize_t n = recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT);

        cr_assert(ge(long, (long)n, 0L), "nothing received: %s",
                  strerror(errno));
        buf[n] = '\0';
        return buf;
}

static void
assert_nothing_queued(int fd)
{
        char buf[16];

        cr_assert(
                eq(long, (long)recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1L));
}

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 10);

Test(notify, ready_and_status_arrive_in_order)
{
        cr_assert(eq(int, clm_notify("READY=1"), CLM_OK));
        cr_assert(eq(int, clm_notify_status("consuming %d partitions", 6),
                     CLM_OK));
        cr_assert(eq(str, receive(), (char *)"READY=1"));
        cr_assert(eq(str, receive(), (char *)"STATUS=consuming 6 partitions"));
        assert_nothing_queued(sock);
}

Test(notify, multi_line_state_sent_as_one_datagram)
{
        cr_assert(eq(int, clm_notify("STOPPING=1\nSTATUS=draining"), CLM_OK));
        cr_assert(eq(str, receive(), (char *)"STOPPING=1\nSTATUS=draining"));
}

Test(notify, status_newlines_flattened)
{
        cr_assert(eq(int, clm_notify_status("redis down\nretrying"), CLM_OK));
        cr_assert(eq(str, receive(), (char *)"STATUS=redis down retrying"));
}

Test(notify, abstract_socket)
{
        struct sockaddr_un sun;
        char name[64];
        socklen_t len;
        int fd;

        (void)snprintf(name, sizeof(name), "@clm-test-notify-%ld",
                       (long)getpid());
        fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        cr_assert(ge(int, fd, 0));
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path + 1, name + 1, strlen(name) - 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                          strlen(name));
        cr_assert(eq(int, bind(fd, (struct sockaddr *)&sun, len), 0));
        cr_assert(eq(int, setenv("NOTIFY_SOCKET", name, 1), 0));

        cr_assert(eq(int, clm_notify("WATCHDOG=1"), CLM_OK));
        close(sock);
        sock = fd;
        cr_assert(eq(str, receive(), (char *)"WATCHDOG=1"));
}

Test(notify, unset_is_a_noop)
{
        cr_assert(eq(int, unsetenv("NOTIFY_SOCKET"), 0));
        cr_assert(eq(int, clm_notify("READY=1"), CLM_OK));
        cr_assert(eq(int, clm_notify_status("x"), CLM_OK));
        cr_assert(eq(int, setenv("NOTIFY_SOCKET", "", 1), 0));
        cr_assert(eq(int, clm_notify("READY=1"), CLM_OK));
        assert_nothing_queued(sock);
}

Test(notify, missing_socket_is_io_error)
{
        char path[96];

        (void)snprintf(path, sizeof(path), "%s/nobody-listens", dir);
        cr_assert(eq(int, setenv("NOTIFY_SOCKET", path, 1), 0));
        cr_assert(eq(int, clm_notify("READY=1"), CLM_ERR_IO));
}

Test(notify, relative_or_overlong_path_is_io_error)
{
        char path[200];

        cr_assert(eq(int, setenv("NOTIFY_SOCKET", "relative/notify", 1), 0));
        cr_assert(eq(int, clm_notify("READY=1"), CLM_ERR_IO));
        memset(path, 'a', sizeof(path) - 1);
        path[0] = '/';
        path[sizeof(path) - 1] = '\0';
        cr_assert(eq(int, setenv("NOTIFY_SOCKET", path, 1), 0));
        cr_assert(eq(int, clm_notify("READY=1"), CLM_ERR_IO));
}

Test(notify, watchdog_off_without_env)
{
        cr_assert(eq(int, unsetenv("WATCHDOG_USEC"), 0));
        cr_assert(eq(int, unsetenv("WATCHDOG_PID"), 0));
        cr_assert(eq(u64, clm_notify_watchdog_usec(), (uint64_t)0));
}

Test(notify, watchdog_usec_parsed)
{
        char pid[32];

        cr_assert(eq(int, unsetenv("WATCHDOG_PID"), 0));
        cr_assert(eq(int, setenv("WATCHDOG_USEC", "30000000", 1), 0));
        cr_assert(eq(u64, clm_notify_watchdog_usec(), (uint64_t)30000000));
        (void)snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        cr_assert(eq(int, setenv("WATCHDOG_PID", pid, 1), 0));
        cr_assert(eq(u64, clm_notify_watchdog_usec(), (uint64_t)30000000));
}

Test(notify, watchdog_for_another_pid_is_off)
{
        char pid[32];

        (void)snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
        cr_assert(eq(int, setenv("WATCHDOG_USEC", "30000000", 1), 0));
        cr_assert(eq(int, setenv("WATCHDOG_PID", pid, 1), 0));
        cr_assert(eq(u64, clm_notify_watchdog_usec(), (uint64_t)0));
        cr_assert(eq(int, setenv("WATCHDOG_PID", "garbage", 1), 0));
        cr_assert(eq(u64, clm_notify_watchdog_usec(), (uint64_t)0));
}

Test(notify, watchdog_rejects_malformed_usec)
{
        static const char *const bad[] = {
                "", "0", "-5", "12x", " 5", "abc", "99999999999999999999999"};
        size_t i;

        cr_assert(eq(int, unsetenv("WATCHDOG_PID"), 0));
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                cr_assert(eq(int, setenv("WATCHDOG_USEC", bad[i], 1), 0));
                cr_assert(eq(u64, clm_notify_watchdog_usec(), (uint64_t)0),
                          "WATCHDOG_USEC=\"%s\"", bad[i]);
        }
}
