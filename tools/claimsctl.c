/*
 * claimsctl: the operator's tool. Reads the daemon's config for the Redis
 * address, key prefix and hash secret, so what it loads is keyed exactly as
 * the daemon keys it.
 *
 *   claimsctl -c FILE load-attribution CSV   mbi,aco_id,performance_year,
 *                                            enrollment_type,month_flags,
 *                                            data_sharing_excluded,
 *                                            birth_date,sex (through the
 *                                            Redis function: history moves)
 *   claimsctl -c FILE population             population counters (TSV)
 *   claimsctl -c FILE quality ACO [--year Y] [--json]
 *   claimsctl -c FILE quality-counts         quality counters (TSV)
 *   claimsctl -c FILE load-participants CSV  aco_id,performance_year,tin,npi
 *   claimsctl -c FILE totals                 per ACO/year/month/enrollment/
 *                                            claim type, summed over received
 *                                            months (the oracle's format)
 *   claimsctl -c FILE report                 per-ACO summary
 *   claimsctl -c FILE status [--json]        instances, partitions, lag,
 *                                            rates, outcomes, dead letters
 *   claimsctl -c FILE replay --namespace NAME [--until TIME]
 *                                            recompute into a namespace
 *                                            (docs/replay.md)
 *   claimsctl -c FILE [-n NAME] explain CLAIM-KEY
 *                                            one claim's applied versions
 *   claimsctl -c FILE audit report NAME|--live [-o FILE]
 *                                            HTML report of a replay
 *                                            namespace (docs/replay.md)
 *   claimsctl -c FILE health [--max-lag N] [--stale-seconds S]
 *                                            exit 0 healthy, 1 degraded,
 *                                            2 down, with a one-line reason
 *   claimsctl -c FILE audit diff [--live PREFIX] --replay NAME
 *                                --as-of TIME [--json | --csv]
 *                                            replay namespace vs live; exit
 *                                            0 equal, 1 different, 2 error
 *   claimsctl -c FILE audit drop NAME [--yes] remove a replay namespace
 *
 * Output never contains a beneficiary id: ids are hashed on load.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "consumers/keyhash.h"
#include "consumers/monitor.h"
#include "consumers/redisconn.h"
#include "daemon/config.h"
#include "daemon/rc.h"
#include "schemas/event.h"
#include "tools/ctl_audit.h"
#include "tools/ctl_explain.h"
#include "tools/ctl_pay.h"
#include "tools/ctl_quality.h"
#include "tools/ctl_read.h"
#include "tools/ctl_replay.h"
#include "tools/ctl_report.h"
#include "tools/money.h"

#define PIPELINE_DEPTH 1000

struct ctl {
        struct clm_config *cfg;
        redisContext *c;
        struct clm_keyhash kh;
        size_t pending;
        char redis_err[256]; /* why connect_redis failed (no secrets) */
};

static int
connect_redis(struct ctl *ctl)
{
        ctl->c = clm_redis_connect(ctl->cfg, 5000, ctl->redis_err,
                                   sizeof(ctl->redis_err));
        if (ctl->c == NULL) {
                fprintf(stderr, "claimsctl: %s\n", ctl->redis_err);
                return CLM_ERR_REDIS;
        }
        return CLM_OK;
}

/* Read back pipelined replies; any error reply fails the load. */
static int
drain(struct ctl *ctl)
{
        int rc = CLM_OK;

        while (ctl->pending > 0) {
                void *reply = NULL;

                if (redisGetReply(ctl->c, &reply) != REDIS_OK) {
                        fprintf(stderr, "claimsctl: redis: %s\n",
                                ctl->c->errstr);
                        return CLM_ERR_REDIS;
                }
                if (((redisReply *)reply)->type == REDIS_REPLY_ERROR) {
                        fprintf(stderr, "claimsctl: redis: %s\n",
                                ((redisReply *)reply)->str);
                        rc = CLM_ERR_REDIS;
                }
                freeReplyObject(reply);
                ctl->pending--;
        }
        return rc;
}

static int
append(struct ctl *ctl, int argc, const char **argv)
{
        if (redisAppendCommandArgv(ctl->c, argc, argv, NULL) != REDIS_OK) {
                return CLM_ERR_REDIS;
        }
        ctl->pending++;
        if (ctl->pending >= PIPELINE_DEPTH) {
                return drain(ctl);
        }
        return CLM_OK;
}

/* Split a CSV line in place (no quoting: ids and codes only). */
static size_t
split_csv(char *line, char **cols, size_t max)
{
        size_t n = 0;
        char *p = line;

        line[strcspn(line, "\r\n")] = '\0';
        while (n < max) {
                cols[n++] = p;
                p = strchr(p, ',');
                if (p == NULL) {
                        break;
                }
                *p++ = '\0';
        }
        return n;
}

static int
load_participants(struct ctl *ctl, const char *path)
{
        FILE *f = fopen(path, "r");
        char line[512];
        long lineno = 0;
        long loaded = 0;
        int rc = CLM_OK;

        if (f == NULL) {
                fprintf(stderr, "claimsctl: %s: cannot open\n", path);
                return CLM_ERR_IO;
        }
        while (rc == CLM_OK && fgets(line, sizeof(line), f) != NULL) {
                char *col[6];
                char key[256];
                char field[64];
                const char *argv[4];
                size_t n;

                lineno++;
                n = split_csv(line, col, 6);
                if (lineno == 1 && strcmp(col[0], "aco_id") == 0) {
                        continue;
                }
                if (n < 4 || col[0][0] == '\0' ||
                    strtol(col[1], NULL, 10) < 1900 ||
                    (col[2][0] == '\0') == (col[3][0] == '\0')) {
                        fprintf(stderr, "claimsctl: %s:%ld: malformed row\n",
                                path, lineno);
                        rc = CLM_ERR_INVALID;
                        break;
                }
                (void)snprintf(key, sizeof(key), "%sparticipant:%s",
                               ctl->cfg->redis_prefix, col[1]);
                (void)snprintf(field, sizeof(field), "%s:%s",
                               col[2][0] ? "tin" : "npi",
                               col[2][0] ? col[2] : col[3]);
                argv[0] = "HSET";
                argv[1] = key;
                argv[2] = field;
                argv[3] = col[0];
                rc = append(ctl, 4, argv);
                loaded++;
        }
        fclose(f);
        if (drain(ctl) != CLM_OK) {
                rc = CLM_ERR_REDIS;
        }
        if (rc == CLM_OK) {
                printf("loaded %ld participant rows\n", loaded);
        }
        return rc;
}

