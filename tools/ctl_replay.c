/*
 * claimsctl replay (tools/ctl_replay.h, docs/replay.md).
 *
 * The range is decided here, once: the manifest fixes [start, end) for
 * every partition of the claim, attribution and registry topics before
 * claimsd starts, and a rerun resumes towards the same ends. The
 * replaying itself is claimsd's own code path (claimsd --replay NAME); this
 * file only prepares, launches and watches it, reading progress from the
 * namespace's offsets in Redis, the same numbers the fence keeps.
 */
#define _DEFAULT_SOURCE /* timegm, usleep */
#include "tools/ctl_replay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "clm_version.h"
#include "consumers/producer.h"
#include "consumers/redisconn.h"
#include "daemon/rc.h"
#include "tools/ctl_quality.h"

#define MAX_TP       1024
#define MAX_ATTR     16
#define EXIT_DONE    0
#define EXIT_FAILED  1
#define EXIT_REFUSED 2

struct range {
        char topic[160];
        char tp[200];
        int64_t start;
        int64_t end;
};

struct opts {
        const char *name;
        const char *until;
        const char *until_offsets;
        const char *attribution[MAX_ATTR];
        int n_attr;
        const char *claimsd;
        const char *log;
        bool quiet;
};

struct replay {
        const char *config_path;
        struct clm_config *cfg;
        const struct clm_keyhash *kh;
        redisContext *c;
        struct opts o;
        struct range r[MAX_TP];
        size_t n;
        char until_text[PATH_MAX + 16];
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
        (void)sig;
        interrupted = 1;
}

static int64_t
wall_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ctl_parse_time(const char *s, int64_t *ms)
{
        struct tm tm = {0};
        char tail[4] = "";
        int n = 0;

        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%1s%n", &tm.tm_year, &tm.tm_mon,
                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, tail,
                   &n) != 7 ||
            strcmp(tail, "Z") != 0 || s[n] != '\0') {
                /* not a full UTC time: a date means its midnight, UTC */
                memset(&tm, 0, sizeof(tm));
                n = 0;
                if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon,
                           &tm.tm_mday, &n) != 3 ||
                    s[n] != '\0') {
                        return CLM_ERR_INVALID;
                }
        }
        if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
            tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
            tm.tm_sec > 60 || tm.tm_year < 1970) {
                return CLM_ERR_INVALID;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *ms = (int64_t)timegm(&tm) * 1000;
        return CLM_OK;
}

static int
usage(void)
{
        fprintf(stderr,
                "usage: claimsctl -c CONFIG replay --namespace NAME\n"
                "         [--until TIME | --until-offsets FILE]\n"
                "         [--attribution CSV]... [--claimsd PATH] "
                "[--log FILE] [--quiet]\n"
                "  TIME: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), compared "
                "with Kafka message timestamps\n"
                "  FILE: lines \"topic/partition offset\" (end offsets, "
                "exclusive)\n"
                "  without either: everything the topics hold when it "
                "starts\n");
        return EXIT_REFUSED;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(a, "--quiet") == 0) {
                        o->quiet = true;
                        continue;
                }
                if (v == NULL) {
                        fprintf(stderr, "claimsctl replay: %s needs a value\n",
                                a);
                        return CLM_ERR_INVALID;
                }
                if (strcmp(a, "--namespace") == 0) {
                        o->name = v;
                } else if (strcmp(a, "--until") == 0) {
                        o->until = v;
                } else if (strcmp(a, "--until-offsets") == 0) {
                        o->until_offsets = v;
                } else if (strcmp(a, "--attribution") == 0 &&
                           o->n_attr < MAX_ATTR) {
                        o->attribution[o->n_attr++] = v;
                } else if (strcmp(a, "--claimsd") == 0) {
                        o->claimsd = v;
                } else if (strcmp(a, "--log") == 0) {
                        o->log = v;
                } else {
                        fprintf(stderr, "claimsctl replay: %s: bad option\n",
                                a);
                        return CLM_ERR_INVALID;
                }
                i++;
        }
        if (o->until != NULL && o->until_offsets != NULL) {
                fprintf(stderr, "claimsctl replay: --until and "
                                "--until-offsets exclude each other\n");
                return CLM_ERR_INVALID;
        }
        return CLM_OK;
}

/* ---- the manifest ------------------------------------------------------ */

