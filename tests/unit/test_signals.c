/*
 * Signal flags: each test runs in its own Criterion child process, so
 * raising real signals at it is safe and the flags start cleared.
 */
#include <signal.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "daemon/rc.h"
#include "daemon/signals.h"

static void
setup(void)
{
        cr_assert(eq(int, clm_signals_install(), CLM_OK));
}

TestSuite(signals, .init = setup, .timeout = 10);

Test(signals, hup_sets_reload_and_take_clears_it)
{
        cr_assert(not(clm_signals_take_reload()));
        cr_assert(eq(int, raise(SIGHUP), 0));
        cr_assert(clm_signals_take_reload());
        cr_assert(not(clm_signals_take_reload()));
        cr_assert(not(clm_signals_shutdown_requested()));
}

Test(signals, usr1_sets_stats_and_take_clears_it)
{
        cr_assert(eq(int, raise(SIGUSR1), 0));
        cr_assert(clm_signals_take_stats());
        cr_assert(not(clm_signals_take_stats()));
        cr_assert(not(clm_signals_take_reload()));
}

Test(signals, term_requests_shutdown_and_stays_set)
{
        cr_assert(not(clm_signals_shutdown_requested()));
        cr_assert(eq(int, raise(SIGTERM), 0));
        cr_assert(clm_signals_shutdown_requested());
        cr_assert(clm_signals_shutdown_requested());
}

Test(signals, int_requests_shutdown)
{
        cr_assert(eq(int, raise(SIGINT), 0));
        cr_assert(clm_signals_shutdown_requested());
}

Test(signals, second_term_during_shutdown_exits_1, .exit_code = 1)
{
        cr_assert(eq(int, raise(SIGTERM), 0));
        cr_assert(clm_signals_shutdown_requested());
        (void)raise(SIGINT);
        cr_fail("the second signal should have ended the process");
}

/* A shutdown asked for by code (a fatal error) leaves systemd's TERM safe. */
Test(signals, code_request_then_one_term_does_not_exit)
{
        clm_signals_request_shutdown();
        cr_assert(clm_signals_shutdown_requested());
        cr_assert(eq(int, raise(SIGTERM), 0));
        cr_assert(clm_signals_shutdown_requested());
}

Test(signals, sigpipe_ignored)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        cr_assert(eq(int, sigaction(SIGPIPE, NULL, &sa), 0));
        cr_assert(sa.sa_handler == SIG_IGN);
        cr_assert(eq(int, raise(SIGPIPE), 0));
}

Test(signals, handlers_are_not_reset_after_delivery)
{
        struct sigaction sa;

        cr_assert(eq(int, raise(SIGHUP), 0));
        cr_assert(eq(int, raise(SIGHUP), 0));
        cr_assert(clm_signals_take_reload());
        memset(&sa, 0, sizeof(sa));
        cr_assert(eq(int, sigaction(SIGHUP, NULL, &sa), 0));
        cr_assert(eq(int, sa.sa_flags &SA_RESETHAND, 0));
        cr_assert(sa.sa_handler != SIG_DFL);
        cr_assert(sa.sa_handler != SIG_IGN);
}
