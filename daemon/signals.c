/*
 * Signal handling: the handlers only set volatile sig_atomic_t flags that
 * the main loop polls (redis model). Nothing here logs, allocates or takes
 * locks inside a handler. The one exception to "only set a flag" is a
 * second TERM/INT while a signal-requested shutdown is already under way:
 * it writes a fixed message with write(2) and calls _exit(1), so an
 * operator can always get out of a stuck drain.
 */
#include "daemon/signals.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "daemon/rc.h"

static volatile sig_atomic_t shutdown_flag;
static volatile sig_atomic_t term_signals; /* TERM/INT received so far */
static volatile sig_atomic_t reload_flag;
static volatile sig_atomic_t stats_flag;

static void
on_signal(int signo)
{
        static const char msg[] =
                "claimsd: second termination signal, exiting now\n";
        ssize_t n;

        switch (signo) {
        case SIGTERM:
        case SIGINT:
                if (term_signals != 0) {
                        n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
                        (void)n;
                        _exit(1);
                }
                term_signals = 1;
                shutdown_flag = 1;
                break;
        case SIGHUP:
                reload_flag = 1;
                break;
        case SIGUSR1:
                stats_flag = 1;
                break;
        default:
                break;
        }
}

int
clm_signals_install(void)
{
        static const int handled[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
        struct sigaction sa;
        size_t i;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        /* Block the other handled signals while one handler runs. */
        if (sigemptyset(&sa.sa_mask) != 0) {
                return CLM_ERR_FATAL;
        }
        for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
                if (sigaddset(&sa.sa_mask, handled[i]) != 0) {
                        return CLM_ERR_FATAL;
                }
        }
        /* Restart slow syscalls; the main loop polls with a short timeout. */
        sa.sa_flags = SA_RESTART;
        for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
                if (sigaction(handled[i], &sa, NULL) != 0) {
                        return CLM_ERR_FATAL;
                }
        }

        /* hiredis writes to sockets: a closed peer must be EPIPE, not death. */
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        if (sigemptyset(&sa.sa_mask) != 0 ||
            sigaction(SIGPIPE, &sa, NULL) != 0) {
                return CLM_ERR_FATAL;
        }
        return CLM_OK;
}

bool
clm_signals_shutdown_requested(void)
{
        return shutdown_flag != 0;
}

bool
clm_signals_take_reload(void)
{
        if (reload_flag == 0) {
                return false;
        }
        reload_flag = 0; /* a signal arriving just now merges with this one */
        return true;
}

bool
clm_signals_take_stats(void)
{
        if (stats_flag == 0) {
                return false;
        }
        stats_flag = 0; /* a signal arriving just now merges with this one */
        return true;
}

void
clm_signals_request_shutdown(void)
{
        shutdown_flag = 1;
}