static bool
reply_ok(const redisContext *c, const redisReply *r)
{
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                fprintf(stderr, "claimsctl replay: redis: %s\n",
                        r == NULL ? c->errstr : r->str);
                return false;
        }
        return true;
}

/* Ranges back from a manifest written by an earlier run. */
static void
ranges_from_manifest(struct replay *rp, const redisReply *h)
{
        rp->n = 0;
        for (size_t i = 0; i + 1 < h->elements && rp->n < MAX_TP; i += 2) {
                const char *k = h->element[i]->str;
                struct range *r = &rp->r[rp->n];
                char start_field[220];
                const char *slash;
                const char *s;

                if (strncmp(k, "end:", 4) != 0) {
                        continue;
                }
                (void)snprintf(r->tp, sizeof(r->tp), "%s", k + 4);
                slash = strrchr(r->tp, '/');
                if (slash == NULL) {
                        continue;
                }
                if ((size_t)(slash - r->tp) >= sizeof(r->topic)) {
                        continue;
                }
                memcpy(r->topic, r->tp, (size_t)(slash - r->tp));
                r->topic[slash - r->tp] = '\0';
                r->end = strtoll(h->element[i + 1]->str, NULL, 10);
                (void)snprintf(start_field, sizeof(start_field), "start:%s",
                               r->tp);
                s = clm_redis_hash_field(h, start_field);
                r->start = s != NULL ? strtoll(s, NULL, 10) : 0;
                rp->n++;
        }
}

/* "topic/partition offset" lines (or "topic partition offset"). */
static int
read_offsets_file(const char *path, struct range *r, size_t n)
{
        FILE *f = fopen(path, "r");
        char line[512];
        int lineno = 0;
        bool *seen = calloc(n + 1, sizeof(*seen));
        int rc = CLM_OK;

        if (f == NULL || seen == NULL) {
                fprintf(stderr, "claimsctl replay: %s: %s\n", path,
                        strerror(errno));
                free(seen);
                if (f != NULL) {
                        fclose(f);
                }
                return CLM_ERR_INVALID;
        }
        while (rc == CLM_OK && fgets(line, sizeof(line), f) != NULL) {
                char tp[256];
                char a[200];
                long long p = 0;
                long long off = 0;
                size_t k;

                lineno++;
                line[strcspn(line, "#\r\n")] = '\0';
                if (line[strspn(line, " \t")] == '\0') {
                        continue;
                }
                if (sscanf(line, "%199s %lld %lld", a, &p, &off) == 3) {
                        (void)snprintf(tp, sizeof(tp), "%s/%lld", a, p);
                } else if (sscanf(line, "%255s %lld", tp, &off) != 2) {
                        fprintf(stderr,
                                "claimsctl replay: %s:%d: expected "
                                "\"topic/partition offset\"\n",
                                path, lineno);
                        rc = CLM_ERR_INVALID;
                        break;
                }
                for (k = 0; k < n && strcmp(r[k].tp, tp) != 0; k++) {
                }
                if (k == n) {
                        fprintf(stderr,
                                "claimsctl replay: %s:%d: %s is not a "
                                "partition of the replayed topics\n",
                                path, lineno, tp);
                        rc = CLM_ERR_INVALID;
                } else if (off < r[k].start || off > r[k].end) {
                        fprintf(stderr,
                                "claimsctl replay: %s:%d: %s offset %lld is "
                                "outside what the topic holds [%" PRId64
                                ", %" PRId64 "]\n",
                                path, lineno, tp, off, r[k].start, r[k].end);
                        rc = CLM_ERR_INVALID;
                } else {
                        r[k].end = off;
                        seen[k] = true;
                }
        }
        fclose(f);
        for (size_t k = 0; rc == CLM_OK && k < n; k++) {
                if (!seen[k]) {
                        fprintf(stderr,
                                "claimsctl replay: %s does not list %s\n", path,
                                r[k].tp);
                        rc = CLM_ERR_INVALID;
                }
        }
        free(seen);
        return rc;
}