struct row {
        char target[40];
        int year;
        char mm[3];
        char e;
        int tt;
        int64_t paid;
        int64_t allowed;
        int64_t count;
};

struct rows {
        struct row *v;
        size_t n;
        size_t cap;
};

static struct row *
row_get(struct rows *rows,
        const char *target,
        int year,
        const char *mm,
        char e,
        int tt)
{
        for (size_t i = rows->n; i-- > 0;) {
                struct row *r = &rows->v[i];

                if (r->year == year && r->e == e && r->tt == tt &&
                    strcmp(r->mm, mm) == 0 && strcmp(r->target, target) == 0) {
                        return r;
                }
        }
        if (rows->n == rows->cap) {
                size_t cap = rows->cap ? rows->cap * 2 : 256;
                struct row *v = realloc(rows->v, cap * sizeof(*v));

                if (v == NULL) {
                        return NULL;
                }
                rows->v = v;
                rows->cap = cap;
        }
        memset(&rows->v[rows->n], 0, sizeof(rows->v[0]));
        (void)snprintf(rows->v[rows->n].target, sizeof(rows->v[0].target), "%s",
                       target);
        rows->v[rows->n].year = year;
        (void)snprintf(rows->v[rows->n].mm, 3, "%s", mm);
        rows->v[rows->n].e = e;
        rows->v[rows->n].tt = tt;
        return &rows->v[rows->n++];
}

/*
 * Fold one counter hash into rows. Fields are E:MM:TT:RRRRRR:k (ACO) or
 * E:MM:TT:RRRRRR:reason:k (unattributed); received months are summed.
 */
static int
fold_hash(struct ctl *ctl,
          const char *key,
          const char *aco,
          int year,
          struct rows *rows)
{
        redisReply *r = redisCommand(ctl->c, "HGETALL %s", key);

        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
                if (r != NULL) {
                        freeReplyObject(r);
                }
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                char field[128];
                char *col[6];
                size_t n;
                char target[40];
                const char *kind;
                int64_t v = strtoll(r->element[i + 1]->str, NULL, 10);
                struct row *row;

                (void)snprintf(field, sizeof(field), "%s", r->element[i]->str);
                n = 0;
                for (char *tok = strtok(field, ":"); tok != NULL && n < 6;
                     tok = strtok(NULL, ":")) {
                        col[n++] = tok;
                }
                if (aco != NULL && n == 5) {
                        (void)snprintf(target, sizeof(target), "%s", aco);
                        kind = col[4];
                } else if (aco == NULL && n == 6) {
                        (void)snprintf(target, sizeof(target), "~%s", col[4]);
                        kind = col[5];
                } else {
                        continue;
                }
                row = row_get(rows, target, year, col[1], col[0][0],
                              atoi(col[2]));
                if (row == NULL) {
                        freeReplyObject(r);
                        return CLM_ERR_NOMEM;
                }
                if (kind[0] == 'p') {
                        row->paid += v;
                } else if (kind[0] == 'a') {
                        row->allowed += v;
                } else if (kind[0] == 'n') {
                        row->count += v;
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

struct collect_arg {
        struct ctl *ctl;
        struct rows *rows;
};

/* One key of the prefix: fold it in when it is a counter hash. */
static int
collect_key(const char *k, void *arg)
{
        struct collect_arg *ca = arg;
        const char *rest = k + strlen(ca->ctl->cfg->redis_prefix);
        char aco[40];
        int year;

        if (sscanf(rest, "aco:%39[^:]:exp:%d", aco, &year) == 2) {
                return fold_hash(ca->ctl, k, aco, year, ca->rows);
        }
        if (sscanf(rest, "unattributed:%d", &year) == 1) {
                return fold_hash(ca->ctl, k, NULL, year, ca->rows);
        }
        return CLM_OK;
}

/* Collect every counter hash under the prefix with SCAN (no KEYS). */
static int
collect(struct ctl *ctl, struct rows *rows)
{
        char pattern[256];
        struct collect_arg ca = {.ctl = ctl, .rows = rows};

        (void)snprintf(pattern, sizeof(pattern), "%s*", ctl->cfg->redis_prefix);
        return ctl_read_scan(ctl->c, pattern, collect_key, &ca);
}

static int
cmp_row(const void *a, const void *b)
{
        char ka[128];
        char kb[128];
        const struct row *x = a;
        const struct row *y = b;

        /* Byte order of the printed line, to match `LC_ALL=C sort`. */
        (void)snprintf(ka, sizeof(ka), "%s\t%d\t%s\t%c\t%02d", x->target,
                       x->year, x->mm, x->e, x->tt);
        (void)snprintf(kb, sizeof(kb), "%s\t%d\t%s\t%c\t%02d", y->target,
                       y->year, y->mm, y->e, y->tt);
        return strcmp(ka, kb);
}

static int
totals(struct ctl *ctl)
{
        struct rows rows = {0};
        int rc = collect(ctl, &rows);

        if (rc != CLM_OK) {
                fprintf(stderr, "claimsctl: reading counters failed\n");
                free(rows.v);
                return rc;
        }
        qsort(rows.v, rows.n, sizeof(rows.v[0]), cmp_row);
        for (size_t i = 0; i < rows.n; i++) {
                const struct row *r = &rows.v[i];

                if (r->paid == 0 && r->allowed == 0 && r->count == 0) {
                        continue;
                }
                printf("%s\t%d\t%s\t%c\t%02d\t%" PRId64 "\t%" PRId64
                       "\t%" PRId64 "\n",
                       r->target, r->year, r->mm, r->e, r->tt, r->paid,
                       r->allowed, r->count);
        }
        free(rows.v);
        return CLM_OK;
}

static int
report(struct ctl *ctl)
{
        struct rows rows = {0};
        char a[CTL_MONEY_MAX];
        char b[CTL_MONEY_MAX];
        int rc = collect(ctl, &rows);

        if (rc != CLM_OK) {
                free(rows.v);
                return rc;
        }
        /* Sorted by target then year, so each ACO-year is one run. */
        qsort(rows.v, rows.n, sizeof(rows.v[0]), cmp_row);
        printf("%-22s %4s %10s %18s %18s\n", "ACO", "year", "claims", "paid",
               "allowed");
        for (size_t i = 0; i < rows.n;) {
                const struct row *first = &rows.v[i];
                int64_t paid = 0;
                int64_t allowed = 0;
                int64_t count = 0;

                for (; i < rows.n && rows.v[i].year == first->year &&
                       strcmp(rows.v[i].target, first->target) == 0;
                     i++) {
                        paid += rows.v[i].paid;
                        allowed += rows.v[i].allowed;
                        count += rows.v[i].count;
                }
                printf("%-22s %4d %10" PRId64 " %18s %18s\n", first->target,
                       first->year, count, ctl_money(paid, a),
                       ctl_money(allowed, b));
        }
        free(rows.v);
        return CLM_OK;
}

/* ---- status and health ---------------------------------------------------
 * What the daemons publish (consumers/monitor.h, docs/redis-keys.md) plus
 * the Redis function's totals, as a table, as JSON, or as a verdict for
 * probes. Redis being unreachable is an answer here, not a failure: the
 * host's status file ($RUNTIME_DIRECTORY/status) then tells whether the
 * local daemon is alive and retrying. */

#define DEFAULT_MAX_LAG 10000
#define DEFAULT_STALE_S 15
#define EXIT_USAGE      64
#define AGO_LEN         24 /* "%" PRId64 plus a unit */

struct mon_opts {
        bool json;
        int64_t max_lag;
        int64_t stale_s;
        const char *status_file; /* NULL: $RUNTIME_DIRECTORY or /run/claimsd */
};

struct inst {
        char name[160];
        redisReply *h;     /* HGETALL P instance:<name> */
        redisReply *parts; /* HGETALL P instance_partitions:<name> */
        int64_t age_ms;    /* from the key's remaining TTL */
};

struct prow {
        char tp[200];
        const char *inst; /* NULL: no live instance has it */
        int64_t applied;  /* each -1 when unknown */
        int64_t high;
        int64_t lag;
        int64_t watermark;
};

struct mon {
        const struct mon_opts *o;
        bool redis_ok;
        char redis_err[256];
        struct inst *inst;
        size_t n_inst;
        redisReply *offset;
        redisReply *watermark;
        redisReply *stats;
        redisReply *dlq;
        bool have_local;
        char local_path[512];
        struct clm_monitor_local local;
        int64_t local_age_ms;
        struct prow *rows;
        size_t n_rows;
        int code;
        char reason[1024];
};

/* Value of @p field in an HGETALL reply, or "" (never NULL). */
static const char *
hget(const redisReply *h, const char *field)
{
        if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
                return "";
        }
        for (size_t i = 0; i + 1 < h->elements; i += 2) {
                if (h->element[i]->type == REDIS_REPLY_STRING &&
                    h->element[i + 1]->type == REDIS_REPLY_STRING &&
                    strcmp(h->element[i]->str, field) == 0) {
                        return h->element[i + 1]->str;
                }
        }
        return "";
}

static int64_t
hget_i64(const redisReply *h, const char *field, int64_t dflt)
{
        const char *v = hget(h, field);

        return v[0] != '\0' ? strtoll(v, NULL, 10) : dflt;
}

/* An error reply (such as NOPERM) as the reason Redis could not be read. */
static bool
reply_failed(struct mon *m, const redisReply *r)
{
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                (void)snprintf(m->redis_err, sizeof(m->redis_err), "%s",
                               r != NULL ? r->str : "connection lost");
                return true;
        }
        return false;
}

