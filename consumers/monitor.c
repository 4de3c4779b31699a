/*
 * Per-instance monitoring: rates from a ring of heartbeat samples, batch
 * latency percentiles from a log-bucket histogram kept per 5 s slot over
 * the last minute, the last error class, and the heartbeat itself (two
 * Redis hashes in one MULTI/EXEC, plus a local status file). Also the
 * health rule claimsctl applies to what was published.
 *
 * Must not block the main loop: watermarks come from librdkafka's cache
 * (rd_kafka_get_watermark_offsets), never from a broker query. Must not
 * publish PHI: only counts, offsets, names, times and error codes.
 */
#include "consumers/monitor.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clm_version.h"
#include "consumers/keyhash.h"
#include "consumers/monitor_internal.h"
#include "daemon/log.h"
#include "daemon/rc.h"

#define CONFIG_MAX_BYTES (4 * 1024 * 1024)

struct clm_monitor {
        char *instance;
        char *key_inst;  /* P instance:<name> */
        char *key_parts; /* P instance_partitions:<name> */
        char *dir;       /* local status file directory, or NULL */
        char config_sha256[65];
        int64_t started_wall_ms;
        int64_t last_batch_ms; /* monotonic; -1 none yet */
        int64_t last_error_ms; /* monotonic; valid if last_error[0] */
        char last_error[64];
        struct clm_mon__ring ring;
        struct clm_mon__hist hist;
};

static char *
join(const char *a, const char *b, const char *c)
{
        size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
        char *s = malloc(n);

        if (s != NULL) {
                (void)snprintf(s, n, "%s%s%s", a, b, c);
        }
        return s;
}

int64_t
clm_monitor_wall_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- rates --------------------------------------------------------------- */

void
clm_mon__ring_add(struct clm_mon__ring *r,
                  int64_t t_ms,
                  uint64_t messages,
                  uint64_t round_trips)
{
        r->s[r->next].t_ms = t_ms;
        r->s[r->next].v[0] = messages;
        r->s[r->next].v[1] = round_trips;
        r->next = (r->next + 1) % CLM_MON__SAMPLES;
        if (r->n < CLM_MON__SAMPLES) {
                r->n++;
        }
}

/* The k-th newest sample (k = 0 is the newest); k < r->n. */
static const struct clm_mon__sample *
ring_at(const struct clm_mon__ring *r, size_t k)
{
        return &r->s[(r->next + CLM_MON__SAMPLES - 1 - k) % CLM_MON__SAMPLES];
}

double
clm_mon__ring_rate(const struct clm_mon__ring *r, int64_t window_ms, int which)
{
        const struct clm_mon__sample *last;
        const struct clm_mon__sample *base;
        int64_t dt;

        if (r->n < 2) {
                return 0.0;
        }
        last = ring_at(r, 0);
        base = ring_at(r, r->n - 1);
        for (size_t k = 1; k < r->n; k++) {
                const struct clm_mon__sample *s = ring_at(r, k);

                if (last->t_ms - s->t_ms >= window_ms) {
                        base = s;
                        break;
                }
        }
        dt = last->t_ms - base->t_ms;
        if (dt <= 0 || last->v[which] < base->v[which]) {
                return 0.0;
        }
        return (double)(last->v[which] - base->v[which]) * 1000.0 / (double)dt;
}

/* ---- latency histogram ----------------------------------------------------
 * Values 0..3 ms have a bucket each; above, every power of two is split in
 * four, so a bucket's width is at most a quarter of its lower edge. */

size_t
clm_mon__bucket(int64_t v)
{
        int e;

        if (v < 4) {
                return v < 0 ? 0 : (size_t)v;
        }
        if (v > INT32_MAX) {
                v = INT32_MAX;
        }
        e = 63 - __builtin_clzll((unsigned long long)v); /* 2..30 */
        return 4 + (size_t)(e - 2) * 4 + (size_t)((v >> (e - 2)) & 3);
}

int64_t
clm_mon__bucket_upper(size_t idx)
{
        size_t k;
        int shift;

        if (idx < 4) {
                return (int64_t)idx;
        }
        k = idx - 4;
        shift = (int)(k / 4);
        return ((int64_t)(4 + k % 4 + 1) << shift) - 1;
}