/* Every partition's range from the broker, as of now. */
static int
ranges_from_kafka(struct replay *rp, int64_t until_ms)
{
        const struct clm_config *cfg = rp->cfg;
        const char *topics[3] = {cfg->topic_claims, cfg->topic_attribution,
                                 cfg->topic_registry};
        struct clm_range cr[MAX_TP];
        char err[512];
        struct clm_producer *k = clm_producer_new(cfg, cfg->topic_claims,
                                                  "replay", err, sizeof(err));

        if (k == NULL) {
                fprintf(stderr, "claimsctl replay: kafka: %s\n", err);
                return CLM_ERR_KAFKA;
        }
        rp->n = 0;
        for (int t = 0; t < 3; t++) {
                int n;

                if (topics[t] == NULL || topics[t][0] == '\0') {
                        continue;
                }
                n = clm_producer_ranges(k, topics[t], until_ms, cr,
                                        (int)(MAX_TP - rp->n), err,
                                        sizeof(err));
                if (n < 0) {
                        fprintf(stderr, "claimsctl replay: %s\n", err);
                        clm_producer_free(k);
                        return CLM_ERR_KAFKA;
                }
                if (n == 0 && t == 0) {
                        fprintf(stderr,
                                "claimsctl replay: the claims topic %s does "
                                "not exist\n",
                                topics[t]);
                        clm_producer_free(k);
                        return CLM_ERR_INVALID;
                }
                for (int i = 0; i < n; i++) {
                        struct range *r = &rp->r[rp->n++];

                        (void)snprintf(r->topic, sizeof(r->topic), "%s",
                                       topics[t]);
                        (void)snprintf(r->tp, sizeof(r->tp), "%s/%" PRId32,
                                       topics[t], cr[i].partition);
                        r->start = cr[i].low;
                        r->end = cr[i].until;
                        if (cr[i].low > 0) {
                                fprintf(stderr,
                                        "claimsctl replay: warning: %s starts "
                                        "at offset %" PRId64
                                        ": earlier messages are past "
                                        "retention, so this replay cannot "
                                        "include them\n",
                                        r->tp, cr[i].low);
                        }
                }
        }
        clm_producer_free(k);
        if (rp->o.until_offsets != NULL) {
                return read_offsets_file(rp->o.until_offsets, rp->r, rp->n);
        }
        return CLM_OK;
}

static int
config_digest(const char *path, char hex[65])
{
        FILE *f = fopen(path, "rb");
        unsigned char *buf = NULL;
        uint8_t md[32];
        long len;

        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0 ||
            (buf = malloc((size_t)len + 1)) == NULL ||
            fread(buf, 1, (size_t)len, f) != (size_t)len) {
                if (f != NULL) {
                        fclose(f);
                }
                free(buf);
                return CLM_ERR_INVALID;
        }
        fclose(f);
        clm_sha256(buf, (size_t)len, md);
        free(buf);
        for (int i = 0; i < 32; i++) {
                (void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }
        return CLM_OK;
}

static int
write_manifest(struct replay *rp)
{
        const struct clm_config *cfg = rp->cfg;
        char digest[65] = "";
        char topics[512] = "";
        char created[24];
        redisReply *r;
        bool ok = true;

        (void)config_digest(rp->config_path, digest);
        for (size_t i = 0; i < rp->n; i++) {
                if (strstr(topics, rp->r[i].topic) == NULL) {
                        size_t l = strlen(topics);

                        (void)snprintf(topics + l, sizeof(topics) - l, "%s%s",
                                       l ? "," : "", rp->r[i].topic);
                }
        }
        (void)snprintf(created, sizeof(created), "%" PRId64, wall_ms());
        r = redisCommand(rp->c,
                         "HSET %sreplay name %s live_prefix %s state preparing "
                         "until %s created %s config_sha256 %s "
                         "claimsd_version %s topics %s",
                         cfg->redis_prefix, cfg->namespace_name,
                         cfg->live_prefix, rp->until_text, created, digest,
                         CLM_VERSION, topics);
        ok = reply_ok(rp->c, r);
        freeReplyObject(r);
        for (size_t i = 0; ok && i < rp->n; i++) {
                r = redisCommand(rp->c,
                                 "HSET %sreplay start:%s %" PRId64
                                 " end:%s %" PRId64,
                                 cfg->redis_prefix, rp->r[i].tp, rp->r[i].start,
                                 rp->r[i].tp, rp->r[i].end);
                ok = reply_ok(rp->c, r);
                freeReplyObject(r);
        }
        return ok ? CLM_OK : CLM_ERR_REDIS;
}

/* ---- reference data ---------------------------------------------------- */