static redisReply *
hgetall(struct ctl *ctl, struct mon *m, const char *name)
{
        redisReply *r = redisCommand(ctl->c, "HGETALL %s%s",
                                     ctl->cfg->redis_prefix, name);

        if (reply_failed(m, r) || r->type != REDIS_REPLY_ARRAY) {
                if (r != NULL) {
                        freeReplyObject(r);
                }
                return NULL;
        }
        return r;
}

/*
 * One instance: its hash and its partitions. Its age is this host's clock
 * minus the heartbeat time it wrote (hosts keep NTP time; a heartbeat
 * "from the future" counts as fresh).
 */
static int
read_instance(struct ctl *ctl, struct mon *m, const char *key)
{
        const char *name =
                key + strlen(ctl->cfg->redis_prefix) + strlen("instance:");
        struct inst *in = &m->inst[m->n_inst];

        memset(in, 0, sizeof(*in));
        (void)snprintf(in->name, sizeof(in->name), "%s", name);
        in->h = redisCommand(ctl->c, "HGETALL %s", key);
        in->parts = redisCommand(ctl->c, "HGETALL %sinstance_partitions:%s",
                                 ctl->cfg->redis_prefix, name);
        if (reply_failed(m, in->h) || reply_failed(m, in->parts)) {
                if (in->h != NULL) {
                        freeReplyObject(in->h);
                }
                if (in->parts != NULL) {
                        freeReplyObject(in->parts);
                }
                return CLM_ERR_REDIS;
        }
        if (in->h->type != REDIS_REPLY_ARRAY || in->h->elements == 0) {
                freeReplyObject(in->h); /* expired since the SCAN */
                freeReplyObject(in->parts);
                return CLM_OK;
        }
        in->age_ms = clm_monitor_wall_ms() - hget_i64(in->h, "heartbeat", 0);
        in->age_ms = in->age_ms > 0 ? in->age_ms : 0;
        m->n_inst++;
        return CLM_OK;
}

/* Every live instance hash (SCAN, never KEYS). */
static int
read_instances(struct ctl *ctl, struct mon *m)
{
        char cursor[32] = "0";
        size_t cap = 0;
        int rc = CLM_OK;

        do {
                redisReply *r = redisCommand(ctl->c,
                                             "SCAN %s MATCH %sinstance:* "
                                             "COUNT 1000",
                                             cursor, ctl->cfg->redis_prefix);

                if (reply_failed(m, r) || r->type != REDIS_REPLY_ARRAY ||
                    r->elements != 2) {
                        if (r != NULL) {
                                freeReplyObject(r);
                        }
                        return CLM_ERR_REDIS;
                }
                (void)snprintf(cursor, sizeof(cursor), "%s",
                               r->element[0]->str);
                for (size_t i = 0; i < r->element[1]->elements && rc == CLM_OK;
                     i++) {
                        if (m->n_inst == cap) {
                                size_t c = cap ? cap * 2 : 8;
                                struct inst *v =
                                        realloc(m->inst, c * sizeof(*v));

                                if (v == NULL) {
                                        rc = CLM_ERR_NOMEM;
                                        break;
                                }
                                m->inst = v;
                                cap = c;
                        }
                        rc = read_instance(ctl, m,
                                           r->element[1]->element[i]->str);
                }
                freeReplyObject(r);
        } while (rc == CLM_OK && strcmp(cursor, "0") != 0);
        return rc;
}