void
clm_mon__hist_add(struct clm_mon__hist *h, int64_t now_ms, int64_t v)
{
        int64_t e = now_ms / CLM_MON__SLOT_MS;
        size_t i = (size_t)(e % CLM_MON__SLOTS);

        if (h->epoch[i] != e) {
                memset(h->count[i], 0, sizeof(h->count[i]));
                h->max[i] = 0;
                h->epoch[i] = e;
        }
        h->count[i][clm_mon__bucket(v)]++;
        if (v > h->max[i]) {
                h->max[i] = v;
        }
}

int64_t
clm_mon__hist_quantile(const struct clm_mon__hist *h, int64_t now_ms, double q)
{
        uint64_t merged[CLM_MON__BUCKETS] = {0};
        uint64_t total = 0;
        uint64_t rank;
        uint64_t cum = 0;
        int64_t e = now_ms / CLM_MON__SLOT_MS;
        int64_t max = 0;

        for (size_t i = 0; i < CLM_MON__SLOTS; i++) {
                if (h->epoch[i] > e || h->epoch[i] <= e - CLM_MON__SLOTS) {
                        continue;
                }
                for (size_t b = 0; b < CLM_MON__BUCKETS; b++) {
                        merged[b] += h->count[i][b];
                        total += h->count[i][b];
                }
                if (h->max[i] > max) {
                        max = h->max[i];
                }
        }
        if (total == 0) {
                return -1;
        }
        if (q >= 1.0) {
                return max;
        }
        rank = (uint64_t)ceil(q * (double)total);
        if (rank < 1) {
                rank = 1;
        }
        for (size_t b = 0; b < CLM_MON__BUCKETS; b++) {
                cum += merged[b];
                if (cum >= rank) {
                        int64_t up = clm_mon__bucket_upper(b);

                        return up < max ? up : max;
                }
        }
        return max;
}

/* ---- errors -------------------------------------------------------------- */

static bool
is_code_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void
clm_mon__error_class(const char *what,
                     const char *detail,
                     char *out,
                     size_t out_size)
{
        char dep[24];
        const char *s = strstr(detail, ": ");
        size_t len = 0;
        size_t i;

        for (i = 0; what[i] != '\0' && i < sizeof(dep) - 1; i++) {
                char c = what[i];

                dep[i] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                                 ? c
                                 : '_';
        }
        dep[i] = '\0';
        s = s != NULL ? s + 2 : detail;
        while (is_code_char(s[len]) && len < 32) {
                len++;
        }
        /* A code is a whole upper-case word of two or more characters,
         * starting with a letter or '_' (NOPERM, LOADING, _TRANSPORT). */
        if (len >= 2 && !(s[0] >= '0' && s[0] <= '9') &&
            (s[len] == '\0' || s[len] == ' ' || s[len] == ')')) {
                (void)snprintf(out, out_size, "%s:%.*s", dep, (int)len, s);
        } else {
                (void)snprintf(out, out_size, "%s:unavailable", dep);
        }
}

void
clm_monitor_error(struct clm_monitor *mon,
                  int64_t now_ms,
                  const char *what,
                  const char *detail)
{
        clm_mon__error_class(what, detail, mon->last_error,
                             sizeof(mon->last_error));
        mon->last_error_ms = now_ms;
}

void
clm_monitor_batch(struct clm_monitor *mon, int64_t now_ms, int64_t latency_ms)
{
        clm_mon__hist_add(&mon->hist, now_ms, latency_ms);
        mon->last_batch_ms = now_ms;
}

/* ---- lifecycle ----------------------------------------------------------- */

struct clm_monitor *
clm_monitor_new(const char *prefix,
                const char *instance,
                const char *runtime_dir)
{
        struct clm_monitor *mon = calloc(1, sizeof(*mon));

        if (mon == NULL) {
                return NULL;
        }
        mon->instance = strdup(instance);
        mon->key_inst = join(prefix, "instance:", instance);
        mon->key_parts = join(prefix, "instance_partitions:", instance);
        if (runtime_dir != NULL && runtime_dir[0] != '\0') {
                /* systemd lists several RuntimeDirectory= entries with ':'. */
                mon->dir = strndup(runtime_dir, strcspn(runtime_dir, ":"));
                if (mon->dir == NULL) {
                        clm_monitor_free(mon);
                        return NULL;
                }
        }
        if (mon->instance == NULL || mon->key_inst == NULL ||
            mon->key_parts == NULL) {
                clm_monitor_free(mon);
                return NULL;
        }
        for (size_t i = 0; i < CLM_MON__SLOTS; i++) {
                mon->hist.epoch[i] = -1;
        }
        mon->last_batch_ms = -1;
        mon->started_wall_ms = clm_monitor_wall_ms();
        return mon;
}