/*
 * Calls @p each for every key matching @p pattern (SCAN, so the server is
 * never blocked); stops early when it returns false.
 */
static int
scan_keys(struct replay *rp,
          const char *pattern,
          bool (*each)(struct replay *rp, const char *key, void *arg),
          void *arg)
{
        char cursor[32] = "0";
        bool more = true;

        do {
                redisReply *s = redisCommand(
                        rp->c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);

                if (!reply_ok(rp->c, s) || s->type != REDIS_REPLY_ARRAY ||
                    s->elements != 2) {
                        freeReplyObject(s);
                        return CLM_ERR_REDIS;
                }
                (void)snprintf(cursor, sizeof(cursor), "%s",
                               s->element[0]->str);
                for (size_t i = 0; more && i < s->element[1]->elements; i++) {
                        more = each(rp, s->element[1]->element[i]->str, arg);
                }
                freeReplyObject(s);
        } while (more && strcmp(cursor, "0") != 0);
        return more ? CLM_OK : CLM_ERR_INVALID;
}

/* One participant table, copied field by field into the namespace. */
static bool
copy_table(struct replay *rp, const char *key, void *arg)
{
        long *copied = arg;
        redisReply *h = redisCommand(rp->c, "HGETALL %s", key);
        bool ok = reply_ok(rp->c, h);

        for (size_t k = 0; ok && k + 1 < h->elements; k += 2) {
                redisReply *w = redisCommand(
                        rp->c, "HSET %s%s %s %s", rp->cfg->redis_prefix,
                        key + strlen(rp->cfg->live_prefix), h->element[k]->str,
                        h->element[k + 1]->str);

                ok = reply_ok(rp->c, w);
                freeReplyObject(w);
        }
        freeReplyObject(h);
        (*copied)++;
        return ok;
}

/* The participant tables: loaded by claimsctl, carried by no topic. */
static int
copy_participants(struct replay *rp, long *copied)
{
        char pattern[256];

        (void)snprintf(pattern, sizeof(pattern), "%sparticipant:*",
                       rp->cfg->live_prefix);
        return scan_keys(rp, pattern, copy_table, copied) == CLM_OK
                       ? CLM_OK
                       : CLM_ERR_REDIS;
}

/*
 * Parameter sets as live holds them now (claimsctl load-acos writes no
 * topic), and the ACO list. Sets that came from the registry topic are
 * replayed from it as well, the same text.
 */
static int
copy_parameters(struct replay *rp, long *copied)
{
        const struct clm_config *cfg = rp->cfg;
        redisReply *m =
                redisCommand(rp->c, "SMEMBERS %spayparams", cfg->live_prefix);
        redisReply *a;
        int rc = CLM_OK;

        if (!reply_ok(rp->c, m)) {
                freeReplyObject(m);
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; rc == CLM_OK && i < m->elements; i++) {
                char aco[128];
                char year[16];
                redisReply *t;

                if (sscanf(m->element[i]->str, "%127[^:]:%15s", aco, year) !=
                    2) {
                        continue;
                }
                t = redisCommand(rp->c, "HGET %saco:%s:params %s",
                                 cfg->live_prefix, aco, year);
                if (reply_ok(rp->c, t) && t->type == REDIS_REPLY_STRING) {
                        redisReply *w = redisCommand(
                                rp->c, "HSET %saco:%s:params %s %b",
                                cfg->redis_prefix, aco, year, t->str,
                                (size_t)t->len);

                        rc = reply_ok(rp->c, w) ? CLM_OK : CLM_ERR_REDIS;
                        freeReplyObject(w);
                        w = redisCommand(rp->c, "SADD %spayparams %s",
                                         cfg->redis_prefix, m->element[i]->str);
                        freeReplyObject(w);
                        (*copied)++;
                }
                freeReplyObject(t);
        }
        freeReplyObject(m);
        a = redisCommand(rp->c, "SMEMBERS %sacos", cfg->live_prefix);
        for (size_t i = 0;
             rc == CLM_OK && reply_ok(rp->c, a) && i < a->elements; i++) {
                redisReply *w =
                        redisCommand(rp->c, "SADD %sacos %s", cfg->redis_prefix,
                                     a->element[i]->str);

                freeReplyObject(w);
        }
        freeReplyObject(a);
        return rc;
}