static struct prow *
prow_get(struct mon *m, const char *tp)
{
        struct prow *v;

        for (size_t i = 0; i < m->n_rows; i++) {
                if (strcmp(m->rows[i].tp, tp) == 0) {
                        return &m->rows[i];
                }
        }
        v = realloc(m->rows, (m->n_rows + 1) * sizeof(*v));
        if (v == NULL) {
                return NULL;
        }
        m->rows = v;
        v = &m->rows[m->n_rows++];
        memset(v, 0, sizeof(*v));
        (void)snprintf(v->tp, sizeof(v->tp), "%s", tp);
        v->applied = v->high = v->lag = v->watermark = -1;
        return v;
}

/* Topic by name, then partition by number. */
static int
cmp_prow(const void *a, const void *b)
{
        const char *x = ((const struct prow *)a)->tp;
        const char *y = ((const struct prow *)b)->tp;
        const char *sx = strrchr(x, '/');
        const char *sy = strrchr(y, '/');
        size_t lx = sx ? (size_t)(sx - x) : strlen(x);
        size_t ly = sy ? (size_t)(sy - y) : strlen(y);
        int c = strncmp(x, y, lx < ly ? lx : ly);
        long px = sx ? strtol(sx + 1, NULL, 10) : 0;
        long py = sy ? strtol(sy + 1, NULL, 10) : 0;

        if (c != 0 || lx != ly) {
                return c != 0 ? c : (lx < ly ? -1 : 1);
        }
        return (px > py) - (px < py);
}

/* One row per partition: Redis's offsets, overridden by what a live
 * instance reported at its last heartbeat, and the received watermarks. */
static int
build_rows(struct mon *m)
{
        struct prow *row;

        for (size_t i = 0; m->offset && i + 1 < m->offset->elements; i += 2) {
                row = prow_get(m, m->offset->element[i]->str);
                if (row == NULL) {
                        return CLM_ERR_NOMEM;
                }
                row->applied =
                        strtoll(m->offset->element[i + 1]->str, NULL, 10);
        }
        for (size_t k = 0; k < m->n_inst; k++) {
                const redisReply *p = m->inst[k].parts;

                for (size_t i = 0; p && i + 1 < p->elements; i += 2) {
                        long long ap = -1;
                        long long hi = -1;
                        long long lag = -1;

                        row = prow_get(m, p->element[i]->str);
                        if (row == NULL) {
                                return CLM_ERR_NOMEM;
                        }
                        (void)sscanf(p->element[i + 1]->str,
                                     "applied=%lld high=%lld lag=%lld", &ap,
                                     &hi, &lag);
                        /* One snapshot per row, so applied + lag = high;
                         * Redis's own offset only where no one reports. */
                        row->inst = m->inst[k].name;
                        row->high = hi;
                        row->lag = lag;
                        if (ap >= 0 || row->applied < 0) {
                                row->applied = ap;
                        }
                }
        }
        for (size_t i = 0; m->watermark && i + 1 < m->watermark->elements;
             i += 2) {
                row = prow_get(m, m->watermark->element[i]->str);
                if (row == NULL) {
                        return CLM_ERR_NOMEM;
                }
                row->watermark =
                        strtoll(m->watermark->element[i + 1]->str, NULL, 10);
        }
        if (m->n_rows > 1) {
                qsort(m->rows, m->n_rows, sizeof(m->rows[0]), cmp_prow);
        }
        return CLM_OK;
}

static void
read_local(struct mon *m)
{
        const char *rt = getenv("RUNTIME_DIRECTORY");

        if (m->o->status_file != NULL) {
                (void)snprintf(m->local_path, sizeof(m->local_path), "%s",
                               m->o->status_file);
        } else if (rt != NULL && rt[0] != '\0') {
                (void)snprintf(m->local_path, sizeof(m->local_path), "%.*s/%s",
                               (int)strcspn(rt, ":"), rt,
                               CLM_MONITOR_STATUS_FILE);
        } else {
                (void)snprintf(m->local_path, sizeof(m->local_path),
                               "/run/claimsd/%s", CLM_MONITOR_STATUS_FILE);
        }
        if (clm_monitor_read_local(m->local_path, &m->local) == CLM_OK) {
                m->have_local = true;
                m->local_age_ms = clm_monitor_wall_ms() - m->local.heartbeat_ms;
        }
}

/* Judge what was read (consumers/monitor.h: clm_health_eval). */
static void
judge_health(struct mon *m)
{
        struct clm_health_instance *hi = calloc(m->n_inst + 1, sizeof(*hi));
        struct clm_health_instance local;
        struct clm_health_limits lim = {.max_lag = m->o->max_lag,
                                        .stale_ms = m->o->stale_s * 1000};

        if (hi == NULL) {
                m->code = CLM_DOWN;
                (void)snprintf(m->reason, sizeof(m->reason),
                               "down: out of memory");
                return;
        }
        for (size_t i = 0; i < m->n_inst; i++) {
                hi[i].name = m->inst[i].name;
                hi[i].state = hget(m->inst[i].h, "state");
                hi[i].status = hget(m->inst[i].h, "status");
                hi[i].age_ms = m->inst[i].age_ms;
                hi[i].partitions = hget_i64(m->inst[i].h, "partitions", 0);
                hi[i].lag = hget_i64(m->inst[i].h, "lag", -1);
                hi[i].lag_unknown = hget_i64(m->inst[i].h, "lag_unknown", 0);
        }
        local.name = m->local.instance;
        local.state = m->local.state;
        local.status = m->local.status;
        local.age_ms = m->local_age_ms;
        local.partitions = m->local.partitions;
        local.lag = m->local.lag;
        local.lag_unknown = m->local.lag_unknown;
        m->code = clm_health_eval(m->redis_ok, m->redis_err, hi, m->n_inst,
                                  m->have_local ? &local : NULL, &lim,
                                  m->reason, sizeof(m->reason));
        free(hi);
}

