/*
 * claimsd: argv, startup order, the main loop and exit codes. The only file
 * that may exit the process. 0 = clean shutdown, 78 (EX_CONFIG) = bad
 * configuration, 1 = runtime failure.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clm_version.h"
#include "consumers/pipeline.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/rc.h"
#include "daemon/signals.h"
#include "schemas/registry.h"

#define EXIT_CONFIG    78
#define STATS_EVERY_MS 30000

static int64_t
mono_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
usage(FILE *f)
{
        fprintf(f, "usage: claimsd -c FILE [--check-config]\n"
                   "       claimsd -c FILE --replay NAME   (started by "
                   "claimsctl replay)\n"
                   "       claimsd --version | --help-config\n");
}

/* Every schema reference must load: a typo should fail --check-config. */
static int
check_schemas(const struct clm_config *cfg)
{
        char err[512];

        for (size_t i = 0; i < cfg->n_schemas; i++) {
                size_t len = 0;
                char *text = clm_schema_load_ref(cfg->schemas[i].ref,
                                                 cfg->schemas_dir, &len, err,
                                                 sizeof(err));

                if (text == NULL) {
                        fprintf(stderr, "%s:%d: schema.%" PRId32 ": %s\n",
                                cfg->path, cfg->schemas[i].line,
                                cfg->schemas[i].id, err);
                        return CLM_ERR_CONFIG;
                }
                free(text);
        }
        return CLM_OK;
}

/*
 * A replay reports under its own instance name in its namespace, so
 * claimsctl -n NAME status tells it from the live processes.
 */