static int
prepare(struct replay *rp)
{
        long participants = 0;
        long params = 0;
        redisReply *r;
        int rc;

        rc = copy_participants(rp, &participants);
        if (rc == CLM_OK) {
                rc = copy_parameters(rp, &params);
        }
        for (int i = 0; rc == CLM_OK && i < rp->o.n_attr; i++) {
                /* Through the Redis function, like a live load: the same
                 * record twice changes nothing, so a rerun is safe. */
                if (ctl_load_attribution(rp->cfg, rp->kh,
                                         rp->o.attribution[i]) != 0) {
                        rc = CLM_ERR_INVALID;
                }
        }
        if (rc != CLM_OK) {
                return rc;
        }
        r = redisCommand(rp->c,
                         "HSET %sreplay state running reference "
                         "participant_tables=%ld,parameter_sets=%ld,"
                         "attribution_files=%d",
                         rp->cfg->redis_prefix, participants, params,
                         rp->o.n_attr);
        rc = reply_ok(rp->c, r) ? CLM_OK : CLM_ERR_REDIS;
        freeReplyObject(r);
        if (rc == CLM_OK && !rp->o.quiet) {
                printf("replay %s: copied %ld participant tables and %ld "
                       "parameter sets from %s; loaded %d attribution "
                       "files\n",
                       rp->cfg->namespace_name, participants, params,
                       rp->cfg->live_prefix, rp->o.n_attr);
        }
        return rc;
}

static bool
found_key(struct replay *rp, const char *key, void *arg)
{
        (void)rp;
        (void)key;
        *(bool *)arg = true;
        return false;
}

/* A namespace without a manifest must be empty: never adopt other data. */
static int
namespace_is_empty(struct replay *rp, bool *empty)
{
        char pattern[256];
        bool found = false;

        (void)snprintf(pattern, sizeof(pattern), "%s*", rp->cfg->redis_prefix);
        if (scan_keys(rp, pattern, found_key, &found) == CLM_ERR_REDIS) {
                return CLM_ERR_REDIS;
        }
        *empty = !found;
        return CLM_OK;
}

/* ---- running claimsd --------------------------------------------------- */

static void
claimsd_path(const struct opts *o, char *out, size_t size)
{
        char self[PATH_MAX];
        ssize_t n;
        const char *env = getenv("CLAIMSD");

        if (o->claimsd != NULL || (env != NULL && env[0] != '\0')) {
                (void)snprintf(out, size, "%s", o->claimsd ? o->claimsd : env);
                return;
        }
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                static const char *const rel[] = {"claimsd", "../sbin/claimsd"};
                char *slash;

                self[n] = '\0';
                slash = strrchr(self, '/');
                for (size_t i = 0; slash != NULL && i < 2; i++) {
                        (void)snprintf(out, size, "%.*s/%s",
                                       (int)(slash - self), self, rel[i]);
                        if (access(out, X_OK) == 0) {
                                return;
                        }
                }
        }
        (void)snprintf(out, size, "claimsd"); /* from PATH */
}