static int
read_all(struct ctl *ctl, struct mon *m)
{
        if (connect_redis(ctl) != CLM_OK) {
                /* "redis: Connection refused" -> "Connection refused" */
                (void)snprintf(m->redis_err, sizeof(m->redis_err), "%s",
                               strncmp(ctl->redis_err, "redis: ", 7) == 0
                                       ? ctl->redis_err + 7
                                       : ctl->redis_err);
        } else if (read_instances(ctl, m) == CLM_OK &&
                   (m->offset = hgetall(ctl, m, "offset")) != NULL &&
                   (m->watermark = hgetall(ctl, m, "watermark")) != NULL &&
                   (m->stats = hgetall(ctl, m, "stats")) != NULL &&
                   (m->dlq = hgetall(ctl, m, "dlq:count")) != NULL) {
                m->redis_ok = true;
        } else if (m->redis_err[0] == '\0') {
                (void)snprintf(m->redis_err, sizeof(m->redis_err),
                               "out of memory");
        }
        read_local(m);
        judge_health(m);
        return m->redis_ok ? build_rows(m) : CLM_OK;
}

static void
mon_free(struct mon *m)
{
        for (size_t i = 0; i < m->n_inst; i++) {
                freeReplyObject(m->inst[i].h);
                freeReplyObject(m->inst[i].parts);
        }
        free(m->inst);
        free(m->rows);
        if (m->offset != NULL) {
                freeReplyObject(m->offset);
        }
        if (m->watermark != NULL) {
                freeReplyObject(m->watermark);
        }
        if (m->stats != NULL) {
                freeReplyObject(m->stats);
        }
        if (m->dlq != NULL) {
                freeReplyObject(m->dlq);
        }
}

/* ---- status: the table ---- */

/* "12s", "5m", "3h", "2d"; "-" when unknown. */
static const char *
ago(int64_t ms, char buf[AGO_LEN])
{
        int64_t s = ms / 1000;

        if (ms < 0) {
                return "-";
        }
        if (s < 120) {
                (void)snprintf(buf, AGO_LEN, "%" PRId64 "s", s);
        } else if (s < 7200) {
                (void)snprintf(buf, AGO_LEN, "%" PRId64 "m", s / 60);
        } else if (s < 172800) {
                (void)snprintf(buf, AGO_LEN, "%" PRId64 "h", s / 3600);
        } else {
                (void)snprintf(buf, AGO_LEN, "%" PRId64 "d", s / 86400);
        }
        return buf;
}

/* Age of a wall-clock epoch-ms field, or -1 when it is 0/absent. */
static int64_t
age_of(const redisReply *h, const char *field, int64_t now)
{
        int64_t t = hget_i64(h, field, 0);

        return t > 0 ? now - t : -1;
}

/* A latency field: "-" when there was no batch in the last minute. */
static const char *
ms_or_dash(const redisReply *h, const char *field)
{
        const char *v = hget(h, field);

        return v[0] == '\0' || v[0] == '-' ? "-" : v;
}

static void
print_instance_row(const struct inst *in, int w, int64_t now)
{
        const redisReply *h = in->h;
        char a[AGO_LEN];
        char b[AGO_LEN];
        char c[AGO_LEN];
        char err[96] = "-";

        if (hget(h, "last_error")[0] != '\0') {
                (void)snprintf(err, sizeof(err), "%s %s ago",
                               hget(h, "last_error"),
                               ago(age_of(h, "last_error_at", now), c));
        }
        printf("%-*s  %-9s %6s %5s %10s %9s %9s %6s %6s %7s  %s\n", w, in->name,
               hget(h, "state"), ago(in->age_ms, a), hget(h, "partitions"),
               hget(h, "lag"), hget(h, "rate_1m"), hget(h, "rate_5m"),
               ms_or_dash(h, "batch_ms_p50"), ms_or_dash(h, "batch_ms_p99"),
               ms_or_dash(h, "batch_ms_max"), err);
        printf("%-*s  status \"%s\", version %s, config %.12s, up %s, last "
               "batch %s ago, %s round trips (%s/s), %s fenced, %s pauses\n",
               w, "", hget(h, "status"), hget(h, "version"),
               hget(h, "config_sha256")[0] ? hget(h, "config_sha256") : "?",
               ago(age_of(h, "started", now), a),
               ago(age_of(h, "last_batch", now), b), hget(h, "round_trips"),
               hget(h, "round_trips_1m"), hget(h, "fenced"), hget(h, "pauses"));
}

static void
print_local_row(const struct mon *m, int w, int64_t now)
{
        char a[AGO_LEN];
        char c[AGO_LEN];
        char err[96] = "-";

        if (m->local.last_error[0] != '\0') {
                (void)snprintf(err, sizeof(err), "%s %s ago",
                               m->local.last_error,
                               ago(m->local.last_error_at > 0
                                           ? now - m->local.last_error_at
                                           : -1,
                                   c));
        }
        printf("%-*s  %-9s %6s %5" PRId64 " %10" PRId64
               " %9s %9s %6s %6s %7s  %s\n",
               w, m->local.instance, m->local.state, ago(m->local_age_ms, a),
               m->local.partitions, m->local.lag, "-", "-", "-", "-", "-", err);
        printf("%-*s  status \"%s\" (from %s)\n", w, "", m->local.status,
               m->local_path);
}

static void
print_instances(const struct mon *m)
{
        int64_t now = clm_monitor_wall_ms();
        int w = 8;
        bool local_shown = !m->have_local;

        for (size_t i = 0; i < m->n_inst; i++) {
                int l = (int)strlen(m->inst[i].name);

                w = l > w ? l : w;
                if (m->have_local &&
                    strcmp(m->inst[i].name, m->local.instance) == 0) {
                        local_shown = true;
                }
        }
        if (!local_shown && (int)strlen(m->local.instance) > w) {
                w = (int)strlen(m->local.instance);
        }
        printf("\n%-*s  %-9s %6s %5s %10s %9s %9s %6s %6s %7s  %s\n", w,
               "INSTANCE", "STATE", "BEAT", "PARTS", "LAG", "MSG/S 1M",
               "MSG/S 5M", "P50MS", "P99MS", "MAXMS", "LAST ERROR");
        for (size_t i = 0; i < m->n_inst; i++) {
                print_instance_row(&m->inst[i], w, now);
        }
        if (!local_shown) {
                print_local_row(m, w, now);
        }
        if (m->n_inst == 0 && local_shown) {
                printf("(no live instance)\n");
        }
}