void
clm_monitor_free(struct clm_monitor *mon)
{
        if (mon == NULL) {
                return;
        }
        free(mon->instance);
        free(mon->key_inst);
        free(mon->key_parts);
        free(mon->dir);
        free(mon);
}

int
clm_monitor_config(struct clm_monitor *mon, const char *path)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0;
        uint8_t md[32];
        int rc = CLM_ERR_IO;

        mon->config_sha256[0] = '\0';
        if (f == NULL) {
                return CLM_ERR_IO;
        }
        buf = malloc(CONFIG_MAX_BYTES);
        if (buf == NULL) {
                rc = CLM_ERR_NOMEM;
                goto out;
        }
        len = fread(buf, 1, CONFIG_MAX_BYTES, f);
        if (ferror(f) || !feof(f)) {
                goto out; /* unreadable, or larger than any sane config */
        }
        clm_sha256(buf, len, md);
        for (size_t i = 0; i < sizeof(md); i++) {
                (void)snprintf(mon->config_sha256 + 2 * i, 3, "%02x", md[i]);
        }
        rc = CLM_OK;
out:
        free(buf);
        (void)fclose(f);
        return rc;
}

/* ---- the heartbeat's commands -------------------------------------------- */

static int push(struct clm_mon__cmds *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Append one formatted argument (owned by @p c). */
static int
push(struct clm_mon__cmds *c, const char *fmt, ...)
{
        va_list ap;
        int n;
        char *s;

        if (c->n_args == c->cap_args) {
                size_t cap = c->cap_args ? c->cap_args * 2 : 128;
                char **a = realloc(c->args, cap * sizeof(*a));
                size_t *l;

                if (a == NULL) {
                        return CLM_ERR_NOMEM;
                }
                c->args = a;
                l = realloc(c->lens, cap * sizeof(*l));
                if (l == NULL) {
                        return CLM_ERR_NOMEM;
                }
                c->lens = l;
                c->cap_args = cap;
        }
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        s = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (s == NULL) {
                return CLM_ERR_NOMEM;
        }
        va_start(ap, fmt);
        (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
        c->args[c->n_args] = s;
        c->lens[c->n_args] = (size_t)n;
        c->n_args++;
        return CLM_OK;
}

/* Start the next command: its verb and key. */
static int
begin(struct clm_mon__cmds *c, const char *verb, const char *key)
{
        c->first[c->n] = c->n_args;
        if (push(c, "%s", verb) != CLM_OK || push(c, "%s", key) != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        return CLM_OK;
}

static void
end(struct clm_mon__cmds *c)
{
        c->argc[c->n] = (int)(c->n_args - c->first[c->n]);
        c->n++;
}

/* EXPIRE @p key @p ttl_s; 0 deletes the key (Redis documents that a
 * non-positive timeout deletes), which needs no DEL permission. */
static int
expire(struct clm_mon__cmds *c, const char *key, int ttl_s)
{
        if (begin(c, "EXPIRE", key) != CLM_OK ||
            push(c, "%d", ttl_s) != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        end(c);
        return CLM_OK;
}

static const char *
state_name(enum clm_pipeline_state st)
{
        switch (st) {
        case CLM_PIPE_STARTING:
                return "starting";
        case CLM_PIPE_RUNNING:
                return "running";
        case CLM_PIPE_REDIS_DOWN:
                return "retrying";
        case CLM_PIPE_DRAINING:
                return "draining";
        default:
                return "failed";
        }
}

static int64_t
part_lag(int64_t applied, int64_t high)
{
        if (high < 0) {
                return -1;
        }
        if (applied < 0) {
                return high; /* nothing applied yet: all of it is ahead */
        }
        return high > applied ? high - applied : 0;
}

/* Delete, then HSET + EXPIRE when partitions are assigned (so revoked
 * partitions disappear); sums the lag. */
/* Lag over an instance's partitions. */
struct lag_sum {
        int64_t total; /* of the partitions whose lag is known */
        int64_t max;
        int64_t unknown; /* partitions with no watermark yet */
};

static int
build_parts(const struct clm_monitor *mon,
            const struct clm_monitor_beat *b,
            const int64_t *high,
            struct clm_mon__cmds *c,
            struct lag_sum *lag)
{
        int rc;

        memset(lag, 0, sizeof(*lag));
        if (expire(c, mon->key_parts, 0) != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        if (b->n_parts == 0) {
                return CLM_OK;
        }
        rc = begin(c, "HSET", mon->key_parts);
        for (size_t i = 0; i < b->n_parts && rc == CLM_OK; i++) {
                int64_t l = part_lag(b->parts[i].applied, high[i]);

                rc = push(c, "%s", b->parts[i].tp);
                if (rc == CLM_OK) {
                        rc = push(c,
                                  "applied=%" PRId64 " high=%" PRId64
                                  " lag=%" PRId64,
                                  b->parts[i].applied, high[i], l);
                }
                if (l < 0) {
                        lag->unknown++;
                }
                lag->total += l > 0 ? l : 0;
                lag->max = l > lag->max ? l : lag->max;
        }
        if (rc != CLM_OK) {
                return rc;
        }
        end(c);
        return expire(c, mon->key_parts, CLM_MONITOR_TTL_S);
}

static int
field(struct clm_mon__cmds *c, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Append a field name and its formatted value. */
static int
field(struct clm_mon__cmds *c, const char *name, const char *fmt, ...)
{
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        /* One line per field in the status file: no control characters. */
        for (char *q = buf; *q != '\0'; q++) {
                if ((unsigned char)*q < 0x20) {
                        *q = ' ';
                }
        }
        if (push(c, "%s", name) != CLM_OK || push(c, "%s", buf) != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        return CLM_OK;
}

/* "t/0,t/1": the assigned partitions, as one argument. */
static int
push_assigned(struct clm_mon__cmds *c, const struct clm_monitor_beat *b)
{
        size_t len = 1;
        char *s;
        int rc;

        for (size_t i = 0; i < b->n_parts; i++) {
                len += strlen(b->parts[i].tp) + 1;
        }
        s = malloc(len);
        if (s == NULL) {
                return CLM_ERR_NOMEM;
        }
        s[0] = '\0';
        for (size_t i = 0; i < b->n_parts; i++) {
                if (i > 0) {
                        strcat(s, ",");
                }
                strcat(s, b->parts[i].tp);
        }
        rc = push(c, "assigned");
        if (rc == CLM_OK) {
                rc = push(c, "%s", s);
        }
        free(s);
        return rc;
}

/* Monotonic time @p t_ms as wall-clock epoch ms; 0 for "never" (< 0). */
static int64_t
to_wall(int64_t t_ms, int64_t now_ms, int64_t wall)
{
        return t_ms < 0 ? 0 : wall - (now_ms - t_ms);
}

static int
build_instance(const struct clm_monitor *mon,
               const struct clm_monitor_beat *b,
               uint64_t round_trips,
               const struct lag_sum *lag,
               int64_t now_ms,
               int64_t wall,
               struct clm_mon__cmds *c)
{
        const struct clm_pipeline_stats *s = b->stats;
        const struct clm_mon__hist *h = &mon->hist;
        int rc = begin(c, "HSET", mon->key_inst);

        c->first_field = c->n_args;
        rc |= field(c, "state", "%s", state_name(b->state));
        rc |= field(c, "status", "%s", b->status);
        rc |= field(c, "version", "%s", CLM_VERSION);
        rc |= field(c, "pid", "%ld", (long)getpid());
        rc |= field(c, "started", "%" PRId64, mon->started_wall_ms);
        rc |= field(c, "heartbeat", "%" PRId64, wall);
        rc |= field(c, "config_sha256", "%s", mon->config_sha256);
        rc |= field(c, "partitions", "%zu", b->n_parts);
        rc |= push_assigned(c, b);
        rc |= field(c, "lag", "%" PRId64, lag->total);
        rc |= field(c, "lag_max", "%" PRId64, lag->max);
        rc |= field(c, "lag_unknown", "%" PRId64, lag->unknown);
        rc |= field(c, "messages", "%" PRIu64, s->messages);
        rc |= field(c, "claims", "%" PRIu64, s->claims);
        rc |= field(c, "duplicate", "%" PRIu64, s->duplicate);
        rc |= field(c, "stale", "%" PRIu64, s->stale);
        rc |= field(c, "dead_letter", "%" PRIu64, s->dead_letter);
        rc |= field(c, "unattributed", "%" PRIu64, s->unattributed);
        rc |= field(c, "batches", "%" PRIu64, s->batches);
        rc |= field(c, "fenced", "%" PRIu64, s->fenced);
        rc |= field(c, "pauses", "%" PRIu64, s->pauses);
        rc |= field(c, "rate_1m", "%.1f",
                    clm_mon__ring_rate(&mon->ring, 60000, 0));
        rc |= field(c, "rate_5m", "%.1f",
                    clm_mon__ring_rate(&mon->ring, 300000, 0));
        rc |= field(c, "round_trips", "%" PRIu64, round_trips);
        rc |= field(c, "round_trips_1m", "%.1f",
                    clm_mon__ring_rate(&mon->ring, 60000, 1));
        rc |= field(c, "batch_ms_p50", "%" PRId64,
                    clm_mon__hist_quantile(h, now_ms, 0.50));
        rc |= field(c, "batch_ms_p90", "%" PRId64,
                    clm_mon__hist_quantile(h, now_ms, 0.90));
        rc |= field(c, "batch_ms_p99", "%" PRId64,
                    clm_mon__hist_quantile(h, now_ms, 0.99));
        rc |= field(c, "batch_ms_max", "%" PRId64,
                    clm_mon__hist_quantile(h, now_ms, 1.0));
        rc |= field(c, "last_batch", "%" PRId64,
                    to_wall(mon->last_batch_ms, now_ms, wall));
        rc |= field(c, "last_error", "%s", mon->last_error);
        rc |= field(c, "last_error_at", "%" PRId64,
                    mon->last_error[0]
                            ? to_wall(mon->last_error_ms, now_ms, wall)
                            : 0);
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        c->n_fields = (c->n_args - c->first_field) / 2;
        end(c);
        return expire(c, mon->key_inst, CLM_MONITOR_TTL_S);
}

int
clm_mon__build(struct clm_monitor *mon,
               const struct clm_monitor_beat *b,
               const int64_t *high,
               uint64_t round_trips,
               int64_t now_ms,
               int64_t wall,
               struct clm_mon__cmds *out)
{
        struct lag_sum lag;
        int rc;

        memset(out, 0, sizeof(*out));
        rc = build_parts(mon, b, high, out, &lag);
        if (rc == CLM_OK) {
                rc = build_instance(mon, b, round_trips, &lag, now_ms, wall,
                                    out);
        }
        if (rc != CLM_OK) {
                clm_mon__cmds_free(out);
                return rc;
        }
        /* args no longer moves: point the commands into it. */
        for (size_t i = 0; i < out->n; i++) {
                out->argv[i] = (const char **)&out->args[out->first[i]];
                out->argvlen[i] = &out->lens[out->first[i]];
        }
        return CLM_OK;
}

void
clm_mon__cmds_free(struct clm_mon__cmds *c)
{
        for (size_t i = 0; i < c->n_args; i++) {
                free(c->args[i]);
        }
        free(c->args);
        free(c->lens);
        memset(c, 0, sizeof(*c));
}

int
clm_mon__write_local(const char *dir,
                     const char *instance,
                     const struct clm_mon__cmds *c)
{
        char tmp[4096];
        char path[4096];
        FILE *f;
        int bad;

        (void)snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir,
                       CLM_MONITOR_STATUS_FILE);
        (void)snprintf(path, sizeof(path), "%s/%s", dir,
                       CLM_MONITOR_STATUS_FILE);
        f = fopen(tmp, "w");
        if (f == NULL) {
                return CLM_ERR_IO;
        }
        bad = fprintf(f, "instance=%s\n", instance) < 0;
        for (size_t i = 0; i < c->n_fields && !bad; i++) {
                size_t k = c->first_field + 2 * i;

                bad = fprintf(f, "%s=%s\n", c->args[k], c->args[k + 1]) < 0;
        }
        if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
                (void)unlink(tmp);
                return CLM_ERR_IO;
        }
        return CLM_OK;
}

int
clm_monitor_beat(struct clm_monitor *mon,
                 struct clm_sink *sink,
                 rd_kafka_t *rk,
                 const struct clm_monitor_beat *b,
                 int64_t now_ms)
{
        struct clm_mon__cmds c;
        int64_t *high = calloc(b->n_parts + 1, sizeof(*high));
        uint64_t rt = clm_sink_round_trips(sink);
        int rc;

        if (high == NULL) {
                return CLM_ERR_NOMEM;
        }
        for (size_t i = 0; i < b->n_parts; i++) {
                int64_t lo = -1;

                high[i] = -1;
                /* The cache only: updated by every fetch response, so it
                 * never waits on a broker (-1001 until the first one). */
                if (rk != NULL &&
                    rd_kafka_get_watermark_offsets(
                            rk, b->parts[i].topic, b->parts[i].partition, &lo,
                            &high[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        high[i] = -1;
                }
                if (high[i] < 0) {
                        high[i] = -1;
                }
        }
        clm_mon__ring_add(&mon->ring, now_ms, b->stats->messages, rt);
        rc = clm_mon__build(mon, b, high, rt, now_ms, clm_monitor_wall_ms(),
                            &c);
        free(high);
        if (rc != CLM_OK) {
                return rc;
        }
        if (mon->dir != NULL &&
            clm_mon__write_local(mon->dir, mon->instance, &c) != CLM_OK) {
                clm_log_limited(CLM_LOG_WARNING, "monitor.status_file", now_ms,
                                "cannot write %s/%s", mon->dir,
                                CLM_MONITOR_STATUS_FILE);
        }
        if (clm_sink_connected(sink)) {
                rc = clm_sink_transaction(sink, c.n, c.argc, c.argv, c.argvlen);
        }
        clm_mon__cmds_free(&c);
        return rc;
}

void
clm_monitor_retire(struct clm_monitor *mon, struct clm_sink *sink)
{
        if (clm_sink_connected(sink)) {
                const char *a[3] = {"EXPIRE", mon->key_inst, "0"};
                const char *b[3] = {"EXPIRE", mon->key_parts, "0"};
                const char **cmd[2] = {a, b};
                int argc[2] = {3, 3};
                const size_t *lens[2] = {NULL, NULL};

                (void)clm_sink_transaction(sink, 2, argc, cmd, lens);
        }
        if (mon->dir != NULL) {
                char path[4096];

                (void)snprintf(path, sizeof(path), "%s/%s", mon->dir,
                               CLM_MONITOR_STATUS_FILE);
                (void)unlink(path);
        }
}

/* ---- the local status file, read back ------------------------------------ */

static void
copy(char *dst, size_t size, const char *src)
{
        (void)snprintf(dst, size, "%s", src);
}

int
clm_monitor_read_local(const char *path, struct clm_monitor_local *out)
{
        struct clm_monitor_local l;
        FILE *f = fopen(path, "r");
        char line[1024];

        if (f == NULL) {
                return CLM_ERR_IO;
        }
        memset(&l, 0, sizeof(l));
        l.heartbeat_ms = -1;
        l.lag = -1;
        while (fgets(line, sizeof(line), f) != NULL) {
                char *eq = strchr(line, '=');
                char *v;

                if (eq == NULL) {
                        continue;
                }
                *eq = '\0';
                v = eq + 1;
                v[strcspn(v, "\n")] = '\0';
                if (strcmp(line, "instance") == 0) {
                        copy(l.instance, sizeof(l.instance), v);
                } else if (strcmp(line, "state") == 0) {
                        copy(l.state, sizeof(l.state), v);
                } else if (strcmp(line, "status") == 0) {
                        copy(l.status, sizeof(l.status), v);
                } else if (strcmp(line, "last_error") == 0) {
                        copy(l.last_error, sizeof(l.last_error), v);
                } else if (strcmp(line, "heartbeat") == 0) {
                        l.heartbeat_ms = strtoll(v, NULL, 10);
                } else if (strcmp(line, "partitions") == 0) {
                        l.partitions = strtoll(v, NULL, 10);
                } else if (strcmp(line, "lag") == 0) {
                        l.lag = strtoll(v, NULL, 10);
                } else if (strcmp(line, "lag_unknown") == 0) {
                        l.lag_unknown = strtoll(v, NULL, 10);
                } else if (strcmp(line, "last_error_at") == 0) {
                        l.last_error_at = strtoll(v, NULL, 10);
                }
        }
        (void)fclose(f);
        if (l.instance[0] == '\0' || l.heartbeat_ms < 0) {
                return CLM_ERR_INVALID;
        }
        *out = l;
        return CLM_OK;
}

/* ---- health -------------------------------------------------------------- */

static void appendf(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Append to a NUL-terminated buffer, truncating quietly. */
static void
appendf(char *buf, size_t size, const char *fmt, ...)
{
        size_t used = strlen(buf);
        va_list ap;

        if (used + 1 >= size) {
                return;
        }
        va_start(ap, fmt);
        (void)vsnprintf(buf + used, size - used, fmt, ap);
        va_end(ap);
}

/*
 * The @p i-th instance to judge: Redis's, unless the fresh local file names
 * the same instance with a newer heartbeat; i == n is the local instance
 * when Redis does not show it. NULL past the end.
 */
static const struct clm_health_instance *
view(const struct clm_health_instance *inst,
     size_t n,
     const struct clm_health_instance *local,
     size_t i)
{
        if (i < n) {
                if (local != NULL && strcmp(local->name, inst[i].name) == 0 &&
                    local->age_ms < inst[i].age_ms) {
                        return local;
                }
                return &inst[i];
        }
        if (i > n || local == NULL) {
                return NULL;
        }
        for (size_t k = 0; k < n; k++) {
                if (strcmp(local->name, inst[k].name) == 0) {
                        return NULL;
                }
        }
        return local;
}

/* One instance's problems, "; "-separated into @p why. */
static void
judge(const struct clm_health_instance *v,
      const struct clm_health_limits *lim,
      char *why,
      size_t why_size)
{
        if (strcmp(v->state, "running") != 0) {
                appendf(why, why_size, "%s%s %s: %s", why[0] ? "; " : "",
                        v->name, v->state, v->status);
        }
        if (v->age_ms > lim->stale_ms) {
                appendf(why, why_size, "%s%s heartbeat %" PRId64 "s old",
                        why[0] ? "; " : "", v->name, v->age_ms / 1000);
        }
}

int
clm_health_eval(bool redis_ok,
                const char *redis_err,
                const struct clm_health_instance *inst,
                size_t n,
                const struct clm_health_instance *local,
                const struct clm_health_limits *lim,
                char *reason,
                size_t reason_size)
{
        const struct clm_health_instance *v;
        char why[1024] = "";
        int64_t lag = 0;
        int64_t unknown = 0;
        int64_t parts = 0;
        size_t live = 0;

        if (local != NULL && local->age_ms > lim->stale_ms) {
                local = NULL; /* a dead daemon's leftover file */
        }
        if (!redis_ok) {
                if (local == NULL) {
                        (void)snprintf(reason, reason_size,
                                       "down: redis unreachable (%s)",
                                       redis_err);
                        return CLM_DOWN;
                }
                (void)snprintf(reason, reason_size,
                               "degraded: redis unreachable (%s); %s %s: %s",
                               redis_err, local->name, local->state,
                               local->status);
                return CLM_DEGRADED;
        }
        for (size_t i = 0; i <= n; i++) {
                v = view(inst, n, local, i);
                if (v == NULL) {
                        continue;
                }
                live++;
                judge(v, lim, why, sizeof(why));
                parts += v->partitions;
                lag += v->lag > 0 ? v->lag : 0;
                unknown += v->lag_unknown > 0 ? v->lag_unknown : 0;
        }
        if (live == 0) {
                (void)snprintf(reason, reason_size,
                               "down: no live claimsd instance");
                return CLM_DOWN;
        }
        if (lag > lim->max_lag) {
                appendf(why, sizeof(why), "%slag %" PRId64 " > %" PRId64,
                        why[0] ? "; " : "", lag, lim->max_lag);
        }
        if (why[0] != '\0') {
                (void)snprintf(reason, reason_size, "degraded: %s", why);
                return CLM_DEGRADED;
        }
        (void)snprintf(reason, reason_size,
                       "healthy: %zu instance%s running, %" PRId64
                       " partitions, lag %" PRId64,
                       live, live == 1 ? "" : "s", parts, lag);
        if (unknown > 0) {
                appendf(reason, reason_size,
                        " (%" PRId64 " partitions not measured yet)", unknown);
        }
        return CLM_HEALTHY;
}