static pid_t
spawn(const struct replay *rp, const char *bin)
{
        pid_t parent = getpid();
        pid_t pid = fork();

        if (pid != 0) {
                return pid;
        }
        /* A killed claimsctl takes its claimsd along: a replay without
         * its watcher would run unseen. Resuming is always safe. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
                _exit(EXIT_FAILED);
        }
        if (rp->o.log != NULL) {
                int fd = open(rp->o.log, O_WRONLY | O_CREAT | O_APPEND, 0640);

                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
                    dup2(fd, STDERR_FILENO) < 0) {
                        perror(rp->o.log);
                        _exit(EXIT_FAILED);
                }
                (void)close(fd);
        }
        execlp(bin, "claimsd", "-c", rp->config_path, "--replay",
               rp->cfg->namespace_name, (char *)NULL);
        fprintf(stderr, "claimsctl replay: cannot run %s: %s\n", bin,
                strerror(errno));
        _exit(127);
}

/* ---- progress ---------------------------------------------------------- */

struct topic_progress {
        const char *topic;
        int64_t done;
        int64_t total;
};

/* Messages applied per topic: the namespace's offsets clamped to ranges. */
static size_t
progress(struct replay *rp, struct topic_progress *tp, size_t max)
{
        redisReply *h =
                redisCommand(rp->c, "HGETALL %soffset", rp->cfg->redis_prefix);
        size_t nt = 0;

        for (size_t i = 0; i < rp->n; i++) {
                const struct range *r = &rp->r[i];
                const char *v = (h != NULL && h->type == REDIS_REPLY_ARRAY)
                                        ? clm_redis_hash_field(h, r->tp)
                                        : NULL;
                int64_t off = v != NULL ? strtoll(v, NULL, 10) : r->start;
                int64_t done = off - r->start;
                size_t k;

                if (done < 0) {
                        done = 0;
                }
                if (done > r->end - r->start) {
                        done = r->end - r->start;
                }
                for (k = 0; k < nt && strcmp(tp[k].topic, r->topic) != 0; k++) {
                }
                if (k == nt && nt < max) {
                        tp[nt++] = (struct topic_progress){.topic = r->topic};
                }
                if (k < nt) {
                        tp[k].done += done;
                        tp[k].total +=
                                r->end > r->start ? r->end - r->start : 0;
                }
        }
        if (h != NULL) {
                freeReplyObject(h);
        }
        return nt;
}

static void
fmt_eta(int64_t s, char *out, size_t size)
{
        if (s < 0) {
                (void)snprintf(out, size, "--:--");
        } else {
                (void)snprintf(out, size,
                               "%" PRId64 ":%02" PRId64 ":%02" PRId64, s / 3600,
                               s / 60 % 60, s % 60);
        }
}

#define MAX_TOPICS 8

struct watch {
        bool tty;
        int drawn; /* lines of the last drawing (tty) */
        int64_t started_ms;
        int64_t last_line_ms;
        int64_t first_done;
        bool have_first;
        int64_t prev_ms; /* rate window */
        int64_t prev_done[MAX_TOPICS];
        /* messages per second, smoothed; display only, never money */
        double rate[MAX_TOPICS];
};

/* Smoothed per-topic rates over windows of at least a second. */
static void
update_rates(struct watch *w,
             const struct topic_progress *tp,
             size_t nt,
             int64_t now)
{
        if (!w->have_first) {
                w->have_first = true;
                w->prev_ms = now;
                for (size_t i = 0; i < nt; i++) {
                        w->first_done += tp[i].done;
                        w->prev_done[i] = tp[i].done;
                }
                return;
        }
        if (now - w->prev_ms < 1000) {
                return;
        }
        for (size_t i = 0; i < nt; i++) {
                double inst = (double)(tp[i].done - w->prev_done[i]) * 1000.0 /
                              (double)(now - w->prev_ms);

                w->rate[i] = w->rate[i] == 0.0 ? inst
                                               : 0.7 * w->rate[i] + 0.3 * inst;
                w->prev_done[i] = tp[i].done;
        }
        w->prev_ms = now;
}

static void
draw_bar(const struct topic_progress *t, double rate)
{
        enum { WIDTH = 30 };

        int fill = t->total > 0 ? (int)(t->done * WIDTH / t->total) : WIDTH;
        char eta[32];
        char bar[WIDTH + 1];

        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(WIDTH - fill));
        bar[WIDTH] = '\0';
        fmt_eta(t->done >= t->total ? 0
                : rate > 0 ? (int64_t)((double)(t->total - t->done) / rate)
                           : -1,
                eta, sizeof(eta));
        printf("\033[2K%-24.24s [%s] %3d%% %12" PRId64 "/%-12" PRId64
               " %9.0f msg/s  ETA %s\n",
               t->topic, bar,
               t->total > 0 ? (int)(t->done * 100 / t->total) : 100, t->done,
               t->total, rate, eta);
}

static void
draw(struct watch *w, const struct topic_progress *tp, size_t nt, int64_t now)
{
        update_rates(w, tp, nt, now);
        if (w->tty) {
                if (w->drawn > 0) {
                        printf("\033[%dA", w->drawn);
                }
                for (size_t i = 0; i < nt; i++) {
                        draw_bar(&tp[i], w->rate[i]);
                }
                w->drawn = (int)nt;
                fflush(stdout);
        } else if (now - w->last_line_ms >= 10000) {
                w->last_line_ms = now;
                printf("replay progress:");
                for (size_t i = 0; i < nt; i++) {
                        printf(" %s %" PRId64 "/%" PRId64 " (%.0f msg/s)",
                               tp[i].topic, tp[i].done, tp[i].total,
                               w->rate[i]);
                }
                printf("\n");
                fflush(stdout);
        }
}