static void
print_partitions(const struct mon *m)
{
        int w = 9;

        for (size_t i = 0; i < m->n_rows; i++) {
                int l = (int)strlen(m->rows[i].tp);

                w = l > w ? l : w;
        }
        printf("\n%-*s  %-20s %12s %12s %10s  %s\n", w, "PARTITION", "INSTANCE",
               "APPLIED", "HIGH", "LAG", "RECEIVED WATERMARK");
        for (size_t i = 0; i < m->n_rows; i++) {
                const struct prow *r = &m->rows[i];
                char ap[24] = "-";
                char hi[24] = "-";
                char lag[24] = "-";
                char wm[32] = "-";

                if (r->applied >= 0) {
                        (void)snprintf(ap, sizeof(ap), "%" PRId64, r->applied);
                }
                if (r->high >= 0) {
                        (void)snprintf(hi, sizeof(hi), "%" PRId64, r->high);
                }
                if (r->lag >= 0) {
                        (void)snprintf(lag, sizeof(lag), "%" PRId64, r->lag);
                }
                if (r->watermark > 0) {
                        time_t t = (time_t)(r->watermark / 1000);
                        struct tm tm;

                        if (gmtime_r(&t, &tm) != NULL) {
                                (void)strftime(wm, sizeof(wm),
                                               "%Y-%m-%d %H:%M:%SZ", &tm);
                        }
                }
                printf("%-*s  %-20s %12s %12s %10s  %s\n", w, r->tp,
                       r->inst ? r->inst : "-", ap, hi, lag, wm);
        }
}

/* Fields of a hash whose name does (or does not) start with @p pfx. */
static void
print_counts(const char *title, const redisReply *h, const char *pfx, bool want)
{
        size_t plen = strlen(pfx);
        bool any = false;

        printf("\n%s\n", title);
        for (size_t i = 0; h && i + 1 < h->elements; i += 2) {
                const char *k = h->element[i]->str;
                bool has = plen > 0 && strncmp(k, pfx, plen) == 0;

                if (has == want) {
                        printf("  %-28s %14s\n", want ? k + plen : k,
                               h->element[i + 1]->str);
                        any = true;
                }
        }
        if (!any) {
                printf("  (none)\n");
        }
}

static void
print_table(const struct ctl *ctl, const struct mon *m)
{
        printf("claimsd %s\n", m->reason);
        if (!m->redis_ok) {
                printf("redis: UNREACHABLE (%s)\n", m->redis_err);
        } else if (ctl->cfg->redis_unix_socket != NULL &&
                   ctl->cfg->redis_unix_socket[0] != '\0') {
                printf("redis: %s, prefix %s\n", ctl->cfg->redis_unix_socket,
                       ctl->cfg->redis_prefix);
        } else {
                printf("redis: %s:%d, prefix %s\n", ctl->cfg->redis_host,
                       ctl->cfg->redis_port, ctl->cfg->redis_prefix);
        }
        print_instances(m);
        if (!m->redis_ok) {
                return;
        }
        print_partitions(m);
        print_counts("OUTCOMES (Redis totals, all instances)", m->stats,
                     "unattributed:", false);
        print_counts("UNATTRIBUTED BY REASON (claim versions)", m->stats,
                     "unattributed:", true);
        print_counts("DEAD LETTERS BY REASON", m->dlq, "", false);
}

/* ---- status --json ---- */

static void
json_str(const char *s)
{
        putchar('"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        printf("\\%c", *p);
                } else if (*p < 0x20 || *p >= 0x7f) {
                        printf("\\u%04x", *p);
                } else {
                        putchar(*p);
                }
        }
        putchar('"');
}

/* A JSON number exactly as written, else false. */
static bool
is_json_number(const char *s)
{
        const char *p = s;

        if (*p == '-') {
                p++;
        }
        if (*p == '0') {
                p++;
        } else if (*p >= '1' && *p <= '9') {
                while (*p >= '0' && *p <= '9') {
                        p++;
                }
        } else {
                return false;
        }
        if (*p == '.') {
                p++;
                if (!(*p >= '0' && *p <= '9')) {
                        return false;
                }
                while (*p >= '0' && *p <= '9') {
                        p++;
                }
        }
        return *p == '\0';
}

static void
json_value(const char *field, const char *v)
{
        static const char *const text[] = {"state",    "status",
                                           "version",  "config_sha256",
                                           "assigned", "last_error"};
        bool is_text = false;

        for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
                is_text = is_text || strcmp(field, text[i]) == 0;
        }
        if (!is_text && is_json_number(v)) {
                fputs(v, stdout);
        } else {
                json_str(v);
        }
}

/* An HGETALL reply as a JSON object (values typed as json_value does). */
static void
json_hash(const redisReply *h, const char *pfx, bool want)
{
        size_t plen = strlen(pfx);
        const char *sep = "";

        putchar('{');
        for (size_t i = 0; h && i + 1 < h->elements; i += 2) {
                const char *k = h->element[i]->str;
                bool has = plen > 0 && strncmp(k, pfx, plen) == 0;

                if (has != want) {
                        continue;
                }
                fputs(sep, stdout);
                json_str(want ? k + plen : k);
                putchar(':');
                json_value(k, h->element[i + 1]->str);
                sep = ",";
        }
        putchar('}');
}

static void
json_i64_or_null(const char *name, int64_t v, bool last)
{
        printf("\"%s\":", name);
        if (v >= 0) {
                printf("%" PRId64, v);
        } else {
                fputs("null", stdout);
        }
        fputs(last ? "" : ",", stdout);
}