static int
set_replay_instance(struct clm_config *cfg, char *errstr, size_t errstr_size)
{
        char *name = malloc(strlen(cfg->namespace_name) + 8);

        if (name == NULL) {
                (void)snprintf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        (void)sprintf(name, "replay-%s", cfg->namespace_name);
        free(cfg->instance);
        cfg->instance = name;
        return CLM_OK;
}

/* Counts only (no PHI): periodic at info, the final one at notice. */
static void
log_stats(struct clm_pipeline *p, int level)
{
        struct clm_pipeline_stats s;

        clm_pipeline_stats(p, &s);
        clm_log(level,
                "stats: messages=%" PRIu64 " claims=%" PRIu64
                " duplicate=%" PRIu64 " stale=%" PRIu64 " dead_letter=%" PRIu64
                " unattributed=%" PRIu64 " batches=%" PRIu64 " fenced=%" PRIu64
                " pauses=%" PRIu64 " partitions=%zu",
                s.messages, s.claims, s.duplicate, s.stale, s.dead_letter,
                s.unattributed, s.batches, s.fenced, s.pauses, s.assigned);
}

static void
reload(struct clm_config *cfg, struct clm_pipeline *p)
{
        char err[512];
        char status[160];
        char msg[200];
        struct clm_config *fresh;

        (void)clm_notify("RELOADING=1\nSTATUS=reloading configuration");
        fresh = clm_config_load(cfg->path, err, sizeof(err));
        if (fresh == NULL) {
                clm_log(CLM_LOG_ERR, "reload failed, keeping old config: %s",
                        err);
        } else {
                clm_config_apply_reload(cfg, fresh);
                clm_log_level = cfg->log_level;
                clm_pipeline_reload(p, cfg);
                clm_config_free(fresh);
                clm_log(CLM_LOG_NOTICE, "configuration reloaded");
        }
        /* READY ends the reload; STATUS says where the pipeline stands
         * (it may be retrying Redis), not merely "running". */
        (void)clm_pipeline_state(p, status, sizeof(status));
        (void)snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
        (void)clm_notify(msg);
}

/* The main loop: tick, flags, watchdog and status. Returns the exit code. */
static int
run(struct clm_config *cfg, struct clm_pipeline *p)
{
        uint64_t wd_usec = clm_notify_watchdog_usec();
        int64_t wd_every = (int64_t)(wd_usec / 2000);
        int64_t last_wd = 0;
        int64_t last_stats = mono_ms();
        enum clm_pipeline_state last = CLM_PIPE_STARTING;
        bool ready = false;
        char status[160];
        char last_status[160] = "";

        int64_t finish_at = 0;

        while (!clm_signals_shutdown_requested()) {
                int64_t now = mono_ms();
                enum clm_pipeline_state st;

                if (clm_pipeline_tick(p, now, 100) != CLM_OK) {
                        (void)clm_notify("STATUS=failed");
                        return 1;
                }
                st = clm_pipeline_state(p, status, sizeof(status));
                /* STATUS on every change of state or of its text (the
                 * retry countdown of "redis unavailable, retrying in Ns"). */
                if (st != last || strcmp(status, last_status) != 0) {
                        if (st == CLM_PIPE_RUNNING && !ready) {
                                ready = true;
                                (void)clm_notify("READY=1\nSTATUS=running");
                                clm_log(CLM_LOG_NOTICE, "running");
                        } else {
                                (void)clm_notify_status("%s", status);
                        }
                        last = st;
                        (void)snprintf(last_status, sizeof(last_status), "%s",
                                       status);
                }
                if (wd_every > 0 && now - last_wd >= wd_every) {
                        (void)clm_notify("WATCHDOG=1");
                        last_wd = now;
                }
                if (clm_signals_take_reload()) {
                        reload(cfg, p);
                }
                if (clm_signals_take_stats() ||
                    now - last_stats >= STATS_EVERY_MS) {
                        log_stats(p, CLM_LOG_INFO);
                        last_stats = now;
                }
                if (now >= finish_at && clm_pipeline_replay_done(p)) {
                        char err[256];

                        if (clm_pipeline_replay_finish(p, err, sizeof(err)) ==
                            CLM_OK) {
                                clm_log(CLM_LOG_NOTICE,
                                        "replay %s complete: every partition "
                                        "applied up to its end offset",
                                        cfg->namespace_name);
                                return 0;
                        }
                        clm_log(CLM_LOG_WARNING, "replay: %s; retrying", err);
                        finish_at = now + 1000;
                }
        }
        return 0;
}

int
main(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"config", required_argument, NULL, 'c'},
                {"check-config", no_argument, NULL, 't'},
                {"test-config", no_argument, NULL, 't'},
                {"version", no_argument, NULL, 'V'},
                {"help-config", no_argument, NULL, 'H'},
                {"help", no_argument, NULL, 'h'},
                {"replay", required_argument, NULL, 'R'},
                {NULL, 0, NULL, 0},
        };
        const char *path = NULL;
        const char *replay = NULL;
        bool check = false;
        struct clm_config *cfg;
        struct clm_pipeline *p;
        char err[512];
        char host[128];
        int opt;
        int rc;

        while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        path = optarg;
                        break;
                case 't':
                        check = true;
                        break;
                case 'R':
                        replay = optarg;
                        break;
                case 'V':
                        printf("claimsd %s\n", CLM_VERSION);
                        return 0;
                case 'H':
                        clm_config_print_help();
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return EXIT_CONFIG;
                }
        }
        if (path == NULL) {
                usage(stderr);
                return EXIT_CONFIG;
        }
        cfg = clm_config_load(path, err, sizeof(err));
        if (cfg == NULL) {
                fprintf(stderr, "claimsd: %s\n", err);
                return EXIT_CONFIG;
        }
        if (check_schemas(cfg) != CLM_OK) {
                clm_config_free(cfg);
                return EXIT_CONFIG;
        }
        if (replay != NULL &&
            (clm_config_use_namespace(cfg, replay, err, sizeof(err)) !=
                     CLM_OK ||
             set_replay_instance(cfg, err, sizeof(err)) != CLM_OK)) {
                fprintf(stderr, "claimsd: --replay %s: %s\n", replay, err);
                clm_config_free(cfg);
                return EXIT_CONFIG;
        }
        if (check) {
                printf("%s: configuration OK\n", path);
                clm_config_free(cfg);
                return 0;
        }
        clm_log_level = cfg->log_level;
        if (cfg->instance == NULL || cfg->instance[0] == '\0') {
                if (gethostname(host, sizeof(host)) != 0) {
                        (void)snprintf(host, sizeof(host), "localhost");
                }
                host[sizeof(host) - 1] = '\0';
                free(cfg->instance);
                cfg->instance = malloc(strlen(host) + 24);
                if (cfg->instance != NULL) {
                        (void)sprintf(cfg->instance, "%s:%ld", host,
                                      (long)getpid());
                }
        }
        if (clm_signals_install() != CLM_OK) {
                fprintf(stderr, "claimsd: cannot install signal handlers\n");
                clm_config_free(cfg);
                return 1;
        }
        (void)clm_notify("STATUS=starting");
        clm_log(CLM_LOG_NOTICE, "claimsd %s starting (config %s)", CLM_VERSION,
                path);
        p = clm_pipeline_new(cfg, err, sizeof(err));
        if (p == NULL) {
                clm_log(CLM_LOG_ERR, "startup failed: %s", err);
                fprintf(stderr, "claimsd: %s: %s\n", path, err);
                clm_config_free(cfg);
                return EXIT_CONFIG;
        }
        rc = run(cfg, p);
        (void)clm_notify("STOPPING=1\nSTATUS=draining");
        clm_log(CLM_LOG_NOTICE, "shutting down: draining the batch in hand");
        clm_pipeline_drain(p);
        log_stats(p, CLM_LOG_NOTICE);
        clm_pipeline_free(p);
        clm_log(CLM_LOG_NOTICE, "stopped");
        clm_config_free(cfg);
        return rc;
}