static int
state_of(struct replay *rp, char *out, size_t size)
{
        redisReply *r = redisCommand(rp->c, "HGET %sreplay state",
                                     rp->cfg->redis_prefix);
        int rc = CLM_ERR_REDIS;

        out[0] = '\0';
        if (reply_ok(rp->c, r) && r->type == REDIS_REPLY_STRING) {
                (void)snprintf(out, size, "%s", r->str);
                rc = CLM_OK;
        }
        freeReplyObject(r);
        return rc;
}

/* Run claimsd over the range and show progress until it exits. */
static int
run(struct replay *rp)
{
        struct topic_progress tp[MAX_TOPICS];
        struct watch w = {.tty = !rp->o.quiet && isatty(STDOUT_FILENO),
                          .started_ms = wall_ms()};
        struct sigaction sa = {.sa_handler = on_signal};
        char bin[PATH_MAX];
        char state[32];
        int status = 0;
        pid_t pid;
        size_t nt;
        int64_t done = 0;

        claimsd_path(&rp->o, bin, sizeof(bin));
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGINT, &sa, NULL);
        (void)sigaction(SIGTERM, &sa, NULL);
        fflush(stdout);
        pid = spawn(rp, bin);
        if (pid < 0) {
                fprintf(stderr, "claimsctl replay: fork: %s\n",
                        strerror(errno));
                return EXIT_FAILED;
        }
        for (;;) {
                pid_t got = waitpid(pid, &status, WNOHANG);

                if (got == pid) {
                        break;
                }
                if (interrupted == 1) {
                        /* Let claimsd drain: what it applied stays. */
                        (void)kill(pid, SIGTERM);
                        interrupted = 2;
                }
                nt = progress(rp, tp, MAX_TOPICS);
                if (!rp->o.quiet) {
                        draw(&w, tp, nt, wall_ms());
                }
                (void)usleep(w.tty ? 250000 : 500000);
        }
        nt = progress(rp, tp, MAX_TOPICS);
        for (size_t i = 0; i < nt; i++) {
                done += tp[i].done;
        }
        if (w.tty) {
                /* the bars' final state; a log gets the summary line */
                draw(&w, tp, nt, wall_ms());
        }
        if (state_of(rp, state, sizeof(state)) == CLM_OK &&
            strcmp(state, "complete") == 0 && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0) {
                int64_t ms = wall_ms() - w.started_ms;
                int64_t msgs = done - (w.have_first ? w.first_done : 0);

                printf("replay %s complete: %" PRId64
                       " messages in range, %" PRId64
                       " applied by this run in %.1f s (%.0f msg/s)\n",
                       rp->cfg->namespace_name, done, msgs, (double)ms / 1000.0,
                       ms > 0 ? (double)msgs * 1000.0 / (double)ms : 0.0);
                return EXIT_DONE;
        }
        if (interrupted) {
                fprintf(stderr, "claimsctl replay: interrupted; run the same "
                                "command again to resume\n");
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 78) {
                fprintf(stderr, "claimsctl replay: claimsd refused to start "
                                "(exit 78, configuration); see its log\n");
        } else {
                fprintf(stderr,
                        "claimsctl replay: claimsd %s %d before the end of "
                        "the range; run the same command again to resume\n",
                        WIFSIGNALED(status) ? "was killed by signal"
                                            : "exited with",
                        WIFSIGNALED(status) ? WTERMSIG(status)
                                            : WEXITSTATUS(status));
        }
        return EXIT_FAILED;
}

/* ---- the command ------------------------------------------------------- */