static void
json_local(const struct mon *m)
{
        const struct clm_monitor_local *l = &m->local;

        fputs("{\"path\":", stdout);
        json_str(m->local_path);
        fputs(",\"instance\":", stdout);
        json_str(l->instance);
        fputs(",\"state\":", stdout);
        json_str(l->state);
        fputs(",\"status\":", stdout);
        json_str(l->status);
        printf(",\"heartbeat\":%" PRId64 ",\"heartbeat_age_ms\":%" PRId64
               ",\"partitions\":%" PRId64 ",\"lag\":%" PRId64
               ",\"lag_unknown\":%" PRId64 ",\"last_error\":",
               l->heartbeat_ms, m->local_age_ms, l->partitions, l->lag,
               l->lag_unknown);
        json_str(l->last_error);
        printf(",\"last_error_at\":%" PRId64 "}", l->last_error_at);
}

static void
print_json(const struct ctl *ctl, const struct mon *m)
{
        static const char *const names[] = {"healthy", "degraded", "down"};

        printf("{\"health\":{\"code\":%d,\"state\":\"%s\",\"reason\":", m->code,
               names[m->code]);
        json_str(m->reason);
        printf("},\"redis\":{\"reachable\":%s,\"error\":",
               m->redis_ok ? "true" : "false");
        if (m->redis_ok) {
                fputs("null", stdout);
        } else {
                json_str(m->redis_err);
        }
        fputs("},\"prefix\":", stdout);
        json_str(ctl->cfg->redis_prefix);
        fputs(",\"instances\":[", stdout);
        for (size_t i = 0; i < m->n_inst; i++) {
                printf("%s{\"name\":", i ? "," : "");
                json_str(m->inst[i].name);
                printf(",\"heartbeat_age_ms\":%" PRId64 ",\"fields\":",
                       m->inst[i].age_ms);
                json_hash(m->inst[i].h, "", false);
                putchar('}');
        }
        fputs("],\"local\":", stdout);
        if (m->have_local) {
                json_local(m);
        } else {
                fputs("null", stdout);
        }
        fputs(",\"partitions\":[", stdout);
        for (size_t i = 0; i < m->n_rows; i++) {
                const struct prow *r = &m->rows[i];

                printf("%s{\"partition\":", i ? "," : "");
                json_str(r->tp);
                fputs(",\"instance\":", stdout);
                if (r->inst != NULL) {
                        json_str(r->inst);
                } else {
                        fputs("null", stdout);
                }
                putchar(',');
                json_i64_or_null("applied", r->applied, false);
                json_i64_or_null("high", r->high, false);
                json_i64_or_null("lag", r->lag, false);
                json_i64_or_null("watermark_ms", r->watermark, true);
                putchar('}');
        }
        fputs("],\"outcomes\":", stdout);
        json_hash(m->stats, "unattributed:", false);
        fputs(",\"unattributed\":", stdout);
        json_hash(m->stats, "unattributed:", true);
        fputs(",\"dead_letters\":", stdout);
        json_hash(m->dlq, "", false);
        fputs("}\n", stdout);
}

/* ---- status and health: arguments and entry point ---- */

static int
parse_i64_arg(const char *s, int64_t *out)
{
        char *end = NULL;
        long long v = strtoll(s, &end, 10);

        if (s[0] == '\0' || *end != '\0' || v < 0) {
                return CLM_ERR_INVALID;
        }
        *out = v;
        return CLM_OK;
}

/* --json, --max-lag N, --stale-seconds S, --status-file PATH (also "=V"). */
static int
parse_mon_opts(int argc, char **argv, struct mon_opts *o)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *eq = strchr(a, '=');
                size_t klen = eq ? (size_t)(eq - a) : strlen(a);
                const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : "");
                int rc = CLM_OK;

                if (strcmp(a, "--json") == 0) {
                        o->json = true;
                        continue;
                }
                if (klen == 9 && strncmp(a, "--max-lag", klen) == 0) {
                        rc = parse_i64_arg(v, &o->max_lag);
                } else if (klen == 15 &&
                           strncmp(a, "--stale-seconds", klen) == 0) {
                        rc = parse_i64_arg(v, &o->stale_s);
                } else if (klen == 13 &&
                           strncmp(a, "--status-file", klen) == 0 &&
                           v[0] != '\0') {
                        o->status_file = v;
                } else {
                        rc = CLM_ERR_INVALID;
                }
                if (rc != CLM_OK) {
                        fprintf(stderr, "claimsctl: %s: bad option\n", a);
                        return rc;
                }
                i += eq ? 0 : 1;
        }
        return CLM_OK;
}

/*
 * `status` (table or --json; exit 0, or 1 when Redis could not be read)
 * and `health` (one line; exit 0 healthy, 1 degraded, 2 down). Both exit
 * 64 on a bad option. @p argv[0] is the command.
 */
static int
monitor_command(struct ctl *ctl, int argc, char **argv)
{
        struct mon_opts o = {.max_lag = DEFAULT_MAX_LAG,
                             .stale_s = DEFAULT_STALE_S};
        struct mon m = {0};
        bool health = strcmp(argv[0], "health") == 0;
        int rc;

        if (parse_mon_opts(argc, argv, &o) != CLM_OK) {
                return EXIT_USAGE;
        }
        m.o = &o;
        rc = read_all(ctl, &m);
        if (rc != CLM_OK) {
                fprintf(stderr, "claimsctl: out of memory\n");
                mon_free(&m);
                return health ? CLM_DOWN : 1;
        }
        if (health) {
                printf("%s\n", m.reason);
                rc = m.code;
        } else {
                if (o.json) {
                        print_json(ctl, &m);
                } else {
                        print_table(ctl, &m);
                }
                rc = m.redis_ok ? 0 : 1;
        }
        mon_free(&m);
        return rc;
}

static void
usage(void)
{
        fprintf(stderr, "usage: claimsctl -c CONFIG [-n NAMESPACE] COMMAND\n"
                        "  -n NAME: read and write the replay namespace NAME "
                        "instead of live data\n"
                        "  load-attribution CSV | load-participants CSV\n"
                        "  totals | report\n"
                        "  status [--json] [--max-lag N] [--stale-seconds S] "
                        "[--status-file PATH]\n"
                        "  health [--max-lag N] [--stale-seconds S] "
                        "[--status-file PATH]\n"
                        "    health exits 0 healthy, 1 degraded, 2 down\n"
                        "  population | quality-counts\n"
                        "  load-acos FILE | publish-acos FILE\n"
                        "  aco ACO [--year Y] [--json]\n"
                        "  quality ACO [--year Y] [--json]\n"
                        "  replay --namespace NAME [--until TIME | "
                        "--until-offsets FILE] [--attribution CSV]...\n"
                        "  explain CLAIM-KEY | explain --hash CLAIM-HASH\n"

                        "  audit diff [--live PREFIX] --replay NAME --as-of "
                        "TIME [--json | --csv]\n"
                        "  audit drop NAME [--yes]\n"
                        "  audit report NAME|--live [-o FILE]\n");
}

