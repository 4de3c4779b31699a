/*
 * The systemd notify protocol without libsystemd (style B10): each call
 * sends one datagram to $NOTIFY_SOCKET, a filesystem path or, with a
 * leading '@', a Linux abstract socket name. When the variable is unset
 * every call is a no-op, so the daemon runs the same outside systemd.
 * Failures are reported as CLM_ERR_IO and never stop the daemon; this
 * module does not log (callers decide).
 */
#include "daemon/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/rc.h"

#define STATUS_MAX 512

/*
 * Fill @p sun from $NOTIFY_SOCKET. Returns the address length, 0 when the
 * variable is unset or empty, or -1 when it cannot name a socket.
 */
static int
notify_address(struct sockaddr_un *sun)
{
        const char *path = getenv("NOTIFY_SOCKET");
        size_t len;

        if (path == NULL || path[0] == '\0') {
                return 0;
        }
        len = strlen(path);
        if ((path[0] != '/' && path[0] != '@') ||
            len >= sizeof(sun->sun_path)) {
                return -1;
        }
        memset(sun, 0, sizeof(*sun));
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, len);
        if (path[0] == '@') {
                /* Abstract: the name is the bytes after a NUL, unterminated. */
                sun->sun_path[0] = '\0';
                return (int)(offsetof(struct sockaddr_un, sun_path) + len);
        }
        return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int
clm_notify(const char *state)
{
        struct sockaddr_un sun;
        size_t len = strlen(state);
        int salen = notify_address(&sun);
        ssize_t n;
        int fd;

        if (salen == 0) {
                return CLM_OK;
        }
        if (salen < 0) {
                return CLM_ERR_IO;
        }
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                return CLM_ERR_IO;
        }
        do {
                n = sendto(fd, state, len, MSG_NOSIGNAL,
                           (const struct sockaddr *)&sun, (socklen_t)salen);
        } while (n < 0 && errno == EINTR);
        (void)close(fd);
        return n == (ssize_t)len ? CLM_OK : CLM_ERR_IO;
}

int
clm_notify_status(const char *fmt, ...)
{
        char buf[STATUS_MAX];
        const size_t prefix = sizeof("STATUS=") - 1;
        char *p;
        va_list ap;

        memcpy(buf, "STATUS=", prefix);
        va_start(ap, fmt);
        (void)vsnprintf(buf + prefix, sizeof(buf) - prefix, fmt, ap);
        va_end(ap);
        /* One assignment per line in the protocol: keep STATUS on one. */
        for (p = buf; *p != '\0'; p++) {
                if (*p == '\n') {
                        *p = ' ';
                }
        }
        return clm_notify(buf);
}

/* Parse a whole decimal string into @p out; false on anything else. */
static bool
parse_u64(const char *s, unsigned long long *out)
{
        char *end = NULL;
        unsigned long long v;

        if (s == NULL || s[0] < '0' || s[0] > '9') {
                return false;
        }
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0') {
                return false;
        }
        *out = v;
        return true;
}

uint64_t
clm_notify_watchdog_usec(void)
{
        unsigned long long usec;
        unsigned long long pid;
        const char *pid_str = getenv("WATCHDOG_PID");

        if (!parse_u64(getenv("WATCHDOG_USEC"), &usec) || usec == 0) {
                return 0;
        }
        /* Set by systemd for the main PID; a forked child must not ping. */
        if (pid_str != NULL && (!parse_u64(pid_str, &pid) ||
                                pid != (unsigned long long)getpid())) {
                return 0;
        }
        return (uint64_t)usec;
}