/* Make or resume the manifest; *go says whether claimsd should run. */
static int
open_manifest(struct replay *rp, bool *go)
{
        redisReply *h =
                redisCommand(rp->c, "HGETALL %sreplay", rp->cfg->redis_prefix);
        const char *state;
        const char *until;
        int64_t until_ms = -1;
        bool empty;
        int rc;

        *go = false;
        if (!reply_ok(rp->c, h)) {
                freeReplyObject(h);
                return EXIT_FAILED;
        }
        if (rp->o.until != NULL) {
                if (ctl_parse_time(rp->o.until, &until_ms) != CLM_OK) {
                        fprintf(stderr,
                                "claimsctl replay: --until %s: expected "
                                "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n",
                                rp->o.until);
                        freeReplyObject(h);
                        return EXIT_REFUSED;
                }
                (void)snprintf(rp->until_text, sizeof(rp->until_text), "%s",
                               rp->o.until);
        } else if (rp->o.until_offsets != NULL) {
                (void)snprintf(rp->until_text, sizeof(rp->until_text),
                               "offsets:%s", rp->o.until_offsets);
        } else {
                (void)snprintf(rp->until_text, sizeof(rp->until_text),
                               "end-at-start");
        }
        if (h->elements > 0) {
                state = clm_redis_hash_field(h, "state");
                until = clm_redis_hash_field(h, "until");
                if ((rp->o.until != NULL || rp->o.until_offsets != NULL) &&
                    (until == NULL || strcmp(until, rp->until_text) != 0)) {
                        fprintf(stderr,
                                "claimsctl replay: namespace %s was started "
                                "with until %s; resume it without --until, or "
                                "audit drop it first\n",
                                rp->cfg->namespace_name, until ? until : "?");
                        freeReplyObject(h);
                        return EXIT_REFUSED;
                }
                ranges_from_manifest(rp, h);
                if (state != NULL && strcmp(state, "complete") == 0) {
                        printf("replay %s is already complete; compare it "
                               "with claimsctl audit diff, or audit drop it "
                               "to replay again\n",
                               rp->cfg->namespace_name);
                        freeReplyObject(h);
                        return EXIT_DONE;
                }
                rc = state != NULL && strcmp(state, "running") == 0
                             ? CLM_OK
                             : prepare(rp);
                freeReplyObject(h);
                if (rc == CLM_OK && !rp->o.quiet) {
                        printf("replay %s: resuming\n",
                               rp->cfg->namespace_name);
                }
                *go = rc == CLM_OK;
                return rc == CLM_OK ? EXIT_DONE : EXIT_FAILED;
        }
        freeReplyObject(h);
        if (namespace_is_empty(rp, &empty) != CLM_OK) {
                return EXIT_FAILED;
        }
        if (!empty) {
                fprintf(stderr,
                        "claimsctl replay: %s* holds keys but no replay "
                        "manifest; refusing to write into it\n",
                        rp->cfg->redis_prefix);
                return EXIT_REFUSED;
        }
        rc = ranges_from_kafka(rp, until_ms);
        if (rc != CLM_OK) {
                return rc == CLM_ERR_INVALID ? EXIT_REFUSED : EXIT_FAILED;
        }
        if (write_manifest(rp) != CLM_OK || prepare(rp) != CLM_OK) {
                return EXIT_FAILED;
        }
        *go = true;
        return EXIT_DONE;
}

int
ctl_replay(const char *config_path,
           struct clm_config *cfg,
           const struct clm_keyhash *kh,
           int argc,
           char **argv)
{
        struct replay *rp = calloc(1, sizeof(*rp));
        char err[512];
        bool go = false;
        int rc;

        if (rp == NULL) {
                fprintf(stderr, "claimsctl replay: out of memory\n");
                return EXIT_FAILED;
        }
        rp->config_path = config_path;
        rp->cfg = cfg;
        rp->kh = kh;
        if (parse_opts(argc, argv, &rp->o) != CLM_OK) {
                free(rp);
                return usage();
        }
        if (cfg->namespace_name == NULL) {
                if (rp->o.name == NULL) {
                        free(rp);
                        return usage();
                }
                if (clm_config_use_namespace(cfg, rp->o.name, err,
                                             sizeof(err)) != CLM_OK) {
                        fprintf(stderr, "claimsctl replay: %s: %s\n",
                                rp->o.name, err);
                        free(rp);
                        return EXIT_REFUSED;
                }
        } else if (rp->o.name != NULL &&
                   strcmp(rp->o.name, cfg->namespace_name) != 0) {
                fprintf(stderr, "claimsctl replay: -n and --namespace "
                                "differ\n");
                free(rp);
                return EXIT_REFUSED;
        }
        rp->c = clm_redis_connect(cfg, cfg->redis_timeout_ms, err, sizeof(err));
        if (rp->c == NULL) {
                fprintf(stderr, "claimsctl replay: redis: %s\n", err);
                free(rp);
                return EXIT_FAILED;
        }
        rc = open_manifest(rp, &go);
        if (rc == EXIT_DONE && go) {
                rc = run(rp);
        }
        redisFree(rp->c);
        free(rp);
        return rc;
}