/* `audit SUBCOMMAND ...`: the exit code itself (0, 1, 2 usage). */
static int
audit(struct ctl *ctl, int argc, char **argv)
{
        if (argc >= 1 && strcmp(argv[0], "report") == 0) {
                return ctl_audit_report(ctl->cfg, ctl->c, argc - 1, argv + 1);
        }
        usage();
        return 2;
}

int
main(int argc, char **argv)
{
        struct ctl ctl = {0};
        const char *path = "/etc/claimsd/claimsd.conf";
        const char *ns = NULL;
        char err[512];
        int opt;
        int rc;

        /* '+': options end at the command, which takes its own. */
        while ((opt = getopt(argc, argv, "+c:n:h")) != -1) {
                if (opt == 'c') {
                        path = optarg;
                } else if (opt == 'n') {
                        ns = optarg;
                } else {
                        usage();
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (optind >= argc) {
                usage();
                return 2;
        }
        ctl.cfg = clm_config_load(path, err, sizeof(err));
        if (ctl.cfg == NULL) {
                fprintf(stderr, "claimsctl: %s\n", err);
                return 78;
        }
        if (ns != NULL &&
            clm_config_use_namespace(ctl.cfg, ns, err, sizeof(err)) != CLM_OK) {
                fprintf(stderr, "claimsctl: -n %s: %s\n", ns, err);
                clm_config_free(ctl.cfg);
                return 2;
        }
        clm_keyhash_init(&ctl.kh, ctl.cfg->hash_secret,
                         ctl.cfg->hash_secret_len);
        if (strcmp(argv[optind], "status") == 0 ||
            strcmp(argv[optind], "health") == 0) {
                /* They report an unreachable Redis rather than fail on it. */
                rc = monitor_command(&ctl, argc - optind, argv + optind);
                if (ctl.c != NULL) {
                        redisFree(ctl.c);
                }
                clm_config_free(ctl.cfg);
                return rc;
        }
        if (strcmp(argv[optind], "replay") == 0 ||
            strcmp(argv[optind], "explain") == 0) {
                /* They open their own connections. */
                rc = strcmp(argv[optind], "replay") == 0
                             ? ctl_replay(path, ctl.cfg, &ctl.kh, argc - optind,
                                          argv + optind)
                             : ctl_explain(ctl.cfg, &ctl.kh, argc - optind,
                                           argv + optind);
                clm_config_free(ctl.cfg);
                return rc;
        }
        if (strcmp(argv[optind], "publish-acos") == 0 && optind + 1 < argc) {
                /* Kafka only: the daemon stores what it consumes. */
                rc = ctl_publish_acos(ctl.cfg, argv[optind + 1]);
                clm_config_free(ctl.cfg);
                return rc;
        }
        if (strcmp(argv[optind], "audit") == 0 && optind + 1 < argc &&
            (strcmp(argv[optind + 1], "diff") == 0 ||
             strcmp(argv[optind + 1], "drop") == 0)) {
                /* Exit codes of their own: 2 for a Redis error. */
                rc = ctl_audit(ctl.cfg, argc - optind - 1, argv + optind + 1);
                clm_config_free(ctl.cfg);
                return rc;
        }
        if (connect_redis(&ctl) != CLM_OK) {
                clm_config_free(ctl.cfg);
                return 1;
        }
        if (strcmp(argv[optind], "load-attribution") == 0 &&
            optind + 1 < argc) {
                rc = ctl_load_attribution(ctl.cfg, &ctl.kh, argv[optind + 1]) ==
                                     0
                             ? CLM_OK
                             : CLM_ERR_INVALID;
        } else if (strcmp(argv[optind], "load-acos") == 0 &&
                   optind + 1 < argc) {
                rc = ctl_load_acos(ctl.cfg, ctl.c, argv[optind + 1]) == 0
                             ? CLM_OK
                             : CLM_ERR_INVALID;
        } else if (strcmp(argv[optind], "aco") == 0) {
                int arc = ctl_aco(ctl.cfg, ctl.c, argc - optind - 1,
                                  argv + optind + 1);

                if (arc == 2) {
                        redisFree(ctl.c);
                        clm_config_free(ctl.cfg);
                        return 2;
                }
                rc = arc == 0 ? CLM_OK : CLM_ERR_REDIS;
        } else if (strcmp(argv[optind], "population") == 0) {
                rc = ctl_population(ctl.cfg, ctl.c) == 0 ? CLM_OK
                                                         : CLM_ERR_REDIS;
        } else if (strcmp(argv[optind], "quality-counts") == 0) {
                rc = ctl_quality_counts(ctl.cfg, ctl.c) == 0 ? CLM_OK
                                                             : CLM_ERR_REDIS;
        } else if (strcmp(argv[optind], "quality") == 0) {
                int qrc = ctl_quality(ctl.cfg, ctl.c, argc - optind - 1,
                                      argv + optind + 1);

                if (qrc == 2) {
                        redisFree(ctl.c);
                        clm_config_free(ctl.cfg);
                        return 2;
                }
                rc = qrc == 0 ? CLM_OK : CLM_ERR_REDIS;
        } else if (strcmp(argv[optind], "load-participants") == 0 &&
                   optind + 1 < argc) {
                rc = load_participants(&ctl, argv[optind + 1]);
        } else if (strcmp(argv[optind], "totals") == 0) {
                rc = totals(&ctl);
        } else if (strcmp(argv[optind], "report") == 0) {
                rc = report(&ctl);
        } else if (strcmp(argv[optind], "audit") == 0) {
                rc = audit(&ctl, argc - optind - 1, argv + optind + 1);
                redisFree(ctl.c);
                clm_config_free(ctl.cfg);
                return rc;
        } else {
                usage();
                rc = CLM_ERR_INVALID;
        }
        redisFree(ctl.c);
        clm_config_free(ctl.cfg);
        return rc == CLM_OK ? 0 : 1;
}
